"""The SQL for concern reports' workflow: categories, contact, photos and events.

Plain functions of a SQLAlchemy :class:`~sqlalchemy.engine.Connection`, run in the
caller's transaction; no rules (those are in :mod:`cpted.concerns`) and no privacy
(that is decided in :class:`cpted.access.Access`). The concern rows themselves are a
feature layer, written through :meth:`layers.store.Store.add`.

Times are stored text (see :mod:`layers.clock`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from layers import tables as wt
from layers.schema import Layer
from layers.tables import TABLES

Visibility = Literal["public", "internal"]
#: Columns of :func:`history`, in order.
HISTORY_COLUMNS = ("at", "kind", "actor", "from_status", "to_status", "note", "visibility")


@dataclass(frozen=True)
class ConcernState:
    """What a status change needs to know of a report."""

    status: str
    detailed_status: str
    version: int
    service_code: str


# -- categories --------------------------------------------------------------
def service_rows(conn: Connection) -> list[dict[str, Any]]:
    """Every stored category, by name."""
    q = sa.select(wt.services).order_by(wt.services.c.service_name)
    return [dict(r._mapping) for r in conn.execute(q)]


def replace_services(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Write each category row, replacing one stored under the same code."""
    s = wt.services
    for row in rows:
        conn.execute(sa.delete(s).where(s.c.service_code == row["service_code"]))
        conn.execute(sa.insert(s).values(**row))


# -- one report ----------------------------------------------------------------
def state(conn: Connection, request_id: str) -> ConcernState | None:
    """A report's status, detailed status, row version and category; None if absent."""
    t = TABLES[Layer.CONCERNS]
    row = conn.execute(sa.select(t.c.status, t.c.detailed_status, t.c.version,
                                 t.c.service_code)
                       .where(t.c.service_request_id == request_id)).first()
    if row is None:
        return None
    return ConcernState(str(row.status), str(row.detailed_status or ""), int(row.version),
                        str(row.service_code))


def set_status(conn: Connection, request_id: str, *, status: str, detailed_status: str,
               updated: str, seen_version: int) -> bool:
    """Update the status if the row still holds ``seen_version``; whether it did."""
    t = TABLES[Layer.CONCERNS]
    done = conn.execute(sa.update(t).where(t.c.service_request_id == request_id,
                                           t.c.version == seen_version).values(
        status=status, detailed_status=detailed_status, updated_datetime=updated,
        version=seen_version + 1)).rowcount
    return bool(done == 1)


def insert_contact(conn: Connection, request_id: str, *, name: str | None,
                   email: str | None, phone: str | None) -> None:
    conn.execute(sa.insert(wt.concern_contacts).values(
        service_request_id=request_id, name=name, email=email, phone=phone))


def contact(conn: Connection, request_id: str) -> dict[str, str | None] | None:
    """The reporter's private contact (name, email, phone); None when anonymous."""
    c = wt.concern_contacts
    row = conn.execute(sa.select(c.c.name, c.c.email, c.c.phone)
                       .where(c.c.service_request_id == request_id)).first()
    return None if row is None else dict(row._mapping)


def insert_photo(conn: Connection, request_id: str, *, media_type: str, width: int,
                 height: int, data: bytes) -> None:
    conn.execute(sa.insert(wt.concern_photos).values(
        service_request_id=request_id, media_type=media_type, width=width, height=height,
        data=data))


def photos(conn: Connection, request_id: str) -> list[tuple[str, bytes]]:
    """``(media type, bytes)`` of each photo, in the order stored."""
    p = wt.concern_photos
    return [(str(r.media_type), bytes(r.data)) for r in conn.execute(
        sa.select(p.c.media_type, p.c.data).where(p.c.service_request_id == request_id)
        .order_by(p.c.id))]


def delete(conn: Connection, request_id: str) -> None:
    """Remove a report with its contact, photos, events, links to spots and plans, its
    followers' answers and its assignment."""
    for table in (wt.concern_contacts, wt.concern_photos, wt.concern_events,
                  wt.spot_reports, wt.plan_reports, wt.fixed_answers,
                  wt.concern_assignments):
        conn.execute(sa.delete(table).where(table.c.service_request_id == request_id))
    t = TABLES[Layer.CONCERNS]
    conn.execute(sa.delete(t).where(t.c.service_request_id == request_id))


# -- events --------------------------------------------------------------------
def insert_event(conn: Connection, request_id: str, kind: str, at: str, *,
                 actor: str | None, note: str | None = None, from_status: str | None = None,
                 to_status: str | None = None, visibility: Visibility = "internal") -> None:
    conn.execute(sa.insert(wt.concern_events).values(
        service_request_id=request_id, at=at, kind=kind, actor=actor, note=note,
        from_status=from_status, to_status=to_status, visibility=visibility))


def history(conn: Connection, request_id: str) -> list[dict[str, Any]]:
    """Every event of a report, oldest first, as :data:`HISTORY_COLUMNS`."""
    e = wt.concern_events
    q = (sa.select(*(e.c[c] for c in HISTORY_COLUMNS))
         .where(e.c.service_request_id == request_id).order_by(e.c.at, e.c.id))
    return [dict(r) for r in conn.execute(q).mappings()]


def count_events(conn: Connection, request_id: str, kind: str) -> int:
    e = wt.concern_events
    return int(conn.execute(sa.select(sa.func.count()).select_from(e).where(
        e.c.service_request_id == request_id, e.c.kind == kind)).scalar_one())


def support_counts(conn: Connection, request_ids: Iterable[str] | None = None
                   ) -> dict[str, int]:
    """Support ("me too") events per report, for ``request_ids`` or every report."""
    e = wt.concern_events
    q = sa.select(e.c.service_request_id, sa.func.count()).where(e.c.kind == "support")
    if request_ids is not None:
        q = q.where(e.c.service_request_id.in_(list(request_ids)))
    return {str(r[0]): int(r[1]) for r in conn.execute(q.group_by(e.c.service_request_id))}


def ids_with_event(conn: Connection, kind: str) -> set[str]:
    """Reports that have at least one event of ``kind`` (e.g. ``"reopened"``)."""
    e = wt.concern_events
    return {str(r[0]) for r in conn.execute(
        sa.select(e.c.service_request_id).where(e.c.kind == kind).distinct())}



#: Event kinds that tell people following an area about a report (no "me too"s).
NEWS_KINDS = ("created", "status", "reopened")
#: Columns of :func:`events_since`, in order.
NEWS_COLUMNS = ("id", "service_request_id", "at", "kind", "from_status", "to_status", "note",
                "visibility")


def events_since(conn: Connection, since: str, *, until: str | None = None,
                 kinds: Sequence[str] = NEWS_KINDS, limit: int = 5000) -> list[dict[str, Any]]:
    """Events of ``kinds`` after ``since`` (and at or before ``until``), oldest first,
    as :data:`NEWS_COLUMNS`; at most ``limit``, the newest kept."""
    e = wt.concern_events
    q = sa.select(*(e.c[c] for c in NEWS_COLUMNS)).where(e.c.kind.in_(list(kinds)),
                                                         e.c.at > since)
    if until is not None:
        q = q.where(e.c.at <= until)
    rows = [dict(r) for r in conn.execute(q.order_by(e.c.at.desc(), e.c.id.desc())
                                          .limit(limit)).mappings()]
    return rows[::-1]

def event_times(conn: Connection, kind: str) -> list[tuple[str, str]]:
    """``(service_request_id, at)`` of every event of ``kind`` (e.g. ``"reopened"``),
    oldest first; ``at`` as stored timestamp text."""
    e = wt.concern_events
    return [(str(r[0]), str(r[1])) for r in conn.execute(
        sa.select(e.c.service_request_id, e.c.at).where(e.c.kind == kind)
        .order_by(e.c.at, e.c.id))]
