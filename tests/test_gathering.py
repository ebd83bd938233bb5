"""Gathering reports: inside a drawn area, nearest a click, summarised in plain words."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from cpted import gathering as g
from layers.errors import CRSError
from tests.geometries import BOWTIE, EMPTY_POLYGON, LINE, MULTI, POINT, SLIVER, SQUARE, D, X, Y


def reports() -> gpd.GeoDataFrame:
    """Five reports: two inside SQUARE, one on its edge, one in MULTI's second part, one far."""
    pts = [(X + D / 4, Y + D / 4), (X + D / 2, Y + D / 2), (X + D, Y + D / 2),
           (X + 2.5 * D, Y + D / 2), (X + 10 * D, Y + 10 * D)]
    return gpd.GeoDataFrame({
        "service_request_id": ["a", "b", "edge", "m", "far"],
        "service_code": ["graffiti", "dark_area", "graffiti", "litter", "litter"],
        "service_name": ["Graffiti", "Dark area", "Graffiti", "Litter", None],
        "requested_datetime": pd.to_datetime(
            ["2026-03-01 03:30", "2026-03-02 18:00", None, "2026-03-04 12:00",
             "2026-03-05 12:00"], utc=True),
        "description": ["Tags  on the\nwall", None, "x" * 80, "", "Bottles"],
        "address": ["1 Main St", "2 Main St", None, "4 Main St", None],
        "status": ["open", "open", "closed", "open", "open"],
    }, geometry=[shapely.Point(p) for p in pts], crs=4326)


@pytest.mark.parametrize(("area", "ids"), [
    (SQUARE, ["a", "b", "edge"]),  # a point on the edge counts as inside
    (MULTI, ["a", "b", "edge", "m"]),
    (BOWTIE, ["a", "edge"]),  # repaired into its two triangles, a and edge on their edges
])
def test_reports_in_area_are_those_inside_in_the_frames_order(
        area: shapely.Geometry, ids: list[str]) -> None:
    frame = reports()
    got = g.reports_in_area(frame, area)
    repaired = shapely.make_valid(area)
    assert got == [r for r, p in zip(frame["service_request_id"], frame.geometry, strict=True)
                   if repaired.covers(p)]
    if area is BOWTIE:  # b lies on the crossing point itself: in or out by rounding
        got = [r for r in got if r != "b"]
    assert got == ids


@pytest.mark.parametrize(("area", "message"), [
    (LINE, "got a LineString"), (POINT, "got a Point"), (None, "got nothing"),
    (EMPTY_POLYGON, "got a Polygon"), (SLIVER, "no size")])
def test_a_drawing_without_an_area_is_refused(area: shapely.Geometry | None,
                                              message: str) -> None:
    with pytest.raises(g.GatherError, match=message):
        g.reports_in_area(reports(), area)


def test_reports_must_be_lon_lat() -> None:
    with pytest.raises(CRSError, match="EPSG:4326"):
        g.reports_in_area(reports().to_crs(3857), SQUARE)
    with pytest.raises(CRSError, match="EPSG:4326"):
        g.nearest_report(reports().to_crs(3857), X, Y)


def test_no_reports_gather_nothing() -> None:
    assert g.reports_in_area(reports().iloc[0:0], SQUARE) == []
    assert g.nearest_report(reports().iloc[0:0], X, Y) is None


def test_a_click_picks_the_nearest_report_within_reach() -> None:
    frame = reports()
    ax, ay = X + D / 4, Y + D / 4
    metre_lat = 1 / 111_195  # degrees of latitude in a metre (mean Earth radius)
    assert g.nearest_report(frame, ax, ay + 10 * metre_lat) == "a"
    assert g.nearest_report(frame, ax, ay - 30 * metre_lat) is None  # past 25 m, away from b
    assert g.nearest_report(frame, ax, ay - 30 * metre_lat, within_m=40) == "a"
    assert g.CLICK_RADIUS_M == 25.0


def test_summaries_name_the_category_local_date_and_a_short_description() -> None:
    rows = g.report_summaries(reports(), ["b", "a", "edge", "far", "missing", "a"],
                              tz="America/Chicago", category_names={"dark_area": "Dark spot"},
                              max_chars=20)
    assert list(rows["id"]) == ["b", "a", "edge", "far"]  # given order, once, known only
    assert list(rows["category"]) == ["Dark spot", "Graffiti", "Graffiti", "litter"]
    # 03:30 UTC on 1 March is the evening of 28 February in Kansas City
    assert list(rows["date"]) == ["2026-03-02", "2026-02-28", "", "2026-03-05"]
    assert list(rows["description"]) == ["2 Main St", "Tags on the wall", "x" * 19 + "…",
                                         "Bottles"]
    assert list(rows["status"]) == ["open", "open", "closed", "open"]
