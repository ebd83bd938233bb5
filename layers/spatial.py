"""Points in polygons, shared by the store's embedded backend and the overlay.

Points are assigned to polygons with one vectorised STRtree query (a point on
a shared boundary goes to the first polygon in the layer's order).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely


def assign(points: gpd.GeoSeries, polygons: gpd.GeoSeries) -> np.ndarray:
    """For each point, the position (0-based) of the polygon containing it, or -1."""
    out = np.full(len(points), -1, dtype=np.int64)
    if len(points) == 0 or len(polygons) == 0:
        return out
    tree = shapely.STRtree(np.asarray(polygons.values, dtype=object))
    pi, gi = tree.query(np.asarray(points.values, dtype=object), predicate="intersects")
    # query returns pairs sorted by point; keep each point's lowest polygon position
    order = np.lexsort((gi, pi))
    pi, gi = pi[order], gi[order]
    first = np.ones(len(pi), dtype=bool)
    first[1:] = pi[1:] != pi[:-1]
    out[pi[first]] = gi[first]
    return out


def counts(points: gpd.GeoSeries, polygons: gpd.GeoSeries) -> np.ndarray:
    """How many points fall in each polygon (aligned with ``polygons``)."""
    which = assign(points, polygons)
    return np.bincount(which[which >= 0], minlength=len(polygons))
