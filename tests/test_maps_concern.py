"""The one-concern map of the Concern page, read from its rendered HTML."""

from __future__ import annotations

import re

import pytest

from cpted.maps.concerns import build_concern_map

ATTACK = "<img src=http://attacker.invalid/p.png> {{ 'pw' ~ 'ned' }} `${alert(1)}`"


def calls(page: str, call: str) -> list[tuple[float, float]]:
    return [(float(a), float(b)) for a, b in re.findall(
        rf"L\.{call}\(\s*\[([-\d.]+), ([-\d.]+)\]", page)]


def test_the_marker_is_at_the_given_place_in_lat_lon_order() -> None:
    page = build_concern_map((-94.5712, 39.0512), "Graffiti").get_root().render()
    assert calls(page, "marker") == [(39.0512, -94.5712)]
    assert "center: [39.0512, -94.5712]" in page
    assert "Graffiti" in page
    assert "L.circle(" not in page  # an exact place has no approximate area


def test_an_approximate_place_keeps_its_point_and_draws_the_cell_around_it() -> None:
    page = build_concern_map((-94.5, 39.1), "Suspected drug activity",
                             approximate_m=250.0).get_root().render()
    assert calls(page, "marker") == [(39.1, -94.5)]
    assert calls(page, "circle") == [(39.1, -94.5)]
    radius = re.search(r'"radius": ([\d.]+)', page)
    assert radius is not None
    assert float(radius[1]) == pytest.approx(250 * 2 ** 0.5 / 2)  # through the cell's corners
    assert "Place shown only approximately" in page


def test_the_category_name_and_label_are_escaped() -> None:
    page = build_concern_map((-94.5, 39.1), ATTACK, label=ATTACK).get_root().render()
    assert "<img src=http://attacker.invalid" not in page
    assert page.count("&lt;img src=http://attacker.invalid/p.png&gt;") == 2
    assert "pwned" not in page  # the Jinja in the name was not run
    assert "`${alert(1)}`" not in page
