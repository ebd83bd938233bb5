"""Every input path refuses hostile or damaged input with a message, within its limits.

Each input is built in code: zips with lying headers, a zip bomb, CSV text in
several encodings, images whose header claims many pixels, an MPO photo, and
rows with overlong text or too many fields.
"""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from layers.archive import safe_extract
from layers.errors import UnsafeArchiveError, UnusableInputError
from layers.readers import read_table

ROOT = Path(__file__).resolve().parents[1]


# 1. Zips whose headers lie ------------------------------------------------------------

def _zip_bytes(payload: bytes = b"x" * 5000) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("poles.shp", payload)
        zf.writestr("poles.dbf", b"y" * 100)
    return buf.getvalue()


def _patch_central_size(data: bytes, delta: int) -> bytes:
    """The first central-directory entry claims ``delta`` more (or fewer) unpacked bytes."""
    at = data.index(b"PK\x01\x02") + 24
    (size,) = struct.unpack_from("<I", data, at)
    return data[:at] + struct.pack("<I", size + delta) + data[at + 4:]


def _flip_member_bytes(data: bytes) -> bytes:
    start = data.index(b"PK\x03\x04") + 30 + len("poles.shp")
    return data[:start + 2] + bytes(b ^ 0xFF for b in data[start + 2:start + 8]) + data[start + 8:]


@pytest.mark.parametrize("damage", [
    lambda d: _patch_central_size(d, +3000),   # claims more than the stream holds
    lambda d: _patch_central_size(d, -3000),   # claims less (the checksum then fails)
    lambda d: d[: len(d) // 2],                # cut short, directory lost
    _flip_member_bytes,                        # compressed data garbled
], ids=["size-overstated", "size-understated", "truncated", "garbled"])
def test_zip_with_lying_headers_is_refused_as_damaged(
        tmp_path: Path, damage: Callable[[bytes], bytes]) -> None:
    p = tmp_path / "poles.zip"
    p.write_bytes(damage(_zip_bytes()))
    with pytest.raises(UnusableInputError, match="damaged or inconsistent zip") as info:
        read_table(p)
    assert "poles.zip" in str(info.value)


# 2. A zip bomb is stopped by the bytes actually decompressed ---------------------------

def test_zip_bomb_is_stopped_early_and_leaves_nothing_behind(tmp_path: Path) -> None:
    p = tmp_path / "bomb.zip"
    with zipfile.ZipFile(p, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.prj", b"GEOGCS")
        zf.writestr("big.shp", b"\0" * (20 * 2**20))  # 20 MB of zeros packs to ~20 KB
    assert p.stat().st_size < 60_000
    # Default settings: a ~20 KB zip may unpack to 1 MB (the floor), not 1,000 MB.
    with pytest.raises(UnsafeArchiveError, match="limit for this archive"):
        read_table(p)
    # A header made to understate the size (1 KB) is not believed: the member is
    # refused, and what was already written is removed.
    data = p.read_bytes()
    at = data.index(b"PK\x01\x02", data.index(b"PK\x01\x02") + 4) + 24
    lying = tmp_path / "lying.zip"
    lying.write_bytes(data[:at] + struct.pack("<I", 1024) + data[at + 4:])
    dest = tmp_path / "out"
    dest.mkdir()
    with pytest.raises(UnusableInputError, match=r"big\.shp"):
        safe_extract(lying, dest, max_bytes=2**20, max_entries=10)
    assert list(dest.iterdir()) == []
