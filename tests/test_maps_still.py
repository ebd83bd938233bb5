"""The still map of one place (the Concern page's), read from its SVG.

Distances are checked against pyproj's geodesic on the WGS 84 ellipsoid, independent
of the Web Mercator scaling the map draws with.
"""

from __future__ import annotations

import base64
import html
import re
import xml.etree.ElementTree as ET

import geopandas as gpd
import pytest
import shapely
from pyproj import Geod

from cpted.basemap import base_frames
from cpted.maps.still import ground, place_svg

GEOD = Geod(ellps="WGS84")
HERE = (-94.5712, 39.0512)
ATTACK = "<img src=http://attacker.invalid/p.png> {{ 'pw' ~ 'ned' }} `${alert(1)}`"
SVG = "{http://www.w3.org/2000/svg}"


def east(metres: float, lonlat: tuple[float, float] = HERE) -> tuple[float, float]:
    lon, lat, _ = GEOD.fwd(lonlat[0], lonlat[1], 90, metres)
    return lon, lat


def north(metres: float, lonlat: tuple[float, float] = HERE) -> tuple[float, float]:
    lon, lat, _ = GEOD.fwd(lonlat[0], lonlat[1], 0, metres)
    return lon, lat


def city(street_name: str = "Main St", area_name: str = "Westport") -> dict[str, gpd.GeoDataFrame]:
    """A neighborhood around HERE, a north-south street 100 m east of it, an east-west
    one 60 m north, and a building: the base map's layers as base_frames makes them."""
    ne, sw = north(500, east(500)), north(-500, east(-500))
    hood = gpd.GeoDataFrame({"id": ["N1"], "name": [area_name], "secret": ["x"]},
                            geometry=[shapely.box(sw[0], sw[1], ne[0], ne[1])], crs=4326)
    x = east(100)[0]
    y = north(60)[1]
    streets = gpd.GeoDataFrame(
        {"id": ["S1", "S2"], "name": [street_name, "Larch Ave"],
         "class": ["arterial", "local"]},
        geometry=[shapely.LineString([(x, sw[1]), (x, ne[1])]),
                  shapely.LineString([(sw[0], y), (ne[0], y)])], crs=4326)
    b0, b1 = east(-60, north(-40)), east(-30, north(-20))
    buildings = gpd.GeoDataFrame({"id": ["B1"]}, geometry=[shapely.box(b0[0], b0[1], b1[0], b1[1])],
                                 crs=4326)
    return base_frames(hood, streets, buildings)


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def first_x(d: str) -> float:
    return float(re.match(r"M([-\d.]+),", d)[1])  # type: ignore[index]


def test_a_street_100_m_east_is_drawn_100_m_east_at_the_map_scale() -> None:
    width, span = 560, 360.0
    root = parse(place_svg(ground(city()), HERE, what="Graffiti", width=width, span_m=span).svg)
    px_per_m = width / span
    streets = [p for p in root.iter(f"{SVG}path") if p.get("class") == "street"]
    arterial = next(p for p in streets if p.get("stroke-width") == "7.0")
    assert first_x(arterial.get("d", "")) == pytest.approx(width / 2 + 100 * px_per_m, abs=1.0)
    # the pin's tip is the place itself: the centre of the map
    pin = next(g for g in root.iter(f"{SVG}g") if g.get("class") == "pin")
    assert pin.get("transform") == f"translate({width / 2 - 10.5:.1f},{320 / 2 - 30:.1f})"


def test_the_scale_bar_is_as_long_as_it_says() -> None:
    width, span = 560, 360.0
    root = parse(place_svg(ground(city()), HERE, what="Graffiti", width=width, span_m=span).svg)
    scale = next(g for g in root.iter(f"{SVG}g") if g.get("class") == "scale")
    word = next(scale.iter(f"{SVG}text")).text or ""
    metres = float(word.split()[0]) * (1000 if word.endswith("km") else 1)
    d = next(scale.iter(f"{SVG}path")).get("d", "")
    xs = [float(v) for v in re.findall(r"[MH]([-\d.]+)", d)]
    assert xs[1] - xs[0] == pytest.approx(metres * width / span, abs=0.5)


def test_names_of_streets_and_the_neighborhood_are_written_and_nothing_else() -> None:
    root = parse(place_svg(ground(city()), HERE, what="Graffiti").svg)
    texts = {t.text for t in root.iter(f"{SVG}text")}
    assert {"Main St", "Larch Ave", "Westport"} <= texts
    assert "x" not in texts and "S1" not in texts  # only base-map columns reach the map
    title = root.find(f"{SVG}title")
    assert title is not None and title.text is not None
    assert title.text.startswith("Map: Graffiti in Westport, near ")


def test_an_approximate_place_draws_the_circle_through_its_cell_corners() -> None:
    cell = 250.0
    width = 560
    svg = place_svg(ground(city()), HERE, what="Suspected drug activity", approximate_m=cell,
                    width=width).svg
    root = parse(svg)
    circle = next(c for c in root.iter(f"{SVG}circle") if c.get("stroke") == "#b30000")
    assert (float(circle.get("cx", 0)), float(circle.get("cy", 0))) == (width / 2, 160.0)
    span = 3.0 * cell * 2 ** 0.5 / 2 * width / 320  # widened to show the circle whole
    assert float(circle.get("r", 0)) == pytest.approx(cell * 2 ** 0.5 / 2 * width / span,
                                                      abs=0.1)
    assert "approximate area" in (root.findtext(f"{SVG}title") or "")


def test_record_text_is_escaped() -> None:
    svg = place_svg(ground(city(street_name=ATTACK, area_name=ATTACK)), HERE, what=ATTACK).svg
    parse(svg)  # well-formed: no markup got through
    assert "<img" not in svg
    assert "&lt;img src=http://attacker.invalid/p.png&gt;" in svg


def test_a_place_with_no_ground_still_shows_its_pin() -> None:
    root = parse(place_svg(ground({}), HERE, what="Graffiti").svg)
    assert any(g.get("class") == "pin" for g in root.iter(f"{SVG}g"))
    assert not [p for p in root.iter(f"{SVG}path") if p.get("class") == "street"]


def test_a_still_map_is_a_markdown_image_whose_words_cannot_become_markup() -> None:
    from app_pages._maps import still_img

    svg = '<svg xmlns="http://www.w3.org/2000/svg"><text>A &amp; B</text></svg>'
    said = 'Map: "Graffiti" <script>alert(1)</script> & more](javascript:x) *'
    tag = still_img(svg, said)
    # Markdown's own image, so no HTML is allowed through and no extra script is loaded
    assert tag.startswith("![") and tag.endswith(")") and "<" not in tag
    alt, _, rest = tag[2:].partition("](")
    assert rest.startswith("data:image/svg+xml;base64,")
    assert html.unescape(alt) == said  # a CommonMark reader decodes the references
    assert not set(alt) & set("[]()!*_`<>\"'")  # nothing a Markdown or HTML reader acts on
    payload = rest.split("base64,")[1][:-1]
    assert base64.b64decode(payload).decode() == svg  # the drawing itself, unchanged
