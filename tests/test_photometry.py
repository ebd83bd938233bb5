"""Asymmetric luminaires: IES lateral types from LM-63 files against hand computations,
aiming at the nearest street, and the reach cut against a plain numpy sum.

The LM-63 files are written here (type C, absolute photometry) with candela tables
shaped like each lateral type: the maximum on the street-side (90 degree) plane and
the half-maximum reached at a vertical angle whose tangent falls in the type's band
(ANSI/IES RP-8 lateral classification: II 1.0-1.75 MH, III 1.75-2.75 MH, IV beyond).
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from cpted import lighting as L
from cpted import photometry as P

VERTICAL = [0, 30, 45, 60, 70, 80, 90]
#: Candela per horizontal plane (0 and 180 along the street, 90 street side, 270 house
#: side) by the vertical angles above; the 360 plane repeats the 0 plane.
ALONG = [400, 450, 400, 300, 200, 50, 0]
HOUSE = [400, 300, 200, 100, 50, 0, 0]
STREET = {
    # half max (500 cd) between 45 (1000) and 60 (400): 57.5 deg, tan = 1.57 MH
    "II": [400, 600, 1000, 400, 100, 0, 0],
    # half max between 60 (1000) and 70 (400): 68.3 deg, tan = 2.52 MH
    "III": [400, 500, 700, 1000, 400, 100, 0],
    # half max between 70 (1000) and 80 (400): 78.3 deg, tan = 4.85 MH
    "IV": [300, 400, 500, 700, 1000, 400, 0],
}
CRS = "EPSG:32615"
X0, Y0 = 360_000.0, 4_320_000.0


def lm63_text(lateral: str, *, back_half: bool = False) -> str:
    """An LM-63-2002 file for ``lateral``: planes 0-360, or (``back_half``) the same
    luminaire written as symmetric about its 90-270 plane (planes 90, 180, 270)."""
    if back_half:
        h, rows = [90, 180, 270], [STREET[lateral], ALONG, HOUSE]
    else:
        h, rows = [0, 90, 180, 270, 360], [ALONG, STREET[lateral], ALONG, HOUSE, ALONG]
    return "\n".join(["IESNA:LM-63-2002", f"[TEST] lateral type {lateral}", "TILT=NONE",
                      f"1 -1 1 {len(VERTICAL)} {len(h)} 1 2 0 0 0", "1 1 60",
                      " ".join(map(str, VERTICAL)), " ".join(map(str, h)),
                      *(" ".join(map(str, r)) for r in rows)]) + "\n"


def data_with_file(tmp_path: Path, lateral: str, **kw: bool) -> L.LightingData:
    """The project's lighting data with one more luminaire shape, "test head", whose
    photometry is the LM-63 file for ``lateral``; maintenance factor 1."""
    (tmp_path / "test.ies").write_text(lm63_text(lateral, **kw))
    toml = L.LIGHTING_DATA.read_text(encoding="utf-8") + (
        '\n[luminaires."test head"]\nwords = ["test head"]\nies_file = "test.ies"\n'
        'source = "assumed"\n')
    (tmp_path / "lighting.toml").write_text(toml)
    return dataclasses.replace(L.load_lighting_data(tmp_path / "lighting.toml"),
                               maintenance_factor=1.0)


def pole_beside_a_street(data: L.LightingData, lumens: float) -> L.Inventory:
    """One 10 m pole named "LED test head" 5 m south of an east-west street."""
    lights = gpd.GeoDataFrame({"id": ["p"], "lumens": [lumens], "mounting_height_m": [10.0],
                               "fixture_type": ["LED test head"], "status": ["working"]},
                              geometry=[shapely.Point(X0, Y0)], crs=CRS)
    street = gpd.GeoSeries([shapely.LineString([(X0 - 200, Y0 + 5), (X0 + 200, Y0 + 5)])],
                           crs=CRS)
    return L.orient_to_streets(L.inventory(lights, data, CRS), street)


@pytest.mark.parametrize("lateral", ["II", "III", "IV"])
def test_each_lateral_type_from_an_lm63_file_against_hand_computation(
        tmp_path: Path, lateral: str) -> None:
    data = data_with_file(tmp_path, lateral)
    file_lumens = L.read_lm63(tmp_path / "test.ies").distribution().lumens()
    inv = pole_beside_a_street(data, 2 * file_lumens)  # twice the file's output
    assert list(inv.shapes()) == ["test head"]
    assert inv.fronts()[0] == pytest.approx(90.0)  # the street is due north
    assert data.luminaires["test head"].lateral == lateral
    assert P.lateral_type(data.luminaires["test head"].distribution) == lateral
    # E = 2 * I(theta, psi) * cos^3(theta) / h^2 at three points, I read off the table:
    # across the street (north, psi 90) at 10 m: theta 45
    # behind the pole (south, psi 270) at 10 tan 60 = 17.32 m: theta 60
    # along the street (east, psi 0) at 10 tan 30 = 5.77 m: theta 30
    h = 10.0
    t60, t30 = h * math.tan(math.radians(60)), h * math.tan(math.radians(30))
    x = np.array([X0, X0, X0 + t30])
    y = np.array([Y0 + 10.0, Y0 - t60, Y0])
    by_hand = [2 * STREET[lateral][2] * math.cos(math.radians(45)) ** 3 / h**2,
               2 * HOUSE[3] * math.cos(math.radians(60)) ** 3 / h**2,
               2 * ALONG[1] * math.cos(math.radians(30)) ** 3 / h**2]
    np.testing.assert_allclose(L.illuminance(inv, data, x, y), by_hand, rtol=1e-9)
    # the street side gets more than the same distance behind the pole
    front, back = L.illuminance(inv, data, np.array([X0, X0]), np.array([Y0 + 12, Y0 - 12]))
    assert front > 2 * back


def test_a_file_written_with_90_270_symmetry_unfolds_to_the_same_luminaire(
        tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    full = data_with_file(tmp_path / "a", "III")
    half = data_with_file(tmp_path / "b", "III", back_half=True)
    rng = np.random.default_rng(3)
    x, y = X0 + rng.uniform(-40, 40, 300), Y0 + rng.uniform(-40, 40, 300)
    lumens = 10_000.0
    a = L.illuminance(pole_beside_a_street(full, lumens), full, x, y)
    b = L.illuminance(pole_beside_a_street(half, lumens), half, x, y)
    np.testing.assert_allclose(a, b, rtol=1e-9)


def test_the_idealised_types_fall_in_their_bands_and_the_default_is_type_v() -> None:
    assert L.Distribution.even_field(1000.0).symmetric
    assert P.lateral_type(L.Distribution.even_field(1000.0)) == "V"
    for lateral, lo, hi in (("II", 1.0, 1.75), ("III", 1.75, 2.75), ("IV", 2.75, 8.0)):
        dist = L.Distribution.ies_type(lateral, 1000.0)
        assert P.lateral_type(dist) == lateral
        assert dist.lumens() == pytest.approx(1000.0, rel=1e-6)
        # the half-maximum trace on the street side, read off a ground grid here
        _x, w, cd = P.ground_pattern(dist, step_mh=0.01)
        reach = w[cd >= cd.max() / 2].max()
        assert lo < reach <= hi
        assert dist.intensity(np.array([95.0, 150.0]), np.array([90.0, 90.0])).tolist() \
            == [0.0, 0.0]  # no light upward
        # even on the ground inside its rectangle (3 MH along, 0.25 MH behind to 1.25 MH
        # across): E = I cos^3 at four points there, the same to the table's resolution
        gx, gw = np.array([0.0, 2.5, -2.5, 1.0]), np.array([0.0, 1.0, -0.2, 1.2])
        theta = np.degrees(np.arctan(np.hypot(gx, gw)))
        e = dist.intensity(theta, np.degrees(np.arctan2(gw, gx))) \
            * np.cos(np.radians(theta)) ** 3
        np.testing.assert_allclose(e, e[0], rtol=0.02)
    with pytest.raises(L.LightingDataError, match="lateral type"):
        L.Distribution.ies_type("VI", 1000.0)


def test_fixture_names_choose_the_distribution() -> None:
    data = L.load_lighting_data()
    assert L.fixture_shape("LED Cobra-Head", data) == "cobra head"
    assert L.fixture_shape("Cobrahead Semi Cutoff", data) == "cobra head"
    assert L.fixture_shape("Posttop", data) == "post top"
    assert L.fixture_shape("LED wall pack", data) == "wall pack"
    assert L.fixture_shape("HPS", data) == ""
    assert data.luminaires["cobra head"].lateral == "III"
    assert "IES Type III" in data.luminaires["cobra head"].describe()
    table = L.distribution_table(pole_beside_a_street(data, 5000.0), data)
    assert list(table.columns) == ["Lamp", "Luminaire", "Modelled as", "Poles"]
    assert table.iloc[0]["Luminaire"] == "not named"
    assert "Type V" in table.iloc[0]["Modelled as"]


def test_luminaires_face_the_nearest_street() -> None:
    data = L.load_lighting_data()
    # pole a: 4 m south of an east-west street and 30 m from a north-south one;
    # pole b: 3 m west of the north-south street; pole c on the east-west line itself
    lights = gpd.GeoDataFrame({"id": ["a", "b", "c"], "fixture_type": ["cobra head"] * 3},
                              geometry=[shapely.Point(X0, Y0 - 4),
                                        shapely.Point(X0 + 27, Y0 - 50),
                                        shapely.Point(X0 - 100, Y0)], crs=CRS)
    streets = gpd.GeoSeries([shapely.LineString([(X0 - 200, Y0), (X0 + 200, Y0)]),
                             shapely.LineString([(X0 + 30, Y0 - 200), (X0 + 30, Y0)])],
                            crs=CRS)
    inv = L.orient_to_streets(L.inventory(lights, data, CRS), streets)
    np.testing.assert_allclose(inv.fronts(), [90.0, 0.0, 90.0], atol=1e-6)
    # the same street point 8 m in front of pole b (east) and 8 m behind it (west)
    e = L.illuminance(inv.with_changes(out=np.array([True, False, True])), data,
                      np.array([X0 + 35.0, X0 + 19.0]), np.array([Y0 - 50, Y0 - 50]))
    assert e[0] > e[1]
    # a pole with no street anywhere keeps an unknown orientation
    assert np.isnan(L.orient_to_streets(L.inventory(lights, data, CRS),
                                        streets.iloc[0:0]).fronts()).all()


def line_share_beyond(dist: L.Distribution, cut_mh: float, offset_mh: float) -> float:
    """Share of the illuminance integral along a line ``offset_mh`` from a 1 MH pole
    (parallel to its 0-180 plane) that lies beyond ``cut_mh``: a plain numpy sum on a
    grid of its own, with the photometric formula written out."""
    x = np.arange(-120.0, 120.0, 0.002)
    r = np.hypot(x, offset_mh)
    theta = np.degrees(np.arctan(r))
    psi = None if dist.symmetric else np.degrees(np.arctan2(offset_mh, x))
    e = dist.intensity(theta, psi) * np.cos(np.radians(theta)) ** 3
    return float(e[r > cut_mh].sum() / e.sum()) if e.sum() > 0 else 0.0  # a line in the dark


@pytest.mark.parametrize("name", ["V", "II", "III", "IV"])
def test_the_reach_cut_leaves_out_under_one_percent(name: str) -> None:
    dist = (L.Distribution.even_field(1000.0) if name == "V"
            else L.Distribution.ies_type(name, 1000.0))
    cut = dist.reach_heights(0.01)
    offsets = [0.0, 0.5, 1.0] if name == "V" else [-1.0, 0.0, 1.0, 2.0]
    assert max(line_share_beyond(dist, cut, w) for w in offsets) < 0.01
    if name == "V":
        assert cut == 8.75
        # the old fixed cut of 5 mounting heights left out about 5% of the average
        assert line_share_beyond(dist, 5.0, 0.0) == pytest.approx(0.049, abs=0.002)


def test_street_average_with_the_cut_is_within_one_percent_of_the_uncut_sum() -> None:
    # a row of default (Type V) poles every 30 m, 9 m high, 6 m off a street; the model's
    # average along the street against an all-pairs numpy sum with no cut at all
    n, spacing, h = 60, 30.0, 9.0
    px = np.arange(n) * spacing
    inv = L.Inventory(np.array([f"p{k}" for k in range(n)], dtype=object), px,
                      np.full(n, -6.0), np.full(n, h), np.full(n, 8000.0),
                      np.full(n, "led", dtype=object), np.zeros(n, dtype=bool),
                      np.zeros(n, dtype=bool), crs=None)
    data = dataclasses.replace(L.load_lighting_data(), maintenance_factor=1.0)
    x = np.arange(600.0, 1200.0, 1.0)  # the middle, far from the row's ends
    y = np.zeros_like(x)
    ours = L.illuminance(inv, data, x, y)
    d = np.hypot(x[:, None] - px[None, :], y[:, None] + 6.0)
    cos = h / np.hypot(d, h)
    unit = L.Distribution.even_field(8000.0)
    uncut = (unit.intensity(np.degrees(np.arccos(cos))) * cos**3 / h**2).sum(axis=1)
    shortfall = 1 - ours.mean() / uncut.mean()
    assert 0 <= shortfall < 0.01
    five = (unit.intensity(np.degrees(np.arccos(cos))) * cos**3 / h**2
            * (d <= 5 * h)).sum(axis=1)
    assert 1 - five.mean() / uncut.mean() > 0.04  # what the fixed 5 heights lost


def test_vertical_illuminance_at_1_5_m_from_an_asymmetric_file(tmp_path: Path) -> None:
    data = data_with_file(tmp_path, "III")
    lumens = L.read_lm63(tmp_path / "test.ies").distribution().lumens()
    inv = pole_beside_a_street(data, lumens)
    # 8.5 m above the 1.5 m plane; a point 8.5 m north: theta 45 on the street side
    ev = L.illuminance(inv, data, np.array([X0]), np.array([Y0 + 8.5]), vertical=True)[0]
    r2 = 8.5**2 + 8.5**2
    assert ev == pytest.approx(STREET["III"][2] * math.sin(math.radians(45)) / r2, rel=1e-9)


@pytest.mark.realdata
def test_real_fixture_names_choose_their_luminaire(real_data: Path) -> None:
    """Washington DC's FIXTURESTYLE_DESC and Cambridge's Description, every distinct
    value, against the shape a reader would give it by hand."""
    import csv
    import json

    data = L.load_lighting_data()
    with open(real_data / "washington_dc/streetlights.csv", encoding="utf-8-sig") as f:
        dc = {r["FIXTURESTYLE_DESC"] for r in csv.DictReader(f)}
    cambridge = {str(feat["properties"].get("Description")) for feat in json.loads(
        (real_data / "cambridge/INFRA_StreetLights.geojson").read_text())["features"]}
    by_hand = {"Posttop": "post top", "Teardrop": "post top", "Cobrahead Cutoff": "cobra head",
               "Cobrahead Semi Cutoff": "cobra head", "Wallpack": "wall pack",
               "Spot Light": "flood", "Standard LED": "", "Chinatown Luminaire": "",
               "Incandescent Fixture": "", "Overhead Fixture": "",
               "Cobrahead": "cobra head", "Acorn": "post top", "Shoebox": "shoebox",
               "Ornamental Tear Drop": "post top", "Selux": "", "1907": "", "None": "",
               "Bega": "", "Central Sq High Bay": "", "Harvard Sq Barrell Flood": "flood",
               "Ornamental Central Sq": "", "Ornamental Gas": "", "Security Flood": "flood"}
    assert dc | cambridge == set(by_hand)  # every name the two files hold
    for name in sorted(by_hand):
        assert L.fixture_shape(name, data) == by_hand[name], name
    assert {"Posttop", "Cobrahead Cutoff", "Wallpack"} <= dc
    assert {"Cobrahead", "Acorn", "Shoebox"} <= cambridge
