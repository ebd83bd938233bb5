"""Roles and permissions through the domain API (:class:`cpted.access.Access`), on both
backends: every role against every protected action, and the public role calling
everything it can call without ever receiving reporter contact or an exact sensitive point.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from datetime import UTC, datetime
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


def protected_calls(ids: dict[str, str], tmp_path: Path
                    ) -> dict[Action, Callable[[Access], Any]]:
    """One call through the domain API for every protected action."""
    new_instrument = INSTRUMENT.replace('version = "1.0"', 'version = "1.1"', 1)
    graffiti = next(s for s in load_default_services() if s.service_code == "graffiti")
    return {
        Action.SEE_EXACT_SENSITIVE: lambda a: a.concerns(
            where={"service_request_id": [ids["sensitive"]]}),
        Action.SEE_CONTACT: lambda a: a.contact(ids["sensitive"]),
        Action.CHANGE_STATUS: lambda a: a.change_status(ids["a"], "acknowledged", "seen it"),
        Action.MERGE: lambda a: a.merge(ids["a"], [ids["b"]], "same wall"),
        Action.DELETE: lambda a: a.delete_concern(ids["b"], "posted twice"),
        Action.EDIT_CATEGORIES: lambda a: a.save_services([graffiti]),
        Action.EDIT_INSTRUMENT: lambda a: a.add_instrument(new_instrument),
        Action.MANAGE_ACCOUNTS: lambda a: a.set_role("someone", Role.OFFICER),
        Action.SEE_AUDIT: lambda a: a.audit_trail(),
        Action.IMPORT: lambda a: a.import_file(csv_file(tmp_path), Layer.CONCERNS),
    }


def test_the_table_names_every_role_and_admin_may_do_everything() -> None:
    assert set(PERMISSIONS) == set(Action)
    assert all(Role.ADMIN in roles for roles in PERMISSIONS.values())
    assert not any(Role.PUBLIC in roles or Role.RESIDENT in roles
                   for roles in PERMISSIONS.values())


@pytest.mark.parametrize("role", list(Role))
def test_permission_matrix(store: Store, tmp_path: Path, role: Role) -> None:
    ids = seeded(store)
    calls = protected_calls(ids, tmp_path)
    assert set(calls) == set(Action), "every protected action needs a call here"
    who = Access(store, actor(role), Settings(max_writes_per_minute=1000))
    for action, call in calls.items():
        before = store.revision()
        if action is Action.SEE_EXACT_SENSITIVE:  # a read that blurs rather than refuses
            got = call(who).iloc[0]
            exact = got.geometry.equals_exact(shapely.Point(*EXACT), 1e-12)
            assert exact == can(role, action), (role, action)
            assert (got["description"] is not None) == can(role, action)
            continue
        if can(role, action):
            call(who)
        else:
            with pytest.raises(PermissionDeniedError, match="may not") as info:
                call(who)
            assert "needs one of" in str(info.value)
            assert store.revision() == before, f"{role} changed the store on a refusal"
    # what was allowed happened, and the audit trail has it
    if can(role, Action.SEE_AUDIT):
        trail = who.audit_trail()
        expected = {a for a, name in [(Action.CHANGE_STATUS, "status"), (Action.MERGE, "merge"),
                                      (Action.DELETE, "delete"),
                                      (Action.MANAGE_ACCOUNTS, "role"),
                                      (Action.IMPORT, "import")] if can(role, a)}
        names = {"status": Action.CHANGE_STATUS, "merge": Action.MERGE, "delete": Action.DELETE,
                 "role": Action.MANAGE_ACCOUNTS, "import": Action.IMPORT}
        seen = {names[x] for x in trail["action"] if x in names}
        assert seen == expected
        assert set(trail["actor"]) == {f"{role}-1"}


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


def test_the_public_never_receives_contact_or_an_exact_sensitive_point(
        store: Store, tmp_path: Path) -> None:
    ids = seeded(store)
    sens = ids["sensitive"]
    who = Access(store, acc.public("browser-9"), Settings(max_writes_per_minute=1000))
    protected = protected_calls(ids, tmp_path)
    calls: dict[str, Callable[[], Any]] = {
        "sensitive_codes": who.sensitive_codes,
        "concerns": who.concerns,
        "as_seen": lambda: who.as_seen(store.read(Layer.CONCERNS)),
        "concern": lambda: who.concern(sens),
        "history": lambda: who.history(sens),
        "contact": lambda: who.contact(sens),
        "audit_trail": who.audit_trail,
        "accounts": who.accounts,
        "export": lambda: [(tmp_path / f"p.{f}").read_bytes().decode("latin-1")
                           for f in ("geojson", "csv", "open311")
                           if who.export(Layer.CONCERNS, tmp_path / f"p.{f}", f) >= 0],
        "submit_report": lambda: who.submit_report(ReportDraft("graffiti", -94.5, 39.1, "x")),
        "support": lambda: who.support(sens, "me too"),
        "change_status": lambda: protected[Action.CHANGE_STATUS](who),
        "merge": lambda: protected[Action.MERGE](who),
        "delete_concern": lambda: protected[Action.DELETE](who),
        "save_services": lambda: protected[Action.EDIT_CATEGORIES](who),
        "add_instrument": lambda: protected[Action.EDIT_INSTRUMENT](who),
        "import_file": lambda: protected[Action.IMPORT](who),
        "commit_import": lambda: who.commit_import(None),
        "create_account": lambda: who.create_account("x1", "X", Role.ADMIN, "long enough pw"),
        "set_role": lambda: who.set_role("someone", Role.ADMIN),
        "set_disabled": lambda: who.set_disabled("someone", True),
    }
    public_api = {n for n, _ in inspect.getmembers(Access, inspect.isfunction)
                  if not n.startswith("_")}
    assert set(calls) == public_api, "every method of the domain API is called here"
    answered = 0
    for name, call in calls.items():
        try:
            out = call()
            answered += 1
        except PermissionDeniedError as exc:
            out = str(exc)
        assert not _leaks(out), f"{name} leaked {_leaks(out)}"
    assert answered >= 8  # reads and reports work for the public; the rest is refused
    assert acc.list_accounts(store).set_index("username").loc["someone", "role"] == "resident"


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
    assert len(info.value.problems) == 4


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
