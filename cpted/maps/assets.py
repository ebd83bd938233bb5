"""Every script and style a map needs, served by the app itself.

folium names each file a map needs (``default_js`` and ``default_css`` on the map and
on each plugin) and points it at a public CDN. A map shown here must draw on a network
that reaches no CDN, so :func:`localise` rewrites those names to the copies installed
with the app (``cpted/web``, from npm at install time; :data:`FILES`) and drops what no
map here uses (jQuery, Bootstrap and the awesome-markers icons, which only
``folium.Icon`` needs). A name it does not know is refused, so a new plugin cannot
quietly bring a CDN back.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import folium

from layers.errors import CptedError

#: Where ``npm ci --prefix cpted/web`` installs the packages (see ``cpted/web/package.json``).
NODE_MODULES = Path(__file__).resolve().parent.parent / "web" / "node_modules"

#: The folders of those packages the app serves, each under ``assets/`` in its URL. Their
#: images sit beside the styles that name them, so relative ``url(...)`` references hold.
SERVED_DIRS = ("leaflet/dist", "leaflet-draw/dist", "protomaps-leaflet/dist")

#: Each file a map may ask for, by folium's name for it, as a path under :data:`NODE_MODULES`.
FILES = {
    "leaflet": "leaflet/dist/leaflet.js",
    "leaflet_css": "leaflet/dist/leaflet.css",
    "leaflet_draw_js": "leaflet-draw/dist/leaflet.draw.js",
    "leaflet_draw_css": "leaflet-draw/dist/leaflet.draw.css",
    "protomaps_leaflet": "protomaps-leaflet/dist/protomaps-leaflet.js",
}

#: folium's defaults that no map here uses: Bootstrap and jQuery serve notebook widgets,
#: the rest the awesome-markers icons of ``folium.Icon`` (maps here draw their own pins).
UNUSED = frozenset({
    "jquery", "bootstrap", "bootstrap_css", "glyphicons_css", "awesome_markers",
    "awesome_markers_css", "awesome_markers_font_css", "awesome_rotate_css",
})


class UnservedAssetError(CptedError, RuntimeError):
    """A map element asks for a script or style the app does not serve itself."""


def missing_files() -> list[str]:
    """The files of :data:`FILES` not installed (empty when ``npm ci`` has run)."""
    return [rel for rel in FILES.values() if not (NODE_MODULES / rel).is_file()]


def _elements(element: Any) -> Iterator[Any]:
    yield element
    for child in getattr(element, "_children", {}).values():
        yield from _elements(child)


def localise(fmap: folium.Map, base: str) -> folium.Map:
    """Point every script and style ``fmap`` needs at the app's own copies, in place.

    Parameters
    ----------
    fmap : folium.Map
        A built map; its elements and their plugins are all visited.
    base : str
        What comes before ``assets/`` in the URLs, e.g. ``"/"`` or a relative ``"../../"``.

    Returns
    -------
    folium.Map
        ``fmap`` itself.

    Raises
    ------
    UnservedAssetError
        An element needs a file outside :data:`FILES` and :data:`UNUSED`.
    """
    for el in _elements(fmap):
        for attr in ("default_js", "default_css"):
            wanted = getattr(el, attr, None)
            if not wanted:
                continue
            kept = []
            for name, url in wanted:
                if name in UNUSED:
                    continue
                if name not in FILES:
                    raise UnservedAssetError(
                        f"{type(el).__name__} needs {name} ({url}), which the app does not "
                        "serve itself; add it to cpted/web/package.json and FILES")
                kept.append((name, f"{base}assets/{FILES[name]}"))
            setattr(el, attr, kept)  # on the instance: the class's CDN list stays as it is
    return fmap
