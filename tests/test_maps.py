from __future__ import annotations

import html
import json
import re

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely import Point

from cpted.maps import MapLayers, aggregate_points, build_map, category_colors
from layers.schema import Layer
from layers.store import Store

XSS = '<img src=x onerror=alert(1)><script>alert("x")</script>'


def html_of(layers: MapLayers, **kw: object) -> str:
    return build_map(layers, **kw).get_root().render()


def test_user_text_is_escaped_in_the_map(sample_store: Store) -> None:
    c = sample_store.read(Layer.CONCERNS).head(3).copy()
    c.loc[c.index[0], "description"] = XSS
    c.loc[c.index[1], "service_name"] = "<b>bold</b>"
    page = html_of(MapLayers(concerns=c))
    assert "<img src=x" not in page and "<b>bold</b>" not in page
    values = {field: [json.loads(f'"{v}"') for v in re.findall(
        rf'"{field}": "((?:[^"\\]|\\.)*)"', page)] for field in ("description", "service_name")}
    # What reaches the browser is the escaped text, which a tooltip shows literally.
    assert html.escape(XSS) in values["description"]
    assert html.escape("<b>bold</b>") in values["service_name"]


def test_every_concern_is_drawn_below_the_limit(sample_store: Store) -> None:
    c = sample_store.read(Layer.CONCERNS)
    html = html_of(MapLayers(concerns=c), point_limit=5000)
    assert len(re.findall(r'"service_name":', html)) == len(c)
    for name in set(c["service_name"]):
        assert f"{name} (" in html  # a toggle and a legend line per category


def test_map_fits_the_data_in_lat_lon_order(sample_store: Store) -> None:
    c = sample_store.read(Layer.CONCERNS)
    html = html_of(MapLayers(concerns=c))
    m = re.search(r"fitBounds\(\s*\[\[([-\d.]+),\s*([-\d.]+)\],\s*\[([-\d.]+),\s*([-\d.]+)\]\]",
                  html)
    assert m is not None
    lat0, lon0, lat1, lon1 = map(float, m.groups())
    minx, miny, maxx, maxy = c.total_bounds
    assert (lat0, lon0, lat1, lon1) == (miny, minx, maxy, maxx)


def test_large_layers_are_aggregated_not_one_marker_each() -> None:
    rng = np.random.default_rng(1)
    n = 30_000
    pts = gpd.GeoDataFrame(
        {"service_code": "x", "service_name": "X", "status": "open"},
        index=range(n),
        geometry=gpd.points_from_xy(-94.58 + rng.random(n) * 0.02, 39.04 + rng.random(n) * 0.02),
        crs=4326)
    html = html_of(MapLayers(concerns=pts), point_limit=5000, cell_m=150)
    assert '"service_name"' not in html
    cells = aggregate_points(pts, cell_m=150)
    assert cells["count"].sum() == n
    assert len(html) < 1_000_000


def test_aggregation_counts_match_a_direct_count() -> None:
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy([-94.58, -94.5801, -94.57], [39.04] * 3),
                           crs=4326)
    cells = aggregate_points(pts, cell_m=100)
    assert sorted(cells["count"]) == [1, 2]  # two points 9 m apart share a cell
    # each cell contains the points it counts
    for _, cell in cells.iterrows():
        assert pts.within(cell.geometry).sum() == cell["count"]


def test_legend_lists_light_statuses_and_categories(sample_store: Store) -> None:
    html = html_of(MapLayers(concerns=sample_store.read(Layer.CONCERNS),
                             streetlights=sample_store.read(Layer.STREETLIGHTS)))
    legend = html[html.index('id="cpted-legend"'):]
    for label in ("Streetlight: working", "Streetlight: out", "Dark area / lighting"):
        assert label in legend


def test_colours_are_stable_across_filters() -> None:
    # Colours follow the sorted codes, so the same set always gets the same colours
    # whatever the order rows arrive in.
    full = category_colors(["a", "b", "c"])
    assert category_colors(["c", "b", "a", "a"]) == full
    assert len(set(full.values())) == 3


def test_empty_layers_give_a_map_anyway() -> None:
    empty = gpd.GeoDataFrame({"service_code": pd.Series(dtype=str)}, geometry=[], crs=4326)
    html = html_of(MapLayers(concerns=empty))
    assert "L.map" in html
    assert '"service_code"' not in html


def test_a_city_wide_layer_stays_small() -> None:
    """100,000 points over a 50 km square would need 110,000 cells of 150 m."""
    rng = np.random.default_rng(5)
    n = 100_000
    pts = gpd.GeoDataFrame(
        {"service_code": "x", "service_name": "X", "status": "open"}, index=range(n),
        geometry=gpd.points_from_xy(-94.9 + rng.random(n) * 0.6, 38.8 + rng.random(n) * 0.45),
        crs=4326)
    page = html_of(MapLayers(concerns=pts), point_limit=5000, cell_m=150, max_cells=3000)
    assert len(page.encode()) < 5 * 2**20
    cells = len(re.findall(r'"count":', page))
    assert 1000 < cells <= 3000
    size = float(re.search(r"Concerns per ([\d.]+) m cell", page).group(1))
    assert size > 150


# -- the shared helpers and attacker-shaped text --------------------------------------------

ATTACK = "<img src=http://attacker.invalid/p.png>"
CODE = "`${alert(1)}` \\u {{ 'pw' ~ 'ned' }} {% if 1 %}jinja{% endif %}"


def points(html_: str, call: str) -> list[tuple[float, float]]:
    """The ``[a, b]`` position of every ``L.<call>(`` in the rendered page."""
    return [(float(a), float(b)) for a, b in re.findall(
        rf"L\.{call}\(\s*\[([-\d.]+), ([-\d.]+)\]", html_)]


def test_latlon_swaps_lon_lat_into_leaflet_order() -> None:
    from shapely import LineString, Point

    from layers.crs import latlon

    assert latlon(Point(-94.5, 39.1)) == [39.1, -94.5]
    assert latlon((-94.5, 39.1)) == [39.1, -94.5]
    assert latlon(np.array([-94.5, 39.1, 250.0])) == [39.1, -94.5]  # a height is dropped
    for bad in (Point(), LineString([(0, 0), (1, 1)]), (1.0,)):
        with pytest.raises(ValueError, match="latlon needs"):
            latlon(bad)  # type: ignore[arg-type]


def test_escape_text_leaves_no_markup_script_or_template() -> None:
    from cpted.maps import escape_text

    assert escape_text(None) == "" and escape_text(float("nan")) == "" and escape_text(pd.NA) == ""
    assert escape_text(ATTACK) == "&lt;img src=http://attacker.invalid/p.png&gt;"
    out = escape_text(CODE)
    for dangerous in ("`", "${", "\\", "{{", "{%", "<", ">"):
        assert dangerous not in out
    assert html.unescape(out) == CODE  # shown to the reader exactly as written
    assert escape_text(pd.Timestamp("2024-05-01 21:30", tz="America/Chicago")) == \
        "2024-05-01 21:30"


def test_bounds_are_south_west_then_north_east_in_lat_lon() -> None:
    from cpted.maps.common import bounds_latlon

    assert bounds_latlon((-94.6, 39.0, -94.5, 39.1)) == [[39.0, -94.6], [39.1, -94.5]]


def attacked_layers() -> MapLayers:
    from shapely import LineString, Point, box

    pt = Point(-94.5, 39.1)
    concerns = gpd.GeoDataFrame({
        "service_code": ["dark_area"], "service_name": [ATTACK], "status": ["open"],
        "detailed_status": [CODE], "requested_datetime": [pd.Timestamp("2024-05-01", tz="UTC")],
        "time_of_day": ["night"], "description": [ATTACK + " ![x](http://attacker.invalid/m)"],
        "address": [ATTACK]}, geometry=[pt], crs=4326)
    hoods = gpd.GeoDataFrame({"id": ["N1"], "name": [ATTACK]},
                             geometry=[box(-94.51, 39.09, -94.49, 39.11)], crs=4326)
    streets = gpd.GeoDataFrame({"name": [ATTACK], "class": ["local"]},
                               geometry=[LineString([(-94.51, 39.1), (-94.49, 39.1)])], crs=4326)
    lights = gpd.GeoDataFrame({"id": [ATTACK], "status": ["out"], "fixture_type": [CODE],
                               "lumens": [4000]}, geometry=[Point(-94.501, 39.1)], crs=4326)
    return MapLayers(concerns=concerns, neighborhoods=hoods, streets=streets,
                     streetlights=lights)


def test_records_holding_markup_stay_text_on_the_layers_map() -> None:
    page = html_of(attacked_layers(), category_names={"dark_area": ATTACK},
                   pin=Point(-94.5, 39.1), pin_label=ATTACK)
    assert "<img src=http://attacker.invalid" not in page
    assert "&lt;img src=http://attacker.invalid/p.png&gt;" in page
    assert "pwned" not in page  # the Jinja in the record was not run on the server
    assert "`${alert(1)}`" not in page
    from cpted.maps import escape_text

    for field in ("detailed_status", "fixture_type"):  # GeoJSON properties, as the page has them
        found = re.findall(rf'"{field}": ("(?:[^"\\]|\\.)*")', page)
        assert [json.loads(v) for v in found] == [escape_text(CODE)]
    # the markdown image is plain text inside an escaped string, not an <img>
    assert "![x](http://attacker.invalid/m)" in page


def test_the_report_pin_is_drawn_at_lat_lon() -> None:
    page = html_of(MapLayers(), pin=Point(-94.5, 39.1))
    assert points(page, "marker") == [(39.1, -94.5)]
    assert 'L.divIcon' in page and r'fill=\"#d62728\"' in page and "Your report" in page
    assert "L.marker" not in html_of(MapLayers())


def test_an_empty_map_opens_on_the_district_in_lat_lon_order() -> None:
    page = html_of(MapLayers())
    assert "center: [39.05, -94.57]" in page


def test_choropleth_escapes_names_fits_lat_lon_and_shades_by_class() -> None:
    from shapely import box

    from cpted.maps import CHOROPLETH, build_choropleth

    hoods = gpd.GeoDataFrame({"id": ["N1", "N2", "N3"], "name": [ATTACK, "Cedar Bend", CODE]},
                             geometry=[box(-94.6, 39.0, -94.59, 39.01),
                                       box(-94.59, 39.0, -94.58, 39.01),
                                       box(-94.58, 39.0, -94.57, 39.02)], crs=4326)
    page = build_choropleth(hoods, [1.0, 10.0, float("nan")], [5.0, 10.0],
                            measure="Concerns <per> km²").get_root().render()
    assert "<img src=http://attacker.invalid" not in page and "<per>" not in page
    m = re.search(r"fitBounds\(\s*\[\[([-\d.]+), ([-\d.]+)\], \[([-\d.]+), ([-\d.]+)\]\]", page)
    assert m is not None and tuple(map(float, m.groups())) == (39.0, -94.6, 39.02, -94.57)
    klass = [int(k) for k in re.findall(r'"klass": (-?\d+)', page)]
    assert klass == [0, 1, -1]  # first bin, second bin, no data
    assert CHOROPLETH[-2] in page and CHOROPLETH[-1] in page and "#dddddd" in page
    assert '"id": "N2"' in page  # a click can be mapped back


# -- class labels of the choropleth's legend ------------------------------------------------

@pytest.mark.parametrize(("values", "classes", "expected"), [
    # a class holding one value reads as that value, never "116 to 116"
    ([80.0, 95.0, 116.0, 130.0, 150.0], [0, 0, 1, 2, 2],
     [(0, "80 to 95"), (1, "116"), (2, "130 to 150")]),
    # an empty class (equal bounds give one) is left out, the others keep their colours
    ([3.0, 3.0, 9.0], [0, 0, 2], [(0, "3"), (2, "9")]),
    # no data is not a class
    ([float("nan"), 4.0, 7.0], [-1, 0, 0], [(0, "4 to 7")]),
    ([], [], []),
])
def test_class_labels_read_what_each_class_holds(values: list[float], classes: list[int],
                                                 expected: list[tuple[int, str]]) -> None:
    from cpted.maps.choropleth import class_labels

    assert class_labels(values, classes) == expected


def test_class_labels_keep_decimals_and_thousands() -> None:
    from cpted.maps.choropleth import class_labels

    assert class_labels([1234.5, 2000.25], [0, 0], fmt="{:,.1f}") == [(0, "1,234.5 to 2,000.2")]
    with pytest.raises(ValueError, match="as long as each other"):
        class_labels([1.0, 2.0], [0])


def test_choropleth_legend_has_no_empty_or_doubled_class() -> None:
    from shapely import box

    from cpted.maps import build_choropleth
    from cpted.overlay import classify

    values = [116.0, 116.0, 40.0, 41.0, 300.0]
    hoods = gpd.GeoDataFrame({"id": [f"N{k}" for k in range(5)], "name": list("ABCDE")},
                             geometry=[box(-94.6 + k / 100, 39.0, -94.59 + k / 100, 39.01)
                                       for k in range(5)], crs=4326)
    bins = classify(pd.Series(values), k=5)
    page = build_choropleth(hoods, values, bins, measure="Concerns").get_root().render()
    legend = page[page.index('id="cpted-legend"'):]
    labels = re.findall(r"&nbsp;([^<]+)</div>", legend)
    assert labels == ["40", "41", "116", "300"]
    assert "116 to 116" not in page


# -- the legend's place on the map ----------------------------------------------------------

def legend_css(page: str) -> str:
    return page[page.index("<style>", page.index(".cpted-legend") - 200):page.index(
        "</style>", page.index(".cpted-legend"))]


def test_legend_sits_top_right_clear_of_the_scale_bar_and_folds_on_phones() -> None:
    from cpted.maps.common import legend

    page = html_of(MapLayers(streetlights=gpd.GeoDataFrame(
        {"id": ["P1"], "status": ["out"], "fixture_type": ["led"], "lumens": [4000]},
        geometry=[Point(-94.5, 39.1)], crs=4326)))
    css = legend_css(page)
    box = re.search(r"\.cpted-legend \{([^}]*)\}", css)
    assert box is not None
    rules = dict(r.strip().split(":", 1) for r in box.group(1).split(";") if r.strip())
    rules = {k.strip(): v.strip() for k, v in rules.items()}
    # top right, below the layer control's button (10 px margin + 48 px on touch screens) ...
    assert "left" not in rules and "bottom" not in rules  # the scale bar is bottom left
    assert rules["right"] == "10px" and int(rules["top"].removesuffix("px")) >= 58
    # ... under Leaflet's controls (z-index 1000), so the opened layer menu covers it
    assert int(rules["z-index"]) < 1000
    assert "max-height" in rules and rules["overflow"] == "auto"
    # on a narrow screen an open legend starts folded: its body is hidden until ticked
    narrow = css[css.index("@media (max-width: 640px)"):]
    assert re.search(r"\.cpted-legend-open \.cpted-legend-toggle:not\(:checked\) ~ "
                     r"\.cpted-legend-body \{ display: none; \}", narrow)
    assert 'class="cpted-legend cpted-legend-open"' in page
    assert '<label for="cpted-legend-toggle"' in page
    # a legend asked to start folded is folded at every width
    closed = legend("Key <b>", [("dot", "#000000", "x")], open_=False)
    root = folium.Map().get_root()
    root.add_child(closed)
    closed_page = root.render()
    assert 'class="cpted-legend cpted-legend-closed"' in closed_page
    assert "Key &lt;b&gt;" in closed_page and "Key <b>" not in closed_page


# -- category colours ------------------------------------------------------------------------

#: Machado, Oliveira & Fernandes (2009), "A physiologically-based model for simulation of
#: color vision deficiency", IEEE Transactions on Visualization and Computer Graphics
#: 15(6): 1291-1298, doi:10.1109/TVCG.2009.113: the severity 1.0 matrices on linear RGB
#: (their Table 1), as published. colour-science's ``matrix_cvd_Machado2009`` is what
#: the test below uses; it is first checked against these.
CVD = {
    "protanopia": ("Protanomaly", [[0.152286, 1.052583, -0.204868],
                                   [0.114503, 0.786281, 0.099216],
                                   [-0.003882, -0.048116, 1.051998]]),
    "deuteranopia": ("Deuteranomaly", [[0.367322, 0.860646, -0.227968],
                                       [0.280085, 0.672501, 0.047413],
                                       [-0.011820, 0.042940, 0.968881]]),
    "tritanopia": ("Tritanomaly", [[1.255528, -0.076749, -0.178779],
                                   [-0.078411, 0.930809, 0.147602],
                                   [0.004733, 0.691367, 0.303900]]),
    "normal vision": (None, np.eye(3).tolist()),
}

#: The least CIEDE2000 difference between any two category colours, with each kind of
#: colour vision. CIEDE2000 (Sharma, Wu & Dalal 2005, Color Res. Appl. 30(1)) is about 1
#: where a difference is just noticeable side by side; map dots are small and seen
#: apart, so we ask for ten times that.
MIN_DELTA_E_2000 = 10.0


def seen_as_lab(hex_colours: list[str], deficiency: str | None) -> np.ndarray:
    """CIELAB (D65) of sRGB ``hex_colours`` as seen with ``deficiency`` (colour-science's
    name, or None for normal vision), by Machado et al. (2009) at severity 1."""
    import colour

    srgb = np.array([[int(h[i:i + 2], 16) / 255 for i in (1, 3, 5)] for h in hex_colours])
    matrix = np.eye(3) if deficiency is None else machado(deficiency)
    linear = np.clip(colour.models.eotf_sRGB(srgb) @ matrix.T, 0, 1)
    xyz = colour.RGB_to_XYZ(linear, colour.RGB_COLOURSPACES["sRGB"],
                            apply_cctf_decoding=False)
    return np.asarray(colour.XYZ_to_Lab(xyz))


def machado(deficiency: str) -> np.ndarray:
    """colour-science's Machado et al. (2009) matrix at severity 1. For tritanomaly it
    warns that the paper models it by a shift of the S cone, an approximation the
    authors themselves give: known, so that warning alone is let through."""
    import warnings

    import colour

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*simulation of tritanomaly.*",
                                category=colour.utilities.ColourUsageWarning)
        return np.asarray(colour.blindness.matrix_cvd_Machado2009(deficiency, 1.0))


@pytest.mark.parametrize("vision", [v for v, (d, _) in CVD.items() if d])
def test_the_simulation_uses_the_published_matrices(vision: str) -> None:
    name, published = CVD[vision]
    assert name is not None
    np.testing.assert_allclose(machado(name), published, atol=1e-6)


@pytest.mark.parametrize("vision", list(CVD))
def test_category_colours_are_told_apart_with_each_colour_vision(vision: str) -> None:
    import colour

    from cpted.maps import PALETTE

    codes = [f"category_{k:02d}" for k in range(len(PALETTE))]
    colours = list(category_colors(codes).values())
    assert len(set(colours)) == len(PALETTE) == len(codes)
    lab = seen_as_lab(colours, CVD[vision][0])
    closest = min((float(colour.delta_E(lab[i], lab[j], method="CIE 2000")), colours[i],
                   colours[j]) for i in range(len(colours)) for j in range(i + 1, len(colours)))
    assert closest[0] >= MIN_DELTA_E_2000, closest


def test_two_colours_a_deficiency_confuses_are_caught() -> None:
    """The check can fail: red and green that differ only along the red-green axis look
    alike to a deuteranope (and are far apart with normal vision)."""
    import colour

    normal = seen_as_lab(["#d62728", "#8c8c00"], None)
    deutan = seen_as_lab(["#d62728", "#8c8c00"], "Deuteranomaly")
    assert float(colour.delta_E(*normal, method="CIE 2000")) > MIN_DELTA_E_2000
    assert float(colour.delta_E(*deutan, method="CIE 2000")) < MIN_DELTA_E_2000


def test_colours_repeat_only_past_the_palette() -> None:
    from cpted.maps import PALETTE

    many = category_colors([f"c{k:02d}" for k in range(len(PALETTE) + 2)])
    values = list(many.values())
    assert len(set(values[:len(PALETTE)])) == len(PALETTE)
    assert values[len(PALETTE)] == PALETTE[0]


def test_tooltips_give_report_times_in_the_apps_time_zone(sample_store: Store) -> None:
    c = sample_store.read(Layer.CONCERNS).head(1).copy()
    c["requested_datetime"] = pd.Timestamp("2026-07-01 03:15", tz="UTC")
    page = html_of(MapLayers(concerns=c), tz="America/Chicago")
    # 03:15 UTC is 22:15 the evening before in Chicago (CDT, UTC-5)
    assert "2026-06-30 22:15" in page and "2026-07-01 03:15" not in page
    assert '"Reported"' in page and "Reported (UTC)" not in page
