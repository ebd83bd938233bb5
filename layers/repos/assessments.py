"""SQL for CPTED instruments, assessments and their photos.

Plain functions of an open SQLAlchemy :class:`~sqlalchemy.engine.Connection`:
the caller owns the transaction. Geometries go in and come out as shapely
objects in WGS84 (EPSG:4326); the backend's encoding stays here. No rules:
validation and scoring live in :mod:`cpted.assessments`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from layers import tables as wt
from layers.clock import now_iso
from layers.crs import WGS84
from layers.schema import Layer
from layers.store import decode_geoms, encode_geoms
from layers.tables import TABLES

#: The columns :func:`list_rows` returns, in order (plus ``geometry``).
LIST_COLUMNS = ("id", "place_name", "assessed_at", "period", "assessor", "overall", "outcome",
                "confidence", "neighborhood_id", "version", "answers", "instrument_id",
                "instrument_version", "lon", "lat")


# -- instruments -----------------------------------------------------------------

def instrument_text(conn: Connection, instrument_id: str, version: str) -> str | None:
    """The stored TOML text of instrument ``instrument_id`` at ``version``, or None.

    Parameters
    ----------
    conn
        An open connection.
    instrument_id, version
        The instrument's identity.

    Returns
    -------
    str or None
        The text as stored, None when that version is not in the store.
    """
    t = wt.instruments
    text = conn.execute(sa.select(t.c.text).where(
        t.c.id == instrument_id, t.c.version == version)).scalar()
    return None if text is None else str(text)


def insert_instrument(conn: Connection, *, instrument_id: str, version: str, title: str,
                      text: str, added_at: str) -> None:
    """Store one instrument version.

    Parameters
    ----------
    conn
        A connection in a transaction.
    instrument_id, version, title, text
        The instrument; ``(instrument_id, version)`` must not be stored yet.
    added_at
        When it was added, as stored timestamp text.
    """
    conn.execute(sa.insert(wt.instruments).values(
        id=instrument_id, version=version, title=title, text=text, added_at=added_at))


# -- the place's neighborhood ----------------------------------------------------

def neighborhood_at(conn: Connection, point: shapely.Point) -> str | None:
    """The id of the first stored neighborhood (in insertion order) covering ``point``
    (WGS84, longitude first), or None when none does.

    Read on ``conn``, so it sees the caller's transaction (and does not wait on it).
    """
    t = TABLES[Layer.NEIGHBORHOODS]
    rows = conn.execute(sa.select(t.c.id, t.c.geom).order_by(t.c.fid)).fetchall()
    if not rows:
        return None
    geoms = decode_geoms(conn.dialect.name, [r[1] for r in rows])
    hit = np.flatnonzero(shapely.covers(geoms, point))
    return None if not len(hit) else str(rows[int(hit[0])][0])


# -- assessments -----------------------------------------------------------------

def _encoded(conn: Connection, values: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in values.items() if k != "geometry"}
    if "geometry" in values:
        out["geom"] = encode_geoms(conn.dialect.name, [values["geometry"]])[0]
    return out


def insert(conn: Connection, values: Mapping[str, Any]) -> None:
    """Insert one assessment row.

    Parameters
    ----------
    conn
        A connection in a transaction.
    values
        Column values of ``assessments``; the place goes under ``geometry`` as a shapely
        geometry in WGS84 (it is encoded for the backend here).
    """
    conn.execute(sa.insert(wt.assessments).values(**_encoded(conn, values)))


def current_version(conn: Connection, assessment_id: str) -> int | None:
    """The stored edit version of ``assessment_id``, or None when there is no such audit."""
    t = wt.assessments
    v = conn.execute(sa.select(t.c.version).where(t.c.id == assessment_id)).scalar()
    return None if v is None else int(v)


def update(conn: Connection, assessment_id: str, values: Mapping[str, Any], *,
           expected_version: int) -> int:
    """Overwrite an assessment, only if it is still at ``expected_version``.

    Parameters
    ----------
    conn
        A connection in a transaction.
    assessment_id
        The audit to change.
    values
        Column values as for :func:`insert` (``version`` included when it should move).
    expected_version
        The version the edit was made on.

    Returns
    -------
    int
        Rows changed: 1 on success, 0 when the audit is absent or has moved on.
    """
    t = wt.assessments
    res = conn.execute(sa.update(t).where(
        t.c.id == assessment_id, t.c.version == expected_version).values(
        **_encoded(conn, values)))
    return int(res.rowcount)


def get(conn: Connection, assessment_id: str) -> dict[str, Any] | None:
    """One assessment's stored row, or None.

    Returns
    -------
    dict or None
        Every column of ``assessments`` by name, with ``geom`` replaced by ``geometry``
        (a shapely geometry in WGS84).
    """
    t = wt.assessments
    row = conn.execute(sa.select(t).where(t.c.id == assessment_id)).first()
    if row is None:
        return None
    out = dict(row._mapping)
    out["geometry"] = decode_geoms(conn.dialect.name, [out.pop("geom")])[0]
    return out


def list_rows(conn: Connection, *, neighborhood_id: str | None = None,
              ids: Sequence[str] | None = None) -> gpd.GeoDataFrame:
    """Assessments, newest first (by audit time, then by insertion).

    Parameters
    ----------
    conn
        An open connection.
    neighborhood_id
        Only audits in this neighborhood, when given.
    ids
        Only these audits, when given.

    Returns
    -------
    geopandas.GeoDataFrame
        The :data:`LIST_COLUMNS` and the place as ``geometry`` (EPSG:4326);
        ``assessed_at`` as UTC timestamps; ``overall``, ``outcome``, ``confidence`` as
        floats (NaN where not scored).
    """
    t = wt.assessments
    q = sa.select(*(t.c[c] for c in LIST_COLUMNS), t.c.geom).order_by(
        t.c.assessed_at.desc(), t.c.fid.desc())
    if neighborhood_id is not None:
        q = q.where(t.c.neighborhood_id == neighborhood_id)
    if ids is not None:
        q = q.where(t.c.id.in_(list(ids)))
    rows = [dict(r._mapping) for r in conn.execute(q)]
    geoms = decode_geoms(conn.dialect.name, [r.pop("geom") for r in rows])
    frame = pd.DataFrame(rows, columns=list(LIST_COLUMNS))
    frame["assessed_at"] = pd.to_datetime(frame["assessed_at"], utc=True, format="ISO8601")
    for c in ("overall", "outcome", "confidence"):
        frame[c] = pd.to_numeric(frame[c]).astype(float)
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs=WGS84))


def delete(conn: Connection, assessment_id: str) -> int:
    """Delete an assessment and its photos.

    Returns
    -------
    int
        Audits deleted: 1, or 0 when there was none (then nothing is touched).
    """
    t, p = wt.assessments, wt.assessment_photos
    n = int(conn.execute(sa.delete(t).where(t.c.id == assessment_id)).rowcount)
    if n:
        conn.execute(sa.delete(p).where(p.c.assessment_id == assessment_id))
        refresh_extent(conn)
    return n


# -- photos ----------------------------------------------------------------------

def photos(conn: Connection, assessment_id: str) -> list[tuple[int, str, bytes]]:
    """``(photo id, media type, bytes)`` of an assessment's photos, in the order added."""
    p = wt.assessment_photos
    rows = conn.execute(sa.select(p.c.id, p.c.media_type, p.c.data).where(
        p.c.assessment_id == assessment_id).order_by(p.c.id)).fetchall()
    return [(int(r[0]), str(r[1]), bytes(r[2])) for r in rows]


def add_photos(conn: Connection, assessment_id: str,
               rows: Sequence[Mapping[str, Any]]) -> None:
    """Attach photos to an assessment.

    Parameters
    ----------
    rows
        Each with ``media_type``, ``width``, ``height`` (pixels) and ``data`` (bytes),
        already cleaned of metadata.
    """
    for row in rows:
        conn.execute(sa.insert(wt.assessment_photos).values(assessment_id=assessment_id,
                                                            **row))


def remove_photos(conn: Connection, assessment_id: str, photo_ids: Sequence[int]) -> int:
    """Delete these photos of ``assessment_id`` (ids of other audits' photos are ignored);
    return how many were deleted."""
    if not photo_ids:
        return 0
    p = wt.assessment_photos
    return int(conn.execute(sa.delete(p).where(
        p.c.assessment_id == assessment_id, p.c.id.in_(list(photo_ids)))).rowcount)


# -- GeoPackage extent -----------------------------------------------------------

def grow_extent(conn: Connection, geometry: shapely.Geometry) -> None:
    """Widen the recorded extent of the assessments layer to cover ``geometry`` (WGS84).

    Only the embedded GeoPackage keeps one (GDAL readers use it); elsewhere a no-op.
    """
    if conn.dialect.name != "sqlite":
        return
    minx, miny, maxx, maxy = geometry.bounds
    conn.execute(sa.text(
        "UPDATE gpkg_contents SET last_change = :t, "
        "min_x = min(coalesce(min_x, :a), :a), min_y = min(coalesce(min_y, :b), :b), "
        "max_x = max(coalesce(max_x, :c), :c), max_y = max(coalesce(max_y, :d), :d) "
        "WHERE table_name = 'assessments'"),
        {"t": now_iso(), "a": minx, "b": miny, "c": maxx, "d": maxy})


def refresh_extent(conn: Connection) -> None:
    """Recompute the assessments layer's recorded extent from every stored audit (after a
    deletion). GeoPackage only; elsewhere a no-op."""
    if conn.dialect.name != "sqlite":
        return
    t = wt.assessments
    geoms = decode_geoms("sqlite", [r[0] for r in conn.execute(sa.select(t.c.geom))])
    geoms = geoms[~pd.isna(geoms)]
    bounds = shapely.total_bounds(geoms) if len(geoms) else [np.nan] * 4
    b = [None if np.isnan(v) else float(v) for v in bounds]
    conn.execute(sa.text(
        "UPDATE gpkg_contents SET last_change = :t, min_x = :a, min_y = :b, max_x = :c, "
        "max_y = :d WHERE table_name = 'assessments'"),
        {"t": now_iso(), "a": b[0], "b": b[1], "c": b[2], "d": b[3]})
