"""SQL for the notes written on concerns' status changes (Open311 ``status_notes``)."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from layers import tables as wt

#: The event kinds whose note describes a concern's status.
STATUS_KINDS = ("status", "reopened")


def latest_status_notes(conn: Connection, *, public_only: bool,
                        request_ids: Sequence[str] | None = None) -> dict[str, str]:
    """Each concern's most recent status note, by ``service_request_id``.

    Parameters
    ----------
    conn
        An open connection.
    public_only
        Consider only events whose ``visibility`` is ``"public"``: a concern whose
        status notes are all internal is left out, and one with a later internal note
        shows its latest public one.
    request_ids
        Only these concerns (a page of them); every concern when None.

    Returns
    -------
    dict
        ``service_request_id`` to the note; a concern whose latest status change had
        no note is left out.
    """
    e = wt.concern_events
    latest = sa.select(e.c.service_request_id, sa.func.max(e.c.id).label("id")).where(
        e.c.kind.in_(STATUS_KINDS))
    if public_only:
        latest = latest.where(e.c.visibility == "public")
    if request_ids is not None:
        latest = latest.where(e.c.service_request_id.in_(list(request_ids)))
    sub = latest.group_by(e.c.service_request_id).subquery()
    q = sa.select(e.c.service_request_id, e.c.note).join(sub, sub.c.id == e.c.id)
    return {str(r[0]): str(r[1]) for r in conn.execute(q) if r[1] is not None}
