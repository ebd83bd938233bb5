"""Accounts: who signs in, with which role.

Local accounts keep only an argon2id hash of the password (argon2-cffi's
defaults, which follow RFC 9106's recommended parameters). A deployment that
signs people in through OpenID Connect (Streamlit's ``st.login``) keeps a row
per e-mail address too, without a password, to hold that person's role; an
address with no row signs in as a resident.

A wrong user name and a wrong password get the same answer, so the sign-in
form does not tell which user names exist; repeated wrong passwords for one
user name are refused for a while (``max_failed_sign_ins`` in 15 minutes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pandas as pd
import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from cpted.privacy import Role
from layers import tables as wt
from layers.errors import CptedError, UnusableInputError
from layers.store import Store, now_iso

MIN_PASSWORD_CHARS = 10
SIGN_IN_WINDOW = timedelta(minutes=15)
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,63}$")
_HASHER = PasswordHasher()


class SignInError(CptedError):
    """Sign-in refused; the message is safe to show."""


@dataclass(frozen=True)
class Actor:
    """Who is acting: a signed-in account, or the public (``username`` None).

    ``client`` tells members of the public apart for rate limits (a browser session).
    """

    username: str | None
    name: str
    role: Role
    client: str = ""

    @property
    def key(self) -> str:
        """Whose quota a write counts against."""
        return f"user:{self.username}" if self.username else f"public:{self.client or '-'}"


def public(client: str = "") -> Actor:
    return Actor(None, "public", Role.PUBLIC, client)


def check_new_account(username: str, display_name: str, role: Role | str,
                      password: str | None) -> list[str]:
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
    if password is not None and len(password) < MIN_PASSWORD_CHARS:
        problems.append(f"the password needs at least {MIN_PASSWORD_CHARS} characters")
    return problems


def insert_account(conn: sa.Connection, username: str, display_name: str, role: Role | str,
                   password: str | None, email: str | None = None) -> None:
    """Add an account in the caller's transaction (see :func:`cpted.access.Access`)."""
    problems = check_new_account(username, display_name, role, password)
    taken = conn.execute(sa.select(wt.accounts.c.username)
                         .where(wt.accounts.c.username == username)).first()
    if taken:
        problems.append(f"the user name {username!r} is taken")
    if problems:
        raise UnusableInputError("the account was not created", problems)
    conn.execute(sa.insert(wt.accounts).values(
        username=username, display_name=display_name.strip(), email=email,
        role=Role(role).value, created_at=now_iso(),
        password_hash=_HASHER.hash(password) if password is not None else None))


def create_account(store: Store, username: str, display_name: str, role: Role | str,
                   password: str | None, *, email: str | None = None) -> None:
    """Add an account directly (the command line's ``cpted accounts add``, which runs
    with the database's own rights); the app goes through :class:`cpted.access.Access`."""
    with store.transaction() as conn:
        insert_account(conn, username, display_name, role, password, email)


def _failed_recently(conn: sa.Connection, username: str, now: datetime) -> int:
    r = wt.request_log
    since = (now - SIGN_IN_WINDOW).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return int(conn.execute(sa.select(sa.func.count()).select_from(r).where(
        r.c.account == f"signin:{username}", r.c.at >= since)).scalar_one())


def authenticate(store: Store, username: str, password: str, *, max_failures: int = 5,
                 now: datetime | None = None) -> Actor:
    """The account's :class:`Actor` if ``password`` is right.

    Raises
    ------
    SignInError
        Unknown user name, wrong password, disabled account, or too many wrong
        passwords for this user name lately; the message does not say which of
        the first two.
    """
    now = now or datetime.now(UTC)
    username = (username or "").strip().lower()
    a = wt.accounts
    with store.transaction() as conn:
        if _failed_recently(conn, username, now) >= max_failures:
            raise SignInError(
                f"too many wrong passwords for {username!r}; wait "
                f"{int(SIGN_IN_WINDOW.total_seconds() // 60)} minutes and try again")
        row = conn.execute(sa.select(a).where(a.c.username == username)).first()
        ok = False
        if row is not None and row.password_hash:
            try:
                ok = _HASHER.verify(row.password_hash, password or "")
            except (VerificationError, InvalidHashError):
                ok = False
        if not ok:
            conn.execute(sa.insert(wt.request_log).values(
                account=f"signin:{username}", at=now.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"))
    # the failure is recorded (committed) before we say so
    if not ok or row is None:
        raise SignInError("wrong user name or password")
    if row.disabled:
        raise SignInError("this account is disabled; ask an administrator")
    if _HASHER.check_needs_rehash(row.password_hash):
        with store.transaction() as conn:
            conn.execute(sa.update(a).where(a.c.username == username).values(
                password_hash=_HASHER.hash(password)))
    return Actor(row.username, row.display_name, Role(row.role))


def from_identity(store: Store, email: str | None, name: str | None) -> Actor:
    """The actor for someone signed in through OpenID Connect: the role of the account
    whose e-mail (or user name) is theirs, else a resident."""
    email = (email or "").strip().lower()
    if not email:
        raise SignInError("the identity provider sent no e-mail address")
    a = wt.accounts
    with store.engine.connect() as conn:
        row = conn.execute(sa.select(a).where(
            sa.or_(sa.func.lower(a.c.email) == email, a.c.username == email))).first()
    if row is None:
        return Actor(email, (name or email).strip(), Role.RESIDENT)
    if row.disabled:
        raise SignInError("this account is disabled; ask an administrator")
    return Actor(row.username, row.display_name, Role(row.role))


def list_accounts(store: Store) -> pd.DataFrame:
    """Every account without its password hash."""
    a = wt.accounts
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(a.c.username, a.c.display_name, a.c.email, a.c.role,
                                      a.c.disabled, a.c.created_at, a.c.version)
                            .order_by(a.c.username)).mappings().all()
    return pd.DataFrame([dict(r) for r in rows],
                        columns=["username", "display_name", "email", "role", "disabled",
                                 "created_at", "version"])
