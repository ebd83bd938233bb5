"""Unpacking uploaded zip archives safely.

A zip may name entries like ``../../etc/passwd`` or ``/tmp/x`` (path
traversal) or be a "zip bomb" that unpacks to far more than it weighs. We
check every entry's name and declared size before writing anything, and
count the bytes actually written so a lying header cannot get past the limit.
"""

from __future__ import annotations

import zipfile
from pathlib import Path, PurePosixPath

from layers.errors import UnsafeArchiveError, UnusableInputError

_CHUNK = 1 << 20


def _check_name(name: str) -> PurePosixPath:
    p = PurePosixPath(name.replace("\\", "/"))
    if p.is_absolute() or ".." in p.parts or (p.parts and p.parts[0].endswith(":")):
        raise UnsafeArchiveError(
            f"the zip entry {name!r} would be written outside the folder it is unpacked to; "
            "refusing the whole archive"
        )
    return p


def safe_extract(path: Path, dest: Path, *, max_bytes: int, max_entries: int) -> list[Path]:
    """Unpack the zip at ``path`` into ``dest`` and return the files written.

    Raises
    ------
    UnsafeArchiveError
        An entry escapes ``dest``, is a link, there are more than
        ``max_entries`` entries, or the total would pass ``max_bytes``.
    UnusableInputError
        ``path`` is not a zip archive.
    """
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise UnusableInputError(f"{path.name} is not a readable zip archive ({exc})") from None
    written: list[Path] = []
    with zf:
        infos = zf.infolist()
        if len(infos) > max_entries:
            raise UnsafeArchiveError(
                f"the zip holds {len(infos)} entries; at most {max_entries} are accepted"
            )
        declared = sum(i.file_size for i in infos)
        if declared > max_bytes:
            raise UnsafeArchiveError(
                f"the zip would unpack to {declared / 2**20:.1f} MB; "
                f"the limit is {max_bytes / 2**20:.1f} MB"
            )
        for info in infos:
            rel = _check_name(info.filename)
            if (info.external_attr >> 16) & 0o170000 == 0o120000:
                raise UnsafeArchiveError(f"the zip entry {info.filename!r} is a symbolic link")
        total = 0
        root = dest.resolve()
        for info in infos:
            rel = _check_name(info.filename)
            target = (root / rel).resolve()
            if not target.is_relative_to(root):
                raise UnsafeArchiveError(f"the zip entry {info.filename!r} escapes the folder")
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, open(target, "wb") as out:
                while chunk := src.read(_CHUNK):
                    total += len(chunk)
                    if total > max_bytes:
                        raise UnsafeArchiveError(
                            f"the zip unpacks to more than {max_bytes / 2**20:.1f} MB "
                            "(its headers understate the size)"
                        )
                    out.write(chunk)
            written.append(target)
    return written
