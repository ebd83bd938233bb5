"""The Import page's mapping step (AppTest): a file with misnamed columns and odd status
values is mapped by hand, checked, saved as a profile, and reused by name after a
reload; nothing is stored before Import."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from layers.profile_catalog import setting_key
from layers.profiles import parse_profile
from layers.schema import Layer
from layers.store import open_store
from tests.conftest import ROOT, by_label
from tests.test_mapping_edit import WALK

APP = str(ROOT / "app.py")
PAGE = "app_pages/import_data.py"
pytestmark = pytest.mark.usefixtures("fresh_streamlit_caches")


def open_page(db: Path, monkeypatch: pytest.MonkeyPatch, role: str) -> AppTest:
    monkeypatch.setenv("CPTED_DB_URL", str(db))
    monkeypatch.setenv("CPTED_STAFF_MODE", "true")
    monkeypatch.chdir(ROOT)
    at = AppTest.from_file(APP, default_timeout=180)
    at.session_state["acting_as"] = role
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    at.file_uploader[0].set_value(("walk.csv", WALK.encode(), "text/csv")).run()
    assert not at.exception, at.exception
    return at


def editor(at: AppTest, prefix: str) -> Any:
    [found] = [d for d in at.dataframe if d.key and d.key.startswith(prefix)]
    return found


def table(at: AppTest, prefix: str) -> pd.DataFrame:
    """A data editor's table as drawn on this run (its edits are the widget's own)."""
    return editor(at, prefix).value


def edit(at: AppTest, prefix: str, rows: dict[int, dict[str, Any]]) -> None:
    """Edit cells of the data editor whose key starts with ``prefix``, as a person would
    (AppTest sets an editor's edit state; it cannot click its canvas)."""
    key = editor(at, prefix).key
    state = at.session_state.get(key, {})
    done = {int(k): dict(v) for k, v in dict(state).get("edited_rows", {}).items()}
    for i, change in rows.items():
        done.setdefault(i, {}).update(change)
    at.session_state[key] = {"edited_rows": done, "added_rows": [], "deleted_rows": []}
    at.run()
    assert not at.exception, at.exception


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def row_of(frame: pd.DataFrame, column: str, value: str) -> int:
    return int(frame.index[frame[column].str.startswith(value)][0])


def test_map_check_save_and_reuse_a_profile_by_name(
        sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with open_store(sample_db) as s:
        before = s.count(Layer.CONCERNS)
    at = open_page(sample_db, monkeypatch, "coordinator")
    fields = table(at, "map-")
    by_field = fields.set_index("name")
    # what was proposed, and why: a content check for the id and the date, nothing for
    # a code column with no name of ours, the Status column by its name but flagged
    assert by_field.loc["service_request_id", "column"] == "Ticket"
    # each field in words first, its name in a profile beside it
    assert by_field.loc["service_request_id", "field"] == "Report number (required)"
    assert by_field.loc["requested_datetime", "field"] == "Reported on (required)"
    assert list(fields.columns[:2]) == ["field", "name"]
    assert by_field.loc["service_request_id", "why"] == "content check: unique on every row"
    assert by_field.loc["requested_datetime", "why"] == "content check: its values are dates"
    assert by_field.loc["requested_datetime", "column"] == "Opened On"
    assert by_field.loc["service_code", "column"] == "(none)"
    assert by_field.loc["status", "column"] == "Status"
    assert by_field.loc["status", "why"] == "name"
    assert by_field.loc["service_name", "why"] == "none found"
    assert by_field.loc["status", "problem"].startswith(
        "Needs your decision: 80% of its values are not one of open, closed")
    assert by_field.loc["service_code", "problem"] == "required: choose the column that holds it"
    assert "Resolved" in by_field.loc["status", "samples"]
    # the page asks; nothing is checked, let alone stored, until the person answers
    assert any("Column 'Status' was taken for Open or closed by its name" in w.value
               for w in at.warning)
    blockers = [w.value for w in at.warning if w.value.startswith("Before the rows")]
    assert blockers and "Category code is required" in blockers[0]
    assert "confirm the column for Open or closed" in blockers[0]
    assert not at.metric and not [b for b in at.button if b.label.startswith("Import ")]

    # the person picks the code column and confirms Status
    edit(at, "map-", {row_of(fields, "name", "service_code"): {"column": "What"}})
    by_label(at.checkbox, "Use column 'Status' for Open or closed").check().run()
    assert not at.exception, at.exception
    fields = table(at, "map-")
    by_field = fields.set_index("name")
    assert by_field.loc["service_code", "why"] == "chosen by you"
    assert by_field.loc["status", "why"] == "confirmed by you"
    assert metrics(at) == {"Rows read": "6", "Would be accepted": "4", "Rejected": "2"}
    # the status values: the word rules' guesses, and the two left for the person
    values = table(at, "values-")
    by_value = values.set_index("value")
    assert by_value.loc["Resolved", "becomes"] == "closed"
    assert by_value.loc["Resolved", "how"] == "guessed from the word 'resolved'"
    assert by_value.loc["In Progress", "becomes"] == "open"
    assert by_value.loc["Waiting on parts", "becomes"] == "(leave out)"
    assert by_value.loc["(empty cell)", "rows"] == 1
    assert "(any other value)" in by_value.index
    reasons = [d.value for d in at.dataframe if list(d.value.columns) == [
        "reason", "rows", "examples"]]
    assert reasons and dict(zip(reasons[0]["reason"], reasons[0]["rows"], strict=True)) == {
        "invalid value": 1, "missing required value": 1}
    assert "row 5: status 'waiting on parts' is not one of: open, closed" in " ".join(
        reasons[0]["examples"])
    # mapping a value changes the check; so does the any-other-value default
    edit(at, "values-", {row_of(values, "value", "Waiting on parts"): {"becomes": "open"}})
    assert metrics(at) == {"Rows read": "6", "Would be accepted": "5", "Rejected": "1"}
    edit(at, "values-", {row_of(values, "value", "(empty cell)"): {"becomes": "closed"}})
    assert metrics(at) == {"Rows read": "6", "Would be accepted": "6", "Rejected": "0"}
    with open_store(sample_db) as s:
        assert s.count(Layer.CONCERNS) == before  # checked, not stored

    # saved by name, in the store, as a checked profile
    assert by_label(at.text_input, "Profile name").value == "walk"
    by_label(at.text_input, "Profile name").set_value("Walk audit export").run()
    assert not by_label(at.get("download_button"), "Download profile (TOML)").proto.disabled
    by_label(at.button, "Save profile").click().run()
    assert not at.exception, at.exception
    assert any("Saved the profile Walk audit export" in m.value for m in at.success)
    with open_store(sample_db) as s:
        text = s.get_setting(setting_key("Walk audit export"))
        assert s.count(Layer.CONCERNS) == before
    assert text is not None
    saved = parse_profile(text)
    assert saved.name == "Walk audit export" and saved.columns["service_code"] == ("What",)
    assert saved.values["status"].target("Waiting on parts") == "open"
    assert saved.values["status"].target(None) == "closed"

    # reloaded (a new session, a planner): start from it by name, check, import
    at = open_page(sample_db, monkeypatch, "planner")
    start = by_label(at.selectbox, "Start from a saved profile")
    assert "Walk audit export (saved)" in start.options
    assert "Kansas City 311 export (shipped: kc311)" in start.options
    assert any("(project folder: chicago-311-requests)" in o for o in start.options)
    start.select("saved:Walk audit export").run()
    assert not at.exception, at.exception
    fields = table(at, "map-")
    by_field = fields.set_index("name")
    assert by_field.loc["service_code", "column"] == "What"
    assert by_field.loc["status", "why"] == "profile"
    assert by_label(at.text_input, "Profile name").value == "Walk audit export"
    assert metrics(at) == {"Rows read": "6", "Would be accepted": "6", "Rejected": "0"}
    # a planner may import and download, not save for everyone
    assert not [b for b in at.button if b.label == "Save profile"]
    assert any("Saving profiles for everyone is for: admin, coordinator" in c.value
               for c in at.caption)
    by_label(at.button, "Import 6 rows into concerns").click().run()
    assert not at.exception, at.exception
    assert any("Imported 6 rows into concerns from walk.csv" in m.value for m in at.success)
    with open_store(sample_db) as s:
        stored = s.read(Layer.CONCERNS, where={"service_request_id": [
            f"T-{i}" for i in range(1, 7)]}).set_index("service_request_id")
        log = s.imports()
    assert dict(stored["status"]) == {"T-1": "open", "T-2": "closed", "T-3": "closed",
                                      "T-4": "open", "T-5": "open", "T-6": "closed"}
    assert dict(stored["service_code"]) == {"T-1": "graffiti", "T-2": "graffiti",
                                            "T-3": "pothole", "T-4": "pothole",
                                            "T-5": "streetlight_out", "T-6": "streetlight_out"}
    assert '"profile": "Walk audit export"' in log.iloc[0]["summary"]


def test_a_saved_name_that_exists_asks_before_replacing(
        sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_page(sample_db, monkeypatch, "admin")
    edit(at, "map-", {1: {"column": "What"}})
    by_label(at.checkbox, "Use column 'Status' for Open or closed").check().run()
    by_label(at.button, "Save profile").click().run()
    assert any("Saved the profile walk" in m.value for m in at.success)
    # saved as it stands: nothing to save
    assert any(c.value == "This mapping is saved as walk." for c in at.caption)
    assert not [b for b in at.button if b.label == "Save profile"]
    # changed since: saving under the same name waits for the replace box
    values = table(at, "values-")
    edit(at, "values-", {row_of(values, "value", "Waiting on parts"): {"becomes": "closed"}})
    assert by_label(at.button, "Save profile").disabled
    by_label(at.checkbox, "Replace the saved profile 'walk'").check().run()
    by_label(at.button, "Save profile").click().run()
    assert not at.exception, at.exception
    with open_store(sample_db) as s:
        text = s.get_setting(setting_key("walk"))
    assert text is not None
    assert parse_profile(text).values["status"].target("waiting on parts") == "closed"
    # a name that is not plain is refused before anything is saved, in plain text
    by_label(at.text_input, "Profile name").set_value("walk/../x").run()
    assert any("it holds '/'" in e.value for e in at.error)
    assert by_label(at.button, "Save profile").disabled
    assert by_label(at.get("download_button"), "Download profile (TOML)").proto.disabled
