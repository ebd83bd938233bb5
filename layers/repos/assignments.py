"""The SQL for reports assigned to staff accounts (``concern_assignments``) and the
follows of staff who hear of what is assigned to them; no rules (those are in
:class:`cpted.access.Access`)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from layers import tables as wt


def get(conn: Connection, service_request_id: str) -> dict[str, Any] | None:
    """A report's assignment (``username``, ``assigned_at``, ``assigned_by``), or None."""
    t = wt.concern_assignments
    row = conn.execute(sa.select(t).where(t.c.service_request_id == service_request_id)
                       ).first()
    return None if row is None else dict(row._mapping)


def put(conn: Connection, service_request_id: str, *, username: str | None, at: str,
        by: str) -> None:
    """Assign a report to ``username``, replacing any assignment; None unassigns it."""
    t = wt.concern_assignments
    conn.execute(sa.delete(t).where(t.c.service_request_id == service_request_id))
    if username is not None:
        conn.execute(sa.insert(t).values(service_request_id=service_request_id,
                                         username=username, assigned_at=at, assigned_by=by))


def staff_accounts(conn: Connection, roles: list[str]) -> list[dict[str, Any]]:
    """Enabled accounts of ``roles``, by name: ``username`` and ``display_name`` only."""
    a = wt.accounts
    q = (sa.select(a.c.username, a.c.display_name)
         .where(a.c.role.in_(roles), a.c.disabled == 0)
         .order_by(a.c.display_name, a.c.username))
    return [dict(r) for r in conn.execute(q).mappings()]


def account_follow(conn: Connection, username: str) -> dict[str, Any] | None:
    """The running follow by which ``username`` hears of what is assigned to it."""
    f = wt.follows
    row = conn.execute(sa.select(f).where(f.c.kind == "assigned", f.c.account == username,
                                          f.c.ended_at.is_(None))
                       .order_by(f.c.created_at)).first()
    return None if row is None else dict(row._mapping)


def assignee_follow(conn: Connection, service_request_id: str) -> dict[str, Any] | None:
    """The follow of the account a report is assigned to, with that account's current
    ``email``, when it follows what is assigned to it, is enabled and has an address."""
    f, t, a = wt.follows, wt.concern_assignments, wt.accounts
    row = conn.execute(
        sa.select(f.c.id, f.c.account, f.c.language, a.c.email, a.c.role)
        .join(t, t.c.username == f.c.account).join(a, a.c.username == f.c.account)
        .where(t.c.service_request_id == service_request_id, f.c.kind == "assigned",
               f.c.ended_at.is_(None), a.c.disabled == 0, a.c.email.is_not(None),
               a.c.email != "")
        .order_by(f.c.created_at)).first()
    return None if row is None else dict(row._mapping)
