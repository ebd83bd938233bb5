"""The Report page's "Type the place": a report placed without the map (AppTest, with
st_folium patched to return what a test sets)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pyproj
import pytest
import shapely
from streamlit.testing.v1 import AppTest

from app_pages._text import md
from layers.schema import Layer
from layers.store import open_store
from tests.conftest import ROOT, by_label

APP = str(ROOT / "app.py")
UTM = pyproj.CRS.from_epsg(32615)

pytestmark = pytest.mark.usefixtures("fresh_streamlit_caches")


@pytest.fixture
def app(sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("CPTED_DB_URL", str(sample_db))
    monkeypatch.delenv("CPTED_STAFF_MODE", raising=False)  # as the public
    monkeypatch.chdir(ROOT)
    return AppTest.from_file(APP, default_timeout=60)


def crossing(db: Path, a: str, b: str) -> shapely.Point:
    """Where the sample's streets ``a`` and ``b`` cross, in UTM 15N metres (shapely, on
    the stored lines)."""
    with open_store(db) as s:
        streets = s.read(Layer.STREETS).to_crs(UTM)
    got = shapely.intersection(
        shapely.union_all(streets[streets["name"] == a].geometry.values),
        shapely.union_all(streets[streets["name"] == b].geometry.values))
    assert isinstance(got, shapely.Point), got
    return got


def metres(lon: float, lat: float) -> shapely.Point:
    return shapely.Point(pyproj.Transformer.from_crs(4326, UTM, always_xy=True)
                         .transform(lon, lat))


def find(app: AppTest, typed: str) -> None:
    by_label(app.text_input, "Type the place").input(typed)
    by_label(app.button, "Find").click().run()
    assert not app.exception


def test_a_typed_cross_street_places_the_report_at_the_crossing(
        app: AppTest, sample_db: Path, map_returns: list[dict[str, Any]]) -> None:
    app.switch_page("app_pages/report.py").run()
    # a click made before typing is stale once a place is typed: the map keeps
    # reporting it on every rerun, and it must not move the typed place
    map_returns[0] = {"last_clicked": {"lat": 39.0460, "lng": -94.5790}}
    app.run()
    assert any("39.04600, -94.57900" in c.value for c in app.caption)
    find(app, "39th and Linwood")
    chosen = f"Chosen place: {md('39th St & Linwood Blvd')} ("
    assert any(c.value.startswith(chosen) for c in app.caption), [c.value for c in app.caption]
    app.run()  # a rerun with the old click still reported
    assert any(c.value.startswith(chosen) for c in app.caption)
    by_label(app.selectbox, "Category").set_value("graffiti").run()
    by_label(app.text_area, "Description").input("Tags on the corner shop").run()
    by_label(app.button, "Submit report").click().run()
    if [b for b in app.button if b.label.startswith("None of these")]:
        by_label(app.button, "None of these: submit mine as a new report").click().run()
    assert any("Your report CR-" in m.value for m in app.success)
    with open_store(sample_db) as s:
        concerns = s.read(Layer.CONCERNS)
    new = concerns[concerns["description"] == "Tags on the corner shop"]
    assert len(new) == 1
    at = metres(new.geometry.iloc[0].x, new.geometry.iloc[0].y)
    assert at.distance(crossing(sample_db, "39th St", "Linwood Blvd")) < 0.5
    # the form starts afresh: no place, nothing typed
    assert any("No place chosen" in i.value for i in app.info)
    assert by_label(app.text_input, "Type the place").value == ""


def test_a_street_alone_is_approximate_and_says_so(app: AppTest,
                                                   map_returns: list[dict[str, Any]]) -> None:
    app.switch_page("app_pages/report.py").run()
    find(app, "Prospect Avenue")
    assert any(c.value.startswith("Chosen place: Prospect Ave (") for c in app.caption)
    assert any(i.value.startswith("Approximate. This is the middle of Prospect Ave.")
               for i in app.info), [i.value for i in app.info]


def test_an_ambiguous_place_is_chosen_from_a_list(app: AppTest,
                                                  map_returns: list[dict[str, Any]]) -> None:
    app.switch_page("app_pages/report.py").run()
    find(app, "Alley")
    choice = app.radio[0]
    assert choice.label == md("“Alley” could be 7 places: choose the one you mean.")
    assert all(o.startswith("Alley, near ") for o in choice.options)
    assert any("No place chosen" in i.value for i in app.info)  # nothing taken yet
    choice.set_value(choice.options[2]).run()
    assert any(c.value.startswith(f"Chosen place: {md(choice.options[2])} (")
               for c in app.caption)
    # the list stays, so the next option can be chosen in turn (as the arrow keys do)
    app.radio[0].set_value(app.radio[0].options[3]).run()
    assert any(c.value.startswith(f"Chosen place: {md(app.radio[0].options[3])} (")
               for c in app.caption)
    # a click on the map then wins, as the newest choice
    map_returns[0] = {"last_clicked": {"lat": 39.0461, "lng": -94.5791}}
    app.run()
    assert any("39.04610, -94.57910" in c.value for c in app.caption)
    assert not app.radio or app.radio[0].label != choice.label  # the list is gone


def test_nothing_found_says_why_in_plain_words(app: AppTest,
                                               map_returns: list[dict[str, Any]]) -> None:
    app.switch_page("app_pages/report.py").run()
    find(app, "Lindwood & 39th")
    assert [w.value for w in app.warning] == [md(
        "No street called “Lindwood” is in the streets layer. Did you mean Linwood Blvd?")]
    assert any("No place chosen" in i.value for i in app.info)
    find(app, "39th & 40th")
    assert any("39th St and 40th St do not meet" in w.value for w in app.warning)


def test_a_typed_place_meets_the_duplicate_check_like_a_click(
        app: AppTest, map_returns: list[dict[str, Any]]) -> None:
    for description in ("Tags on the wall", "The same tags"):
        app.switch_page("app_pages/report.py").run()
        find(app, "45th & Elm")
        by_label(app.selectbox, "Category").set_value("graffiti").run()
        by_label(app.text_area, "Description").input(description).run()
        by_label(app.button, "Submit report").click().run()
        if description == "Tags on the wall":
            if [b for b in app.button if b.label.startswith("None of these")]:
                by_label(app.button, "None of these: submit mine as a new report").click().run()
            assert any("Your report CR-" in m.value for m in app.success)
    # the second one, at the same crossing, is offered the first as a duplicate
    assert any(re.search(r"\d+ open reports? of the same kind (is|are) already", w.value)
               for w in app.warning)
    assert [b for b in app.button if b.label == "Me too"]


def test_a_typed_place_outside_the_area_is_refused_like_a_click(
        app: AppTest, sample_db: Path, map_returns: list[dict[str, Any]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from cpted import geocode

    far = geocode.Lookup("Far Rd & Away St", (geocode.Place(-90.0, 30.0, "Far Rd & Away St"),))
    monkeypatch.setattr(geocode, "find_place", lambda query, streets: far)
    with open_store(sample_db) as s:
        before = s.count(Layer.CONCERNS)
    app.switch_page("app_pages/report.py").run()
    find(app, "Far Rd & Away St")
    assert any(c.value.startswith(f"Chosen place: {md('Far Rd & Away St')}")
               for c in app.caption)
    by_label(app.selectbox, "Category").set_value("graffiti").run()
    by_label(app.button, "Submit report").click().run()
    assert any("outside the project area" in e.value for e in app.error), [
        e.value for e in app.error]
    with open_store(sample_db) as s:
        assert s.count(Layer.CONCERNS) == before
