"""Open311 API keys: what a client sends to file reports through the API.

A key reads ``KEY_ID.SECRET``: ``KEY_ID`` (``ak_`` and 12 hex digits) names it in lists
and in the change log; ``SECRET`` is 32 random bytes (``secrets.token_urlsafe``), shown
once when the key is made and never kept: the store holds only its SHA-256 digest
(a digest of 256 random bits needs no salt or slow hash; a password would). Checking a
key compares digests in constant time (:func:`hmac.compare_digest`), and an unknown
``KEY_ID`` is checked against a dummy digest, so the answer's time tells nothing.

A client holding a valid key acts as :func:`client_actor`: the public's view and
rights, its writes counted against the key (``Actor.key`` ``user:api:KEY_ID``) and
logged under ``api:KEY_ID``. Keys are made, listed and revoked through
:class:`cpted.access.Access` (administrators only); the SQL is in
:mod:`layers.repos.apikeys`.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pandas as pd

from cpted.accounts import Actor
from cpted.privacy import Role
from layers.clock import iso
from layers.errors import CptedError, UnusableInputError
from layers.repos import apikeys as repo
from layers.store import Store

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

KEY_PREFIX = "ak_"
MAX_NAME_CHARS = 100
_KEY_ID = re.compile(r"^ak_[0-9a-f]{12}$")
#: Compared against when no key has the id given, so a miss costs what a hit does.
_DUMMY_DIGEST = hashlib.sha256(b"no such key").hexdigest()


class ApiKeyError(CptedError):
    """No key, an unknown or wrong one, or a revoked one; the message is safe to show."""


@dataclass(frozen=True)
class NewKey:
    """A key just made: ``key`` is the whole key, shown this once and never again."""

    key_id: str
    name: str
    key: str


def digest(secret: str) -> str:
    """The SHA-256 digest of a key's secret, as stored (64 hex digits)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def insert_key(conn: Connection, name: str, *, created_by: str,
               now: datetime | None = None) -> NewKey:
    """Make a key for the client called ``name`` in the caller's transaction.

    Raises
    ------
    UnusableInputError
        No name, or a name longer than :data:`MAX_NAME_CHARS` characters.
    """
    name = (name or "").strip()
    if not name:
        raise UnusableInputError("give the API key a name: who or what uses it")
    if len(name) > MAX_NAME_CHARS:
        raise UnusableInputError(f"the key's name has {len(name)} characters; at most "
                                 f"{MAX_NAME_CHARS}")
    key_id = KEY_PREFIX + secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    repo.insert(conn, key_id=key_id, secret_hash=digest(secret), name=name,
                created_at=iso(now or datetime.now(UTC)), created_by=created_by)
    return NewKey(key_id, name, f"{key_id}.{secret}")


def revoke_key(conn: Connection, key_id: str, *, now: datetime | None = None) -> None:
    """Revoke a key in the caller's transaction; a client using it is refused at once.

    Raises
    ------
    UnusableInputError
        No such key, or it is revoked already.
    """
    row = repo.get(conn, key_id)
    if row is None:
        raise UnusableInputError(f"there is no API key {key_id!r}")
    if not repo.revoke(conn, key_id, iso(now or datetime.now(UTC))):
        raise UnusableInputError(f"the API key {key_id!r} was revoked already")


def list_keys(store: Store) -> pd.DataFrame:
    """Every key without its digest, oldest first: ``key_id``, ``name``, ``created_at``,
    ``created_by``, ``revoked_at`` (times UTC, ``revoked_at`` NaT while in use)."""
    with store.engine.connect() as conn:
        rows = repo.list_all(conn)
    out = pd.DataFrame(rows, columns=list(repo.LISTED))
    for col in ("created_at", "revoked_at"):
        out[col] = pd.to_datetime(out[col], utc=True, format="ISO8601")
    return out


def client_actor(key_id: str, name: str, address: str = "") -> Actor:
    """Who a client with the key ``key_id`` acts as: the public's role, under the key."""
    return Actor(f"api:{key_id}", name, Role.PUBLIC, address=address)


def authenticate(store: Store, presented: str | None, *, address: str = "") -> Actor:
    """The :func:`client_actor` of the key ``presented``.

    Parameters
    ----------
    store
        Where the keys are.
    presented
        The ``api_key`` a client sent (``KEY_ID.SECRET``).
    address
        The client's network address (see :func:`cpted.clients.client_address`).

    Raises
    ------
    ApiKeyError
        No key, a malformed, unknown or wrong one (one message for all three), or a
        revoked one (said only to someone who holds its secret).
    """
    key_id, _, secret = (presented or "").strip().partition(".")
    if not key_id:
        raise ApiKeyError("this needs an api_key; an administrator of this deployment "
                          "makes one with `cpted apikeys add NAME`")
    row = None
    if _KEY_ID.match(key_id):
        with store.engine.connect() as conn:
            row = repo.get(conn, key_id)
    stored = row.secret_hash if row is not None else _DUMMY_DIGEST
    ok = hmac.compare_digest(digest(secret), stored) and row is not None and bool(secret)
    if not ok or row is None:
        raise ApiKeyError("the api_key is not valid")
    if row.revoked_at is not None:
        raise ApiKeyError(f"the api_key {key_id} was revoked "
                          f"({row.revoked_at[:10]}); ask for a new one")
    return client_actor(row.key_id, row.name, address)
