"""Staff following the reports assigned to them (:mod:`cpted.access.assigned`), on both
backends: only staff with an account and an address may; an assignment and then a status
change reach the assignee's account address through the outbox (reports assigned after
they opted in included); the address never reaches a public output."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from cpted import accounts as acc
from cpted import follows as fl
from cpted.access import Access, PermissionDeniedError
from cpted.accounts import Actor
from cpted.concerns import ReportDraft
from cpted.feeds import feed_routes
from cpted.privacy import Role
from layers.errors import UnusableInputError
from layers.settings import Settings
from layers.store import Store
from tests.helpers import body, link, sent_messages, token, two_neighborhoods

KEY = "assigned-test-key-0123456789abcdef"
SETTINGS = Settings(max_writes_per_minute=1000, secret_key=KEY, public_url="http://testserver")
OFFICER_EMAIL = "olive.officer@example.net"
PLANNER_EMAIL = "pat.planner@example.net"


@pytest.fixture
def store(any_store: Store) -> Store:
    two_neighborhoods(any_store)
    acc.create_account(any_store, "olive", "Olive Officer", Role.OFFICER, "long enough pw",
                       email=OFFICER_EMAIL)
    acc.create_account(any_store, "pat", "Pat Planner", Role.PLANNER, "long enough pw",
                       email=PLANNER_EMAIL)
    acc.create_account(any_store, "noaddr", "No Address", Role.COORDINATOR, "long enough pw")
    acc.create_account(any_store, "rita", "Rita Resident", Role.RESIDENT, "long enough pw",
                       email="rita@example.net")
    return any_store


def door(store: Store, who: Actor) -> Access:
    return Access(store, who, SETTINGS)


def signed_in(store: Store, username: str) -> Access:
    me = acc.current(store, username)
    assert me is not None
    return door(store, me)


def coordinator(store: Store) -> Access:
    return door(store, Actor("casey", "Casey", Role.COORDINATOR))


def report(store: Store, code: str = "graffiti") -> str:
    return door(store, acc.public("reporter")).submit_report(
        ReportDraft(code, -94.5912, 39.0412, "Tags on the wall"))


def test_only_staff_with_an_account_and_an_address_may_follow_what_is_assigned(
        store: Store) -> None:
    rid = report(store)
    for who in (acc.public("b1"), signed_in(store, "rita").actor):
        with pytest.raises(PermissionDeniedError, match="may not follow the reports assigned"):
            door(store, who).follow_assigned()
        with pytest.raises(PermissionDeniedError, match="may not assign reports"):
            door(store, who).assign(rid, "olive")
        with pytest.raises(PermissionDeniedError):
            door(store, who).follows_assigned()
        with pytest.raises(PermissionDeniedError):
            door(store, who).assignee(rid)
    with pytest.raises(fl.FollowError, match="no e-mail address") as info:
        signed_in(store, "noaddr").follow_assigned()
    assert set(info.value.fields) == {"email"}
    # the demo's staff (no account) are told why too
    with pytest.raises(fl.FollowError, match="signed-in account"):
        door(store, Actor("demo-coordinator", "Coordinator (demo)",
                          Role.COORDINATOR)).follow_assigned()
    assert pd.read_sql("SELECT * FROM follows", store.engine).empty
    # a report goes to enabled staff accounts only
    for nobody in ("rita", "nosuch"):
        with pytest.raises(UnusableInputError, match="not an enabled staff account"):
            coordinator(store).assign(rid, nobody)
    assert coordinator(store).assignable_staff() == {
        "noaddr": "No Address", "olive": "Olive Officer", "pat": "Pat Planner"}


def test_an_assignment_then_a_status_change_reach_the_assignee_s_address(
        store: Store) -> None:
    olive = signed_in(store, "olive")
    assert olive.follows_assigned() is False
    assert olive.follow_assigned() is True and olive.follows_assigned() is True
    assert olive.follow_assigned() is True  # again: one follow
    rows = pd.read_sql("SELECT * FROM follows", store.engine)
    assert len(rows) == 1 and rows["email"].iloc[0] == "" and rows["confirmed_at"].notna().all()
    assert sent_messages(store, SETTINGS) == []  # no confirmation: the address is known
    # a report assigned after opting in: told of the assignment, then of each change
    rid = report(store)
    assert coordinator(store).assign(rid, "olive") is True
    assert coordinator(store).assign(rid, "olive") is False  # no change
    assert coordinator(store).assignee(rid) == ("olive", "Olive Officer")
    [assigned] = sent_messages(store, SETTINGS)
    assert assigned["To"] == OFFICER_EMAIL
    assert assigned["Subject"] == f"Assigned to you: Graffiti {rid}"
    coordinator(store).change_status(rid, "in progress", "Crew booked", visibility="public")
    [news] = sent_messages(store, SETTINGS)
    assert news["To"] == OFFICER_EMAIL and news["Subject"] == f"Graffiti {rid}: now In progress"
    text = body(news)
    assert "The report assigned to you has a new status: In progress." in text
    assert "Crew booked" in text and "/follow/fixed" not in text
    # staff hear as any follower does: an internal note stays out of the message
    coordinator(store).change_status(rid, "fixed", "Owner is Mr Smith", visibility="internal")
    [fixed] = sent_messages(store, SETTINGS)
    assert "Mr Smith" not in body(fixed) and "Is it fixed?" not in body(fixed)
    # their own change is not sent back to them
    olive.change_status(rid, "in progress", "Back on it", visibility="public")
    assert sent_messages(store, SETTINGS) == []
    # reassigned: the new assignee does not follow, the old one hears no more
    coordinator(store).assign(rid, "pat")
    coordinator(store).change_status(rid, "fixed", "Done", visibility="public")
    assert sent_messages(store, SETTINGS) == []
    # the account's address is read when a message is written: a disabled account gets none
    coordinator(store).assign(rid, "olive")
    assert [m["To"] for m in sent_messages(store, SETTINGS)] == [OFFICER_EMAIL]
    Access(store, acc.operator(), SETTINGS).set_disabled("olive", True)
    coordinator(store).change_status(rid, "closed", "Closed", visibility="public")
    assert sent_messages(store, SETTINGS) == []


def test_stopping_by_the_page_or_the_message_s_link(store: Store) -> None:
    olive = signed_in(store, "olive")
    olive.follow_assigned()
    rid = report(store)
    coordinator(store).assign(rid, "olive")
    [assigned] = sent_messages(store, SETTINGS)
    with TestClient(Starlette(routes=feed_routes(store=store, settings=SETTINGS))) as client:
        url = assigned["List-Unsubscribe"].strip("<>")
        page = client.get(url.removeprefix("http://testserver"))
        assert page.status_code == 200
        assert "the reports assigned to your account, each time the status of one changes" \
            in page.text and OFFICER_EMAIL not in page.text
        done = client.post(url.removeprefix("http://testserver"))
        assert done.status_code == 200 and "No more messages" in done.text
    assert olive.follows_assigned() is False
    coordinator(store).change_status(rid, "acknowledged", "Seen", visibility="public")
    assert sent_messages(store, SETTINGS) == []
    # on again, and off from the page's button
    assert olive.follow_assigned() is True
    assert olive.follow_assigned(False) is False and olive.follows_assigned() is False
    coordinator(store).change_status(rid, "in progress", "On it", visibility="public")
    assert sent_messages(store, SETTINGS) == []
    trail = coordinator(store).audit_trail()
    assert {"follow assigned", "follow assigned ended", "assign"} <= set(trail["action"])


def test_the_assignee_s_address_never_reaches_a_public_output(store: Store) -> None:
    signed_in(store, "olive").follow_assigned()
    rid = report(store)
    sens = report(store, "drug_activity")
    for r in (rid, sens):
        coordinator(store).assign(r, "olive")
        coordinator(store).change_status(r, "in progress", "On it", visibility="public")
    # a follower of the report, and an area follower: what they receive
    public = door(store, acc.public("b"))
    public.follow_report(rid, "follower@example.org")
    public.follow_area("follower@example.org", neighborhood_id="W", frequency="daily")
    for message in sent_messages(store, SETTINGS):
        if message["To"] == "follower@example.org":
            public.confirm_follow(token(link(message, "/follow/confirm")))
    coordinator(store).change_status(rid, "fixed", "Painted", visibility="public")
    messages = [m for m in sent_messages(store, SETTINGS) if m["To"] != OFFICER_EMAIL]
    assert messages
    outputs = [public.concern(rid), public.concern(sens), public.history(rid),
               public.concerns(), public.neighborhood_feed("W"),
               public.open311_requests(), *(m.as_string() for m in messages)]
    for out in outputs:
        if isinstance(out, gpd.GeoDataFrame):
            text = out.to_json(default=str)
        elif isinstance(out, pd.DataFrame):
            text = out.to_json(default_handler=str, date_format="iso")
        else:
            text = str(out)
        assert OFFICER_EMAIL not in text and "olive" not in text.lower()
    # staff see who is assigned, never the address (it is in the accounts and the outbox)
    trail = coordinator(store).audit_trail()
    assert OFFICER_EMAIL not in trail.to_json(default_handler=str, date_format="iso")
    assert OFFICER_EMAIL not in str(coordinator(store).assignee(rid))
