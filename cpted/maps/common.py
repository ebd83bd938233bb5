"""Pieces every map shares: escaping user text, bounds, a base map, the legend.

Leaflet renders tooltips, popups and layer-control labels as HTML, so any text
that came from a record goes through :func:`escape_text` (or
:func:`escaped_frame` for a whole GeoJSON layer) before it reaches folium.
Positions go through :func:`layers.crs.latlon`, the one ``[lat, lon]`` helper.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime

import branca.element
import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cpted import i18n
from cpted.i18n import N_, _
from cpted.maps.shapes import shape_svg
from layers.crs import latlon

#: Where a map with nothing on it opens (the demo district, Kansas City), as (lon, lat).
DEFAULT_CENTRE_LONLAT = (-94.57, 39.05)


#: Beyond HTML, two more readers see the text before the browser shows it.
#: folium writes a tooltip's text into a JavaScript template literal (`...`), where a
#: backtick ends it, ``${`` starts code and a backslash starts an escape; and branca
#: renders the page's generated script and HTML once more as a Jinja template, where
#: ``{{ }}`` and ``{% %}`` run on the server. As character references they all still
#: show as themselves.
_NOT_CODE = str.maketrans({"`": "&#96;", "$": "&#36;", "\\": "&#92;",
                           "{": "&#123;", "}": "&#125;"})


#: Stored values the maps show in tooltips and lists, as words: a report's status, detail
#: and time of day, a streetlight's status, a street's class, a parcel owner's kind and a
#: problem spot's status. The same English as the pages' word tables (``app_pages._text``,
#: ``app_pages._words``), so the catalogue holds each once.
VALUE_WORDS: dict[str, str] = {
    "open": N_("open"), "closed": N_("closed"),
    "submitted": N_("submitted"), "acknowledged": N_("acknowledged"),
    "in progress": N_("in progress"), "action scheduled": N_("action scheduled"),
    "fixed": N_("fixed"), "not fixed - no further action": N_("not fixed - no further action"),
    "duplicate": N_("duplicate"), "referred": N_("referred"),
    "day": N_("Day"), "night": N_("Night"),
    "open, no plan under way": N_("open, no plan under way"),
    "plan overdue": N_("plan overdue"), "plan under way": N_("plan under way"),
    "all reports closed": N_("all reports closed"),
}
#: A time of day not known (``"unknown"`` means something else for a streetlight).
TIME_WORDS: dict[str, str] = {**VALUE_WORDS, "unknown": N_("Not known")}
#: A streetlight's status.
LIGHT_WORDS: dict[str, str] = {
    # TRANSLATORS: a streetlight's status: it works
    "working": N_("working"),
    # TRANSLATORS: a streetlight's status: it does not light
    "out": N_("out"),
    # TRANSLATORS: a streetlight's status: nobody knows whether it works
    "unknown": N_("unknown"),
}
#: A street's class.
STREET_WORDS: dict[str, str] = {
    "arterial": N_("arterial"), "collector": N_("collector"), "local": N_("local"),
    "alley": N_("alley"), "path": N_("path"),
}


def value_word(value: object, words: dict[str, str] | None = None) -> str:
    """A stored value in the language in use (``"in progress"`` -> ``"en curso"``) when
    ``words`` (:data:`VALUE_WORDS` by default) holds it; anything else (a value a
    deployment added, a name people typed) as it is, ``""`` for none. Not escaped."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return ""
    table = VALUE_WORDS if words is None else words
    text = str(value)
    return _(table[text]) if text in table else text


def category_word(name: str) -> str:
    """A category's name in the language in use when the catalogue holds it (the
    categories the app ships with); a category a deployment named itself as it is."""
    code = i18n.current()
    if code == i18n.SOURCE or not name:
        return name
    return _(name) if name in getattr(i18n.translations(code), "_catalog", {}) else name


def value_words(values: pd.Series, words: dict[str, str] | None = None) -> pd.Series:
    """:func:`value_word` of each value, on the same index."""
    return pd.Series([value_word(v, words) for v in values], index=values.index, dtype=object)


def escape_text(value: object) -> str:
    """``value`` as text safe to place in a tooltip, popup or layer name.

    Parameters
    ----------
    value : object
        Anything a record may hold. ``None``, ``NaN`` and ``pd.NA`` become ``""``;
        datetimes are written ``YYYY-MM-DD HH:MM`` in their own time zone.

    Returns
    -------
    str
        The text with ``&``, ``<``, ``>``, quotes, backticks, ``$``, backslashes and
        braces written as character references, so markup in a record
        (``<img src=x onerror=...>``), script (``${...}``) or Jinja (``{{ ... }}``)
        is shown as text, never run.
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float) and np.isnan(value):
        return ""
    text = value.strftime("%Y-%m-%d %H:%M") if isinstance(value, datetime) else str(value)
    return html.escape(text).translate(_NOT_CODE)


def escaped_frame(gdf: gpd.GeoDataFrame, columns: Sequence[str]) -> gpd.GeoDataFrame:
    """Only ``columns`` and the geometry, every value as :func:`escape_text` text.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        The layer; its CRS is kept.
    columns : sequence of str
        The columns a tooltip shows. Time-zone-aware datetime columns are written
        ``YYYY-MM-DD HH:MM`` in their own zone.

    Returns
    -------
    geopandas.GeoDataFrame
        A new frame on a fresh ``RangeIndex``; the input is not changed.
    """
    out = gpd.GeoDataFrame(geometry=gdf.geometry.values, crs=gdf.crs)
    for c in columns:
        col = gdf[c]
        if isinstance(col.dtype, pd.DatetimeTZDtype):
            text = col.dt.strftime("%Y-%m-%d %H:%M")
            out[c] = [escape_text(v) for v in text.where(col.notna(), "").tolist()]
        else:
            out[c] = [escape_text(v) for v in col]
    return out


def snapped(gdf: gpd.GeoDataFrame, *, grid_deg: float = 1e-5) -> gpd.GeoDataFrame:
    """Coordinates snapped to ``grid_deg`` degrees (about 1 m) so the page's JSON stays small."""
    out = gdf.copy()
    out["geometry"] = shapely.set_precision(np.asarray(gdf.geometry.values), grid_deg)
    return out


def bounds_latlon(bounds_lonlat: Sequence[float]) -> list[list[float]]:
    """``(west, south, east, north)`` as folium's ``[[south, west], [north, east]]``.

    Parameters
    ----------
    bounds_lonlat : sequence of four floats
        WGS84 bounds in ``total_bounds`` order: min lon, min lat, max lon, max lat.

    Returns
    -------
    list of list of float
        The south-west and north-east corners, each ``[lat, lon]``.
    """
    west, south, east, north = (float(v) for v in bounds_lonlat)
    return [latlon((west, south)), latlon((east, north))]


def centred_map(bounds_lonlat: Sequence[float] | None, *, zoom_start: int = 15,
                fit: bool = True, min_span_deg: float = 1e-4,
                tiles: str | None = None) -> folium.Map:
    """A map centred on ``bounds_lonlat`` and fitted to them when they span an area.

    Parameters
    ----------
    bounds_lonlat : sequence of four floats or None
        WGS84 ``(west, south, east, north)``; ``None`` (or NaN, as an empty layer's
        ``total_bounds`` are) opens on :data:`DEFAULT_CENTRE_LONLAT`.
    zoom_start : int
        The zoom kept when the bounds are not fitted.
    fit : bool
        Fit the view to the bounds; ``False`` only centres on them at ``zoom_start``.
    min_span_deg : float
        Bounds narrower than this in both directions are treated as a point.
    tiles : str or None
        The basemap; ``None`` for none.

    Returns
    -------
    folium.Map
    """
    if bounds_lonlat is None or not np.all(np.isfinite(np.asarray(bounds_lonlat, float))):
        return folium.Map(location=latlon(DEFAULT_CENTRE_LONLAT), zoom_start=zoom_start,
                          control_scale=True, tiles=tiles)
    west, south, east, north = (float(v) for v in bounds_lonlat)
    fmap = folium.Map(location=latlon(((west + east) / 2, (south + north) / 2)),
                      zoom_start=zoom_start, control_scale=True, tiles=tiles)
    if fit and (east - west > min_span_deg or north - south > min_span_deg):
        fmap.fit_bounds(bounds_latlon((west, south, east, north)))
    return fmap


#: The legend's look. It sits top right, just under Leaflet's layer control (whose
#: touch-sized button ends 58 px down), so it is clear of the zoom buttons (top left),
#: the scale bar (bottom left) and the attribution (bottom right); it stays below
#: Leaflet's controls (z-index 1000), so the layer menu opens over it. It is folded by
#: a checkbox rather than ``<details>`` so that CSS alone (streamlit-folium inserts the
#: legend as HTML, where scripts do not run) folds it on narrow screens: there a tick
#: opens it, elsewhere a tick closes it. No "{" is followed by "#": branca reads this as
#: Jinja, where that opens a comment.
_LEGEND_CSS = """
.cpted-legend { position: absolute; top: 68px; right: 10px; z-index: 990;
  background: rgba(255,255,255,0.93); padding: 6px 10px; border-radius: 6px;
  font: 12px/1.35 sans-serif; box-shadow: 0 1px 4px rgba(0,0,0,.3); max-width: 240px;
  max-height: calc(100vh - 110px); overflow: auto; }
.cpted-legend-toggle { position: absolute; opacity: 0; width: 1px; height: 1px; margin: 0; }
.cpted-legend-title { cursor: pointer; display: block; user-select: none; }
.cpted-legend-toggle:focus-visible + .cpted-legend-title { outline: 3px solid #4B0082;
  outline-offset: 2px; }
.cpted-legend-title::after { content: " \\25BE"; }
.cpted-legend-body { display: block; }
.cpted-legend-open .cpted-legend-toggle:checked ~ .cpted-legend-body,
.cpted-legend-closed .cpted-legend-toggle:not(:checked) ~ .cpted-legend-body { display: none; }
.cpted-legend-open .cpted-legend-toggle:checked + .cpted-legend-title::after,
.cpted-legend-closed .cpted-legend-toggle:not(:checked) + .cpted-legend-title::after {
  content: " \\25B8"; }
@media (max-width: 640px) {
  .cpted-legend { max-width: 60vw; }
  .cpted-legend-open .cpted-legend-toggle:not(:checked) ~ .cpted-legend-body { display: none; }
  .cpted-legend-open .cpted-legend-toggle:checked ~ .cpted-legend-body { display: block; }
  .cpted-legend-open .cpted-legend-toggle:not(:checked) + .cpted-legend-title::after {
    content: " \\25B8"; }
  .cpted-legend-open .cpted-legend-toggle:checked + .cpted-legend-title::after {
    content: " \\25BE"; }
}
"""


def legend(title: str, rows: Sequence[tuple[str, str, str]], *,
           open_: bool = True) -> branca.element.MacroElement:
    """A fixed, foldable legend to add with ``fmap.get_root().add_child(...)``.

    It is placed top right under the layer control, clear of the scale bar and the
    attribution, and starts folded on screens narrower than 640 px.

    Parameters
    ----------
    title : str
        Shown escaped; a tap or click on it folds and unfolds the legend.
    rows : sequence of (shape, colour, label)
        ``shape`` is ``"dot"``, ``"line"``, ``"box"``, ``"marker:NAME"`` (a marker shape
        of :data:`cpted.maps.shapes.SHAPES`) or ``"note"`` (a line of text; its colour is
        ignored). Labels are escaped; colours are our own CSS values.
    open_ : bool
        Whether the legend starts unfolded on wide screens (on narrow ones it always
        starts folded).

    Returns
    -------
    branca.element.MacroElement
    """
    items = []
    for shape, color, label in rows:
        if shape == "note":
            items.append(f'<div style="margin-top:4px;color:#555">{escape_text(label)}</div>')
            continue
        if shape.startswith("marker:"):
            items.append(f'<div style="margin:2px 0">{shape_svg(shape[7:], color)}&nbsp;'
                         f"{escape_text(label)}</div>")
            continue
        style = {
            "dot": f"display:inline-block;width:11px;height:11px;border-radius:50%;"
                   f"background:{color};border:1px solid #333",
            "line": f"display:inline-block;width:18px;height:0;border-top:3px solid {color};"
                    "vertical-align:middle",
            "box": f"display:inline-block;width:14px;height:11px;background:{color};"
                   "border:1px solid #555",
        }[shape]
        items.append(f'<div style="margin:2px 0"><span style="{style}"></span>&nbsp;'
                     f"{escape_text(label)}</div>")
    state = "open" if open_ else "closed"
    body = (
        f"<style>{_LEGEND_CSS}</style>"
        f'<div id="cpted-legend" class="cpted-legend cpted-legend-{state}" role="region" '
        f'aria-label="{escape_text(title)}">'
        '<input type="checkbox" id="cpted-legend-toggle" class="cpted-legend-toggle">'
        f'<label for="cpted-legend-toggle" class="cpted-legend-title"><b>{escape_text(title)}'
        f'</b></label><div class="cpted-legend-body">{"".join(items)}</div></div>'
    )
    # Labels are escaped, braces included: branca reads this body as Jinja.
    el = branca.element.MacroElement()  # type: ignore[no-untyped-call]  # branca has no type hints
    el._template = branca.element.Template(  # type: ignore[attr-defined]  # branca sets _template untyped
        "{% macro html(this, kwargs) %}" + body + "{% endmacro %}")
    return el


def pin_icon(colour: str = "#d62728", *, size: int = 30) -> folium.DivIcon:
    """A map pin drawn as inline SVG, its tip on the point: no icon font or image to load.

    ``colour`` is one of our own CSS colours, never record text.
    """
    width = round(size * 0.7)
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{size}" '
           'viewBox="0 0 21 30" aria-hidden="true"><path d="M10.5 0C4.7 0 0 4.6 0 10.3 '
           f'0 18 10.5 30 10.5 30S21 18 21 10.3C21 4.6 16.3 0 10.5 0z" fill="{colour}" '
           'stroke="#ffffff" stroke-width="1.5"/><circle cx="10.5" cy="10.5" r="3.8" '
           'fill="#ffffff"/></svg>')
    return folium.DivIcon(html=svg, icon_size=(width, size), icon_anchor=(width // 2, size),
                          class_name="cpted-pin")
