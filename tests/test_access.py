"""Roles and permissions through the domain API (:class:`cpted.access.Access`), on both
backends: every role against every protected action, and the public role calling
everything it can call without ever receiving reporter contact or an exact sensitive point.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from cpted import accounts as acc
from cpted import concerns as cc
from cpted.access import (
    PERMISSIONS,
    Access,
    Action,
    PermissionDeniedError,
    RateLimitError,
    can,
)
from cpted.accounts import Actor, SignInError
from cpted.concerns import ReportDraft
from cpted.privacy import Role
from layers.errors import ConflictError, UnusableInputError
from layers.schema import Layer
from layers.services import load_default_services
from layers.settings import Settings
from layers.store import Store

NOW = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)
SECRET = {"contact_name": "Private Person", "contact_email": "private.person@example.org",
          "contact_phone": "+1 816 555 0199"}
EXACT = (-94.581234, 39.041234)  # a drug_activity report: a sensitive category
INSTRUMENT = (Path(__file__).parents[1] / "cpted" / "data" / "instrument.toml").read_text()
#: Where the permission matrix's survey answers are placed (in the seeded neighborhood).
SURVEY_AT = (-94.576543, 39.043219)


@pytest.fixture
def store(any_store: Store) -> Store:
    return any_store


def actor(role: Role) -> Actor:
    return acc.public("browser-1") if role is Role.PUBLIC else Actor(f"{role}-1", f"A {role}",
                                                                      role)


def seeded(store: Store) -> dict[str, str]:
    """Three reports, the first sensitive with contact details, and an account."""
    sub = lambda *a, **k: cc.submit_report(store, ReportDraft(*a, **k), now=NOW)  # noqa: E731
    ids = {
        "sensitive": sub("drug_activity", *EXACT, "Blue house, 1234 Elm", address="1234 Elm Ave",
                         **SECRET),
        "a": sub("graffiti", -94.58, 39.04, "Tags on the wall", **SECRET),
        "b": sub("graffiti", -94.58001, 39.04001, "Same tags"),
    }
    acc.create_account(store, "someone", "Some One", Role.RESIDENT, "long enough pw")
    return ids


def csv_file(tmp_path: Path) -> Path:
    path = tmp_path / "more.csv"
    pd.DataFrame({"service_request_id": ["imp-1", "imp-2"], "service_code": ["graffiti"] * 2,
                  "requested_datetime": ["2026-10-01T10:00:00Z"] * 2, "status": ["open"] * 2,
                  "lat": [39.0401, 39.0402], "lon": [-94.5801, -94.5802]}).to_csv(path,
                                                                                  index=False)
    return path


def audit_draft(name: str = "Corner of 5th & Main") -> Any:
    from cpted.assessments import AssessmentDraft

    return AssessmentDraft(place_name=name, geometry=shapely.Point(-94.5801, 39.0401),
                           assessor="Pat", assessed_at=NOW, period="night",
                           answers={"lt_level": 0, "lt_working": 0, "ns_windows": 3,
                                    "fs_feel": 2}, notes="")


def seeded_places(store: Store, ids: dict[str, str]) -> dict[str, str]:
    """An audit by someone else, a problem spot and an action plan (made by staff)."""
    from cpted.instrument import parse_instrument

    staff = Access(store, Actor("seed", "Seed", Role.ADMIN), Settings(max_writes_per_minute=1000))
    inst = parse_instrument(INSTRUMENT)
    store.add(Layer.NEIGHBORHOODS, gpd.GeoDataFrame(
        {"id": ["H1"], "name": ["Hill"]},
        geometry=[shapely.MultiPolygon([shapely.box(-94.60, 39.02, -94.55, 39.06)])], crs=4326))
    out = {"audit": staff.save_audit(audit_draft("Seeded audit"), inst),
           "spot": staff.create_spot("Seeded spot", [ids["a"]])}
    out["plan"] = staff.create_plan("Trim hedges", owner_kind="city department", owner_name="Parks",
                                    due=NOW.date(), spot_id=out["spot"])
    seeded_area_follow(store, staff)
    out["fixed"] = seeded_fix(store, staff)
    # an officer a report may be assigned to
    acc.create_account(store, "assignee", "An Officer", Role.OFFICER, "long enough pw",
                       email="assignee@example.org")
    return out


def seeded_fix(store: Store, door: Access) -> str:
    """A report followed (and confirmed), then marked fixed: the token of the follower's
    "Is it fixed?" links."""
    from tests.helpers import link, sent_messages, token

    rid = door.submit_report(ReportDraft("graffiti", -94.581, 39.041, "Broken bench"))
    door.follow_report(rid, "fixer.follower@example.org")
    [confirmation] = sent_messages(store, door.settings)
    door.confirm_follow(token(link(confirmation, "/follow/confirm")))
    door.change_status(rid, "fixed", "Bench replaced", visibility="public")
    [fixed] = sent_messages(store, door.settings)
    return token(link(fixed, "/follow/fixed"))


def seeded_area_follow(store: Store, door: Access) -> None:
    """A daily follow of a circle round the reports, confirmed two days ago: its digest
    is due."""
    from cpted.follows import circle
    from tests.helpers import link, sent_messages, token

    then = datetime.now(UTC) - timedelta(days=2)
    door.follow_area("neighbor@example.org", area=circle(-94.58, 39.04, 300), frequency="daily",
                     now=then)
    [confirmation] = sent_messages(store, door.settings, now=then)
    door.confirm_follow(token(link(confirmation, "/follow/confirm")), now=then)


def protected_calls(ids: dict[str, str], tmp_path: Path
                    ) -> dict[Action, Callable[[Access], Any]]:
    """One call through the domain API for every action in the permission table."""
    from cpted.instrument import parse_instrument

    new_instrument = INSTRUMENT.replace('version = "1.0"', 'version = "1.1"', 1)
    graffiti = next(s for s in load_default_services() if s.service_code == "graffiti")
    inst = parse_instrument(INSTRUMENT)
    return {
        Action.REPORT: lambda a: a.submit_report(ReportDraft("graffiti", -94.57, 39.04, "x")),
        Action.SUPPORT: lambda a: a.support(ids["a"]),
        Action.FOLLOW: lambda a: a.follow_report(ids["a"], "follower@example.org"),
        Action.ANSWER_FIXED: lambda a: a.answer_fixed(ids["fixed"], "yes"),
        Action.CREATE_AUDIT: lambda a: a.save_audit(audit_draft(), inst),
        Action.ANSWER_SURVEY: lambda a: a.answer_survey(*SURVEY_AT, 2, False),
        Action.EDIT_ANY_AUDIT: lambda a: a.update_audit(
            ids["audit"], audit_draft("Renamed"), inst,
            expected_version=a.audit(ids["audit"]).version),
        Action.SEE_EXACT_SENSITIVE: lambda a: a.concerns(
            where={"service_request_id": [ids["sensitive"]]}),
        Action.SEE_INTERNAL_NOTES: lambda a: a.history(ids["a"]),
        Action.SEE_CONTACT: lambda a: a.contact(ids["sensitive"]),
        Action.CHANGE_STATUS: lambda a: a.change_status(ids["a"], "acknowledged", "seen it"),
        Action.ASSIGN: lambda a: a.assign(ids["a"], "assignee"),
        Action.FOLLOW_ASSIGNED: lambda a: a.follow_assigned(),
        Action.MERGE: lambda a: a.merge(ids["a"], [ids["b"]], "same wall"),
        Action.DELETE: lambda a: a.delete_concern(ids["b"], "posted twice"),
        Action.MANAGE_SPOTS: lambda a: a.create_spot("Dark alley", [ids["a"]]),
        Action.LOG_VISITS: lambda a: a.log_visit(officer="O", place="Corner", lon=-94.58,
                                                 lat=39.04),
        Action.EDIT_CATEGORIES: lambda a: a.save_services([graffiti]),
        Action.EDIT_INSTRUMENT: lambda a: a.add_instrument(new_instrument),
        Action.MANAGE_ACCOUNTS: lambda a: a.set_role("someone", Role.OFFICER),
        Action.MANAGE_API_KEYS: lambda a: a.create_api_key("City 311 app"),
        Action.SEE_AUDIT: lambda a: a.audit_trail(),
        Action.IMPORT: lambda a: a.import_file(csv_file(tmp_path), Layer.CONCERNS),
        Action.SAVE_PROFILE: lambda a: a.save_profile(
            '[profile]\nname = "City 311"\nlayer = "concerns"\n[columns]\nstatus = "state"\n'),
        Action.LOAD_SAMPLE: lambda a: a.load_sample(),
        Action.SEND_MESSAGES: lambda a: a.build_digests(),
    }


#: Change-log entry names of the writes in :func:`protected_calls`.
LOGGED = {Action.REPORT: "report", Action.SUPPORT: "support", Action.FOLLOW: "follow",
          Action.ANSWER_FIXED: "fixed answer", Action.ASSIGN: "assign",
          Action.FOLLOW_ASSIGNED: "follow assigned",
          Action.CREATE_AUDIT: "audit", Action.SEND_MESSAGES: "digests",
          Action.ANSWER_SURVEY: "survey answer",
          Action.EDIT_ANY_AUDIT: "audit edited", Action.CHANGE_STATUS: "status",
          Action.MERGE: "merge", Action.DELETE: "delete", Action.MANAGE_SPOTS: "spot",
          Action.LOG_VISITS: "visit", Action.EDIT_CATEGORIES: "categories",
          Action.EDIT_INSTRUMENT: "instrument", Action.MANAGE_ACCOUNTS: "role",
          Action.MANAGE_API_KEYS: "api key created",
          Action.IMPORT: "import", Action.SAVE_PROFILE: "import profile saved",
          Action.LOAD_SAMPLE: "sample loaded"}


def test_the_table_names_every_role_and_admin_may_do_everything() -> None:
    assert set(PERMISSIONS) == set(Action)
    assert all(Role.ADMIN in roles for roles in PERMISSIONS.values())
    open_to_all = {Action.REPORT, Action.SUPPORT, Action.FOLLOW, Action.CREATE_AUDIT,
                   Action.ANSWER_SURVEY, Action.ANSWER_FIXED}
    assert {a for a, roles in PERMISSIONS.items() if Role.PUBLIC in roles} == open_to_all
    assert {a for a, roles in PERMISSIONS.items() if Role.RESIDENT in roles} == open_to_all


def test_the_readme_permission_table_is_the_code_s() -> None:
    from cpted.access import permission_table_markdown

    readme = (Path(__file__).parents[1] / "README.md").read_text()
    assert permission_table_markdown() in readme, (
        "README.md's permission table differs from cpted.access.PERMISSIONS; paste "
        "cpted.access.permission_table_markdown() into it")


@pytest.mark.parametrize("role", list(Role))
def test_permission_matrix(store: Store, tmp_path: Path, role: Role) -> None:
    ids = seeded(store)
    ids |= seeded_places(store, ids)
    calls = protected_calls(ids, tmp_path)
    assert set(calls) == set(Action), "every action in the table needs a call here"
    if role is not Role.PUBLIC:  # each role's own account, with an address
        acc.create_account(store, actor(role).username or "", f"A {role}", role,
                           "long enough pw", email=f"{role}-1@example.org")
    who = Access(store, actor(role), Settings(max_writes_per_minute=1000))
    for action, call in calls.items():
        before = store.revision()
        if action is Action.SEE_EXACT_SENSITIVE:  # a read that blurs rather than refuses
            got = call(who).iloc[0]
            exact = got.geometry.equals_exact(shapely.Point(*EXACT), 1e-12)
            assert exact == can(role, action), (role, action)
            assert (got["description"] is not None) == can(role, action)
            continue
        if action is Action.SEE_INTERNAL_NOTES:  # a read that hides rather than refuses
            Access(store, Actor("c", "C", Role.COORDINATOR)).change_status(
                ids["a"], "in progress", "internal detail", visibility="internal")
            notes = set(call(who)["note"].dropna())
            assert ("internal detail" in notes) == can(role, action), (role, action)
            continue
        if can(role, action):
            call(who)
            assert store.revision() > before or action is Action.SEE_AUDIT or \
                action is Action.SEE_CONTACT, (role, action)
        else:
            with pytest.raises(PermissionDeniedError, match="may not") as info:
                call(who)
            assert "needs one of" in str(info.value)
            assert store.revision() == before, f"{role} changed the store on a refusal"
    # what was allowed happened, and the change log has each write by this actor
    trail = Access(store, Actor("root", "Root", Role.ADMIN)).audit_trail(limit=10_000)
    mine = set(trail.loc[trail["actor"] == (actor(role).username or "public"), "action"])
    expected = {name for a, name in LOGGED.items() if can(role, a)}
    assert mine == expected, (role, mine ^ expected)


def test_an_audit_s_author_may_edit_it_and_others_may_not(store: Store) -> None:
    from cpted.instrument import parse_instrument

    inst = parse_instrument(INSTRUMENT)
    mine, theirs = acc.public("browser-1"), acc.public("browser-2")
    aid = Access(store, mine).save_audit(audit_draft(), inst)
    version = Access(store, mine).audit(aid).version
    with pytest.raises(PermissionDeniedError):
        Access(store, theirs).update_audit(aid, audit_draft("Mine now"), inst,
                                           expected_version=version)
    with pytest.raises(PermissionDeniedError):
        Access(store, theirs).delete_audit(aid, "spam")
    Access(store, mine).update_audit(aid, audit_draft("Fixed the name"), inst,
                                     expected_version=version)
    assert Access(store, theirs).audit(aid).place_name == "Fixed the name"
    Access(store, Actor("pl", "P", Role.PLANNER)).delete_audit(aid, "duplicate audit")
    with pytest.raises(UnusableInputError):
        Access(store, theirs).audit(aid)


def _leaks(value: Any) -> list[str]:
    """Secrets found in anything a call returned."""
    if isinstance(value, gpd.GeoDataFrame):
        found = [f"exact point {g}" for g in value.geometry
                 if g is not None and g.distance(shapely.Point(*EXACT)) < 1e-7]
        rest = value.drop(columns="geometry")
        return found + _leaks(rest.to_json(default_handler=str, date_format="iso"))
    if isinstance(value, pd.DataFrame):
        return _leaks(value.to_json(default_handler=str, date_format="iso"))
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    secrets = [*SECRET.values(), "1234 Elm", "Blue house", f"{EXACT[0]}", f"{EXACT[1]}"]
    return [s for s in secrets if s in text]


def test_signing_in(store: Store) -> None:
    acc.create_account(store, "dana", "Dana K", Role.COORDINATOR, "correct horse battery")
    got = acc.authenticate(store, "Dana", "correct horse battery")
    assert got == Actor("dana", "Dana K", Role.COORDINATOR)
    with pytest.raises(SignInError, match="wrong user name or password"):
        acc.authenticate(store, "dana", "wrong password!", now=NOW)
    with pytest.raises(SignInError, match="wrong user name or password"):
        acc.authenticate(store, "nobody", "correct horse battery", now=NOW)
    stored = pd.read_sql("SELECT password_hash FROM accounts", store.engine)["password_hash"][0]
    assert stored.startswith("$argon2id$") and "correct horse" not in stored
    for _ in range(4):
        with pytest.raises(SignInError):
            acc.authenticate(store, "dana", "guess", max_failures=5, now=NOW)
    # five wrong passwords from this client: it waits, even with the right password...
    with pytest.raises(SignInError, match=r"too many wrong passwords.*try again in 1 s"):
        acc.authenticate(store, "dana", "correct horse battery", max_failures=5, now=NOW)
    # ... and no one else does (tests/test_accounts_security.py has the details)
    assert acc.authenticate(store, "dana", "correct horse battery", max_failures=5,
                            client="elsewhere", now=NOW).username == "dana"
    with pytest.raises(UnusableInputError) as info:
        acc.create_account(store, "Bad Name", "", Role.PUBLIC, "short")
    assert len(info.value.problems) >= 4


def test_identity_provider_sign_in_takes_the_role_of_a_matching_account(store: Store) -> None:
    acc.create_account(store, "sam", "Sam P", Role.OFFICER, None, email="Sam@City.gov")
    assert acc.from_identity(store, "sam@city.gov", "Sam").role is Role.OFFICER
    assert acc.from_identity(store, "new@x.org", "New Person") == Actor(
        "new@x.org", "New Person", Role.RESIDENT)


def test_role_changes_are_versioned_audited_and_keep_an_admin(store: Store) -> None:
    acc.create_account(store, "root", "Root", Role.ADMIN, "long enough pw")
    acc.create_account(store, "kim", "Kim", Role.RESIDENT, "long enough pw")
    admin = Access(store, Actor("root", "Root", Role.ADMIN))
    admin.set_role("kim", Role.PLANNER, expected_version=1)
    with pytest.raises(ConflictError, match="changed by someone else"):
        admin.set_role("kim", Role.OFFICER, expected_version=1)
    with pytest.raises(UnusableInputError, match="last administrator"):
        admin.set_role("root", Role.RESIDENT)
    trail = admin.audit_trail()
    assert trail[["action", "target_id"]].values.tolist() == [["role", "kim"]]
    assert json.loads(trail["detail"][0]) == {"from": "resident", "to": "planner"}


def test_writes_past_the_rate_limit_are_refused_with_the_wait(store: Store) -> None:
    ids = seeded(store)
    who = Access(store, acc.public("browser-3"), Settings(max_writes_per_minute=3))
    for _ in range(3):
        who.support(ids["a"])
    before = cc.support_counts(store)[ids["a"]]
    with pytest.raises(RateLimitError, match=r"limit is 3 a minute.*try again in \d+ s"):
        who.support(ids["a"])
    assert cc.support_counts(store)[ids["a"]] == before
    # another browser has its own quota
    Access(store, acc.public("browser-4"), Settings(max_writes_per_minute=3)).support(ids["a"])


def test_status_change_from_a_stale_copy_is_refused(store: Store) -> None:
    ids = seeded(store)
    mine = Access(store, Actor("c1", "C One", Role.COORDINATOR))
    theirs = Access(store, Actor("o1", "O One", Role.OFFICER))
    seen = mine.concern(ids["a"])["version"]
    theirs.change_status(ids["a"], "in progress", "on it", expected_version=seen)
    with pytest.raises(ConflictError, match="changed by someone else"):
        mine.change_status(ids["a"], "fixed", "done", expected_version=seen)
    assert store.read(Layer.CONCERNS, ids=[ids["a"]])["detailed_status"][0] == "in progress"


def test_a_merge_moves_support_and_closes_the_duplicate(store: Store) -> None:
    ids = seeded(store)
    who = Access(store, Actor("c1", "C One", Role.COORDINATOR))
    cc.add_support(store, ids["b"])
    assert who.merge(ids["a"], [ids["b"]], "same wall") == [ids["b"]]
    assert cc.support_counts(store)[ids["a"]] == 2  # b itself and b's supporter
    got = store.read(Layer.CONCERNS, ids=[ids["b"]]).iloc[0]
    assert got["detailed_status"] == "duplicate" and got["status"] == "closed"


def test_category_edits_in_the_app_take_effect_and_are_logged(store: Store) -> None:
    from dataclasses import replace

    coordinator = Access(store, Actor("c1", "C One", Role.COORDINATOR))
    graffiti = cc.services(store)["graffiti"]
    assert not graffiti.sensitive
    coordinator.save_services([replace(graffiti, sensitive=True, target_days=5)])
    now = cc.services(store)["graffiti"]
    assert now.sensitive and now.target_days == 5
    trail = coordinator.audit_trail()
    assert trail[["action", "target_id"]].values.tolist() == [["categories", "graffiti"]]
    # a graffiti report is now blurred for the public
    rid = cc.submit_report(store, ReportDraft("graffiti", *EXACT, "tags"), now=NOW)
    seen = Access(store, acc.public()).concern(rid)
    assert seen["location_precision"] != "exact" and seen["description"] is None


def test_a_planner_changes_the_instrument_for_new_audits(store: Store) -> None:
    from cpted.assessments import current_instrument

    planner = Access(store, Actor("p1", "P One", Role.PLANNER))
    assert current_instrument(store) is None
    new = planner.add_instrument(INSTRUMENT.replace('version = "1.0"', 'version = "2.0"', 1))
    assert (current_instrument(store).id, current_instrument(store).version) == (new.id, "2.0")
    with pytest.raises(UnusableInputError, match="different questions"):
        planner.add_instrument(INSTRUMENT.replace('version = "1.0"', 'version = "2.0"', 1)
                               .replace("Lighting", "Lights", 1))


def test_follow_messages_and_feeds_hold_no_secret_whoever_asks(store: Store) -> None:
    """A sensitive report's follower, and anyone reading a feed of its area, learn its
    category and status only: never contact, text, address, a note or the exact place."""
    from cpted.follows import Purpose, circle, read_token, sign_token
    from tests.helpers import link, sent_messages, token

    ids = seeded(store)
    settings = Settings(max_writes_per_minute=1000, secret_key="s" * 32)
    door = Access(store, acc.public("browser-5"), settings)
    door.follow_report(ids["sensitive"], "follower@example.org")
    door.follow_area("follower@example.org", area=circle(*EXACT, 1000), frequency="daily")
    confirmations = sent_messages(store, settings)
    assert len(confirmations) == 2
    for message in confirmations:
        door.confirm_follow(token(link(message, "/follow/confirm")))
    coordinator = Access(store, Actor("c", "C", Role.COORDINATOR), settings)
    coordinator.change_status(ids["sensitive"], "acknowledged", "Blue house owner is 1234 Elm",
                              visibility="public")
    coordinator.change_status(ids["a"], "acknowledged", SECRET["contact_name"],
                              visibility="internal")
    later = datetime.now(UTC) + timedelta(days=1, minutes=1)
    Access(store, acc.operator(), settings).build_digests(now=later)
    messages = sent_messages(store, settings, now=later)
    assert [m["Subject"].split(":")[0] for m in messages] == [
        f"Suspected drug activity {ids['sensitive']}",
        "Daily news of an area of 3.14 km² on the map"]
    fid = read_token(settings.secret_key, token(link(confirmations[1], "/follow/confirm")),
                     Purpose.CONFIRM, now=datetime.now(UTC))
    feeds = [Access(store, Actor(None, "x", role), settings).area_feed(
        sign_token(settings.secret_key, Purpose.FEED, fid)) for role in (Role.PUBLIC, Role.ADMIN)]
    for out in [*(m.as_string() for m in messages), *(f.decode() for f in feeds)]:
        assert not _leaks(out), _leaks(out)
        assert ids["sensitive"] in out

@pytest.mark.parametrize("role", list(Role))
def test_no_role_reads_a_survey_answer_only_totals(store: Store, role: Role) -> None:
    """Whoever asks, the survey comes back as totals per neighborhood and month: no
    answer's place, time or author, however few answers there are."""
    ids = seeded(store)
    seeded_places(store, ids)
    Access(store, acc.public("answerer")).answer_survey(*SURVEY_AT, 1, True)
    who = Access(store, actor(role), Settings(max_writes_per_minute=1000))
    summary = who.survey_summary()
    assert summary[["name", "survey_answers"]].values.tolist() == [["Hill", 1]]
    assert summary["safe_mean"].isna().all()  # one answer: a count, never its value
    months = who.progress().months
    assert months["survey_answers"].sum() == 1 and months["safe_mean"].isna().all()
    for frame in (summary, months):
        assert not {"lon", "lat", "client", "at", "geometry"} & set(frame.columns)
        text = frame.to_json(default_handler=str)
        assert f"{SURVEY_AT[0]:.4f}" not in text and f"{SURVEY_AT[1]:.4f}" not in text
        assert "answerer" not in text
    if can(role, Action.SEE_AUDIT):  # the change log neither
        trail = who.audit_trail()
        logged = trail[trail["action"] == "survey answer"]
        assert len(logged) == 1 and json.loads(logged["detail"].iloc[0]) == {
            "neighborhood": "H1"}
        logged_text = trail.to_json(date_format="iso", default_handler=str)
        assert "answerer" not in logged_text and f"{SURVEY_AT[0]:.4f}" not in logged_text
