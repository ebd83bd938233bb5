"""GeoPackage geometry blobs and the GeoPackage core tables.

A GeoPackage (OGC 12-128r18) is a SQLite file; each geometry is stored as a
"GeoPackageBinary" blob: the bytes ``GP``, a version byte (0), a flags byte,
the SRS id (int32), an optional envelope of doubles, then standard WKB.
Flags bit 0 is the byte order (1 = little endian) and bits 1-3 the envelope
kind (0 none, 1 = minx, maxx, miny, maxy). Writing these ourselves keeps
every write inside our own SQLite transaction.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

import numpy as np
import shapely
from numpy.typing import NDArray

SRS_ID = 4326
_HEADER_POINT = b"GP\x00\x01" + struct.pack("<i", SRS_ID)  # little endian, no envelope
_HEADER_ENV = b"GP\x00\x03" + struct.pack("<i", SRS_ID)  # little endian, xy envelope
_HEADER_EMPTY = b"GP\x00\x11" + struct.pack("<i", SRS_ID)  # empty flag set
_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}
#: The fixed layout of a 2D point as :func:`encode` writes it: the header (little
#: endian, no envelope, SRS 4326), then little-endian WKB of type 1, then x and y as
#: two little-endian doubles. A blob of this length that starts with this prefix holds
#: its x at byte 13 and its y at byte 21.
POINT_PREFIX = _HEADER_POINT + b"\x01\x01\x00\x00\x00"
POINT_BLOB_BYTES = len(POINT_PREFIX) + 16

#: GeoPackage's ``application_id`` ("GPKG") and ``user_version`` for version 1.4.
APPLICATION_ID = 0x47504B47
USER_VERSION = 10400


def encode(geoms: NDArray[np.object_]) -> list[bytes | None]:
    """GeoPackageBinary blobs for an array of shapely geometries (WGS84); None stays None."""
    geoms = np.asarray(geoms, dtype=object)
    out: list[bytes | None] = [None] * len(geoms)
    present = ~shapely.is_missing(geoms)
    if not present.any():
        return out
    idx = np.flatnonzero(present)
    g = geoms[idx]
    wkb = shapely.to_wkb(g, byte_order=1, output_dimension=2)
    empty = shapely.is_empty(g)
    points = shapely.get_type_id(g) == 0
    bounds = shapely.bounds(g)
    for k, i in enumerate(idx):
        if empty[k]:
            out[i] = _HEADER_EMPTY + wkb[k]
        elif points[k]:
            out[i] = _HEADER_POINT + wkb[k]
        else:
            minx, miny, maxx, maxy = bounds[k]
            out[i] = _HEADER_ENV + struct.pack("<4d", minx, maxx, miny, maxy) + wkb[k]
    return out


def decode(blobs: list[bytes | None]) -> NDArray[np.object_]:
    """Shapely geometries from GeoPackageBinary blobs; None stays None."""
    wkb: list[bytes | None] = []
    for b in blobs:
        if b is None:
            wkb.append(None)
            continue
        if b[:2] != b"GP":
            raise ValueError("not a GeoPackage geometry blob (missing 'GP' magic)")
        env = (b[3] >> 1) & 0b111
        wkb.append(bytes(b[8 + _ENVELOPE_BYTES[env]:]))
    geoms: NDArray[np.object_] = shapely.from_wkb(np.array(wkb, dtype=object))
    return geoms


def point_xy(joined: bytes) -> NDArray[np.float64]:
    """The ``(n, 2)`` coordinates of ``n`` point blobs of the fixed layout (see
    :data:`POINT_PREFIX`), given joined end to end: x (longitude) then y (latitude).

    Raises
    ------
    ValueError
        When ``joined`` is not a whole number of such blobs.
    """
    if len(joined) % POINT_BLOB_BYTES:
        raise ValueError(f"point blobs of the fixed layout are {POINT_BLOB_BYTES} bytes "
                         f"each, got {len(joined)} bytes in all")
    rows = np.frombuffer(joined, dtype=np.uint8).reshape(-1, POINT_BLOB_BYTES)
    if not (rows[:, :len(POINT_PREFIX)] == np.frombuffer(POINT_PREFIX, np.uint8)).all():
        raise ValueError("not every blob is a little-endian 2D point without an envelope")
    xy: NDArray[np.float64] = np.ascontiguousarray(rows[:, len(POINT_PREFIX):]).view("<f8")
    return xy.astype(np.float64, copy=False)


def point_coordinates(blobs: Sequence[bytes | None]) -> NDArray[np.float64]:
    """The ``(n, 2)`` coordinates (x = longitude, y = latitude) of GeoPackageBinary blobs,
    without making a shapely geometry for the points of the fixed layout (what
    :func:`encode` writes for every point).

    Other blobs (big endian, with an envelope, 3D, written by another program) are
    decoded with shapely: a point gives its x and y, any other geometry a point on its
    surface (:func:`shapely.point_on_surface`). None and empty geometries give NaN.
    """
    n = len(blobs)
    out = np.full((n, 2), np.nan)
    if not n:
        return out
    prefix = POINT_PREFIX
    fixed = np.fromiter((b is not None and len(b) == POINT_BLOB_BYTES and b[:13] == prefix
                         for b in blobs), dtype=bool, count=n)
    if fixed.any():
        out[fixed] = point_xy(b"".join(b for b, f in zip(blobs, fixed, strict=True)
                                       if f and b is not None))
    rest = np.flatnonzero(~fixed)
    if len(rest):
        geoms = decode([blobs[int(i)] for i in rest])
        present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
        shapes = geoms[present]
        points = shapely.get_type_id(shapes) == 0
        shapes[~points] = shapely.point_on_surface(shapes[~points])
        out[rest[present]] = shapely.get_coordinates(shapes)
    return out


#: GeoPackage core tables (spec section 1.1), with the three SRS rows the spec requires.
CORE_DDL = [
    """CREATE TABLE IF NOT EXISTS gpkg_spatial_ref_sys (
        srs_name TEXT NOT NULL, srs_id INTEGER NOT NULL PRIMARY KEY,
        organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL,
        definition TEXT NOT NULL, description TEXT)""",
    """CREATE TABLE IF NOT EXISTS gpkg_contents (
        table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL,
        identifier TEXT UNIQUE, description TEXT DEFAULT '',
        last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
        min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
        CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id))""",
    """CREATE TABLE IF NOT EXISTS gpkg_geometry_columns (
        table_name TEXT NOT NULL, column_name TEXT NOT NULL,
        geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL,
        z TINYINT NOT NULL, m TINYINT NOT NULL,
        CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
        CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
        CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id))""",
]

WGS84_WKT = (
    'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,'
    'AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,'
    'AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],'
    'AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]'
)

SRS_ROWS = [
    ("Undefined cartesian SRS", -1, "NONE", -1, "undefined",
     "undefined cartesian coordinate reference system"),
    ("Undefined geographic SRS", 0, "NONE", 0, "undefined",
     "undefined geographic coordinate reference system"),
    ("WGS 84 geodetic", 4326, "EPSG", 4326, WGS84_WKT,
     "longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid"),
]
