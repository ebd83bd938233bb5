"""The public export carries public status notes only; staff exports carry all."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from cpted import concerns as cc
from cpted.concerns import ReportDraft
from layers import tables as wt
from layers.schema import Layer
from layers.store import Store
from tests.helpers import exporter

NOW = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture
def store(any_store: Store) -> Store:
    """Every test here runs on the embedded store and on PostGIS."""
    return any_store


def make_public(store: Store, request_id: str, note: str) -> None:
    # marked by hand, so the visibility read back does not depend on change_status's
    e = wt.concern_events
    with store.engine.begin() as conn:
        done = conn.execute(sa.update(e).where(e.c.service_request_id == request_id,
                                               e.c.note == note).values(visibility="public"))
        assert done.rowcount == 1


@pytest.fixture
def reports(store: Store) -> dict[str, str]:
    """Three reports: one whose latest note is public, one whose public note was
    followed by an internal one, one with internal notes only."""
    ids = {k: cc.submit_report(store, ReportDraft("graffiti", -94.58 + i / 1000, 39.04),
                               now=NOW) for i, k in enumerate(("public", "mixed", "internal"))}
    at = NOW + timedelta(hours=1)
    cc.change_status(store, ids["public"], "acknowledged", "Crew booked", actor="Parks", now=at)
    make_public(store, ids["public"], "Crew booked")
    cc.change_status(store, ids["mixed"], "acknowledged", "Seen by the city", actor="Parks",
                     now=at)
    make_public(store, ids["mixed"], "Seen by the city")
    cc.change_status(store, ids["mixed"], "in progress", "Owner is Mr Smith, 5 Elm St",
                     actor="Parks", now=at + timedelta(hours=1))
    cc.change_status(store, ids["internal"], "acknowledged", "Reporter called back",
                     actor="Parks", now=at)
    return ids


def test_public_notes_only_in_public(store: Store, reports: dict[str, str]) -> None:
    assert exporter(store, public=True).status_notes() == {
        reports["public"]: "Crew booked", reports["mixed"]: "Seen by the city"}


def test_staff_see_every_latest_note(store: Store, reports: dict[str, str]) -> None:
    assert exporter(store, public=False).status_notes() == {
        reports["public"]: "Crew booked", reports["mixed"]: "Owner is Mr Smith, 5 Elm St",
        reports["internal"]: "Reporter called back"}


@pytest.mark.parametrize("public", [True, False])
def test_open311_export_carries_the_notes_its_readers_may_see(
        store: Store, reports: dict[str, str], tmp_path: Path, public: bool) -> None:
    out = tmp_path / "requests.json"
    exporter(store, public=public).export(Layer.CONCERNS, out, "open311")
    notes = {i["service_request_id"]: i["status_notes"] for i in json.loads(out.read_text())}
    assert set(notes) == set(reports.values())
    if public:
        assert notes == {reports["public"]: "Crew booked",
                         reports["mixed"]: "Seen by the city", reports["internal"]: None}
        assert "Mr Smith" not in out.read_text()
    else:
        assert notes[reports["mixed"]] == "Owner is Mr Smith, 5 Elm St"
        assert notes[reports["internal"]] == "Reporter called back"
