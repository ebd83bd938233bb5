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
from typing import TYPE_CHECKING, cast

import geopandas as gpd
import pandas as pd

from cpted.concerns import ReportError, Visibility, _event, _iso, _now
from layers.crs import metric_crs
from layers.errors import StoreError
from layers.repos import spots as repo
from layers.schema import Layer
from layers.store import Store

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection


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


class SpotStatus(StrEnum):
    """Where a problem spot stands, from its reports and the plans made for it."""

    NO_PLAN = "open, no plan under way"
    OVERDUE = "plan overdue"
    UNDER_WAY = "plan under way"
    CLOSED = "all reports closed"

#: Who may read a note: "public" notes reach public views, "internal" ones only staff.
VISIBILITIES = ("public", "internal")


def _ensure_exists(store: Store, conn: Connection, request_ids: Sequence[str]) -> None:
    """As :func:`cpted.concerns.ensure_exists`, read in ``conn``'s transaction."""
    missing = set(request_ids) - store.existing_ids(Layer.CONCERNS, request_ids, conn=conn)
    if missing:
        raise StoreError(f"no such concern(s): {', '.join(sorted(missing))}")


def _visibility(value: str) -> Visibility:
    if value not in VISIBILITIES:
        raise ReportError(f"a note's visibility is one of: {', '.join(VISIBILITIES)}; "
                          f"got {value!r}")
    return cast(Visibility, value)  # one of VISIBILITIES, checked above


def create_spot(store: Store, title: str, request_ids: Sequence[str], *, note: str = "",
                actor: str, now: datetime | None = None,
                conn: Connection | None = None) -> str:
    """A problem spot at the centre of ``request_ids``, linked to them.

    Each report gets a public "linked" event naming the spot and its title (the spot's
    ``note`` is not in it).

    Parameters
    ----------
    store
        The store.
    title
        What the spot is ("Hedges on 5th & Main").
    request_ids
        The reports it gathers, at least one.
    note
        A free-text note kept on the spot.
    actor
        Who made it, for the reports' history.
    now
        The time (timezone-aware); the current time by default.
    conn
        Run inside this transaction (the caller commits) instead of a new one.

    Returns
    -------
    str
        The new spot's id.

    Raises
    ------
    ReportError
        Without a title or reports, or when a report does not exist.
    """
    now = _now(now)
    title = title.strip()
    if not title:
        raise ReportError("a problem spot needs a title")
    if not request_ids:
        raise ReportError("a problem spot gathers at least one report")
    spot_id = f"PS-{uuid.uuid4().hex[:8]}"
    linked = list(dict.fromkeys(request_ids))
    with store.transaction(conn) as c:
        _ensure_exists(store, c, linked)
        pts = repo.report_points(c, linked)
        crs = metric_crs(pts)
        centre = gpd.GeoSeries([pts.to_crs(crs).union_all().centroid], crs=crs
                               ).to_crs(4326).iloc[0]
        repo.insert_spot(c, spot_id=spot_id, title=title, created_at=_iso(now),
                         lon=float(centre.x), lat=float(centre.y), note=note.strip() or None)
        repo.link_spot_reports(c, spot_id, linked)
        for rid in linked:
            _event(c, rid, "linked", now, actor=actor, visibility="public",
                   note=f"gathered into problem spot {spot_id}: {title}")
        store.bump(c)
    return spot_id


def create_plan(store: Store, title: str, *, owner_kind: OwnerKind | str | None,
                owner_name: str,
                due: date, actor: str, spot_id: str | None = None,
                request_ids: Sequence[str] = (), note: str = "",
                now: datetime | None = None, note_visibility: str = "internal",
                conn: Connection | None = None) -> str:
    """An action plan with an owner and a due date, linked to a spot and/or reports.

    Each linked report (given, or gathered by the spot) gets a public "linked" event
    naming the plan, its owner and due date; the plan's free-text ``note`` is kept on
    the plan only, with its ``note_visibility``.

    Parameters
    ----------
    store
        The store.
    title
        What will be done.
    owner_kind, owner_name
        Who will do it (see :class:`OwnerKind`). There is no default owner kind: None
        (not chosen yet) is refused, so a form never stores one the user did not pick.
    due
        When it is due.
    actor
        Who made the plan, for the reports' history.
    spot_id, request_ids
        What it is linked to: a problem spot and/or reports (at least one of them).
    note
        A free-text note kept on the plan.
    now
        The time (timezone-aware); the current time by default.
    note_visibility
        "public" when ``note`` may be shown to the public, else "internal".
    conn
        Run inside this transaction (the caller commits) instead of a new one.

    Returns
    -------
    str
        The new plan's id.

    Raises
    ------
    ReportError
        Listing every problem (title, owner, links, visibility); nothing is stored.
    """
    now = _now(now)
    problems = []
    if not title.strip():
        problems.append("an action plan needs a title saying what will be done")
    kinds = ", ".join(k.value for k in OwnerKind)
    kind = OwnerKind.OTHER
    if owner_kind is None or not str(owner_kind).strip():
        problems.append(f"choose the owner type ({kinds})")
    else:
        try:
            kind = OwnerKind(owner_kind)
        except ValueError:
            problems.append(f"owner kind {owner_kind!r} is not one of: {kinds}")
    if not owner_name.strip():
        problems.append("name the owner (a person, unit or department)")
    if spot_id is None and not request_ids:
        problems.append("link the plan to a problem spot or to at least one report")
    if note_visibility not in VISIBILITIES:
        problems.append(f"a note's visibility is one of: {', '.join(VISIBILITIES)}; "
                        f"got {note_visibility!r}")
    if problems:
        raise ReportError("the action plan was not saved", problems)
    plan_id = f"AP-{uuid.uuid4().hex[:8]}"
    with store.transaction(conn) as c:
        _ensure_exists(store, c, request_ids)
        if spot_id is not None and not repo.spot_exists(c, spot_id):
            raise ReportError(f"there is no problem spot {spot_id!r}")
        repo.insert_plan(c, {
            "id": plan_id, "spot_id": spot_id, "title": title.strip(),
            "owner_kind": kind.value, "owner_name": owner_name.strip(),
            "due_date": due.isoformat(), "status": PlanStatus.PLANNED.value,
            "created_at": _iso(now), "updated_at": _iso(now), "note": note.strip() or None,
            "note_visibility": note_visibility})
        linked = list(request_ids)
        if spot_id is not None:
            linked += repo.spot_report_ids(c, spot_id)
        linked = list(dict.fromkeys(linked))
        repo.link_plan_reports(c, plan_id, linked)
        for rid in linked:
            _event(c, rid, "linked", now, actor=actor, visibility="public",
                   note=f"action plan {plan_id}: {title.strip()} ({kind.value}: "
                        f"{owner_name.strip()}, due {due.isoformat()})")
        store.bump(c)
    return plan_id


def set_plan_status(store: Store, plan_id: str, status: PlanStatus | str, note: str, *,
                    actor: str, now: datetime | None = None, visibility: str = "internal",
                    conn: Connection | None = None) -> None:
    """Move an action plan to ``status``, with a note saying what happened.

    Each linked report gets a "plan" event with the new status and the note; it is
    public only when ``visibility`` is "public". The plan's own note (and its
    visibility, set by :func:`create_plan`) stays as it was.

    Parameters
    ----------
    store
        The store.
    plan_id
        The plan.
    status
        Its new status (see :class:`PlanStatus`).
    note
        What happened (required).
    actor
        Who changed it, for the reports' history.
    now
        The time (timezone-aware); the current time by default.
    visibility
        "public" when the note may be shown to the public, else "internal".
    conn
        Run inside this transaction (the caller commits) instead of a new one.

    Raises
    ------
    ReportError
        Without a note, with an unknown visibility, or when there is no such plan.
    ValueError
        When ``status`` is not a :class:`PlanStatus`.
    """
    now = _now(now)
    new = PlanStatus(status)
    if not note.strip():
        raise ReportError("say what happened with the plan")
    checked = _visibility(visibility)
    with store.transaction(conn) as c:
        row = repo.get_plan(c, plan_id)
        if row is None:
            raise ReportError(f"there is no action plan {plan_id!r}")
        repo.update_plan(c, plan_id, {"status": new.value, "updated_at": _iso(now)})
        for rid in repo.plan_report_ids(c, plan_id):
            _event(c, rid, "plan", now, actor=actor, visibility=checked,
                   note=f"action plan {plan_id} ({row['title']}) is now {new.value}: "
                        f"{note.strip()}")
        store.bump(c)


def plans(store: Store, *, today: date | None = None) -> pd.DataFrame:
    """Action plans with their report counts, ``overdue`` and ``days_overdue``."""
    today = today or datetime.now(UTC).date()
    with store.engine.connect() as conn:
        df = repo.plans_with_counts(conn)
    due = pd.to_datetime(df["due_date"]).dt.date
    late = (due < today) & ~df["status"].isin(FINISHED)
    df["overdue"] = late.astype(bool)
    df["days_overdue"] = [(today - d).days if o else 0 for d, o in zip(due, late, strict=True)]
    return df


def spots(store: Store) -> pd.DataFrame:
    """Problem spots with how many reports they gather and how many are open."""
    with store.engine.connect() as conn:
        df = repo.spot_rows(conn)
        links = repo.spot_links(conn)
    if df.empty:
        return df.assign(reports=pd.Series(dtype=int), open=pd.Series(dtype=int))
    concerns = store.read(Layer.CONCERNS, ids=links["service_request_id"].unique().tolist())
    status = dict(zip(concerns["service_request_id"], concerns["status"], strict=True))
    links["open"] = links["service_request_id"].map(status).eq("open")
    agg = links.groupby("spot_id").agg(reports=("service_request_id", "size"),
                                       open=("open", "sum"))
    return df.join(agg, on="id").fillna({"reports": 0, "open": 0})


def spot_links(store: Store) -> pd.DataFrame:
    """Every spot-report link: columns ``spot_id``, ``service_request_id``."""
    with store.engine.connect() as conn:
        return repo.spot_links(conn)


def spot_statuses(spots: pd.DataFrame, plans: pd.DataFrame) -> pd.Series:
    """The :class:`SpotStatus` of each spot, aligned on ``spots``' index.

    A spot whose reports are all closed is "all reports closed"; else a plan for it
    (``plans.spot_id``) past its due date makes it "plan overdue", an unfinished one
    "plan under way", and with neither it is "open, no plan under way".

    Parameters
    ----------
    spots : pandas.DataFrame
        :func:`spots` rows (``id``, ``open``).
    plans : pandas.DataFrame
        :func:`plans` rows (``spot_id``, ``status``, ``overdue``).

    Returns
    -------
    pandas.Series
        The statuses' values (str), named ``status``.
    """
    linked = plans[plans["spot_id"].notna()] if len(plans) else plans
    active = linked[~linked["status"].isin(FINISHED)] if len(linked) else linked
    late = set(active.loc[active["overdue"].astype(bool), "spot_id"]) if len(active) else set()
    going = set(active["spot_id"]) if len(active) else set()

    def one(spot_id: str, open_: int) -> str:
        if not open_:
            return SpotStatus.CLOSED.value
        if spot_id in late:
            return SpotStatus.OVERDUE.value
        if spot_id in going:
            return SpotStatus.UNDER_WAY.value
        return SpotStatus.NO_PLAN.value

    return pd.Series([one(str(i), int(o)) for i, o in zip(spots["id"], spots["open"],
                                                            strict=True)],
                     index=spots.index, name="status", dtype=object)


def spot_reports(store: Store, spot_id: str) -> list[str]:
    """The ``service_request_id`` of every report problem spot ``spot_id`` gathers."""
    with store.engine.connect() as conn:
        return repo.spot_report_ids(conn, spot_id)
