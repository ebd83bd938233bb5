"""Back up a store to a GeoPackage file and restore one, on either backend.

A backup is an embedded store: a GeoPackage that QGIS opens and that
``cpted db restore`` reads back into the embedded backend or PostGIS. Every
table is copied (accounts, audit trail and reporter contact included, so keep
backups as private as the database). A restore writes the target in one
transaction: a failure half way leaves the target as it was.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

from layers.errors import StoreError
from layers.migrations import LATEST
from layers.schema import Layer
from layers.store import Store, database_error, open_store, write_error
from layers.tables import METADATA

CHUNK = 20_000
#: Each migration records itself in the target; the rest is data.
_SKIP = {"cpted_migrations"}

Progress = Callable[[str, int], None]


def data_tables() -> list[sa.Table]:


    return [t for t in METADATA.sorted_tables if t.name not in _SKIP]


def row_counts(store: Store) -> dict[str, int]:
    with store.engine.connect() as conn:
        return {t.name: int(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one())
                for t in data_tables()}


def copy_store(src: Store, dst: Store, *, progress: Progress | None = None) -> dict[str, int]:
    """Replace everything in ``dst`` with ``src``'s rows; return rows copied per table."""
    for s in (src, dst):
        if s.schema_version() != LATEST:
            raise StoreError(f"{s.label} is at schema version {s.schema_version()}, not "
                             f"{LATEST}; run `cpted db upgrade` on it first")
    copied: dict[str, int] = {}
    try:
        with src.engine.connect() as read, dst.transaction() as write:
            for table in data_tables():
                write.execute(sa.delete(table))
                has_geom = "geom" in table.c
                n = 0
                result = read.execution_options(yield_per=CHUNK).execute(sa.select(table))
                for part in result.partitions(CHUNK):
                    rows = [dict(r._mapping) for r in part]
                    if has_geom:
                        geoms = dst.encode_geoms(src.decode_geoms([r["geom"] for r in rows]))
                        for r, g in zip(rows, geoms, strict=True):
                            r["geom"] = g
                    write.execute(sa.insert(table), rows)
                    n += len(rows)
                    if progress:
                        progress(table.name, n)
                copied[table.name] = n
                _reset_sequence(write, table)
            for layer in Layer:
                dst._touch_contents(write, layer)
            dst.bump(write)
    except StoreError:
        raise
    except Exception as exc:
        if database_error(exc):
            raise write_error(exc, "the restore") from exc
        raise
    return copied


def _reset_sequence(conn: sa.Connection, table: sa.Table) -> None:
    """After rows with their own ids, PostgreSQL's id sequence must move past them."""
    if conn.dialect.name != "postgresql":
        return
    for col in table.primary_key.columns:
        if isinstance(col.type, sa.Integer) and col.autoincrement is not False \
                and len(table.primary_key.columns) == 1:
            conn.execute(sa.text(
                "SELECT setval(pg_get_serial_sequence(:t, :c), "
                f'coalesce((SELECT max("{col.name}") FROM "{table.name}"), 0) + 1, false)'),
                {"t": table.name, "c": col.name})


def backup(store: Store, out: Path, *, force: bool = False,
           progress: Progress | None = None) -> dict[str, int]:
    """Write ``store`` to a new GeoPackage at ``out``."""
    out = Path(out)
    if out.exists() and not force:
        raise StoreError(f"{out} exists; give a new file name (or --force to overwrite it)")
    with tempfile.TemporaryDirectory(prefix="cpted-backup-") as tmp:
        part = Path(tmp) / out.name
        with open_store(part) as target:
            copied = copy_store(store, target, progress=progress)
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(part), out)  # whole or not at all: the file appears complete
    return copied


def restore(store: Store, source: Path, *, force: bool = False,
            progress: Progress | None = None) -> dict[str, int]:
    """Replace ``store``'s contents with the backup at ``source`` (a GeoPackage store).

    A store that holds reports, layers, audits or accounts is replaced only with
    ``force``; an older backup is upgraded on a temporary copy, never in place.
    """
    source = Path(source)
    if not source.is_file():
        raise StoreError(f"there is no backup file at {source}")
    held = {k: v for k, v in row_counts(store).items()
            if v and k not in ("cpted_settings", "services")}
    if held and not force:
        shown = ", ".join(f"{v:,} {k}" for k, v in sorted(held.items())[:6])
        raise StoreError(f"{store.label} is not empty ({shown}); a restore replaces all of "
                         "it. Back it up first, then restore with --force")
    with tempfile.TemporaryDirectory(prefix="cpted-restore-") as tmp:
        copy = Path(tmp) / "backup.gpkg"
        shutil.copy(source, copy)
        with open_store(copy) as src:
            return copy_store(src, store, progress=progress)
