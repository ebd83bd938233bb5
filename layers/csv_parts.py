"""A CSV file's text as a stream of parts of whole records, for :mod:`layers.chunked`.

The file is decoded a block at a time with the codec the whole-file reader would
choose (:func:`layers.readers._decode`); a part ends at a line break outside double
quotes, so a quoted value holding line breaks or separators is never cut. Anything
the whole-file reader would word or guess (an unknown or failing encoding, NUL
characters, a latin-1 guess) raises :class:`NotChunked` for the caller to read the file
whole instead.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from pathlib import Path

from layers.readers import _bom_encoding, _utf16_without_bom

#: Characters decoded from the file at a time.
_BLOCK_CHARS = 1 << 22


class NotChunked(Exception):  # noqa: N818 (not an error: a way round)
    """This file is read whole instead; nothing was kept."""


def _codec(path: Path, encoding: str | None) -> str:
    """The codec to decode ``path`` with, as :func:`layers.readers._decode` would choose
    it; :class:`NotChunked` when that would need the whole file (a latin-1 guess, or
    any refusal, which the whole-file reader words)."""
    with open(path, "rb") as f:
        head = f.read(4096)
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise NotChunked from None
        return encoding
    guessed = _bom_encoding(head) or _utf16_without_bom(head)
    if guessed:
        return guessed
    if b"\x00" in head:
        raise NotChunked
    return "utf-8"


def _record_end(text: str, start: int, lines: int) -> int:
    """The position after the ``lines``-th line break from ``start`` that lies outside
    double quotes (a quoted value may hold line breaks; its quotes are doubled inside,
    so the count of quotes before a break outside one is even); -1 when ``text`` ends
    first."""
    if text.count("\n", start) < lines:
        return -1
    pos, left = start, lines
    # leap over most of the breaks with C-speed counts, then step over the last few
    width = (len(text) - start) / max(1, text.count("\n", start))
    while left > 16:
        stop = min(len(text), pos + int(left * width * 0.8))
        k = text.count("\n", pos, stop)
        if k == 0 or k >= left:
            break
        pos = text.rfind("\n", pos, stop) + 1
        left -= k
    for _ in range(left):
        pos = text.find("\n", pos) + 1
    quotes = text.count('"', start, pos)
    while quotes % 2:
        nxt = text.find("\n", pos) + 1
        if nxt == 0:
            return -1
        quotes += text.count('"', pos, nxt)
        pos = nxt
    return pos


def _parts(path: Path, codec: str, rows: int) -> Iterator[tuple[str, bool]]:
    """The file's text in parts of ``rows`` lines (the first with one more, the header),
    each ending outside quotes, and whether it is the last. A decoding error raises
    :class:`NotChunked` (the whole-file reader words it, or falls back to latin-1)."""
    with open(path, encoding=codec, newline="") as f:

        def more() -> str:
            try:
                return f.read(_BLOCK_CHARS)
            except UnicodeDecodeError:
                raise NotChunked from None

        buf = more()
        if "\x00" in buf[:4096]:
            raise NotChunked  # the whole-file reader refuses it, saying why
        buf = buf.removeprefix("\ufeff")
        eof = not buf
        want = rows + 1
        while True:
            end = _record_end(buf, 0, want)
            while end < 0 and not eof:
                block = more()
                eof = not block
                buf += block
                end = _record_end(buf, 0, want)
            if end < 0:
                end = len(buf)
            part, buf = buf[:end], buf[end:]
            while not buf.strip() and not eof:  # does a record follow?
                block = more()
                eof = not block
                buf += block
            last = eof and not buf.strip()
            if last:
                yield part + buf, True
                return
            yield part, False
            want = rows


def _header(text: str) -> str:
    """The first record of a file's text (with its line break), blank lines before it
    included: what a later part is read after, to be parsed like the first."""
    start = len(text) - len(text.lstrip("\r\n"))
    end = _record_end(text, start, 1)
    return text if end < 0 else text[:end]


def _line_count(path: Path) -> int:
    """Line breaks in the file: its records, unless values hold line breaks."""
    n = 0
    with open(path, "rb") as f:
        while block := f.read(1 << 23):
            n += block.count(b"\n")
    return n
