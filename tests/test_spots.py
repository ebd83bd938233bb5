from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from cpted import concerns as cc
from cpted import spots as sp
from cpted.concerns import ReportDraft, ReportError
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
