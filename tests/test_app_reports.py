"""AppTest flows of the concern workflow, with st_folium patched to return a map click."""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from cpted import concerns as cc
from layers.schema import Layer
from layers.settings import load_settings
from layers.store import open_store
from tests.conftest import ROOT, by_label, frame_with

APP = str(ROOT / "app.py")
# A spot in the sample district with no open dark-area report within 50 m.
CLICK = {"lat": 39.0460, "lng": -94.5790}
#: The dark-area category's required question, marked as required.
LIGHT_QUESTION = "What is wrong with the light here? *"


pytestmark = pytest.mark.usefixtures("fresh_streamlit_caches")


@pytest.fixture
def app(sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("CPTED_DB_URL", str(sample_db))
    monkeypatch.setenv("CPTED_STAFF_MODE", "true")
    monkeypatch.chdir(ROOT)
    return AppTest.from_file(APP, default_timeout=60)


def fill_report(app: AppTest, description: str) -> None:
    by_label(app.selectbox, "Category").set_value("dark_area").run()
    by_label(app.selectbox, LIGHT_QUESTION).set_value("No light at all").run()
    by_label(app.text_area, "Description").input(description).run()
    by_label(app.radio, "When is it a problem?").set_value("night").run()


def test_report_duplicate_support_status_and_history(app: AppTest, sample_db: Path,
                                                     map_returns: list[dict[str, Any]]) -> None:
    with open_store(sample_db) as s:
        assert cc.find_duplicates(s, "dark_area", CLICK["lng"], CLICK["lat"]).empty
        before = s.count(Layer.CONCERNS)
    app.switch_page("app_pages/report.py").run()
    assert not app.exception
    assert any("No place chosen" in i.value for i in app.info)
    map_returns[0] = {"last_clicked": CLICK}
    app.run()
    assert any("39.04600, -94.57900" in c.value for c in app.caption)
    fill_report(app, "Alley behind the store is pitch black")
    by_label(app.button, "Submit report").click().run()
    assert not app.exception
    assert any("Your report CR-" in m.value for m in app.success)
    with open_store(sample_db) as s:
        assert s.count(Layer.CONCERNS) == before + 1
        new = s.read(Layer.CONCERNS).iloc[-1]
    assert new["description"] == "Alley behind the store is pitch black"
    assert (new["time_of_day"], new["status"]) == ("night", "open")
    rid = new["service_request_id"]

    # A neighbour reports the same thing: the duplicate is offered and supported instead.
    app.switch_page("app_pages/report.py").run()
    map_returns[0] = {"last_clicked": {"lat": CLICK["lat"] + 0.0001, "lng": CLICK["lng"]}}
    app.run()
    fill_report(app, "Same dark alley")
    by_label(app.button, "Submit report").click().run()
    assert any("already within 50 m" in w.value for w in app.warning)
    assert any(rid in m.value for m in app.markdown)
    by_label(app.button, "Me too").click().run()
    assert any("now with 1 supporter" in m.value for m in app.success)
    with open_store(sample_db) as s:
        assert s.count(Layer.CONCERNS) == before + 1  # no duplicate stored

    # A coordinator changes the status; a note is required.
    app.switch_page("app_pages/concern.py").run()
    by_label(app.selectbox, "Concern").set_value(rid).run()
    assert any("(open) · 1 supporter (" in m.value for m in app.markdown)
    # Form widgets are submitted together with the form's button, in one run.
    by_label(app.selectbox, "New status").set_value("action scheduled")
    by_label(app.button, "Save status").click().run()  # no note
    assert any("needs a note" in m.value for m in app.markdown)
    assert any(m.value.startswith("Status: **Submitted** (open)") for m in app.markdown)
    by_label(app.selectbox, "New status").set_value("action scheduled")
    by_label(app.text_area, "Note (required)").input("Crew booked for Tuesday")
    by_label(app.button, "Save status").click().run()
    assert not app.exception
    assert any(m.value.startswith("Status: **Action scheduled**") for m in app.markdown)
    history = app.dataframe[0].value
    assert list(history["kind"]) == ["Reported", "Me too", "Status changed"]
    assert history["change"].iloc[-1] == "Submitted → Action scheduled"
    assert history["note"].iloc[-1] == "Crew booked for Tuesday"


def test_public_sees_no_status_form_and_no_contact(sample_db: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CPTED_DB_URL", str(sample_db))
    monkeypatch.delenv("CPTED_STAFF_MODE", raising=False)
    monkeypatch.chdir(ROOT)
    with open_store(sample_db) as s:
        rid = cc.submit_report(s, cc.ReportDraft(
            "graffiti", -94.58, 39.04, "Tags", contact_email="me@example.org"))
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("app_pages/concern.py").run()
    by_label(at.selectbox, "Concern").set_value(rid).run()
    assert not at.exception
    assert not [b for b in at.button if b.label == "Save status"]
    assert not any("me@example.org" in str(e.value) for e in at.json)
    assert not any("Reporter contact" in e.label for e in at.expander)
    assert any("Status changes are made by" in c.value for c in at.caption)


def test_neighborhoods_page_scorecard_and_click(app: AppTest,
                                                map_returns: list[dict[str, Any]]) -> None:
    map_returns[0] = {"last_active_drawing": {"properties": {"id": "N2", "name": "Cedar Bend"}}}
    app.switch_page("app_pages/neighborhoods.py").run()
    assert not app.exception
    score = frame_with(app, "Median days to close").value
    assert len(score) == 8 and score["Concerns"].sum() == 2000
    n = score.set_index("Neighborhood").at["Cedar Bend", "Concerns"]
    assert any(h.value == f"Concerns in Cedar Bend ({n:,})" for h in app.subheader)
    # one percentage format for every share, on values held as percentages
    formats = json.loads(frame_with(app, "Median days to close").proto.columns)
    shares = {c: formats[c] for c in ("Closed within target", "Reopened")}
    assert {f["type_config"]["format"] for f in shares.values()} == {"%.0f%%"}
    assert score["Closed within target"].between(0, 100).all()
    assert score["Closed within target"].max() > 1  # percentages, not fractions
    # the neighborhood's concerns: plain labels, category names, local times, openable
    listed = next(d.value for d in app.dataframe if "Concern id" in d.value.columns)
    assert len(listed) == n
    assert listed.columns[0] == "Category" and listed.columns[-1] == "Concern id"
    assert "service_code" not in listed.columns
    assert listed["Reported"].str.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d").all()
    picked = listed["Concern id"].iloc[0]
    app.session_state["hood-concerns"] = {"selection": {"rows": [0], "columns": []}}
    app.run()
    assert not app.exception, app.exception
    assert app.title[0].value == "Concern" and app.session_state["concern_id"] == picked
    app.switch_page("app_pages/neighborhoods.py").run()
    by_label(app.radio, "Shade by").set_value("per_1000").run()
    assert not app.exception
    assert app.title[0].value == "Neighborhoods"  # back on the page, not sent on again


def test_problem_spot_and_overdue_plan(app: AppTest, sample_db: Path) -> None:
    from datetime import date

    from cpted import spots as sp

    with open_store(sample_db) as s:
        ids = s.read(Layer.CONCERNS, where={"status": ["open"]})["service_request_id"][:2]
        spot = sp.create_spot(s, "Dark corner at Elm", list(ids), actor="chair")
        # a web report has no address: the page must list it all the same
        cc.submit_report(s, cc.ReportDraft("graffiti", -94.58, 39.04, "Tags"))
        sp.create_plan(s, "Ask for a new light", owner_kind="city department",
                       owner_name="Public Works", due=date(2020, 1, 1), spot_id=spot,
                       actor="chair")
    app.switch_page("app_pages/spots.py").run()
    assert not app.exception
    assert any("1 action plan overdue" in e.value for e in app.error)
    plans = next(d.value for d in app.dataframe if "overdue" in d.value.columns)
    assert bool(plans["overdue"].iloc[0]) is True


def in_order(at: AppTest) -> list[Any]:
    """The page's elements in the order they are drawn (containers and empty
    placeholders left out)."""
    out: list[Any] = []

    def walk(node: Any) -> None:
        if node.type not in ("block", "main", "flex_container", "column", "empty"):
            out.append(node)
        children = getattr(node, "children", {})
        for k in sorted(children):
            walk(children[k])

    walk(at.main)
    return out


def position(elements: list[Any], kind: str, label: str) -> int:
    """Where the first ``kind`` element labelled (or valued) ``label`` is in ``elements``."""
    for i, e in enumerate(elements):
        if e.type == kind and label in (getattr(e, "label", None), getattr(e, "value", None)):
            return i
    raise AssertionError(f"no {kind} {label!r} on the page")


def start_report(app: AppTest, map_returns: list[dict[str, Any]]) -> None:
    app.switch_page("app_pages/report.py").run()
    map_returns[0] = {"last_clicked": CLICK}
    app.run()
    by_label(app.selectbox, "Category").set_value("dark_area").run()


def test_required_questions_are_marked_and_refused_beside_the_field_and_on_top(
        app: AppTest, sample_db: Path, map_returns: list[dict[str, Any]]) -> None:
    with open_store(sample_db) as s:
        before = s.count(Layer.CONCERNS)
    start_report(app, map_returns)
    by_label(app.selectbox, "Category").set_value("streetlight_out").run()
    labels = [w.label for w in app.selectbox] + [w.label for w in app.text_input]
    assert "What does the light do? *" in labels  # required
    assert "The number on the pole, if you can read it." in labels  # optional: no mark
    assert "Questions marked * need an answer." in [c.value for c in app.caption]
    by_label(app.selectbox, "Category").set_value("dark_area").run()
    by_label(app.text_area, "Description").input("Dark corner").run()
    by_label(app.button, "Submit report").click().run()  # the light question unanswered
    assert not app.exception
    with open_store(sample_db) as s:
        assert s.count(Layer.CONCERNS) == before  # refused, nothing stored
    page = in_order(app)
    beside = "The question “What is wrong with the light here?” needs an answer."
    # next to the field: the error drawn right after the question, as a sentence
    question = position(page, "selectbox", LIGHT_QUESTION)
    assert page[question + 1].type == "error" and page[question + 1].value == beside
    # and summed up at the top of the form, above the category
    summary = [i for i, e in enumerate(page) if e.type == "error" and e.value != beside]
    assert len(summary) == 1
    top = page[summary[0]]
    assert top.value.startswith("The report was not saved.")
    assert f"- {beside}" in top.value
    assert summary[0] < position(page, "selectbox", "Category")
    assert summary[0] > position(page, "markdown", "**2. Tell us what is wrong.**")
    assert not any(e.type == "markdown" and "needs an answer" in e.value for e in page)


def test_a_report_says_thank_you_at_the_top_with_a_link_to_it(
        app: AppTest, sample_db: Path, map_returns: list[dict[str, Any]]) -> None:
    start_report(app, map_returns)
    # the time of day starts on "Not sure", never on a guess
    when = by_label(app.radio, "When is it a problem?")
    assert when.value == "unknown" and when.index == when.options.index("Not sure")
    by_label(app.selectbox, LIGHT_QUESTION).set_value("Light too dim").run()
    by_label(app.text_area, "Description").input("Dim light at the bus stop").run()
    by_label(app.button, "Submit report").click().run()
    assert not app.exception
    with open_store(sample_db) as s:
        new = s.read(Layer.CONCERNS).sort_values("requested_datetime").iloc[-1]
    rid = new["service_request_id"]
    assert new["description"] == "Dim light at the bus stop"
    assert new["time_of_day"] == "unknown"  # stored as the user left it
    page = in_order(app)
    assert [e.type for e in page[:3]] == ["title", "success", "page_link"]
    assert f"Your report {rid} is on the map" in page[1].value
    assert page[2].value == "Open your report" and page[2].proto.page.endswith("concern")
    # the link opens the Concern page on the new report
    app.switch_page("app_pages/concern.py").run()
    assert by_label(app.selectbox, "Concern").value == rid


def test_after_a_status_save_the_form_starts_on_the_new_status_with_no_note(
        app: AppTest, sample_db: Path) -> None:
    from cpted.access import Access
    from cpted.accounts import Actor
    from cpted.privacy import Role

    with open_store(sample_db) as s:
        rid = cc.submit_report(s, cc.ReportDraft("graffiti", -94.58, 39.04, "Tags"))
    app.switch_page("app_pages/concern.py").run()
    by_label(app.selectbox, "Concern").set_value(rid).run()
    assert by_label(app.selectbox, "New status").value == "submitted"  # the current one
    by_label(app.selectbox, "New status").set_value("acknowledged")
    by_label(app.text_area, "Note (required)").input("Seen on the walk")
    by_label(app.button, "Save status").click().run()
    assert not app.exception
    assert by_label(app.selectbox, "New status").value == "acknowledged"
    assert by_label(app.text_area, "Note (required)").value == ""
    by_label(app.selectbox, "New status").set_value("fixed")
    by_label(app.text_area, "Note (required)").input("Painted over")
    by_label(app.button, "Save status").click().run()
    assert not app.exception
    assert by_label(app.selectbox, "New status").value == "fixed"
    assert by_label(app.text_area, "Note (required)").value == ""
    with open_store(sample_db) as s:
        h = Access(s, Actor("c1", "Casey", Role.COORDINATOR)).history(rid)
        zone = s.get_setting("timezone")
    changes = h[h["kind"] == "status"]
    assert list(zip(changes["from_status"], changes["to_status"], changes["note"],
                    strict=True)) == [("submitted", "acknowledged", "Seen on the walk"),
                                      ("acknowledged", "fixed", "Painted over")]
    table = app.dataframe[0].value
    assert list(table["kind"]) == ["Reported", "Status changed", "Status changed"]
    assert list(table["change"]) == ["Submitted", "Submitted → Acknowledged",
                                     "Acknowledged → Fixed"]
    # times in the app's zone, in plain form
    from app_pages._state import settings

    local = h["at"].dt.tz_convert(zone or settings().timezone).dt.strftime("%Y-%m-%d %H:%M")
    assert list(table["at"]) == list(local)


def test_the_concern_map_shows_the_place_the_public_may_see(
        sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from app_pages import _maps
    from cpted.access import Access
    from cpted.accounts import public

    exact = (-94.571234, 39.051234)
    with open_store(sample_db) as s:
        rid = cc.submit_report(s, cc.ReportDraft("drug_activity", *exact, "Behind the door"))
        seen = Access(s, public("test")).concern(rid)["geometry"]
    assert (round(seen.x, 4), round(seen.y, 4)) != (round(exact[0], 4), round(exact[1], 4))
    asked: list[tuple[tuple[float, float], dict[str, Any], Any]] = []
    draw = _maps.place_svg

    def recording(g: Any, lonlat: tuple[float, float], **kw: Any) -> Any:
        drawn = draw(g, lonlat, **kw)
        asked.append((tuple(lonlat), kw, drawn))  # type: ignore[arg-type]
        return drawn

    monkeypatch.setattr(_maps, "place_svg", recording)
    monkeypatch.setenv("CPTED_DB_URL", str(sample_db))
    monkeypatch.delenv("CPTED_STAFF_MODE", raising=False)
    monkeypatch.chdir(ROOT)
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["concern_id"] = rid
    at.switch_page("app_pages/concern.py").run()
    assert not at.exception
    assert len(asked) == 1
    (lonlat, kw, still), = asked
    assert lonlat == (seen.x, seen.y)  # the place the door gives the public, not the report's
    assert kw["approximate_m"] == load_settings().sensitive_grid_m
    assert still.title.startswith("Map: Suspected drug activity")
    assert still.title.endswith("shown only as an approximate area")
    assert 'class="street"' in still.svg  # the sample's streets are drawn under the pin
    drawn = [m.value for m in at.markdown if m.value.startswith("![")
             and "](data:image/svg+xml;base64," in m.value]
    assert len(drawn) == 1  # what the map shows, in words, for a screen reader:
    alt, _, src = drawn[0][2:-1].partition("](")
    assert html.unescape(alt) == still.title
    assert base64.b64decode(src.split("base64,")[1]).decode() == still.svg
    assert any("approximate area" in c.value for c in at.caption)


def test_the_concern_picker_finds_reports_by_words_and_lists_the_newest_only(
        sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CPTED_DB_URL", str(sample_db))
    monkeypatch.setenv("CPTED_STAFF_MODE", "true")
    monkeypatch.chdir(ROOT)
    with open_store(sample_db) as s:
        reports = s.read(Layer.CONCERNS)
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("app_pages/concern.py").run()
    picker = by_label(at.selectbox, "Concern")
    newest = reports.sort_values("requested_datetime", ascending=False)["service_request_id"]
    assert len(reports) > 100
    assert list(picker.options[:3]) == [picker.format_func(i) for i in newest[:3]]
    assert len(picker.options) == 100  # the newest hundred, not all 2,000
    # an old report, found by words of its address
    old = reports.sort_values("requested_datetime").iloc[0]
    words = " ".join(str(old["address"]).split()[:3])
    expected = reports[reports["address"].fillna("").str.lower().str.contains(
        words.lower(), regex=False)]
    by_label(at.text_input, "Find a report").set_value(words.upper()).run()
    picker = by_label(at.selectbox, "Concern")
    listed = [o.split(" · ")[0] for o in picker.options]
    assert old["service_request_id"] in listed
    # the report open before the search stays listed, first
    assert set(listed[1:]) <= set(expected["service_request_id"]) | {listed[0]}
    assert len(listed) <= 101
    by_label(at.text_input, "Find a report").set_value("no such words anywhere").run()
    assert any("No report matches" in c.value for c in at.caption)


def test_merge_offers_the_reports_near_this_one_nearest_first(
        sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pyproj import Geod

    here = (-94.5712, 39.0512)
    geod = Geod(ellps="WGS84")
    with open_store(sample_db) as s:
        rid = cc.submit_report(s, cc.ReportDraft("graffiti", *here, "Tag on the wall"))
        placed = {}
        for metres in (40.0, 150.0, 290.0, 320.0):  # the last one is too far
            lon, lat, _ = geod.fwd(*here, 45, metres)
            placed[cc.submit_report(s, cc.ReportDraft("illegal_dumping", lon, lat,
                                                      "Bags"))] = metres
    monkeypatch.setenv("CPTED_DB_URL", str(sample_db))
    monkeypatch.setenv("CPTED_STAFF_MODE", "true")
    monkeypatch.chdir(ROOT)
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["concern_id"] = rid
    at.switch_page("app_pages/concern.py").run()
    assert not at.exception
    box = at.multiselect[0]
    assert box.label.startswith("Reports within 300 m")
    offered = [o.split(" · ")[0] for o in box.options]
    ours = [i for i in offered if i in placed]
    assert ours == [i for i, m in placed.items() if m <= 300]  # nearest first, none too far
    for option in box.options:
        if option.split(" · ")[0] in placed:
            metres = placed[option.split(" · ")[0]]
            assert option.endswith(f"· {metres:,.0f} m away")
