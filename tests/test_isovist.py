"""Isovists against cases whose visible area is known exactly (geometry by hand)."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
import shapely

from cpted.isovist import IsovistError, Sightlines, isovist_at

R = 100.0


def regular_polygon_area(n: int, r: float) -> float:
    """The ray-cast polygon of an open field is the inscribed regular n-gon."""
    return 0.5 * n * r * r * math.sin(2 * math.pi / n)


def test_open_field_sees_the_full_circle() -> None:
    iso = Sightlines([], radius_m=R, rays=360).at(10.0, -5.0)
    assert iso.area_m2 == pytest.approx(regular_polygon_area(360, R), rel=1e-12)
    assert iso.area_m2 == pytest.approx(math.pi * R * R, rel=1e-4)
    assert iso.openness == pytest.approx(1.0, abs=1e-4)
    # a building beyond the view distance changes nothing
    far = shapely.box(150, 150, 180, 180)
    assert Sightlines([far], radius_m=R).at(10.0, -5.0).area_m2 == pytest.approx(iso.area_m2)


def test_a_wall_beside_the_point_halves_it() -> None:
    d = 0.01  # the wall's face, 1 cm north of the point
    wall = shapely.box(-500, d, 500, d + 0.3)
    iso = Sightlines([wall], radius_m=R, rays=720).at(0.0, 0.0)
    # exact: the circle less the circular segment beyond the chord at distance d
    segment = R * R * math.acos(d / R) - d * math.sqrt(R * R - d * d)
    exact = math.pi * R * R - segment
    assert iso.area_m2 == pytest.approx(exact, rel=2e-4)
    assert iso.openness == pytest.approx(0.5, abs=2e-3)
    # nothing north of the wall face is visible
    assert iso.polygon.bounds[3] <= d + 1e-9


def test_a_wall_at_a_distance_cuts_the_segment_behind_it() -> None:
    d = 20.0
    wall = shapely.box(-500, d, 500, d + 1)
    iso = Sightlines([wall], radius_m=R, rays=1440).at(0.0, 0.0)
    segment = R * R * math.acos(d / R) - d * math.sqrt(R * R - d * d)
    assert iso.area_m2 == pytest.approx(math.pi * R * R - segment, rel=1e-3)


def test_inside_a_courtyard_only_the_courtyard_is_seen() -> None:
    block = shapely.Polygon(shapely.box(-40, -40, 40, 40).exterior.coords,
                            [shapely.box(-12, -8, 12, 8).exterior.coords[::-1]])
    iso = Sightlines([block], radius_m=R).at(3.0, 1.0)
    assert iso.area_m2 == pytest.approx(24 * 16, rel=1e-4)  # corners fall between rays
    assert iso.polygon.equals_exact(iso.polygon, 0)  # a valid polygon
    assert shapely.box(-12, -8, 12, 8).buffer(1e-6).contains(iso.polygon)


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
        assert np.array_equal(a.distances, b.distances)
        assert a.polygon.equals_exact(b.polygon, 0)
        # every ray stops at the first wall: its sight line never enters a building
        ends = shapely.get_coordinates(a.polygon.exterior)[:-1]
        rays = shapely.linestrings([[(x, y), (ex, ey)] for ex, ey in ends])
        assert shapely.length(shapely.intersection(rays, union)).max() < 1e-6
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
    # the shadow behind the building: the angle it subtends, as a share of the circle
    half = math.atan2(15, 20)
    shadow = (half / math.pi) * (math.pi * R * R) - (20 * 15)  # sector minus the near triangle
    assert placed.isovist.area_m2 == pytest.approx(math.pi * R * R - shadow, rel=0.01)
    poly = placed.polygon_wgs84
    assert poly.contains(shapely.Point(lon, lat))
    assert abs(poly.centroid.x - lon) < 0.001
