"""A still map of one place, drawn on the server as SVG: the Concern page's "where is it".

The same ground as every other map (the store's own neighborhoods, streets and buildings,
:func:`cpted.basemap.base_frames`, so only their public columns), cut to a few hundred
metres around the place, in Web Mercator like the tiles, with the street names, the
neighborhood's name, a scale bar and the report's pin or approximate area on top. It
arrives with the page: no script, no frame and no tile request, so a report's page shows
where it is at once, and prints.

Every name is escaped; the only other text is ours.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import NamedTuple

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

from cpted import i18n
from cpted.i18n import _
from cpted.maps.basemap import (
    AREA_EDGE,
    AREA_FILL,
    AREA_LABEL,
    BACKGROUND,
    BUILDING_EDGE,
    BUILDING_FILL,
    STREET_COLOUR,
    STREET_LABEL,
)

_TO_MERCATOR = Transformer.from_crs(4326, 3857, always_xy=True)
#: Pixel widths of street lines by class (the tiles' widths near zoom 17).
STREET_WIDTHS = {"arterial": 7.0, "collector": 5.5, "local": 4.0, "alley": 2.0, "path": 2.0}
#: A street's name is written once, along its longest piece in view, if it fits there.
MAX_STREET_LABELS = 12
#: About how wide one character of an 11 px label is, in pixels.
CHAR_PX = 6.0
PIN_COLOUR = "#d62728"


class StillMap(NamedTuple):
    """A still map: its SVG and the words that say what it shows (its alt text)."""

    svg: str
    title: str


@dataclass(frozen=True)
class Ground:
    """The base layers in Web Mercator, each with its spatial index: built once per
    store revision, then cut for any number of maps."""

    areas: gpd.GeoDataFrame | None
    streets: gpd.GeoDataFrame | None
    buildings: gpd.GeoDataFrame | None


def ground(frames: Mapping[str, gpd.GeoDataFrame]) -> Ground:
    """The :func:`cpted.basemap.base_frames` layers ready to cut (indexes built now)."""

    def ready(name: str) -> gpd.GeoDataFrame | None:
        frame = frames.get(name)
        if frame is None or frame.empty:
            return None
        frame = frame.to_crs(3857).reset_index(drop=True)
        frame.sindex  # noqa: B018  (built once here, not on the first map)
        return frame

    return Ground(ready("areas"), ready("streets"), ready("buildings"))


@dataclass(frozen=True)
class _View:
    """Web Mercator metres to pixels, for one map."""

    x0: float
    y1: float
    scale: float  # pixels per Web Mercator metre
    width: int
    height: int

    def xy(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return (x - self.x0) * self.scale, (self.y1 - y) * self.scale

    @property
    def box(self) -> tuple[float, float, float, float]:
        return (self.x0, self.y1 - self.height / self.scale,
                self.x0 + self.width / self.scale, self.y1)


def _path(geom: BaseGeometry, view: _View, *, closed: bool) -> str:
    """SVG path data for a line or polygon geometry (any multi part), in pixels."""
    parts: list[str] = []
    rings: list[np.ndarray] = []
    for g in getattr(geom, "geoms", [geom]):
        if g.is_empty:
            continue
        if closed and g.geom_type == "Polygon":
            rings += [np.asarray(g.exterior.coords)] + [np.asarray(r.coords)
                                                        for r in g.interiors]
        elif not closed and g.geom_type == "LineString":
            rings.append(np.asarray(g.coords))
    for ring in rings:
        if len(ring) < 2:
            continue
        px, py = view.xy(ring[:, 0], ring[:, 1])
        parts.append("M" + _join(px, py) + ("Z" if closed else ""))
    return "".join(parts)


def _join(px: np.ndarray, py: np.ndarray) -> str:
    pairs = [f"{a:.1f},{b:.1f}" for a, b in zip(px, py, strict=True)]
    return pairs[0] + ("L" + "L".join(pairs[1:]) if len(pairs) > 1 else "")


def _cut(frame: gpd.GeoDataFrame | None, box: tuple[float, float, float, float]
         ) -> gpd.GeoDataFrame | None:
    """The rows of ``frame`` in ``box``, their shapes clipped to it (a little larger, so
    that a clipped edge never shows)."""
    if frame is None:
        return None
    minx, miny, maxx, maxy = box
    pad = 0.05 * (maxx - minx)
    grown = (minx - pad, miny - pad, maxx + pad, maxy + pad)
    rows = frame.iloc[frame.sindex.query(shapely.box(*grown))]
    if rows.empty:
        return None
    clipped = shapely.clip_by_rect(np.asarray(rows.geometry.values), *grown)
    return rows.set_geometry(gpd.GeoSeries(clipped, index=rows.index, crs=frame.crs))


Box = tuple[float, float, float, float]


def _label_box(x: float, y: float, angle: float, text_px: float) -> Box:
    """The upright rectangle a label of ``text_px`` centred at (x, y) covers."""
    a = math.radians(angle)
    hw = text_px / 2 * abs(math.cos(a)) + 7 * abs(math.sin(a))
    hh = text_px / 2 * abs(math.sin(a)) + 7 * abs(math.cos(a))
    return (x - hw, y - hh, x + hw, y + hh)


def _overlaps(a: Box, boxes: Sequence[Box]) -> bool:
    return any(a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3] for b in boxes)


def _label_spot(line: BaseGeometry, view: _View, text_px: float, taken: Sequence[Box]
                ) -> tuple[float, float, float, Box] | None:
    """Where a street's name goes on ``line``: (x, y, angle in degrees, the box it
    covers), upright, on a piece long enough for it, clear of every box in ``taken``."""
    for part in sorted(getattr(line, "geoms", [line]), key=lambda p: -p.length):
        if part.geom_type != "LineString" or part.is_empty:
            continue
        c = np.asarray(part.coords)
        px, py = view.xy(c[:, 0], c[:, 1])
        on_screen = shapely.LineString(np.column_stack([px, py]))
        if on_screen.length < text_px + 16:
            continue
        half = (text_px / 2 + 4) / on_screen.length
        for at in (0.5, 0.3, 0.7, 0.15, 0.85):
            if at - half < 0 or at + half > 1:
                continue
            m = on_screen.interpolate(at, normalized=True)
            a = on_screen.interpolate(at - half, normalized=True)
            b = on_screen.interpolate(at + half, normalized=True)
            angle = math.degrees(math.atan2(b.y - a.y, b.x - a.x))
            if angle > 90:
                angle -= 180
            elif angle < -90:
                angle += 180
            box = _label_box(m.x, m.y, angle, text_px)
            inside = box[0] >= 0 and box[2] <= view.width and box[1] >= 0 \
                and box[3] <= view.height
            if inside and not _overlaps(box, taken):
                return m.x, m.y, angle, box
    return None


def _scale_bar(view: _View, lat: float) -> str:
    """A bar of a round length, about a fifth of the map wide, bottom left."""
    metres_per_px = math.cos(math.radians(lat)) / view.scale
    target = view.width / 5 * metres_per_px
    length = next(n for n in (10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10_000)
                  if n >= target * 0.7)
    px = length / metres_per_px
    x, y = 12.0, view.height - 14.0
    word = f"{i18n.number(length / 1000)} km" if length >= 1000 else f"{i18n.number(length)} m"
    return (f'<g class="scale"><rect x="{x - 4:.1f}" y="{y - 16:.1f}" width="{px + 8:.1f}" '
            f'height="22" fill="#ffffff" fill-opacity="0.8"/>'
            f'<path d="M{x:.1f},{y - 4:.1f}V{y:.1f}H{x + px:.1f}V{y - 4:.1f}" fill="none" '
            f'stroke="#333333" stroke-width="1.5"/>'
            f'<text x="{x + px / 2:.1f}" y="{y - 5:.1f}" font-size="11" text-anchor="middle" '
            f'fill="#333333">{word}</text></g>')


def place_svg(g: Ground, lonlat: Sequence[float], *, what: str,
              approximate_m: float | None = None, width: int = 560, height: int = 320,
              span_m: float = 360.0) -> StillMap:
    """An SVG map ``span_m`` ground metres across centred on ``lonlat`` (WGS84).

    ``what`` names the place for people who cannot see the map (the category, escaped).
    ``lonlat`` is the place exactly as the access layer gives it to the viewer (for the
    public, a sensitive report's place is already its grid cell's centre); it is never
    moved here. With ``approximate_m`` (the side of that grid cell), the circle through
    the cell's corners is drawn, so the true place lies inside it, and the map is wide
    enough to show it whole.
    """
    lon, lat = float(lonlat[0]), float(lonlat[1])
    cx, cy = _TO_MERCATOR.transform(lon, lat)
    radius_m = None if approximate_m is None else approximate_m * math.sqrt(2) / 2
    if radius_m is not None:
        span_m = max(span_m, 3.0 * radius_m * width / height)
    stretch = 1.0 / math.cos(math.radians(lat))  # Web Mercator metres per ground metre
    scale = width / (span_m * stretch)
    view = _View(cx - width / 2 / scale, cy + height / 2 / scale, scale, width, height)
    box = view.box
    out: list[str] = []
    here = ""
    areas = _cut(g.areas, box)
    if areas is not None:
        d = "".join(_path(geom, view, closed=True) for geom in areas.geometry)
        out.append(f'<path d="{d}" fill="{AREA_FILL}" fill-opacity="0.55" '
                   f'stroke="{AREA_EDGE}" stroke-width="1.5" fill-rule="evenodd"/>')
        inside = areas[areas.geometry.covers(shapely.Point(cx, cy))]
        if len(inside):
            here = str(inside["name"].iloc[0])
    buildings = _cut(g.buildings, box)
    if buildings is not None:
        d = "".join(_path(geom, view, closed=True) for geom in buildings.geometry)
        out.append(f'<path d="{d}" fill="{BUILDING_FILL}" stroke="{BUILDING_EDGE}" '
                   'stroke-width="0.5" fill-rule="evenodd"/>')
    mx, my = width / 2, height / 2
    reserved: list[Box] = [(mx - 14, my - 34, mx + 14, my + 4), (0, 0, 0, 0),
                           (0, height - 36, width / 5 * 1.6 + 24, height)]
    if here:
        reserved[1] = (0, 0, len(here) * 7.2 + 28, 40)
    streets = _cut(g.streets, box)
    names: list[str] = []
    if streets is not None:
        classes = streets["class"].where(streets["class"].isin(list(STREET_WIDTHS)), "local")
        for cls in ("alley", "path", "local", "collector", "arterial"):  # main ones on top
            rows = streets[classes == cls]
            if rows.empty:
                continue
            d = "".join(_path(geom, view, closed=False) for geom in rows.geometry)
            dash = ' stroke-dasharray="4 3"' if cls in ("alley", "path") else ""
            out.append(f'<path class="street" d="{d}" fill="none" stroke="{STREET_COLOUR}" '
                       f'stroke-width="{STREET_WIDTHS[cls]}" stroke-linecap="round" '
                       f'stroke-linejoin="round"{dash}/>')
        # the longest streets named first, each once, clear of the pin, the other names
        # and the boxes in the corners
        taken = list(reserved)
        pieces = streets.assign(_len=streets.geometry.length).sort_values("_len",
                                                                          ascending=False)
        for name, geom in zip(pieces["name"], pieces.geometry, strict=True):
            name = str(name).strip()
            if not name or name in names or len(names) >= MAX_STREET_LABELS:
                continue
            spot = _label_spot(geom, view, len(name) * CHAR_PX, taken)
            if spot is None:
                continue
            x, y, angle, box = spot
            taken.append(box)
            names.append(name)
            t = escape(name)
            at = f'transform="translate({x:.1f},{y:.1f}) rotate({angle:.1f})"'
            out.append(f'<g class="street-name" {at} font-size="11" text-anchor="middle">'
                       f'<text dy="0.35em" fill="none" stroke="#ffffff" stroke-width="3" '
                       f'stroke-linejoin="round">{t}</text>'
                       f'<text dy="0.35em" fill="{STREET_LABEL}">{t}</text></g>')
    if radius_m is not None:
        r = radius_m * stretch * scale
        out.append(f'<circle cx="{mx:.1f}" cy="{my:.1f}" r="{r:.1f}" fill="#b30000" '
                   'fill-opacity="0.1" stroke="#b30000" stroke-width="2"/>')
    out.append(f'<g class="pin" transform="translate({mx - 10.5:.1f},{my - 30:.1f})">'
               '<path d="M10.5 0C4.7 0 0 4.6 0 10.3 0 18 10.5 30 10.5 30S21 18 21 10.3C21 '
               f'4.6 16.3 0 10.5 0z" fill="{PIN_COLOUR}" stroke="#ffffff" stroke-width="1.5"/>'
               '<circle cx="10.5" cy="10.5" r="3.8" fill="#ffffff"/></g>')
    if here:
        w = len(here) * 7.2 + 16
        out.append(f'<g class="area-name"><rect x="8" y="8" width="{w:.0f}" height="24" rx="4" '
                   'fill="#ffffff" fill-opacity="0.85"/>'
                   f'<text x="16" y="24.5" font-size="13" font-weight="600" '
                   f'fill="{AREA_LABEL}">{escape(here)}</text></g>')
    out.append(_scale_bar(view, lat))
    near = ", ".join(names[:2])
    if here and near:
        words = _("Map: {what} in {area}, near {streets}").format(what=what, area=here,
                                                                   streets=near)
    elif here:
        words = _("Map: {what} in {area}").format(what=what, area=here)
    elif near:
        words = _("Map: {what}, near {streets}").format(what=what, streets=near)
    else:
        words = _("Map: {what}").format(what=what)
    if radius_m is not None:
        words = _("{map}, shown only as an approximate area").format(map=words)
    title = escape(words)
    return StillMap(f'<svg class="cpted-place-map" xmlns="http://www.w3.org/2000/svg" '
            f'viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="{title}" '
            'style="display:block;max-width:100%;height:auto;border-radius:6px;'
            f'font-family:sans-serif"><title>{title}</title>'
            f'<rect width="{width}" height="{height}" fill="{BACKGROUND}"/>'
            + "".join(out) + "</svg>", words)
