"""The illuminance model against worked examples by hand, superposition and an LM-63 file."""

from __future__ import annotations

import dataclasses
import math

import geopandas as gpd
import numpy as np
import pytest
import shapely

from cpted import lighting as L

DATA = dataclasses.replace(L.load_lighting_data(), maintenance_factor=1.0)


def one_pole(x: float, y: float, h: float, lumens: float, *, fixture: str = "test",
             out: bool = False) -> L.Inventory:
    return L.Inventory(np.array(["p1"], dtype=object), np.array([x]), np.array([y]),
                       np.array([h]), np.array([lumens]), np.array([fixture], dtype=object),
                       np.array([out]), np.array([False]), crs=None)


def with_distribution(dist: L.Distribution, **kw: float) -> L.LightingData:
    per_1000 = dist.scaled(1000.0 / dist.lumens())
    return dataclasses.replace(DATA, photometry={"test": per_1000}, **kw)


def test_worked_example_8000_cd_at_8_m() -> None:
    # One luminaire of 8,000 cd in every direction at 8 m; a point 6 m away horizontally.
    # r = 10 m, cos(theta) = 0.8: E_h = 8000 * 0.8^3 / 8^2 = 64 lux. Vertical illuminance
    # is taken 1.5 m above the ground, where RP-8 measures it (it used to be taken on the
    # ground, 48 lux here): the luminaire is 6.5 m above that plane, r^2 = 6^2 + 6.5^2 =
    # 78.25, and on the plane facing it E_v = I sin(theta) / r^2 = 8000 * 6 / 78.25^1.5.
    uniform = L.Distribution.uniform(8000.0)
    assert uniform.lumens() == pytest.approx(4 * math.pi * 8000, rel=1e-6)
    data = with_distribution(uniform)
    inv = one_pole(0.0, 0.0, 8.0, uniform.lumens())
    assert L.illuminance(inv, data, np.array([6.0]), np.array([0.0]))[0] == pytest.approx(
        64.0, rel=1e-6)
    assert L.illuminance(inv, data, np.array([0.0]), np.array([-6.0]), vertical=True)[0] == \
        pytest.approx(8000 * 6 / 78.25 ** 1.5, rel=1e-6)  # 69.34 lux
    # directly below: E = I / h^2; the maintenance factor scales everything
    assert L.illuminance(inv, data, np.array([0.0]), np.array([0.0]))[0] == pytest.approx(125.0)
    mf = dataclasses.replace(data, maintenance_factor=0.8)
    assert L.illuminance(inv, mf, np.array([6.0]), np.array([0.0]))[0] == pytest.approx(51.2)
    # a pole that is out gives nothing; past the reach nothing is summed. The reach is
    # computed from the distribution (under 1% of a street's average left out): for an
    # isotropic source 10 mounting heights = 80 m (it was a fixed 5 heights)
    assert uniform.reach_heights(0.01) == 10.0
    assert L.illuminance(one_pole(0, 0, 8, uniform.lumens(), out=True), data,
                         np.array([6.0]), np.array([0.0]))[0] == 0.0
    assert L.illuminance(inv, data, np.array([80.1]), np.array([0.0]))[0] == 0.0
    assert L.illuminance(inv, data, np.array([79.9]), np.array([0.0]))[0] > 0.0


def test_default_distribution_lights_the_ground_evenly_to_70_degrees() -> None:
    lumens = 12_000.0
    dist = L.Distribution.even_field(lumens)
    assert dist.lumens() == pytest.approx(lumens, rel=1e-3)
    inv = one_pole(0.0, 0.0, 9.0, lumens, fixture="hps")
    reach_even = 9.0 * math.tan(math.radians(70))
    d = np.array([0.0, 5.0, 12.0, 20.0, reach_even - 0.1])
    e = L.illuminance(inv, DATA, d, np.zeros_like(d))
    # I = I0 / cos^3: E = I cos^3 / h^2 = I0 / h^2 everywhere inside 70 degrees
    np.testing.assert_allclose(e, e[0], rtol=2e-3)
    assert e[0] == pytest.approx(dist.intensity(np.array([0.0]))[0] / 81, rel=1e-9)
    beyond = L.illuminance(inv, DATA, np.array([30.0, 44.0]), np.zeros(2))
    assert e[0] > beyond[0] > beyond[1] > 0  # falling off between 70 and 90 degrees
    assert dist.intensity(np.array([90.0, 120.0])).tolist() == [0.0, 0.0]  # no uplight
    # the hemisphere distribution's flux, integrated independently
    assert L.Distribution.lower_hemisphere(lumens).lumens() == pytest.approx(lumens, rel=1e-3)


def test_two_poles_superpose() -> None:
    inv = L.Inventory(np.array(["a", "b"], dtype=object), np.array([0.0, 30.0]),
                      np.array([0.0, 0.0]), np.array([8.0, 10.0]), np.array([9000.0, 16000.0]),
                      np.array(["hps", "hps"], dtype=object), np.array([False, False]),
                      np.array([False, False]), crs=None)
    rng = np.random.default_rng(0)
    x, y = rng.uniform(-20, 50, 200), rng.uniform(-20, 20, 200)
    both = L.illuminance(inv, DATA, x, y)
    a = L.illuminance(inv.with_changes(out=np.array([False, True])), DATA, x, y)
    b = L.illuminance(inv.with_changes(out=np.array([True, False])), DATA, x, y)
    np.testing.assert_allclose(both, a + b, rtol=1e-12)
    # and each against the formula written out with the default distribution
    d = np.hypot(x - 30.0, y)
    cos = 10.0 / np.hypot(d, 10.0)
    theta = np.degrees(np.arccos(cos))
    i = L.Distribution.even_field(16000.0).intensity(theta)
    reach = 10.0 * L.Distribution.even_field(1.0).reach_heights()  # 8.75 heights
    expected_b = np.where(d <= reach, i * cos**3 / 100.0, 0.0)
    np.testing.assert_allclose(b, expected_b, rtol=1e-9)


def test_lm63_file_written_and_read_back(tmp_path) -> None:
    # A type C file: candela falls with the angle from the nadir and differs by side.
    v = np.array([0, 15, 30, 45, 60, 75, 90], dtype=float)
    h = np.array([0, 90, 180], dtype=float)
    cd = np.array([[500, 520, 560, 600, 420, 150, 0],
                   [500, 560, 640, 700, 500, 200, 0],
                   [500, 480, 420, 300, 150, 40, 0]], dtype=float)
    p = L.Photometry({"TEST": "cpted", "MANUFAC": "test luminaire"}, 1, -1, 2.0, v, h, cd,
                     input_watts=80)
    path = tmp_path / "luminaire.ies"
    path.write_text(L.format_lm63(p))
    back = L.read_lm63(path)
    np.testing.assert_array_equal(back.vertical_deg, v)
    np.testing.assert_array_equal(back.horizontal_deg, h)
    np.testing.assert_array_equal(back.candela, cd)
    assert back.multiplier == 2.0 and back.keywords["MANUFAC"] == "test luminaire"
    dist = back.distribution()
    # The file is now kept asymmetric (it used to be averaged on reading): each plane is
    # there, unfolded about the 0-180 plane to a full circle, times the multiplier.
    assert not dist.symmetric
    np.testing.assert_allclose(dist.intensity(np.full(4, 45.0), np.array([0, 90, 180, 270])),
                               2.0 * np.array([600, 700, 300, 700]))
    # Asked with no direction (a pole whose orientation is unknown, as here: no streets)
    # it gives the mean round the circle: by the trapezoid rule (I0 + 2 I90 + I180) / 4
    at_45 = 2.0 * (600 + 2 * 700 + 300) / 4
    assert dist.intensity(np.array([45.0]))[0] == pytest.approx(at_45)
    # the model with this absolute photometry: a pole at 10 m, a point 10 m away (45 degrees)
    data = dataclasses.replace(DATA, photometry={"test": dist.scaled(1000 / dist.lumens())})
    inv = one_pole(0.0, 0.0, 10.0, dist.lumens())
    e = L.illuminance(inv, data, np.array([10.0]), np.array([0.0]))[0]
    assert e == pytest.approx(at_45 * math.cos(math.pi / 4) ** 3 / 100, rel=1e-9)
    # between tabulated angles intensity is linear: theta = atan(5/10) = 26.565 degrees
    theta = math.degrees(math.atan2(5, 10))
    mean = 2.0 * (cd[0] + 2 * cd[1] + cd[2]) / 4
    i = np.interp(theta, v, mean)
    e = L.illuminance(inv, data, np.array([5.0]), np.array([0.0]))[0]
    assert e == pytest.approx(i * (10 / math.hypot(5, 10)) ** 3 / 100, rel=1e-9)


def test_bad_lm63_files_are_explained() -> None:
    with pytest.raises(L.LightingDataError, match="no TILT= line"):
        L.parse_lm63("IESNA:LM-63-2002\n[TEST] x\n")
    with pytest.raises(L.LightingDataError, match="ends early"):
        L.parse_lm63("IESNA:LM-63-2002\nTILT=NONE\n1 1000 1 3 1 1 2 0 0 0\n1 1 100\n0 45 90\n0\n"
                     "100 50\n")
    with pytest.raises(L.LightingDataError, match="photometric type 3"):
        L.parse_lm63("TILT=NONE\n1 1000 1 2 1 3 2 0 0 0\n1 1 100\n0 90\n0\n100 0\n")
    with pytest.raises(L.LightingDataError, match="separate tilt file"):
        L.parse_lm63("TILT=lamp.tlt\n")


def test_inventory_defaults_and_outages() -> None:
    lights = gpd.GeoDataFrame(
        {"id": ["a", "b", "c", "d"], "lumens": [8000.0, None, None, None],
         "watts": [None, 100.0, None, 50.0], "mounting_height_m": [10.0, 8.0, None, 7.0],
         "status": ["working", "out", None, "working"],
         "fixture_type": [None, "HPS", None, "led"]},
        geometry=[shapely.Point(-94.58 + k * 0.001, 39.05) for k in range(4)], crs=4326)
    crs = lights.estimate_utm_crs()
    inv = L.inventory(lights, DATA, crs, out_ids=["d"])
    assert list(inv.defaulted) == [False, False, True, False]
    assert inv.lumens[0] == 8000.0
    assert inv.lumens[1] == pytest.approx(9500 * DATA.light_output_ratio)  # 100 W HPS lamp
    assert inv.lumens[2] == pytest.approx(16000 * DATA.light_output_ratio)  # default 150 W HPS
    assert inv.lumens[3] == pytest.approx(5000)  # 50 W LED at 100 lm/W
    assert list(inv.height_m) == [10.0, 8.0, DATA.default_height_m, 7.0]
    assert list(inv.out) == [False, True, False, True]
    assert "1 of 4 poles" in inv.warning()
    reports = gpd.GeoDataFrame({"service_request_id": ["r1", "r2"]},
                               geometry=[shapely.Point(-94.58 + 0.0001, 39.05),
                                         shapely.Point(-94.58, 39.06)], crs=4326)
    matched = L.match_outages(lights, reports, crs, radius_m=30)
    assert list(matched["service_request_id"]) == ["r1"] and list(matched["pole_id"]) == ["a"]
    assert matched["distance_m"].iloc[0] == pytest.approx(8.65, abs=0.1)


def test_grid_and_street_segments() -> None:
    inv = L.Inventory(np.array(["a", "b"], dtype=object), np.array([0.0, 40.0]),
                      np.array([0.0, 0.0]), np.array([8.0, 8.0]), np.array([20000.0, 20000.0]),
                      np.array(["hps", "hps"], dtype=object), np.array([False, True]),
                      np.array([False, False]), crs="EPSG:32615")
    grid = L.grid_over((-20, -10, 60, 10), 2.0)
    lux = L.lux_grid(inv, DATA, grid)
    assert lux.shape == (10, 40)
    gx, gy = grid.centres()
    np.testing.assert_allclose(lux.ravel(), L.illuminance(inv, DATA, gx, gy))
    with pytest.raises(Exception, match="more than"):
        L.grid_over((0, 0, 1e5, 1e5), 1.0)
    streets = gpd.GeoDataFrame({"id": ["lit", "dark"], "class": ["local", "local"]},
                               geometry=[shapely.LineString([(-10, 0), (10, 0)]),
                                         shapely.LineString([(30, 0), (50, 0)])],
                               crs="EPSG:32615")
    seg = L.segment_lux(streets, inv, DATA, spacing_m=1.0).set_index("id")
    assert not seg.loc["lit", "dark"]
    assert seg.loc["dark", "dark"] and "average" in seg.loc["dark", "why"]
    assert seg.loc["lit", "min_lux"] < seg.loc["lit", "avg_lux"]
    assert seg.loc["lit", "length_m"] == pytest.approx(20.0)


def test_poles_out_is_status_out_or_an_open_report_at_its_pole() -> None:
    # four poles 100 m apart along a street; "b" is out by status
    lon = [-94.58 + k * 0.00116 for k in range(4)]
    lights = gpd.GeoDataFrame({"id": ["a", "b", "c", "d"],
                               "status": ["working", "out", "working", None]},
                              geometry=[shapely.Point(x, 39.05) for x in lon], crs=4326,
                              index=[10, 11, 12, 13])
    near = 0.0001  # about 9 m of longitude here
    concerns = gpd.GeoDataFrame({
        "service_request_id": ["r1", "r2", "r3", "r4", "r5"],
        "service_code": ["streetlight_out", "streetlight_out", "streetlight_out", "dark_area",
                         "streetlight_out"],
        "status": ["open", "closed", "open", "open", "open"]},
        geometry=[shapely.Point(lon[2] + near, 39.05),   # open, 9 m from c: c is out
                  shapely.Point(lon[3] + near, 39.05),   # closed: d stays lit
                  shapely.Point(lon[0], 39.0506),        # open but 67 m from a: too far
                  shapely.Point(lon[0] + near, 39.05),   # not a light-out report
                  shapely.Point(lon[1] + near, 39.05)],  # open, at b: b is out either way
        crs=4326)
    out = L.poles_out(lights, concerns)
    assert out.name == "out" and out.dtype == bool
    assert list(out.index) == [10, 11, 12, 13]  # aligned on the lights
    assert out.to_dict() == {10: False, 11: True, 12: True, 13: False}
    # a wider radius takes in the far report; no concerns leaves the status alone
    assert L.poles_out(lights, concerns, radius_m=80.0).to_dict()[10]
    assert list(L.poles_out(lights, concerns.iloc[0:0])) == [False, True, False, False]
    # the lighting model's inventory, read from a store, marks the same poles out
    inv = L.inventory(lights, DATA, lights.estimate_utm_crs(),
                      out_ids=lights["id"][out].tolist())
    assert list(inv.out) == list(out)


def test_segments_carry_the_street_names() -> None:
    inv = L.Inventory(np.array(["a"], dtype=object), np.array([0.0]), np.array([0.0]),
                      np.array([8.0]), np.array([20000.0]), np.array(["hps"], dtype=object),
                      np.array([False]), np.array([False]), crs="EPSG:32615")
    streets = gpd.GeoDataFrame({"id": ["s1", "s2"], "name": ["Elm St", "  "],
                                "class": ["local", "local"]},
                               geometry=[shapely.LineString([(-10, 0), (10, 0)]),
                                         shapely.LineString([(30, 0), (50, 0)])],
                               crs="EPSG:32615")
    seg = L.segment_lux(streets, inv, DATA, spacing_m=1.0)
    assert list(seg["name"]) == ["Elm St", None]
    assert list(L.segment_lux(streets.drop(columns="name"), inv, DATA)["name"]) == [None, None]


def test_vertical_illuminance_at_1_5_m_facing_along_the_street() -> None:
    # RP-8 measures vertical illuminance 1.5 m above the pavement, facing along the
    # pedestrian's way. An isotropic 8,000 cd source 10 m up at (0, 5): 8.5 m above the
    # plane. At (-8, 0) a plane facing +x (toward the pole's side) gets I * 8 / r^3 with
    # r^2 = 8^2 + 5^2 + 8.5^2 = 161.25; facing -x it gets nothing.
    uniform = L.Distribution.uniform(8000.0)
    data = with_distribution(uniform)
    inv = one_pole(0.0, 5.0, 10.0, uniform.lumens())
    x, y = np.array([-8.0, -8.0]), np.array([0.0, 0.0])
    ev = L.illuminance(inv, data, x, y, vertical=True,
                       facing=(np.array([1.0, -1.0]), np.array([0.0, 0.0])))
    np.testing.assert_allclose(ev, [8000 * 8 / 161.25 ** 1.5, 0.0], rtol=1e-9)
    # a street from x = -20 to 20 between two such poles at x = -30 and 30: its least
    # vertical illuminance facing either way, against the same formula in plain numpy
    two = L.Inventory(np.array(["a", "b"], dtype=object), np.array([-30.0, 30.0]),
                      np.array([5.0, 5.0]), np.array([10.0, 10.0]),
                      np.array([uniform.lumens()] * 2), np.array(["test"] * 2, dtype=object),
                      np.array([False, False]), np.array([False, False]), crs="EPSG:32615")
    streets = gpd.GeoDataFrame({"id": ["s"], "class": ["local"]},
                               geometry=[shapely.LineString([(-20, 0), (20, 0)])],
                               crs="EPSG:32615")
    seg = L.segment_lux(streets, two, data, spacing_m=1.0, vertical=True)
    px = np.linspace(-20, 20, 41)
    facing_east = 8000 * (30 - px) / ((30 - px) ** 2 + 25 + 72.25) ** 1.5
    facing_west = 8000 * (px + 30) / ((px + 30) ** 2 + 25 + 72.25) ** 1.5
    assert seg.loc[0, "ev_min_lux"] == pytest.approx(np.minimum(facing_east,
                                                                facing_west).min(), rel=1e-9)
    assert seg.loc[0, "target_ev_min"] == DATA.targets["local"].ev_min_lux
    assert "ev_min_lux" not in L.segment_lux(streets, two, data).columns
