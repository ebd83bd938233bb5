"""SQL for the patrol visit log.

Plain functions of an open SQLAlchemy :class:`~sqlalchemy.engine.Connection`;
the caller owns the transaction. Validation lives in :mod:`cpted.patrol`.
"""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from layers import tables as wt
from layers.errors import StoreError

#: The columns :func:`list_rows` returns, in order.
COLUMNS = ("id", "officer", "place", "visited_at", "note", "lon", "lat")


def insert(conn: Connection, *, officer: str, place: str, lon: float, lat: float,
           visited_at: str, note: str | None, recorded_at: str) -> int:
    """Store one visit; return its id.

    Parameters
    ----------
    conn
        A connection in a transaction.
    officer, place, note
        Who visited what; ``note`` may be None.
    lon, lat
        Where, in WGS84 degrees (longitude first).
    visited_at
        When, as ISO 8601 text with its UTC offset.
    recorded_at
        When it was logged, as stored timestamp text.
    """
    res = conn.execute(sa.insert(wt.patrol_visits).values(
        officer=officer, place=place, lon=lon, lat=lat, visited_at=visited_at, note=note,
        recorded_at=recorded_at))
    key = res.inserted_primary_key
    if key is None:  # not expected: both backends report an autoincremented key
        raise StoreError("the database did not return the new visit's id")
    return int(key[0])


def list_rows(conn: Connection) -> pd.DataFrame:
    """Every visit, newest first, with the :data:`COLUMNS`; ``visited_at`` as UTC timestamps."""
    t = wt.patrol_visits
    q = sa.select(*(t.c[c] for c in COLUMNS)).order_by(t.c.visited_at.desc(), t.c.id.desc())
    frame = pd.DataFrame([dict(r._mapping) for r in conn.execute(q)], columns=list(COLUMNS))
    frame["visited_at"] = pd.to_datetime(frame["visited_at"], utc=True, format="ISO8601")
    return frame
