"""Concern categories told apart by marker shape as well as colour (cpted.maps.shapes)."""

from __future__ import annotations

import re

import pytest

from cpted.maps import PALETTE, MapLayers, build_gather_map, build_map, category_colors
from cpted.maps.shapes import SHAPES, ShapeMarker, category_shapes, shape_svg
from layers.schema import Layer
from layers.store import Store
from tests import test_maps_spots as spots


def test_the_first_categories_each_get_their_own_shape() -> None:
    codes = [f"c{k:02d}" for k in range(len(SHAPES))]
    assert len(set(category_shapes(codes).values())) == len(SHAPES)


def test_past_the_palette_no_two_categories_share_colour_and_shape() -> None:
    codes = [f"c{k:02d}" for k in range(3 * len(PALETTE))]
    colours, shapes = category_colors(codes), category_shapes(codes, colours=len(PALETTE))
    pairs = [(colours[c], shapes[c]) for c in codes]
    assert len(set(pairs)) == len(pairs)


def test_a_shape_marker_carries_its_corners_and_refuses_an_unknown_shape() -> None:
    assert ShapeMarker("triangle", radius=5).options["vertices"] == SHAPES["triangle"]
    assert "vertices" not in ShapeMarker("circle", radius=5).options  # Leaflet's own circle
    with pytest.raises(ValueError, match="shape should be one of"):
        ShapeMarker("blob", radius=5)
    # every polygon is centred on the point and about as large as the circle
    for name, corners in SHAPES.items():
        if corners is None:
            continue
        xs, ys = [x for x, _ in corners], [y for _, y in corners]
        assert abs(sum(xs) / len(xs)) < 0.35 and abs(sum(ys) / len(ys)) < 0.35, name
        assert 0.8 <= max(max(map(abs, xs)), max(map(abs, ys))) <= 1.6, name


def test_the_concern_map_draws_each_category_as_its_shape_and_the_legend_shows_it(
        sample_store: Store) -> None:
    concerns = sample_store.read(Layer.CONCERNS)
    page = build_map(MapLayers(concerns=concerns)).get_root().render()
    defined, used = page.find("L.ShapeMarker = L.CircleMarker.extend"), page.find(
        "new L.ShapeMarker(")
    assert 0 <= defined < used  # defined before the first layer makes one
    codes = concerns["service_code"].astype(str).tolist()
    shapes = category_shapes(codes)
    drawn = re.findall(r'"vertices": \[\s*\[\s*([-\d.]+),\s*([-\d.]+),', page)
    expected = [SHAPES[s] for s in shapes.values() if SHAPES[s] is not None]
    assert sorted((float(x), float(y)) for x, y in drawn) == sorted(
        (c[0][0], c[0][1]) for c in expected if c is not None)  # each category's first corner
    colours = category_colors(codes)
    for code, shape in shapes.items():
        assert shape_svg(shape, colours[code]) in page  # in the legend


def test_the_gathering_map_uses_the_same_shapes() -> None:
    reports = spots.reports()
    page = build_gather_map(reports).get_root().render()
    shapes = category_shapes(reports["service_code"].astype(str).tolist())
    for shape in set(shapes.values()):
        if SHAPES[shape] is not None:
            assert str(SHAPES[shape][0][0]) in page
    assert page.count("new L.ShapeMarker(") == len(set(shapes.values()))
