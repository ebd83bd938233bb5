"""The SQL for accounts and for failed sign-ins; no rules (those are in ``cpted.accounts``).

Every function takes a SQLAlchemy :class:`~sqlalchemy.engine.Connection` first and runs
in the caller's transaction. Roles are stored and returned as their text value.

Failed sign-ins are kept in ``request_log`` (no table of their own, so no migration),
two rows a failure: one keyed on the user name alone (``signin:NAME``, the key earlier
versions used) and one on the user name and the client (``signin@HASH:NAME``, where
``HASH`` is the first 16 hex digits of the client key's SHA-256, so a browser session
key or an address is never stored as such). A name typed at the sign-in form cannot
make one kind of key look like the other: name keys start ``signin:``, client keys
``signin@``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from layers import tables as wt
from layers.clock import iso

__all__ = [
    "AccountRow",
    "Connection",
    "Failures",
    "count_enabled",
    "failures_since",
    "find_by_identity",
    "get",
    "insert",
    "list_all",
    "prune_failures",
    "record_failure",
    "set_disabled",
    "set_password_hash",
    "set_role",
]

#: The columns :func:`list_all` returns, in order (never the password hash).
LISTED = ("username", "display_name", "email", "role", "disabled", "created_at", "version")


@dataclass(frozen=True)
class AccountRow:
    """One stored account, as kept (``role`` as its text value)."""

    username: str
    display_name: str
    email: str | None
    role: str
    password_hash: str | None
    created_at: str
    disabled: bool
    version: int


@dataclass(frozen=True)
class Failures:
    """Failed sign-ins counted over a window: how many, and when the latest was."""

    count: int
    latest: datetime | None


def _row(r: Any) -> AccountRow:
    return AccountRow(r.username, r.display_name, r.email, r.role, r.password_hash,
                      r.created_at, bool(r.disabled), int(r.version))


def get(conn: Connection, username: str) -> AccountRow | None:
    """The account called ``username`` (exact, case-sensitive match), or None."""
    a = wt.accounts
    r = conn.execute(sa.select(a).where(a.c.username == username)).first()
    return None if r is None else _row(r)


def find_by_identity(conn: Connection, email: str) -> AccountRow | None:
    """The account whose e-mail address (compared lower-cased) or user name is ``email``.

    ``email`` should already be lower-cased.
    """
    a = wt.accounts
    r = conn.execute(sa.select(a).where(
        sa.or_(sa.func.lower(a.c.email) == email, a.c.username == email))
        .order_by(a.c.username)).first()
    return None if r is None else _row(r)


def insert(conn: Connection, *, username: str, display_name: str, role: str,
           password_hash: str | None, email: str | None, created_at: datetime) -> None:
    """Add one account row (``created_at`` timezone-aware)."""
    conn.execute(sa.insert(wt.accounts).values(
        username=username, display_name=display_name, email=email, role=role,
        created_at=iso(created_at), password_hash=password_hash))


def list_all(conn: Connection) -> list[dict[str, Any]]:
    """Every account ordered by user name, as dicts of :data:`LISTED` (no password hash)."""
    a = wt.accounts
    rows = conn.execute(sa.select(*(a.c[name] for name in LISTED))
                        .order_by(a.c.username)).mappings().all()
    return [dict(r) for r in rows]


def set_password_hash(conn: Connection, username: str, password_hash: str) -> None:
    """Replace an account's password hash (a rehash with newer parameters)."""
    a = wt.accounts
    conn.execute(sa.update(a).where(a.c.username == username)
                 .values(password_hash=password_hash))


def set_role(conn: Connection, username: str, role: str, *, expected_version: int) -> bool:
    """Give an account a new role if its row is still at ``expected_version``.

    Returns
    -------
    bool
        True if the row was changed (its version is now ``expected_version + 1``); False
        if there is no such account or someone changed it since.
    """
    a = wt.accounts
    done = conn.execute(sa.update(a).where(a.c.username == username,
                                           a.c.version == expected_version)
                        .values(role=role, version=expected_version + 1)).rowcount
    return bool(done == 1)


def set_disabled(conn: Connection, username: str, disabled: bool) -> bool:
    """Disable or enable an account; False if there is no such account."""
    a = wt.accounts
    done = conn.execute(sa.update(a).where(a.c.username == username).values(
        disabled=int(disabled), version=a.c.version + 1)).rowcount
    return bool(done == 1)


def count_enabled(conn: Connection, role: str) -> int:
    """How many accounts hold ``role`` and are not disabled."""
    a = wt.accounts
    return int(conn.execute(sa.select(sa.func.count()).select_from(a).where(
        a.c.role == role, a.c.disabled == 0)).scalar_one())


# -- failed sign-ins ----------------------------------------------------------------

_NAME_PREFIX = "signin:"
_CLIENT_PREFIX = "signin@"


def _name_key(username: str) -> str:
    return f"{_NAME_PREFIX}{username}"


def _client_key(username: str, client: str) -> str:
    digest = hashlib.sha256(client.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return f"{_CLIENT_PREFIX}{digest}:{username}"


def record_failure(conn: Connection, username: str, client: str, at: datetime) -> None:
    """Record one wrong password (or unknown name) for ``username`` from ``client``."""
    r = wt.request_log
    stamp = iso(at)
    conn.execute(sa.insert(r), [{"account": _name_key(username), "at": stamp},
                                {"account": _client_key(username, client), "at": stamp}])


def failures_since(conn: Connection, username: str, since: datetime, *,
                   client: str | None = None) -> Failures:
    """Failed sign-ins for ``username`` at or after ``since``: from every client when
    ``client`` is None, else from that client only."""
    r = wt.request_log
    key = _name_key(username) if client is None else _client_key(username, client)
    count, latest = conn.execute(sa.select(sa.func.count(), sa.func.max(r.c.at)).where(
        r.c.account == key, r.c.at >= iso(since))).one()
    return Failures(int(count), None if latest is None else datetime.fromisoformat(latest))


def prune_failures(conn: Connection, before: datetime) -> int:
    """Delete failed sign-in records older than ``before``; returns how many."""
    r = wt.request_log
    old = sa.or_(r.c.account.startswith(_NAME_PREFIX, autoescape=True),
                 r.c.account.startswith(_CLIENT_PREFIX, autoescape=True))
    return int(conn.execute(sa.delete(r).where(old, r.c.at < iso(before))).rowcount)
