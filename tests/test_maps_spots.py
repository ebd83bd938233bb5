"""The problem spot maps, read from their rendered HTML."""

from __future__ import annotations

import json
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cpted.maps import STATUS_COLORS, build_gather_map, build_spots_map
from cpted.spots import SpotStatus

ATTACK = "<img src=http://attacker.invalid/p.png>"


def reports() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({
        "service_request_id": ["r1", "r2", "r3"],
        "service_code": ["graffiti", "dark_area", "graffiti"],
        "service_name": ["Graffiti", "Dark area", "Graffiti"],
        "requested_datetime": pd.to_datetime(["2026-03-01 03:30", "2026-03-02 18:00",
                                              "2026-03-03 12:00"], utc=True),
        "description": [ATTACK, "Dark under the bridge", None],
        "address": ["1 Main St", None, "3 Main St"],
        "status": ["open", "open", "closed"],
    }, geometry=[shapely.Point(-94.58, 39.04), shapely.Point(-94.57, 39.05),
                 shapely.Point(-94.575, 39.045)], crs=4326)


def features(page: str) -> list[dict[str, object]]:
    """Every GeoJSON feature written into the page (folium's ``..._add({...})`` calls)."""
    out = []
    for m in re.finditer(r'_add\((\{"features".*?"type": "FeatureCollection"\})\);', page):
        out += json.loads(m.group(1))["features"]
    return out


def test_gather_map_rings_the_gathered_reports_and_offers_area_tools() -> None:
    page = build_gather_map(reports(), gathered=["r2"], category_names={"dark_area": "Dark"},
                            tz="America/Chicago").get_root().render()
    assert "L.Control.Draw" in page
    assert '"polygon": {' in page and '"rectangle": {' in page
    for off in ("polyline", "marker", "circlemarker", "circle"):
        assert f'"{off}": false' in page
    assert "Reports (2)" in page and "Gathered (1)" in page
    feats = features(page)
    ids = {f["properties"]["service_request_id"] for f in feats}  # type: ignore[index]
    assert ids == {"r1", "r2", "r3"}
    by_id = {f["properties"]["service_request_id"]: f for f in feats}  # type: ignore[index]
    # positions stay lon, lat in GeoJSON; dates in the app's zone; names from the catalogue
    assert by_id["r2"]["geometry"]["coordinates"] == [-94.57, 39.05]  # type: ignore[index]
    assert by_id["r1"]["properties"]["reported"] == "2026-02-28 21:30"  # type: ignore[index]
    assert by_id["r2"]["properties"]["category"] == "Dark"  # type: ignore[index]
    # record text is escaped: never markup in the page
    assert "<img src=http://attacker.invalid" not in page
    assert by_id["r1"]["properties"]["description"] == (  # type: ignore[index]
        "&lt;img src=http://attacker.invalid/p.png&gt;")
    m = re.search(r"fitBounds\(\s*\[\[([-\d.]+), ([-\d.]+)\], \[([-\d.]+), ([-\d.]+)\]\]", page)
    assert m is not None and tuple(map(float, m.groups())) == (39.04, -94.58, 39.05, -94.57)


def test_gather_map_without_reports_still_draws() -> None:
    page = build_gather_map(reports().iloc[0:0]).get_root().render()
    assert "L.Control.Draw" in page and "Gathered (" not in page


def test_spots_map_colours_by_status_and_names_before_ids() -> None:
    spots = pd.DataFrame({"id": ["PS-1", "PS-2"], "title": [ATTACK, "Hedges on 5th"],
                          "lon": [-94.58, -94.57], "lat": [39.04, 39.05],
                          "reports": [3, 2], "open": [2, 0]}, index=[10, 11])
    status = pd.Series([SpotStatus.OVERDUE.value, SpotStatus.CLOSED.value], index=[11, 10])
    page = build_spots_map(spots, status).get_root().render()
    found = re.findall(r"L\.circleMarker\(\s*\[([-\d.]+), ([-\d.]+)\],\s*\{(.*?)\}", page, re.S)
    got = {(float(a), float(b)): style for a, b, style in found}
    assert set(got) == {(39.04, -94.58), (39.05, -94.57)}
    # aligned on the index, not by position: PS-1 (index 10) is closed, PS-2 overdue
    assert STATUS_COLORS[SpotStatus.CLOSED.value] in got[(39.04, -94.58)]
    assert STATUS_COLORS[SpotStatus.OVERDUE.value] in got[(39.05, -94.57)]
    assert "Hedges on 5th: plan overdue, 2 reports (0 open) · PS-2" in page
    assert "<img src=http://attacker.invalid" not in page
    for label in STATUS_COLORS:
        assert label in page  # the legend names every status


def test_a_city_wide_gathering_map_counts_reports_in_cells() -> None:
    rng = np.random.default_rng(7)
    n = 60_000
    many = gpd.GeoDataFrame({
        "service_request_id": [f"r{i}" for i in range(n)], "service_code": "litter",
        "service_name": "Litter", "requested_datetime": pd.Timestamp("2026-03-01", tz="UTC"),
        "description": "x", "address": None, "status": "open"},
        geometry=gpd.points_from_xy(-94.9 + rng.random(n) * 0.6, 38.8 + rng.random(n) * 0.45),
        crs=4326)
    page = build_gather_map(many, gathered=["r5", "r9"], point_limit=3000,
                            max_cells=2000).get_root().render()
    assert len(page.encode()) < 3 * 2**20
    assert 500 < len(re.findall(r'"count":', page)) <= 2000
    assert "Reports (59,998, per" in page and "Gathered (2)" in page
    feats = [f for f in features(page) if "service_request_id" in f["properties"]]  # type: ignore[operator]
    assert {f["properties"]["service_request_id"] for f in feats} == {"r5", "r9"}  # type: ignore[index]
    assert "L.Control.Draw" in page
