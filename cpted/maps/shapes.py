"""Marker shapes, so that a category is told by its shape as well as by its colour.

Colour alone fails a reader who cannot tell two colours apart (WCAG 1.4.1). Each concern
category gets a shape as well (:func:`category_shapes`): a circle, a square, a triangle,
a diamond... drawn by :class:`ShapeMarker`, Leaflet's circle marker whose SVG path is a
polygon instead of a circle: still one light SVG path per report, styled as before.
The legend draws the same shapes (:func:`shape_svg`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import branca.element
import folium


def _polygon(k: int, *, turn_deg: float = -90.0, size: float = 1.0) -> list[list[float]]:
    """``k`` corners on a circle of radius ``size``, the first at ``turn_deg`` (0 is east,
    -90 north, as screen y grows down)."""
    return [[round(size * math.cos(math.radians(turn_deg + 360 * i / k)), 4),
             round(size * math.sin(math.radians(turn_deg + 360 * i / k)), 4)]
            for i in range(k)]


def _star(points: int, inner: float, size: float) -> list[list[float]]:
    out = []
    for i in range(2 * points):
        r = size if i % 2 == 0 else size * inner
        a = math.radians(-90 + 180 * i / points)
        out.append([round(r * math.cos(a), 4), round(r * math.sin(a), 4)])
    return out


def _cross(width: float, size: float, *, turn_deg: float = 0.0) -> list[list[float]]:
    w, s = width / 2, size
    corners = [(-w, -s), (w, -s), (w, -w), (s, -w), (s, w), (w, w), (w, s), (-w, s),
               (-w, w), (-s, w), (-s, -w), (-w, -w)]
    c, n = math.cos(math.radians(turn_deg)), math.sin(math.radians(turn_deg))
    return [[round(x * c - y * n, 4), round(x * n + y * c, 4)] for x, y in corners]


#: Each shape's corners for a marker of radius 1, in screen units (y down); ``None`` is
#: Leaflet's own circle. Sizes are chosen so that the shapes look about as large as the
#: circle. In the order categories get them.
SHAPES: dict[str, list[list[float]] | None] = {
    "circle": None,
    "square": _polygon(4, turn_deg=-45, size=1.25),
    "triangle": _polygon(3, size=1.45),
    "diamond": _polygon(4, size=1.35),
    "triangle pointing down": _polygon(3, turn_deg=90, size=1.45),
    "star": _star(5, 0.45, 1.55),
    "plus": _cross(0.8, 1.25),
    "hexagon": _polygon(6, size=1.15),
    "cross": _cross(0.8, 1.3, turn_deg=45),
    "pentagon": _polygon(5, size=1.2),
}


def category_shapes(codes: Sequence[str], *, colours: int = 10) -> dict[str, str]:
    """A stable shape per category code, assigned in sorted order like the colours
    (:func:`cpted.maps.concerns.category_colors`). Past the first ``colours`` categories,
    where colours repeat, the shapes move on by one, so no two categories share both."""
    names = list(SHAPES)
    return {c: names[(i + i // colours) % len(names)]
            for i, c in enumerate(sorted(set(codes)))}


class ShapeMarkers(branca.element.MacroElement):
    """Defines ``L.ShapeMarker`` in a map's page; add it before any :class:`ShapeMarker`."""

    _template = branca.element.Template(  # type: ignore[attr-defined]  # branca has no type hints
        "{% macro script(this, kwargs) %}"
        "if (!L.ShapeMarker) {"
        "  L.ShapeMarker = L.CircleMarker.extend({"
        "    _updatePath: function () {"
        "      var v = this.options.vertices;"
        "      if (!v || !this._renderer._setPath) {"
        "        return L.CircleMarker.prototype._updatePath.call(this); }"
        "      var p = this._point, r = this._radius;"
        "      this._renderer._setPath(this, v.map(function (q, i) {"
        "        return (i ? 'L' : 'M') + (p.x + q[0] * r).toFixed(1) + ' '"
        "          + (p.y + q[1] * r).toFixed(1); }).join('') + 'z');"
        "    }"
        "  });"
        "}"
        "{% endmacro %}")

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # branca has no type hints
        self._name = "ShapeMarkers"


def use_shapes(fmap: folium.Map) -> None:
    """Make ``fmap`` able to draw :class:`ShapeMarker` (once, before its layers)."""
    if "cpted_shapes" not in fmap._children:
        definer = ShapeMarkers()
        definer._parent = fmap
        fmap._children["cpted_shapes"] = definer
        fmap._children.move_to_end("cpted_shapes", last=False)


class ShapeMarker(folium.CircleMarker):
    """A circle marker drawn as ``shape`` (a key of :data:`SHAPES`); for GeoJSON points
    (``folium.GeoJson(..., marker=ShapeMarker(...))``) in a map given :func:`use_shapes`."""

    def __init__(self, shape: str, **kwargs: object) -> None:
        if shape not in SHAPES:
            raise ValueError(f"shape should be one of {list(SHAPES)}, got {shape!r}")
        super().__init__(**kwargs)  # type: ignore[arg-type]  # folium's kwargs are loosely typed
        self._name = "ShapeMarker"
        corners = SHAPES[shape]
        if corners is not None:
            self.options["vertices"] = corners


def shape_svg(shape: str, colour: str, *, size: int = 12) -> str:
    """``shape`` filled with ``colour`` (one of our own CSS colours) as a small inline SVG
    for a legend, with a dark edge as open reports have on the map."""
    r = size / 2 - 1.5
    corners = SHAPES[shape]
    if corners is None:
        body = f'<circle cx="{size / 2}" cy="{size / 2}" r="{r:.2f}"'
    else:
        scale = r / max(max(abs(x), abs(y)) for x, y in corners)
        points = " ".join(f"{size / 2 + x * scale:.2f},{size / 2 + y * scale:.2f}"
                          for x, y in corners)
        body = f'<polygon points="{points}"'
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
            f'viewBox="0 0 {size} {size}" aria-hidden="true" style="vertical-align:middle">'
            f'{body} fill="{colour}" stroke="#000000" stroke-width="1"/></svg>')
