"""Points in polygons, shared by the store's embedded backend and the overlay.

The rule: a point belongs to the first polygon, in the layer's order, that it
intersects (so a point on a shared boundary goes to the first of the two, and a
point on the outer edge counts). Points are handled as coordinate arrays sorted by x:
each polygon, prepared once, tests only the points inside its bounding box that no
earlier polygon took (``shapely.intersects_xy``). Anything other than a point (a
line, a polygon, a multipoint) goes through one STRtree query with the same rule.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

#: How many candidate points a polygon must have before its edges are indexed.
PREPARE_FROM = 64


def _first_hits(pi: np.ndarray, gi: np.ndarray, out: np.ndarray) -> None:
    """From (geometry, polygon) pairs, each geometry's lowest polygon position."""
    order = np.lexsort((gi, pi))
    pi, gi = pi[order], gi[order]
    first = np.ones(len(pi), dtype=bool)
    first[1:] = pi[1:] != pi[:-1]
    out[pi[first]] = gi[first]


def assign(points: gpd.GeoSeries, polygons: gpd.GeoSeries) -> np.ndarray:
    """For each point, the position (0-based) of the polygon containing it, or -1."""
    out = np.full(len(points), -1, dtype=np.int64)
    if len(points) == 0 or len(polygons) == 0:
        return out
    geoms = np.asarray(points.values, dtype=object)
    shapes = np.asarray(polygons.values, dtype=object)
    present = ~shapely.is_missing(geoms)
    single = present.copy()
    single[present] = (shapely.get_type_id(geoms[present]) == 0) & ~shapely.is_empty(
        geoms[present])
    other = np.flatnonzero(present & ~single)
    if len(other):
        pi, gi = shapely.STRtree(shapes).query(geoms[other], predicate="intersects")
        sub = np.full(len(other), -1, dtype=np.int64)
        _first_hits(pi, gi, sub)
        out[other] = sub
    idx = np.flatnonzero(single)
    if not len(idx):
        return out
    x, y = shapely.get_x(geoms[idx]), shapely.get_y(geoms[idx])
    order = np.argsort(x, kind="stable")
    xs = x[order]
    taken = np.full(len(idx), -1, dtype=np.int64)
    bounds = shapely.bounds(shapes)
    # copies are prepared: the caller's polygons (perhaps shared across threads) are left
    # as they were
    mine = shapely.from_wkb(shapely.to_wkb(shapes))
    for j, shape in enumerate(mine):
        if shape is None or shapely.is_empty(shape):
            continue
        minx, miny, maxx, maxy = bounds[j]
        lo, hi = np.searchsorted(xs, minx, "left"), np.searchsorted(xs, maxx, "right")
        cand = order[lo:hi]
        cand = cand[(y[cand] >= miny) & (y[cand] <= maxy) & (taken[cand] < 0)]
        if not len(cand):
            continue
        if len(cand) > PREPARE_FROM:  # an index on the edges pays off for many points
            shapely.prepare(shape)
        hit = shapely.intersects_xy(shape, x[cand], y[cand])
        taken[cand[hit]] = j
    out[idx] = taken
    return out


def counts(points: gpd.GeoSeries, polygons: gpd.GeoSeries) -> np.ndarray:
    """How many points fall in each polygon (aligned with ``polygons``)."""
    which = assign(points, polygons)
    return np.bincount(which[which >= 0], minlength=len(polygons))
