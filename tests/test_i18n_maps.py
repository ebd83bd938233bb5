"""The shared maps and the Progress charts in Spanish: legends, layer names, tooltips,
text alternatives and drawn chart text, built as the Map, Report, Concern,
Neighborhoods, Spots and Progress pages build them, with nothing asked of the catalogue
that it lacks.

The map HTML is read as the browser reads it: folium writes a tooltip's words as JSON
(``\\u00f3``) and the legend's as character references, so both are decoded first.
"""

from __future__ import annotations

import ast
import html
import re
from collections.abc import Iterator
from typing import Any

import geopandas as gpd
import matplotlib.text
import pandas as pd
import pytest
import shapely

from cpted import i18n
from cpted.i18n import _
from cpted.maps import MapLayers, build_choropleth, build_gather_map, build_map, build_spots_map
from cpted.maps.basemap import prepare
from cpted.maps.describe import MapText, text_of
from cpted.spots import SpotStatus
from layers.schema import Layer
from layers.store import Store
from tests.conftest import ROOT
from tests.test_i18n import _bare

#: English a map's legend, layer menu or tooltips used to show, none of which may be left
#: on a Spanish map (user text, such as a street's name, is never among them).
ENGLISH = ["Legend", "Neighborhood boundary", "Street (width by class)", "Streetlight:",
           "Solid with dark edge", "Building", "Vacant lot", "Time of day", "Description",
           "Address", "Concerns per", "darker = more", "Problem spots", "Thick black ring",
           "Reports in cell", "no data", "Zoom in", "Layers"]


@pytest.fixture(autouse=True)
def _fresh_record() -> Iterator[None]:
    i18n.forget_missing()
    yield
    i18n.forget_missing()


def shown(fmap: Any) -> str:
    """A map's page as its reader sees the words: JSON escapes and references decoded."""
    page = fmap.get_root().render()
    page = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m[1], 16)), page)
    return html.unescape(page)


def legend_of(page: str) -> str:
    start = page.index('id="cpted-legend"')
    return page[start:page.index("</div></div>", start)]


def words_of(text: MapText) -> str:
    return " ".join([text.summary, *(t.title for t in text.tables),
                     *(str(c) for t in text.tables for c in t.rows.columns)])


def parcels() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"id": ["p1", "p2"], "status": ["vacant_lot", "vacant_building"],
                             "owner_type": ["land_bank", "private"]},
                            geometry=[shapely.box(-94.585, 39.04, -94.584, 39.041),
                                      shapely.box(-94.583, 39.04, -94.582, 39.041)], crs=4326)


def test_the_layers_map_speaks_spanish(sample_store: Store) -> None:
    concerns = sample_store.read(Layer.CONCERNS)
    layers = MapLayers(concerns=concerns,
                       neighborhoods=sample_store.read(Layer.NEIGHBORHOODS),
                       streets=sample_store.read(Layer.STREETS),
                       streetlights=sample_store.read(Layer.STREETLIGHTS),
                       buildings=sample_store.read(Layer.BUILDINGS), parcels=parcels())
    with i18n.use("es"):
        fmap = build_map(layers, point_limit=5000, tz="America/Chicago")
        text = text_of(fmap)
        prepare(fmap, base="/", sources={})  # as show_map makes it ready
        page = shown(fmap)
    legend = legend_of(page)
    assert "<b>Leyenda</b>" in legend
    for word in ("Límite de barrio", "Calle (ancho según el tipo)", "Farola: apagada",
                 "Edificio", "Terreno baldío", "Edificio desocupado", "Grafiti (",
                 "Sólido con borde oscuro = abierto; pálido = cerrado"):
        assert word in legend, word
    # tooltips: the labels and the stored values as words
    for word in ('"Momento del día"', '"Dirección"', '"Problema informado"', '"Poste"',
                 '"Luminaria"', '"Tipo de propietario"', '"banco de tierras"', '"abierto"',
                 '"apagada"'):
        assert word in page, word
    # the layer menu and Leaflet's own buttons
    assert '"Barrios"' in page and '"Alumbrado público"' in page
    assert '"zoomIn": "Acercar"' in page and '"layers": "Capas"' in page
    assert "Mapa (las flechas lo mueven" in page
    assert [w for w in ENGLISH if w in legend] == []
    assert '"Time of day"' not in page and '"Status"' not in page and '"open"' not in page
    # open reports keep their dark edge though their status is now a Spanish word
    assert '{"color": "#000000", "fill": true, "fillColor": "#' in page
    assert text is not None
    said = words_of(text)
    assert re.match(r"Mapa de [\d.]+ problemas informados \([\d.]+ sin cerrar\), por "
                    r"categoría: ", text.summary), text.summary
    assert "También se muestran: " in text.summary and "8 límites de barrio" in text.summary
    assert "1 terreno baldío y 1 edificio desocupado" in text.summary
    assert re.search(r"[\d.]+ farolas \([\d.]+ funcionan", text.summary), text.summary
    assert text.tables[0].title == "Problemas informados en el mapa"
    assert list(text.tables[0].rows.columns)[:3] == ["Categoría", "Estado", "Detalle"]
    assert set(text.tables[0].rows["Estado"]) <= {"abierto", "cerrado"}
    assert "concerns" not in said and "Also drawn" not in said
    assert i18n.missing("es") == set()


def test_the_layers_map_counted_in_cells_and_with_a_pin_speaks_spanish(
        sample_store: Store) -> None:
    concerns = sample_store.read(Layer.CONCERNS)
    with i18n.use("es"):
        fmap = build_map(MapLayers(concerns=concerns), point_limit=10, tz="UTC",
                         pin=shapely.Point(-94.58, 39.04))
        text = text_of(fmap)
        page = shown(fmap)
    legend = legend_of(page)
    assert re.search(r"Problemas informados por celda de [\d.,]+ m \(más oscuro = más\)",
                     legend), legend
    assert '"Problemas informados en la celda"' in page and "Su informe" in page
    assert [w for w in ENGLISH if w in legend] == []
    assert text is not None
    assert re.search(r"problemas informados contados en [\d.]+ cuadrados de", text.summary)
    assert text.summary.endswith("Un marcador señala Su informe.")
    assert i18n.missing("es") == set()


def test_the_neighborhoods_choropleth_speaks_spanish(sample_store: Store) -> None:
    hoods = sample_store.read(Layer.NEIGHBORHOODS)
    values = [float("nan"), *(1000.0 * k for k in range(2, len(hoods) + 1))]  # to 8,000
    with i18n.use("es"):
        measure = _("Concerns")
        fmap = build_choropleth(hoods, values, [3000.0, 6000.0, 8000.0], measure=measure)
        text = text_of(fmap)
        page = shown(fmap)
    legend = legend_of(page)
    assert "<b>Problemas informados</b>" in legend and "sin datos" in legend
    assert re.search(r"\d\.\d{3} a \d\.\d{3}", legend), legend  # Spanish numbers, "a"
    assert [w for w in ENGLISH if w in legend] == [] and " to " not in legend
    assert '"Barrio", "Problemas informados"' in page
    assert text is not None
    assert text.summary.startswith(f"Mapa de {len(hoods)} barrios coloreados según problemas "
                                   "informados en 3 clases, más oscuro cuanto más: lo más "
                                   f"alto en {hoods['name'].iloc[-1]} (8.000)")
    assert text.tables[0].title == "Barrios en el mapa"
    assert list(text.tables[0].rows.columns) == ["Barrio", "Problemas informados", "Clase"]
    assert "1 de 3: " in " ".join(text.tables[0].rows["Clase"].astype(str))
    assert i18n.missing("es") == set()


def test_the_spots_maps_speak_spanish() -> None:
    from tests.test_maps_spots import reports

    spots = pd.DataFrame({"id": ["PS-1", "PS-2"], "title": ["Hedges on 5th", "Dark lot"],
                          "lon": [-94.58, -94.57], "lat": [39.04, 39.05],
                          "reports": [1, 2], "open": [1, 0]})
    status = pd.Series([SpotStatus.OVERDUE.value, SpotStatus.CLOSED.value])
    with i18n.use("es"):
        spot_map = build_spots_map(spots, status)
        gather = build_gather_map(reports(), gathered=["r1"], tz="UTC")
        spot_text, gather_text = text_of(spot_map), text_of(gather)
        spot_page, gather_page = shown(spot_map), shown(gather)
    legend = legend_of(spot_page)
    assert "<b>Puntos problemáticos</b>" in legend and "plan vencido" in legend
    assert "Hedges on 5th: plan vencido, 1 informe (1 sin cerrar) · PS-1" in spot_page
    assert "Dark lot: todos los informes cerrados, 2 informes (0 sin cerrar) · PS-2" in spot_page
    assert spot_text is not None and spot_text.summary.startswith(
        "Mapa de 2 puntos problemáticos, coloreados según su estado: 1 plan vencido y 1 ")
    assert [w for w in ENGLISH if w in legend] == []
    glegend = legend_of(gather_page)
    assert "<b>Informes</b>" in glegend and "Anillo negro grueso: reunido" in glegend
    assert "Grafiti" in glegend  # a shipped category, in Spanish
    assert "Reunidos (1)" in gather_page and "Informes (2)" in gather_page  # the layer menu
    assert "Dibujar un área para reunir sus informes" in gather_page  # the drawing tools
    assert [w for w in ENGLISH if w in glegend] == []
    assert gather_text is not None
    assert gather_text.summary.startswith("Mapa para reunir informes en un punto problemático: "
                                          "3 informes, 1 reunidos")
    assert list(gather_text.tables[0].rows.columns)[:3] == ["Categoría", "Reunido", "Informado"]
    assert set(gather_text.tables[0].rows["Reunido"]) == {"sí", ""}
    assert i18n.missing("es") == set()


def test_the_concern_pages_still_map_speaks_spanish() -> None:
    from cpted.maps.still import ground, place_svg
    from tests.test_maps_still import HERE, city

    with i18n.use("es"):
        exact = place_svg(ground(city()), HERE, what=_("Graffiti"))
        rough = place_svg(ground(city()), HERE, what=_("Graffiti"), approximate_m=250.0)
    assert exact.title.startswith("Mapa: Grafiti en Westport, cerca de ")
    assert "Main St" in exact.title
    assert f"<title>{exact.title}</title>" in exact.svg
    assert rough.title.endswith(", mostrado solo como un área aproximada")
    assert i18n.missing("es") == set()


def test_a_progress_chart_draws_its_words_in_spanish(
        sample_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    from cpted import accounts as acc
    from cpted import progress_charts as pc
    from cpted.access import Access

    drawn: list[str] = []

    def keep_text(fig: Any) -> bytes:
        drawn.extend(t.get_text() for t in fig.findobj(matplotlib.text.Text) if t.get_text())
        return b""

    progress = Access(sample_store, acc.public("reader")).progress()
    hood = next(iter(progress.names))
    monkeypatch.setattr(pc, "_png", keep_text)
    with i18n.use("es"):
        for key in ("reports", "closing", "safety"):
            pc.chart_png(progress, hood, key, last=12)
    words = " ".join(drawn)
    assert f"{progress.names[hood]}: Informes abiertos y cerrados" in drawn
    for word in ("informes abiertos", "informes cerrados", "informes",
                 "mediana de días hasta el cierre", "% de los informes con plazo vencido",
                 "media, intervalo t del 95\xa0%", "5 muy seguro"):
        assert word in drawn, word
    months = {t.split("\n")[0] for t in drawn if "\n" in t}
    assert months and months <= {"ene", "feb", "mar", "abr", "may", "jun", "jul", "ago",
                                 "sept", "oct", "nov", "dic"}, months
    assert "opened" not in words and "median days" not in words and "reports" not in words
    assert i18n.missing("es") == set()


# -- no bare English in the map modules ---------------------------------------------------

MODULES = ["cpted/maps/common.py", "cpted/maps/concerns.py", "cpted/maps/describe.py",
           "cpted/maps/choropleth.py", "cpted/maps/spots.py", "cpted/maps/shapes.py",
           "cpted/maps/still.py", "cpted/maps/basemap.py", "cpted/progress_charts.py"]
#: Calls whose arguments at these positions are words for people.
WORD_ARGS = {"legend": [0], "MapTable": [0], "MapText": [0], "KeyboardMap": [0],
             "set_ylabel": [0], "set_xlabel": [0], "set_title": [0], "_nothing": [1],
             "text": [2]}
#: Calls whose keywords are words for people: a layer's name, tooltips, a chart's labels.
WORD_KEYWORDS = {"FeatureGroup": {"name"}, "GeoJsonTooltip": {"aliases"},
                 "Marker": {"tooltip"}, "CircleMarker": {"tooltip"}, "build_map": {"pin_label"},
                 "plot": {"label"}, "bar": {"label"}, "errorbar": {"label"}}


def _bare_any(node: ast.AST) -> bool:
    if isinstance(node, ast.List | ast.Tuple):
        return any(_bare_any(e) for e in node.elts)
    if isinstance(node, ast.ListComp):
        return _bare_any(node.elt)
    return _bare(node)


def _name(func: ast.expr) -> str:
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def bare_english(source: str) -> list[str]:
    """Legend titles and rows, layer names, tooltip labels, text alternatives and chart
    labels in ``source`` that are literals with words, not passed through the catalogue:
    English a Spanish page would show."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            name = _name(node.func)
            args = [node.args[i] for i in WORD_ARGS.get(name, []) if i < len(node.args)]
            args += [k.value for k in node.keywords if k.arg in WORD_KEYWORDS.get(name, set())]
            if name == "append" and node.args and isinstance(node.args[0], ast.Tuple) \
                    and len(node.args[0].elts) == 3:  # a legend row (shape, colour, label)
                args.append(node.args[0].elts[2])
            found += [f"line {a.lineno}: {ast.unparse(a)[:60]}" for a in args if _bare_any(a)]
        if isinstance(node, ast.Assign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id in {"summary", "words", "tip"}
                   for t in targets) and _bare_any(node.value):
                found.append(f"line {node.lineno}: {ast.unparse(node.value)[:60]}")
    return found


@pytest.mark.parametrize("path", MODULES)
def test_the_map_modules_show_no_bare_english(path: str) -> None:
    assert bare_english((ROOT / path).read_text()) == []


def test_the_static_check_finds_bare_english() -> None:
    snippet = ('legend("Legend", rows)\n'
               'folium.FeatureGroup(name=f"Streets ({n})")\n'
               'summary = f"Map of {n} things"\n'
               'rows.append(("dot", c, "Open"))\n'
               'folium.GeoJsonTooltip(fields=["a"], aliases=["Street"])\n'
               'ax.set_ylabel("reports")\n'
               'legend(_("Legend"), rows)\n'
               'folium.GeoJsonTooltip(fields=["a"], aliases=[escape_text(_("Street"))])\n')
    assert sorted(f.split(":")[0] for f in bare_english(snippet)) == [
        "line 1", "line 2", "line 3", "line 4", "line 5", "line 6"]


def test_the_briefs_table_of_months_is_in_spanish(sample_store: Store) -> None:
    from cpted import accounts as acc
    from cpted import progress_charts as pc
    from cpted.access import Access

    progress = Access(sample_store, acc.public("reader")).progress()
    hood = next(iter(progress.names))
    with i18n.use("es"):
        table = pc.brief_table(progress, hood, last=3)
    assert table.columns[0] == "Medida"
    assert all(re.fullmatch(r"[a-z]{3,4} \d{4}", c) for c in table.columns[1:]), table.columns
    assert list(table["Medida"])[:2] == ["Informes abiertos", "Informes cerrados"]
    days = table.set_index("Medida").loc["Mediana de días hasta el cierre"]
    assert all(v == "–" or re.fullmatch(r"\d+,\d", v) for v in days), list(days)  # "2,5"
    assert i18n.missing("es") == set()
