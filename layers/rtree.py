"""GeoPackage R-tree spatial indexes (the ``gpkg_rtree_index`` extension, OGC 12-128r18
Annex F.3), so a map window or a count reads only the rows near it, and so GDAL and QGIS
use the same index.

For each feature table ``t`` with geometry column ``c`` and integer key ``i`` (``fid``):
a ``gpkg_extensions`` row, a virtual table ``rtree_t_c(id, minx, maxx, miny, maxy)``
holding every non-empty geometry's envelope, and the spec's triggers, which keep it right
on every insert, update and delete. The triggers call ``ST_IsEmpty``, ``ST_MinX``,
``ST_MaxX``, ``ST_MinY`` and ``ST_MaxY``: :func:`register` defines them on each of our
connections (GDAL defines its own), reading the GeoPackageBinary header's envelope and
falling back to the WKB when a blob carries none (points).
"""

from __future__ import annotations

import sqlite3
import struct
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache

import numpy as np
import shapely
import sqlalchemy as sa
from numpy.typing import NDArray
from sqlalchemy.engine import Connection

EXTENSION = "gpkg_rtree_index"
DEFINITION = "http://www.geopackage.org/spec/#extension_rtree"

EXTENSIONS_DDL = """CREATE TABLE IF NOT EXISTS gpkg_extensions (
    table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL,
    definition TEXT NOT NULL, scope TEXT NOT NULL,
    CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name))"""

#: The spec's triggers (GeoPackage 1.4: update1 and update3 of earlier versions are
#: replaced by update5, update6 and update7). ``{t}``, ``{c}``, ``{i}``: table, geometry
#: column, key; all three are our own identifiers, never input.
TRIGGERS = {
    "insert": """AFTER INSERT ON "{t}"
  WHEN (new."{c}" NOT NULL AND NOT ST_IsEmpty(NEW."{c}"))
BEGIN
  INSERT OR REPLACE INTO "rtree_{t}_{c}" VALUES (NEW."{i}",
    ST_MinX(NEW."{c}"), ST_MaxX(NEW."{c}"), ST_MinY(NEW."{c}"), ST_MaxY(NEW."{c}"));
END""",
    "update2": """AFTER UPDATE OF "{c}" ON "{t}"
  WHEN OLD."{i}" = NEW."{i}" AND (NEW."{c}" ISNULL OR ST_IsEmpty(NEW."{c}"))
BEGIN
  DELETE FROM "rtree_{t}_{c}" WHERE id = OLD."{i}";
END""",
    "update4": """AFTER UPDATE ON "{t}"
  WHEN OLD."{i}" != NEW."{i}" AND (NEW."{c}" ISNULL OR ST_IsEmpty(NEW."{c}"))
BEGIN
  DELETE FROM "rtree_{t}_{c}" WHERE id IN (OLD."{i}", NEW."{i}");
END""",
    "update5": """AFTER UPDATE ON "{t}"
  WHEN OLD."{i}" != NEW."{i}" AND (NEW."{c}" NOTNULL AND NOT ST_IsEmpty(NEW."{c}"))
BEGIN
  DELETE FROM "rtree_{t}_{c}" WHERE id = OLD."{i}";
  INSERT OR REPLACE INTO "rtree_{t}_{c}" VALUES (NEW."{i}",
    ST_MinX(NEW."{c}"), ST_MaxX(NEW."{c}"), ST_MinY(NEW."{c}"), ST_MaxY(NEW."{c}"));
END""",
    "update6": """AFTER UPDATE OF "{c}" ON "{t}"
  WHEN OLD."{i}" = NEW."{i}" AND (NEW."{c}" NOTNULL AND NOT ST_IsEmpty(NEW."{c}"))
       AND (OLD."{c}" NOTNULL AND NOT ST_IsEmpty(OLD."{c}"))
BEGIN
  UPDATE "rtree_{t}_{c}" SET minx = ST_MinX(NEW."{c}"), maxx = ST_MaxX(NEW."{c}"),
    miny = ST_MinY(NEW."{c}"), maxy = ST_MaxY(NEW."{c}") WHERE id = NEW."{i}";
END""",
    "update7": """AFTER UPDATE OF "{c}" ON "{t}"
  WHEN OLD."{i}" = NEW."{i}" AND (NEW."{c}" NOTNULL AND NOT ST_IsEmpty(NEW."{c}"))
       AND (OLD."{c}" ISNULL OR ST_IsEmpty(OLD."{c}"))
BEGIN
  INSERT INTO "rtree_{t}_{c}" VALUES (NEW."{i}",
    ST_MinX(NEW."{c}"), ST_MaxX(NEW."{c}"), ST_MinY(NEW."{c}"), ST_MaxY(NEW."{c}"));
END""",
    "delete": """AFTER DELETE ON "{t}" WHEN old."{c}" NOT NULL
BEGIN
  DELETE FROM "rtree_{t}_{c}" WHERE id = OLD."{i}";
END""",
}

_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}


def index_name(table: str, column: str = "geom") -> str:
    return f"rtree_{table}_{column}"


@lru_cache(maxsize=4096)
def envelope(blob: bytes | None) -> tuple[float, float, float, float] | None:
    """(minx, maxx, miny, maxy) of a GeoPackageBinary blob, or None when it is NULL,
    empty, or not a GeoPackage geometry."""
    if blob is None or len(blob) < 8 or blob[:2] != b"GP":
        return None
    flags = blob[3]
    if flags & 0b10000:  # the empty-geometry flag
        return None
    env = (flags >> 1) & 0b111
    order = "<" if flags & 1 else ">"
    if env:
        minx, maxx, miny, maxy = struct.unpack(order + "4d", blob[8:40])
        return minx, maxx, miny, maxy
    wkb = bytes(blob[8 + _ENVELOPE_BYTES.get(env, 0):])
    if len(wkb) == 21:  # a 2D point: byte order, type 1, x, y (read directly: fast)
        o = "<" if wkb[0] == 1 else ">"
        kind, x, y = struct.unpack(o + "Idd", wkb[1:])
        if kind == 1 and x == x and y == y:  # NaN coordinates are an empty point
            return x, x, y, y
    geom = shapely.from_wkb(wkb)
    if geom is None or geom.is_empty:
        return None
    x0, y0, x1, y1 = geom.bounds
    return x0, x1, y0, y1


def _is_empty(blob: bytes | None) -> int | None:
    if blob is None:
        return None
    return 1 if envelope(bytes(blob)) is None else 0


def _part(k: int) -> Callable[[bytes | None], float | None]:
    def get(blob: bytes | None) -> float | None:
        env = None if blob is None else envelope(bytes(blob))
        return None if env is None else env[k]
    return get


def register(dbapi_conn: sqlite3.Connection) -> None:
    """Define the functions the triggers call on a sqlite3 connection."""
    dbapi_conn.create_function("ST_IsEmpty", 1, _is_empty, deterministic=True)
    for k, name in enumerate(("ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY")):
        dbapi_conn.create_function(name, 1, _part(k), deterministic=True)


def create(conn: Connection, table: str, column: str = "geom", key: str = "fid") -> None:
    """The index of ``table.column`` with its extension row and triggers, filled from the
    rows already stored (nothing happens when it exists)."""
    conn.exec_driver_sql(EXTENSIONS_DDL)
    name = index_name(table, column)
    if has_index(conn, table, column):
        return
    conn.exec_driver_sql(f'CREATE VIRTUAL TABLE "{name}" USING rtree(id, minx, maxx, miny, maxy)')
    conn.exec_driver_sql(
        f'INSERT OR REPLACE INTO "{name}" SELECT "{key}", ST_MinX("{column}"), '
        f'ST_MaxX("{column}"), ST_MinY("{column}"), ST_MaxY("{column}") FROM "{table}" '
        f'WHERE "{column}" NOT NULL AND NOT ST_IsEmpty("{column}")')
    _create_triggers(conn, table, column, key)
    conn.exec_driver_sql(
        "INSERT OR IGNORE INTO gpkg_extensions (table_name, column_name, extension_name, "
        "definition, scope) VALUES (?, ?, ?, ?, 'write-only')",
        (table, column, EXTENSION, DEFINITION))


def _create_triggers(conn: Connection, table: str, column: str, key: str) -> None:
    name = index_name(table, column)
    for suffix, body in TRIGGERS.items():
        conn.exec_driver_sql(f'CREATE TRIGGER "{name}_{suffix}" '
                             + body.format(t=table, c=column, i=key))


def has_index(conn: Connection, table: str, column: str = "geom") -> bool:
    return conn.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
        (index_name(table, column),)).first() is not None


@contextmanager
def bulk_insert(conn: Connection, table: str, column: str = "geom", key: str = "fid"
                ) -> Iterator[Callable[[Sequence[int], NDArray[np.object_]], None]]:
    """Insert many rows into ``table`` inside ``conn``'s transaction without a trigger
    call per row: the triggers are dropped, the caller passes each batch's new keys and
    geometries to the function yielded (their envelopes are computed at once with
    shapely and written to the index), and the triggers are made again at the end, all
    in the one transaction. (The spec's own advice for many changes.)"""
    name = index_name(table, column)
    if not has_index(conn, table, column):
        yield lambda keys, geoms: None
        return
    for suffix in TRIGGERS:
        conn.exec_driver_sql(f'DROP TRIGGER IF EXISTS "{name}_{suffix}"')

    def add(keys: Sequence[int], geoms: NDArray[np.object_]) -> None:
        geoms = np.asarray(geoms, dtype=object)
        present = ~shapely.is_missing(geoms)
        present[present] = ~shapely.is_empty(geoms[present])
        if not present.any():
            return
        b = shapely.bounds(geoms[present])
        k = np.asarray(keys)[present]
        conn.exec_driver_sql(
            f'INSERT OR REPLACE INTO "{name}" VALUES (?, ?, ?, ?, ?)',
            list(zip(k.tolist(), b[:, 0].tolist(), b[:, 2].tolist(), b[:, 1].tolist(),
                     b[:, 3].tolist(), strict=True)))

    yield add
    _create_triggers(conn, table, column, key)


def window(table: str, minx: float, miny: float, maxx: float, maxy: float,
           column: str = "geom") -> sa.Select[tuple[int]]:
    """The keys of ``table`` whose envelope meets the box: a sub-select for ``IN``."""
    rt = sa.table(index_name(table, column), sa.column("id"), sa.column("minx"),
                  sa.column("maxx"), sa.column("miny"), sa.column("maxy"))
    return sa.select(rt.c.id).where(rt.c.minx <= maxx, rt.c.maxx >= minx,
                                    rt.c.miny <= maxy, rt.c.maxy >= miny)
