"""The SQL for the outbox: messages written with the change that causes them, then sent.

A row is written once (its ``dedupe_key`` is unique, and a second write of the same key
is a no-op), claimed by one sender at a time (:func:`claim` moves ``due_at`` past a lease
only if no one else moved it first), and marked sent after the mail server took it.
Times are stored text (:mod:`layers.clock`), which sorts as time does.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from layers import tables as wt
from layers.repos.follows import insert_ignore


@dataclass(frozen=True)
class OutboxRow:
    """One message waiting to go (or gone)."""

    id: int
    dedupe_key: str
    follow_id: str | None
    to_address: str
    subject: str
    body_text: str
    headers: dict[str, str]
    created_at: str
    due_at: str
    attempts: int
    last_error: str | None
    sent_at: str | None

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> OutboxRow:
        values = dict(row)
        values["headers"] = json.loads(values.get("headers") or "{}")
        return cls(**values)


def enqueue(conn: Connection, *, dedupe_key: str, follow_id: str | None, to_address: str,
            subject: str, body_text: str, headers: Mapping[str, str], created_at: str,
            due_at: str) -> bool:
    """Write one message in ``conn``'s transaction; False when ``dedupe_key`` is stored."""
    return insert_ignore(conn, wt.outbox, {
        "dedupe_key": dedupe_key, "follow_id": follow_id, "to_address": to_address,
        "subject": subject, "body_text": body_text,
        "headers": json.dumps(dict(headers), sort_keys=True), "created_at": created_at,
        "due_at": due_at})


def count_since(conn: Connection, to_address: str, key_prefix: str, since: str) -> int:
    """Messages to ``to_address`` whose key starts with ``key_prefix``, written since
    ``since`` (sent or not)."""
    o = wt.outbox
    like = key_prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return int(conn.execute(sa.select(sa.func.count()).select_from(o).where(
        o.c.to_address == to_address, o.c.dedupe_key.like(like, escape="\\"),
        o.c.created_at >= since)).scalar_one())


def due(conn: Connection, now: str, limit: int) -> list[OutboxRow]:
    """Unsent messages due by ``now``, the longest waiting first."""
    o = wt.outbox
    q = (sa.select(o).where(o.c.sent_at.is_(None), o.c.due_at <= now)
         .order_by(o.c.due_at, o.c.id).limit(limit))
    return [OutboxRow.from_row(r._mapping) for r in conn.execute(q)]


def claim(conn: Connection, row_id: int, seen_due_at: str, lease_until: str) -> bool:
    """Take a message to send: move its ``due_at`` to ``lease_until`` and count the
    attempt, only if it is unsent and still due when it was read. Of two senders that
    read the same row, one gets True."""
    o = wt.outbox
    done = conn.execute(sa.update(o).where(
        o.c.id == row_id, o.c.sent_at.is_(None), o.c.due_at == seen_due_at,
    ).values(due_at=lease_until, attempts=o.c.attempts + 1))
    return bool(done.rowcount == 1)


def mark_sent(conn: Connection, row_id: int, at: str) -> bool:
    o = wt.outbox
    done = conn.execute(sa.update(o).where(o.c.id == row_id, o.c.sent_at.is_(None))
                        .values(sent_at=at, last_error=None))
    return bool(done.rowcount == 1)


def mark_failed(conn: Connection, row_id: int, error: str, retry_at: str) -> None:
    o = wt.outbox
    conn.execute(sa.update(o).where(o.c.id == row_id, o.c.sent_at.is_(None))
                 .values(due_at=retry_at, last_error=error[:1000]))


def get(conn: Connection, row_id: int) -> OutboxRow | None:
    o = wt.outbox
    row = conn.execute(sa.select(o).where(o.c.id == row_id)).first()
    return None if row is None else OutboxRow.from_row(row._mapping)


def summary(conn: Connection) -> dict[str, int]:
    """How many messages were sent, wait, and wait after a failed attempt."""
    o = wt.outbox
    count = sa.select(sa.func.count()).select_from(o)
    return {
        "sent": int(conn.execute(count.where(o.c.sent_at.is_not(None))).scalar_one()),
        "waiting": int(conn.execute(count.where(o.c.sent_at.is_(None))).scalar_one()),
        "failing": int(conn.execute(count.where(o.c.sent_at.is_(None),
                                                o.c.last_error.is_not(None))).scalar_one()),
    }
