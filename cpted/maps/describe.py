"""Every map's text alternative: what it shows, in words, and its things as tables.

A map is a picture inside a frame: a screen reader cannot read it and a keyboard cannot
hover its markers. So each builder in :mod:`cpted.maps` says what it drew, as a
:class:`MapText` kept on the map itself (:func:`attach`), and the one function that
shows maps (``app_pages._maps.show_map``) writes the summary under the map and each
table in an expander. The tables hold what the map's tooltips hold, from the same
frames (as the viewer may see them), with names before ids and plain column labels.
Texts here are plain: the page escapes them where it renders Markdown.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import branca.element
import folium
import pandas as pd
from babel.lists import format_list

from cpted import i18n
from cpted.i18n import _

_CHILD = "cpted_map_text"


@dataclass(frozen=True)
class MapTable:
    """One list of things a map draws.

    Attributes
    ----------
    title : str
        What the rows are ("Concerns on the map").
    rows : pandas.DataFrame
        One row per thing, columns named in plain words, names before ids.
    """

    title: str
    rows: pd.DataFrame


@dataclass(frozen=True)
class MapText:
    """A map in words.

    Attributes
    ----------
    summary : str
        One or a few sentences: what the map shows, how many, what the colours mean.
    tables : tuple of MapTable
        The things it draws, as lists (none for a map of one place).
    """

    summary: str
    tables: tuple[MapTable, ...] = ()

    def listed_elsewhere(self, where: str) -> MapText:
        """This text without its tables, saying where on the page the same list is."""
        return MapText(f"{self.summary} {where}", ())


class _Carrier(branca.element.MacroElement):
    """Holds a map's :class:`MapText`; renders nothing into the map's page."""

    _template = branca.element.Template("")  # type: ignore[attr-defined]  # branca has no type hints

    def __init__(self, text: MapText) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # branca has no type hints
        self._name = "MapText"
        self.text = text


def attach(fmap: folium.Map, text: MapText) -> folium.Map:
    """Keep ``text`` on ``fmap`` (replacing any text it had); returns ``fmap``."""
    carrier = _Carrier(text)
    carrier._parent = fmap
    fmap._children[_CHILD] = carrier
    return fmap


def text_of(fmap: folium.Map) -> MapText | None:
    """The text a builder attached to ``fmap``, or None."""
    carrier = fmap._children.get(_CHILD)
    return carrier.text if isinstance(carrier, _Carrier) else None


#: Where keyboard focus is on a map, drawn so it shows over any ground: a 3 px ring in the
#: app's own violet (#4B0082, 11:1 on white; WCAG 2.4.7 and 1.4.11 ask for a visible
#: indicator with 3:1) with a white halo for dark ground, on the map's box, Leaflet's
#: buttons and layer menu, pins and the legend's fold button (whose own rule is in
#: :data:`cpted.maps.common._LEGEND_CSS`). No "{" is followed by "#": branca reads this
#: as Jinja.
FOCUS_CSS = """
.leaflet-container:focus-visible { outline: 3px solid #4B0082; outline-offset: -3px; }
.leaflet-control a:focus-visible, .leaflet-control input:focus-visible,
.leaflet-control label:focus-visible, .leaflet-marker-icon:focus-visible {
  outline: 3px solid #4B0082; outline-offset: 1px; box-shadow: 0 0 0 5px #ffffff; }
"""


class KeyboardMap(branca.element.MacroElement):
    """Keeps a map's tab order short and names it for screen readers.

    Leaflet listens for focus on every feature with a tooltip, and Chromium then puts
    each such SVG shape in the tab order: a keyboard user would press Tab past a
    thousand streets and concerns to leave the map. The shapes leave the tab order
    (their tooltips' contents are in the map's text alternative); the map itself (arrow
    keys pan it, + and - zoom), its buttons, its layer menu, its legend and its pins
    keep their place, each with a focus ring (:data:`FOCUS_CSS`). The map's box is
    named as a region, with ``label``.
    """

    _template = branca.element.Template(  # type: ignore[attr-defined]  # branca has no type hints
        "{% macro header(this, kwargs) %}<style>" + FOCUS_CSS + "</style>{% endmacro %}"
        "{% macro script(this, kwargs) %}"
        "(function (map, label, words) {"
        "  function quiet(layer) {"
        "    var el = layer && layer.getElement ? layer.getElement() : null;"
        "    if (el && el instanceof SVGElement) el.setAttribute('tabindex', '-1');"
        "  }"
        "  map.eachLayer(quiet);"
        "  map.on('layeradd', function (e) { quiet(e.layer); });"
        "  var box = map.getContainer();"
        "  box.setAttribute('role', 'region');"
        "  box.setAttribute('aria-label', label);"
        "  function name(selector, text) {"
        "    var els = box.querySelectorAll(selector);"
        "    for (var i = 0; i < els.length; i++) {"
        "      els[i].setAttribute('title', text); els[i].setAttribute('aria-label', text); }"
        "  }"
        "  name('.leaflet-control-zoom-in', words.zoomIn);"
        "  name('.leaflet-control-zoom-out', words.zoomOut);"
        "  name('.leaflet-control-layers-toggle', words.layers);"
        "})({{ this._parent.get_name() }}, {{ this.label|tojson }}, {{ this.words|tojson }});"
        "{% endmacro %}")

    def __init__(self, label: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # branca has no type hints
        self._name = "KeyboardMap"
        self.label = label
        # Leaflet names its buttons in English; they are named again in the language in use
        self.words = {"zoomIn": _("Zoom in"), "zoomOut": _("Zoom out"),
                      "layers": _("Layers")}


def counted(n: int, one: str, many: str | None = None) -> str:
    """``"1 concern"``, ``"2,000 concerns"``: ``n`` written the way of the language in use
    before an English noun. (A translated count is ``ngettext("{n} concern", "{n}
    concerns", n).format(n=i18n.number(n))``, as the maps here write theirs.)"""
    return f"{i18n.number(n)} {one if n == 1 else (many or one + 's')}"


def listing(parts: Iterable[str]) -> str:
    """``"a, b and c"``; in another language as CLDR joins a list (``"a, b y c"``)."""
    items = [p for p in parts if p]
    if len(items) <= 1:
        return "".join(items)
    if i18n.current() != i18n.SOURCE:
        return format_list(items, locale=i18n.current())
    # English as the maps always wrote it, without the serial comma CLDR adds
    return ", ".join(items[:-1]) + " and " + items[-1]


def local_times(values: pd.Series, tz: str) -> pd.Series:
    """Times as ``YYYY-MM-DD HH:MM`` in ``tz`` (blank where missing)."""
    when = pd.to_datetime(values, utc=True).dt.tz_convert(tz)
    return when.dt.strftime("%Y-%m-%d %H:%M").fillna("")


def table(frame: pd.DataFrame, columns: dict[str, str], *,
          sort: Sequence[str] = (), ascending: bool | Sequence[bool] = True) -> pd.DataFrame:
    """``frame``'s ``columns`` (those present), renamed to their labels, as plain values
    on a fresh index, sorted by ``sort`` (labels)."""
    present = {c: label for c, label in columns.items() if c in frame.columns}
    out = pd.DataFrame(frame[list(present)]).rename(columns=present)
    if sort:
        out = out.sort_values(list(sort), ascending=ascending, kind="stable")
    return out.reset_index(drop=True)
