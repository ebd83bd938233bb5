"""Following by e-mail through the door, on both backends: double opt-in, messages written
with the change that causes them (once), what a follower may read, unsubscribing, area
digests and feeds; and the rules underneath (addresses, areas, signed links)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import feedparser
import geopandas as gpd
import pandas as pd
import pytest
import shapely

from cpted import accounts as acc
from cpted import follows as fl
from cpted.access import Access, PermissionDeniedError
from cpted.accounts import Actor
from cpted.concerns import ReportDraft, ReportError
from cpted.privacy import Role, snap_to_grid
from layers.clock import iso
from layers.crs import WGS84
from layers.repos import outbox
from layers.schema import Layer
from layers.settings import Settings
from layers.store import Store
from tests.helpers import body, link, sent_messages, token, two_neighborhoods

ADDRESS = "Resident.One@Example.ORG"
STORED = "resident.one@example.org"  # in lower case
SECRET_KEY = "k" * 32
LOOSE = Settings(max_writes_per_minute=1000, secret_key=SECRET_KEY)


@pytest.fixture
def store(any_store: Store) -> Store:
    return any_store


def public(store: Store, client: str = "browser-1") -> Access:
    return Access(store, acc.public(client), LOOSE)


def staff(store: Store) -> Access:
    return Access(store, Actor("c1", "Casey", Role.COORDINATOR), LOOSE)


def operator(store: Store) -> Access:
    return Access(store, acc.operator(), LOOSE)


def report(store: Store, code: str = "graffiti", lon: float = -94.59, lat: float = 39.04,
           text: str = "Tags on the wall", **kw: Any) -> str:
    return public(store, "reporter").submit_report(ReportDraft(code, lon, lat, text, **kw))


def follow_and_confirm(store: Store, rid: str, address: str = ADDRESS) -> None:
    public(store).follow_report(rid, address)
    [confirmation] = sent_messages(store, LOOSE)
    public(store).confirm_follow(token(link(confirmation, "/follow/confirm")))


def rows(store: Store, table: str) -> pd.DataFrame:
    return pd.read_sql(f"SELECT * FROM {table}", store.engine)


# -- the rules -------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["a@b.org", "first.last+tag@sub.example.co.uk",
                                  "  padded@example.org  "])
def test_addresses_that_are_accepted(text: str) -> None:
    assert fl.email_problems(text) == []


@pytest.mark.parametrize(("text", "why"), [
    ("", "give an e-mail"), ("   ", "give an e-mail"), ("no-at-sign", "does not look"),
    ("two@@example.org", "does not look"), ("x@localhost", "does not look"),
    ("a b@example.org", "does not look"), ("x@example.org\r\nBcc: y@z.org", "does not look"),
    ("<x@example.org>", "does not look"), ("x" * 250 + "@example.org", "characters"),
])
def test_addresses_that_are_refused(text: str, why: str) -> None:
    problems = fl.email_problems(text)
    assert len(problems) == 1 and why in problems[0]
    with pytest.raises(fl.FollowError) as info:
        fl.normalise_email(text)
    assert info.value.fields == {"email": problems}


def test_an_address_is_kept_in_lower_case() -> None:
    assert fl.normalise_email(" Resident.One@Example.ORG ") == STORED


def test_tokens_name_their_follow_and_purpose_and_nothing_forges_them() -> None:
    now = datetime(2026, 11, 1, tzinfo=UTC)
    t = fl.sign_token(SECRET_KEY, fl.Purpose.UNSUBSCRIBE, "abc123")
    assert fl.read_token(SECRET_KEY, t, fl.Purpose.UNSUBSCRIBE, now=now) == "abc123"
    payload, mac = t.split(".")
    forged = fl._b64(fl._unb64(payload).replace(b"abc123", b"abc124")) + "." + mac
    for bad in (forged, t + "x", t[:-2], payload, "", ".", "a.b.c", "%%%.%%%"):
        with pytest.raises(fl.FollowError, match="does not work"):
            fl.read_token(SECRET_KEY, bad, fl.Purpose.UNSUBSCRIBE, now=now)
    with pytest.raises(fl.FollowError, match="does not work"):  # another deployment's key
        fl.read_token("another key of 32 characters....", t, fl.Purpose.UNSUBSCRIBE, now=now)
    with pytest.raises(fl.FollowError, match="does not work"):  # another purpose
        fl.read_token(SECRET_KEY, t, fl.Purpose.CONFIRM, now=now)
    soon = fl.sign_token(SECRET_KEY, fl.Purpose.CONFIRM, "abc123", expires=now)
    assert fl.read_token(SECRET_KEY, soon, fl.Purpose.CONFIRM, now=now) == "abc123"
    with pytest.raises(fl.FollowError, match="expired"):
        fl.read_token(SECRET_KEY, soon, fl.Purpose.CONFIRM, now=now + timedelta(seconds=1))


def test_a_circle_is_drawn_in_metres() -> None:
    area = fl.circle(-94.58, 39.04, 500)
    km2 = fl.area_km2(area)
    assert km2 == pytest.approx(3.14159 * 0.25, rel=0.01)
    # 500 m east of the centre is on the edge, whatever a degree of longitude measures here
    series = gpd.GeoSeries([shapely.Point(-94.58, 39.04)], crs=WGS84)
    metric = series.estimate_utm_crs()
    east = series.to_crs(metric).translate(495).to_crs(WGS84).iloc[0]
    west = series.to_crs(metric).translate(-505).to_crs(WGS84).iloc[0]
    assert area.covers(east) and not area.covers(west)


@pytest.mark.parametrize(("lon", "lat", "radius", "why"), [
    (-94.58, 39.04, 10, "radius"), (-94.58, 39.04, 6000, "radius"),
    (-200, 39.04, 100, "latitude and longitude"), (-94.58, 95, 100, "latitude and longitude"),
])
def test_circles_out_of_range_are_refused(lon: float, lat: float, radius: float,
                                          why: str) -> None:
    with pytest.raises(fl.FollowError, match=why) as info:
        fl.circle(lon, lat, radius)
    assert set(info.value.fields) == {"area"}


@pytest.mark.parametrize(("geom", "why"), [
    (None, "draw the area"), (shapely.Polygon(), "draw the area"),
    (shapely.Point(-94.58, 39.04), "polygon, got a Point"),
    (shapely.box(-95.5, 38.5, -94.0, 39.8), "at most 100 km²"),
    (shapely.box(100, 100, 101, 101), "longitudes and latitudes"),
])
def test_areas_unfit_to_follow_are_refused(geom: Any, why: str) -> None:
    with pytest.raises(fl.FollowError, match=why):
        fl.check_area(geom)


def test_a_self_crossing_area_is_repaired_not_refused() -> None:
    bowtie = shapely.Polygon([(-94.59, 39.03), (-94.57, 39.05), (-94.57, 39.03),
                              (-94.59, 39.05)])
    assert not bowtie.is_valid
    fixed = fl.check_area(bowtie)
    # both triangles of the bow tie are kept (0.02° wide, 0.01° high each)
    assert fixed.is_valid and fixed.geom_type == "MultiPolygon" and len(fixed.geoms) == 2
    assert fixed.area == pytest.approx(2 * 0.02 * 0.01 / 2)


def test_settings_keep_secrets_out_of_their_repr_and_check_the_mail_settings() -> None:
    from layers.errors import SettingsError

    shown = repr(Settings(secret_key="s3cret-s3cret-s3cret", smtp_password="pw-hidden-1"))
    assert "s3cret" not in shown and "pw-hidden-1" not in shown
    with pytest.raises(SettingsError) as info:
        Settings(public_url="ftp://x", smtp_port=0, mail_from="nobody", secret_key="short")
    text = str(info.value)
    for name in ("public_url", "smtp_port", "mail_from", "secret_key"):
        assert name in text
    assert Settings(public_url="https://safety.example.org/app/").link_base == \
        "https://safety.example.org/app"


# -- following a report ----------------------------------------------------------------
def test_nothing_is_sent_before_the_address_confirms(store: Store) -> None:
    rid = report(store)
    public(store).follow_report(rid, ADDRESS)
    follow = rows(store, "follows").iloc[0]
    assert (follow["email"], follow["kind"], follow["service_request_id"]) == (STORED, "report",
                                                                                rid)
    assert follow["confirmed_at"] is None
    [confirmation] = sent_messages(store, LOOSE)
    assert confirmation["To"] == STORED and "confirm" in confirmation["Subject"].lower()
    url = link(confirmation, "/follow/confirm")
    assert url.startswith("http://localhost:8501/follow/confirm?token=")
    # a status change before the confirmation reaches no one
    staff(store).change_status(rid, "acknowledged", "seen", visibility="public")
    assert sent_messages(store, LOOSE) == []
    summary = public(store).confirm_follow(token(url))
    assert summary.confirmed and summary.label == f"report {rid} (Graffiti)"
    staff(store).change_status(rid, "in progress", "crew booked", visibility="public")
    [news] = sent_messages(store, LOOSE)
    assert news["To"] == STORED and news["Subject"] == f"Graffiti {rid}: now In progress"
    assert "crew booked" in body(news) and "seen" not in body(news)


def test_asking_again_sends_no_second_confirmation_and_reveals_nothing(store: Store) -> None:
    rid = report(store)
    now = datetime.now(UTC)
    public(store).follow_report(rid, ADDRESS, now=now)
    public(store, "browser-2").follow_report(rid, STORED.upper(), now=now)  # same address
    assert len(rows(store, "follows")) == 1
    assert len(rows(store, "outbox")) == 1  # one confirmation an hour
    public(store).follow_report(rid, ADDRESS, now=now + timedelta(hours=1))
    assert len(rows(store, "outbox")) == 2  # asked again later: sent again
    [first, _] = sent_messages(store, LOOSE, now=now + timedelta(hours=1))
    public(store).confirm_follow(token(link(first, "/follow/confirm")))
    # following what is followed already: the same quiet answer, nothing sent
    assert public(store).follow_report(rid, ADDRESS) is None
    assert len(rows(store, "outbox")) == 2 and len(rows(store, "follows")) == 1


def test_a_stranger_cannot_flood_an_inbox_with_confirmations(store: Store) -> None:
    ids = [report(store, lon=-94.59 + k * 1e-3) for k in range(fl.MAX_CONFIRMATIONS_PER_DAY + 1)]
    for rid in ids[:-1]:
        public(store).follow_report(rid, ADDRESS)
    with pytest.raises(fl.FollowError, match="confirmation messages in the last day") as info:
        public(store).follow_report(ids[-1], ADDRESS)
    assert set(info.value.fields) == {"email"}
    assert len(rows(store, "follows")) == fl.MAX_CONFIRMATIONS_PER_DAY  # the refusal rolled back
    assert len(rows(store, "outbox")) == fl.MAX_CONFIRMATIONS_PER_DAY
    public(store).follow_report(ids[-1], "someone.else@example.org")  # others are not affected


def test_refusals_name_the_field(store: Store) -> None:
    with pytest.raises(fl.FollowError) as info:
        public(store).follow_report("CR-none", "not an address")
    assert set(info.value.fields) == {"email"}
    with pytest.raises(ReportError, match="no concern"):
        public(store).follow_report("CR-none", ADDRESS)
    assert rows(store, "follows").empty and rows(store, "outbox").empty


def test_follows_count_against_the_rate_limit(store: Store) -> None:
    from cpted.access import RateLimitError

    rid = report(store)
    who = Access(store, acc.public("browser-7"), Settings(max_writes_per_minute=2,
                                                          secret_key=SECRET_KEY))
    who.follow_report(rid, "a@example.org")
    who.follow_report(rid, "b@example.org")
    with pytest.raises(RateLimitError):
        who.follow_report(rid, "c@example.org")
    assert len(rows(store, "follows")) == 2


def test_the_change_log_records_a_follow_without_its_address(store: Store) -> None:
    rid = report(store)
    follow_and_confirm(store, rid)
    staff(store).change_status(rid, "fixed", "painted", visibility="public")
    [news] = sent_messages(store, LOOSE)
    public(store).unsubscribe(token(news["List-Unsubscribe"].strip("<>")))
    trail = Access(store, Actor("root", "Root", Role.ADMIN)).audit_trail()
    actions = set(trail["action"])
    assert {"follow", "follow confirmed", "follow ended", "messages sent"} <= actions
    text = trail.astype(str).to_json()
    assert "example.org" not in text.lower() and "resident.one" not in text.lower()


def test_a_message_is_written_once_for_one_cause(store: Store) -> None:
    rid = report(store)
    follow_and_confirm(store, rid)
    version = staff(store).change_status(rid, "acknowledged", "seen", visibility="public")
    assert len(rows(store, "outbox")) == 2
    # the same cause written again (a retried transaction): nothing new
    door = staff(store)
    with store.transaction() as conn:
        again = door._status_messages(conn, rid, version=version, previous="submitted",
                                      status="acknowledged", note="seen", visibility="public")
    assert again == 0 and len(rows(store, "outbox")) == 2
    with store.transaction() as conn:
        assert not outbox.enqueue(conn, dedupe_key=rows(store, "outbox")["dedupe_key"][1],
                                  follow_id=None, to_address="x@example.org", subject="s",
                                  body_text="b", headers={}, created_at="2026", due_at="2026")


def test_the_message_rolls_back_with_a_refused_change(store: Store) -> None:
    rid = report(store)
    follow_and_confirm(store, rid)
    with pytest.raises(ReportError, match="already"):
        staff(store).change_status(rid, "submitted", "again", visibility="public")
    assert len(rows(store, "outbox")) == 1  # the confirmation only


def test_an_internal_note_never_reaches_a_follower(store: Store) -> None:
    rid = report(store)
    follow_and_confirm(store, rid)
    staff(store).change_status(rid, "acknowledged", "the owner is Mr X at no. 7",
                               visibility="internal")
    [news] = sent_messages(store, LOOSE)
    assert "Mr X" not in news.as_string() and "No public note" in body(news)


def test_a_sensitive_report_s_follower_gets_the_status_only(store: Store) -> None:
    rid = report(store, "drug_activity", text="Blue door behind the laundromat",
                 address="4321 Secret Lane", contact_email="hidden@example.org")
    follow_and_confirm(store, rid)
    staff(store).change_status(rid, "acknowledged", "Raid planned Friday", visibility="public")
    [news] = sent_messages(store, LOOSE)
    text = news.as_string() + body(news)
    for secret in ("Blue door", "Secret Lane", "hidden@", "Raid planned", "-94.59", "39.04"):
        assert secret not in text
    assert "Acknowledged" in news["Subject"] and "staff only" in body(news)


def test_unsubscribing_stops_messages_drops_those_waiting_and_forgets_the_address(
        store: Store) -> None:
    rid = report(store)
    follow_and_confirm(store, rid)
    staff(store).change_status(rid, "acknowledged", "seen", visibility="public")
    waiting = rows(store, "outbox")
    assert waiting["sent_at"].isna().sum() == 1
    unsubscribe = json.loads(waiting["headers"].iloc[-1])["List-Unsubscribe"].strip("<>")
    summary = public(store).unsubscribe(token(unsubscribe))
    assert summary.ended
    follow = rows(store, "follows").iloc[0]
    assert follow["ended_at"] is not None and follow["email"] == ""
    left = rows(store, "outbox")
    assert len(left) == 1 and left["to_address"].tolist() == [""]  # the sent confirmation
    staff(store).change_status(rid, "fixed", "done", visibility="public")
    assert sent_messages(store, LOOSE) == []
    assert public(store).unsubscribe(token(unsubscribe)).ended  # again: no error
    with pytest.raises(fl.FollowError, match="ended"):  # its confirmation link is dead too
        public(store).confirm_follow(fl.sign_token(SECRET_KEY, fl.Purpose.CONFIRM,
                                                   follow["id"]))


def test_a_merge_tells_the_duplicate_s_followers_and_a_deletion_ends_follows(
        store: Store) -> None:
    keep, dup = report(store), report(store, lon=-94.5901)
    follow_and_confirm(store, dup)
    Access(store, Actor("c1", "C", Role.COORDINATOR), LOOSE).merge(keep, [dup], "same wall")
    [news] = sent_messages(store, LOOSE)
    assert news["Subject"] == f"Graffiti {dup}: now Duplicate" and "same wall" not in body(news)
    Access(store, Actor("c1", "C", Role.COORDINATOR), LOOSE).delete_concern(dup, "spam")
    follow = rows(store, "follows").iloc[0]
    assert follow["ended_at"] is not None and follow["email"] == ""


def test_the_signing_key_is_made_once_and_kept_in_the_store(store: Store) -> None:
    rid = report(store)
    plain = Settings(max_writes_per_minute=1000)
    Access(store, acc.public("b"), plain).follow_report(rid, ADDRESS)
    kept = store.get_setting(fl.SECRET_SETTING)
    assert kept and len(kept) >= 32
    [confirmation] = sent_messages(store, plain)
    t = token(link(confirmation, "/follow/confirm"))
    # another process (another door) reads the same key: the link works there
    assert Access(store, acc.public("c"), plain).confirm_follow(t).confirmed
    # a configured key replaces it, and links signed with the stored one stop working
    with pytest.raises(fl.FollowError, match="does not work"):
        Access(store, acc.public("c"), LOOSE).followed_by(t, "confirm")


def test_only_the_operator_builds_digests_and_sends(store: Store) -> None:
    for role in (Role.PUBLIC, Role.RESIDENT, Role.COORDINATOR, Role.OFFICER, Role.PLANNER):
        who = Access(store, acc.public() if role is Role.PUBLIC else Actor("x", "X", role))
        for call in (who.build_digests, lambda w=who: w.deliver(print), who.outbox_summary):
            with pytest.raises(PermissionDeniedError):
                call()


# -- areas: digests and feeds ------------------------------------------------------------
def confirmed_area(store: Store, **kw: Any) -> fl.FollowSummary:
    """Follow an area and confirm it."""
    public(store).follow_area(ADDRESS, **kw)
    [confirmation] = sent_messages(store, LOOSE)
    return public(store).confirm_follow(token(link(confirmation, "/follow/confirm")))


def test_area_follows_check_every_field_at_once(store: Store) -> None:
    two_neighborhoods(store)
    with pytest.raises(fl.FollowError) as info:
        public(store).follow_area("nope", neighborhood_id="nowhere", categories=["bogus"],
                                  frequency="hourly")
    assert set(info.value.fields) == {"email", "area", "categories", "frequency"}
    with pytest.raises(fl.FollowError, match="one of them"):
        public(store).follow_area(ADDRESS)
    with pytest.raises(fl.FollowError, match="one of them"):
        public(store).follow_area(ADDRESS, neighborhood_id="W", area=fl.circle(-94.59, 39.04,
                                                                              100))
    assert rows(store, "follows").empty


def test_a_daily_digest_holds_the_area_s_news_as_the_public_sees_it(store: Store) -> None:
    two_neighborhoods(store)
    start = datetime.now(UTC)
    summary = confirmed_area(store, neighborhood_id="W", frequency="daily")
    assert summary.confirmed and summary.feed_url == \
        "http://localhost:8501/feeds/neighborhood/W.atom"
    inside = report(store, "graffiti", -94.59, 39.04, "Tags on the bakery")
    outside = report(store, "graffiti", -94.57, 39.04, "Tags in the east")
    sens = report(store, "drug_activity", -94.585, 39.035, "Blue door behind the laundromat")
    staff(store).change_status(inside, "fixed", "painted over", visibility="public")
    staff(store).change_status(sens, "acknowledged", "Raid Friday", visibility="public")
    door = operator(store)
    assert door.build_digests(now=start + timedelta(hours=23)) == 0  # the day is not over
    assert door.build_digests(now=start + timedelta(days=1, minutes=1)) == 1
    assert door.build_digests(now=start + timedelta(days=1, minutes=2)) == 0  # clock moved on
    [digest] = sent_messages(store, LOOSE, now=start + timedelta(days=1, minutes=2))
    text = body(digest)
    assert digest["Subject"] == "Daily news of the neighborhood Westside: 2 new, 2 changed"
    assert inside in text and "Tags on the bakery" in text and "painted over" in text
    assert outside not in text and "Tags in the east" not in text
    assert sens in text and "approximate area" in text
    assert "Blue door" not in text and "Raid Friday" not in text
    assert "/feeds/neighborhood/W.atom" in text
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # a quiet day: no message, but the clock moves on
    assert door.build_digests(now=start + timedelta(days=2, minutes=5)) == 0
    assert rows(store, "follows")["last_digest_at"].iloc[0] == iso(start + timedelta(days=2,
                                                                                 minutes=5))


def test_a_drawn_area_places_sensitive_reports_at_their_public_cell(store: Store) -> None:
    """A circle drawn tightly round a sensitive report's exact place does not catch it: an
    area follow would otherwise locate it more finely than the public map does."""
    exact = shapely.Point(-94.5912, 39.0418)
    cell = snap_to_grid(gpd.GeoSeries([exact], crs=WGS84), 250).iloc[0]
    metric = gpd.GeoSeries([exact, cell], crs=WGS84).to_crs(32615)
    assert metric.iloc[0].distance(metric.iloc[1]) > 60  # the test's premise
    start = datetime.now(UTC)
    confirmed_area(store, area=fl.circle(exact.x, exact.y, 40), frequency="weekly")
    sens = report(store, "drug_activity", exact.x, exact.y, "secret text")
    plain = report(store, "graffiti", exact.x, exact.y, "Tags right here")
    assert operator(store).build_digests(now=start + timedelta(days=7, minutes=1)) == 1
    [digest] = sent_messages(store, LOOSE, now=start + timedelta(days=7, minutes=1))
    assert plain in body(digest) and sens not in body(digest)
    assert digest["Subject"].startswith("Weekly news of an area of 0.01 km² on the map")


def test_an_area_follow_of_some_categories_hears_of_those_only(store: Store) -> None:
    two_neighborhoods(store)
    start = datetime.now(UTC)
    confirmed_area(store, neighborhood_id="E", categories=["streetlight_out"],
                   frequency="daily")
    light = report(store, "streetlight_out", -94.57, 39.04, "Pole 17 dark",
                   answers={"light_state": "Out"})
    tags = report(store, "graffiti", -94.57, 39.041, "Tags")
    operator(store).build_digests(now=start + timedelta(days=1, minutes=1))
    [digest] = sent_messages(store, LOOSE, now=start + timedelta(days=1, minutes=1))
    assert light in body(digest) and tags not in body(digest)
    assert digest["Subject"] == ("Daily news of the neighborhood Eastside (Streetlight out "
                                 "only): 1 new, 0 changed")


def parse(feed: bytes) -> Any:
    got = feedparser.parse(feed)
    assert not got.bozo, got.get("bozo_exception")
    return got


def test_a_neighborhood_feed_is_valid_atom_of_its_public_news(store: Store) -> None:
    two_neighborhoods(store)
    inside = report(store, "graffiti", -94.59, 39.04, "Tags on the bakery")
    outside = report(store, "graffiti", -94.57, 39.04, "Tags in the east")
    sens = report(store, "drug_activity", -94.585, 39.035, "Blue door behind the laundromat")
    staff(store).change_status(inside, "fixed", "painted over", visibility="public")
    staff(store).change_status(inside, "acknowledged", "internal: Mr X", visibility="internal")
    staff(store).change_status(sens, "acknowledged", "Raid Friday", visibility="public")
    data = public(store).neighborhood_feed("W")
    got = parse(data)
    assert got.version == "atom10"
    assert got.feed.id.startswith("urn:uuid:") and got.feed.title.startswith("Westside")
    assert got.feed.updated_parsed is not None and got.feed.author == "cpted-mapper"
    assert got.feed.links[0].href == "http://localhost:8501/feeds/neighborhood/W.atom"
    assert len(got.entries) == 5  # two reports, three changes
    for entry in got.entries:
        assert entry.id.startswith("urn:uuid:") and entry.title and entry.updated_parsed
        assert entry.link.startswith("http://localhost:8501/concern?report=")
    assert len({e.id for e in got.entries}) == 5
    text = data.decode()
    assert inside in text and "painted over" in text and outside not in text
    for secret in ("Mr X", "Blue door", "Raid Friday", "-94.585", "39.035"):
        assert secret not in text
    # newest first, and the ids stay the same from one fetch to the next
    times = [e.updated_parsed for e in got.entries]
    assert times == sorted(times, reverse=True)
    assert [e.id for e in parse(public(store).neighborhood_feed("W")).entries] == \
        [e.id for e in got.entries]
    from layers.errors import UnusableInputError

    with pytest.raises(UnusableInputError, match="no neighborhood"):
        public(store).neighborhood_feed("nowhere")


def test_a_followed_area_s_feed_works_while_the_follow_runs(store: Store) -> None:
    two_neighborhoods(store)
    public(store).follow_area(ADDRESS, area=fl.circle(-94.59, 39.04, 300), frequency="weekly")
    [confirmation] = sent_messages(store, LOOSE)
    fid = fl.read_token(SECRET_KEY, token(link(confirmation, "/follow/confirm")),
                        fl.Purpose.CONFIRM, now=datetime.now(UTC))
    feed_token = fl.sign_token(SECRET_KEY, fl.Purpose.FEED, fid)
    with pytest.raises(fl.FollowError, match="never confirmed"):
        public(store).area_feed(feed_token)
    summary = public(store).confirm_follow(token(link(confirmation, "/follow/confirm")))
    assert summary.feed_url == f"http://localhost:8501/feeds/area/{feed_token}.atom"
    near = report(store, "graffiti", -94.5901, 39.0401, "Near tags")
    far = report(store, "graffiti", -94.57, 39.04, "Far tags")
    got = parse(public(store).area_feed(feed_token))
    assert [e.title for e in got.entries] == [f"New report: Graffiti ({near})"]
    assert far not in str(got)
    with pytest.raises(fl.FollowError, match="does not work"):
        public(store).area_feed(fl.sign_token(SECRET_KEY, fl.Purpose.UNSUBSCRIBE, fid))
    public(store).unsubscribe(fl.sign_token(SECRET_KEY, fl.Purpose.UNSUBSCRIBE, fid))
    with pytest.raises(fl.FollowError, match="ended"):
        public(store).area_feed(feed_token)


def test_reports_imported_without_a_history_count_as_new_when_they_were_requested(
        store: Store, tmp_path: Path) -> None:
    """A city's 311 feed imported each night: its reports are news of the day they were
    made; a history imported once is older than any window and adds nothing."""
    two_neighborhoods(store)
    start = datetime.now(UTC)
    confirmed_area(store, neighborhood_id="W", frequency="daily")
    rows_in = gpd.GeoDataFrame({
        "service_request_id": ["311-new", "311-old"], "service_code": ["graffiti"] * 2,
        "service_name": ["Graffiti"] * 2, "description": ["From the city", "Last year"],
        "requested_datetime": [pd.Timestamp(start + timedelta(hours=2)),
                               pd.Timestamp(start - timedelta(days=400))],
        "status": ["open"] * 2, "detailed_status": ["submitted"] * 2},
        geometry=[shapely.Point(-94.59, 39.04)] * 2, crs=WGS84)
    rows_in.to_file(tmp_path / "c.geojson", driver="GeoJSON")
    operator(store).import_file(tmp_path / "c.geojson", Layer.CONCERNS)
    later = start + timedelta(days=1, minutes=1)
    assert operator(store).build_digests(now=later) == 1
    [digest] = sent_messages(store, LOOSE, now=later)
    assert "311-new" in body(digest) and "From the city" in body(digest)
    assert "311-old" not in body(digest)
    got = parse(public(store).neighborhood_feed("W", now=later))
    assert [e.title for e in got.entries] == ["New report: Graffiti (311-new)"]

