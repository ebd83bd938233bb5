"""Patrol plans on the sample district: routes on the streets, GPX, sheets, the visit log."""

from __future__ import annotations

import itertools
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import gpxpy
import numpy as np
import pandas as pd
import pytest

from cpted import hotspots as hs
from cpted import network as nw
from cpted import patrol as pt
from cpted.cli import main
from layers.schema import Layer
from layers.store import Store

HOSTILE = "<script>alert('x')</script> O'Brien; DROP TABLE patrol_visits;--"


@pytest.fixture
def planned(sample_store: Store) -> tuple[nw.Network, pt.PatrolPlan, hs.Hotspots]:
    events = pt.gather_events(sample_store, pt.parse_sources([]))
    hot = hs.analyse(events, boundary=sample_store.read(Layer.NEIGHBORHOODS))
    net = nw.from_lines(sample_store.read(Layer.STREETS))
    cands = pt.candidates_from(hot, "gi")
    station = tuple(net.lonlat[net.nearest(net.xy.mean(axis=0)[None, :])[0][0]])
    must = pt.Candidate(HOSTILE, *net.lonlat[5], 0.0, must=True)
    settings = pt.PatrolSettings(station, shift_min=150, officers=2, dwell_min=10,
                                 start=datetime(2026, 11, 21, 20, 0,
                                                tzinfo=ZoneInfo("America/Chicago")))
    plan = pt.plan_patrol(net, [*cands, must], settings, time_limit=5)
    return net, plan, hot


def test_routes_start_and_end_at_the_station_follow_edges_and_fit_the_shift(
        planned: tuple[nw.Network, pt.PatrolPlan, hs.Hotspots]) -> None:
    net, plan, _ = planned
    edges = net.edge_index()
    minutes = net.matrix(plan.settings.speed_kmh)
    assert len(plan.routes) == 2
    assert any(s.must for r in plan.routes for s in r.stops)
    for r in plan.routes:
        assert r.nodes[0] == r.nodes[-1] == plan.station_node
        assert all((a, b) in edges for a, b in itertools.pairwise(r.nodes))
        travel = sum(minutes[a, b] for a, b in itertools.pairwise(r.nodes))
        assert travel == pytest.approx(r.travel_min, rel=1e-9)
        assert r.travel_min + plan.settings.dwell_min * len(r.stops) <= plan.settings.shift_min
        assert r.total_min <= plan.settings.shift_min + 1e-9
        # stops lie on the path, in order, and their times add up
        path_nodes = list(r.nodes)
        last = 0
        for s in r.stops:
            node = int(net.nearest_lonlat([s.lon], [s.lat])[0][0])
            assert node in path_nodes[last:]
            last = path_nodes.index(node, last)
            assert s.leave_min - s.arrive_min == pytest.approx(plan.settings.dwell_min)
        assert [s.order for s in r.stops] == list(range(1, len(r.stops) + 1))
        assert all(b.arrive_min >= a.leave_min for a, b in itertools.pairwise(r.stops))
        # the drawn path is the edges' own lines, end to end
        assert np.allclose(r.path[0], plan.settings.station, atol=3e-3)
    assert 0 < plan.prize <= plan.prize_available
    table = plan.stops_frame()
    assert len(table) == sum(len(r.stops) for r in plan.routes)
    assert table["arrive"].str.match(r"^\d\d:\d\d$").all()


def test_gpx_parses_back_to_the_same_points(
        planned: tuple[nw.Network, pt.PatrolPlan, hs.Hotspots]) -> None:
    _, plan, _ = planned
    parsed = gpxpy.parse(pt.to_gpx(plan))
    stops = [s for r in plan.routes for s in r.stops]
    assert len(parsed.waypoints) == 1 + len(stops)
    assert parsed.waypoints[0].name == "Station"
    for wp, s in zip(parsed.waypoints[1:], stops, strict=True):
        assert (wp.longitude, wp.latitude) == pytest.approx((s.lon, s.lat), abs=1e-9)
        assert wp.name == f"Officer {s.officer} stop {s.order}"
        assert wp.time is not None
        expected = plan.settings.start + pd.Timedelta(minutes=s.arrive_min)
        assert abs((wp.time - expected).total_seconds()) <= 0.5  # to the second
    assert len(parsed.tracks) == len(plan.routes)
    for track, r in zip(parsed.tracks, plan.routes, strict=True):
        pts = np.array([(p.longitude, p.latitude) for p in track.segments[0].points])
        assert pts.shape == r.path.shape
        assert np.allclose(pts, r.path, atol=1e-9)


def test_the_sheet_lists_every_stop_and_escapes_text(
        planned: tuple[nw.Network, pt.PatrolPlan, hs.Hotspots]) -> None:
    net, plan, _ = planned
    page = pt.sheet_html(plan, net=net)
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    for r in plan.routes:
        assert f"<h2>Officer {r.officer}</h2>" in page
        for s in r.stops:
            assert plan.clock(s.arrive_min) in page
    assert "data:image/png;base64," in page


def test_the_sheet_and_the_gpx_speak_the_language_in_use(
        planned: tuple[nw.Network, pt.PatrolPlan, hs.Hotspots]) -> None:
    from cpted import i18n

    net, plan, _ = planned
    i18n.forget_missing()
    with i18n.use("es"):
        page = pt.sheet_html(plan, net=net)
        parsed = gpxpy.parse(pt.to_gpx(plan))
    assert "<html lang='es'>" in page and "<h1>Hoja de patrullaje</h1>" in page
    assert "<h2>Agente 1</h2>" in page and "<th>Llegada</th>" in page
    for english in ("Officer", "Arrive", "Shift", "stop(s)", "Visited", "Routes map"):
        assert english not in page
    assert parsed.name == "Plan de patrullaje" and parsed.waypoints[0].name == "Estación"
    assert parsed.waypoints[1].name.startswith("Agente 1, parada ")
    assert i18n.missing("es") == set()


def test_visits_are_logged_and_read_back_unchanged(sample_store: Store) -> None:
    when = datetime(2026, 11, 21, 21, 15, tzinfo=ZoneInfo("America/Chicago"))
    vid = pt.log_visit(sample_store, officer="Ofc. " + HOSTILE, place=HOSTILE, lon=-94.575,
                       lat=39.04, visited_at=when, note=HOSTILE)
    got = pt.visits(sample_store)
    row = got[got["id"] == vid].iloc[0]
    assert row["officer"] == "Ofc. " + HOSTILE and row["place"] == HOSTILE
    assert row["note"] == HOSTILE
    assert row["visited_at"] == pd.Timestamp(when)
    assert (row.geometry.x, row.geometry.y) == (-94.575, 39.04)
    assert pt.visits(sample_store, since=datetime(2026, 11, 23)).empty
    with pytest.raises(pt.VisitError, match="who made the visit"):
        pt.log_visit(sample_store, officer=" ", place="x", lon=0, lat=0)
    with pytest.raises(pt.VisitError, match="longitude, latitude"):
        pt.log_visit(sample_store, officer="a", place="x", lon=200, lat=0)


def test_gathered_events_follow_weights_windows_and_night(sample_store: Store) -> None:
    concerns = sample_store.read(Layer.CONCERNS)
    start = pd.Timestamp("2026-01-01", tz="UTC")
    src = [pt.Source("open concerns", 2.0, start=start),
           pt.Source("night-time concerns", 3.0)]
    ev = pt.gather_events(sample_store, src, tz="America/Chicago")
    open_n = int(((concerns["status"] == "open")
                  & (concerns["requested_datetime"] >= start)).sum())
    hour = concerns["requested_datetime"].dt.tz_convert("America/Chicago").dt.hour
    night = (concerns["time_of_day"] == "night") | (concerns["time_of_day"].isna()
                                                    & ((hour >= 19) | (hour < 7)))
    assert (ev["source"] == "open concerns").sum() == open_n > 0
    assert (ev["source"] == "night-time concerns").sum() == int(night.sum()) > 0
    assert set(ev.loc[ev["source"] == "open concerns", "weight"]) == {2.0}
    audits = pt.gather_events(sample_store, [pt.Source("weak CPTED audits", 3.0)])
    assert len(audits) > 0
    assert ((audits["weight"] > 0) & (audits["weight"] <= 3.0)).all()
    with pytest.raises(hs.HotspotError, match="unknown source"):
        pt.parse_sources(["crimes:2"])


def test_cli_hotspots_and_route(sample_db: Path, tmp_path: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "hot.geojson"
    assert main(["hotspots", "--db", str(sample_db), "--method", "gi", "--out", str(out),
                 "--evaluate-after", "2026-06-01"]) == 0
    text = capsys.readouterr().out
    assert "Gi*:" in text and "PAI" in text
    import geopandas as gpd

    cells = gpd.read_file(out)
    assert {"gi_z", "gi_p", "gi_bin", "gi_label"} <= set(cells.columns)
    assert (cells["gi_bin"] > 0).any()
    gpx_path = tmp_path / "route.gpx"
    sheet = tmp_path / "sheet.html"
    with Store_for(sample_db) as s:
        net = nw.from_lines(s.read(Layer.STREETS))
    lon, lat = net.lonlat[0]
    code = main(["route", "--db", str(sample_db), f"--station={lon},{lat}",
                 "--shift-min", "120", "--officers", "2", "--out", str(gpx_path),
                 "--sheet", str(sheet), "--time-limit", "3",
                 f"--must={net.lonlat[9][0]},{net.lonlat[9][1]},Corner store"])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    # how the store's streets were joined, in words
    assert f"joining the lines: {net.noding.describe()}" in printed.out  # type: ignore[union-attr]
    parsed = gpxpy.parse(gpx_path.read_text())
    assert len(parsed.tracks) == 2
    assert any("Corner store" in (w.description or "") for w in parsed.waypoints)
    assert "Officer 2" in sheet.read_text()
    assert main(["route", "--db", str(sample_db), "--station", "nowhere", "--out",
                 str(gpx_path)]) == 1
    assert "LON,LAT" in capsys.readouterr().err


def Store_for(path: Path) -> Store:  # noqa: N802
    from layers.store import open_store

    return open_store(path)


class CallerFailedError(Exception):
    """What the caller's own part of a transaction raised."""


def log_then_fail(store: Store) -> None:
    with store.transaction() as conn:
        pt.log_visit(store, officer="Ofc. A", place="Rolled back", lon=-94.57, lat=39.04,
                     conn=conn)
        raise CallerFailedError


def test_a_visit_joins_the_callers_transaction(any_store: Store) -> None:
    before = any_store.revision()
    with pytest.raises(CallerFailedError):
        log_then_fail(any_store)
    assert pt.visits(any_store).empty and any_store.revision() == before
    with any_store.transaction() as conn:
        vid = pt.log_visit(any_store, officer="Ofc. A", place="Kept", lon=-94.57, lat=39.04,
                           conn=conn)
    assert list(pt.visits(any_store)["place"]) == ["Kept"]
    assert list(pt.visits(any_store)["id"]) == [vid] and any_store.revision() == before + 1


def test_weak_audit_evidence_leaves_out_audits_with_not_enough_answers(
        sample_store: Store) -> None:
    from datetime import UTC

    import shapely

    from cpted import assessments as A
    from cpted.instrument import load_instrument
    from cpted.scoring import answers_needed

    ins = load_instrument()
    items = [i for i in ins.items if i.applies_to("night")]
    lowest = {i.id: i.scale.values[0] for i in items}
    when = datetime(2026, 10, 1, 23, 0, tzinfo=UTC)

    def audit(name: str, answers: dict[str, int | str | None]) -> str:
        return A.save_assessment(sample_store, A.AssessmentDraft(
            name, shapely.Point(-94.575, 39.04), "Maple Block Association", when, "night",
            answers), ins)

    one = audit("One answer", {"lt_level": 0})  # 1 of 41: overall 0, "Poor" if rated
    need = answers_needed(len(items))
    half = audit("Half answered", dict(list(lowest.items())[:need]))
    listed = A.list_assessments(sample_store).set_index("id")
    assert listed.loc[one, "overall"] == 0.0 and not listed.loc[one, "enough_answers"]
    assert listed.loc[half, "overall"] == 0.0 and listed.loc[half, "enough_answers"]
    ev = pt.gather_events(sample_store, [pt.Source("weak CPTED audits", 3.0)])
    refs = set(ev["ref"])
    assert one not in refs
    assert half in refs and ev.set_index("ref").loc[half, "weight"] == 3.0
    # every audit that counts has enough answers and scores under the weak line
    counted = listed.loc[sorted(refs)]
    assert counted["enough_answers"].all() and (counted["overall"] < pt.WEAK_AUDIT).all()
    assert len(refs) == int((listed["enough_answers"]
                             & (listed["overall"] < pt.WEAK_AUDIT)).sum())
