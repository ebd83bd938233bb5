"""The store: every layer in one transactional database.

One interface (:class:`Store`) over SQLAlchemy Core, with two backends:

- embedded (the default): a GeoPackage, a single SQLite file that needs no
  server and that QGIS (or any GDAL tool) opens directly;
- PostGIS, for a shared deployment (``postgresql+psycopg://...``): geometry
  columns in EPSG:4326 with GiST indexes, and spatial filters run in SQL.

A write either lands whole or not at all: :meth:`Store.add` runs in one
transaction. The schema is created and upgraded by the numbered migrations in
:mod:`layers.migrations`, the same on both backends.

Every value reaches the database as a bound parameter; identifiers in SQL
text come only from our own schema.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import sqlalchemy as sa
from numpy.typing import NDArray
from sqlalchemy.engine import Connection, Engine

from layers import gpkg, rtree
from layers.clock import now_iso
from layers.crs import WGS84
from layers.errors import StoreError
from layers.migrations import current_version, migrate
from layers.points import Points
from layers.schema import SCHEMAS, FieldType, Layer, LayerSchema
from layers.tables import METADATA, TABLES

OnConflict = Literal["error", "skip", "replace"]
Progress = Callable[[int, int], None]

#: Rows per INSERT batch; progress is reported after each.
CHUNK_ROWS = 20_000
#: Keys (``fid``) per query of :meth:`Store.read_points` on SQLite, whose strings
#: hold at most a billion bytes (29 per point).
POINT_QUERY_ROWS = 4_000_000


def upsert(conn: Connection, table: sa.Table, values: Mapping[str, Any],
           keys: Sequence[str]) -> Any:
    """``INSERT ... ON CONFLICT (keys) DO UPDATE``, which SQLite and PostgreSQL share."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        pg_stmt = pg_insert(table).values(**values)
        pg_rest = {k: pg_stmt.excluded[k] for k in values if k not in keys}
        return pg_stmt.on_conflict_do_update(index_elements=list(keys), set_=pg_rest)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    stmt = sqlite_insert(table).values(**values)
    rest = {k: stmt.excluded[k] for k in values if k not in keys}
    return stmt.on_conflict_do_update(index_elements=list(keys), set_=rest)


def lost_connection(exc: BaseException) -> bool:
    """Whether ``exc`` means the database server went away (stopped, restarted, unreachable)."""
    if isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated:
        return True
    orig = getattr(exc, "orig", None) or exc
    name = type(orig).__module__ + "." + type(orig).__name__
    if name.startswith("psycopg") and "OperationalError" in name:
        return True
    text = str(orig).lower()
    return any(s in text for s in ("server closed the connection", "terminating connection",
                                   "connection refused", "the connection is closed",
                                   "consuming input failed"))


def database_error(exc: BaseException) -> bool:
    """Whether ``exc`` came from the database (through SQLAlchemy or straight from the
    driver, as COPY's errors do)."""
    return isinstance(exc, sa.exc.SQLAlchemyError) or type(exc).__module__.startswith(
        ("psycopg", "sqlite3"))


def write_error(exc: BaseException, what: str = "the write") -> StoreError:
    """The message a user sees when the database refused or dropped ``what``."""
    if lost_connection(exc):
        return StoreError(
            f"the connection to the database was lost during {what}; the database undid "
            "it, so nothing of it was stored. Check that the database server is running, "
            "then try again")
    orig = getattr(exc, "orig", None) or exc
    return StoreError(f"the database refused {what}; nothing was stored ({orig})")


def format_datetimes(s: pd.Series) -> list[str | None]:
    """UTC timestamps as GeoPackage DATETIME text (``YYYY-MM-DDTHH:MM:SS.SSSZ``)."""
    s = pd.to_datetime(s, utc=True)
    values = s.dt.tz_localize(None).to_numpy(dtype="datetime64[ms]")
    text = np.char.add(np.datetime_as_string(values, unit="ms"), "Z")
    return [None if t == "NaTZ" else str(t) for t in text]


def encode_geoms(dialect: str, geoms: Any) -> list[Any]:
    """Geometries as the backend stores them: GeoPackage blobs in SQLite, hex EWKB
    (SRID 4326) for PostGIS, which reads it as a geometry literal. None stays None."""
    geoms = np.asarray(geoms, dtype=object)
    if dialect == "sqlite":
        return gpkg.encode(geoms)
    import shapely

    present = ~shapely.is_missing(geoms)
    out: list[Any] = [None] * len(geoms)
    if present.any():
        idx = np.flatnonzero(present)
        text = shapely.to_wkb(shapely.set_srid(geoms[idx], 4326), hex=True,
                              include_srid=True, output_dimension=2)
        for i, t in zip(idx, text, strict=True):
            out[i] = t
    return out


def decode_geoms(dialect: str, values: Sequence[Any]) -> np.ndarray:
    """Shapely geometries from what :func:`encode_geoms` stored."""
    if dialect == "sqlite":
        return gpkg.decode(list(values))
    import shapely

    if not len(values):
        return np.array([], dtype=object)
    geoms: np.ndarray = shapely.from_wkb(np.array(list(values), dtype=object))
    return geoms


def _column_values(frame: gpd.GeoDataFrame, schema: LayerSchema,
                   dialect: str = "sqlite") -> dict[str, list[Any]]:
    values: dict[str, list[Any]] = {}
    for spec in schema.fields:
        col = frame[spec.name] if spec.name in frame.columns else pd.Series(
            None, index=frame.index, dtype=object)
        if spec.type is FieldType.DATETIME:
            values[spec.name] = format_datetimes(col)
        elif spec.type is FieldType.INTEGER:
            num = pd.to_numeric(col, errors="coerce")
            values[spec.name] = [None if pd.isna(v) else int(v) for v in num]
        elif spec.type is FieldType.REAL:
            num = pd.to_numeric(col, errors="coerce").astype(float)
            values[spec.name] = [None if np.isnan(v) else float(v) for v in num]
        else:
            text = col.astype("string")
            values[spec.name] = text.astype(object).where(text.notna(), None).tolist()
    values["geom"] = encode_geoms(dialect, frame.geometry.values)
    return values


class Store:
    """Layers kept in one database. Create with :func:`open_store`."""

    def __init__(self, engine: Engine, *, url: str, path: Path | None) -> None:
        self.engine = engine
        self.url = url
        self.path = path

    @property
    def dialect(self) -> str:
        """``"sqlite"`` for the embedded store, ``"postgresql"`` for PostGIS."""
        return self.engine.dialect.name

    @property
    def label(self) -> str:
        """Where the store is, for people to read: the file, or the database URL with its
        password and any secret query value masked (see :func:`layers.redact.safe_url`).
        Show this, never :attr:`url`."""
        from layers.redact import safe_url

        if self.path is not None:
            return str(self.path)
        return safe_url(self.engine.url)

    def encode_geoms(self, geoms: Any) -> list[Any]:
        return encode_geoms(self.dialect, geoms)

    def decode_geoms(self, values: Sequence[Any]) -> np.ndarray:
        return decode_geoms(self.dialect, values)

    # -- lifecycle ---------------------------------------------------------
    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def schema_version(self) -> int:
        with self.engine.connect() as conn:
            return current_version(conn)

    @contextlib.contextmanager
    def transaction(self, conn: Connection | None = None) -> Iterator[Connection]:
        """A connection in a transaction: ``conn``'s own when given, else a new one
        that commits on success and rolls back on any exception."""
        if conn is not None:
            yield conn
            return
        with self.engine.connect() as new:
            new.info["write"] = True
            with new.begin():
                yield new

    def bump(self, conn: Connection) -> None:
        """Mark a write made through :meth:`transaction`, so cached reads refresh."""
        self._bump(conn)

    # -- settings and bookkeeping -----------------------------------------
    def get_setting(self, key: str, default: str | None = None) -> str | None:
        t = METADATA.tables["cpted_settings"]
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(t.c.value).where(t.c.key == key)).first()
        return default if row is None else str(row[0])

    def set_setting(self, key: str, value: str) -> None:
        with self.transaction() as conn:
            self._set_setting(conn, key, value)

    def _set_setting(self, conn: Connection, key: str, value: str) -> None:
        t = METADATA.tables["cpted_settings"]
        conn.execute(upsert(conn, t, {"key": key, "value": value}, ["key"]))

    def revision(self) -> int:
        """A number that changes on every write; caches key on it."""
        return int(self.get_setting("revision", "0") or 0)

    def _bump(self, conn: Connection) -> None:
        # One statement, so concurrent writers on a server queue on the row's lock
        # instead of both reading the old number.
        t = METADATA.tables["cpted_settings"]
        bumped = sa.cast(sa.cast(t.c.value, sa.Integer) + 1, sa.Text)
        done = conn.execute(sa.update(t).where(t.c.key == "revision").values(value=bumped))
        if not done.rowcount:
            conn.execute(upsert(conn, t, {"key": "revision", "value": "1"}, ["key"]))

    def imports(self) -> pd.DataFrame:
        """The import log, newest first."""
        t = METADATA.tables["cpted_imports"]
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(t).order_by(t.c.id.desc())).mappings().all()
        return pd.DataFrame([dict(r) for r in rows],
                            columns=["id", "layer", "source", "imported_at", "summary"])

    # -- reading -----------------------------------------------------------
    def count(self, layer: Layer, *, where: Mapping[str, Sequence[Any]] | None = None,
              time: tuple[str, Any, Any] | None = None) -> int:
        """How many rows match ``where`` and ``time`` (as in :meth:`read`)."""
        t = TABLES[layer]
        q = sa.select(sa.func.count()).select_from(t)
        q = self._filter(q, t, where, time)
        with self.engine.connect() as conn:
            return int(conn.execute(q).scalar_one())

    def tally(self, layer: Layer, *, where: Mapping[str, Sequence[Any]] | None = None,
              time: tuple[str, Any, Any] | None = None,
              among: Mapping[str, Mapping[str, Sequence[Any]]] | None = None
              ) -> tuple[int, dict[str, int]]:
        """How many rows match ``where`` and ``time`` (as in :meth:`read`), and how many
        of those also match each ``among`` entry (``{name: {column: allowed values}}``),
        counted in one query.

        Returns
        -------
        tuple of int and dict of str to int
            The rows matching, and by name how many of them match each entry.

        Raises
        ------
        StoreError
            An unknown column in ``where`` or ``among``.
        """
        t = TABLES[layer]
        among = dict(among or {})
        parts: list[Any] = [sa.func.count()]
        for name, sub in among.items():
            for col in sub:
                if col not in t.c:
                    raise StoreError(f"layer {t.name} has no column {col!r} (in {name!r})")
            test = sa.and_(sa.true(), *(t.c[c].in_(list(v)) for c, v in sub.items()))
            parts.append(sa.func.coalesce(sa.func.sum(sa.case((test, 1), else_=0)), 0))
        q = self._filter(sa.select(*parts).select_from(t), t, where, time)
        with self.engine.connect() as conn:
            row = conn.execute(q).one()
        return int(row[0]), {name: int(v) for name, v in zip(among, row[1:], strict=True)}

    def counts(self) -> dict[Layer, int]:
        return {layer: self.count(layer) for layer in Layer}

    def distinct(self, layer: Layer, column: str) -> list[Any]:
        t = TABLES[layer]
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(t.c[column]).distinct().order_by(t.c[column]))
            return [r[0] for r in rows if r[0] is not None]

    def time_range(self, layer: Layer, column: str) -> tuple[pd.Timestamp, pd.Timestamp] | None:
        t = TABLES[layer]
        with self.engine.connect() as conn:
            lo, hi = conn.execute(sa.select(sa.func.min(t.c[column]),
                                            sa.func.max(t.c[column]))).one()
        if lo is None:
            return None
        return pd.Timestamp(lo).tz_convert("UTC"), pd.Timestamp(hi).tz_convert("UTC")

    def existing_ids(self, layer: Layer, ids: Iterable[str],
                     conn: Connection | None = None) -> set[str]:
        t = TABLES[layer]
        idcol = t.c[SCHEMAS[layer].id_field]
        ids = list(ids)
        found: set[str] = set()

        def run(c: Connection) -> None:
            if c.dialect.name == "sqlite":
                # One bound parameter holding every id, unpacked by SQLite's json_each.
                values: sa.Select[Any] = sa.select(sa.column("value")).select_from(
                    sa.func.json_each(sa.bindparam("ids", json.dumps(ids))).table_valued("value"))
                found.update(r[0] for r in c.execute(sa.select(idcol).where(idcol.in_(values))))
                return
            for start in range(0, len(ids), 5000):
                chunk = ids[start:start + 5000]
                found.update(r[0] for r in c.execute(sa.select(idcol).where(idcol.in_(chunk))))

        if conn is None:
            with self.engine.connect() as c:
                run(c)
        else:
            run(conn)
        return found

    def _filter(self, q: Any, t: sa.Table, where: Mapping[str, Sequence[Any]] | None,
                time: tuple[str, Any, Any] | None) -> Any:
        for col, allowed in (where or {}).items():
            if col not in t.c:
                raise StoreError(f"layer {t.name} has no column {col!r}")
            q = q.where(t.c[col].in_(list(allowed)))
        if time is not None:
            col, start, end = time
            if start is not None:
                q = q.where(t.c[col] >= format_datetimes(pd.Series([start]))[0])
            if end is not None:
                q = q.where(t.c[col] < format_datetimes(pd.Series([end]))[0])
        return q

    def read(
        self,
        layer: Layer,
        *,
        where: Mapping[str, Sequence[Any]] | None = None,
        time: tuple[str, Any, Any] | None = None,
        ids: Sequence[str] | None = None,
        bbox: tuple[float, float, float, float] | None = None,
        limit: int | None = None,
        offset: int = 0,
        columns: Sequence[str] | None = None,
        newest: str | None = None,
    ) -> gpd.GeoDataFrame:
        """A layer as a GeoDataFrame in EPSG:4326, indexed 0..n-1, in the order rows
        were stored (or newest first, see ``newest``).

        Parameters
        ----------
        where
            ``{column: allowed values}``; rows must match every entry.
        time
            ``(datetime column, start, end)``: rows with ``start <= value < end``;
            either bound may be None.
        ids
            Only these ids.
        bbox
            ``(minx, miny, maxx, maxy)`` in degrees: only rows whose geometry
            intersects the box. Both stores answer from their spatial index (the
            GeoPackage's R-tree, :mod:`layers.rtree`, gives candidates by envelope,
            tested exactly after reading).
        limit, offset
            At most ``limit`` of the matching rows, after skipping the first ``offset``
            (a page of them: the order is stable, new rows come last).
        columns
            Only these fields (in the schema's order), and the geometry; default all.
        newest
            A datetime column: rows latest first by it (those without a value last, ties
            in the stored order), so that ``limit`` gives the newest rows. The page is
            chosen in SQL from the filter's index, then only its rows are read.

        Raises
        ------
        StoreError
            An unknown column in ``where``, ``columns`` or ``newest``, or a negative
            ``limit`` or ``offset``.
        """
        schema = SCHEMAS[layer]
        t = TABLES[layer]
        if (limit is not None and limit < 0) or offset < 0:
            raise StoreError(f"limit and offset must be >= 0, got {limit!r} and {offset!r}")
        unknown = sorted({*(columns or ()), *([newest] if newest else [])}
                         - set(schema.field_names))
        if unknown:
            raise StoreError(f"layer {t.name} has no column {unknown[0]!r}; "
                             f"its columns are {', '.join(schema.field_names)}")
        fields = [f for f in schema.field_names if columns is None or f in columns]
        order = [t.c.fid] if newest is None else [t.c[newest].desc().nulls_last(), t.c.fid]
        q = sa.select(*[t.c[f] for f in fields], t.c.geom).order_by(*order)
        q = self._filter(q, t, where, time)
        if ids is not None:
            q = q.where(t.c[schema.id_field].in_(list(ids)))
        if bbox is not None and self.dialect == "postgresql":
            box = sa.func.ST_MakeEnvelope(*(float(v) for v in bbox), 4326)
            q = q.where(sa.func.ST_Intersects(t.c.geom, box))
        elif bbox is not None:  # the R-tree finds the candidates; exact test after reading
            minx, miny, maxx, maxy = (float(v) for v in bbox)
            q = q.where(t.c.fid.in_(rtree.window(t.name, minx, miny, maxx, maxy)))
        # the embedded store filters a box after reading, so it pages after that too
        page_in_sql = bbox is None or self.dialect == "postgresql"
        if page_in_sql and newest is not None and (limit is not None or offset):
            # the page's keys first (from the filter's index alone), then their rows
            keys = q.with_only_columns(t.c.fid).limit(limit).offset(offset or None)
            q = sa.select(*[t.c[f] for f in fields], t.c.geom).where(
                t.c.fid.in_(keys.scalar_subquery())).order_by(*order)
        elif page_in_sql and limit is not None:
            q = q.limit(limit)
        if page_in_sql and offset and newest is None:
            q = q.offset(offset)
        with self.engine.connect() as conn:
            result = conn.execute(q)
            rows = result.fetchall()
        cols = [*fields, "geom"]
        data = {c: [r[i] for r in rows] for i, c in enumerate(cols)}
        geoms = self.decode_geoms(data.pop("geom"))
        if bbox is not None and self.dialect != "postgresql" and len(geoms):
            import shapely

            keep = shapely.intersects(geoms, shapely.box(*bbox))
            data = {c: [v for v, k in zip(vals, keep, strict=True) if k]
                    for c, vals in data.items()}
            geoms = geoms[keep]
        if not page_in_sql:
            stop = None if limit is None else offset + limit
            data = {c: vals[offset:stop] for c, vals in data.items()}
            geoms = geoms[offset:stop]
        # object columns first, so missing text stays None (pandas would infer NaN)
        frame = pd.DataFrame({c: pd.Series(data[c], dtype=object) for c in fields},
                             columns=fields)
        for spec in (f for f in schema.fields if f.name in fields):
            if spec.type is FieldType.DATETIME:
                frame[spec.name] = pd.to_datetime(frame[spec.name], utc=True, format="ISO8601")
            elif spec.type is FieldType.INTEGER:
                frame[spec.name] = pd.array(frame[spec.name], dtype="Int64")
            elif spec.type is FieldType.REAL:
                frame[spec.name] = pd.to_numeric(frame[spec.name]).astype(float)
            else:
                frame[spec.name] = frame[spec.name].astype(object)
        return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs=WGS84))

    def read_points(
        self,
        layer: Layer,
        *,
        where: Mapping[str, Sequence[Any]] | None = None,
        time: tuple[str, Any, Any] | None = None,
        marked: tuple[str, Sequence[Any]] | None = None,
    ) -> Points:
        """The locations of a layer's rows (filtered as in :meth:`read`) as coordinate
        arrays, without a shapely geometry per row: what a map needs to count a million
        points in cells.

        Parameters
        ----------
        where, time
            As in :meth:`read`.
        marked
            ``(column, values)``: the rows whose ``column`` is one of ``values`` are
            flagged in :attr:`Points.marked` (the access layer blurs sensitive ones).

        Returns
        -------
        Points
            x = longitude, y = latitude, in no particular order. A point is its own
            location; any other geometry gives a point on its surface. Rows without a
            geometry, or with an empty one, are left out.

        Raises
        ------
        StoreError
            An unknown column in ``where`` or ``marked``.
        """
        t = TABLES[layer]
        if marked is not None and marked[0] not in t.c:
            raise StoreError(f"layer {t.name} has no column {marked[0]!r}")
        flag = (sa.false() if marked is None  # a row with no value is not marked
                else sa.func.coalesce(t.c[marked[0]].in_(list(marked[1])), sa.false()))
        if self.dialect == "postgresql":
            spot = sa.func.ST_PointOnSurface(t.c.geom)
            q = sa.select(sa.func.ST_X(spot), sa.func.ST_Y(spot), flag).where(
                t.c.geom.is_not(None), sa.not_(sa.func.ST_IsEmpty(t.c.geom)))
            with self.engine.connect() as conn:
                rows = conn.execute(self._filter(q, t, where, time)).fetchall()
            got = np.array([(r[0], r[1]) for r in rows], dtype=np.float64).reshape(-1, 2)
            return Points(got, np.array([bool(r[2]) for r in rows], dtype=bool))
        return self._read_points_sqlite(t, where, time, None if marked is None else flag)

    def _read_points_sqlite(self, t: sa.Table, where: Mapping[str, Sequence[Any]] | None,
                            time: tuple[str, Any, Any] | None, flag: Any | None) -> Points:
        # SQLite joins the blobs end to end into one value per group, marked or not
        # (group_concat keeps a blob's bytes as they are; the cast gives them back as a
        # blob), read in one piece: when every blob is a point as this store writes
        # them, numpy reads the coordinates straight out of it (gpkg.point_xy checks
        # the layout). Any other blob sends its chunk of rows the slow way, one by one
        # through gpkg.point_coordinates.
        def joined(which: Any | None) -> Any:
            together = sa.func.group_concat(t.c.geom, "")
            return sa.cast(together if which is None else together.filter(which),
                           sa.LargeBinary)

        # unmarked, then marked (nothing is marked when no flag was asked for)
        groups = [joined(None)] if flag is None else [joined(sa.not_(flag)), joined(flag)]
        if flag is None:
            flag = sa.false()
        each = [*groups, sa.func.coalesce(sa.func.sum(sa.func.length(t.c.geom)), 0),
                sa.func.count(t.c.geom)]
        parts: list[list[NDArray[np.float64]]] = [[], []]
        with self.engine.connect() as conn:
            lo, hi = conn.execute(sa.select(sa.func.min(t.c.fid), sa.func.max(t.c.fid))).one()
            # SQLite's values stop at a billion bytes (29 per point)
            for start in range(int(lo or 0), int(hi or 0) + 1, POINT_QUERY_ROWS):
                span = sa.and_(t.c.fid >= start, t.c.fid < start + POINT_QUERY_ROWS)
                *together, size, n = conn.execute(self._filter(
                    sa.select(*each).where(span), t, where, time)).one()
                if size == n * gpkg.POINT_BLOB_BYTES == sum(len(b or b"") for b in together):
                    try:
                        got = [gpkg.point_xy(bytes(b or b"")) for b in together]
                    except ValueError:  # a blob of that size but another layout
                        pass
                    else:
                        for k, xy in enumerate(got):
                            parts[k].append(xy)
                        continue
                rows = conn.execute(self._filter(
                    sa.select(t.c.geom, flag).where(span, t.c.geom.is_not(None)), t, where,
                    time)).fetchall()
                xy = gpkg.point_coordinates([r[0] for r in rows])
                found = ~np.isnan(xy).any(axis=1)
                is_marked = np.array([bool(r[1]) for r in rows], dtype=bool)
                parts[0].append(xy[found & ~is_marked])
                parts[1].append(xy[found & is_marked])
        plain, blurred = (np.concatenate(p) if p else np.zeros((0, 2)) for p in parts)
        return Points(np.concatenate([plain, blurred]),
                      np.r_[np.zeros(len(plain), bool), np.ones(len(blurred), bool)])

    def counts_within(
        self,
        points: Layer,
        polygons: Layer,
        *,
        where: Mapping[str, Sequence[Any]] | None = None,
        time: tuple[str, Any, Any] | None = None,
    ) -> dict[str, int]:
        """How many ``points`` rows (filtered as in :meth:`read`) fall in each polygon,
        by polygon id; polygons with none are listed with 0.

        A point on a shared boundary counts for the first polygon in the layer's order,
        as :func:`cpted.overlay.assign` does. PostGIS answers in SQL from its spatial
        index; the embedded store reads the points and uses an STRtree.
        """
        pt, pg = TABLES[points], TABLES[polygons]
        pid = pg.c[SCHEMAS[polygons].id_field]
        with self.engine.connect() as conn:
            ids = [r[0] for r in conn.execute(sa.select(pid).order_by(pg.c.fid))]
        out = dict.fromkeys(ids, 0)
        if self.dialect == "postgresql":
            inner = sa.select(pg.c[SCHEMAS[polygons].id_field].label("pid")).where(
                sa.func.ST_Intersects(pg.c.geom, pt.c.geom)).order_by(pg.c.fid).limit(1) \
                .correlate(pt).lateral("first")
            q = sa.select(inner.c.pid, sa.func.count()).select_from(pt).join(inner, sa.true())
            q = self._filter(q, pt, where, time).group_by(inner.c.pid)
            with self.engine.connect() as conn:
                out.update({r[0]: int(r[1]) for r in conn.execute(q)})
            return out
        from layers.spatial import counts

        # only the points' geometry is read (no other column is needed to count them)
        q = self._filter(sa.select(pt.c.geom).order_by(pt.c.fid), pt, where, time)
        with self.engine.connect() as conn:
            found = self.decode_geoms([r[0] for r in conn.execute(q)])
        shapes = self.read(polygons)
        out.update(zip(shapes[SCHEMAS[polygons].id_field],
                       (int(n) for n in counts(gpd.GeoSeries(found, crs=WGS84),
                                               shapes.geometry)), strict=True))
        return out

    # -- writing -----------------------------------------------------------
    def add(
        self,
        layer: Layer,
        frame: gpd.GeoDataFrame,
        *,
        on_conflict: OnConflict = "error",
        progress: Progress | None = None,
        log: Mapping[str, Any] | None = None,
        conn: Connection | None = None,
    ) -> int:
        """Add validated rows to ``layer`` in one transaction; return how many were written.

        Parameters
        ----------
        frame
            Rows in EPSG:4326 with the layer's fields (see :func:`layers.validate.validate`).
        on_conflict
            What to do with ids already stored: ``"error"`` refuses the whole
            write, ``"skip"`` keeps the stored rows, ``"replace"`` overwrites them.
        progress
            Called as ``progress(rows_done, rows_total)`` after each batch.
        log
            When given, an entry (source, summary) written to the import log in
            the same transaction.
        conn
            Run inside this caller's transaction instead of a new one.

        Raises
        ------
        StoreError
            Ids already stored with ``on_conflict="error"``, or a database error;
            in every case nothing was written.
        """
        schema = SCHEMAS[layer]
        if on_conflict not in ("error", "skip", "replace"):
            raise ValueError(f"on_conflict should be error, skip or replace, got {on_conflict!r}")
        if frame.crs is not None and not frame.crs.equals(WGS84):
            raise StoreError(f"rows must be in EPSG:4326, got {frame.crs.to_string()}")
        t = TABLES[layer]
        idcol = t.c[schema.id_field]
        try:
            with self.transaction(conn) as conn:
                ids = [str(v) for v in frame[schema.id_field]]
                clash = self.existing_ids(layer, ids, conn) if ids else set()
                if clash and on_conflict == "error":
                    raise ids_taken_error(layer, clash)
                if clash and on_conflict == "skip":
                    frame = frame[~frame[schema.id_field].astype(str).isin(clash)]
                if clash and on_conflict == "replace":
                    ordered = sorted(clash)
                    for start in range(0, len(ordered), 5000):
                        conn.execute(sa.delete(t).where(idcol.in_(ordered[start:start + 5000])))
                if clash and on_conflict == "replace":
                    self._touch_contents(conn, layer)
                written = self._insert(conn, layer, frame, progress)
                self._bump(conn)
                if log is not None:
                    self.log_import(conn, layer, log)
        except StoreError:
            raise
        except Exception as exc:
            if database_error(exc):
                raise write_error(exc) from exc
            raise
        return written

    def log_import(self, conn: Connection, layer: Layer, log: Mapping[str, Any]) -> None:
        """Write an import log entry (``source``, ``summary``) in ``conn``'s transaction."""
        conn.execute(sa.insert(METADATA.tables["cpted_imports"]).values(
            layer=layer.value, source=str(log.get("source", "")),
            imported_at=now_iso(), summary=json.dumps(log.get("summary", {}), default=str)))

    def _insert(self, conn: Connection, layer: Layer, frame: gpd.GeoDataFrame,
                progress: Progress | None) -> int:
        total = len(frame)
        if progress:
            progress(0, total)
        schema = SCHEMAS[layer]
        names = [*schema.field_names, "geom"]
        if conn.dialect.name == "postgresql":
            return self._copy(conn, layer, frame, names, progress)
        # Identifiers come from our schema; every value is a bound parameter. Going to the
        # driver's executemany directly skips per-row parameter objects (several times faster).
        columns = ", ".join(f'"{n}"' for n in names)
        marks = ", ".join("?" for _ in names)
        sql = f'INSERT INTO "{TABLES[layer].name}" ({columns}) VALUES ({marks})'

        table = TABLES[layer].name
        with _bulk_cache(conn), rtree.bulk_insert(conn, table) as index:
            for start in range(0, total, CHUNK_ROWS):
                part = frame.iloc[start:start + CHUNK_ROWS]
                values = _column_values(part, schema)
                last = conn.exec_driver_sql(f'SELECT coalesce(max(fid), 0) FROM "{table}"'
                                            ).scalar()
                conn.exec_driver_sql(sql, list(zip(*(values[n] for n in names), strict=True)))
                # this transaction holds the write lock: the new rows are the ones after
                keys = [r[0] for r in conn.exec_driver_sql(
                    f'SELECT fid FROM "{table}" WHERE fid > ? ORDER BY fid', (last,))]
                index(keys, np.asarray(part.geometry.values, dtype=object))
                if progress:
                    progress(min(start + CHUNK_ROWS, total), total)
        if total:
            self._grow_contents(conn, layer, frame)
        return total

    def _copy(self, conn: Connection, layer: Layer, frame: gpd.GeoDataFrame,
              names: list[str], progress: Progress | None) -> int:
        """PostgreSQL's COPY inside the caller's transaction: the fast bulk path."""
        total = len(frame)
        raw: Any = conn.connection.driver_connection  # psycopg's connection (DBAPI: untyped)
        columns = ", ".join(f'"{n}"' for n in names)
        schema = SCHEMAS[layer]
        sql = f'COPY "{TABLES[layer].name}" ({columns}) FROM STDIN'
        with raw.cursor() as cur, cur.copy(sql) as copy:
            for start in range(0, total, CHUNK_ROWS):
                part = frame.iloc[start:start + CHUNK_ROWS]
                values = _column_values(part, schema, "postgresql")
                for row in zip(*(values[n] for n in names), strict=True):
                    copy.write_row(row)
                if progress:
                    progress(min(start + CHUNK_ROWS, total), total)
        return total

    def _grow_contents(self, conn: Connection, layer: Layer, frame: gpd.GeoDataFrame) -> None:
        """Widen the layer's recorded extent to cover ``frame`` (GeoPackage readers use it)."""
        if conn.dialect.name != "sqlite":
            return
        import shapely

        geoms = np.asarray(frame.geometry.values, dtype=object)
        minx, miny, maxx, maxy = shapely.total_bounds(geoms[~pd.isna(geoms)])
        if np.isnan(minx):
            return
        conn.execute(
            sa.text("UPDATE gpkg_contents SET last_change = :t, "
                    "min_x = min(coalesce(min_x, :a), :a), min_y = min(coalesce(min_y, :b), :b), "
                    "max_x = max(coalesce(max_x, :c), :c), max_y = max(coalesce(max_y, :d), :d) "
                    "WHERE table_name = :n"),
            {"t": now_iso(), "a": float(minx), "b": float(miny), "c": float(maxx),
             "d": float(maxy), "n": layer.value},
        )

    def _touch_contents(self, conn: Connection, layer: Layer) -> None:
        """Recompute the layer's extent from every stored row (after deletions)."""
        if conn.dialect.name != "sqlite":
            return
        import shapely

        geoms = self.decode_geoms([r[0] for r in conn.execute(sa.select(TABLES[layer].c.geom))])
        geoms = geoms[~pd.isna(geoms)]
        bounds = shapely.total_bounds(geoms) if len(geoms) else [np.nan] * 4
        b = [None if np.isnan(v) else float(v) for v in bounds]
        conn.execute(
            sa.text("UPDATE gpkg_contents SET last_change = :t, min_x = :a, min_y = :b, "
                    "max_x = :c, max_y = :d WHERE table_name = :n"),
            {"t": now_iso(), "a": b[0], "b": b[1], "c": b[2], "d": b[3], "n": layer.value},
        )

    def delete(self, layer: Layer, ids: Sequence[str]) -> int:
        t = TABLES[layer]
        idcol = t.c[SCHEMAS[layer].id_field]
        with self.transaction() as conn:
            n = conn.execute(sa.delete(t).where(idcol.in_(list(ids)))).rowcount
            self._touch_contents(conn, layer)
            self._bump(conn)
        return int(n)

    def clear(self, layer: Layer) -> None:
        with self.transaction() as conn:
            conn.execute(sa.delete(TABLES[layer]))
            self._touch_contents(conn, layer)
            self._bump(conn)


def ids_taken_error(layer: Layer, clash: Iterable[str]) -> StoreError:
    """The refusal of a write whose ids ``clash`` are already stored (on-conflict error)."""
    clash = set(clash)
    shown = ", ".join(sorted(clash)[:10])
    return StoreError(
        f"{len(clash)} id(s) are already in the {layer.value} layer (e.g. "
        f"{shown}); nothing was imported. Import with on-conflict 'skip' to keep "
        "the stored rows or 'replace' to overwrite them"
    )


#: SQLite's page cache while one bulk insert runs, in KiB: room for the table's indexes
#: and the R-tree's nodes at a million rows, so inserting does not re-read pages it just
#: wrote (half the time of an import at 200,000 rows with the default 2 MB cache).
BULK_CACHE_KIB = 256 * 1024


@contextlib.contextmanager
def _bulk_cache(conn: Connection) -> Iterator[None]:
    """A large page cache on ``conn`` for the ``with`` block, then the one it had."""
    before = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    conn.exec_driver_sql(f"PRAGMA cache_size = -{BULK_CACHE_KIB}")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size = {int(before or -2000)}")


def _sqlite_engine(path: Path) -> Engine:
    engine = sa.create_engine(f"sqlite:///{path}")

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin, so that
        # engine.begin() wraps every statement (DDL included) in one transaction.
        dbapi_conn.isolation_level = None
        rtree.register(dbapi_conn)  # what the spatial index's triggers call
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys = ON")
        cur.execute("PRAGMA busy_timeout = 10000")
        cur.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # A write (Store.transaction) takes the write lock at once, so two writers queue
        # instead of both reading and then deadlocking on the upgrade; any other
        # transaction (a read, or a migration's engine.begin()) begins deferred, so a
        # read made while a write is open in this thread does not wait for it.
        write = conn.info.pop("write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def _postgres_engine(url: str) -> Engine:
    # pre_ping replaces pooled connections that a server restart has closed
    return sa.create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def resolve_url(db: str | Path | None) -> str:
    """``db``, else ``CPTED_DB_URL``, else the default file (see :mod:`layers.settings`)."""
    import os

    from layers.settings import DEFAULT_DB_PATH

    if db:
        return str(db)
    return os.environ.get("CPTED_DB_URL") or str(DEFAULT_DB_PATH)


def open_store(db: str | Path | None = None, *, upgrade: bool = True) -> Store:
    """Open (and create or migrate) the store at ``db``.

    ``db`` is a database URL (``sqlite:///PATH``; ``postgresql+psycopg://...``
    for PostGIS) or a plain file path of any name for the embedded GeoPackage
    store, created when absent. Default: ``CPTED_DB_URL``, else ``var/cpted.gpkg``.
    """
    url = resolve_url(db)
    if url.startswith(("postgresql", "postgres:")):
        return _open_postgres(url, upgrade=upgrade)
    path = Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:") else Path(url)
    if path.exists():
        head = b""
        if path.is_file():
            with path.open("rb") as f:  # the header only: the file may hold millions of rows
                head = f.read(16)
        if head and head != b"SQLite format 3\x00":
            raise StoreError(f"{path} exists but is not a GeoPackage/SQLite database")
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = _sqlite_engine(path)
    store = Store(engine, url=url, path=path)
    try:
        if upgrade:
            with engine.begin() as conn:
                migrate(conn)
    except Exception:
        engine.dispose()
        raise
    return store


def _open_postgres(url: str, *, upgrade: bool) -> Store:
    if url.startswith("postgres:"):
        url = "postgresql" + url.removeprefix("postgres")
    if url.startswith("postgresql:"):
        url = "postgresql+psycopg:" + url.removeprefix("postgresql:")
    if not url.startswith("postgresql+psycopg:"):
        raise StoreError("use a postgresql+psycopg://user:password@host:port/database URL "
                         "for the PostGIS backend")
    engine = _postgres_engine(url)
    store = Store(engine, url=url, path=None)
    try:
        if upgrade:
            with engine.begin() as conn:
                # one migrator at a time when several app processes start together
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(74201)"))
                migrate(conn)
        else:
            with engine.connect():
                pass
    except sa.exc.OperationalError as exc:
        engine.dispose()
        raise StoreError(f"cannot reach the database at {store.label}: {exc.orig}") from exc
    except Exception:
        engine.dispose()
        raise
    return store
