"""The audit maps, read from their rendered HTML."""

from __future__ import annotations

import re

import geopandas as gpd
import pandas as pd
from shapely import LineString, Point, box

from cpted.maps import build_assess_map, build_audits_map, build_sightlines_map
from cpted.reports import score_color

ATTACK = "<img src=http://attacker.invalid/p.png>"


def points(page: str, call: str) -> list[tuple[float, float]]:
    return [(float(a), float(b)) for a, b in re.findall(
        rf"L\.{call}\(\s*\[([-\d.]+), ([-\d.]+)\]", page)]


def audits() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"place_name": [ATTACK, "Alley behind 5th"], "label": ["Strong", "Not scored"],
         "overall": [85.0, float("nan")], "period": ["night", "day"],
         "assessed_at": [pd.Timestamp("2024-05-01 22:00", tz="UTC")] * 2},
        geometry=[Point(-94.5, 39.1), LineString([(-94.51, 39.09), (-94.509, 39.091)])],
        crs=4326)


def test_audits_are_placed_lat_lon_and_coloured_by_score() -> None:
    hoods = gpd.GeoDataFrame({"name": [ATTACK]}, geometry=[box(-94.52, 39.08, -94.49, 39.11)],
                             crs=4326)
    page = build_audits_map(audits(), neighborhoods=hoods).get_root().render()
    assert points(page, "circleMarker") == [(39.1, -94.5)]
    assert score_color(85.0) in page and score_color(None) in page
    m = re.search(r"fitBounds\(\s*\[\[([-\d.]+), ([-\d.]+)\], \[([-\d.]+), ([-\d.]+)\]\]", page)
    assert m is not None and tuple(map(float, m.groups())) == (39.09, -94.51, 39.1, -94.5)
    assert "&lt;img src=http://attacker.invalid/p.png&gt;: Strong (85), night 2024-05-01" in page
    assert "Alley behind 5th: Not scored, day 2024-05-01" in page  # no score shown for NaN
    assert "<img src=http://attacker.invalid" not in page


def test_assess_map_centres_on_the_place_with_the_draw_control() -> None:
    sight = box(-94.5005, 39.0995, -94.4995, 39.1005)
    streets = gpd.GeoDataFrame(geometry=[LineString([(-94.501, 39.1), (-94.499, 39.1)])],
                               crs=4326)
    page = build_assess_map(Point(-94.5, 39.1), streets=streets,
                            sightlines=sight).get_root().render()
    assert "center: [39.1, -94.5]" in page and '"zoom": 17' in page
    assert "L.Control.Draw" in page
    assert '"marker": false' in page and '"rectangle": false' in page
    assert points(page, "circleMarker") == [(39.1, -94.5)] and "Audited place" in page
    assert "#4575b4" in page  # the sightlines are shaded
    assert "#888" in page  # the streets guide


def test_assess_map_without_a_place_opens_on_the_neighborhoods_or_the_district() -> None:
    hoods = gpd.GeoDataFrame(geometry=[box(-94.6, 39.0, -94.58, 39.02)], crs=4326)
    page = build_assess_map(None, neighborhoods=hoods).get_root().render()
    centre = re.search(r"center: \[([-\d.]+), ([-\d.]+)\]", page)
    assert centre is not None
    lat, lon = map(float, centre.groups())
    assert round(lat, 6) == 39.01 and round(lon, 6) == -94.59
    assert '"zoom": 15' in page and "L.circleMarker" not in page
    assert "center: [39.05, -94.57]" in build_assess_map(None).get_root().render()


def test_sightlines_map_shows_the_viewpoint_and_the_visible_area() -> None:
    page = build_sightlines_map(Point(-94.5, 39.1),
                                box(-94.501, 39.099, -94.499, 39.101)).get_root().render()
    assert "center: [39.1, -94.5]" in page
    assert points(page, "circleMarker") == [(39.1, -94.5)] and "Viewpoint" in page
    assert "[-94.501, 39.099]" in page  # GeoJSON itself stays lon, lat
    assert "#4575b4" in page


def test_an_audit_with_not_enough_answers_is_grey_and_shows_no_score() -> None:
    from cpted.reports import BAND_COLORS

    thin = gpd.GeoDataFrame(
        {"place_name": ["Corner lot"], "label": ["Not enough answers"], "overall": [0.0],
         "period": ["night"], "assessed_at": [pd.Timestamp("2024-05-01 22:00", tz="UTC")]},
        geometry=[Point(-94.5, 39.1)], crs=4326)
    page = build_audits_map(thin).get_root().render()
    assert "Corner lot: Not enough answers, night 2024-05-01" in page
    assert "(0)" not in page
    assert BAND_COLORS["Not enough answers"] in page
    assert score_color(0.0) not in page  # not painted "Poor"
