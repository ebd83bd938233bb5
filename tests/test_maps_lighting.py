"""The darkness map, read from its rendered HTML."""

from __future__ import annotations

import base64
import io
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from PIL import Image
from shapely import LineString, Point

from cpted.lighting import Inventory
from cpted.maps import build_darkness_map, lux_png
from cpted.maps.lighting import POLE_OUT_COLOR, WORK_COLORS, lux_color

ATTACK = "<img src=http://attacker.invalid/p.png>"
BOX = (-94.502, 39.098, -94.498, 39.102)  # west, south, east, north


def points(page: str, call: str) -> list[tuple[float, float]]:
    return [(float(a), float(b)) for a, b in re.findall(
        rf"L\.{call}\(\s*\[([-\d.]+), ([-\d.]+)\]", page)]


def streets() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"id": [ATTACK, "S2"], "class": ["local", "collector"]},
                            geometry=[LineString([(-94.501, 39.1), (-94.499, 39.1)]),
                                      LineString([(-94.5, 39.099), (-94.5, 39.101)])],
                            crs=4326)


def segments() -> pd.DataFrame:
    return pd.DataFrame({"id": [ATTACK, "S2"], "class": ["local", "collector"],
                         "avg_lux": [0.2, 9.0], "min_lux": [0.05, 4.0],
                         "target_avg": [4.0, 6.0], "target_min": [1.0, 1.5],
                         "dark": [True, False], "why": ["average, minimum", ""]})


def poles() -> Inventory:
    utm = 32615
    ll = gpd.GeoSeries([Point(-94.5005, 39.1001), Point(-94.4995, 39.0999)], crs=4326)
    xy = ll.to_crs(utm)
    n = 2
    return Inventory(ids=np.array([ATTACK, "P2"], dtype=object), x=xy.x.to_numpy(),
                     y=xy.y.to_numpy(), height_m=np.full(n, 8.0), lumens=np.full(n, 5000.0),
                     fixture=np.array(["cobra", "cobra"], dtype=object),
                     out=np.array([True, False]), defaulted=np.zeros(n, dtype=bool), crs=utm)


def lux() -> np.ndarray:
    return np.array([[0.0, 20.0], [np.nan, 5.0]])


def test_darkness_map_layers_positions_and_escaped_ids() -> None:
    work = gpd.GeoDataFrame({"rank": [1, 2], "item": [f"repair {ATTACK}", "new pole N1"],
                             "kind": ["repair", "new pole"], "cost_usd": [450.0, 6500.0]},
                            geometry=[Point(-94.5005, 39.1001), Point(-94.4992, 39.1012)],
                            crs=4326)
    page = build_darkness_map(streets(), segments(), lux(), BOX, poles(),
                              work=work).get_root().render()
    for name in ("Modelled lux", "Streets by lux against target", "Poles that are out",
                 "Work list"):
        assert f'"{name}"' in page
    # the picture covers the grid, corners in [lat, lon]
    assert re.search(r'L\.imageOverlay\(\s*"data:image/png;base64,[^"]+",\s*'
                     r"\[\[39\.098, -94\.502\], \[39\.102, -94\.498\]\]", page)
    centre = re.search(r"center: \[([-\d.]+), ([-\d.]+)\]", page)
    assert centre is not None
    assert tuple(map(float, centre.groups())) == pytest.approx((39.1, -94.5))
    # only the pole that is out is drawn, at [lat, lon]; then the two work items
    drawn = points(page, "circleMarker")
    assert [(round(a, 6), round(b, 6)) for a, b in drawn] == [
        (39.1001, -94.5005), (39.1001, -94.5005), (39.1012, -94.4992)]
    assert POLE_OUT_COLOR in page
    assert WORK_COLORS["repair"] in page and WORK_COLORS["new pole"] in page
    assert WORK_COLORS["upgrade"] not in page
    # streets as [lat, lon] lines with their numbers; ids escaped everywhere
    assert "[[39.1, -94.501], [39.1, -94.499]]" in page
    assert "[[39.099, -94.5], [39.101, -94.5]]" in page
    assert ("average 0.2 lux, minimum 0.1 (target 4.0 / 1.0) - short of target: average, "
            "minimum") in page
    assert "&lt;img src=http://attacker.invalid/p.png&gt; (out)" in page
    assert "#1 repair &lt;img" in page and "(&#36;450)" in page  # shown as $450
    assert "<img src=http://attacker.invalid" not in page


def test_the_key_is_on_the_map_with_the_work_kinds_drawn() -> None:
    work = gpd.GeoDataFrame({"rank": [1], "item": ["upgrade P2"], "kind": ["upgrade"],
                             "cost_usd": [900.0]}, geometry=[Point(-94.4995, 39.0999)],
                            crs=4326)
    page = build_darkness_map(streets(), segments(), lux(), BOX, poles(),
                              work=work).get_root().render()
    key = page[page.index('id="cpted-legend"'):]
    key = key[:key.index("</div></div>") + 12]
    for lux_value in (0.0, 1.0, 5.0, 20.0):  # the picture's own colours
        assert lux_color(lux_value) in key
    for label in ("under 0.5 lux", "20 lux or more", "far below its target average",
                  "at or above its target", "Pole that is out", "Upgrade"):
        assert label in key, label
    assert WORK_COLORS["upgrade"] in key
    assert "Repair" not in key and "New pole" not in key  # not in this work list
    # without a work list, no work rows at all
    bare = build_darkness_map(streets(), segments(), lux(), BOX, poles()).get_root().render()
    assert "Work list (large dots)" not in bare and "under 0.5 lux" in bare


def test_street_tooltips_give_the_name_before_the_id() -> None:
    seg = segments().assign(name=["Elm St", None])
    page = build_darkness_map(streets(), seg, lux(), BOX, poles()).get_root().render()
    assert "Elm St (&lt;img src=http://attacker.invalid/p.png&gt;, local): average 0.2" in page
    assert "S2 (collector): average 9.0" in page  # no name: the id alone


def test_lux_colours_follow_the_picture() -> None:
    # the key's colours are the picture's: the same lux gives the same pixel colour (to
    # within the rounding of one channel step: the picture truncates, hex rounds)
    uri = lux_png(np.array([[0.0, 5.0, 20.0]]))
    img = np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))))
    for k, value in enumerate((0.0, 5.0, 20.0)):
        hexed = lux_color(value)
        key = np.array([int(hexed[i:i + 2], 16) for i in (1, 3, 5)])
        assert np.abs(img[0, k, :3].astype(int) - key).max() <= 1, (value, hexed)
    assert lux_color(0.0) != lux_color(5.0) != lux_color(20.0)


def test_streets_are_coloured_by_lux_against_their_target() -> None:
    page = build_darkness_map(streets(), segments(), lux(), BOX, poles()).get_root().render()
    colours = re.findall(r'L\.polyline\(\s*\[\[[^\]]*\][^)]*?"color": "(#[0-9a-f]{6})"', page)
    assert len(colours) == 2
    import matplotlib

    cmap = matplotlib.colormaps["RdYlGn"]
    assert colours == [matplotlib.colors.to_hex(cmap(0.05)), matplotlib.colors.to_hex(cmap(1.0))]


def test_segments_must_match_the_streets() -> None:
    with pytest.raises(ValueError, match="one row per street"):
        build_darkness_map(streets(), segments().head(1), lux(), BOX, poles())


def test_lux_picture_is_dark_where_dark_and_clear_off_the_streets() -> None:
    uri = lux_png(lux())
    assert uri.startswith("data:image/png;base64,")
    img = np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))))
    assert img.shape == (2, 2, 4)
    assert img[1, 0, 3] == 0  # NaN: transparent
    assert img[0, 0, 3] > 0 and img[0, 1, 3] > 0
    assert img[0, 0, :3].sum() < img[1, 1, :3].sum() < img[0, 1, :3].sum()  # 0 < 5 < 20 lux


def test_street_tips_give_the_vertical_minimum_when_it_was_modelled() -> None:
    plain = build_darkness_map(streets(), segments(), lux(), BOX, poles()).get_root().render()
    assert "vertical at 1.5 m" not in plain
    seg = segments().assign(ev_min_lux=[0.04, 2.5], target_ev_min=[1.1, 2.2])
    page = build_darkness_map(streets(), seg, lux(), BOX, poles()).get_root().render()
    assert "vertical at 1.5 m at least 2.5 (target 2.2)" in page
    assert "vertical at 1.5 m at least 0.0 (target 1.1)" in page
