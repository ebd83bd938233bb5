"""A shared deployment on both backends: many people at once, hostile text, a server
that stops mid-import."""

from __future__ import annotations

import json
import random
import threading
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
import shapely
import sqlalchemy as sa

from cpted import accounts as acc
from cpted import assessments as A
from cpted import concerns as cc
from cpted import spots as sp
from cpted.access import Access
from cpted.accounts import Actor
from cpted.concerns import ReportDraft
from cpted.instrument import load_instrument
from cpted.patrol import log_visit, visits
from cpted.privacy import Role
from layers import tables as wt
from layers.errors import ConflictError, CptedError, StoreError, UnusableInputError
from layers.schema import SCHEMAS, FieldType, Layer
from layers.settings import Settings
from layers.store import Store, open_store

#: Text that breaks SQL built by pasting strings: quotes, comments, statement ends,
#: placeholders of every paramstyle, a backslash, a NUL-free control character and
#: non-ASCII letters.
NASTY = ("O'Brien's \"corner\"; DROP TABLE concerns; -- /* x */ ' OR '1'='1 "
         "%s %(name)s ? :name $1 \\ \t é ü 東京 ")


@pytest.fixture
def store(any_store: Store) -> Store:
    return any_store


def test_concurrent_reports_and_status_changes_land_or_are_refused(store: Store) -> None:
    services = Settings(max_writes_per_minute=10_000)
    seed = Access(store, acc.public("seed"), services)
    shared = [seed.submit_report(ReportDraft("graffiti", -94.58 + i * 1e-4, 39.04, f"s{i}"))
              for i in range(3)]
    statuses = ["acknowledged", "in progress", "action scheduled", "fixed", "submitted"]
    outcomes: list[tuple[str, str, Any]] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        rng = random.Random(n)
        me = Access(store, Actor(f"user{n}", f"User {n}", Role.COORDINATOR), services)
        for k in range(6):
            try:
                if k % 2 == 0:
                    rid = me.submit_report(ReportDraft("graffiti", -94.57, 39.03 + n * 1e-4,
                                                       f"worker {n} report {k}"))
                    result = ("report", "ok", rid)
                else:
                    rid = rng.choice(shared)
                    seen = me.concern(rid)
                    target = rng.choice([s for s in statuses if s != seen["detailed_status"]])
                    me.change_status(rid, target, f"by {n}", expected_version=seen["version"])
                    result = ("status", "ok", rid)
            except (ConflictError, StoreError, UnusableInputError) as exc:
                result = ("report" if k % 2 == 0 else "status", "refused", str(exc))
            with lock:
                outcomes.append(result)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert len(outcomes) == 8 * 6
    landed = Counter((kind, ok) for kind, ok, _ in outcomes)
    assert landed[("report", "ok")] + landed[("report", "refused")] == 24
    assert landed[("status", "ok")] >= 3  # some changes land...
    refusals = [msg for kind, ok, msg in outcomes if ok == "refused"]
    assert all(("changed by someone else" in m and "nothing was saved" in m)
               or ("database" in m and "nothing" in m) for m in refusals), refusals
    # ...and the store holds exactly what was accepted
    assert store.count(Layer.CONCERNS) == 3 + landed[("report", "ok")]
    e = wt.concern_events
    with store.engine.connect() as conn:
        status_events = conn.execute(sa.select(sa.func.count()).select_from(e).where(
            e.c.kind.in_(["status", "reopened"]))).scalar_one()
        audited = conn.execute(sa.select(sa.func.count()).select_from(wt.audit_log)
                               .where(wt.audit_log.c.action == "status")).scalar_one()
    assert status_events == audited == landed[("status", "ok")]
    per_report = Counter(rid for kind, ok, rid in outcomes if (kind, ok) == ("status", "ok"))
    for rid in shared:
        assert cc.version(store, rid) == 1 + per_report[rid]
        assert len(cc.history(store, rid)) == 1 + per_report[rid]


def test_text_with_sql_and_quotes_reads_back_unchanged_in_every_field(store: Store) -> None:
    # every text field of every layer, through the bulk path
    for layer, schema in SCHEMAS.items():
        geom = {"Point": shapely.Point(-94.58, 39.04),
                "Polygon": shapely.box(-94.6, 39.0, -94.5, 39.1),
                "LineString": shapely.LineString([(-94.58, 39.04), (-94.57, 39.05)])}[
            schema.geometry_types[0]]
        row: dict[str, Any] = {}
        for spec in schema.fields:
            if spec.choices:
                row[spec.name] = spec.choices[0]
            elif spec.type is FieldType.TEXT:
                row[spec.name] = NASTY + spec.name
            elif spec.type is FieldType.DATETIME:
                row[spec.name] = pd.Timestamp("2026-01-01", tz="UTC")
            else:
                row[spec.name] = 1
        store.add(layer, gpd.GeoDataFrame([row], geometry=[geom], crs=4326))
        back = store.read(layer, ids=[NASTY + schema.id_field]).iloc[0]
        for spec in schema.fields:
            if spec.type is FieldType.TEXT and not spec.choices:
                assert back[spec.name] == NASTY + spec.name, (layer, spec.name)
        assert store.count(layer, where={schema.id_field: [NASTY + schema.id_field]}) == 1
    # the workflow's own text: reports, contact, notes, actors, spots, plans, audits,
    # visits, accounts, settings and the audit trail
    rid = cc.submit_report(store, ReportDraft(
        "graffiti", -94.58, 39.04, NASTY + "description", address=NASTY + "address",
        contact_name=NASTY + "name", contact_email="o'brien+x@example.org",
        contact_phone=NASTY + "phone"), actor=NASTY + "reporter")
    got = store.read(Layer.CONCERNS, ids=[rid]).iloc[0]
    assert (got["description"], got["address"]) == (NASTY + "description", NASTY + "address")
    assert cc.contact(store, rid) == {"name": NASTY + "name", "email": "o'brien+x@example.org",
                                      "phone": NASTY + "phone"}
    cc.add_support(store, rid, note=NASTY + "support", actor=NASTY + "supporter")
    admin = Access(store, Actor(NASTY + "admin", NASTY + "Admin", Role.ADMIN))
    admin.change_status(rid, "acknowledged", NASTY + "status note")
    hist = cc.history(store, rid)
    assert NASTY + "support" in hist["note"].tolist()
    assert NASTY + "status note" in hist["note"].tolist()
    assert NASTY + "Admin" in hist["actor"].tolist()
    spot = sp.create_spot(store, NASTY + "spot", [rid], note=NASTY + "spot note",
                          actor=NASTY)
    assert sp.spots(store).set_index("id").loc[spot, "title"] == NASTY + "spot"
    plan = sp.create_plan(store, NASTY + "plan", owner_kind="police", owner_name=NASTY + "owner",
                          due=date(2027, 1, 1), actor=NASTY, spot_id=spot, note=NASTY + "pn")
    p = sp.plans(store).set_index("id").loc[plan]
    assert (p["title"], p["owner_name"], p["note"]) == (NASTY + "plan", NASTY + "owner",
                                                         NASTY + "pn")
    aid = A.save_assessment(store, A.AssessmentDraft(
        NASTY + "place", shapely.Point(-94.58, 39.04), NASTY + "assessor",
        datetime(2026, 3, 1, 21, tzinfo=UTC), "night", {"lt_level": 1}, notes=NASTY + "notes"),
        load_instrument())
    a = A.get_assessment(store, aid)
    assert (a.place_name, a.assessor, a.notes) == (NASTY + "place", NASTY + "assessor",
                                                    NASTY + "notes")
    log_visit(store, officer=NASTY + "officer", place=NASTY + "place", lon=-94.58, lat=39.04,
              note=NASTY + "visit")
    v = visits(store).iloc[0]
    assert (v["officer"], v["place"], v["note"]) == (NASTY + "officer", NASTY + "place",
                                                     NASTY + "visit")
    admin.create_account("quote.user", NASTY + "display", Role.RESIDENT, NASTY + "password")
    assert acc.authenticate(store, "quote.user", NASTY + "password").name == NASTY + "display"
    store.set_setting(NASTY + "key", NASTY + "value")
    assert store.get_setting(NASTY + "key") == NASTY + "value"
    trail = admin.audit_trail()
    assert set(trail["actor"]) == {NASTY + "admin"}
    status = trail[trail["action"] == "status"].iloc[0]
    assert json.loads(status["detail"])["note"] == (NASTY + "status note").strip()
    # and nothing was dropped along the way
    assert store.count(Layer.CONCERNS) == 2


def test_database_server_stopped_mid_import_keeps_all_or_nothing(
        monkeypatch: pytest.MonkeyPatch, pg_server: Any, tmp_path: Path) -> None:
    """The import goes through the domain API the Import page calls; the page prints the
    message of any refusal of ours (``CptedError``)."""
    from layers import pgtemp
    from layers import store as store_mod

    monkeypatch.setattr(store_mod, "CHUNK_ROWS", 2_000)
    monkeypatch.setattr("layers.chunked.CHUNK_ROWS", 2_000)  # progress comes once a part
    n = 20_000
    csv = tmp_path / "bulk.csv"
    pd.DataFrame({"service_request_id": [f"bulk-{i}" for i in range(n)],
                  "service_code": "graffiti", "requested_datetime": "2026-01-01T10:00:00Z",
                  "status": "open", "lat": 39.04 + (pd.RangeIndex(n) % 100) * 1e-5,
                  "lon": -94.58}).to_csv(csv, index=False)
    # its own server, since this test stops it
    with pgtemp.TempServer() as server, open_store(server.create_database()) as store:
        coordinator = Access(store, Actor("c1", "C One", Role.COORDINATOR))
        coordinator.submit_report(ReportDraft("graffiti", -94.58, 39.04, "before"))
        stopped: list[int] = []

        def stop_half_way(done: int, total: int) -> None:
            if done >= total // 2 and not stopped:
                stopped.append(done)
                server.stop("immediate")

        with pytest.raises(CptedError) as info:
            coordinator.import_file(csv, Layer.CONCERNS, progress=stop_half_way)
        assert stopped and 0 < stopped[0] < n, "the server was stopped during the import"
        message = str(info.value)
        assert "connection to the database was lost" in message
        assert "nothing of it was stored" in message
        assert "Check that the database server is running" in message
        server.start()
        # none of the import, all of what was there before
        assert store.count(Layer.CONCERNS) == 1
        assert store.imports().empty
        # the same store works again once the server is back, and the retry lands whole
        summary = coordinator.import_file(csv, Layer.CONCERNS)
        assert summary.accepted == n
        assert store.count(Layer.CONCERNS) == n + 1
        # the change log has the retry and the report from before, not the failed import
        assert coordinator.audit_trail()["action"].tolist() == ["import", "report"]
