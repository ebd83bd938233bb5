"""The feed and follow-link routes (:func:`cpted.feeds.feed_routes`) through Starlette's
test client: Atom feeds that feedparser reads with every element RFC 4287 requires, the
confirm and unsubscribe pages, and their refusals."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import feedparser
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from cpted import accounts as acc
from cpted import follows as fl
from cpted.access import Access
from cpted.accounts import Actor
from cpted.concerns import ReportDraft
from cpted.feeds import feed_routes
from cpted.privacy import Role
from layers.settings import Settings
from layers.store import Store
from tests.helpers import link, sent_messages, token, two_neighborhoods

KEY = "feeds-test-key-0123456789abcdef"
SETTINGS = Settings(max_writes_per_minute=1000, secret_key=KEY, public_url="http://testserver")


@pytest.fixture
def web(store: Store) -> Iterator[TestClient]:
    two_neighborhoods(store)
    with TestClient(Starlette(routes=feed_routes(store=store, settings=SETTINGS))) as client:
        yield client


def report(store: Store, code: str, lon: float, lat: float, text: str) -> str:
    return Access(store, acc.public("r"), SETTINGS).submit_report(
        ReportDraft(code, lon, lat, text))


def test_a_neighborhood_feed_is_served_as_atom_with_the_required_elements(
        store: Store, web: TestClient) -> None:
    rid = report(store, "graffiti", -94.59, 39.04, "Tags & <script>alert(1)</script>")
    report(store, "graffiti", -94.57, 39.04, "East tags")
    Access(store, Actor("c", "C", Role.COORDINATOR), SETTINGS).change_status(
        rid, "fixed", "Painted over", visibility="public")
    got = web.get("/feeds/neighborhood/W.atom")
    assert got.status_code == 200
    assert got.headers["content-type"] == "application/atom+xml; charset=utf-8"
    feed = feedparser.parse(got.content)
    assert not feed.bozo and feed.version == "atom10"
    # RFC 4287 4.1.1: atom:feed has exactly one id, title and updated (and an author)
    for name in ("id", "title", "updated", "author"):
        assert feed.feed.get(name), name
    assert feed.feed.title == "Westside: concerns and what was done"
    assert {(x.rel, x.href) for x in feed.feed.links} >= {
        ("self", "http://testserver/feeds/neighborhood/W.atom")}
    # RFC 4287 4.1.2: each atom:entry has an id, a title and updated
    assert [e.title for e in feed.entries] == [f"Now Fixed: Graffiti ({rid})",
                                               f"New report: Graffiti ({rid})"]
    for entry in feed.entries:
        for name in ("id", "title", "updated", "summary", "link"):
            assert entry.get(name), name
    # the text is carried as text: markup in a description stays characters
    assert feed.entries[1].summary == "Tags & <script>alert(1)</script>"
    assert b"<script>" not in got.content
    assert web.get("/feeds/neighborhood/nowhere.atom").status_code == 404


def test_an_area_feed_is_served_by_its_token_only(store: Store, web: TestClient) -> None:
    Access(store, acc.public("f"), SETTINGS).follow_area(
        "f@example.org", area=fl.circle(-94.59, 39.04, 200), frequency="daily")
    [confirmation] = sent_messages(store, SETTINGS)
    url = link(confirmation, "/follow/confirm")
    fid = fl.read_token(KEY, token(url), fl.Purpose.CONFIRM, now=datetime.now(UTC))
    feed_path = f"/feeds/area/{fl.sign_token(KEY, fl.Purpose.FEED, fid)}.atom"
    assert web.get(feed_path).status_code == 404  # not confirmed yet
    page = web.post(url)
    assert page.status_code == 200 and f"http://testserver{feed_path}" in page.text
    rid = report(store, "graffiti", -94.5901, 39.0401, "Near")
    feed = feedparser.parse(web.get(feed_path).content)
    assert not feed.bozo and [e.title for e in feed.entries] == [f"New report: Graffiti ({rid})"]
    assert feed.feed.id and feed.feed.title.startswith("News of an area of 0.13 km²")
    forged = fl.sign_token("another-key-0123456789abcdef", fl.Purpose.FEED, fid)
    assert web.get(f"/feeds/area/{forged}.atom").status_code == 404
    assert web.get("/feeds/area/nonsense.atom").status_code == 404


def test_the_confirm_page_asks_and_the_button_confirms(store: Store, web: TestClient) -> None:
    rid = report(store, "graffiti", -94.59, 39.04, "Tags")
    Access(store, acc.public("f"), SETTINGS).follow_report(rid, "f@example.org")
    [confirmation] = sent_messages(store, SETTINGS)
    url = link(confirmation, "/follow/confirm")
    page = web.get(url)
    assert page.status_code == 200 and '<form method="post"' in page.text
    assert f"report {rid} (Graffiti), each time its status changes" in page.text
    assert "f@example.org" not in page.text
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    assert "You now follow" in web.post(url).text
    assert "You now follow" in web.get(url).text  # confirmed already: says so
    # a token for another purpose, a broken one, an expired one: refused on the page
    unsubscribe = fl.sign_token(KEY, fl.Purpose.UNSUBSCRIBE, "x")
    for bad in (unsubscribe, "nonsense", ""):
        got = web.post(f"/follow/confirm?token={bad}")
        assert got.status_code == 400 and "This link does not work" in got.text
    fid = fl.read_token(KEY, token(url), fl.Purpose.CONFIRM, now=datetime.now(UTC))
    old = fl.sign_token(KEY, fl.Purpose.CONFIRM, fid,
                        expires=datetime.now(UTC) - timedelta(seconds=1))
    got = web.get(f"/follow/confirm?token={old}")
    assert got.status_code == 400 and "expired" in got.text


def test_confirmations_by_link_are_rate_limited_per_follow(store: Store) -> None:
    tight = Settings(max_writes_per_minute=2, secret_key=KEY, public_url="http://testserver")
    rid = report(store, "graffiti", -94.59, 39.04, "Tags")
    Access(store, acc.public("f"), SETTINGS).follow_report(rid, "f@example.org")
    [confirmation] = sent_messages(store, SETTINGS)
    url = link(confirmation, "/follow/confirm")
    with TestClient(Starlette(routes=feed_routes(store=store, settings=tight))) as client:
        assert client.post(url).status_code == 200
        assert client.post(url).status_code == 200
        got = client.post(url)
        assert got.status_code == 429 and "limit is 2 a minute" in got.text
