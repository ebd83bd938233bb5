"""The SQL for the change log (``audit_log``) and the write counts behind rate limits
(``request_log``); no rules (those are in :mod:`cpted.access`)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from layers import tables as wt

#: Columns of :func:`entries`, in order.
ENTRY_COLUMNS = ("at", "actor", "actor_role", "action", "target_kind", "target_id", "detail")


def add_entry(conn: Connection, *, at: str, actor: str, actor_role: str, action: str,
              target_kind: str, target_id: str, detail: str) -> None:
    """Append one change-log entry (``detail`` is JSON text)."""
    conn.execute(sa.insert(wt.audit_log).values(
        at=at, actor=actor, actor_role=actor_role, action=action, target_kind=target_kind,
        target_id=target_id, detail=detail))


def entries(conn: Connection, *, target_id: str | None = None, limit: int = 500
            ) -> list[dict[str, Any]]:
    """The newest ``limit`` entries, newest first (of ``target_id`` only, when given)."""
    a = wt.audit_log
    q = sa.select(*(a.c[c] for c in ENTRY_COLUMNS)).order_by(a.c.id.desc()).limit(limit)
    if target_id is not None:
        q = q.where(a.c.target_id == target_id)
    return [dict(r) for r in conn.execute(q).mappings()]


def writes_since(conn: Connection, key: str, since: str) -> list[str]:
    """When ``key`` wrote since ``since``, oldest first."""
    r = wt.request_log
    return [str(t) for t in conn.execute(
        sa.select(r.c.at).where(r.c.account == key, r.c.at >= since).order_by(r.c.at)
    ).scalars()]


def writes_since_prefix(conn: Connection, prefix: str, since: str) -> list[str]:
    """When any key starting with ``prefix`` wrote since ``since``, oldest first."""
    r = wt.request_log
    like = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return [str(t) for t in conn.execute(
        sa.select(r.c.at).where(r.c.account.like(like, escape="\\"), r.c.at >= since)
        .order_by(r.c.at)).scalars()]


def record_write(conn: Connection, key: str, at: str) -> None:
    conn.execute(sa.insert(wt.request_log).values(account=key, at=at))


def prune_writes(conn: Connection, before: str, *, prefix: str = "") -> None:
    """Forget writes older than ``before`` (of keys starting with ``prefix``)."""
    r = wt.request_log
    q = sa.delete(r).where(r.c.at < before)
    if prefix:
        like = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        q = q.where(r.c.account.like(like, escape="\\"))
    conn.execute(q)
