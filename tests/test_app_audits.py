"""AppTest flows of CPTED audits, with st_folium patched to return a drawing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from app_pages._text import md
from cpted import assessments as A
from cpted.instrument import load_instrument
from layers.store import open_store
from tests.conftest import ROOT, by_label, frame_with

APP = str(ROOT / "app.py")
SPOT = {"type": "Feature", "properties": {},
        "geometry": {"type": "Point", "coordinates": [-94.5790, 39.0365]}}
INS = load_instrument()

pytestmark = pytest.mark.usefixtures("fresh_streamlit_caches")


@pytest.fixture
def app(sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("CPTED_DB_URL", str(sample_db))
    monkeypatch.chdir(ROOT)
    return AppTest.from_file(APP, default_timeout=90)


def test_fill_save_and_see_scores(app: AppTest, sample_db: Path,
                                  map_returns: list[dict[str, Any]]) -> None:
    app.switch_page("app_pages/assess.py").run()
    assert not app.exception
    assert "No place drawn yet." in [i.value for i in app.info]
    # saving is off until a place is drawn, and the form says why
    assert by_label(app.button, "Save audit").disabled
    assert any("until the place is drawn" in c.value for c in app.caption)
    # draw a spot
    map_returns[0] = {"last_active_drawing": SPOT}
    app.run()
    assert any("Place: a spot" in c.value for c in app.caption)
    assert not by_label(app.button, "Save audit").disabled
    assert not any("until the place is drawn" in c.value for c in app.caption)
    # saving without answers names the problem and stores nothing
    by_label(app.button, "Save audit").click().run()
    errors = " ".join(m.value for m in app.markdown)
    assert "answer at least one item" in errors and "draw the place" not in errors
    with open_store(sample_db) as s:
        before = len(A.list_assessments(s))
    by_label(app.button, "Show sightlines from this spot").click().run()
    assert any("Sightlines:" in c.value and "openness" in c.value for c in app.caption)
    by_label(app.text_input, "Place name").input("Alley behind <b>5th</b>").run()
    by_label(app.text_input, "Audited by").input("Maple Block Association").run()
    by_label(app.radio, "Day or night").set_value("night").run()
    # the checklist is a form: set the answers, then submit in one run
    by_label(app.radio, "The light is bright enough to recognise a face a few steps away."
             ).set_value(0)
    by_label(app.radio, "All the lights here are working.").set_value(0)
    by_label(app.radio, "Windows and doors of occupied buildings look onto this place."
             ).set_value(3)
    by_label(app.radio, "The place is free of litter and dumped items.").set_value("na")
    by_label(app.radio, "How safe do you feel here?").set_value(2)
    # every other item does not fit this place: the four answers are all that apply
    for r in app.radio:
        if r.key.startswith("q-") and r.value is None and "N/A" in r.options:
            r.set_value("na")
    by_label(app.text_area, "Notes").input("Two lights out near the garages.")
    by_label(app.button, "Save audit").click().run()
    assert not app.exception
    assert not app.error, [e.value for e in app.error] + [m.value for m in app.markdown]
    assert app.success and f"Saved: {md('Alley behind <b>5th</b>')}" in app.success[0].value
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Overall (design)"] == "50 / 100"  # lighting 0, natural surveillance 100
    assert "Weak" in [c.value for c in app.caption]
    assert metrics["Feeling of safety"] == "25 / 100"
    text = " ".join(m.value for m in app.markdown)
    assert "Report each light that is out" in text  # the quick win comes first
    assert text.index("Quick win") < text.index("Capital")
    with open_store(sample_db) as s:
        audits = A.list_assessments(s)
        saved = audits[audits["place_name"] == "Alley behind <b>5th</b>"]
        assert len(saved) == 1 and len(audits) == before + 1
        a = A.get_assessment(s, saved["id"].iloc[0])
    answered = {k: v for k, v in a.answers.items() if v != "na"}
    assert answered == {"lt_level": 0, "lt_working": 0, "ns_windows": 3, "fs_feel": 2}
    assert a.answers["mi_litter"] == "na"
    assert a.geometry.x == pytest.approx(-94.5790) and a.period == "night"
    assert a.notes == "Two lights out near the garages."


def test_audits_page_scores_trend_and_stale_edit(app: AppTest, sample_db: Path,
                                                 map_returns: list[dict[str, Any]],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    app.switch_page("app_pages/audits.py").run()
    # the public may not edit someone else's audit: no button, and a note saying who may
    assert not [b for b in app.button if b.label == "Edit this audit"]
    assert any("may change it" in c.value for c in app.caption)
    # a coordinator may (the demo's role picker acts as one)
    monkeypatch.setenv("CPTED_STAFF_MODE", "true")
    from app_pages import _state

    _state.settings.clear()
    app.run()
    assert not app.exception
    metrics = {m.label: m.value for m in app.metric}
    with open_store(sample_db) as s:
        audits = A.list_assessments(s)
    assert metrics["Audits"] == str(len(audits))
    first = audits["id"].iloc[0]
    assert by_label(app.selectbox, "Audit").value == first
    assert app.header[0].value == md(audits["place_name"].iloc[0])
    # the trend tab has the same-place comparison table
    before = by_label(app.selectbox, "Before")
    assert before.value != by_label(app.selectbox, "After").value
    # edit: someone else saves first, so this save is refused and nothing is overwritten
    by_label(app.button, "Edit this audit").click().run()
    app.switch_page("app_pages/assess.py").run()  # AppTest does not follow st.switch_page
    assert not app.exception
    assert any("Editing" in i.value for i in app.info)
    with open_store(sample_db) as s:
        a = A.get_assessment(s, first)
        A.update_assessment(s, first, a.draft(), INS, expected_version=a.version)
    by_label(app.text_area, "Notes").input("my change")
    by_label(app.button, "Save audit").click().run()
    assert app.error and "changed by someone else" in app.error[0].value
    with open_store(sample_db) as s:
        assert A.get_assessment(s, first).notes != "my change"


def test_an_audit_with_one_answer_of_41_says_not_enough_answers(
        app: AppTest, sample_db: Path, map_returns: list[dict[str, Any]]) -> None:
    app.switch_page("app_pages/assess.py").run()
    map_returns[0] = {"last_active_drawing": SPOT}
    app.run()
    by_label(app.text_input, "Place name").input("Garage row").run()
    by_label(app.text_input, "Audited by").input("Maple Block Association").run()
    by_label(app.radio, "Day or night").set_value("night").run()
    questions = [r for r in app.radio if r.key.startswith("q-")]
    assert len(questions) == 41  # every item applies at night
    by_label(app.radio, "All the lights here are working.").set_value(0)  # the lowest answer
    by_label(app.button, "Save audit").click().run()
    assert not app.exception and not app.error
    assert app.success and "Saved: Garage row" in app.success[0].value
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Overall (design)"] == "–"  # not "0 / 100"
    captions = [c.value for c in app.caption]
    assert md("Not enough answers: 1 of 41 items answered; an overall score needs at least "
              "21 (50%).") in captions
    assert "Poor" not in captions
    with open_store(sample_db) as s:
        audits = A.list_assessments(s)
    saved = audits[audits["place_name"] == "Garage row"].iloc[0]
    assert saved["overall"] == 0.0 and saved["label"] == "Not enough answers"
    # the Audits page lists it as such, with no overall score, and opens its scorecard so
    app.session_state["show_audit"] = saved["id"]
    app.switch_page("app_pages/audits.py").run()
    assert not app.exception
    table = frame_with(app, "audit").value.set_index("audit")
    assert table.loc[saved["id"], "label"] == "Not enough answers"
    assert table.loc[saved["id"], "overall"] != table.loc[saved["id"], "overall"]  # NaN
    rated = audits[audits["id"] != saved["id"]]
    assert (table.loc[rated["id"], "overall"].notna()).all()
    assert {m.label: m.value for m in app.metric}["Overall (design)"] == "–"


def test_the_audits_page_shows_agreement_what_goes_with_safety_and_where_to_audit_next(
        app: AppTest, sample_db: Path) -> None:
    from datetime import UTC, datetime

    import shapely

    from cpted import prescore as ps
    from cpted.access import Access
    from cpted.accounts import public

    with open_store(sample_db) as s:
        door = Access(s, public("page-test"))
        agreement = door.audit_agreement()
        drivers = door.safety_drivers()
        # an audit on one of the joint walks with one answer: not rated, so left out
        walk = agreement.places.iloc[0]
        audits = A.list_assessments(s)
        where = audits[audits["place_name"] == walk["place_name"]].iloc[0]
        A.save_assessment(s, A.AssessmentDraft(
            walk["place_name"], shapely.Point(where["lon"], where["lat"]), "Latecomers",
            walk["last"].to_pydatetime(), "night", {"lt_level": 0}), INS)
        audits = A.list_assessments(s)
        result = door.prescore()
        todo = ps.where_to_audit(result, audits, now=datetime.now(UTC), top=10)
        check = ps.check_against_audits(result, audits)
    app.switch_page("app_pages/audits.py").run()
    assert not app.exception
    assert "Across audits" in [h.value for h in app.header]
    assert [t.label for t in app.tabs][-3:] == [
        "Do auditors agree?", "What goes with feeling safe", "Where to audit next"]
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Places audited by several auditors"] == "6"
    mean = agreement.overall()
    assert mean is not None and metrics["Mean agreement beyond chance"] == f"{mean:.2f}"
    text = " ".join(m.value for m in app.markdown)
    assert f"Fleiss' kappa {mean:.2f} over {len(agreement.items)} items" in text
    items = frame_with(app, "kappa").value
    assert items["kappa"].tolist() == pytest.approx(agreement.items["kappa"].astype(float)
                                                    .tolist(), nan_ok=True)
    captions = " ".join(c.value for c in app.caption)
    assert "1 audit with fewer than 50% of the items answered" in captions
    # what goes with feeling safe: one sentence per principle, in plain words
    strongest = drivers[0]
    assert strongest.rho is not None
    assert md(strongest.words) in text and "felt safer" in strongest.words
    # where to audit next: the streets by name, highest pre-score first, then the check
    shown = frame_with(app, "pre").value
    assert shown["street"].tolist() == todo["street"].tolist()
    assert shown["street"].str.contains(" between ").all()
    assert check.rho is not None
    assert f"is {check.rho:+.2f} (Spearman; p = {check.p_value:.2f})" in text
    assert any("725 street segments" in c.value for c in app.caption)


def test_with_no_audits_the_page_still_says_where_to_audit_first(
        app: AppTest, sample_db: Path) -> None:
    with open_store(sample_db) as s:
        for aid in A.list_assessments(s)["id"]:
            A.delete_assessment(s, aid)
    app.switch_page("app_pages/audits.py").run()
    assert not app.exception
    assert "No audits yet. Use **Audit a place** to make the first one." in [
        i.value for i in app.info]
    assert "Where to audit next" in [h.value for h in app.header]
    shown = frame_with(app, "pre").value
    assert len(shown) == 10 and shown["pre"].is_monotonic_decreasing
    text = " ".join(m.value for m in app.markdown)
    assert "Not yet: 0 audited places lie on a street segment" in text
