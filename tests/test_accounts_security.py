"""Accounts against strangers, on both backends: sign-in costs the same for unknown and
known names, wrong passwords slow down only the client that makes them, new passwords
follow NIST SP 800-63B, and the SQL lives in :mod:`layers.repos.accounts`."""

from __future__ import annotations

import fnmatch
import statistics
import time
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from cpted import accounts as acc
from cpted.accounts import Actor, SignInError, SignInThrottledError, Throttle
from cpted.cli import main
from cpted.privacy import Role
from layers.errors import UnusableInputError
from layers.repos import accounts as repo
from layers.store import Store

NOW = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)
RIGHT = "correct horse battery"
ROOT = Path(__file__).parents[1]


@pytest.fixture
def store(any_store: Store) -> Store:
    return any_store


def signin_rows(store: Store) -> pd.DataFrame:
    return pd.read_sql("SELECT account, at FROM request_log WHERE substr(account, 1, 6) = 'signin'",
                       store.engine)


# -- equal cost for unknown names ----------------------------------------------------

def _median_seconds(store: Store, username: str, password: str, rounds: int) -> float:
    took = []
    for _ in range(rounds):
        start = time.perf_counter()
        with pytest.raises(SignInError, match="wrong user name or password"):
            # many failures allowed: this measures the password check, not the throttle
            acc.authenticate(store, username, password, max_failures=10_000)
        took.append(time.perf_counter() - start)
    return statistics.median(took)


def test_unknown_names_take_as_long_as_known_ones(store: Store) -> None:
    acc.create_account(store, "dana", "Dana K", Role.COORDINATOR, RIGHT)
    acc.create_account(store, "sam", "Sam P", Role.OFFICER, None, email="sam@city.gov")
    rounds = 5
    _median_seconds(store, "nobody", "warm up", 1)  # the dummy hash is made on first use
    known = _median_seconds(store, "dana", "wrong password!", rounds)
    unknown = _median_seconds(store, "nobody-here", "wrong password!", rounds)
    no_password = _median_seconds(store, "sam", "wrong password!", rounds)
    # a loose band: a behaviour check, not a benchmark (today's code: ~0.01)
    assert unknown / known > 0.5, (f"unknown name {unknown * 1000:.1f} ms, "
                                   f"known {known * 1000:.1f} ms")
    assert no_password / known > 0.5, (f"account without a password {no_password * 1000:.1f} "
                                       f"ms, known {known * 1000:.1f} ms")


# -- throttling per (name, client) ---------------------------------------------------

def _fail_until(store: Store, username: str, client: str, n: int, start: datetime) -> datetime:
    """Make ``n`` wrong passwords from ``client``, each as soon as it is heard; returns
    the time of the last."""
    t = start
    made = 0
    while made < n:
        try:
            acc.authenticate(store, username, "not the password", client=client, now=t)
        except SignInThrottledError as exc:
            t = exc.retry_at
            continue
        except SignInError:
            made += 1
            last = t
            t += timedelta(milliseconds=10)
    return last


def test_a_stranger_cannot_lock_the_owner_out(store: Store) -> None:
    acc.create_account(store, "root", "Root", Role.ADMIN, RIGHT)
    last = _fail_until(store, "root", "client-a", 10, NOW)
    # the right password from another client signs in at once
    got = acc.authenticate(store, "root", RIGHT, client="client-b", now=last)
    assert got == Actor("root", "Root", Role.ADMIN)
    # client A is refused, even with the right password, and told when to retry
    with pytest.raises(SignInThrottledError,
                       match=r"try again in 3 minutes \(at 03:0\d:\d\d UTC\)") as info:
        acc.authenticate(store, "root", RIGHT, client="client-a", now=last)
    assert info.value.retry_at == last + timedelta(seconds=2 ** (10 - 3))
    with pytest.raises(SignInThrottledError):
        acc.authenticate(store, "root", RIGHT, client="client-a",
                         now=info.value.retry_at - timedelta(seconds=1))
    # refusals are not failures: after the wait, client A is heard again
    assert acc.authenticate(store, "root", RIGHT, client="client-a",
                            now=info.value.retry_at) == got


def test_the_first_wrong_passwords_are_free_then_the_wait_doubles(store: Store) -> None:
    acc.create_account(store, "dana", "Dana K", Role.COORDINATOR, RIGHT)
    for i in range(3):
        with pytest.raises(SignInError, match="wrong user name or password"):
            acc.authenticate(store, "dana", f"guess {i}", client="a", now=NOW)
    waits = []
    t = NOW
    for _ in range(3):
        with pytest.raises(SignInThrottledError) as info:
            acc.authenticate(store, "dana", "guess", client="a", now=t)
        waits.append((info.value.retry_at - t).total_seconds())
        t = info.value.retry_at
        with pytest.raises(SignInError, match="wrong user name or password"):
            acc.authenticate(store, "dana", "guess", client="a", now=t)
    assert waits == [1, 2, 4]


@pytest.mark.parametrize(("count", "seconds"), [(2, None), (3, 1), (4, 2), (12, 512),
                                                (13, 900), (500, 900)])
def test_the_client_wait_is_a_capped_power_of_two(count: int, seconds: int | None) -> None:
    got = acc.retry_at(repo.Failures(count, NOW), repo.Failures(count, NOW), max_failures=3)
    assert got == (None if seconds is None else NOW + timedelta(seconds=seconds))


def test_many_clients_are_slowed_down_never_locked_out(store: Store) -> None:
    acc.create_account(store, "root", "Root", Role.ADMIN, RIGHT)
    slow = Throttle(name_ceiling=6, name_spacing=timedelta(seconds=10))
    for i in range(6):  # a guesser using a fresh client each time
        with pytest.raises(SignInError, match="wrong user name or password"):
            acc.authenticate(store, "root", f"guess {i}", client=f"bot-{i}", throttle=slow,
                             now=NOW)
    with pytest.raises(SignInThrottledError, match="try again in 10 s") as info:
        acc.authenticate(store, "root", RIGHT, client="owner", throttle=slow, now=NOW)
    assert info.value.retry_at == NOW + timedelta(seconds=10)
    got = acc.authenticate(store, "root", RIGHT, client="owner", throttle=slow,
                           now=NOW + timedelta(seconds=10))
    assert got.username == "root"


def test_a_throttle_longer_than_the_request_log_keeps_is_refused() -> None:
    with pytest.raises(ValueError, match=r"window must be .* at most an hour, got 2:00:00"):
        Throttle(window=timedelta(hours=2))


def test_unknown_names_are_throttled_like_known_ones(store: Store) -> None:
    acc.create_account(store, "dana", "Dana K", Role.COORDINATOR, RIGHT)
    refusals = {}
    for name in ("dana", "nobody"):
        for _ in range(3):
            with pytest.raises(SignInError, match="wrong user name or password"):
                acc.authenticate(store, name, "guess", client="a", now=NOW)
        with pytest.raises(SignInThrottledError) as info:
            acc.authenticate(store, name, "guess", client="a", now=NOW)
        refusals[name] = (str(info.value).replace(repr(name), "NAME"), info.value.retry_at)
    assert refusals["dana"] == refusals["nobody"]


def test_old_failure_records_are_pruned_and_clients_not_stored(store: Store) -> None:
    acc.create_account(store, "dana", "Dana K", Role.COORDINATOR, RIGHT)
    for t in (NOW - timedelta(hours=3), NOW - timedelta(hours=2)):
        with pytest.raises(SignInError):
            acc.authenticate(store, "dana", "guess", client="203.0.113.7", now=t)
    with pytest.raises(SignInError):
        acc.authenticate(store, "dana", "guess", client="203.0.113.7", now=NOW)
    rows = signin_rows(store)
    assert len(rows) >= 1
    assert (pd.to_datetime(rows["at"]) >= NOW - acc.THROTTLE.window).all(), rows
    assert not rows["account"].str.contains("203.0.113.7", regex=False).any()


# -- the repository ------------------------------------------------------------------

def test_the_repository_round_trips_accounts_and_failures(store: Store) -> None:
    with store.transaction() as conn:
        repo.insert(conn, username="kim", display_name="Kim", role="admin",
                    password_hash=None, email="Kim@X.org", created_at=NOW)
        repo.insert(conn, username="lee", display_name="Lee", role="resident",
                    password_hash="$argon2id$x", email=None, created_at=NOW)
        assert repo.count_enabled(conn, "admin") == 1
        assert repo.set_role(conn, "lee", "planner", expected_version=1)
        assert not repo.set_role(conn, "lee", "officer", expected_version=1)
        assert repo.set_disabled(conn, "kim", True)
        assert not repo.set_disabled(conn, "nobody", True)
        assert repo.count_enabled(conn, "admin") == 0
        for client, minutes in (("a", 0), ("a", 5), ("b", 7)):
            repo.record_failure(conn, "lee", client, NOW + timedelta(minutes=minutes))
    with store.engine.connect() as conn:
        lee = repo.get(conn, "lee")
        assert lee == repo.AccountRow("lee", "Lee", None, "planner", "$argon2id$x",
                                      "2026-11-01T03:00:00.000Z", False, 2)
        assert repo.get(conn, "Lee") is None
        kim = repo.find_by_identity(conn, "kim@x.org")
        assert kim is not None and kim.username == "kim" and kim.disabled
        assert [r["username"] for r in repo.list_all(conn)] == ["kim", "lee"]
        assert "password_hash" not in repo.list_all(conn)[0]
        assert repo.failures_since(conn, "lee", NOW, client="a") == repo.Failures(
            2, NOW + timedelta(minutes=5))
        assert repo.failures_since(conn, "lee", NOW) == repo.Failures(
            3, NOW + timedelta(minutes=7))
        assert repo.failures_since(conn, "lee", NOW + timedelta(minutes=6)).count == 1
        assert repo.failures_since(conn, "kim", NOW) == repo.Failures(0, None)
    with store.transaction() as conn:
        assert repo.prune_failures(conn, NOW + timedelta(minutes=6)) == 4


def test_current_reads_the_account_afresh(store: Store) -> None:
    acc.create_account(store, "dana", "Dana K", Role.COORDINATOR, RIGHT)
    assert acc.current(store, "dana") == Actor("dana", "Dana K", Role.COORDINATOR)
    with store.transaction() as conn:
        repo.set_disabled(conn, "dana", True)
    assert acc.current(store, "dana") is None
    assert acc.current(store, "nobody") is None


def test_accounts_rules_hold_no_sql() -> None:
    source = (ROOT / "cpted" / "accounts.py").read_text()
    assert "sqlalchemy" not in source and "wt.accounts" not in source
    assert "sqlalchemy" not in (ROOT / "app_pages" / "_state.py").read_text()


# -- password policy -----------------------------------------------------------------

@pytest.mark.parametrize(("password", "expected"), [
    ("eleven char", ["at least 12 characters; it has 11"]),
    ("x" * 257, ["at most 256 characters; it has 257"]),
    ("qwerty123456", ["most common passwords"]),
    ("QWERTY123456", ["most common passwords"]),          # compared ignoring case
    ("letmein", ["at least 12 characters; it has 7", "most common passwords"]),
    ("correct horse 1", []),
    ("x" * 256, []),
    ("ünïcødé wörds ök", []),                            # any characters, spaces too
])
def test_new_passwords_follow_nist_800_63b(password: str, expected: list[str]) -> None:
    got = acc.password_problems(password)
    assert len(got) == len(expected), got
    for problem, words in zip(got, expected, strict=True):
        assert words in problem
        assert password not in problem  # the password is never echoed


def test_every_problem_with_a_new_account_is_reported_at_once(store: Store) -> None:
    with pytest.raises(UnusableInputError) as info:
        acc.create_account(store, "Bad Name", " ", "chief", "password")
    assert len(info.value.problems) == 5, info.value.problems
    assert acc.list_accounts(store).empty


def test_the_common_password_list_is_shipped_with_its_origin() -> None:
    words = acc.common_passwords()
    assert len(words) > 19_000
    assert {"password", "123456", "qwerty123456", "#1pimp"} <= words  # entries may start "#"
    assert not any(w.startswith("# ") for w in words)  # the header is not a password
    assert all(w == w.lower() for w in words)
    path = ROOT / "cpted" / "data" / acc.COMMON_PASSWORDS
    header = path.read_text(encoding="utf-8")[:1500]
    assert "Django" in header and "BSD-3-Clause" in header
    shipped = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"]["cpted.data"]
    assert any(fnmatch.fnmatch(acc.COMMON_PASSWORDS, p) for p in shipped)


# -- the command line ----------------------------------------------------------------

def test_cli_adds_and_lists_accounts_with_the_password_rules(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "cli.gpkg")
    monkeypatch.setenv("CPTED_NEW_PASSWORD", "short pw")
    assert main(["accounts", "add", "kim", "--name", "Kim", "--role", "admin", "--db", db]) == 1
    assert "at least 12 characters; it has 8" in capsys.readouterr().err
    monkeypatch.setenv("CPTED_NEW_PASSWORD", RIGHT)
    assert main(["accounts", "add", "kim", "--name", "Kim", "--role", "admin", "--db", db]) == 0
    assert "added kim (admin)" in capsys.readouterr().out
    assert main(["accounts", "list", "--db", db]) == 0
    listed = capsys.readouterr().out
    assert "kim" in listed and "admin" in listed and "argon2" not in listed
