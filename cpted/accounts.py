"""Accounts: who signs in, with which role.

Local accounts keep only an argon2id hash of the password (argon2-cffi's
defaults, which follow RFC 9106's recommended parameters). A deployment that
signs people in through OpenID Connect (Streamlit's ``st.login``) keeps a row
per e-mail address too, without a password, to hold that person's role; an
address with no row signs in as a resident.

What a stranger at the sign-in form can learn or do:

- **Which user names exist: nothing.** A wrong user name and a wrong password get
  the same answer, and take the same time: an unknown name, or an account without
  a password, is checked against a dummy hash made with the same parameters.
- **Lock someone out: no.** Wrong passwords are counted per user name *and client*
  (the caller's browser session): after ``max_failures`` from one client, that
  client waits 1 s, then 2 s, 4 s... (at most :data:`THROTTLE` ``.max_delay``) between
  attempts, while the right password from anywhere else still signs in at once.
  Past a generous ceiling of wrong passwords for one name from all clients
  together, every attempt for that name waits a few seconds after the last wrong
  one, which slows a guesser spread over many clients but never locks the name.
- **Guess a password: slowly, and not a common one.** New passwords follow NIST SP
  800-63B (section 3.1.1.2): at least :data:`MIN_PASSWORD_CHARS` characters, at most
  :data:`MAX_PASSWORD_CHARS`, any characters, and not on the list of common
  passwords shipped in ``cpted/data/common-passwords.txt`` (Django's list; its origin
  and licence are in the file's header).

The SQL is in :mod:`layers.repos.accounts`; this module holds the rules.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib import resources

import pandas as pd
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from cpted.privacy import Role
from layers.errors import CptedError, SettingsError, UnusableInputError
from layers.repos import accounts as repo
from layers.store import Store

MIN_PASSWORD_CHARS = 12
MAX_PASSWORD_CHARS = 256
COMMON_PASSWORDS = "common-passwords.txt"
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,63}$")
_HASHER = PasswordHasher()


@dataclass(frozen=True)
class Throttle:
    """How sign-in slows down wrong passwords.

    Attributes
    ----------
    window
        How far back wrong passwords are counted; older records are pruned. At most an
        hour, since :class:`cpted.access.Access` prunes the request log at an hour.
    max_delay
        The longest one client waits between attempts for one user name.
    name_ceiling
        Wrong passwords for one user name from all clients within ``window`` before
        every attempt for that name waits ``name_spacing`` after the latest wrong one.
    name_spacing
        That wait: short, so the right password still gets in soon.
    """

    window: timedelta = timedelta(hours=1)
    max_delay: timedelta = timedelta(minutes=15)
    name_ceiling: int = 50
    name_spacing: timedelta = timedelta(seconds=10)

    def __post_init__(self) -> None:
        problems = []
        if not timedelta(0) < self.window <= timedelta(hours=1):
            problems.append(f"window must be more than 0 and at most an hour, got {self.window}")
        for name in ("max_delay", "name_spacing"):
            if getattr(self, name) <= timedelta(0):
                problems.append(f"{name} must be positive, got {getattr(self, name)}")
        if self.name_ceiling < 1:
            problems.append(f"name_ceiling must be at least 1, got {self.name_ceiling!r}")
        if problems:
            raise SettingsError("invalid sign-in throttle: " + "; ".join(problems))


THROTTLE = Throttle()


class SignInError(CptedError):
    """Sign-in refused; the message is safe to show."""


class SignInThrottledError(SignInError):
    """Sign-in refused for now, without checking the password: too many wrong ones
    lately. ``retry_at`` (UTC) is when the next attempt will be heard."""

    def __init__(self, message: str, retry_at: datetime) -> None:
        super().__init__(message)
        self.retry_at = retry_at


@dataclass(frozen=True)
class Actor:
    """Who is acting: a signed-in account, or the public (``username`` None).

    ``client`` is a member of the public's browser session (what makes them the author
    of an audit they may then edit); ``address`` their network address as the app sees
    it (see ``trusted_proxies`` in :class:`layers.settings.Settings`), which their writes
    count against: a new browser session does not reset it.
    """

    username: str | None
    name: str
    role: Role
    client: str = ""
    address: str = ""
    #: The command line run by whoever holds the database's credentials: acts as an
    #: administrator, not rate-limited (its writes are still counted and logged).
    operator: bool = False

    @property
    def key(self) -> str:
        """Whose quota a write counts against: the account, else the address, else the
        session."""
        if self.username:
            return f"user:{self.username}"
        if self.address:
            return f"public:ip:{self.address}"
        return f"public:s:{self.client or '-'}"

    @property
    def author_key(self) -> str:
        """What marks a record as this actor's own: the account, else the session."""
        return f"user:{self.username}" if self.username else f"session:{self.client or '-'}"


def operator() -> Actor:
    """The command line's actor (see :attr:`Actor.operator`)."""
    return Actor("cli", "command line", Role.ADMIN, operator=True)


def public(client: str = "", address: str = "") -> Actor:
    """A member of the public: ``client`` their browser session, ``address`` their
    network address."""
    return Actor(None, "public", Role.PUBLIC, client, address)


# -- new accounts --------------------------------------------------------------------

@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords, lower-cased (``cpted/data``; see its header)."""
    text = (resources.files("cpted") / "data" / COMMON_PASSWORDS).read_text(encoding="utf-8")
    lines = text.splitlines()
    start = 0
    while start < len(lines) and lines[start].startswith("# "):
        start += 1
    return frozenset(line for line in lines[start:] if line)


def password_problems(password: str) -> list[str]:
    """Why ``password`` may not be a new account's password (empty if it may).

    The rules of NIST SP 800-63B section 3.1.1.2: length in characters between
    :data:`MIN_PASSWORD_CHARS` and :data:`MAX_PASSWORD_CHARS`, and not a common
    password (compared case-insensitively). The password itself is never echoed.
    """
    problems = []
    n = len(password)
    if n < MIN_PASSWORD_CHARS:
        problems.append(f"the password needs at least {MIN_PASSWORD_CHARS} characters; "
                        f"it has {n}")
    if n > MAX_PASSWORD_CHARS:
        problems.append(f"the password may have at most {MAX_PASSWORD_CHARS} characters; "
                        f"it has {n}")
    if password.lower() in common_passwords():
        problems.append("the password is one of the most common passwords, which are "
                        "guessed first; choose another (a few unrelated words make a good one)")
    return problems


def check_new_account(username: str, display_name: str, role: Role | str,
                      password: str | None) -> list[str]:
    """Every reason the account may not be created, all at once (empty if it may).

    ``password`` None means an account without a password (signing in through the
    identity provider); otherwise see :func:`password_problems`.
    """
    problems = []
    if not _USERNAME.match(username or ""):
        problems.append(f"user name {username!r}: 2-64 lower-case letters, digits, '.', '_', "
                        "'-' or '@', starting with a letter or digit")
    if not (display_name or "").strip():
        problems.append("give the person's name as others should see it")
    try:
        if Role(role) is Role.PUBLIC:
            problems.append("the public role is for people who are not signed in")
    except ValueError:
        problems.append(f"unknown role {role!r}; expected one of: "
                        + ", ".join(r.value for r in Role if r is not Role.PUBLIC))
    if password is not None:
        problems.extend(password_problems(password))
    return problems


def insert_account(conn: repo.Connection, username: str, display_name: str,
                   role: Role | str, password: str | None, email: str | None = None) -> None:
    """Add an account in the caller's transaction (see :class:`cpted.access.Access`).

    Raises
    ------
    UnusableInputError
        With every problem of :func:`check_new_account`, and a taken user name.
    """
    problems = check_new_account(username, display_name, role, password)
    if repo.get(conn, username) is not None:
        problems.append(f"the user name {username!r} is taken")
    if problems:
        raise UnusableInputError("the account was not created", problems)
    repo.insert(conn, username=username, display_name=display_name.strip(),
                role=Role(role).value, email=email, created_at=datetime.now(UTC),
                password_hash=_HASHER.hash(password) if password is not None else None)


def create_account(store: Store, username: str, display_name: str, role: Role | str,
                   password: str | None, *, email: str | None = None) -> None:
    """Add an account directly (the command line's ``cpted accounts add``, which runs
    with the database's own rights); the app goes through :class:`cpted.access.Access`.

    Raises
    ------
    UnusableInputError
        As :func:`insert_account`.
    """
    with store.transaction() as conn:
        insert_account(conn, username, display_name, role, password, email)


# -- signing in ----------------------------------------------------------------------

@cache
def _dummy_hash() -> str:
    """A hash of a random secret with the hasher's own parameters, checked when there is
    no real hash, so an unknown name costs what a known one does."""
    return _HASHER.hash(secrets.token_urlsafe(24))


def retry_at(client_failures: repo.Failures, name_failures: repo.Failures, *,
             max_failures: int, throttle: Throttle = THROTTLE) -> datetime | None:
    """When the next attempt may be made, or None if it may be made now or never waited.

    The client waits ``2 ** (n - max_failures)`` seconds (at most ``throttle.max_delay``)
    after its latest wrong password once it has made ``n >= max_failures``; past
    ``throttle.name_ceiling`` wrong passwords for the name from everyone, every client
    waits ``throttle.name_spacing`` after the latest one. The later of the two applies.
    """
    times = []
    n = client_failures.count
    if n >= max_failures and client_failures.latest is not None:
        seconds = min(2.0 ** min(n - max_failures, 40), throttle.max_delay.total_seconds())
        times.append(client_failures.latest + timedelta(seconds=seconds))
    if name_failures.count >= throttle.name_ceiling and name_failures.latest is not None:
        times.append(name_failures.latest + throttle.name_spacing)
    return max(times) if times else None


def _wait_text(until: datetime, now: datetime) -> str:
    seconds = max(1, int((until - now).total_seconds() + 0.999))
    span = f"{seconds} s" if seconds < 120 else f"{(seconds + 59) // 60} minutes"
    return f"try again in {span} (at {until.astimezone(UTC):%H:%M:%S} UTC)"


def authenticate(store: Store, username: str, password: str, *, client: str = "",
                 max_failures: int = 3, throttle: Throttle = THROTTLE,
                 now: datetime | None = None) -> Actor:
    """The account's :class:`Actor` if ``password`` is right.

    Parameters
    ----------
    store
        Where the accounts are.
    username, password
        As typed; the user name is trimmed and lower-cased.
    client
        Who is asking, for the throttle: the browser session's key (the app) or any
        stable key for the caller. Wrong passwords from one client slow down only that
        client (see :func:`retry_at`).
    max_failures
        Wrong passwords one client may make for one user name within
        ``throttle.window`` before each further attempt waits.
    throttle
        The waits and the per-name ceiling (:class:`Throttle`).
    now
        The time of the attempt (timezone-aware); the current time if None.

    Raises
    ------
    SignInThrottledError
        Too many wrong passwords lately from this client (or for this name from
        everyone); the password was not checked. The message says when to retry.
    SignInError
        Unknown user name or wrong password (the message does not say which), or a
        disabled account (said only to someone who gave its right password).
    """
    now = now or datetime.now(UTC)
    username = (username or "").strip().lower()
    password = password or ""
    since = now - throttle.window
    with store.transaction() as conn:
        until = retry_at(repo.failures_since(conn, username, since, client=client),
                         repo.failures_since(conn, username, since),
                         max_failures=max_failures, throttle=throttle)
        if until is not None and until > now:
            raise SignInThrottledError(
                f"too many wrong passwords for {username!r} lately; {_wait_text(until, now)}",
                until)
        row = repo.get(conn, username)
        stored = row.password_hash if row is not None and row.password_hash else None
        try:
            ok = _HASHER.verify(stored or _dummy_hash(), password) and stored is not None
        except (VerificationError, InvalidHashError):
            ok = False
        if not ok:
            repo.prune_failures(conn, since)
            repo.record_failure(conn, username, client, now)
    # the failure is recorded (committed) before we say so
    if not ok or row is None or stored is None:
        raise SignInError("wrong user name or password")
    if row.disabled:
        raise SignInError("this account is disabled; ask an administrator")
    if _HASHER.check_needs_rehash(stored):
        with store.transaction() as conn:
            repo.set_password_hash(conn, username, _HASHER.hash(password))
    return Actor(row.username, row.display_name, Role(row.role))


def current(store: Store, username: str) -> Actor | None:
    """The actor for a user name signed in earlier, read afresh (so a role change or a
    disabled account takes effect at once); None if it no longer exists or is disabled."""
    with store.engine.connect() as conn:
        row = repo.get(conn, username)
    if row is None or row.disabled:
        return None
    return Actor(row.username, row.display_name, Role(row.role))


def from_identity(store: Store, email: str | None, name: str | None) -> Actor:
    """The actor for someone signed in through OpenID Connect: the role of the account
    whose e-mail (or user name) is theirs, else a resident.

    Raises
    ------
    SignInError
        No e-mail address, or the matching account is disabled.
    """
    email = (email or "").strip().lower()
    if not email:
        raise SignInError("the identity provider sent no e-mail address")
    with store.engine.connect() as conn:
        row = repo.find_by_identity(conn, email)
    if row is None:
        return Actor(email, (name or email).strip(), Role.RESIDENT)
    if row.disabled:
        raise SignInError("this account is disabled; ask an administrator")
    return Actor(row.username, row.display_name, Role(row.role))


def list_accounts(store: Store) -> pd.DataFrame:
    """Every account without its password hash, ordered by user name (columns
    username, display_name, email, role, disabled, created_at, version)."""
    with store.engine.connect() as conn:
        rows = repo.list_all(conn)
    return pd.DataFrame(rows, columns=list(repo.LISTED))
