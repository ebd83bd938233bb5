"""The SQL for followers' answers to "Is it fixed?" (``fixed_answers``); no rules (those
are in :mod:`cpted.fixed` and :class:`cpted.access.Access`)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from layers import tables as wt


def get(conn: Connection, follow_id: str, report_version: int) -> dict[str, Any] | None:
    """The answer of one follow to one fix, or None."""
    a = wt.fixed_answers
    row = conn.execute(sa.select(a).where(a.c.follow_id == follow_id,
                                          a.c.report_version == report_version)).first()
    return None if row is None else dict(row._mapping)


def insert(conn: Connection, *, follow_id: str, service_request_id: str,
           report_version: int, answer: str, answered_at: str) -> None:
    conn.execute(sa.insert(wt.fixed_answers).values(
        follow_id=follow_id, service_request_id=service_request_id,
        report_version=report_version, answer=answer, answered_at=answered_at))


def change(conn: Connection, answer_id: int, *, was: str, answer: str, answered_at: str
           ) -> bool:
    """Change a stored answer from ``was`` to ``answer``; whether it still was ``was``
    (of two changes at once, one wins)."""
    a = wt.fixed_answers
    done = conn.execute(sa.update(a).where(a.c.id == answer_id, a.c.answer == was)
                        .values(answer=answer, answered_at=answered_at))
    return bool(done.rowcount == 1)


def counts(conn: Connection, service_request_id: str) -> dict[tuple[int, str], int]:
    """How many followers answered what, by ``(report version of the fix, answer)``."""
    a = wt.fixed_answers
    q = (sa.select(a.c.report_version, a.c.answer, sa.func.count())
         .where(a.c.service_request_id == service_request_id)
         .group_by(a.c.report_version, a.c.answer))
    return {(int(v), str(ans)): int(n) for v, ans, n in conn.execute(q)}
