"""Concern reports that close the loop: submit, find duplicates, support, change status.

Every status change carries a note from whoever made it, kept in
``concern_events`` with the report's creation, support ("me too") and links
to problem spots and action plans, so the whole history can be shown.
Each operation is one transaction.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely import Point

from cpted.photos import clean_photo
from layers.crs import WGS84, ProjectArea, metric_crs
from layers.errors import ConflictError, StoreError, UnusableInputError
from layers.repos import concerns as repo
from layers.schema import OPEN311_STATUS, ConcernStatus, DetailedStatus, Layer, TimeOfDay
from layers.services import Service, answer_problems
from layers.store import Store, format_datetimes

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

Visibility = Literal["public", "internal"]

MAX_DESCRIPTION_CHARS = 4000
MAX_NOTE_CHARS = 2000
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class ReportError(UnusableInputError):
    """A report or a status change was refused; ``problems`` lists every reason.

    ``fields`` says which part of the form each problem is about, for a form to show it
    next to that field: ``"service_code"``, ``"location"``, ``"description"``,
    ``"contact_email"``, ``"observed_at"``, ``"photo"``, or a question's attribute code.
    Problems about no one field are in ``problems`` only.
    """

    def __init__(self, message: str, problems: Sequence[str] = (), *,
                 fields: Mapping[str, Sequence[str]] | None = None) -> None:
        super().__init__(message, problems)
        self.fields: dict[str, list[str]] = {k: list(v) for k, v in (fields or {}).items()}


@dataclass(frozen=True)
class ReportDraft:
    """What a resident fills in. Coordinates are WGS84 degrees; ``source`` says how the
    report came (``"web"`` the Report page, ``"open311"`` the API)."""

    service_code: str
    lon: float
    lat: float
    description: str = ""
    time_of_day: TimeOfDay = TimeOfDay.UNKNOWN
    observed_at: datetime | None = None
    address: str | None = None
    answers: dict[str, Any] = field(default_factory=dict)
    photo: bytes | None = None
    contact_name: str | None = None
    contact_email: str | None = None
    contact_phone: str | None = None
    source: str = "web"


def _now(now: datetime | None) -> datetime:
    out = now or datetime.now(UTC)
    if out.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    return out.astimezone(UTC)


def _iso(t: datetime) -> str:
    return format_datetimes(pd.Series([t]))[0] or ""


def services(store: Store, conn: Connection | None = None) -> dict[str, Service]:
    """The store's service list, by code (read in ``conn``'s transaction when given)."""
    if conn is not None:
        return {r["service_code"]: Service.from_row(r) for r in repo.service_rows(conn)}
    with store.engine.connect() as c:
        return {r["service_code"]: Service.from_row(r) for r in repo.service_rows(c)}


def save_services(store: Store, items: Sequence[Service], *, keep_local: bool = True,
                  conn: Connection | None = None) -> int:
    """Add or replace services by code; return how many were written.

    With ``keep_local`` (the default, for lists from an Open311 ``services.json``, which
    has no such fields), a service that replaces one already stored keeps the stored
    sensitivity, duplicate radius and window, target days, and questions when the new
    one brings none: re-importing a city's list must never make a sensitive category public.
    """
    from dataclasses import replace

    current = services(store, conn)
    if keep_local:
        items = [replace(s, sensitive=old.sensitive,
                         duplicate_radius_m=old.duplicate_radius_m,
                         duplicate_window_days=old.duplicate_window_days,
                         target_days=old.target_days,
                         attributes=s.attributes or old.attributes)
                 if (old := current.get(s.service_code)) is not None else s for s in items]
    with store.transaction(conn) as conn:
        repo.replace_services(conn, [s.to_row() for s in items])
        store.bump(conn)
    return len(items)


def _event(conn: Connection, request_id: str, kind: str, at: datetime, *,
           actor: str | None, note: str | None = None, from_status: str | None = None,
           to_status: str | None = None, visibility: Visibility = "internal") -> None:
    repo.insert_event(conn, request_id, kind, _iso(at), actor=actor, note=note,
                      from_status=from_status, to_status=to_status, visibility=visibility)


def submit_report(store: Store, draft: ReportDraft, *, now: datetime | None = None,
                  actor: str = "resident", conn: Connection | None = None,
                  area: ProjectArea | None = None) -> str:
    """Validate and store a new report; return its ``service_request_id``.

    The contact details, if any, go to a private table; the photo, if any,
    is stored with its metadata stripped. With ``area`` (the project area, see
    :func:`layers.importer.project_area`), a place outside it is refused as an import's
    row would be.

    Raises
    ------
    ReportError
        Listing every problem (unknown category, missing answers, bad
        coordinates or a place outside ``area``, text too long, an unreadable
        photo...); nothing is stored.
    """
    now = _now(now)
    # (field, problem): the field a form shows the problem next to, "" for none
    found: list[tuple[str, str]] = []
    catalogue = services(store)
    service = catalogue.get(draft.service_code)
    if service is None:
        found.append(("service_code", f"unknown category {draft.service_code!r}; expected one "
                                      f"of: {', '.join(sorted(catalogue))}"))
    else:
        found += [(code, p) for code, ps in answer_problems(service, draft.answers).items()
                  for p in ps]
    if not (np.isfinite(draft.lon) and np.isfinite(draft.lat)
            and -180 <= draft.lon <= 180 and -90 <= draft.lat <= 90):
        found.append(("location", f"the location ({draft.lat}, {draft.lon}) is not a valid "
                                  "latitude and longitude"))
    elif area is not None:
        km = float(area.distance_outside_km(
            gpd.GeoSeries([Point(draft.lon, draft.lat)], crs=WGS84))[0])
        if km > 0:
            found.append(("location", f"the location ({draft.lat:.5f}, {draft.lon:.5f}) is "
                                      f"{km:,.1f} km outside the project area "
                                      f"({area.describe()})"))
    if len(draft.description) > MAX_DESCRIPTION_CHARS:
        found.append(("description", f"the description has {len(draft.description):,} "
                                     f"characters; at most {MAX_DESCRIPTION_CHARS:,}"))
    if draft.contact_email and not _EMAIL.match(draft.contact_email.strip()):
        found.append(("contact_email",
                      f"{draft.contact_email!r} does not look like an e-mail address"))
    if draft.observed_at is not None and draft.observed_at.tzinfo is None:
        found.append(("observed_at", "the time observed must carry a time zone"))
    elif draft.observed_at is not None and draft.observed_at > now + timedelta(minutes=5):
        found.append(("observed_at", "the time observed is in the future"))
    photo = None
    if draft.photo:
        try:
            photo = clean_photo(draft.photo)
        except UnusableInputError as exc:
            found.append(("photo", str(exc)))
    if found:
        fields: dict[str, list[str]] = {}
        for where, problem in found:
            if where:
                fields.setdefault(where, []).append(problem)
        raise ReportError("the report was not saved", [p for _, p in found], fields=fields)
    assert service is not None
    request_id = f"CR-{now:%Y%m%d}-{uuid.uuid4().hex[:8]}"
    answers = dict(draft.answers)
    if draft.observed_at is not None:
        answers["observed_at"] = _iso(draft.observed_at)
    row = gpd.GeoDataFrame({
        "service_request_id": [request_id], "service_code": [service.service_code],
        "service_name": [service.service_name], "description": [draft.description.strip()],
        "address": [draft.address], "requested_datetime": [pd.Timestamp(now)],
        "updated_datetime": [pd.Timestamp(now)], "status": [ConcernStatus.OPEN.value],
        "detailed_status": [DetailedStatus.SUBMITTED.value],
        "time_of_day": [TimeOfDay(draft.time_of_day).value], "source": [draft.source],
        "attributes": [json.dumps(answers, sort_keys=True) if answers else None],
    }, geometry=[Point(draft.lon, draft.lat)], crs=WGS84)
    with store.transaction(conn) as conn:
        store.add(Layer.CONCERNS, row, conn=conn)
        contact = {k: (v or "").strip() or None for k, v in (
            ("name", draft.contact_name), ("email", draft.contact_email),
            ("phone", draft.contact_phone))}
        if any(contact.values()):
            repo.insert_contact(conn, request_id, **contact)
        if photo is not None:
            repo.insert_photo(conn, request_id, media_type=photo.media_type,
                              width=photo.width, height=photo.height, data=photo.data)
        _event(conn, request_id, "created", now, actor=actor,
               to_status=DetailedStatus.SUBMITTED.value)
    return request_id


def find_duplicates(store: Store, service_code: str, lon: float, lat: float, *,
                    now: datetime | None = None) -> gpd.GeoDataFrame:
    """Open reports of the same category within its duplicate radius and time window.

    Sorted nearest first, with ``distance_m`` and ``support`` (number of "me too"s).
    """
    now = _now(now)
    service = services(store).get(service_code)
    if service is None:
        return gpd.GeoDataFrame(geometry=[], crs=WGS84)
    since = now - timedelta(days=service.duplicate_window_days)
    cands = store.read(Layer.CONCERNS, where={"service_code": [service_code], "status": ["open"]},
                       time=("requested_datetime", since, None))
    if cands.empty:
        return cands.assign(distance_m=pd.Series(dtype=float), support=pd.Series(dtype=int))
    here = gpd.GeoSeries([Point(lon, lat)], crs=WGS84)
    crs = metric_crs(here)
    dist = cands.geometry.to_crs(crs).distance(here.to_crs(crs).iloc[0])
    near = cands.assign(distance_m=dist.to_numpy())
    near = near[near["distance_m"] <= service.duplicate_radius_m].sort_values("distance_m")
    counts = support_counts(store, near["service_request_id"].tolist())
    return near.assign(support=near["service_request_id"].map(counts).fillna(0).astype(int))


def state(conn: Connection, request_id: str) -> dict[str, Any]:
    """A report's ``status``, ``detailed_status``, ``version`` and ``service_code``, read in
    ``conn``'s transaction. Raises :class:`ReportError` when there is no such report."""
    return _require(conn, request_id)


def _require(conn: Connection, request_id: str) -> dict[str, Any]:
    row = repo.state(conn, request_id)
    if row is None:
        raise ReportError(f"there is no concern {request_id!r}")
    return {"status": row.status, "detailed_status": row.detailed_status,
            "version": row.version, "service_code": row.service_code}


def add_support(store: Store, request_id: str, *, note: str | None = None,
                actor: str = "resident", now: datetime | None = None,
                visibility: Visibility = "internal", conn: Connection | None = None) -> int:
    """Record a "me too" on an existing report; return its support count.

    ``note`` is the supporter's own comment, kept with ``visibility``; it is never the
    supporter's draft description copied over.
    """
    now = _now(now)
    if note and len(note) > MAX_NOTE_CHARS:
        raise ReportError(f"the note has {len(note):,} characters; at most {MAX_NOTE_CHARS:,}")
    with store.transaction(conn) as conn:
        _require(conn, request_id)
        _event(conn, request_id, "support", now, actor=actor, note=(note or "").strip() or None,
               visibility=visibility)
        store.bump(conn)
        return repo.support_counts(conn, [request_id]).get(request_id, 0)


def version(store: Store, request_id: str) -> int:
    """The report's row version: a status change names the version it was made from."""
    with store.engine.connect() as conn:
        return int(_require(conn, request_id)["version"])


def change_status(store: Store, request_id: str, new_status: DetailedStatus | str, note: str,
                  *, actor: str, now: datetime | None = None,
                  expected_version: int | None = None,
                  visibility: Visibility = "internal",
                  conn: Connection | None = None) -> int:
    """Move a report to ``new_status`` with the reason ``note`` (required); return the
    report's new version.

    Moving a closed report to an open status is recorded as a reopening. The row is
    updated only if it still holds the version read (``expected_version`` when given,
    the one read in this transaction otherwise), so of two people changing the same
    report at once the second is refused instead of overwriting the first.

    Raises
    ------
    ReportError
        No note, unknown status, the same status again, or no such report.
    ConflictError
        Someone else changed the report since ``expected_version`` was read.
    """
    now = _now(now)
    problems = []
    try:
        new = DetailedStatus(new_status)
    except ValueError:
        allowed = ", ".join(s.value for s in DetailedStatus)
        raise ReportError(f"unknown status {new_status!r}; expected one of: {allowed}") from None
    note = (note or "").strip()
    if not note:
        problems.append("every status change needs a note saying what was done and why")
    elif len(note) > MAX_NOTE_CHARS:
        problems.append(f"the note has {len(note):,} characters; at most {MAX_NOTE_CHARS:,}")
    if not (actor or "").strip():
        problems.append("say who is making the change")
    if problems:
        raise ReportError("the status was not changed", problems)

    with store.transaction(conn) as conn:
        current = _require(conn, request_id)
        seen = int(current["version"]) if expected_version is None else int(expected_version)
        if int(current["version"]) != seen:
            raise _conflict(request_id, int(current["version"]), seen)
        if current["detailed_status"] == new.value:
            raise ReportError(f"{request_id} is already {new.value!r}")
        was_closed = current["status"] == ConcernStatus.CLOSED.value
        now_open = OPEN311_STATUS[new] is ConcernStatus.OPEN
        if not repo.set_status(conn, request_id, status=OPEN311_STATUS[new].value,
                               detailed_status=new.value, updated=_iso(now),
                               seen_version=seen):
            # changed between our read and our write (a server backend lets both run)
            raise _conflict(request_id, None, seen)
        _event(conn, request_id, "reopened" if was_closed and now_open else "status", now,
               actor=actor.strip(), note=note, from_status=current["detailed_status"],
               to_status=new.value, visibility=visibility)
        store.bump(conn)
    return seen + 1


def _conflict(request_id: str, now_at: int | None, seen: int) -> ConflictError:
    at = f" (it is now at version {now_at}, you saw version {seen})" if now_at else ""
    return ConflictError(
        f"{request_id} was changed by someone else since you opened it{at}; nothing was "
        "saved. Reload it to see their change, then make yours again if it still applies")


def merge(store: Store, keep_id: str, duplicate_ids: Sequence[str], note: str, *,
          actor: str, now: datetime | None = None,
          conn: Connection | None = None) -> list[str]:
    """Close ``duplicate_ids`` as duplicates of ``keep_id``, in one transaction.

    Each duplicate's supporters and its own report count as support for the kept
    one (a "support" event per duplicate, plus the duplicate's own), and each
    duplicate's history records the link. Returns the ids merged.
    """
    now = _now(now)
    dups = [d for d in dict.fromkeys(duplicate_ids) if d != keep_id]
    if not dups:
        raise ReportError("choose at least one other report to merge into this one")
    if not (note or "").strip():
        raise ReportError("say why these reports are the same")
    with store.transaction(conn) as conn:
        _require(conn, keep_id)
        for d in dups:
            change_status(store, d, DetailedStatus.DUPLICATE,
                          f"merged into {keep_id}: {note.strip()}", actor=actor, now=now,
                          conn=conn)
            moved = repo.count_events(conn, d, "support")
            for _ in range(moved + 1):
                _event(conn, keep_id, "support", now, actor=actor,
                       note=f"merged from {d}")
            _event(conn, d, "linked", now, actor=actor, note=f"duplicate of {keep_id}")
        store.bump(conn)
    return dups


def delete_concern(store: Store, request_id: str, *, conn: Connection | None = None) -> None:
    """Remove a report with its contact, photos, history and links (one transaction)."""
    with store.transaction(conn) as conn:
        _require(conn, request_id)
        repo.delete(conn, request_id)
        store.bump(conn)


def history(store: Store, request_id: str) -> pd.DataFrame:
    """Every event of a report, oldest first: at (UTC), kind, actor, from/to status, note
    and the note's visibility (``"public"`` or ``"internal"``)."""
    with store.engine.connect() as conn:
        rows = repo.history(conn, request_id)
    out = pd.DataFrame(rows, columns=list(repo.HISTORY_COLUMNS))
    out["at"] = pd.to_datetime(out["at"], utc=True, format="ISO8601")
    for col in repo.HISTORY_COLUMNS[1:]:
        # plain objects with None for missing, not pandas' NaN (which prints as "nan")
        out[col] = pd.Series([v if isinstance(v, str) else None for v in out[col]],
                             index=out.index, dtype=object)
    return out


def support_counts(store: Store, request_ids: Sequence[str] | None = None) -> dict[str, int]:
    with store.engine.connect() as conn:
        return repo.support_counts(conn, request_ids)


def reopened_ids(store: Store) -> set[str]:
    with store.engine.connect() as conn:
        return repo.ids_with_event(conn, "reopened")


def photos(store: Store, request_id: str) -> list[tuple[str, bytes]]:
    with store.engine.connect() as conn:
        return repo.photos(conn, request_id)


def contact(store: Store, request_id: str) -> dict[str, str | None] | None:
    """The reporter's private contact. Staff only: never call this for a public view."""
    with store.engine.connect() as conn:
        return repo.contact(conn, request_id)


def ensure_exists(store: Store, request_ids: Sequence[str]) -> None:
    missing = set(request_ids) - store.existing_ids(Layer.CONCERNS, request_ids)
    if missing:
        raise StoreError(f"no such concern(s): {', '.join(sorted(missing))}")
