"""Persistent problem spots and action plans.

A problem spot gathers repeated reports about one place. An action plan is
one intervention ("ask the city to trim the hedges on 5th & Main") with an
owner and a due date, linked to a spot and/or to reports; past its due date
and not done, it is overdue.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime
from enum import StrEnum

import geopandas as gpd
import pandas as pd
import sqlalchemy as sa

from cpted.concerns import ReportError, _event, _iso, _now, ensure_exists
from layers import tables as wt
from layers.crs import metric_crs
from layers.schema import Layer
from layers.store import Store


class OwnerKind(StrEnum):
    RESIDENT = "resident"
    ASSOCIATION = "block association"
    POLICE = "police"
    CITY = "city department"
    OTHER = "other"


class PlanStatus(StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in progress"
    DONE = "done"
    DROPPED = "dropped"


FINISHED = {PlanStatus.DONE.value, PlanStatus.DROPPED.value}


def create_spot(store: Store, title: str, request_ids: Sequence[str], *, note: str = "",
                actor: str, now: datetime | None = None) -> str:
    """A problem spot at the centre of ``request_ids`` (at least one), linked to them."""
    now = _now(now)
    title = title.strip()
    if not title:
        raise ReportError("a problem spot needs a title")
    if not request_ids:
        raise ReportError("a problem spot gathers at least one report")
    ensure_exists(store, request_ids)
    pts = store.read(Layer.CONCERNS, ids=list(request_ids)).geometry
    crs = metric_crs(pts)
    centre = gpd.GeoSeries([pts.to_crs(crs).union_all().centroid], crs=crs).to_crs(4326).iloc[0]
    spot_id = f"PS-{uuid.uuid4().hex[:8]}"
    with store.transaction() as conn:
        conn.execute(sa.insert(wt.problem_spots).values(
            id=spot_id, title=title, created_at=_iso(now), lon=centre.x, lat=centre.y,
            note=note.strip() or None))
        for rid in dict.fromkeys(request_ids):
            conn.execute(sa.insert(wt.spot_reports).values(spot_id=spot_id,
                                                           service_request_id=rid))
            _event(conn, rid, "linked", now, actor=actor, note=f"gathered into problem spot "
                                                               f"{spot_id}: {title}")
        store.bump(conn)
    return spot_id


def create_plan(store: Store, title: str, *, owner_kind: OwnerKind | str, owner_name: str,
                due: date, actor: str, spot_id: str | None = None,
                request_ids: Sequence[str] = (), note: str = "",
                now: datetime | None = None) -> str:
    """An action plan with an owner and a due date, linked to a spot and/or reports."""
    now = _now(now)
    problems = []
    if not title.strip():
        problems.append("an action plan needs a title saying what will be done")
    try:
        kind = OwnerKind(owner_kind)
    except ValueError:
        problems.append(f"owner kind {owner_kind!r} is not one of: "
                        f"{', '.join(k.value for k in OwnerKind)}")
        kind = OwnerKind.OTHER
    if not owner_name.strip():
        problems.append("name the owner (a person, unit or department)")
    if spot_id is None and not request_ids:
        problems.append("link the plan to a problem spot or to at least one report")
    if problems:
        raise ReportError("the action plan was not saved", problems)
    if request_ids:
        ensure_exists(store, request_ids)
    plan_id = f"AP-{uuid.uuid4().hex[:8]}"
    with store.transaction() as conn:
        if spot_id is not None and conn.execute(
                sa.select(wt.problem_spots.c.id).where(wt.problem_spots.c.id == spot_id)
        ).first() is None:
            raise ReportError(f"there is no problem spot {spot_id!r}")
        conn.execute(sa.insert(wt.action_plans).values(
            id=plan_id, spot_id=spot_id, title=title.strip(), owner_kind=kind.value,
            owner_name=owner_name.strip(), due_date=due.isoformat(),
            status=PlanStatus.PLANNED.value, created_at=_iso(now), updated_at=_iso(now),
            note=note.strip() or None))
        linked = list(request_ids)
        if spot_id is not None:
            linked += [r[0] for r in conn.execute(
                sa.select(wt.spot_reports.c.service_request_id)
                .where(wt.spot_reports.c.spot_id == spot_id))]
        for rid in dict.fromkeys(linked):
            conn.execute(sa.insert(wt.plan_reports).values(plan_id=plan_id,
                                                           service_request_id=rid))
            _event(conn, rid, "linked", now, actor=actor,
                   note=f"action plan {plan_id}: {title.strip()} ({kind.value}: "
                        f"{owner_name.strip()}, due {due.isoformat()})")
        store.bump(conn)
    return plan_id


def set_plan_status(store: Store, plan_id: str, status: PlanStatus | str, note: str, *,
                    actor: str, now: datetime | None = None) -> None:
    now = _now(now)
    new = PlanStatus(status)
    if not note.strip():
        raise ReportError("say what happened with the plan")
    p = wt.action_plans
    with store.transaction() as conn:
        row = conn.execute(sa.select(p.c.status, p.c.title).where(p.c.id == plan_id)).first()
        if row is None:
            raise ReportError(f"there is no action plan {plan_id!r}")
        conn.execute(sa.update(p).where(p.c.id == plan_id).values(
            status=new.value, updated_at=_iso(now)))
        for (rid,) in conn.execute(sa.select(wt.plan_reports.c.service_request_id)
                                   .where(wt.plan_reports.c.plan_id == plan_id)):
            _event(conn, rid, "plan", now, actor=actor,
                   note=f"action plan {plan_id} ({row.title}) is now {new.value}: "
                        f"{note.strip()}")
        store.bump(conn)


def plans(store: Store, *, today: date | None = None) -> pd.DataFrame:
    """Action plans with their report counts, ``overdue`` and ``days_overdue``."""
    today = today or datetime.now(UTC).date()
    p, pr = wt.action_plans, wt.plan_reports
    q = (sa.select(p, sa.func.count(pr.c.service_request_id).label("reports"))
         .select_from(p.outerjoin(pr, pr.c.plan_id == p.c.id)).group_by(p.c.id)
         .order_by(p.c.due_date))
    with store.engine.connect() as conn:
        df = pd.DataFrame([dict(r) for r in conn.execute(q).mappings()],
                          columns=[*p.c.keys(), "reports"])
    due = pd.to_datetime(df["due_date"]).dt.date
    late = (due < today) & ~df["status"].isin(FINISHED)
    df["overdue"] = late.astype(bool)
    df["days_overdue"] = [(today - d).days if o else 0 for d, o in zip(due, late, strict=True)]
    return df


def spots(store: Store) -> pd.DataFrame:
    """Problem spots with how many reports they gather and how many are open."""
    s, sr = wt.problem_spots, wt.spot_reports
    with store.engine.connect() as conn:
        df = pd.DataFrame([dict(r) for r in conn.execute(sa.select(s)).mappings()],
                          columns=list(s.c.keys()))
        links = pd.DataFrame([dict(r) for r in conn.execute(sa.select(sr)).mappings()],
                             columns=list(sr.c.keys()))
    if df.empty:
        return df.assign(reports=pd.Series(dtype=int), open=pd.Series(dtype=int))
    concerns = store.read(Layer.CONCERNS, ids=links["service_request_id"].unique().tolist())
    status = dict(zip(concerns["service_request_id"], concerns["status"], strict=True))
    links["open"] = links["service_request_id"].map(status).eq("open")
    agg = links.groupby("spot_id").agg(reports=("service_request_id", "size"),
                                       open=("open", "sum"))
    return df.join(agg, on="id").fillna({"reports": 0, "open": 0})


def spot_reports(store: Store, spot_id: str) -> list[str]:
    sr = wt.spot_reports
    with store.engine.connect() as conn:
        return [r[0] for r in conn.execute(sa.select(sr.c.service_request_id)
                                           .where(sr.c.spot_id == spot_id))]
