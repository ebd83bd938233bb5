"""Coordinate reference systems and the project area.

Stored coordinates are WGS84 longitude/latitude (EPSG:4326). Distances,
areas and buffers are computed in a metric CRS: the UTM zone that
:func:`metric_crs` picks for the data's extent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import geopandas as gpd
import numpy as np
import pyproj
import shapely
from numpy.typing import NDArray

from layers._i18n import _

WGS84 = pyproj.CRS.from_epsg(4326)


def metric_crs(gdf: gpd.GeoDataFrame | gpd.GeoSeries) -> pyproj.CRS:
    """The UTM CRS for ``gdf``'s extent (metres); ``gdf`` must have a CRS."""
    if gdf.crs is None:
        raise ValueError("metric_crs needs data with a CRS, got crs=None")
    crs = gdf.estimate_utm_crs()
    return pyproj.CRS(crs)


def metric_crs_for_bounds(bounds_lonlat: Sequence[float] | NDArray[np.float64]) -> pyproj.CRS:
    """The UTM CRS :func:`metric_crs` picks for WGS84 data of these bounds
    (``(min lon, min lat, max lon, max lat)``, as ``total_bounds`` gives them): it
    depends on the extent alone, so arrays of coordinates need no GeoDataFrame."""
    west, south, east, north = (float(v) for v in bounds_lonlat)
    return _utm_for(west, south, east, north)


@lru_cache(maxsize=64)
def _utm_for(west: float, south: float, east: float, north: float) -> pyproj.CRS:
    # each answer is a query of PROJ's database; a page asks again on every rerun
    corners = gpd.GeoSeries(gpd.points_from_xy([west, east], [south, north]), crs=WGS84)
    return metric_crs(corners)


def latlon(point: shapely.Point | Sequence[float]) -> list[float]:
    """A WGS84 position as ``[lat, lon]``, the order folium and Leaflet want.

    The one place where the project swaps coordinate order for the web map.

    Parameters
    ----------
    point : shapely.Point or sequence of two floats
        In: a WGS84 point whose ``x`` is the longitude and ``y`` the latitude, or a
        ``(lon, lat)`` pair in the same x, y order (as in shapely coordinates and
        ``total_bounds``); a third value (height) is ignored.

    Returns
    -------
    list of float
        Out: ``[lat, lon]`` in degrees.

    Raises
    ------
    ValueError
        When the point is empty, is another geometry type, or the pair does not hold
        two (or three) numbers.
    """
    if isinstance(point, shapely.Point):
        if point.is_empty:
            raise ValueError("latlon needs a point with coordinates, got an empty point")
        return [float(point.y), float(point.x)]
    if isinstance(point, shapely.Geometry):
        raise ValueError(f"latlon needs a Point or a (lon, lat) pair, got a {point.geom_type}")
    pair = list(point)
    if len(pair) not in (2, 3):
        raise ValueError(f"latlon needs a (lon, lat) pair, got {len(pair)} values: {pair!r}")
    lon, lat = pair[0], pair[1]
    return [float(lat), float(lon)]


def haversine_km(
    lon: NDArray[np.float64], lat: NDArray[np.float64], lon0: float, lat0: float
) -> NDArray[np.float64]:
    """Great-circle distance in km from (lon0, lat0) to each (lon, lat), in degrees."""
    r = 6371.0088
    p1, p2 = np.radians(lat), np.radians(lat0)
    dphi = p2 - p1
    dlmb = np.radians(lon0) - np.radians(lon)
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    km: NDArray[np.float64] = 2 * r * np.arcsin(np.sqrt(np.clip(a, 0, 1)))
    return km


@dataclass(frozen=True)
class ProjectArea:
    """Where data may lie.

    Either a polygon (WGS84) grown by ``margin_m``, or, with no polygon, a
    circle of ``radius_km`` around a centre.
    """

    polygon: shapely.Geometry | None = None
    margin_m: float = 0.0
    center: tuple[float, float] | None = None  # (lon, lat)
    radius_km: float | None = None

    def describe(self) -> str:
        if self.polygon is not None:
            return _("the stored neighborhoods' extent plus {km:g} km").format(
                km=self.margin_m / 1000)
        return _("{km:g} km of the median point of the import").format(km=self.radius_km)

    def distance_outside_km(self, points: gpd.GeoSeries) -> NDArray[np.float64]:
        """For each WGS84 geometry: how far (km) it lies outside the area; 0 when inside.

        Empty or missing geometries give NaN.
        """
        is_point = np.asarray(points.geom_type == "Point")
        reps = points if is_point.all() else points.representative_point()
        lon = np.asarray(reps.x, dtype=float)
        lat = np.asarray(reps.y, dtype=float)
        if self.polygon is None:
            assert self.center is not None and self.radius_km is not None
            d = haversine_km(lon, lat, *self.center)
            return np.where(np.isnan(d), np.nan, np.maximum(d - self.radius_km, 0.0))
        poly = gpd.GeoSeries([self.polygon], crs=WGS84)
        crs = metric_crs(poly)
        region = poly.to_crs(crs).iloc[0]
        pts = gpd.GeoSeries(reps.values, crs=WGS84).to_crs(crs)
        d = np.asarray(pts.distance(region), dtype=float) - self.margin_m
        return np.where(np.isnan(d), np.nan, np.maximum(d, 0.0) / 1000.0)


def area_from_points(lon: NDArray[np.float64], lat: NDArray[np.float64],
                     radius_km: float) -> ProjectArea | None:
    """A circle of ``radius_km`` around the coordinate-wise median (robust to outliers)."""
    ok = np.isfinite(lon) & np.isfinite(lat)
    if not ok.any():
        return None
    return ProjectArea(center=(float(np.median(lon[ok])), float(np.median(lat[ok]))),
                       radius_km=radius_km)


def area_from_polygons(polygons: gpd.GeoSeries, margin_m: float) -> ProjectArea | None:
    """The extent (convex hull) of WGS84 polygons grown by ``margin_m`` metres."""
    geoms = polygons[~(polygons.isna() | polygons.is_empty)]
    if geoms.empty:
        return None
    hull = shapely.convex_hull(shapely.union_all(shapely.make_valid(geoms.values)))
    return ProjectArea(polygon=hull, margin_m=margin_m)
