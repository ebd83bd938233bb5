"""Isovists against cases whose visible area is known exactly (geometry by hand), and
against an independent construction with shapely on random cases."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
import shapely

from cpted.isovist import NUDGE_M, IsovistError, Sightlines, isovist_at, wall_segments

R = 100.0
CIRCLE = math.pi * R * R


def circular_segment(d: float) -> float:
    """Area of the part of the view circle beyond a chord at distance ``d`` (by hand)."""
    return R * R * math.acos(d / R) - d * math.sqrt(R * R - d * d)


def test_open_field_sees_the_full_circle() -> None:
    iso = Sightlines([], radius_m=R).at(10.0, -5.0)
    assert iso.area_m2 == pytest.approx(CIRCLE, rel=1e-12)
    assert iso.openness == pytest.approx(1.0, rel=1e-12)
    # the drawn polygon follows the circle every degree: 1 - sin(s)/s of the area short
    s = math.radians(1.0)
    assert iso.polygon.area == pytest.approx(CIRCLE * math.sin(s) / s, rel=1e-9)
    # a building beyond the view distance changes nothing
    far = shapely.box(150, 150, 180, 180)
    assert Sightlines([far], radius_m=R).at(10.0, -5.0).area_m2 == pytest.approx(CIRCLE)


@pytest.mark.parametrize("d", [0.01, 20.0, 63.5])
def test_a_wall_cuts_off_the_circular_segment_behind_it(d: float) -> None:
    wall = shapely.box(-500, d, 500, d + 1)
    iso = Sightlines([wall], radius_m=R).at(0.0, 0.0)
    assert iso.area_m2 == pytest.approx(CIRCLE - circular_segment(d), rel=1e-12)
    assert iso.polygon.bounds[3] <= d + 1e-9  # nothing beyond the wall face


def test_a_square_room_sees_exactly_the_room() -> None:
    block = shapely.Polygon(shapely.box(-40, -40, 40, 40).exterior.coords,
                            [shapely.box(-12, -8, 12, 8).exterior.coords[::-1]])
    iso = Sightlines([block], radius_m=R).at(3.0, 1.0)
    assert iso.area_m2 == pytest.approx(24 * 16, rel=1e-12)
    assert iso.polygon.is_valid
    assert iso.polygon.equals_exact(shapely.box(-12, -8, 12, 8).normalize(), 1e-9) or \
        iso.polygon.symmetric_difference(shapely.box(-12, -8, 12, 8)).area < 1e-9


def test_one_box_obstacle_casts_its_analytic_shadow() -> None:
    # a box 20-30 m east of the point, 30 m tall: its front face hides the sector it
    # subtends (2 atan(15/20)) beyond the face; the back corners lie inside that sector
    box = shapely.box(20, -15, 30, 15)
    iso = Sightlines([box], radius_m=R).at(0.0, 0.0)
    half = math.atan2(15, 20)
    shadow = half * R * R - 20 * 15  # the sector less the triangle in front of the face
    assert iso.area_m2 == pytest.approx(CIRCLE - shadow, rel=1e-12)


def shadow_reference(x: float, y: float, boxes: list[shapely.Polygon]) -> float:
    """The visible area built another way: the view circle (a 16,384-gon, area scaled to
    the true circle) less the buildings and every wall's shadow (the wall extended away
    from the viewpoint, far past the circle), with shapely's overlay."""
    circle = shapely.Point(x, y).buffer(R, quad_segs=4096)
    starts, ends = wall_segments(np.array(boxes, dtype=object))
    shadows = []
    for a, b in zip(starts - (x, y), ends - (x, y), strict=True):
        span = abs(math.atan2(a[0] * b[1] - a[1] * b[0], float(a @ b)))
        far = 4 * R / max(math.cos(span / 2), 1e-3)
        quad = shapely.Polygon([a, b, b / np.hypot(*b) * far, a / np.hypot(*a) * far])
        if quad.is_valid and quad.area > 0:
            shadows.append(shapely.affinity.translate(quad, x, y))
    visible = circle.difference(shapely.union_all([*shadows, *boxes]))
    return float(visible.area)


def test_exact_isovists_agree_with_shapely_shadows_on_random_cases() -> None:
    rng = np.random.default_rng(5)
    tested = 0
    while tested < 25:
        n = int(rng.integers(1, 25))
        boxes = [shapely.box(x, y, x + w, y + h) for x, y, w, h in
                 zip(rng.uniform(-90, 90, n), rng.uniform(-90, 90, n), rng.uniform(3, 30, n),
                     rng.uniform(3, 30, n), strict=True)]  # overlaps allowed
        x, y = rng.uniform(-20, 20, 2)
        if shapely.union_all(boxes).intersects(shapely.Point(x, y)):
            continue
        iso = Sightlines(boxes, radius_m=R).at(float(x), float(y))
        # the reference's 16,384-gon is 2.5e-8 short of the circle: that is its error
        assert iso.area_m2 == pytest.approx(shadow_reference(x, y, boxes), rel=1e-7)
        assert iso.polygon.area == pytest.approx(iso.area_m2, rel=1e-4)  # chords only
        tested += 1


def test_a_viewpoint_on_a_wall_is_moved_outside_and_sees_no_further_through_it() -> None:
    house = shapely.box(0, 0, 10, 10)
    iso = Sightlines([house], radius_m=R).at(5.0, 10.0)  # on the north wall
    assert iso.origin == pytest.approx((5.0, 10.0 + NUDGE_M))
    assert not iso.polygon.intersection(house).area > 1e-9
    # by hand: the 10 m face, NUDGE_M away, hides the sector it subtends beyond it
    span = math.pi - 2 * math.atan2(NUDGE_M, 5.0)
    shadow = 0.5 * R * R * span - 0.5 * 10.0 * NUDGE_M
    assert iso.area_m2 == pytest.approx(CIRCLE - shadow, rel=1e-12)
    # on a corner: moved out along the corner's bisector, seeing three quarters
    iso = Sightlines([house], radius_m=R).at(10.0, 10.0)
    step = NUDGE_M / math.sqrt(2)
    assert iso.origin == pytest.approx((10.0 + step, 10.0 + step))
    assert iso.openness == pytest.approx(0.75, abs=1e-3)
    assert iso.polygon.intersection(house).area < 1e-9


def test_a_viewpoint_on_a_wall_between_two_touching_buildings_is_refused() -> None:
    a, b = shapely.box(0, 0, 10, 10), shapely.box(10, 0, 20, 10)  # they merge into one
    with pytest.raises(IsovistError, match="inside a building"):
        Sightlines([a, b], radius_m=R).at(10.0, 5.0)


def test_a_point_inside_a_building_is_refused() -> None:
    with pytest.raises(IsovistError, match="inside a building"):
        Sightlines([shapely.box(0, 0, 10, 10)]).at(5, 5)


def test_indexed_and_unindexed_isovists_are_identical() -> None:
    rng = np.random.default_rng(3)
    boxes = [shapely.box(x, y, x + w, y + h) for x, y, w, h in
             zip(rng.uniform(0, 1000, 400), rng.uniform(0, 1000, 400),
                 rng.uniform(5, 30, 400), rng.uniform(5, 30, 400), strict=True)]
    lines = Sightlines(boxes)
    union = shapely.union_all(boxes)
    tested = 0
    for x, y in zip(rng.uniform(100, 900, 40), rng.uniform(100, 900, 40), strict=True):
        if union.contains(shapely.Point(x, y)):
            continue
        a, b = lines.at(x, y), lines.at_unindexed(x, y)
        assert a.area_m2 == pytest.approx(b.area_m2, rel=1e-12)
        assert a.polygon.equals_exact(b.polygon, 1e-9)
        # no sight line enters a building
        assert a.polygon.intersection(union).area < 1e-6
        tested += 1
    assert tested > 20


def test_isovist_at_a_lon_lat_among_stored_buildings() -> None:
    lon, lat = -94.58, 39.05
    # one building 20 m east of the point, 30 m wide (north-south), 10 m deep
    pt = gpd.GeoSeries([shapely.Point(lon, lat)], crs=4326)
    crs = pt.estimate_utm_crs()
    xy = pt.to_crs(crs).iloc[0]
    b = gpd.GeoDataFrame(geometry=[shapely.box(xy.x + 20, xy.y - 15, xy.x + 30, xy.y + 15)],
                         crs=crs).to_crs(4326)
    placed = isovist_at(lon, lat, b)
    half = math.atan2(15, 20)
    shadow = half * R * R - 20 * 15
    # the footprint went through WGS84 and back (a few mm), so not to the last digit
    assert placed.isovist.area_m2 == pytest.approx(CIRCLE - shadow, rel=1e-4)
    poly = placed.polygon_wgs84
    assert poly.contains(shapely.Point(lon, lat))
    assert abs(poly.centroid.x - lon) < 0.001
