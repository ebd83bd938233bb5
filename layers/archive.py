"""Unpacking uploaded zip archives safely.

A zip may name entries like ``../../etc/passwd`` or ``/tmp/x`` (path
traversal), be a "zip bomb" that unpacks to far more than it weighs, or have
headers that lie about what they hold. We check every entry's name before
writing anything and refuse early when the declared sizes already pass the
limit; but the limit itself is enforced on the bytes actually decompressed,
counted chunk by chunk, so a header that understates a size cannot get past
it. On any refusal the files already written are removed.
"""

from __future__ import annotations

import shutil
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from layers.errors import DamagedArchiveError, UnsafeArchiveError, UnusableInputError

_CHUNK = 1 << 20

#: However small the archive, it may unpack to at least this much (a handful of tiny
#: files compress poorly, so the ratio test alone would be meaningless for them).
MIN_UNZIP_BYTES = 1 << 20


def unzip_limit(archive_bytes: int, *, max_bytes: int, max_ratio: float) -> int:
    """The most bytes an archive of ``archive_bytes`` may unpack to.

    Parameters
    ----------
    archive_bytes
        Size of the zip file itself, in bytes.
    max_bytes
        The absolute cap (setting ``max_unzip_mb``).
    max_ratio
        How many times its own size an archive may unpack to (setting
        ``max_unzip_ratio``). Real zipped Shapefiles pack 3 to 20 times; a zip
        bomb packs hundreds of times or more.

    Returns
    -------
    int
        ``min(max_bytes, max(MIN_UNZIP_BYTES, max_ratio * archive_bytes))``.
    """
    return int(min(max_bytes, max(MIN_UNZIP_BYTES, max_ratio * archive_bytes)))


def _check_name(name: str) -> PurePosixPath:
    p = PurePosixPath(name.replace("\\", "/"))
    if p.is_absolute() or ".." in p.parts or (p.parts and p.parts[0].endswith(":")):
        raise UnsafeArchiveError(
            f"the zip entry {name!r} would be written outside the folder it is unpacked to; "
            "refusing the whole archive"
        )
    return p


def _damaged(path: Path, exc: BaseException, entry: str | None = None) -> DamagedArchiveError:
    where = f" (entry {entry!r})" if entry else ""
    return DamagedArchiveError(
        f"{path.name} is a damaged or inconsistent zip archive{where}: its headers do not "
        f"match the data it holds, or it is cut short ({exc}). Expected a complete zip; "
        "create the archive again and re-upload it"
    )


def _starts_like_a_zip(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(4) == b"PK\x03\x04"


def safe_extract(path: Path, dest: Path, *, max_bytes: int, max_entries: int) -> list[Path]:
    """Unpack the zip at ``path`` into ``dest`` and return the files written.

    Parameters
    ----------
    path
        The zip archive.
    dest
        An existing folder to unpack into.
    max_bytes
        Most bytes the archive may unpack to, counted as they are decompressed
        (see :func:`unzip_limit`).
    max_entries
        Most entries the archive may hold.

    Raises
    ------
    UnsafeArchiveError
        An entry escapes ``dest``, is a link, there are more than
        ``max_entries`` entries, or the bytes unpacked pass ``max_bytes``.
    DamagedArchiveError
        The archive is truncated, fails its checksums, or its headers disagree
        with its data.
    UnusableInputError
        ``path`` is not a zip archive.

    Nothing is left in ``dest`` when an error is raised.
    """
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        if _starts_like_a_zip(path):  # a zip cut short: its directory at the end is gone
            raise _damaged(path, exc) from None
        raise UnusableInputError(f"{path.name} is not a readable zip archive ({exc})") from None
    except (OSError, EOFError, zlib.error) as exc:
        raise _damaged(path, exc) from None
    created: list[Path] = []
    try:
        with zf:
            return _extract_all(zf, path, dest, created, max_bytes=max_bytes,
                                max_entries=max_entries)
    except BaseException:
        _remove(created)
        raise


def _extract_all(zf: zipfile.ZipFile, path: Path, dest: Path, created: list[Path], *,
                 max_bytes: int, max_entries: int) -> list[Path]:
    infos = zf.infolist()
    if len(infos) > max_entries:
        raise UnsafeArchiveError(
            f"the zip holds {len(infos)} entries; at most {max_entries} are accepted"
        )
    # The declared sizes are only trusted to refuse early, never to accept.
    declared = sum(i.file_size for i in infos)
    if declared > max_bytes:
        raise UnsafeArchiveError(
            f"the zip would unpack to {declared / 2**20:.1f} MB; "
            f"the limit for this archive is {max_bytes / 2**20:.1f} MB"
        )
    for info in infos:
        _check_name(info.filename)
        if (info.external_attr >> 16) & 0o170000 == 0o120000:
            raise UnsafeArchiveError(f"the zip entry {info.filename!r} is a symbolic link")
    written: list[Path] = []
    total = 0
    root = dest.resolve()
    for info in infos:
        rel = _check_name(info.filename)
        target = (root / rel).resolve()
        if not target.is_relative_to(root):
            raise UnsafeArchiveError(f"the zip entry {info.filename!r} escapes the folder")
        _make_dirs(target if info.is_dir() else target.parent, root, created)
        if info.is_dir():
            continue
        try:
            with zf.open(info) as src, open(target, "xb") as out:
                created.append(target)
                got = 0
                while chunk := src.read(_CHUNK):
                    got += len(chunk)
                    total += len(chunk)
                    if total > max_bytes:
                        raise UnsafeArchiveError(
                            f"the zip unpacks to more than {max_bytes / 2**20:.1f} MB, the "
                            f"limit for this archive (its headers declare "
                            f"{declared / 2**20:.1f} MB); refusing it"
                        )
                    out.write(chunk)
            if got != info.file_size:
                raise DamagedArchiveError(
                    f"{path.name} is a damaged or inconsistent zip archive: its directory "
                    f"says the entry {info.filename!r} unpacks to {info.file_size:,} bytes, "
                    f"but its data holds {got:,}. Create the archive again and re-upload it"
                )
        except FileExistsError:
            raise DamagedArchiveError(
                f"{path.name} names the entry {info.filename!r} more than once; "
                "expected each file once"
            ) from None
        except (zipfile.BadZipFile, EOFError, zlib.error, NotImplementedError) as exc:
            raise _damaged(path, exc, info.filename) from None
        except OSError as exc:
            if isinstance(exc, (FileNotFoundError, PermissionError)):
                raise
            raise _damaged(path, exc, info.filename) from None
        written.append(target)
    return written


def _make_dirs(folder: Path, root: Path, created: list[Path]) -> None:
    missing = []
    p = folder
    while p != root and not p.exists():
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        d.mkdir()
        created.append(d)


def _remove(created: list[Path]) -> None:
    for p in reversed(created):
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)
