"""Finding a place by typing it (cpted.geocode), on small street sets made here.

The streets are drawn in UTM zone 15N metres around a point in Kansas City and stored,
as the store keeps them, in WGS84. Where two streets cross is computed again in each
test, independently of the module, with shapely on the same lines in metres (or known by
construction), and compared in metres.
"""

from __future__ import annotations

import geopandas as gpd
import pyproj
import pytest
import shapely

from cpted.geocode import find_place, street_tokens
from layers.store import Store

UTM = pyproj.CRS.from_epsg(32615)
ORIGIN = (363_000.0, 4_320_000.0)  # metres, near 39.02 N, 94.57 W


def line(*xy: tuple[float, float]) -> shapely.LineString:
    return shapely.LineString([(ORIGIN[0] + x, ORIGIN[1] + y) for x, y in xy])


def streets(rows: list[tuple[str | None, shapely.LineString]]) -> gpd.GeoDataFrame:
    """A streets layer (as stored: WGS84) from ``(name, line in metres)`` rows."""
    return gpd.GeoDataFrame(
        {"id": [f"S{k}" for k in range(len(rows))], "name": [n for n, _ in rows],
         "class": ["local"] * len(rows)},
        geometry=[g for _, g in rows], crs=UTM).to_crs(4326)


def metres(lon: float, lat: float) -> shapely.Point:
    x, y = pyproj.Transformer.from_crs(4326, UTM, always_xy=True).transform(lon, lat)
    return shapely.Point(x, y)


#: Main St runs north in two segments meeting at y = 0; 39th St runs east, crossing it in
#: the middle of a segment (no shared vertex); Broadway runs north-east across both.
MAIN = [line((0, -200), (0, 0)), line((0, 0), (0, 300))]
W39 = line((-300, 100), (300, 100))
BROADWAY = line((-250, -150), (350, 350))
GRID = streets([("Main St", MAIN[0]), ("Main St", MAIN[1]), ("W 39th Street", W39),
                ("Broadway", BROADWAY), ("Parallel Ave", line((100, -200), (100, 300)))])


def crossing(a: shapely.Geometry, b: shapely.Geometry) -> shapely.Point:
    got = shapely.intersection(a, b)
    assert isinstance(got, shapely.Point), got
    return got


def assert_at(place: object, expected: shapely.Point, *, within_m: float = 0.05) -> None:
    got = metres(place.lon, place.lat)  # type: ignore[attr-defined]
    assert got.distance(expected) <= within_m, (got, expected)


@pytest.mark.parametrize("typed", [
    "39th & Main", "39th and Main St", "Main / 39th", "39th St at Main",
    "MAIN ST. & W. 39TH STREET", "main street and 39", "  39 & main  ",
    "corner of 39th and Main", "39th & Main, Kansas City, MO 64111", "Main @ W 39th St",
])
def test_a_cross_street_is_where_the_two_streets_cross(typed: str) -> None:
    found = find_place(typed, GRID).found
    assert found is not None, find_place(typed, GRID)
    assert found.exact and found.note == ""
    assert_at(found, shapely.Point(ORIGIN[0], ORIGIN[1] + 100))  # by construction
    assert_at(found, crossing(shapely.union_all(MAIN), W39))
    assert found.label in ("Main St & W 39th Street", "W 39th Street & Main St")


def test_the_label_keeps_the_order_typed_and_the_stored_names() -> None:
    assert find_place("39th & Main", GRID).places[0].label == "W 39th Street & Main St"
    assert find_place("main & 39th", GRID).places[0].label == "Main St & W 39th Street"


def test_a_slanting_street_crosses_at_the_point_shapely_computes() -> None:
    found = find_place("Broadway & Main", GRID).found
    assert found is not None
    assert_at(found, crossing(BROADWAY, shapely.union_all(MAIN)))
    other = find_place("broadway and 39th st", GRID).found
    assert other is not None
    assert_at(other, crossing(BROADWAY, W39))
    assert_at(other, shapely.Point(ORIGIN[0] + 50, ORIGIN[1] + 100))  # by construction


def test_streets_that_do_not_meet_say_so() -> None:
    got = find_place("Parallel & Main", GRID)
    assert got.places == ()
    assert got.message.startswith("Parallel Ave and Main St do not meet")


def test_the_same_street_twice_is_refused_in_words() -> None:
    got = find_place("Main & Main St", GRID)
    assert got.places == () and "Both streets are Main St" in got.message


def test_a_street_ending_just_short_of_another_still_meets_it() -> None:
    layer = streets([("Main St", MAIN[0]), ("Main St", MAIN[1]),
                     ("Short Ln", line((-200, 50), (-4, 50)))])  # 4 m short of Main
    found = find_place("Short & Main", layer).found
    assert found is not None
    # the junction is on Main St, where Short Ln's end meets it
    assert_at(found, shapely.Point(ORIGIN[0], ORIGIN[1] + 50), within_m=0.1)
    far = streets([("Main St", MAIN[0]), ("Far Ln", line((-200, 50), (-40, 50)))])
    assert find_place("Far & Main", far).places == ()


def test_a_divided_road_crossing_is_one_place() -> None:
    layer = streets([("Main St", line((0, -200), (0, 300))),
                     ("Main St", line((12, -200), (12, 300))),  # the other carriageway
                     ("Oak St", line((-300, 0), (300, 0)))])
    got = find_place("Oak & Main", layer)
    assert len(got.places) == 1
    assert_at(got.places[0], shapely.Point(ORIGIN[0] + 6, ORIGIN[1]))


def test_an_ambiguous_name_gives_a_list_to_choose_from() -> None:
    layer = streets([("Main St", line((0, -200), (0, 300))),
                     ("Oak St", line((-300, 0), (300, 0))),
                     ("Oak Ave", line((-300, 200), (300, 200)))])
    got = find_place("Oak & Main", layer)
    assert got.found is None and len(got.places) == 2
    assert {p.label for p in got.places} == {"Oak St & Main St", "Oak Ave & Main St"}
    assert "choose" in got.message
    by_label = {p.label: p for p in got.places}
    assert_at(by_label["Oak Ave & Main St"], shapely.Point(ORIGIN[0], ORIGIN[1] + 200))
    # naming the street type settles it
    only = find_place("Oak Avenue & Main", layer).found
    assert only is not None and only.label == "Oak Ave & Main St"


def test_two_crossings_of_the_same_streets_are_told_apart() -> None:
    # Loop Rd leaves Main St and comes back to it 400 m further north
    loop = line((0, -100), (-200, -100), (-200, 300), (0, 300))
    layer = streets([("Main St", line((0, -300), (0, 500))), ("Loop Rd", loop),
                     ("Pine St", line((-300, 310), (100, 310)))])
    got = find_place("Loop & Main", layer)
    assert len(got.places) == 2
    expected = [shapely.Point(ORIGIN[0], ORIGIN[1] - 100), shapely.Point(ORIGIN[0],
                                                                         ORIGIN[1] + 300)]
    for place in got.places:
        assert min(metres(place.lon, place.lat).distance(e) for e in expected) < 0.05
    assert len({p.label for p in got.places}) == 2  # each label names a different place
    assert any("near Pine St" in p.label for p in got.places)


def test_a_street_name_alone_is_its_middle_and_approximate() -> None:
    found = find_place("Main Street", GRID).found
    assert found is not None and not found.exact
    # Main St runs from y = -200 to y = 300: its middle is at y = 50
    assert_at(found, shapely.Point(ORIGIN[0], ORIGIN[1] + 50), within_m=0.1)
    assert "middle of Main St" in found.note


def test_an_address_is_placed_on_its_street_and_says_the_number_cannot_be() -> None:
    found = find_place("4512 Main St", GRID).found
    assert found is not None and not found.exact and found.label == "Main St"
    assert_at(found, shapely.Point(ORIGIN[0], ORIGIN[1] + 50), within_m=0.1)
    assert "4512" in found.note and "house numbers" in found.note


def test_one_name_in_two_parts_of_the_city_is_a_choice() -> None:
    layer = streets([("Elm St", line((0, 0), (300, 0))),
                     ("Elm St", line((3000, 0), (3300, 0))),
                     ("Main St", line((150, -100), (150, 100))),
                     ("Cedar St", line((3100, -100), (3100, 100)))])
    got = find_place("elm", layer)
    assert len(got.places) == 2 and got.found is None
    labels = sorted(p.label for p in got.places)
    assert labels == ["Elm St, near Cedar St", "Elm St, near Main St"]
    # with a cross street only the part that meets it counts
    found = find_place("Elm & Cedar", layer).found
    assert found is not None
    assert_at(found, shapely.Point(ORIGIN[0] + 3100, ORIGIN[1]))


def test_nothing_found_gives_a_plain_message_with_close_spellings() -> None:
    got = find_place("Mian St & 39th", GRID)
    assert got.places == ()
    assert got.message == ("No street called “Mian St” is in the streets layer. Did you "
                           "mean Main St?")
    nothing = find_place("Nowhere Rd", GRID)
    assert nothing.places == () and "No street called “Nowhere Rd”" in nothing.message
    assert find_place("   ", GRID).message.startswith("Type a street")
    assert "two streets at most" in find_place("Main & 39th & Broadway", GRID).message


def test_a_wrong_street_type_is_offered_not_taken() -> None:
    got = find_place("Main Ave & 39th", GRID)
    assert got.found is None and len(got.places) == 1  # Main St, offered to choose
    assert got.places[0].label == "Main St & W 39th Street"
    assert got.message.startswith("No street is called exactly")


def test_unnamed_segments_are_left_out() -> None:
    layer = streets([("Main St", line((0, -200), (0, 300))), (None, W39)])
    assert find_place("Main", layer).found is not None


def test_a_layer_without_a_crs_is_refused() -> None:
    bare = gpd.GeoDataFrame({"name": ["Main St"]}, geometry=[line((0, 0), (0, 1))])
    with pytest.raises(ValueError, match="CRS"):
        find_place("Main", bare)


@pytest.mark.parametrize(("name", "tokens"), [
    ("39th St", ("39", "st")), ("39TH STREET", ("39", "st")), ("39 St.", ("39", "st")),
    ("Prospect Avenue", ("prospect", "ave")), ("prospect av", ("prospect", "ave")),
    ("N. Oak Blvd", ("n", "oak", "blvd")), ("Oak Boulevard North", ("oak", "blvd", "n")),
    ("St Louis Ave", ("st", "louis", "ave")), ("Alley", ("alley",)),
    ("Martin Luther King Jr. Dr", ("martin", "luther", "king", "jr", "dr")),
    ("1st", ("1",)), ("2nd Terrace", ("2", "ter")), ("", ()),
])
def test_street_tokens(name: str, tokens: tuple[str, ...]) -> None:
    assert street_tokens(name) == tokens


def test_the_sample_districts_cross_streets_resolve(sample_store: Store) -> None:
    from layers.schema import Layer

    layer = sample_store.read(Layer.STREETS)
    found = find_place("39th & Linwood", layer).found
    assert found is not None and found.label == "39th St & Linwood Blvd"
    a = shapely.union_all(layer[layer["name"] == "39th St"].to_crs(UTM).geometry.values)
    b = shapely.union_all(layer[layer["name"] == "Linwood Blvd"].to_crs(UTM).geometry.values)
    assert_at(found, crossing(a, b))
