from __future__ import annotations

import html
import json
import re

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
