"""Edge-case geometries the validators are parametrised over (WGS84, near the sample district)."""

from __future__ import annotations

import shapely

X, Y = -94.58, 39.04
D = 0.001

SQUARE = shapely.box(X, Y, X + D, Y + D)
BOWTIE = shapely.Polygon([(X, Y), (X + D, Y + D), (X + D, Y), (X, Y + D), (X, Y)])
MULTI = shapely.MultiPolygon([SQUARE, shapely.box(X + 2 * D, Y, X + 3 * D, Y + D)])
LINE = shapely.LineString([(X, Y), (X + D, Y + D)])
POINT = shapely.Point(X, Y)
EMPTY_POLYGON = shapely.Polygon()
# A zero-area "polygon": make_valid turns it into a line, which has no area.
SLIVER = shapely.Polygon([(X, Y), (X + D, Y), (X + 2 * D, Y), (X, Y)])

#: (name, geometry, reason it is rejected as a neighborhood, or None when accepted)
POLYGON_CASES = [
    ("square", SQUARE, None),
    ("multipolygon", MULTI, None),
    ("bowtie (self-intersecting)", BOWTIE, None),  # repaired
    ("empty", EMPTY_POLYGON, "no coordinates"),
    ("missing", None, "no coordinates"),
    ("line", LINE, "wrong geometry type"),
    ("point", POINT, "wrong geometry type"),
    ("zero-area sliver", SLIVER, "invalid geometry"),
]
