"""A mapping plan edited by a person (the Import page's mapping step), and the profile
it makes: nothing guessed silently, the person's columns and values used, the profile
written as TOML that loads back the same."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from layers.errors import LayerSchemaError, ProfileError
from layers.importer import prepare_import, read_and_plan
from layers.mapping import How, plan_mapping
from layers.mapping_edit import (
    EMPTY,
    OTHER,
    Source,
    apply_edits,
    edited_profile,
    field_problems,
    initial_choices,
    value_rows,
)
from layers.profile_catalog import PROJECT_DIR
from layers.profile_writer import profile_document, profile_toml
from layers.profiles import SHIPPED_DIR, load_profile, parse_profile
from layers.schema import SCHEMAS, Layer
from layers.store import Store

#: Misnamed columns (none is one of our names or aliases but Status), and a status
#: column whose values are mostly not ours.
WALK = ("Ticket,What,Opened On,Status,Latitude,Longitude\n"
        "T-1,graffiti,2025-05-01 22:00,Open,39.045,-94.580\n"
        "T-2,graffiti,2025-05-02 09:00,Resolved,39.046,-94.581\n"
        "T-3,pothole,2025-05-03 10:00,Resolved,39.047,-94.582\n"
        "T-4,pothole,2025-05-03 11:00,In Progress,39.048,-94.583\n"
        "T-5,streetlight_out,2025-05-04 12:00,Waiting on parts,39.049,-94.584\n"
        "T-6,streetlight_out,2025-05-04 13:00,,39.044,-94.585\n")
CONCERNS = SCHEMAS[Layer.CONCERNS]


@pytest.fixture
def walk(tmp_path: Path) -> Path:
    path = tmp_path / "walk.csv"
    path.write_text(WALK)
    return path


def test_every_profile_we_ship_writes_back_as_toml_that_reads_the_same() -> None:
    paths = [*sorted(PROJECT_DIR.rglob("*.toml")), *sorted(SHIPPED_DIR.glob("*.toml"))]
    assert len(paths) >= 15
    for path in paths:
        prof = load_profile(path)
        text, back = profile_toml(profile_document(prof), source=prof.source)
        assert back == prof, path
        assert tomllib.loads(text)["profile"]["name"] == prof.name


def test_a_written_profile_is_checked_and_comments_are_comments() -> None:
    doc = {"profile": {"name": "x", "layer": "concerns"}, "values": {"status": {"A": "maybe"}}}
    with pytest.raises(ProfileError) as info:
        profile_toml(doc)
    assert "'maybe' is not one of our status values" in str(info.value)
    # a file name with a line break cannot end the comment and start a table
    text, prof = profile_toml({"profile": {"name": "x", "layer": "concerns"}},
                              comment="made from evil.csv\n[profile]\nname = 'y'")
    assert prof.name == "x" and text.count("\n[profile]") == 1


def test_the_plan_s_choices_are_proposed_with_why_and_a_misfit_guess_is_flagged(
        walk: Path) -> None:
    planned = read_and_plan(walk, Layer.CONCERNS)
    first = initial_choices(planned.raw.frame, CONCERNS, planned.plan,
                            coordinates=planned.raw.coordinates or ())
    # no id column by name: a content check finds the unique one (never a coordinate)
    assert first["service_request_id"].columns == ("Ticket",)
    assert first["service_request_id"].source is Source.CONTENT
    assert first["service_request_id"].why.startswith("content check: unique on every row")
    assert first["requested_datetime"].columns == ("Opened On",)
    assert "its values are dates" in first["requested_datetime"].why
    # "What" has no name of ours and its values are free text: nothing is guessed
    assert first["service_code"].columns == () and first["service_code"].source is Source.NONE
    # Status is ours by name, but 4 of its 5 filled values are not open/closed
    status = first["status"]
    assert status.columns == ("Status",) and status.source is Source.NAME and status.flagged
    problems = field_problems(status, planned.plan.field("status"), CONCERNS.spec("status"))
    assert "80% of its values are not one of open, closed" in problems[0]
    assert "Not used until you confirm it" in problems[0]


def test_a_flagged_column_is_refused_until_confirmed_and_edits_make_the_profile(
        walk: Path, store: Store) -> None:
    planned = read_and_plan(walk, Layer.CONCERNS)
    frame, coords = planned.raw.frame, planned.raw.coordinates
    first = initial_choices(frame, CONCERNS, planned.plan, coordinates=coords or ())
    now = apply_edits(first, {"service_code": ("What",)})
    assert now["service_code"].source is Source.CHOSEN and now["status"].flagged
    _, prof = edited_profile(None, CONCERNS, now, {}, name="Walk", coordinates=coords)
    assert "status" not in prof.columns  # not used silently: the importer refuses it
    with pytest.raises(LayerSchemaError, match="column 'Status' was taken for status"):
        prepare_import(store, walk, Layer.CONCERNS, profile=prof)
    # confirmed, with its values mapped: the status column is used, each value as told
    now = apply_edits(first, {"service_code": ("What",)}, confirmed={"status"})
    assert now["status"].source is Source.CONFIRMED and not now["status"].flagged
    rows = value_rows(planned.plan.field("status"), CONCERNS.spec("status"), CONCERNS,
                      rows=len(frame))
    by_value = {r.value: r for r in rows}
    assert by_value["Resolved"].target == "closed"  # the word rule of `profile suggest`
    assert by_value["Resolved"].how == "guessed from the word 'resolved'"
    assert by_value["Open"].target == "open" and by_value["Open"].how == "already one of ours"
    assert by_value["Waiting on parts"].target is None  # no rule: left for the person
    assert by_value[EMPTY].rows == 1 and by_value[OTHER].rows is None
    table = {r.value: r.target for r in rows}
    _, prof = edited_profile(None, CONCERNS, now, {"status": table}, name="Walk",
                             coordinates=coords)
    summary = prepare_import(store, walk, Layer.CONCERNS, profile=prof).summary
    # T-5 "waiting on parts" is not ours; T-6 has no status
    assert (summary.accepted, summary.rejected_total) == (4, 2)
    table |= {"Waiting on parts": "open", EMPTY: "open"}
    text, prof = edited_profile(None, CONCERNS, now, {"status": table}, name="Walk",
                                coordinates=coords)
    prepared = prepare_import(store, walk, Layer.CONCERNS, profile=prof)
    assert prepared.summary.accepted == 6 and prepared.summary.profile == "Walk"
    got = dict(zip(prepared.accepted["service_request_id"], prepared.accepted["status"],
                   strict=True))
    assert got == {"T-1": "open", "T-2": "closed", "T-3": "closed", "T-4": "open",
                   "T-5": "open", "T-6": "open"}
    assert set(prepared.accepted["service_code"]) == {"graffiti", "pothole", "streetlight_out"}
    # the text is the profile: it loads back the same, naming only what was decided
    doc = tomllib.loads(text)
    assert doc["columns"] == {"lon": "Longitude", "lat": "Latitude",
                              "service_request_id": "Ticket", "service_code": "What",
                              "requested_datetime": "Opened On", "status": "Status"}
    assert doc["values"]["status"] == {"Resolved": "closed", "Waiting on parts": "open",
                                       "Open": "open", "In Progress": "open", "": "open"}
    assert parse_profile(text, source="Walk (edited)") == prof


def test_a_starting_profile_s_entries_are_kept_and_a_chosen_column_wins_its_constant(
        tmp_path: Path) -> None:
    base = parse_profile(
        '[profile]\nname = "Old"\nlayer = "concerns"\ntimezone = "America/Chicago"\n'
        '[columns]\nservice_request_id = "Ticket"\nservice_code = "What"\n'
        'requested_datetime = "Opened On"\nstatus = "Status"\nsource = ""\n'
        '[constants]\ntime_of_day = "unknown"\n'
        '[values.status]\n"Closed" = "closed"\n"Resolved" = "closed"\n"*" = "open"\n')
    path = tmp_path / "w.csv"
    path.write_text(WALK.replace("Latitude,Longitude", "Latitude,Longitude,Shift")
                    .replace("-94.580\n", "-94.580,night\n"))
    planned = read_and_plan(path, Layer.CONCERNS, profile=base)
    first = initial_choices(planned.raw.frame, CONCERNS, planned.plan, profile=base,
                            coordinates=planned.raw.coordinates or ())
    assert first["status"].source is Source.PROFILE and not first["status"].flagged
    assert first["time_of_day"].source is Source.CONSTANT
    assert first["source"].source is Source.NONE  # left out by the profile: no proposal
    rows = value_rows(planned.plan.field("status"), CONCERNS.spec("status"), CONCERNS,
                      rows=6, value_map=base.values["status"])
    by_value = {r.value: r for r in rows}
    assert by_value["Resolved"].how == "from the profile"
    assert by_value["In Progress"].target is None  # takes the profile's "*"
    assert by_value[OTHER].target == "open"
    now = apply_edits(first, {"time_of_day": ("Shift",)})
    table = {r.value: r.target for r in rows} | {"Resolved": None, OTHER: None}
    _, prof = edited_profile(base, CONCERNS, now, {"status": table}, name="New")
    assert prof.name == "New" and prof.timezone == "America/Chicago"
    assert prof.columns["time_of_day"] == ("Shift",) and "time_of_day" not in prof.constants
    assert prof.columns["source"] == ()
    # "Closed" is not in this file: the profile's entry for it stays; "Resolved" and "*"
    # were left out by the person; "Open", already ours, is written as it is
    assert dict(prof.values["status"].entries) == {"closed": "closed", "open": "open"}
    assert prof.values["status"].default is None
    plan = plan_mapping(planned.raw.frame, CONCERNS, profile=prof,
                        coordinates=planned.raw.coordinates)
    assert plan.field("time_of_day").how is How.PROFILE
    assert "values are not one of day, night, unknown" not in " ".join(
        plan.field("time_of_day").problems)


def test_a_required_field_set_to_none_is_missing_not_written(walk: Path) -> None:
    planned = read_and_plan(walk, Layer.CONCERNS)
    first = initial_choices(planned.raw.frame, CONCERNS, planned.plan)
    now = apply_edits(first, {"requested_datetime": (), "service_request_id": ()})
    _, prof = edited_profile(None, CONCERNS, now, {}, name="x")
    assert "requested_datetime" not in prof.columns
    assert prof.columns["service_request_id"] == ()  # ids made from the row numbers
    plan = plan_mapping(planned.raw.frame, CONCERNS, profile=prof)
    assert plan.field("service_request_id").how is How.MADE
    assert any("required field 'requested_datetime' has no column" in p for p in plan.problems)
    spec = CONCERNS.spec("requested_datetime")
    assert field_problems(now["requested_datetime"], plan.field("requested_datetime"),
                          spec) == ["required: choose the column that holds it"]
