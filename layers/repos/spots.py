"""SQL for problem spots, action plans and the reports linked to them.

Plain functions of an open SQLAlchemy :class:`~sqlalchemy.engine.Connection`;
the caller owns the transaction. No rules: statuses, validation and overdue
reckoning live in :mod:`cpted.spots`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import geopandas as gpd
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from layers import tables as wt
from layers.crs import WGS84
from layers.schema import Layer
from layers.store import decode_geoms
from layers.tables import TABLES

# -- the reports' places ---------------------------------------------------------

def report_points(conn: Connection, request_ids: Sequence[str]) -> gpd.GeoSeries:
    """Where these concerns are: their geometries (EPSG:4326), in insertion order; ids not
    stored are left out."""
    t = TABLES[Layer.CONCERNS]
    rows = conn.execute(sa.select(t.c.geom).where(
        t.c.service_request_id.in_(list(request_ids))).order_by(t.c.fid)).fetchall()
    return gpd.GeoSeries(decode_geoms(conn.dialect.name, [r[0] for r in rows]), crs=WGS84)


# -- problem spots ---------------------------------------------------------------


def insert_spot(conn: Connection, *, spot_id: str, title: str, created_at: str, lon: float,
                lat: float, note: str | None) -> None:
    """Store a problem spot at ``(lon, lat)`` (WGS84 degrees, longitude first).

    Parameters
    ----------
    conn
        A connection in a transaction.
    spot_id, title, note
        The spot; ``note`` may be None.
    created_at
        Stored timestamp text.
    lon, lat
        Its centre.
    """
    conn.execute(sa.insert(wt.problem_spots).values(
        id=spot_id, title=title, created_at=created_at, lon=lon, lat=lat, note=note))


def spot_exists(conn: Connection, spot_id: str) -> bool:
    """Whether problem spot ``spot_id`` is stored."""
    s = wt.problem_spots
    return conn.execute(sa.select(s.c.id).where(s.c.id == spot_id)).first() is not None


def link_spot_reports(conn: Connection, spot_id: str, request_ids: Iterable[str]) -> None:
    """Link reports (by ``service_request_id``) to a problem spot; each id once."""
    for rid in request_ids:
        conn.execute(sa.insert(wt.spot_reports).values(spot_id=spot_id,
                                                       service_request_id=rid))


def spot_report_ids(conn: Connection, spot_id: str) -> list[str]:
    """The ``service_request_id`` of every report a spot gathers (empty when none)."""
    sr = wt.spot_reports
    return [str(r[0]) for r in conn.execute(
        sa.select(sr.c.service_request_id).where(sr.c.spot_id == spot_id))]


def spot_rows(conn: Connection) -> pd.DataFrame:
    """Every problem spot, one row each, with the columns of ``problem_spots``."""
    s = wt.problem_spots
    return pd.DataFrame([dict(r) for r in conn.execute(sa.select(s)).mappings()],
                        columns=list(s.c.keys()))


def spot_links(conn: Connection) -> pd.DataFrame:
    """Every spot-report link: columns ``spot_id``, ``service_request_id``."""
    sr = wt.spot_reports
    return pd.DataFrame([dict(r) for r in conn.execute(sa.select(sr)).mappings()],
                        columns=list(sr.c.keys()))


# -- action plans ----------------------------------------------------------------

def insert_plan(conn: Connection, values: Mapping[str, Any]) -> None:
    """Store an action plan.

    Parameters
    ----------
    conn
        A connection in a transaction.
    values
        Column values of ``action_plans`` (``id``, ``title``, ``owner_kind``,
        ``owner_name``, ``due_date``, ``status``, ``created_at``, ``updated_at``,
        ``spot_id``, ``note``, ``note_visibility``).
    """
    conn.execute(sa.insert(wt.action_plans).values(**values))


def link_plan_reports(conn: Connection, plan_id: str, request_ids: Iterable[str]) -> None:
    """Link reports (by ``service_request_id``) to an action plan; each id once."""
    for rid in request_ids:
        conn.execute(sa.insert(wt.plan_reports).values(plan_id=plan_id,
                                                       service_request_id=rid))


def plan_links(conn: Connection) -> pd.DataFrame:
    """Every plan-report link, by plan then report id: columns ``plan_id``,
    ``service_request_id``."""
    pr = wt.plan_reports
    q = sa.select(pr).order_by(pr.c.plan_id, pr.c.service_request_id)
    return pd.DataFrame([dict(r) for r in conn.execute(q).mappings()],
                        columns=list(pr.c.keys()))


def plan_report_ids(conn: Connection, plan_id: str) -> list[str]:
    """The ``service_request_id`` of every report linked to a plan."""
    pr = wt.plan_reports
    return [str(r[0]) for r in conn.execute(
        sa.select(pr.c.service_request_id).where(pr.c.plan_id == plan_id))]


def get_plan(conn: Connection, plan_id: str) -> dict[str, Any] | None:
    """One action plan's stored row (every column of ``action_plans``), or None."""
    p = wt.action_plans
    row = conn.execute(sa.select(p).where(p.c.id == plan_id)).first()
    return None if row is None else dict(row._mapping)


def update_plan(conn: Connection, plan_id: str, values: Mapping[str, Any]) -> int:
    """Overwrite columns of an action plan; return the rows changed (1, or 0 if absent)."""
    p = wt.action_plans
    return int(conn.execute(sa.update(p).where(p.c.id == plan_id).values(**values)).rowcount)


def plans_with_counts(conn: Connection) -> pd.DataFrame:
    """Every action plan, earliest due first, with ``reports``: how many are linked.

    Returns
    -------
    pandas.DataFrame
        The columns of ``action_plans`` and ``reports`` (int).
    """
    p, pr = wt.action_plans, wt.plan_reports
    q = (sa.select(p, sa.func.count(pr.c.service_request_id).label("reports"))
         .select_from(p.outerjoin(pr, pr.c.plan_id == p.c.id)).group_by(p.c.id)
         .order_by(p.c.due_date))
    return pd.DataFrame([dict(r) for r in conn.execute(q).mappings()],
                        columns=[*p.c.keys(), "reports"])
