from __future__ import annotations

import html
import json
import re

import geopandas as gpd
import numpy as np
import pandas as pd

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
