"""Sightlines: the isovist of a point among building footprints, computed exactly.

The isovist is the area visible from a point (Benedikt, M. L. (1979), "To take
hold of space: isovists and isovist fields", Environment and Planning B 6,
47-65), here within a view distance. It is computed by an angular sweep: the
angles of every wall end seen from the point and of every place a wall crosses
the view circle cut the circle into sectors; inside one sector the nearest wall
is the same all the way across (footprints are merged first, so no two walls
cross), so one ray at the sector's middle finds it. The sector's visible part is
then the triangle to that wall (exact) or, with no wall before the view
distance, the circular sector (exact). The area is the sum of those pieces, so
it has no sampling error; the polygon drawn on maps follows the view circle
with a vertex at least every :data:`ARC_STEP_DEG` degrees (its area is within
``1 - sin(s)/s`` of the exact one: 0.005% at 1 degree).

A viewpoint exactly on a wall (a click on a footprint's edge) sees nothing
through that wall: it is moved :data:`NUDGE_M` off the wall, to the outside. A
point inside a building has no isovist (:class:`IsovistError`).

Only footprints that meet the view circle are looked at: an R-tree (shapely's
STRtree) over the merged footprints picks them. Coordinates are metres in a
projected CRS.
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
#: Largest angle between two vertices where the drawn polygon follows the view circle.
ARC_STEP_DEG = 1.0
#: How far a viewpoint on a wall is moved off it, to the outside, in metres.
NUDGE_M = 0.01
#: A viewpoint closer than this to a wall is on it (metres; float noise of projection).
ON_WALL_M = 1e-6
#: Segments tested against all sector rays at once; bounds memory to rays x CHUNK floats.
CHUNK_SEGMENTS = 2048
_TWO_PI = 2.0 * math.pi


class IsovistError(UnusableInputError):
    """No isovist at this point (it lies inside a building)."""


@dataclass(frozen=True)
class Isovist:
    polygon: shapely.Polygon  # in the metric CRS it was computed in; arcs drawn as chords
    radius_m: float
    area_m2: float  # exact (triangles and circular sectors), not the drawn polygon's
    origin: tuple[float, float]  # the viewpoint used (moved off a wall when it was on one)

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


def nearest_hits(theta: NDArray[np.float64], a: NDArray[np.float64],
                 b: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.intp]]:
    """Along each ray from the origin at angles ``theta``, the distance to the first of the
    segments ``a[k]``-``b[k]`` (origin-relative) it meets and that segment's index
    (``inf`` and -1 where it meets none)."""
    dx, dy = np.cos(theta)[:, None], np.sin(theta)[:, None]
    best = np.full(len(theta), np.inf)
    which = np.full(len(theta), -1, dtype=np.intp)
    for lo in range(0, len(a), CHUNK_SEGMENTS):
        ax, ay = a[lo:lo + CHUNK_SEGMENTS, 0], a[lo:lo + CHUNK_SEGMENTS, 1]
        ex = b[lo:lo + CHUNK_SEGMENTS, 0] - ax
        ey = b[lo:lo + CHUNK_SEGMENTS, 1] - ay
        denom = dx * ey - dy * ex  # (rays, m)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = (ax * ey - ay * ex) / denom
            s = (ax * dy - ay * dx) / denom
        hit = (denom != 0) & (t > 0) & (s >= 0) & (s <= 1)
        t = np.where(hit, t, np.inf)
        k = t.argmin(axis=1)
        tk = t[np.arange(len(theta)), k]
        better = tk < best
        best[better] = tk[better]
        which[better] = k[better] + lo
    return best, which


def _circle_angles(a: NDArray[np.float64], b: NDArray[np.float64],
                   radius: float) -> NDArray[np.float64]:
    """Angles of the points where segments ``a``-``b`` (origin-relative) cross the circle."""
    e = b - a
    qa = (e * e).sum(axis=1)
    qb = 2 * (a * e).sum(axis=1)
    qc = (a * a).sum(axis=1) - radius * radius
    disc = qb * qb - 4 * qa * qc
    ok = (disc >= 0) & (qa > 0)
    root = np.sqrt(np.where(ok, disc, 0.0))
    out = []
    for sign in (-1.0, 1.0):
        with np.errstate(divide="ignore", invalid="ignore"):
            s = (-qb + sign * root) / (2 * qa)
        keep = ok & (s >= 0) & (s <= 1)
        p = a[keep] + s[keep, None] * e[keep]
        out.append(np.arctan2(p[:, 1], p[:, 0]))
    return np.concatenate(out)


def _segment_distance(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    """Distance from the origin to each segment ``a``-``b``."""
    e = b - a
    qa = (e * e).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.clip(-(a * e).sum(axis=1) / qa, 0.0, 1.0)
    s = np.where(qa > 0, s, 0.0)
    p = a + s[:, None] * e
    return np.hypot(p[:, 0], p[:, 1])


def sweep(origin: tuple[float, float], starts: NDArray[np.float64], ends: NDArray[np.float64],
          *, radius: float, arc_step_deg: float = ARC_STEP_DEG
          ) -> tuple[shapely.Polygon, float]:
    """The visible region from ``origin`` among wall segments that do not cross each other
    (they may share ends): its polygon (arcs drawn every ``arc_step_deg`` at most) and its
    exact area, in the segments' units."""
    ox, oy = origin
    a = starts - (ox, oy)
    b = ends - (ox, oy)
    keep = (_segment_distance(a, b) < radius) & ((a != b).any(axis=1))
    a, b = a[keep], b[keep]
    angles = np.concatenate([np.arctan2(a[:, 1], a[:, 0]), np.arctan2(b[:, 1], b[:, 0]),
                             _circle_angles(a, b, radius), [0.0]]) % _TWO_PI
    cuts = np.unique(np.concatenate([angles, [_TWO_PI]]))
    lo, hi = cuts[:-1], cuts[1:]
    wide = hi - lo > 1e-12
    lo, hi = lo[wide], hi[wide]
    dist, seg = nearest_hits((lo + hi) / 2, a, b)
    walled = dist < radius
    area = 0.5 * radius * radius * float((hi - lo)[~walled].sum())
    # a walled sector's two corners: where its edge rays meet the wall's line
    k = seg[walled]
    ea = b[k] - a[k]
    cross_a = a[k, 0] * ea[:, 1] - a[k, 1] * ea[:, 0]
    corners = []
    for th in (lo[walled], hi[walled]):
        d = np.column_stack([np.cos(th), np.sin(th)])
        t = cross_a / (d[:, 0] * ea[:, 1] - d[:, 1] * ea[:, 0])
        corners.append(d * np.minimum(t, radius)[:, None])
    p, q = corners
    area += 0.5 * float((p[:, 0] * q[:, 1] - p[:, 1] * q[:, 0]).sum())
    # the outline, sector by sector in angle order: a walled sector's two corners, an
    # open one's arc with a vertex at least every arc step
    step = math.radians(arc_step_deg)
    n_arc = np.maximum(1, np.ceil((hi - lo) / step)).astype(np.intp)
    count = np.where(walled, 2, n_arc + 1)
    sector = np.repeat(np.arange(len(lo)), count)
    j = np.arange(len(sector)) - np.repeat(np.cumsum(count) - count, count)
    th = lo[sector] + (hi - lo)[sector] * j / n_arc[sector]
    ring = radius * np.column_stack([np.cos(th), np.sin(th)])
    on_wall = walled[sector]
    wall_row = (np.cumsum(walled) - 1)[sector]
    first = on_wall & (j == 0)
    ring[first] = p[wall_row[first]]
    ring[on_wall & (j == 1)] = q[wall_row[on_wall & (j == 1)]]
    ring += np.array([ox, oy])
    poly = shapely.Polygon(ring)
    if not poly.is_valid:  # sectors of zero depth where the viewpoint touches a corner
        fixed = shapely.make_valid(poly)
        parts = [g for g in shapely.get_parts(fixed) if isinstance(g, shapely.Polygon)]
        poly = max(parts, key=lambda g: g.area) if parts else shapely.Polygon()
    return poly, area


class Sightlines:
    """Isovists among one set of building footprints (metric CRS), merged and indexed once."""

    def __init__(self, footprints: NDArray[np.object_] | gpd.GeoSeries | list[shapely.Geometry],
                 *, radius_m: float = DEFAULT_RADIUS_M,
                 arc_step_deg: float = ARC_STEP_DEG) -> None:
        if radius_m <= 0:
            raise UnusableInputError(f"the view distance must be positive, got {radius_m}")
        if not 0 < arc_step_deg <= 10:
            raise UnusableInputError(f"the arc step must be in (0, 10] degrees, "
                                     f"got {arc_step_deg}")
        geoms = np.asarray(footprints, dtype=object)
        keep = ~shapely.is_empty(geoms) & shapely.is_valid_input(geoms)
        geoms = shapely.make_valid(geoms[keep])
        # overlapping footprints would give crossing walls; their union has none
        merged = shapely.union_all(geoms) if len(geoms) else shapely.Polygon()
        parts = [g for g in shapely.get_parts(merged) if isinstance(g, shapely.Polygon)]
        self.footprints: NDArray[np.object_] = np.array(parts, dtype=object)
        self.tree = shapely.STRtree(self.footprints)
        starts, ends, owner = [], [], []
        for n, part in enumerate(self.footprints):
            s, e = wall_segments(np.array([part], dtype=object))
            starts.append(s)
            ends.append(e)
            owner.append(np.full(len(s), n))
        self._starts = np.vstack(starts) if starts else np.empty((0, 2))
        self._ends = np.vstack(ends) if ends else np.empty((0, 2))
        owners = np.concatenate(owner) if owner else np.empty(0, dtype=np.intp)
        self._first = np.searchsorted(owners, np.arange(len(self.footprints) + 1))
        self.radius_m = float(radius_m)
        self.arc_step_deg = float(arc_step_deg)

    def candidates(self, x: float, y: float) -> NDArray[np.intp]:
        """Indices of the merged footprints within the view distance of (x, y)."""
        hits: NDArray[np.intp] = self.tree.query(shapely.Point(x, y), predicate="dwithin",
                                                 distance=self.radius_m)
        return np.sort(hits)

    def _walls(self, idx: NDArray[np.intp]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        rows = np.concatenate([np.arange(self._first[i], self._first[i + 1]) for i in idx]
                              ) if len(idx) else np.empty(0, dtype=np.intp)
        return self._starts[rows], self._ends[rows]

    def viewpoint(self, x: float, y: float, idx: NDArray[np.intp] | None = None
                  ) -> tuple[float, float]:
        """(x, y), or the nearest point :data:`NUDGE_M` outside the wall it lies on.

        Raises
        ------
        IsovistError
            When the point lies inside a building.
        """
        idx = self.candidates(x, y) if idx is None else idx
        near = self.footprints[idx]
        point = shapely.Point(x, y)
        if not len(near):
            return x, y
        if bool(np.any(shapely.contains_properly(near, point))):
            raise IsovistError("the point lies inside a building: choose a point outside")
        starts, ends = self._walls(idx)
        rel_a, rel_b = starts - (x, y), ends - (x, y)
        on = np.flatnonzero(_segment_distance(rel_a, rel_b) <= ON_WALL_M)
        if not len(on):
            return x, y
        # try the walls' normals (and, at a corner, their sum) until a nudge lands outside
        e = ends[on] - starts[on]
        normals = np.column_stack([-e[:, 1], e[:, 0]]) / np.hypot(e[:, 0], e[:, 1])[:, None]
        tries = [normals.sum(axis=0), -normals.sum(axis=0), *normals, *(-normals)]
        for n in tries:
            length = math.hypot(n[0], n[1])
            if length < 1e-9:
                continue
            cx, cy = x + NUDGE_M * n[0] / length, y + NUDGE_M * n[1] / length
            if not bool(np.any(shapely.intersects(near, shapely.Point(cx, cy)))):
                return cx, cy
        raise IsovistError("the point lies on a wall with buildings on every side: "
                           "choose a point outside")

    def at(self, x: float, y: float) -> Isovist:
        """The isovist at (x, y) (see the module).

        Raises
        ------
        IsovistError
            When the point lies inside a building.
        """
        idx = self.candidates(x, y)
        vx, vy = self.viewpoint(x, y, idx)
        if (vx, vy) != (x, y):
            idx = self.candidates(vx, vy)
        starts, ends = self._walls(idx)
        poly, area = sweep((vx, vy), starts, ends, radius=self.radius_m,
                           arc_step_deg=self.arc_step_deg)
        return Isovist(poly, self.radius_m, area, (vx, vy))

    def at_unindexed(self, x: float, y: float) -> Isovist:
        """The same isovist with every wall tested (the benchmark's baseline)."""
        vx, vy = self.viewpoint(x, y, np.arange(len(self.footprints)))
        poly, area = sweep((vx, vy), self._starts, self._ends, radius=self.radius_m,
                           arc_step_deg=self.arc_step_deg)
        return Isovist(poly, self.radius_m, area, (vx, vy))


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
               radius_m: float = DEFAULT_RADIUS_M) -> PlacedIsovist:
    """The isovist at (lon, lat) among ``buildings`` (any CRS; footprints).

    Raises
    ------
    IsovistError
        When the point lies inside a building.
    """
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
    iso = Sightlines(footprints, radius_m=radius_m).at(xy.x, xy.y)
    return PlacedIsovist(lon, lat, iso, crs)
