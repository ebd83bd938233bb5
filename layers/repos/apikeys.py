"""The SQL for Open311 API keys (``api_keys``); no rules (those are in ``cpted.apikeys``).

A key is ``KEY_ID.SECRET``: only ``key_id`` and the SHA-256 digest of the secret are
kept, so the table (or a backup of it) never holds a usable key. Every function takes a
:class:`~sqlalchemy.engine.Connection` first and runs in the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from layers import tables as wt

#: The columns :func:`list_all` returns, in order (never the digest).
LISTED = ("key_id", "name", "created_at", "created_by", "revoked_at")


@dataclass(frozen=True)
class ApiKeyRow:
    """One stored key as kept: times are stored text (see :mod:`layers.clock`)."""

    key_id: str
    secret_hash: str
    name: str
    created_at: str
    created_by: str
    revoked_at: str | None


def insert(conn: Connection, *, key_id: str, secret_hash: str, name: str, created_at: str,
           created_by: str) -> None:
    conn.execute(sa.insert(wt.api_keys).values(
        key_id=key_id, secret_hash=secret_hash, name=name, created_at=created_at,
        created_by=created_by))


def get(conn: Connection, key_id: str) -> ApiKeyRow | None:
    """The key called ``key_id`` (exact match), or None."""
    k = wt.api_keys
    r = conn.execute(sa.select(k).where(k.c.key_id == key_id)).first()
    if r is None:
        return None
    return ApiKeyRow(r.key_id, r.secret_hash, r.name, r.created_at, r.created_by,
                     r.revoked_at)


def list_all(conn: Connection) -> list[dict[str, Any]]:
    """Every key without its digest, oldest first (columns :data:`LISTED`)."""
    k = wt.api_keys
    q = sa.select(*(k.c[c] for c in LISTED)).order_by(k.c.created_at, k.c.key_id)
    return [dict(r) for r in conn.execute(q).mappings()]


def revoke(conn: Connection, key_id: str, at: str) -> bool:
    """Mark the key revoked at ``at`` unless it already is; whether a row changed."""
    k = wt.api_keys
    done = conn.execute(sa.update(k).where(k.c.key_id == key_id, k.c.revoked_at.is_(None))
                        .values(revoked_at=at))
    return bool(done.rowcount)
