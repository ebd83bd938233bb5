"""Every map's ground: the store's own base map, optionally over a configured tile server.

:func:`prepare` is the last step before a map is shown. It removes any tile layer a
builder left (folium adds OpenStreetMap's by default, which a closed network cannot
reach), puts the configured tile server's layer under everything when one is set, draws
the store's vector base map (:mod:`cpted.basemap`) with protomaps-leaflet, and points
every script and style at the app's own copies (:func:`cpted.maps.assets.localise`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import branca.element
import folium
import folium.elements
import folium.raster_layers

from cpted.basemap import BASE_LAYERS
from cpted.i18n import _
from cpted.maps.assets import FILES, localise
from cpted.maps.common import escape_text
from cpted.maps.describe import KeyboardMap

#: Colours of the base map: light and grey, so the data drawn over it stands out.
BACKGROUND = "#f6f5f1"
AREA_FILL, AREA_EDGE, AREA_LABEL = "#eceae3", "#8c8f96", "#4a4d52"
BUILDING_FILL, BUILDING_EDGE = "#dcd7cf", "#c9c2b7"
STREET_COLOUR, STREET_LABEL = "#b9b6ae", "#5c5e62"

#: The drawing rules (protomaps-leaflet paint and label rules), our own script beside this file.
_SCRIPT = (Path(__file__).with_name("basemap.js")).read_text(encoding="utf-8")


class StoreBasemap(folium.elements.JSCSSMixin, folium.map.Layer):
    """The store's vector base map as a Leaflet layer under every overlay."""

    # The script is ours and holds no braces pair Jinja would read; cfg is JSON.
    _template = branca.element.Template(  # type: ignore[attr-defined]  # branca has no type hints
        "{% macro script(this, kwargs) %}"
        + _SCRIPT +
        "var {{ this.get_name() }} = cptedBasemap({{ this._parent.get_name() }}, "
        "{{ this.config|tojson }});"
        "{% endmacro %}")
    default_js = [("protomaps_leaflet", FILES["protomaps_leaflet"])]  # noqa: RUF012  # folium's name

    def __init__(self, sources: Mapping[str, str], *, background: str | None) -> None:
        super().__init__(name="Base map", control=False, show=True)
        self._name = "StoreBasemap"
        zooms = {b.name: b.maxzoom for b in BASE_LAYERS}
        self.config = {
            "sources": {name: {"url": url, "maxDataZoom": zooms[name]}
                        for name, url in sources.items() if name in zooms},
            "background": background,
            "attribution": escape_text(_("Base map: this city's own layers")),
            "areaFill": AREA_FILL, "areaEdge": AREA_EDGE, "areaLabel": AREA_LABEL,
            "buildingFill": BUILDING_FILL, "buildingEdge": BUILDING_EDGE,
            "street": STREET_COLOUR, "streetLabel": STREET_LABEL,
        }


class IconPath(branca.element.MacroElement):
    """Tells Leaflet where its marker images are, before any marker is made.

    Leaflet otherwise guesses from its stylesheet, and when a marker is made before the
    stylesheet has loaded it guesses a path without its final slash
    (``.../distmarker-icon.png``).
    """

    _template = branca.element.Template(  # type: ignore[attr-defined]  # branca has no type hints
        "{% macro script(this, kwargs) %}"
        "L.Icon.Default.imagePath = {{ this.path|tojson }};"
        "{% endmacro %}")

    def __init__(self, path: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # branca has no type hints
        self._name = "IconPath"
        self.path = path


class FitClearOfLegend(folium.map.FitBounds):
    """``fitBounds`` with room kept on the right for the map's legend, when it is open.

    The legend sits at the top right (:func:`cpted.maps.common.legend`); fitted without
    room for it, the district's north-east corner lies under it. Its width is measured
    in the browser, so a folded legend or a narrow phone screen keeps the whole map.
    """

    _template = branca.element.Template(  # type: ignore[attr-defined]  # branca has no type hints
        "{% macro script(this, kwargs) %}"
        "(function (map, bounds, options) {"
        "  var legend = document.getElementById('cpted-legend');"
        "  var right = 10;"
        "  if (legend && map.getSize().x >= 640) {"
        "    right = Math.min(legend.getBoundingClientRect().width + 20, map.getSize().x / 2); }"
        "  options.paddingTopLeft = [10, 10]; options.paddingBottomRight = [right, 10];"
        "  map.options.zoomSnap = 0.25;"  # a quarter step fills the room left, not a half
        "  map.fitBounds(bounds, options);"
        "})({{ this._parent.get_name() }}, {{ this.bounds|tojson }}, {{ this.options|tojson }});"
        "{% endmacro %}")


def clear_of_legend(fmap: folium.Map) -> None:
    """Each of ``fmap``'s fitted views made to keep room for its legend (in place)."""
    for name, child in list(fmap._children.items()):
        if isinstance(child, folium.map.FitBounds) and not isinstance(child, FitClearOfLegend):
            fit = FitClearOfLegend(child.bounds)
            fit.options = dict(child.options)
            fit._parent = fmap
            fmap._children[name] = fit


def tile_sources(base: str, key: str, names: list[str]) -> dict[str, str]:
    """The URL template of each built tile set, as the app's tile route serves them."""
    return {name: f"{base}basemap/{key}/{name}/{{z}}/{{x}}/{{y}}.mvt" for name in names}


def prepare(fmap: folium.Map, *, base: str, sources: Mapping[str, str],
            tile_url: str = "", tile_attribution: str = "") -> folium.Map:
    """Make ``fmap`` ready to show on any network, in place.

    Parameters
    ----------
    fmap : folium.Map
        A map from one of the builders in :mod:`cpted.maps`.
    base : str
        What comes before ``assets/`` and ``basemap/`` in the app's own URLs.
    sources : mapping of str to str
        The base map's tile sets by name (see :func:`tile_sources`); empty for none,
        as when the store holds no neighborhoods, streets or buildings.
    tile_url, tile_attribution : str
        A tile server a deployment configured (``CPTED_TILE_URL``), drawn under the
        store's base map, with the credit it asks for; empty for none.

    Returns
    -------
    folium.Map
        ``fmap`` itself.
    """
    for name, child in list(fmap._children.items()):
        if isinstance(child, folium.raster_layers.TileLayer):
            del fmap._children[name]
    if tile_url:
        folium.raster_layers.TileLayer(
            tiles=tile_url, attr=escape_text(tile_attribution), name="Tiles", control=False,
            overlay=False).add_to(fmap)
    if sources:
        StoreBasemap(sources, background=None if tile_url else BACKGROUND).add_to(fmap)
    # the ground's own colour behind its tiles, so the seams between scaled tiles at a
    # fractional zoom do not show Leaflet's grey
    root: Any = fmap.get_root()  # a branca Figure, which has a header; branca is untyped
    # and the credit kept clear of the scale bar (bottom left), wrapping rather than
    # covering it on a phone, where a longer language's credit takes the whole width
    root.header.add_child(branca.element.Element(
        f"<style>.leaflet-container {{ background: {BACKGROUND}; }}"
        " .leaflet-bottom.leaflet-right .leaflet-control-attribution {"
        " max-width: calc(100vw - 120px); }</style>"), name="cpted_ground")
    clear_of_legend(fmap)
    fmap.add_child(KeyboardMap(_("Map (arrow keys move it, + and - zoom). What it shows is "
                                 "written below it.")))
    icons = IconPath(f"{base}assets/leaflet/dist/images/")
    fmap.add_child(icons)
    fmap._children.move_to_end(icons.get_name(), last=False)  # before any marker is made
    return localise(fmap, base)


def config_of(html: str) -> dict[str, object] | None:
    """The base map's settings as written into a rendered map's HTML (for tests)."""
    marker = "= cptedBasemap("
    at = html.find(marker)
    if at < 0:
        return None
    start = html.index(", ", at) + 2  # after the map's name
    decoded, _ = json.JSONDecoder().raw_decode(html, start)
    return decoded if isinstance(decoded, dict) else None
