"""Who sees what: reporter contact never leaves staff views; sensitive places are blurred.

Public views and exports: no contact (it lives in a table they never read),
and concerns in sensitive categories are moved to the centre of a square
grid cell (``grid_m`` metres, default 250) with their description, address
and answers blanked, since those can point at a person. The grid is laid in
the UTM zone of each point's own longitude, so a place always falls in the
same cell whatever else is exported with it.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

import geopandas as gpd
import numpy as np
import pyproj
from numpy.typing import NDArray

from layers.crs import WGS84
from layers.points import Points


class Role(StrEnum):
    PUBLIC = "public"
    RESIDENT = "resident"
    COORDINATOR = "coordinator"
    OFFICER = "officer"
    PLANNER = "planner"
    ADMIN = "admin"


STAFF = frozenset({Role.COORDINATOR, Role.OFFICER, Role.PLANNER, Role.ADMIN})
DEFAULT_GRID_M = 250.0


def sees_exact_sensitive(role: Role) -> bool:
    """Staff see sensitive concerns where they are; the public and residents do not."""
    return Role(role) in STAFF


def utm_epsg(lon: float, lat: float) -> int:
    zone = int(np.floor((lon + 180) / 6)) % 60 + 1
    return (32600 if lat >= 0 else 32700) + zone


def snap_to_grid(points: gpd.GeoSeries, grid_m: float) -> gpd.GeoSeries:
    """Each WGS84 point moved to the centre of its ``grid_m`` cell (in its own UTM zone)."""
    out_x, out_y = snap_xy(np.asarray(points.x, dtype=float), np.asarray(points.y, dtype=float),
                           grid_m)
    return gpd.GeoSeries(gpd.points_from_xy(out_x, out_y), index=points.index, crs=WGS84)


def snap_xy(x: NDArray[np.float64], y: NDArray[np.float64], grid_m: float
            ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """:func:`snap_to_grid` on coordinate arrays (x = longitude, y = latitude, WGS84):
    each point moved to the centre of its ``grid_m`` cell in its own UTM zone."""
    if grid_m <= 0:
        raise ValueError(f"grid_m must be positive, got {grid_m}")
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    out_x, out_y = x.copy(), y.copy()
    # utm_epsg for every point at once
    zones = (np.where(y >= 0, 32600, 32700)
             + np.floor((x + 180) / 6).astype(np.int64) % 60 + 1) if len(x) else x
    for epsg in np.unique(zones):
        m = zones == epsg
        fwd = pyproj.Transformer.from_crs(WGS84, int(epsg), always_xy=True)
        ex, ny = fwd.transform(x[m], y[m])
        cx = (np.floor(np.asarray(ex) / grid_m) + 0.5) * grid_m
        cy = (np.floor(np.asarray(ny) / grid_m) + 0.5) * grid_m
        out_x[m], out_y[m] = fwd.transform(cx, cy, direction="INVERSE")
    return out_x, out_y


def concerns_for(role: Role, concerns: gpd.GeoDataFrame, sensitive_codes: Iterable[str], *,
                 grid_m: float = DEFAULT_GRID_M) -> gpd.GeoDataFrame:
    """The concerns as ``role`` may see them, with a ``location_precision`` column."""
    out = concerns.copy()
    out["location_precision"] = "exact"
    if sees_exact_sensitive(role) or out.empty:
        return out
    hidden = out["service_code"].isin(list(sensitive_codes)).to_numpy()
    if hidden.any():
        snapped = snap_to_grid(out.geometry[hidden], grid_m)
        geoms = np.asarray(out.geometry.values, dtype=object)
        geoms[hidden] = np.asarray(snapped.values, dtype=object)
        out = out.set_geometry(gpd.GeoSeries(geoms, index=out.index, crs=WGS84))
        for col in ("description", "address", "attributes"):
            if col in out.columns:
                out[col] = out[col].astype(object)
                out.loc[hidden, col] = None
        out.loc[hidden, "location_precision"] = f"{grid_m:g} m grid"
    return out


def points_for(role: Role, points: Points, *, grid_m: float = DEFAULT_GRID_M) -> Points:
    """:func:`concerns_for` on coordinate arrays: the ``marked`` points (those of
    sensitive categories, as :meth:`layers.store.Store.read_points` flagged them) moved
    to the centre of their grid cell unless ``role`` sees them exactly."""
    if sees_exact_sensitive(role) or not points.marked.any():
        return points
    xy = np.array(points.xy)
    hidden = points.marked
    xy[hidden, 0], xy[hidden, 1] = snap_xy(xy[hidden, 0], xy[hidden, 1], grid_m)
    return Points(xy, hidden)
