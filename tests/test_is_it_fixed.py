"""Closing the loop with a report's followers: "Is it fixed?" (:mod:`cpted.fixed`).

Through the door on both backends and through the app's own routes
(:func:`cpted.feeds.feed_routes`) with Starlette's test client: the message about a fix
holds a yes link and a no link in its plain text; opening them changes nothing; a "yes"
is recorded; a "no" reopens the report with a public note, tells the other followers
through the outbox and counts as a reopening on the Progress and Neighborhoods pages; bad
and expired links, second answers, a sensitive report and the rate limit.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pandas as pd
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from cpted import accounts as acc
from cpted import fixed as fx
from cpted import follows as fl
from cpted.access import Access, PermissionDeniedError
from cpted.accounts import Actor
from cpted.concerns import ReportDraft
from cpted.feeds import feed_routes
from cpted.overlay import overlay
from cpted.privacy import Role
from layers.schema import Layer
from layers.settings import Settings
from layers.store import Store
from tests.helpers import body, link, sent_messages, token, two_neighborhoods

KEY = "fixed-test-key-0123456789abcdef"
SETTINGS = Settings(max_writes_per_minute=1000, secret_key=KEY, public_url="http://testserver")
FIRST, SECOND, THIRD = "first@example.org", "second@example.org", "third@example.org"
#: A link to the answer page in a message's text.
ANSWER_LINK = re.compile(r"http://testserver/follow/fixed\?token=([\w.-]+)&answer=(yes|no)")


@pytest.fixture
def store(any_store: Store) -> Store:
    two_neighborhoods(any_store)
    return any_store


@pytest.fixture
def web(store: Store) -> Iterator[TestClient]:
    with TestClient(Starlette(routes=feed_routes(store=store, settings=SETTINGS))) as client:
        yield client


def door(store: Store, who: Actor | None = None, settings: Settings = SETTINGS) -> Access:
    return Access(store, who or acc.public("browser"), settings)


def staff(store: Store) -> Access:
    return door(store, Actor("c1", "Casey", Role.COORDINATOR))


def report(store: Store, code: str = "graffiti", **kw: Any) -> str:
    return door(store, acc.public("reporter")).submit_report(
        ReportDraft(code, -94.5912, 39.0412, kw.pop("text", "Tags on the wall"), **kw))


def follow(store: Store, rid: str, *addresses: str) -> None:
    """Follow ``rid`` from each address and confirm each by its link."""
    for address in addresses:
        door(store).follow_report(rid, address)
    for message in sent_messages(store, SETTINGS):
        door(store).confirm_follow(token(link(message, "/follow/confirm")))


def answer_links(message: EmailMessage) -> dict[str, str]:
    """``{"yes": url, "no": url}`` of a message's "Is it fixed?" links."""
    return {m.group(2): m.group(0) for m in ANSWER_LINK.finditer(body(message))}


def fixed_with_followers(store: Store, *addresses: str, code: str = "graffiti",
                         note: str = "Painted over on Tuesday", **kw: Any
                         ) -> tuple[str, dict[str, dict[str, str]]]:
    """A report followed by ``addresses`` and marked fixed; each address's answer links."""
    rid = report(store, code, **kw)
    follow(store, rid, *addresses)
    staff(store).change_status(rid, "fixed", note, visibility="public")
    return rid, {str(m["To"]): answer_links(m) for m in sent_messages(store, SETTINGS)}


def table(store: Store, name: str) -> pd.DataFrame:
    return pd.read_sql(f"SELECT * FROM {name} ORDER BY 1", store.engine)


def snapshot(store: Store) -> dict[str, list[dict[str, Any]]]:
    """Every table a write would touch, as rows."""
    return {t: table(store, t).to_dict("records") for t in (
        "concerns", "concern_events", "fixed_answers", "follows", "outbox", "audit_log",
        "request_log")}


def path(url: str) -> str:
    return url.removeprefix("http://testserver")


# -- the message ----------------------------------------------------------------------
def test_the_fix_message_asks_with_a_yes_and_a_no_link_in_its_plain_text(
        store: Store) -> None:
    rid = report(store)
    follow(store, rid, FIRST)
    staff(store).change_status(rid, "acknowledged", "Seen", visibility="public")
    [seen] = sent_messages(store, SETTINGS)
    assert answer_links(seen) == {} and "Is it fixed?" not in body(seen)
    version = staff(store).change_status(rid, "fixed", "Painted over", visibility="public")
    [news] = sent_messages(store, SETTINGS)
    assert news.get_content_type() == "text/plain"  # one plain-text part, nothing else
    text = body(news)
    assert "Is it fixed? If you pass by, please tell us." in text
    links = answer_links(news)
    assert set(links) == {"yes", "no"}
    assert f"Yes, it is fixed: {links['yes']}" in text
    assert f"No, it is not fixed: {links['no']}" in text
    assert "A \"no\" reopens the report. These links work for 30 days." in text
    # both links carry the same token, naming this follow and the version the fix made
    [yes_token] = re.findall(r"token=([\w.-]+)", links["yes"])
    [no_token] = re.findall(r"token=([\w.-]+)", links["no"])
    assert yes_token == no_token
    follow_id, fix = fx.read_answer(KEY, yes_token, now=datetime.now(UTC))
    assert fix == version == 3
    assert follow_id == table(store, "follows")["id"].iloc[0]
    # only a fix asks: closing for another reason does not
    other = report(store)
    follow(store, other, FIRST)
    staff(store).change_status(other, "closed", "Not ours", visibility="public")
    [closed] = sent_messages(store, SETTINGS)
    assert answer_links(closed) == {}


# -- opening a link --------------------------------------------------------------------
def test_opening_a_link_changes_nothing(store: Store, web: TestClient) -> None:
    rid, links = fixed_with_followers(store, FIRST)
    before = snapshot(store)
    for answer in ("yes", "no"):
        got = web.get(path(links[FIRST][answer]))
        assert got.status_code == 200
        assert f"Report {rid} (Graffiti) was marked fixed. Is it fixed?" in got.text
        assert got.text.count('<form method="post"') == 2
        assert 'name="answer" value="yes"' in got.text and 'name="comment"' in got.text
        assert got.headers["Cache-Control"] == "no-store"
        assert got.headers["Referrer-Policy"] == "no-referrer"
        assert FIRST not in got.text
    # the link's own answer comes first
    no_page = web.get(path(links[FIRST]["no"])).text
    assert no_page.index('value="no"') < no_page.index('value="yes"')
    # a HEAD as some scanners send, and the question read through the door
    web.head(path(links[FIRST]["yes"]))
    q = door(store).fixed_question(token(links[FIRST]["yes"]))
    assert (q.request_id, q.status, q.current, q.answer) == (rid, "fixed", True, None)
    assert q.open_answers == (fx.Answer.YES, fx.Answer.NO)
    assert snapshot(store) == before


# -- answering ----------------------------------------------------------------------------
def test_a_yes_is_recorded_and_the_report_stays_closed(store: Store, web: TestClient) -> None:
    rid, links = fixed_with_followers(store, FIRST, SECOND)
    outbox_before = len(table(store, "outbox"))
    got = web.post(path(links[FIRST]["yes"]), data={"answer": "yes"})
    assert got.status_code == 200
    assert f"Your answer “yes, it is fixed” about report {rid} (Graffiti) is recorded" \
        in got.text
    [row] = table(store, "fixed_answers").to_dict("records")
    assert (row["service_request_id"], row["answer"], row["report_version"]) == (rid, "yes", 2)
    assert row["follow_id"] == fx.read_answer(KEY, token(links[FIRST]["yes"]),
                                              now=datetime.now(UTC))[0]
    state = door(store).concern(rid)
    assert (state["status"], state["detailed_status"], state["version"]) == (
        "closed", "fixed", 2)
    assert len(table(store, "outbox")) == outbox_before  # nobody is told of a yes
    trail = staff(store).audit_trail()
    entry = trail[trail["action"] == "fixed answer"]
    assert len(entry) == 1 and FIRST not in entry.to_json(date_format="iso")
    counts = staff(store).fixed_answer_counts(rid)
    assert (counts.yes, counts.no, counts.latest_yes, counts.latest_no) == (1, 0, 1, 0)
    with pytest.raises(PermissionDeniedError):
        door(store).fixed_answer_counts(rid)


def test_a_no_reopens_with_a_public_note_and_tells_the_other_followers(
        store: Store, web: TestClient) -> None:
    rid, links = fixed_with_followers(store, FIRST, SECOND, THIRD)
    other, _ = fixed_with_followers(store, "fourth@example.org")  # fixed, not reopened
    comment = "Still tagged <b>on the back</b>\nwrite me at first@example.org"
    got = web.post(path(links[FIRST]["no"]), data={"answer": "no", "comment": comment})
    assert got.status_code == 200 and "was reopened" in got.text
    assert "&lt;b&gt;" not in got.text and FIRST not in got.text
    state = door(store).concern(rid)
    assert (state["status"], state["detailed_status"], state["version"]) == (
        "open", "submitted", 3)
    # the note, public, as plain text, without the address typed into the comment
    note = ("A follower says it is not fixed: Still tagged <b>on the back</b>\n"
            "write me at [e-mail address removed]")
    seen = door(store).history(rid)
    last = seen.iloc[-1]
    assert (last["kind"], last["from_status"], last["to_status"], last["note"],
            last["visibility"]) == ("reopened", "fixed", "submitted", note, "public")
    assert last["actor"] is None  # the public sees no one
    assert staff(store).history(rid).iloc[-1]["actor"] == fx.FOLLOWER
    # the other followers are told through the outbox, the one who answered is not
    waiting = table(store, "outbox")
    waiting = waiting[waiting["sent_at"].isna()]
    assert sorted(waiting["to_address"]) == [SECOND, THIRD]
    messages = sent_messages(store, SETTINGS)
    assert sorted(m["To"] for m in messages) == [SECOND, THIRD]
    for message in messages:
        assert message["Subject"] == f"Graffiti {rid}: now Submitted"
        text = body(message)
        assert "Status: Submitted (was Fixed)" in text and note in text
        assert FIRST not in text and answer_links(message) == {}
    # the reopening counts: on the Progress page (reopenings in the month) and in the
    # Neighborhoods scorecard's reopen rate. Reference, by hand: one reopening in this
    # month in Westside; of the two reports ever closed there, one was reopened (0.5).
    progress = door(store).progress()
    west = progress.of("W")
    month = pd.Timestamp.now(tz=progress.tz).tz_localize(None).to_period("M")
    assert west.loc[month, "reopened"] == 1 and west["reopened"].sum() == 1
    assert door(store).reopened_ids() == {rid}
    rates = overlay(door(store).concerns(), store.read(Layer.NEIGHBORHOODS),
                    reopened=door(store).reopened_ids()).set_index("neighborhood_id")
    assert rates.loc["W", "reopen_rate"] == 0.5
    assert door(store).concern(other)["status"] == "closed"


def test_a_bad_a_tampered_and_an_expired_link_are_refused(store: Store,
                                                         web: TestClient) -> None:
    rid, links = fixed_with_followers(store, FIRST)
    good = token(links[FIRST]["yes"])
    follow_id, version = fx.read_answer(KEY, good, now=datetime.now(UTC))
    payload, mac = good.split(".")
    tampered = fl._b64(fl._unb64(payload).replace(f":{version}".encode(),
                                                  f":{version + 1}".encode())) + "." + mac
    unsubscribe = fl.sign_token(KEY, fl.Purpose.UNSUBSCRIBE, follow_id)
    foreign = fx.sign_answer("another-key-0123456789abcdef", follow_id, version,
                             expires=datetime.now(UTC) + timedelta(days=1))
    expired = fx.sign_answer(KEY, follow_id, version,
                             expires=datetime.now(UTC) - timedelta(seconds=1))
    before = snapshot(store)
    for bad in (tampered, unsubscribe, foreign, good[:-3], "nonsense", ""):
        for method in (web.get, web.post):
            got = method(f"/follow/fixed?token={bad}")
            assert got.status_code == 400 and "This link does not work" in got.text, bad
    for method in (web.get, web.post):
        got = method(f"/follow/fixed?token={expired}")
        assert got.status_code == 400 and "This link has expired" in got.text
        assert "Nothing was recorded" in got.text
    with pytest.raises(fl.FollowError, match="expired"):
        door(store).answer_fixed(expired, "yes")
    # a well-made link with an answer that is neither yes nor no
    got = web.post(f"/follow/fixed?token={good}", data={"answer": "maybe"})
    assert got.status_code == 400 and "The answer is yes or no" in got.text
    # a comment past its limit, and a body past what is read
    got = web.post(f"/follow/fixed?token={good}",
                   data={"answer": "no", "comment": "x" * (fx.MAX_COMMENT_CHARS + 1)})
    assert got.status_code == 400 and f"at most {fx.MAX_COMMENT_CHARS}" in got.text
    got = web.post(f"/follow/fixed?token={good}", content=b"answer=no&comment=" + b"x" * 20000,
                   headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert got.status_code == 413
    after = snapshot(store)
    assert after["fixed_answers"] == before["fixed_answers"] == []
    assert after["concerns"] == before["concerns"]
    assert door(store).concern(rid)["detailed_status"] == "fixed"


def test_a_second_answer_and_a_link_to_a_report_changed_since(store: Store,
                                                              web: TestClient) -> None:
    rid, links = fixed_with_followers(store, FIRST, SECOND, THIRD)
    first = token(links[FIRST]["yes"])
    assert door(store).answer_fixed(first, "yes").outcome is fx.Outcome.RECORDED
    # the same answer again: already recorded, nothing new
    again = web.post(path(links[FIRST]["yes"]), data={"answer": "yes"})
    assert again.status_code == 200 and "was already recorded: “yes”" in again.text
    assert len(table(store, "fixed_answers")) == 1
    # the page of an answered link says so, and offers the no while nothing changed
    page = web.get(path(links[FIRST]["yes"])).text
    assert "You answered “yes”" in page and "Not fixed after all?" in page
    assert 'value="yes"' not in page
    # a yes becomes a no while the report is as it was: changed, and reopened
    result = door(store).answer_fixed(first, "no", "Tags are back")
    assert (result.outcome, result.answer, result.reopened) == (
        fx.Outcome.CHANGED, fx.Answer.NO, True)
    [row] = table(store, "fixed_answers").to_dict("records")
    assert row["answer"] == "no"
    # once reopened, this follow's answer stays: neither yes nor no changes it
    for answer in ("yes", "no"):
        assert door(store).answer_fixed(first, answer).outcome is fx.Outcome.ALREADY
    # another follower's link about that fix: the report changed since; a plain page
    stale = web.get(path(links[SECOND]["yes"]))
    assert stale.status_code == 200
    assert "has changed since you were asked: it is now “Submitted”" in stale.text
    assert "<form" not in stale.text
    posted = web.post(path(links[SECOND]["no"]), data={"answer": "no"})
    assert posted.status_code == 200 and "has changed since you were asked" in posted.text
    assert len(table(store, "fixed_answers")) == 1
    assert door(store).concern(rid)["version"] == 3  # reopened once, not twice
    # staff fix it again and then reopen it themselves: the newer question is over too
    staff(store).change_status(rid, "fixed", "Painted again", visibility="public")
    newer = {str(m["To"]): answer_links(m) for m in sent_messages(store, SETTINGS)}
    assert set(newer) == {FIRST, SECOND, THIRD}
    assert token(newer[FIRST]["yes"]) != first
    staff(store).change_status(rid, "in progress", "Crew back on it", visibility="public")
    got = web.get(path(newer[THIRD]["no"]))
    assert got.status_code == 200 and "it is now “In progress”" in got.text
    counts = staff(store).fixed_answer_counts(rid)
    assert (counts.yes, counts.no, counts.latest_yes, counts.latest_no) == (0, 1, 0, 1)


def test_a_sensitive_report_s_page_and_messages_hold_nothing_private(
        store: Store, web: TestClient) -> None:
    private = {"description": "Blue door behind the laundromat",
               "address": "4321 Secret Lane", "contact": "quincy.hidden@example.org",
               "note": "Raid planned for Friday"}
    rid, links = fixed_with_followers(
        store, FIRST, SECOND, code="drug_activity", note=private["note"],
        text=private["description"], address=private["address"],
        contact_email=private["contact"], contact_name="Quincy Hidden")
    place = re.compile(r"-94\.591|39\.041")
    pages = [web.get(path(links[FIRST][a])).text for a in ("yes", "no")]
    assert "Suspected drug activity" in pages[0]
    assert "Your comment is seen by staff only" in pages[0]
    got = web.post(path(links[FIRST]["no"]),
                   data={"answer": "no", "comment": "Still going on at number 7"})
    assert got.status_code == 200 and "was reopened" in got.text
    pages.append(got.text)
    messages = sent_messages(store, SETTINGS)
    assert [m["To"] for m in messages] == [SECOND]
    texts = [*pages, *(m.as_string() + body(m) for m in messages)]
    for text in texts:
        found = [name for name, value in private.items() if value in text]
        assert not found and not place.search(text) and "Quincy" not in text, found
        assert "number 7" not in text and FIRST not in text
    assert "Notes on this kind of report are seen by staff only" in body(messages[0])
    # the note of a follower's "no" on a sensitive category is for staff, as staff's
    # notes default there
    last = staff(store).history(rid).iloc[-1]
    assert (last["kind"], last["visibility"]) == ("reopened", "internal")
    assert last["note"] == "A follower says it is not fixed: Still going on at number 7"
    assert door(store).history(rid)["note"].isna().all()


def test_answers_are_rate_limited_per_link(store: Store) -> None:
    # a link's writes count against its follow, like its confirmation did: one write
    # already, so two more answers are heard and the third is refused
    tight = Settings(max_writes_per_minute=3, secret_key=KEY, public_url="http://testserver")
    rid, links = fixed_with_followers(store, FIRST, SECOND)
    with TestClient(Starlette(routes=feed_routes(store=store, settings=tight))) as client:
        url = path(links[FIRST]["yes"])
        assert client.post(url, data={"answer": "yes"}).status_code == 200
        assert client.post(url, data={"answer": "yes"}).status_code == 200
        got = client.post(url, data={"answer": "no"})
        assert got.status_code == 429 and "limit is 3 a minute" in got.text
        # the refused answer changed nothing; another follower's link has its own count
        assert door(store).concern(rid)["detailed_status"] == "fixed"
        assert client.post(path(links[SECOND]["yes"]), data={"answer": "yes"}
                           ).status_code == 200
    answers = table(store, "fixed_answers")
    assert sorted(answers["answer"]) == ["yes", "yes"]


def test_the_rules_for_comments_and_answers() -> None:
    assert fx.clean_comment("  a\x00b\x1b[31m\r\nline\n\n\n\nend  ") == "ab[31m\nline\n\nend"
    assert fx.clean_comment("mail x.y+z@sub.example.org now") == (
        "mail [e-mail address removed] now")
    assert fx.clean_comment(None) == ""
    assert fx.not_fixed_note("") == "A follower says it is not fixed."
    with pytest.raises(fl.FollowError) as info:
        fx.clean_comment("é" * (fx.MAX_COMMENT_CHARS + 1))
    assert set(info.value.fields) == {"comment"}
    assert fx.parse_answer(" YES ") is fx.Answer.YES
    with pytest.raises(fl.FollowError, match="yes or no"):
        fx.parse_answer("perhaps")


def test_the_page_speaks_the_language_the_browser_asks_for(store: Store,
                                                           web: TestClient) -> None:
    from cpted import i18n

    rid, links = fixed_with_followers(store, FIRST)
    spanish = {"Accept-Language": "es-MX,es;q=0.9"}
    i18n.forget_missing()
    asked = web.get(path(links[FIRST]["yes"]), headers=spanish)
    assert asked.status_code == 200 and '<html lang="es">' in asked.text
    assert f"El informe {rid} (Grafiti) se marcó como arreglado. ¿Está arreglado?" in asked.text
    assert "Sí, está arreglado" in asked.text and "No, no está arreglado" in asked.text
    for english in ("Is it fixed", "Nothing is recorded", "See the report", "reopens"):
        assert english not in asked.text
    got = web.post(path(links[FIRST]["no"]), data={"answer": "no", "comment": "Sigue igual"},
                   headers=spanish)
    assert got.status_code == 200 and "Informe reabierto" in got.text
    assert f"El informe {rid} (Grafiti) se volvió a abrir" in got.text
    again = web.get(path(links[FIRST]["no"]), headers=spanish)
    assert "Respondió “no”" in again.text  # the stored answer, named in Spanish
    assert i18n.missing("es") == set()
    english_page = web.get(path(links[FIRST]["yes"]))
    assert "You answered “no” about report" in english_page.text
