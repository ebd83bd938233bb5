"""SQL for the perception survey's answers (``survey_responses``).

Plain functions of an open SQLAlchemy :class:`~sqlalchemy.engine.Connection`; the caller
owns the transaction. No rules: validation, the neighborhood of a point and who may see
what live in :mod:`cpted.access` and :mod:`cpted.progress`. No function here returns an
answer's point or its ``client``: the reads give what aggregates are made of, nothing
that places one person.
"""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from layers import tables as wt
from layers.errors import StoreError

#: The columns :func:`answers` returns, in order: no point and no client.
ANSWER_COLUMNS = ("at", "neighborhood_id", "safe_after_dark", "knows_contact")


def insert(conn: Connection, *, at: str, lon: float, lat: float, neighborhood_id: str,
           safe_after_dark: int, knows_contact: bool, client: str) -> int:
    """Store one answer; return its id.

    Parameters
    ----------
    conn
        A connection in a transaction.
    at
        When it was given, as stored timestamp text (UTC).
    lon, lat
        Where it was placed, in WGS84 degrees (longitude first).
    neighborhood_id
        The neighborhood holding the point.
    safe_after_dark
        1 (very unsafe) to 5 (very safe).
    knows_contact
        Whether the person knows whom to contact about a problem there.
    client
        Whose answer it is (an account's or a browser session's key), to keep one answer
        per person and neighborhood a day; never shown.
    """
    res = conn.execute(sa.insert(wt.survey_responses).values(
        at=at, lon=lon, lat=lat, neighborhood_id=neighborhood_id,
        safe_after_dark=int(safe_after_dark), knows_contact=int(bool(knows_contact)),
        client=client))
    key = res.inserted_primary_key
    if key is None:  # not expected: both backends report an autoincremented key
        raise StoreError("the database did not return the new answer's id")
    return int(key[0])


def answered_since(conn: Connection, *, client: str, neighborhood_id: str, since: str) -> bool:
    """Whether ``client`` answered for ``neighborhood_id`` at or after ``since`` (stored
    timestamp text)."""
    s = wt.survey_responses
    q = sa.select(s.c.id).where(s.c.client == client, s.c.neighborhood_id == neighborhood_id,
                                s.c.at >= since).limit(1)
    return conn.execute(q).first() is not None


def answers(conn: Connection) -> pd.DataFrame:
    """Every answer's :data:`ANSWER_COLUMNS`, oldest first; ``at`` as UTC timestamps and
    ``knows_contact`` as bool."""
    s = wt.survey_responses
    q = sa.select(*(s.c[c] for c in ANSWER_COLUMNS)).order_by(s.c.at, s.c.id)
    frame = pd.DataFrame([dict(r._mapping) for r in conn.execute(q)],
                         columns=list(ANSWER_COLUMNS))
    frame["at"] = pd.to_datetime(frame["at"], utc=True, format="ISO8601")
    frame["neighborhood_id"] = frame["neighborhood_id"].astype(object)
    frame["safe_after_dark"] = frame["safe_after_dark"].astype("int64")
    frame["knows_contact"] = frame["knows_contact"].astype(bool)
    return frame


def count(conn: Connection) -> int:
    """How many answers are stored."""
    s = wt.survey_responses
    return int(conn.execute(sa.select(sa.func.count()).select_from(s)).scalar_one())


def insert_many(conn: Connection, rows: list[dict[str, object]]) -> None:
    """Store many answers at once (the sample district's); each row has the columns of
    :func:`insert`."""
    if rows:
        conn.execute(sa.insert(wt.survey_responses), rows)
