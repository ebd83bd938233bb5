"""AppTest flows of the concern workflow, with st_folium patched to return a map click."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from cpted import concerns as cc
from layers.schema import Layer
from layers.store import open_store
from tests.conftest import ROOT, by_label

APP = str(ROOT / "app.py")
# A spot in the sample district with no open dark-area report within 50 m.
CLICK = {"lat": 39.0460, "lng": -94.5790}


pytestmark = pytest.mark.usefixtures("fresh_streamlit_caches")


@pytest.fixture
def app(sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("CPTED_DB_URL", str(sample_db))
    monkeypatch.setenv("CPTED_STAFF_MODE", "true")
    monkeypatch.chdir(ROOT)
    return AppTest.from_file(APP, default_timeout=60)


def fill_report(app: AppTest, description: str) -> None:
    by_label(app.selectbox, "Category").set_value("dark_area").run()
    by_label(app.selectbox, "What is wrong with the light here?").set_value(
        "No light at all").run()
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
    assert {m.label: m.value for m in app.metric}["Supporters"] == "1"
    # Form widgets are submitted together with the form's button, in one run.
    by_label(app.selectbox, "New status").set_value("action scheduled")
    by_label(app.button, "Save status").click().run()  # no note
    assert any("needs a note" in m.value for m in app.markdown)
    assert {m.label: m.value for m in app.metric}["Status"] == "submitted"
    by_label(app.selectbox, "New status").set_value("action scheduled")
    by_label(app.text_area, "Note (required)").input("Crew booked for Tuesday")
    by_label(app.button, "Save status").click().run()
    assert not app.exception
    assert {m.label: m.value for m in app.metric}["Status"] == "action scheduled"
    history = app.dataframe[0].value
    assert list(history["kind"]) == ["created", "support", "status"]
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
    score = app.dataframe[0].value
    assert len(score) == 8 and score["Concerns"].sum() == 2000
    n = score.set_index("Neighborhood").at["Cedar Bend", "Concerns"]
    assert any(h.value == f"Concerns in Cedar Bend ({n:,})" for h in app.subheader)
    # one percentage format for every share, on values held as percentages
    formats = json.loads(app.dataframe[0].proto.columns)
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
    assert any("1 action plan(s) overdue" in e.value for e in app.error)
    plans = app.dataframe[0].value
    assert bool(plans["overdue"].iloc[0]) is True
