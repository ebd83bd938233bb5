from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from cpted import concerns as cc
from cpted import spots as sp
from cpted.concerns import ReportDraft, ReportError
from layers import tables as wt
from layers.errors import StoreError
from layers.store import Store


@pytest.fixture
def store(any_store: Store) -> Store:
    """Every test here runs on the embedded store and on PostGIS."""
    return any_store


NOW = datetime(2026, 11, 1, tzinfo=UTC)


def report(store: Store, lon: float, lat: float) -> str:
    return cc.submit_report(store, ReportDraft("overgrown_vegetation", lon, lat), now=NOW)


def test_spot_gathers_reports_at_their_centre(store: Store) -> None:
    a, b = report(store, -94.580, 39.040), report(store, -94.578, 39.040)
    spot = sp.create_spot(store, "Hedges on 5th & Main", [a, b], actor="Chair", now=NOW)
    table = sp.spots(store)
    row = table.set_index("id").loc[spot]
    assert row["lon"] == pytest.approx(-94.579, abs=1e-6)
    assert row["lat"] == pytest.approx(39.040, abs=1e-6)
    assert (row["reports"], row["open"]) == (2, 2)
    assert sorted(sp.spot_reports(store, spot)) == sorted([a, b])
    assert "problem spot" in cc.history(store, a)["note"].iloc[-1]


def test_plans_flag_overdue_and_not_finished_ones(store: Store) -> None:
    a = report(store, -94.58, 39.04)
    spot = sp.create_spot(store, "Hedges", [a], actor="Chair", now=NOW)
    late = sp.create_plan(store, "Ask the city to trim the hedges", owner_kind="city department",
                          owner_name="Parks", due=date(2026, 10, 1), spot_id=spot,
                          actor="Chair", now=NOW)
    done = sp.create_plan(store, "Fix the light", owner_kind="city department",
                          owner_name="Public Works", due=date(2026, 10, 1), request_ids=[a],
                          actor="Chair", now=NOW)
    sp.set_plan_status(store, done, "done", "Light fixed on 30 Sept", actor="PW", now=NOW)
    future = sp.create_plan(store, "Walk audit", owner_kind="block association",
                            owner_name="Maple Block Club", due=date(2026, 12, 1),
                            request_ids=[a], actor="Chair", now=NOW)
    table = sp.plans(store, today=date(2026, 11, 1)).set_index("id")
    assert table.loc[late, "overdue"] and table.loc[late, "days_overdue"] == 31
    assert not table.loc[done, "overdue"] and not table.loc[future, "overdue"]
    assert table.loc[late, "reports"] == 1  # linked through the spot
    notes = cc.history(store, a)["note"].dropna().tolist()
    assert any("Ask the city to trim the hedges" in n for n in notes)
    assert any("is now done: Light fixed on 30 Sept" in n for n in notes)


def test_plan_refusals_list_every_problem(store: Store) -> None:
    with pytest.raises(ReportError) as exc:
        sp.create_plan(store, " ", owner_kind="aliens", owner_name="", due=date(2026, 1, 1),
                       actor="x", now=NOW)
    assert len(exc.value.problems) == 4
    with pytest.raises(ReportError, match="no problem spot"):
        sp.create_plan(store, "t", owner_kind="police", owner_name="Beat 12",
                       due=date(2026, 1, 1), spot_id="PS-missing", actor="x", now=NOW)


def events(store: Store, request_id: str) -> list[tuple[str, str, str]]:
    """``(kind, visibility, note)`` of a report's events, oldest first."""
    e = wt.concern_events
    with store.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(
            sa.select(e.c.kind, e.c.visibility, e.c.note)
            .where(e.c.service_request_id == request_id).order_by(e.c.id))]


def plan_row(store: Store, plan_id: str) -> dict[str, object]:
    p = wt.action_plans
    with store.engine.connect() as conn:
        return dict(conn.execute(sa.select(p).where(p.c.id == plan_id)).one()._mapping)


def test_links_are_public_and_plan_notes_keep_their_visibility(store: Store) -> None:
    a = report(store, -94.58, 39.04)
    spot = sp.create_spot(store, "Hedges", [a], note="Owner lives at no. 5", actor="Chair",
                          now=NOW)
    quiet = sp.create_plan(store, "Trim", owner_kind="city department", owner_name="Parks",
                           due=date(2026, 12, 1), spot_id=spot, note="Call Mr Smith first",
                           actor="Chair", now=NOW)
    told = sp.create_plan(store, "Light", owner_kind="city department",
                          owner_name="Public Works", due=date(2026, 12, 1), request_ids=[a],
                          note="Pole 17", note_visibility="public", actor="Chair", now=NOW)
    assert plan_row(store, quiet)["note_visibility"] == "internal"
    assert (plan_row(store, told)["note"], plan_row(store, told)["note_visibility"]) == (
        "Pole 17", "public")
    sp.set_plan_status(store, quiet, "in progress", "Mr Smith agreed", actor="Parks", now=NOW)
    sp.set_plan_status(store, told, "done", "Pole 17 relit", visibility="public", actor="PW",
                       now=NOW)
    got = events(store, a)[1:]  # after "created"
    assert [(k, v) for k, v, _ in got] == [("linked", "public")] * 3 + [
        ("plan", "internal"), ("plan", "public")]
    public_text = " ".join(n for _, v, n in got if v == "public")
    assert "Hedges" in public_text and "Parks" in public_text and "Pole 17 relit" in public_text
    for secret in ("no. 5", "Mr Smith"):
        assert secret not in public_text
    assert plan_row(store, quiet)["note"] == "Call Mr Smith first"  # a status note is not it


def test_unknown_visibility_is_refused_before_anything_is_stored(store: Store) -> None:
    a = report(store, -94.58, 39.04)
    with pytest.raises(ReportError) as exc:
        sp.create_plan(store, "Trim", owner_kind="police", owner_name="Beat 12",
                       due=date(2026, 12, 1), request_ids=[a], note_visibility="everyone",
                       actor="x", now=NOW)
    assert "public, internal" in str(exc.value) and "'everyone'" in str(exc.value)
    assert sp.plans(store).empty
    plan = sp.create_plan(store, "Trim", owner_kind="police", owner_name="Beat 12",
                          due=date(2026, 12, 1), request_ids=[a], actor="x", now=NOW)
    with pytest.raises(ReportError, match="'secret'"):
        sp.set_plan_status(store, plan, "done", "ok", visibility="secret", actor="x", now=NOW)
    assert sp.plans(store).set_index("id").at[plan, "status"] == "planned"


def test_missing_reports_are_refused(store: Store) -> None:
    with pytest.raises(StoreError, match="no such concern"):
        sp.create_spot(store, "Hedges", ["nope"], actor="x", now=NOW)
    assert sp.spots(store).empty


class CallerFailedError(Exception):
    """What the caller's own part of a transaction raised."""


def spot_and_plan_then_fail(store: Store, request_id: str) -> None:
    with store.transaction() as conn:
        spot = sp.create_spot(store, "Hedges", [request_id], actor="x", now=NOW, conn=conn)
        sp.create_plan(store, "Trim", owner_kind="police", owner_name="Beat 12",
                       due=date(2026, 12, 1), spot_id=spot, actor="x", now=NOW, conn=conn)
        raise CallerFailedError


def test_writes_join_the_callers_transaction(store: Store) -> None:
    """Given ``conn``, spot and plan writes commit or roll back with the caller's
    transaction, each bumping the revision once."""
    a = report(store, -94.58, 39.04)
    before = store.revision()
    with pytest.raises(CallerFailedError):
        spot_and_plan_then_fail(store, a)
    assert store.revision() == before
    assert sp.spots(store).empty and sp.plans(store).empty
    assert [k for k, _, _ in events(store, a)] == ["created"]
    with store.transaction() as conn:
        spot = sp.create_spot(store, "Hedges", [a], actor="x", now=NOW, conn=conn)
        plan = sp.create_plan(store, "Trim", owner_kind="police", owner_name="Beat 12",
                              due=date(2026, 12, 1), spot_id=spot, actor="x", now=NOW,
                              conn=conn)
        sp.set_plan_status(store, plan, "done", "Trimmed", actor="x", now=NOW, conn=conn)
    assert store.revision() == before + 3
    assert sp.plans(store).set_index("id").at[plan, "reports"] == 1
    assert [k for k, _, _ in events(store, a)] == ["created", "linked", "linked", "plan"]


def test_a_plan_without_an_owner_type_is_refused(store: Store) -> None:
    a = report(store, -94.58, 39.04)
    for blank in (None, "", "  "):
        with pytest.raises(ReportError) as exc:
            sp.create_plan(store, "Trim the hedges", owner_kind=blank, owner_name="Parks",
                           due=date(2026, 12, 1), request_ids=[a], actor="x", now=NOW)
        assert exc.value.problems == [
            "choose the owner type (resident, block association, police, city department, "
            "other)"]
    assert sp.plans(store).empty


def test_spot_statuses_follow_open_reports_and_plans(store: Store) -> None:
    a, b, c, d = (report(store, -94.58 + k * 0.001, 39.04) for k in range(4))
    none = sp.create_spot(store, "No plan yet", [a], actor="Chair", now=NOW)
    going = sp.create_spot(store, "Plan under way", [b], actor="Chair", now=NOW)
    late = sp.create_spot(store, "Plan overdue", [c], actor="Chair", now=NOW)
    shut = sp.create_spot(store, "All closed", [d], actor="Chair", now=NOW)
    finished = sp.create_plan(store, "Done already", owner_kind="police", owner_name="Beat 4",
                              due=date(2026, 10, 1), spot_id=none, actor="Chair", now=NOW)
    sp.set_plan_status(store, finished, "done", "Walked it", actor="Chair", now=NOW)
    sp.create_plan(store, "Trim", owner_kind="city department", owner_name="Parks",
                   due=date(2026, 12, 1), spot_id=going, actor="Chair", now=NOW)
    sp.create_plan(store, "Fix", owner_kind="city department", owner_name="Public Works",
                   due=date(2026, 10, 1), spot_id=late, actor="Chair", now=NOW)
    cc.change_status(store, d, "fixed", "Light replaced", actor="Chair", now=NOW)
    spots = sp.spots(store).sample(frac=1, random_state=3)  # any order, aligned on the index
    got = sp.spot_statuses(spots, sp.plans(store, today=date(2026, 11, 1)))
    assert got.index.equals(spots.index)
    assert dict(zip(spots["id"], got, strict=True)) == {
        none: "open, no plan under way",  # its only plan is done, its report still open
        going: "plan under way", late: "plan overdue", shut: "all reports closed"}
    assert sp.spot_statuses(spots, sp.plans(store).iloc[0:0]).eq(
        "open, no plan under way").sum() == 3
