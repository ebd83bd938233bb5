"""Sightlines: the isovist of a point among building footprints.

The isovist is the area visible from a point (Benedikt, M. L. (1979), "To take
hold of space: isovists and isovist fields", Environment and Planning B 6,
47-65). We compute it by ray casting: ``rays`` rays at equal angles, each
stopped by the first building wall it meets or by the view distance. The
polygon through the ray ends is the isovist; its area over the full circle's
area is its *openness* (1 in an open field, 0 when walled in).

Only buildings whose footprint meets the view circle can stop a ray, so an
R-tree (shapely's STRtree) picks them; the rest of the layer is never looked
at. Coordinates are metres in a projected CRS.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import CRS

from layers.crs import WGS84, metric_crs
from layers.errors import UnusableInputError

DEFAULT_RADIUS_M = 100.0
DEFAULT_RAYS = 360
#: Segments tested against all rays at once; bounds memory to rays x CHUNK floats.
CHUNK_SEGMENTS = 2048


class IsovistError(UnusableInputError):
    """No isovist at this point (it lies inside a building)."""


@dataclass(frozen=True)
class Isovist:
    polygon: shapely.Polygon  # in the metric CRS it was computed in
    radius_m: float
    distances: NDArray[np.float64]  # per ray, metres to the first wall (or the radius)

    @property
    def area_m2(self) -> float:
        return float(self.polygon.area)

    @property
    def openness(self) -> float:
        """Visible area as a share of the full view circle (0..1)."""
        return self.area_m2 / (math.pi * self.radius_m**2)


def wall_segments(polygons: NDArray[np.object_]) -> tuple[NDArray[np.float64],
                                                          NDArray[np.float64]]:
    """Start and end points (two ``(m, 2)`` arrays) of every edge of ``polygons``' rings."""
    if len(polygons) == 0:
        empty = np.empty((0, 2))
        return empty, empty
    rings = shapely.get_parts(shapely.boundary(polygons))
    coords, idx = shapely.get_coordinates(rings, return_index=True)
    same = idx[:-1] == idx[1:]
    return coords[:-1][same], coords[1:][same]


def cast(origin: tuple[float, float], starts: NDArray[np.float64], ends: NDArray[np.float64],
         *, radius: float, rays: int) -> NDArray[np.float64]:
    """Distance along each of ``rays`` equal-angle rays to the nearest segment (<= radius)."""
    theta = np.arange(rays) * (2 * np.pi / rays)
    dx, dy = np.cos(theta)[:, None], np.sin(theta)[:, None]
    best = np.full(rays, radius)
    ox, oy = origin
    for lo in range(0, len(starts), CHUNK_SEGMENTS):
        a = starts[lo:lo + CHUNK_SEGMENTS]
        e = ends[lo:lo + CHUNK_SEGMENTS] - a
        ax, ay = a[:, 0] - ox, a[:, 1] - oy
        ex, ey = e[:, 0], e[:, 1]
        denom = dx * ey - dy * ex  # (rays, m)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = (ax * ey - ay * ex) / denom
            s = (ax * dy - ay * dx) / denom
        hit = (denom != 0) & (t > 1e-9) & (s >= 0) & (s <= 1)
        t = np.where(hit, t, np.inf)
        np.minimum(best, t.min(axis=1), out=best)
    return best


def polygon_from_rays(origin: tuple[float, float], distances: NDArray[np.float64]
                      ) -> shapely.Polygon:
    theta = np.arange(len(distances)) * (2 * np.pi / len(distances))
    xs = origin[0] + distances * np.cos(theta)
    ys = origin[1] + distances * np.sin(theta)
    poly = shapely.Polygon(np.column_stack([xs, ys]))
    if not poly.is_valid:  # rays of length ~0 where the point touches a wall
        fixed = shapely.make_valid(poly)
        parts = [g for g in shapely.get_parts(fixed) if isinstance(g, shapely.Polygon)]
        poly = max(parts, key=lambda g: g.area) if parts else shapely.Polygon()
    return poly


class Sightlines:
    """Isovists among one set of building footprints (metric CRS), indexed once."""

    def __init__(self, footprints: NDArray[np.object_] | gpd.GeoSeries, *,
                 radius_m: float = DEFAULT_RADIUS_M, rays: int = DEFAULT_RAYS) -> None:
        if radius_m <= 0:
            raise UnusableInputError(f"the view distance must be positive, got {radius_m}")
        if rays < 8:
            raise UnusableInputError(f"at least 8 rays are needed, got {rays}")
        geoms = np.asarray(footprints, dtype=object)
        keep = ~shapely.is_empty(geoms) & shapely.is_valid_input(geoms)
        self.footprints = geoms[keep]
        self.tree = shapely.STRtree(self.footprints)
        self.radius_m = float(radius_m)
        self.rays = int(rays)

    def candidates(self, x: float, y: float) -> NDArray[np.intp]:
        # a buffer is inscribed in the true circle; grow it so no wall is missed
        circle = shapely.Point(x, y).buffer(self.radius_m / math.cos(math.pi / 64), quad_segs=16)
        hits: NDArray[np.intp] = self.tree.query(circle, predicate="intersects")
        return hits

    def at(self, x: float, y: float) -> Isovist:
        idx = self.candidates(x, y)
        near = self.footprints[idx]
        point = shapely.Point(x, y)
        if len(near) and bool(np.any(shapely.contains_properly(near, point))):
            raise IsovistError("the point lies inside a building: choose a point outside")
        starts, ends = wall_segments(near)
        d = cast((x, y), starts, ends, radius=self.radius_m, rays=self.rays)
        return Isovist(polygon_from_rays((x, y), d), self.radius_m, d)

    def at_unindexed(self, x: float, y: float) -> Isovist:
        """The same isovist with every footprint tested (the benchmark's baseline)."""
        point = shapely.Point(x, y)
        if bool(np.any(shapely.contains_properly(self.footprints, point))):
            raise IsovistError("the point lies inside a building: choose a point outside")
        starts, ends = wall_segments(self.footprints)
        d = cast((x, y), starts, ends, radius=self.radius_m, rays=self.rays)
        return Isovist(polygon_from_rays((x, y), d), self.radius_m, d)


@dataclass(frozen=True)
class PlacedIsovist:
    """An isovist at a WGS84 point, with its polygon back in WGS84 for the map."""

    lon: float
    lat: float
    isovist: Isovist
    crs: CRS

    @property
    def polygon_wgs84(self) -> shapely.Geometry:
        return gpd.GeoSeries([self.isovist.polygon], crs=self.crs).to_crs(WGS84).iloc[0]


def isovist_at(lon: float, lat: float, buildings: gpd.GeoDataFrame, *,
               radius_m: float = DEFAULT_RADIUS_M, rays: int = DEFAULT_RAYS) -> PlacedIsovist:
    """The isovist at (lon, lat) among ``buildings`` (any CRS; footprints)."""
    point = gpd.GeoSeries([shapely.Point(lon, lat)], crs=WGS84)
    crs = metric_crs(point)
    xy = point.to_crs(crs).iloc[0]
    near = buildings
    if len(buildings):
        # project only the footprints near the point (a generous box in degrees)
        pad = (radius_m * 3) / 111_000 / max(math.cos(math.radians(lat)), 0.1)
        b = buildings.to_crs(WGS84) if buildings.crs != WGS84 else buildings
        near = b.cx[lon - pad:lon + pad, lat - pad:lat + pad]
    footprints = near.geometry.to_crs(crs).values if len(near) else np.empty(0, dtype=object)
    iso = Sightlines(footprints, radius_m=radius_m, rays=rays).at(xy.x, xy.y)
    return PlacedIsovist(lon, lat, iso, crs)
