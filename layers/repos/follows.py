"""The SQL for follows by e-mail (``follows``) and the secret that signs their links; no
rules (those are in :mod:`cpted.follows` and :class:`cpted.access.Access`).

The e-mail address in a follow is private like a reporter's contact: nothing here is
read by a public view, and :func:`end` forgets the address when a follow ends.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from layers import tables as wt


def insert_ignore(conn: Connection, table: sa.Table, values: Mapping[str, Any]) -> bool:
    """``INSERT ... ON CONFLICT DO NOTHING`` (SQLite and PostgreSQL); whether a row landed."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stmt: Any = pg_insert(table).values(**values).on_conflict_do_nothing()
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt = sqlite_insert(table).values(**values).on_conflict_do_nothing()
    # RETURNING tells whether a row landed on both (a row count need not, on PostgreSQL)
    return conn.execute(stmt.returning(*table.primary_key.columns)).first() is not None


# -- the signing secret and other stored settings ------------------------------------
def setting(conn: Connection, key: str) -> str | None:
    """A value of the store's settings table, read in ``conn``'s transaction."""
    t = wt.METADATA.tables["cpted_settings"]
    row = conn.execute(sa.select(t.c.value).where(t.c.key == key)).first()
    return None if row is None else str(row[0])


def stored_secret(conn: Connection, key: str, candidate: str) -> str:
    """The secret kept under ``key``; ``candidate`` is stored first when there is none.

    Two processes making one at once both read back the one that landed first.
    """
    insert_ignore(conn, wt.METADATA.tables["cpted_settings"], {"key": key, "value": candidate})
    value = setting(conn, key)
    assert value is not None
    return value


# -- follows -------------------------------------------------------------------------
def insert(conn: Connection, **values: Any) -> None:
    conn.execute(sa.insert(wt.follows).values(**values))


def get(conn: Connection, follow_id: str) -> dict[str, Any] | None:
    f = wt.follows
    row = conn.execute(sa.select(f).where(f.c.id == follow_id)).first()
    return None if row is None else dict(row._mapping)


def find_active(conn: Connection, *, email: str, kind: str, service_request_id: str | None,
                neighborhood_id: str | None, area_geojson: str | None, categories: str,
                frequency: str) -> dict[str, Any] | None:
    """A follow of this address that has not ended and follows exactly this."""
    f = wt.follows

    def same(col: sa.Column[Any], value: str | None) -> Any:
        return col.is_(None) if value is None else col == value

    row = conn.execute(sa.select(f).where(
        f.c.email == email, f.c.kind == kind, f.c.ended_at.is_(None),
        same(f.c.service_request_id, service_request_id),
        same(f.c.neighborhood_id, neighborhood_id), same(f.c.area_geojson, area_geojson),
        f.c.categories == categories, f.c.frequency == frequency,
    ).order_by(f.c.created_at)).first()
    return None if row is None else dict(row._mapping)


def set_language(conn: Connection, follow_id: str, language: str) -> None:
    """The language a follow's messages are written in from now on (a language code)."""
    f = wt.follows
    conn.execute(sa.update(f).where(f.c.id == follow_id).values(language=language))


def confirm(conn: Connection, follow_id: str, at: str) -> bool:
    """Mark a follow confirmed (once); whether it was still waiting for it."""
    f = wt.follows
    done = conn.execute(sa.update(f).where(f.c.id == follow_id, f.c.confirmed_at.is_(None),
                                           f.c.ended_at.is_(None)).values(confirmed_at=at))
    return bool(done.rowcount == 1)


def end(conn: Connection, follow_id: str, at: str) -> bool:
    """End a follow and forget its address, with its messages not yet sent and the
    address on those sent; whether it was still running."""
    f, o = wt.follows, wt.outbox
    done = conn.execute(sa.update(f).where(f.c.id == follow_id, f.c.ended_at.is_(None))
                        .values(ended_at=at, email=""))
    conn.execute(sa.delete(o).where(o.c.follow_id == follow_id, o.c.sent_at.is_(None)))
    conn.execute(sa.update(o).where(o.c.follow_id == follow_id).values(to_address=""))
    return bool(done.rowcount == 1)


def end_for_report(conn: Connection, request_id: str, at: str) -> int:
    """End every follow of a report (one that was deleted); how many were running."""
    f = wt.follows
    ids = list(conn.execute(sa.select(f.c.id).where(
        f.c.service_request_id == request_id, f.c.ended_at.is_(None))).scalars())
    for follow_id in ids:
        end(conn, str(follow_id), at)
    return len(ids)


def report_followers(conn: Connection, request_id: str) -> list[dict[str, Any]]:
    """The confirmed, running follows of one report, oldest first."""
    f = wt.follows
    q = sa.select(f).where(f.c.kind == "report", f.c.service_request_id == request_id,
                           f.c.confirmed_at.is_not(None), f.c.ended_at.is_(None))
    return [dict(r._mapping) for r in conn.execute(q.order_by(f.c.created_at, f.c.id))]


def area_follows(conn: Connection) -> list[dict[str, Any]]:
    """The confirmed, running follows of areas (neighborhoods and drawn areas)."""
    f = wt.follows
    q = sa.select(f).where(f.c.kind == "area", f.c.confirmed_at.is_not(None),
                           f.c.ended_at.is_(None))
    return [dict(r._mapping) for r in conn.execute(q.order_by(f.c.created_at, f.c.id))]


def set_last_digest(conn: Connection, follow_id: str, at: str) -> None:
    f = wt.follows
    conn.execute(sa.update(f).where(f.c.id == follow_id).values(last_digest_at=at))


def counts(conn: Connection) -> dict[str, int]:
    """Running follows by kind, and those waiting for confirmation (no addresses)."""
    f = wt.follows
    running = f.c.ended_at.is_(None)
    out = {str(k): int(n) for k, n in conn.execute(
        sa.select(f.c.kind, sa.func.count()).where(running, f.c.confirmed_at.is_not(None))
        .group_by(f.c.kind))}
    out["unconfirmed"] = int(conn.execute(sa.select(sa.func.count()).select_from(f).where(
        running, f.c.confirmed_at.is_(None))).scalar_one())
    return out
