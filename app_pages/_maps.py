"""The one way a page shows a map: :func:`show_map`.

Every page goes through here so that what each map needs in the browser is decided
once: the store's own base map under it (:mod:`cpted.basemap`), its scripts and styles
from the app itself (:mod:`cpted.maps.assets`), and no request to any other host unless
a deployment configured a tile server.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import streamlit as st
import streamlit_folium

from app_pages._state import layer, settings, store
from app_pages._text import md
from cpted import i18n, server
from cpted.basemap import BasemapError, base_frames, ensure_basemap
from cpted.i18n import _
from cpted.maps.assets import missing_files
from cpted.maps.basemap import prepare, tile_sources
from cpted.maps.describe import MapText, text_of
from cpted.maps.still import Ground, ground, place_svg
from layers.schema import Layer

if TYPE_CHECKING:
    import folium

#: The app's own URLs as seen from inside a map: st_folium draws each map in a frame at
#: ``<app>/component/streamlit_folium.st_folium/index.html``, two folders below the app's
#: root, so a relative prefix holds behind any proxy path too.
BASE = "../../"


@st.cache_data(show_spinner=False, max_entries=8)
def _basemap(url: str, revision: int) -> tuple[dict[str, str], str]:
    """The base map's tile URLs for the store at ``url`` (built once per content), and a
    problem to show instead when they could not be built. (Its spinner is the caller's:
    what a cached function draws would be kept in the language of whoever drew it.)"""
    frames = base_frames(layer(Layer.NEIGHBORHOODS), layer(Layer.STREETS),
                         layer(Layer.BUILDINGS))
    if not frames:
        return {}, ""
    try:
        key, names = ensure_basemap(frames, server.basemap_root())
    except BasemapError as exc:
        return {}, str(exc)
    return tile_sources(BASE, key, names), ""


def show_map(fmap: folium.Map, *, key: str, height: int,
             returned_objects: Sequence[str] = (), describe: MapText | None = None,
             listed_elsewhere: str = "") -> Any:
    """Draw ``fmap`` across the page; return what ``st_folium`` returns (clicks, drawings).

    Under the map goes its text alternative: ``describe``, else what the map's builder
    attached (:mod:`cpted.maps.describe`), a summary in words and each list of things
    it draws as a table in an expander. A map without either is refused (``ValueError``):
    every map says what it shows. ``listed_elsewhere`` says where the page already lists
    the same things (its tables are then left out).

    When the map cannot draw (its files are not installed, or the app was started
    without the routes that serve them), the page says so in words instead of showing
    an empty box, and the text alternative still follows.
    """
    text = describe or text_of(fmap)
    if text is None:
        raise ValueError("show_map needs a map with a text alternative: build it with "
                         "cpted.maps, or pass describe=MapText(...)")
    if listed_elsewhere:
        text = text.listed_elsewhere(listed_elsewhere)
    missing = missing_files()
    if missing:
        st.error(_("This map cannot draw: its files are not installed here ({n} missing, "
                   "e.g. {example}). Run `make run`, or `npm ci --prefix cpted/web`, then "
                   "reload.").format(n=i18n.number(len(missing)), example=missing[0]))
        _show_text(text, key)
        return {}
    if not server.SERVING:
        st.warning(_("This map cannot draw: the app was started without the routes that "
                     "serve its files. Start it with `make run` (`streamlit run server.py`), "
                     "not `streamlit run app.py`."))
    s = store()
    # shown only when drawing it takes longer than half a second: the first time
    with st.spinner(_("Drawing the base map from this city's neighborhoods and streets "
                      "(once; a large city takes up to a minute)...")):
        sources, problem = _basemap(s.url, s.revision())
    if problem:
        st.caption(_("No base map under this map: {problem}").format(problem=problem))
    conf = settings()
    prepare(fmap, base=BASE, sources=sources, tile_url=conf.tile_url,
            tile_attribution=conf.tile_attribution)
    out = streamlit_folium.st_folium(fmap, height=height, use_container_width=True, key=key,
                                     returned_objects=list(returned_objects))
    _show_text(text, key)
    return out


def _show_text(text: MapText, key: str) -> None:
    """A map's text alternative: its summary, then each of its lists in an expander."""
    st.caption(md(text.summary))
    for k, listed in enumerate(text.tables):
        with st.expander(_("{title} ({n}), as a table").format(
                title=md(listed.title), n=i18n.number(len(listed.rows)))):
            st.dataframe(listed.rows, hide_index=True, width="stretch",
                         key=f"{key}-text-{k}")


@st.cache_resource(show_spinner=False, max_entries=4)
def _still_ground(url: str, revision: int) -> Ground:
    """The base layers cut ready for still maps, once per store revision (shared, never
    changed)."""
    return ground(base_frames(layer(Layer.NEIGHBORHOODS), layer(Layer.STREETS),
                              layer(Layer.BUILDINGS)))


def show_place(lonlat: Sequence[float], *, what: str, approximate_m: float | None = None
               ) -> None:
    """A still map of one place (:mod:`cpted.maps.still`): the store's own ground around
    it with its pin, drawn on the server, so it shows with the page itself."""
    s = store()
    still = place_svg(_still_ground(s.url, s.revision()), lonlat, what=what,
                      approximate_m=approximate_m)
    st.markdown(still_img(still.svg, still.title))


def still_img(svg: str, alt: str) -> str:
    """A Markdown image holding a still map as a data URI, with ``alt`` escaped: drawn by
    the markdown element every page has loaded already, and without HTML, so the map
    waits for no script of its own (an SVG in an image runs no script and loads
    nothing)."""
    data = base64.b64encode(svg.encode()).decode()
    # every character Markdown could act on is a character reference, so no renderer
    # sees markup in the words (names people typed), and a browser reads them as typed
    words = "".join(f"&#{ord(c)};" if c in _MARKDOWN_SIGNS else c for c in alt)
    return f"![{words}](data:image/svg+xml;base64,{data})"


_MARKDOWN_SIGNS = frozenset("[]()!*_`~#|{}\\:$<>=+-&\"'")
