"""The public adversary: everything the public can reach, searched for what must never be
public.

As a member of the public (no sign-in, ``CPTED_STAFF_MODE`` unset) this module renders
every page the navigation lists (read from ``app.py``, so a new page is covered without
editing this test), calls every public method of :class:`cpted.access.Access` (listed by
introspection; a new method without an entry here fails the test), produces every
export format and asks the Open311 API server (``cpted api``, run on a loopback port)
every resource, as an anonymous reader and as a client filing a report. It then searches
all of it for reporter contact, the exact place (4 decimals) of a sensitive report, its
description and address, internal notes, and the text of a "me too" on a sensitive
report.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from streamlit.testing.v1 import AppTest

from cpted import accounts as acc
from cpted import privacy
from cpted.access import Access, PermissionDeniedError
from cpted.accounts import Actor
from cpted.concerns import ReportDraft
from cpted.exports import EXPORT_FORMATS
from cpted.privacy import Role
from layers.points import Points
from layers.schema import Layer
from layers.settings import Settings
from layers.store import Store, open_store
from tests.conftest import ROOT
from tests.test_access import audit_draft, csv_file

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
EXACT = (-94.571234, 39.051234)
SECRETS = {
    "contact name": "Quincy Hidden-Reporter", "contact email": "quincy.hidden@example.org",
    "contact phone": "+1 816 555 0142",
    "sensitive description": "Blue door behind the laundromat",
    "sensitive address": "4321 Secret Lane",
    "internal note": "Informant lives at number 7",
    "sensitive public-marked note": "Raid planned for Friday",
    "support on sensitive": "I saw them at the back gate",
    "assigned staff member's e-mail": "olive.assigned@example.net",
    "parcel owner's name": "Ophelia Parcel-Owner",
    "parcel owner's e-mail": "ophelia.owner@example.com",
    # staff configuration, not for the public: a saved import profile and its columns
    "saved import profile": "Precinct Tip Line Feed",
    "saved profile's column": "Tipster Callback Column",
}
LON, LAT = (re.escape(f"{v:.4f}") for v in EXACT)
#: The exact place written as text: both coordinates to 4 decimals, close together.
EXACT_TEXT = re.compile(rf"{LAT}\d*\D{{1,40}}{LON}|{LON}\d*\D{{1,40}}{LAT}")
#: Where a member of the public placed a survey answer: the public learns totals per
#: neighborhood, never the point (written as text like :data:`EXACT_TEXT`).
SURVEY_AT = (-94.567612, 39.043421)  # 4 decimals as written: no rounding up
S_LON, S_LAT = (re.escape(f"{v:.4f}") for v in SURVEY_AT)
SURVEY_TEXT = re.compile(rf"{S_LAT}\d*\D{{1,40}}{S_LON}|{S_LON}\d*\D{{1,40}}{S_LAT}")


def seed(store: Store) -> dict[str, str]:
    staff = Access(store, Actor("c1", "Casey Coordinator", Role.COORDINATOR),
                   Settings(max_writes_per_minute=1000))
    public = Access(store, acc.public("seed-browser"), Settings(max_writes_per_minute=1000))
    sens = public.submit_report(ReportDraft(
        "drug_activity", *EXACT, SECRETS["sensitive description"],
        address=SECRETS["sensitive address"], contact_name=SECRETS["contact name"],
        contact_email=SECRETS["contact email"], contact_phone=SECRETS["contact phone"]))
    plain = public.submit_report(ReportDraft("graffiti", -94.57, 39.05, "Tags on the wall",
                                             contact_email=SECRETS["contact email"]))
    links = seed_follows(store, public, sens, plain)
    staff.change_status(plain, "acknowledged", SECRETS["internal note"], visibility="internal")
    # even a note marked public never reaches the public on a sensitive category
    staff.change_status(sens, "acknowledged", SECRETS["sensitive public-marked note"],
                        visibility="public")
    public.support(sens, SECRETS["support on sensitive"])
    spot = staff.create_spot("Corner spot", [plain, sens], note=SECRETS["internal note"])
    # a spot of the sensitive report alone is stored at its exact place
    staff.create_spot("Back gate", [sens])
    staff.create_plan("Trim hedges", owner_kind="city department", owner_name="Parks",
                      due=NOW.date(), spot_id=spot, note=SECRETS["internal note"])
    public.answer_survey(*SURVEY_AT, 1, False)
    name, column = SECRETS["saved import profile"], SECRETS["saved profile's column"]
    staff.save_profile(f'[profile]\nname = "{name}"\nlayer = "concerns"\n[columns]\n'
                       f'description = "{column}"\n')
    # the plain report is fixed (with an internal note): its follower is asked "Is it
    # fixed?"; the token of those links is read from the outbox, which stays unsent
    staff.change_status(plain, "fixed", SECRETS["internal note"], visibility="internal")
    fixed = pd.read_sql("SELECT body_text FROM outbox WHERE sent_at IS NULL", store.engine)
    [answer_token] = {t for text in fixed["body_text"]
                      for t in re.findall(r"/follow/fixed\?token=([\w.-]+)", text)}
    # the sensitive report is assigned to a staff member with an address
    acc.create_account(store, "olive", "Olive Officer", Role.OFFICER, "long enough pw",
                       email=SECRETS["assigned staff member's e-mail"])
    staff.assign(sens, "olive")
    seed_parcels(store)
    return {"sensitive": sens, "plain": plain, "spot": spot, "fixed": answer_token, **links}


def seed_parcels(store: Store) -> None:
    """Vacant parcels from a city file whose other columns name each owner: public data
    (the Map page draws them, the scorecard and the brief count them), of which only the
    layer's own fields may be kept and shown."""
    import tempfile

    from layers.importer import import_file

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "vacant.csv"
        pd.DataFrame({
            "parcel_id": ["VP-1", "VP-2", "VP-3"],
            "status": ["vacant_lot", "vacant_building", "occupied"],
            "owner_type": ["land_bank", "private", "private"],
            "owner_name": [SECRETS["parcel owner's name"]] * 3,
            "owner_email": [SECRETS["parcel owner's e-mail"]] * 3,
            "lat": [39.0452, 39.0457, 39.0461], "lon": [-94.5752, -94.5748, -94.5741],
        }).to_csv(path, index=False)
        import_file(store, path, Layer.PARCELS)
    assert store.count(Layer.PARCELS) == 3


def seed_follows(store: Store, public: Access, sens: str, plain: str) -> dict[str, str]:
    """Confirmed follows of both reports and of an area round the sensitive one, made
    before any status changes; return the tokens of their links."""
    from cpted.follows import circle
    from tests.helpers import link, sent_messages, token

    public.follow_report(sens, FOLLOWER)
    public.follow_report(plain, FOLLOWER)
    public.follow_area(FOLLOWER, area=circle(*EXACT, 500), frequency="daily")
    confirmations = sent_messages(store, public.settings)
    summaries = [public.confirm_follow(token(link(m, "/follow/confirm")))
                 for m in confirmations]
    [area] = [s for s in summaries if s.feed_url]
    return {"confirm": token(link(confirmations[0], "/follow/confirm")),
            "unsubscribe": token(confirmations[1]["List-Unsubscribe"].strip("<>")),
            "feed": area.feed_url.rsplit("/", 1)[1].removesuffix(".atom")}


def leaks(value: Any) -> list[str]:
    """Which secrets appear in ``value`` (frames, text, bytes or anything JSON-able)."""
    if isinstance(value, list | tuple):
        return [x for v in value for x in leaks(v)]
    if isinstance(value, dict):
        return leaks(list(value.values())) + leaks(json.dumps(list(value), default=str))
    if isinstance(value, Points):  # where concerns are, as coordinate arrays
        return leaks(gpd.GeoDataFrame(geometry=value.geoseries()))
    if hasattr(value, "__dataclass_fields__"):
        from dataclasses import asdict

        return leaks(json.dumps(asdict(value), default=str))
    if isinstance(value, gpd.GeoDataFrame):
        near = [f"exact place {g}" for g in value.geometry if g is not None
                and g.distance(shapely.Point(*EXACT)) < 1e-4]
        near += [f"a survey answer's place {g}" for g in value.geometry if g is not None
                 and g.geom_type == "Point" and g.distance(shapely.Point(*SURVEY_AT)) < 1e-4]
        return near + leaks(value.drop(columns="geometry").to_json(default_handler=str,
                                                                     date_format="iso"))
    if isinstance(value, pd.DataFrame):
        near = []
        if {"lon", "lat"} <= set(value.columns):  # a place as two columns, far apart in JSON
            lon = pd.to_numeric(value["lon"], errors="coerce")
            lat = pd.to_numeric(value["lat"], errors="coerce")
            if (((lon - EXACT[0]) ** 2 + (lat - EXACT[1]) ** 2) ** 0.5 < 1e-4).any():
                near.append("exact place (lon and lat columns)")
            if (((lon - SURVEY_AT[0]) ** 2 + (lat - SURVEY_AT[1]) ** 2) ** 0.5 < 1e-4).any():
                near.append("a survey answer's place (lon and lat columns)")
        return near + leaks(value.to_json(default_handler=str, date_format="iso"))
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    found = [name for name, s in SECRETS.items() if s in text]
    found += ["a survey answer's place"] if SURVEY_TEXT.search(text) else []
    return found + (["exact place"] if EXACT_TEXT.search(text) else [])


def prescore_outputs(who: Access) -> list[Any]:
    """The pre-score as the Audits page shows it: the segments, the list, the check against
    audits and the map's HTML and text alternative."""
    from cpted import prescore as ps
    from cpted.maps import build_prescore_map
    from cpted.maps.describe import text_of

    result = who.prescore(now=NOW)
    todo = ps.where_to_audit(result, who.audits(), now=NOW)
    fmap = build_prescore_map(result.segments, todo)
    return [result.segments, todo, ps.check_against_audits(result, who.audits()).pairs,
            fmap.get_root().render(), text_of(fmap), result.missing]


PASSWORD = "Adversary-Db-Pw-42"
#: Who follows the seeded reports and an area round the sensitive one.
FOLLOWER = "follower.of.reports@example.net"


@pytest.fixture(params=["embedded", "postgis"])
def seeded(request: pytest.FixtureRequest, sample_db: Path
           ) -> Iterator[tuple[Store, dict[str, str], str]]:
    """The sample district plus :func:`seed`, on the embedded store or on PostGIS reached
    by a URL that holds a password (the test server trusts loopback, so any works)."""
    if request.param == "embedded":
        url = str(sample_db)
    else:
        scheme, rest = str(request.getfixturevalue("pg_url")).split("://", 1)
        user, host = rest.split("@", 1)
        url = f"{scheme}://{user}:{PASSWORD}@{host}"
    with open_store(url) as s:
        if request.param != "embedded":
            Access(s, acc.operator()).load_sample()
        ids = seed(s)
        yield s, ids, url


def partitioned(who: Access, folder: Path) -> gpd.GeoDataFrame:
    """The partitioned GeoParquet export (``cpted export --partitioned``) read back as one
    frame: its files are compressed, so their bytes would hide any text."""
    who.export(Layer.CONCERNS, folder, "parquet", partitioned=True)
    return pd.concat([gpd.read_parquet(p) for p in sorted(folder.glob("part.*.parquet"))])


def test_every_public_method_answers_without_a_secret(
        seeded: tuple[Store, dict[str, str], str], tmp_path: Path) -> None:
    store, ids, _ = seeded
    from cpted.follows import circle
    from cpted.instrument import parse_instrument

    inst = parse_instrument((ROOT / "cpted" / "data" / "instrument.toml").read_text())
    who = Access(store, acc.public("browser-9", "203.0.113.9"),
                 Settings(max_writes_per_minute=1000))
    sens = ids["sensitive"]
    audit = who.audits().iloc[0]["id"]
    calls: dict[str, Callable[[], Any]] = {
        "sensitive_codes": who.sensitive_codes, "services": who.services,
        "layer": lambda: [who.layer(x) for x in Layer] + [who.layer(
            Layer.CONCERNS, columns=["description", "address"], newest="requested_datetime",
            limit=5)],
        "concerns": who.concerns, "as_seen": lambda: who.as_seen(store.read(Layer.CONCERNS)),
        "concern_points": who.concern_points,
        "concern_counts": lambda: who.concern_counts(among={"open": {"status": ["open"]}}),
        "concern": lambda: who.concern(sens), "history": lambda: who.history(sens),
        "photos": lambda: who.photos(sens), "contact": lambda: who.contact(sens),
        "support_counts": who.support_counts, "reopened_ids": who.reopened_ids,
        "duplicates": lambda: [who.duplicates("drug_activity", *EXACT),
                               who.duplicates("graffiti", -94.57, 39.05)],
        "status_notes": who.status_notes, "audit_trail": who.audit_trail,
        "open311_requests": lambda: [who.open311_requests(),
                                     who.open311_requests(ids=[sens, ids["plain"]])],
        "api_keys": who.api_keys, "create_api_key": lambda: who.create_api_key("x"),
        "revoke_api_key": lambda: who.revoke_api_key("ak_000000000000"),
        "accounts": who.accounts,
        "export": lambda: [(tmp_path / f"p.{f}").read_bytes()
                           for f in EXPORT_FORMATS if f != "gpkg"
                           if who.export(Layer.CONCERNS, tmp_path / f"p.{f}", f) >= 0] + [
            (tmp_path / f"v.{f}").read_bytes() for f in EXPORT_FORMATS if f not in
            ("gpkg", "open311") if who.export(Layer.PARCELS, tmp_path / f"v.{f}", f) >= 0]
            + [partitioned(who, tmp_path / "parts")],
        "audits": who.audits, "audit": lambda: who.audit(audit),
        "audit_photos": lambda: who.audit_photos(audit),
        "audit_scorecard": lambda: who.audit_scorecard(who.audit(audit)),
        "audit_instrument": lambda: who.audit_instrument(who.audit(audit)).id,
        "same_place": lambda: who.same_place(audit),
        "day_and_night": lambda: who.day_and_night(audit),
        "current_instrument": who.current_instrument,
        "audit_agreement": lambda: [who.audit_agreement().items, who.audit_agreement().places],
        "safety_drivers": lambda: [d.words for d in who.safety_drivers()],
        "prescore": lambda: prescore_outputs(who),
        "may_edit_audit": lambda: who.may_edit_audit(who.audit(audit)),
        "audit_report": lambda: who.audit_report(audit).assessment.place_name,
        "neighborhood_brief": lambda: brief_text(who, store),
        "spots": who.spots, "spot_reports": lambda: who.spot_reports(ids["spot"]),
        "plans": who.plans, "visits": who.visits,
        "patrol_events": lambda: who.patrol_events([]),
        "submit_report": lambda: who.submit_report(ReportDraft("graffiti", -94.575, 39.04,
                                                               "x")),
        "support": lambda: who.support(ids["plain"]),
        "change_status": lambda: who.change_status(sens, "fixed", "done"),
        "merge": lambda: who.merge(sens, [ids["plain"]], "same"),
        "delete_concern": lambda: who.delete_concern(sens, "gone"),
        "save_audit": lambda: who.save_audit(audit_draft(), inst),
        "answer_survey": lambda: who.answer_survey(-94.575, 39.04, 3, True),
        "survey_summary": who.survey_summary,
        "progress": lambda: [who.progress().months, who.progress().names, chart_text(who)],
        "timezone": who.timezone,
        "update_audit": lambda: who.update_audit(audit, audit_draft("x"), inst,
                                                 expected_version=1),
        "delete_audit": lambda: who.delete_audit(audit, "spam"),
        "create_spot": lambda: who.create_spot("x", [sens]),
        "create_plan": lambda: who.create_plan("x", owner_kind="other", owner_name="x",
                                               due=NOW.date(), spot_id=ids["spot"]),
        "set_plan_status": lambda: who.set_plan_status("AP-x", "done", "x"),
        "log_visit": lambda: who.log_visit(officer="x", place="x", lon=-94.5, lat=39.0),
        "save_services": lambda: who.save_services([]),
        "add_instrument": lambda: who.add_instrument(""),
        "import_file": lambda: who.import_file(csv_file(tmp_path), Layer.CONCERNS),
        "commit_import": lambda: who.commit_import(None),
        "saved_profiles": who.saved_profiles,
        "find_profile": lambda: who.find_profile("kc311"),
        "save_profile": lambda: who.save_profile(
            '[profile]\nname = "City 311"\nlayer = "concerns"\n'),
        "load_sample": who.load_sample,
        "create_account": lambda: who.create_account("x1", "X", Role.ADMIN, "long enough pw"),
        "set_role": lambda: who.set_role("x1", Role.ADMIN),
        "set_disabled": lambda: who.set_disabled("x1", True),
        "follow_report": lambda: who.follow_report(sens, "adversary@example.net"),
        "follow_area": lambda: who.follow_area("adversary@example.net",
                                               area=circle(*EXACT, 60), frequency="daily"),
        "followed_by": lambda: [who.followed_by(ids["confirm"], "confirm"),
                                who.followed_by(ids["unsubscribe"], "unsubscribe")],
        "confirm_follow": lambda: who.confirm_follow(ids["confirm"]),
        "neighborhood_feed_url": lambda: who.neighborhood_feed_url("N1"),
        "neighborhood_feed": lambda: [who.neighborhood_feed(n) for n in
                                      store.read(Layer.NEIGHBORHOODS)["id"]],
        "area_feed": lambda: who.area_feed(ids["feed"]),
        "unsubscribe": lambda: who.unsubscribe(ids["unsubscribe"]),
        "fixed_question": lambda: who.fixed_question(ids["fixed"]),
        "answer_fixed": lambda: [who.answer_fixed(ids["fixed"], "yes"),
                                 who.answer_fixed(ids["fixed"], "no", "Still tagged")],
        "fixed_answer_counts": lambda: who.fixed_answer_counts(ids["plain"]),
        "assignable_staff": who.assignable_staff,
        "assignee": lambda: who.assignee(sens),
        "assign": lambda: who.assign(sens, "olive"),
        "follows_assigned": who.follows_assigned,
        "follow_assigned": who.follow_assigned,
        "build_digests": who.build_digests,
        "deliver": lambda: who.deliver(print),
        "outbox_summary": who.outbox_summary,
    }
    public_api = {n for n, _ in inspect.getmembers(Access, inspect.isfunction)
                  if not n.startswith("_")}
    assert set(calls) == public_api, (
        f"every public method of Access is called here; missing {public_api - set(calls)}")
    answered = 0
    for name, call in calls.items():
        try:
            out = call()
            answered += 1
        except PermissionDeniedError as exc:
            out = str(exc)
        assert not leaks(out), f"{name} leaked {leaks(out)}"
    assert answered >= 25  # the reads and the public's own writes answer; the rest refuse


def test_every_message_to_a_follower_holds_no_secret(
        seeded: tuple[Store, dict[str, str], str]) -> None:
    """What the follows of the seed receive: the confirmations, each status change of both
    reports, and the area's digest, all searched as public output."""
    from datetime import timedelta

    from tests.helpers import body, sent_messages

    store, ids, _ = seeded
    later = datetime.now(UTC) + timedelta(days=1, minutes=1)
    operator = Access(store, acc.operator())
    assert operator.build_digests(now=later) == 1
    messages = sent_messages(store, now=later)
    subjects = [m["Subject"] for m in messages]
    assert f"Suspected drug activity {ids['sensitive']}: now Acknowledged" in subjects
    assert f"Graffiti {ids['plain']}: now Acknowledged" in subjects
    assert any(s.startswith("Daily news of an area") for s in subjects)
    for message in messages:
        assert message["To"] == FOLLOWER
        found = leaks(message.as_string()) + leaks(body(message))
        assert not found, f"{message['Subject']!r} holds {found}"

def test_emerging_hot_spots_and_responsible_use_hold_no_secret(
        seeded: tuple[Store, dict[str, str], str], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The emerging hot spot classes, their map's words, the evidence mix, the feedback
    check and the "how this was made" box (the Patrol page's, staff only) and the
    ``cpted hotspots --method emerging`` answer, built from the seeded store: none holds
    a secret. The public cannot even read their input."""
    from cpted import emerging as em
    from cpted import patrol as pt
    from cpted import responsible as rs
    from cpted.cli import main
    from cpted.maps import build_emerging_map
    from cpted.maps.describe import text_of

    store, _, url = seeded
    public = Access(store, acc.public("browser-9", "203.0.113.9"))
    with pytest.raises(PermissionDeniedError):
        public.patrol_events(pt.parse_sources([]))
    staff = Access(store, acc.operator())
    sources = pt.parse_sources([])
    events = staff.patrol_events(sources, tz="America/Chicago")
    found = em.analyse(events, boundary=staff.layer(Layer.NEIGHBORHOODS),
                       tz="America/Chicago")
    frame = found.frame()
    text = text_of(build_emerging_map(frame))
    assert text is not None
    mix = rs.evidence_mix(events)
    outputs: list[Any] = [
        pd.DataFrame(frame.drop(columns="geometry")), found.counts_by_pattern(),
        found.describe(), text.summary, [t.rows for t in text.tables], mix,
        rs.feedback_loop(events, staff.visits(), found.grid),
        rs.how_made(sources=[x.describe() for x in sources], mix=mix,
                    hotspots="cells", emerging=found.describe(), dwell_max_min=15.0)]
    out = tmp_path / "emerging.geojson"
    assert main(["hotspots", "--db", url, "--method", "emerging", "--out", str(out)]) == 0
    outputs += [capsys.readouterr().out, pd.DataFrame(gpd.read_file(out).drop(
        columns="geometry"))]
    for k, value in enumerate(outputs):
        assert not leaks(value), f"output {k} leaked {leaks(value)}"


def test_the_is_it_fixed_pages_and_answers_hold_no_secret(
        seeded: tuple[Store, dict[str, str], str]) -> None:
    """The answer links' pages (GET), the answers (POST) and what a "no" sends the other
    followers, for the seed's plain report and a sensitive report marked fixed with a note
    marked public, searched as public output."""
    from starlette.applications import Starlette
    from starlette.testclient import TestClient

    from cpted.feeds import feed_routes
    from tests.helpers import body, link, sent_messages, token

    store, ids, _ = seeded
    settings = Settings(max_writes_per_minute=1000)
    public = Access(store, acc.public("answering-browser"), settings)
    staff = Access(store, Actor("c1", "Casey Coordinator", Role.COORDINATOR), settings)
    sens = public.submit_report(ReportDraft(
        "drug_activity", *EXACT, SECRETS["sensitive description"],
        address=SECRETS["sensitive address"], contact_name=SECRETS["contact name"],
        contact_email=SECRETS["contact email"], contact_phone=SECRETS["contact phone"]))
    first, second = "first.answerer@example.net", "second.answerer@example.net"
    for address in (first, second):
        public.follow_report(sens, address)
    for message in sent_messages(store, settings):
        if message["To"] in (first, second):
            public.confirm_follow(token(link(message, "/follow/confirm")))
    staff.change_status(sens, "fixed", SECRETS["sensitive public-marked note"],
                        visibility="public")
    links = {str(m["To"]): link(m, "/follow/fixed").removeprefix("http://localhost:8501")
             for m in sent_messages(store, settings) if m["To"] in (first, second)}
    plain = f"/follow/fixed?token={ids['fixed']}&answer=yes"
    texts: dict[str, str] = {}
    with TestClient(Starlette(routes=feed_routes(store=store, settings=settings))) as web:
        for name, url in (("plain", plain), ("sensitive", links[first])):
            texts[f"{name} question"] = web.get(url).text
            texts[f"{name} question, no first"] = web.get(url.replace("=yes", "=no")).text
        texts["plain yes"] = web.post(plain, data={"answer": "yes"}).text
        texts["plain answered"] = web.get(plain).text
        got = web.post(links[first], data={"answer": "no", "comment": "Still going on"})
        assert got.status_code == 200 and "was reopened" in got.text
        texts["sensitive no"] = got.text
        texts["sensitive answered"] = web.get(links[first]).text
        texts["another follower's, since changed"] = web.get(links[second]).text
        texts["refused"] = web.post(plain, data={"answer": "maybe"}).text
    told = [m for m in sent_messages(store, settings) if m["To"] == second]
    assert len(told) == 1 and "Submitted" in told[0]["Subject"]
    texts["the other follower's message"] = told[0].as_string() + body(told[0])
    for name, text in texts.items():
        # no address at all on a page; in a message, none but its recipient's own
        others = (first, FOLLOWER) if name.endswith("message") else (first, second, FOLLOWER)
        found = leaks(text) + [a for a in others if a in text]
        assert not found, f"{name} holds {found}"


def test_the_open311_api_answers_without_a_secret(
        seeded: tuple[Store, dict[str, str], str], tmp_path: Path) -> None:
    from tests.api_client import all_requests, get, post, serve

    store, ids, url = seeded
    key = Access(store, acc.operator()).create_api_key("Adversary app").key
    codes = list(Access(store, acc.public()).services())
    near = (EXACT[0], EXACT[1] + 0.0003)  # 30 m away, in the sensitive report's cell
    cells = privacy.snap_to_grid(gpd.GeoSeries(
        [shapely.Point(*EXACT), shapely.Point(*near)], crs=4326), 250)
    assert cells.iloc[0].equals(cells.iloc[1])
    answers: dict[str, str] = {}
    with serve(url, tmp_path / "api.log") as base:
        for path in ("/discovery.json", "/services.json", "/requests.json", "/requests.xml",
                     "/requests/NO-SUCH.json", "/nothing-here",
                     *(f"/services/{c}.json" for c in codes),
                     *(f"/requests/{ids[k]}.json" for k in ("sensitive", "plain"))):
            got = get(base + path)
            assert got.status in (200, 404), (path, got.text)
            answers[path] = got.text
        every = all_requests(base, start_date="2000-01-01T00:00:00Z")
        assert {ids["sensitive"], ids["plain"]} <= {r["service_request_id"] for r in every}
        answers["every page of requests.json"] = json.dumps(every)
        answers["by id"] = get(base + "/requests.json", {
            "service_request_id": f"{ids['sensitive']},{ids['plain']}"}).text
        # a client filing a report where the sensitive one is: the duplicate check's
        # answer, the filed report's answer and its public record
        filing = {"api_key": key, "service_code": "drug_activity", "lat": str(near[1]),
                  "long": str(near[0]), "description": "seen from the street"}
        dup = post(base + "/requests.json", filing)
        assert dup.status == 409 and ids["sensitive"] in dup.text, dup.text
        answers["duplicate check"] = dup.text
        filed = post(base + "/requests.json", {**filing, "not_duplicate": "true"})
        assert filed.status == 200, filed.text
        answers["filed"] = filed.text
        rid = filed.json()[0]["service_request_id"]
        answers["filed record"] = get(f"{base}/requests/{rid}.json").text
        answers["refused"] = post(base + "/requests.json", {"api_key": key}).text
    for name, text in answers.items():
        assert not leaks(text), f"{name} leaked {leaks(text)}"
        assert PASSWORD not in text, f"{name} holds the database password"
        assert key.split(".")[1] not in text, f"{name} holds the API key's secret"


def brief_text(who: Access, store: Store) -> str:
    """Every neighborhood's meeting brief as PDF text (what a public meeting gets)."""
    import shutil
    import subprocess
    import tempfile

    from cpted import reports
    from tests.conftest import need

    need(shutil.which("pdftotext") is not None, "pdftotext (poppler-utils) reads the briefs")

    out = []
    for nid in store.read(Layer.NEIGHBORHOODS)["id"]:
        pdf = reports.brief_pdf(who.neighborhood_brief(nid, since=NOW))
        with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
            f.write(pdf)
            f.flush()
            out.append(subprocess.run(["pdftotext", f.name, "-"], capture_output=True,
                                      text=True, check=True).stdout)
    return "\n".join(out)


def chart_text(who: Access) -> list[Any]:
    """The Progress page's tables and the text in its charts (PNGs hold no text to search,
    so their tables stand for them), for every neighborhood."""
    from cpted import progress_charts as pc

    p = who.progress()
    return [[pc.month_table(p, nid), pc.brief_table(p, nid)] for nid in p.names]


def pages() -> list[str]:
    """Every page file the navigation in app.py can list."""
    return re.findall(r'st\.Page\("([^"]+)"', (ROOT / "app.py").read_text())


def element_texts(at: AppTest) -> list[str]:
    """The protobuf text of every element on the page (values, labels, tables' bytes)."""
    out: list[str] = []
    stack: list[Any] = [at._tree]
    while stack:
        node = stack.pop()
        stack.extend(getattr(node, "children", {}).values())
        proto = getattr(node, "proto", None)
        if proto is not None:
            out.append(str(proto))
    return out


def test_every_page_as_the_public_shows_no_secret(
        seeded: tuple[Store, dict[str, str], str], monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path,
        map_returns: list[dict[str, Any]], fresh_streamlit_caches: None) -> None:
    _, ids, url = seeded
    monkeypatch.setenv("CPTED_DB_URL", url)
    monkeypatch.delenv("CPTED_STAFF_MODE", raising=False)
    monkeypatch.chdir(ROOT)
    listed = pages()
    assert len(listed) >= 11
    # a click 30 m from the sensitive report (the Report page's duplicate check): the
    # page may echo the click, never the report's own place
    map_returns[0] = {"last_clicked": {"lat": EXACT[1] + 0.0003, "lng": EXACT[0]}}
    # every map a page sends to the browser is searched too, as rendered HTML
    import streamlit_folium

    answer = streamlit_folium.st_folium
    maps: list[str] = []

    def record(fig: Any, **kwargs: Any) -> Any:
        maps.append(fig.get_root().render())
        return answer(fig, **kwargs)

    monkeypatch.setattr(streamlit_folium, "st_folium", record)
    # and every still map (the Concern page's): its SVG, its words, and where it is centred
    from app_pages import _maps

    draw = _maps.place_svg
    centres: list[tuple[float, float]] = []

    def still(g: Any, lonlat: Any, **kwargs: Any) -> Any:
        drawn = draw(g, lonlat, **kwargs)
        maps.extend([drawn.svg, drawn.title])
        centres.append((float(lonlat[0]), float(lonlat[1])))
        return drawn

    monkeypatch.setattr(_maps, "place_svg", still)
    basemaps = tmp_path / "basemap"
    monkeypatch.setenv("CPTED_BASEMAP_DIR", str(basemaps))
    for page in listed:
        maps.clear()
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
        at.session_state["concern_id"] = ids["sensitive"]
        at.switch_page(page).run()
        assert not at.exception, (page, at.exception)
        texts = element_texts(at)
        if page.endswith("report.py"):
            # file a report on the sensitive one's spot, to open the duplicate panel
            at.selectbox[0].set_value("drug_activity").run()
            buttons = [b for b in at.button if b.label == "Submit report"]
            if buttons:
                buttons[0].click().run()
                texts += element_texts(at)
        found = leaks("\n".join(texts)) + [f"{f} (in a map)" for f in leaks(maps)]
        if PASSWORD in "\n".join(texts):
            found.append("database password")
        assert not found, f"{page} shows {found} to the public"
        for lon, lat in centres:  # a still map centred on the exact place would show it
            assert (round(lon, 4), round(lat, 4)) != (round(EXACT[0], 4), round(EXACT[1], 4))
        if page.endswith("concern.py"):
            assert centres, "the Concern page drew no still map of the sensitive report"
        if page.endswith("map.py"):  # the seed's vacant parcels were drawn, and searched
            assert any("Vacant building" in m for m in maps), page
        centres.clear()
    # the base map's tiles hold the base layers' names and classes, nothing of a report
    from cpted.basemap import BASE_LAYERS, layer_frames

    built = [p.name for p in basemaps.iterdir()]
    assert len(built) == 1, built
    allowed = {c for b in BASE_LAYERS for c in b.columns} | {"geometry", "mvt_id"}
    for name, frame in layer_frames(basemaps, built[0]).items():
        assert set(frame.columns) <= allowed, (name, frame.columns)
        assert not leaks(pd.DataFrame(frame.drop(columns="geometry"))), name
    from app_pages._state import store_for

    store_for(url).close()  # the pages' store, kept by Streamlit across reruns


def test_the_hotspot_evaluation_answer_holds_no_secret(
        seeded: tuple[Store, dict[str, str], str], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """``cpted hotspots --evaluate-after --json`` (an operator's command): its printed
    table, JSON and cell file hold counts and scores, never a report's contact, text or
    exact place."""
    from cpted.cli import main

    _, _, url = seeded
    out = tmp_path / "cells.csv"
    assert main(["hotspots", "--db", url, "--out", str(out), "--permutations", "99",
                 "--evaluate-after", "2026-06-01", "--json"]) == 0
    printed = capsys.readouterr().out
    assert json.loads(printed.strip().splitlines()[-1])["rows"]
    found = leaks(printed) + leaks(out.read_text())
    assert not found, f"the hotspot evaluation prints {found}"


#: The pages whose words go through the catalogue (tests/test_i18n.py) and that the
#: public may open: their Spanish sentences format the same records differently.
SPANISH_PUBLIC_PAGES = ["app_pages/survey.py", "app_pages/progress.py", "app_pages/spots.py",
                        "app_pages/export.py"]


@pytest.mark.parametrize("page", SPANISH_PUBLIC_PAGES)
def test_the_translated_pages_in_spanish_show_the_public_no_secret(
        seeded: tuple[Store, dict[str, str], str], monkeypatch: pytest.MonkeyPatch,
        map_returns: list[dict[str, Any]], fresh_streamlit_caches: None, page: str) -> None:
    from cpted import i18n

    _, ids, url = seeded
    monkeypatch.setenv("CPTED_DB_URL", url)
    monkeypatch.delenv("CPTED_STAFF_MODE", raising=False)
    monkeypatch.chdir(ROOT)
    # a click 30 m from the sensitive report: the page may echo the click, not the report
    map_returns[0] = {"last_clicked": {"lat": EXACT[1] + 0.0003, "lng": EXACT[0]}}
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    at.session_state["language"] = "es"
    at.session_state["concern_id"] = ids["sensitive"]
    with i18n.use("es"):
        at.switch_page(page).run()
    assert not at.exception, (page, at.exception)
    texts = "\n".join(element_texts(at))
    assert not leaks(texts), f"{page} in Spanish shows {leaks(texts)} to the public"
    assert PASSWORD not in texts
    from app_pages._state import store_for

    store_for(url).close()
