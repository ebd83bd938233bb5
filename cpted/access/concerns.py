"""Concern reports through the door: reads with privacy applied, writes checked and logged.

What the public (and residents) see of a report of a sensitive category: its category,
status and supporter count, and its place snapped to a grid cell; never its text,
address, answers, photos or any note. Of other reports they see everything except
reporter contact and internal notes. Staff see internal notes; only the roles in
``SEE_CONTACT`` see contact.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd
from shapely import Point

from cpted import concerns as cc
from cpted.access.news import NewsDoor
from cpted.access.permissions import Action, require
from cpted.i18n import _
from cpted.privacy import concerns_for, points_for, snap_to_grid
from layers.clock import now_iso
from layers.crs import WGS84
from layers.errors import UnusableInputError
from layers.points import Points
from layers.repos.follows import end_for_report as end_follows_of_report
from layers.schema import Layer

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

#: What the public learns of a similar report nearby: enough to support it, no more.
PUBLIC_DUPLICATE_COLUMNS = ("service_request_id", "service_name", "detailed_status",
                            "support", "location_precision")


class ConcernDoor(NewsDoor):
    # -- reading ---------------------------------------------------------------
    def layer(self, layer: Layer, *, where: Mapping[str, Sequence[Any]] | None = None,
              time: tuple[str, Any, Any] | None = None,
              bbox: tuple[float, float, float, float] | None = None,
              ids: Sequence[str] | None = None, limit: int | None = None,
              offset: int = 0, columns: Sequence[str] | None = None,
              newest: str | None = None) -> gpd.GeoDataFrame:
        """Any layer as this actor may see it (concerns through :meth:`as_seen`); the
        filters, columns, order and paging are :meth:`layers.store.Store.read`'s.
        Concerns always come with their ``service_code``, which privacy is decided on."""
        if layer is Layer.CONCERNS and columns is not None and "service_code" not in columns:
            columns = [*columns, "service_code"]
        rows = self.store.read(layer, where=where, time=time, bbox=bbox, ids=ids,
                               limit=limit, offset=offset, columns=columns, newest=newest)
        return self.as_seen(rows) if layer is Layer.CONCERNS else rows

    def concern_points(self, *, where: Mapping[str, Sequence[Any]] | None = None,
                       time: tuple[str, Any, Any] | None = None) -> Points:
        """Where the concerns matching the filters (as in :meth:`layer`) are, as
        coordinate arrays (see :meth:`layers.store.Store.read_points`), as this actor may
        see them: for roles without exact access, those of sensitive categories at the
        centre of their grid cell (:func:`cpted.privacy.points_for`), as in
        :meth:`as_seen`, and ``marked``; for roles with exact access nothing is marked."""
        if self.exact:
            return self.store.read_points(Layer.CONCERNS, where=where, time=time)
        points = self.store.read_points(Layer.CONCERNS, where=where, time=time,
                                        marked=("service_code", sorted(self.sensitive_codes())))
        return points_for(self.privacy_role, points, grid_m=self.settings.sensitive_grid_m)

    def concern_counts(self, *, where: Mapping[str, Sequence[Any]] | None = None,
                       time: tuple[str, Any, Any] | None = None,
                       among: Mapping[str, Mapping[str, Sequence[Any]]] | None = None
                       ) -> tuple[int, dict[str, int]]:
        """How many concerns match the filters, and how many of them each ``among``
        entry (see :meth:`layers.store.Store.tally`). Counts are the same for everyone:
        every role sees every report, the public some of them blurred."""
        return self.store.tally(Layer.CONCERNS, where=where, time=time, among=among)

    def concerns(self, *, where: Mapping[str, Sequence[Any]] | None = None,
                 time: tuple[str, Any, Any] | None = None,
                 bbox: tuple[float, float, float, float] | None = None,
                 ids: Sequence[str] | None = None, limit: int | None = None,
                 offset: int = 0) -> gpd.GeoDataFrame:
        """Concerns as this actor may see them (see :meth:`as_seen`)."""
        return self.layer(Layer.CONCERNS, where=where, time=time, bbox=bbox, ids=ids,
                          limit=limit, offset=offset)

    def as_seen(self, rows: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        """``rows`` of the concerns layer as this actor may see them: sensitive categories
        snapped to the grid and without text for roles without exact access."""
        return concerns_for(self.privacy_role, rows, self.sensitive_codes(),
                            grid_m=self.settings.sensitive_grid_m)

    def concern(self, request_id: str) -> dict[str, Any]:
        """One concern as this actor may see it, with its version.

        The version is read first: should the row change in between, a save from this
        copy is refused as stale rather than accepted over a change not seen.
        """
        try:
            version = cc.version(self.store, request_id)
        except cc.ReportError:
            raise UnusableInputError(_("there is no concern {id!r}").format(
                id=request_id)) from None
        rows = self.concerns(where={"service_request_id": [request_id]})
        if rows.empty:
            raise UnusableInputError(_("there is no concern {id!r}").format(id=request_id))
        out: dict[str, Any] = rows.iloc[0].to_dict()
        out["version"] = version
        out["sensitive"] = out.get("service_code") in self.sensitive_codes()
        return out

    def _hidden(self, request_id: str) -> bool:
        """Whether this actor may see none of the report's text (sensitive, no exact access)."""
        if self.exact:
            return False
        rows = self.store.read(Layer.CONCERNS, where={"service_request_id": [request_id]})
        return bool(rows["service_code"].isin(list(self.sensitive_codes())).any())

    def history(self, request_id: str) -> pd.DataFrame:
        """The report's events, oldest first. Staff see every note and who made each
        change; others see public notes only (none at all on a sensitive report) and
        not which staff member acted."""
        out = cc.history(self.store, request_id)
        if self.staff:
            return out
        out["actor"] = None
        hidden = self._hidden(request_id)
        keep = (out["visibility"] == "public") & (not hidden)
        out["note"] = [n if k else None for n, k in zip(out["note"], keep, strict=True)]
        return out

    def photos(self, request_id: str) -> list[tuple[str, bytes]]:
        """The report's photos (metadata stripped); none of a sensitive report for roles
        without exact access."""
        if self._hidden(request_id):
            return []
        return cc.photos(self.store, request_id)

    def contact(self, request_id: str) -> dict[str, str | None] | None:
        require(self.actor, Action.SEE_CONTACT)
        return cc.contact(self.store, request_id)

    def support_counts(self, request_ids: Sequence[str] | None = None) -> dict[str, int]:
        return cc.support_counts(self.store, request_ids)

    def reopened_ids(self) -> set[str]:
        return cc.reopened_ids(self.store)

    def duplicates(self, service_code: str, lon: float, lat: float, *,
                   now: datetime | None = None) -> gpd.GeoDataFrame:
        """Open reports that look like the one about to be filed, for a "me too".

        Staff get :func:`cpted.concerns.find_duplicates` (nearest first, with distance
        and text). Others learn only :data:`PUBLIC_DUPLICATE_COLUMNS` and the place as
        the public map shows it, never a distance or text; and for a sensitive category
        a report matches only when it lies in the same grid cell as the chosen place,
        so probing the form reveals nothing finer than the public map does.
        """
        if self.exact:
            return cc.find_duplicates(self.store, service_code, lon, lat, now=now)
        service = cc.services(self.store).get(service_code)
        empty = gpd.GeoDataFrame({c: [] for c in PUBLIC_DUPLICATE_COLUMNS},
                                 geometry=[], crs=WGS84)
        if service is None:
            return empty
        if service.sensitive:
            now = now or datetime.now(UTC)
            since = now - timedelta(days=service.duplicate_window_days)
            raw = self.store.read(Layer.CONCERNS, where={"service_code": [service_code],
                                                         "status": ["open"]},
                                  time=("requested_datetime", since, None))
            seen = self.as_seen(raw)
            cell = snap_to_grid(gpd.GeoSeries([Point(lon, lat)], crs=WGS84),
                                self.settings.sensitive_grid_m).iloc[0]
            # a boolean mask even when there is no row: an empty list would select columns
            near = seen[pd.Series([g is not None and g.equals_exact(cell, 1e-9)
                                   for g in seen.geometry], index=seen.index, dtype=bool)]
            counts = cc.support_counts(self.store, near["service_request_id"].tolist())
            near = near.assign(support=near["service_request_id"].map(counts)
                               .fillna(0).astype(int))
        else:
            near = self.as_seen(cc.find_duplicates(self.store, service_code, lon, lat, now=now)
                                .drop(columns="distance_m", errors="ignore"))
        if near.empty:
            return empty
        return near[[*PUBLIC_DUPLICATE_COLUMNS, "geometry"]].reset_index(drop=True)

    # -- writing ---------------------------------------------------------------
    def submit_report(self, draft: cc.ReportDraft, *, now: datetime | None = None) -> str:
        """Anyone may report; the report counts against the rate limit and is logged.
        With neighborhoods stored, a place outside their extent grown by the
        ``area_margin_m`` setting is refused, as an import's row would be."""
        from layers.importer import project_area

        area = project_area(self.store, self.settings)

        def run(conn: Connection) -> str:
            rid = cc.submit_report(self.store, draft, now=now,
                                   actor=self.actor.username or "resident", conn=conn,
                                   area=area)
            self._log(conn, "report", "concern", rid, {"category": draft.service_code})
            return rid

        return self._write("the report", Action.REPORT, run, now=now)

    def support(self, request_id: str, note: str | None = None, *,
                visibility: cc.Visibility | None = None) -> int:
        """A "me too" with an optional comment, ``visibility`` defaulting to internal for
        sensitive categories and public otherwise; return the support count."""
        def run(conn: Connection) -> int:
            vis = visibility or self._default_visibility(
                cc.state(conn, request_id)["service_code"])
            n = cc.add_support(self.store, request_id, note=note, conn=conn,
                               actor=self.actor.username or "resident", visibility=vis)
            self._log(conn, "support", "concern", request_id,
                      {"visibility": vis} | ({"note": note.strip()} if note else {}))
            return n

        return self._write("the support", Action.SUPPORT, run)

    def change_status(self, request_id: str, new_status: str, note: str, *,
                      visibility: cc.Visibility | None = None,
                      expected_version: int | None = None) -> int:
        """Change a report's status; return its new version. The note is ``visibility``
        (default: internal for sensitive categories, else public). A stale
        ``expected_version`` is refused with :class:`~layers.errors.ConflictError`.

        The report's confirmed followers get a message in the outbox, written in this
        same transaction: the new status with the note only when it is public (never on
        a sensitive category)."""
        def run(conn: Connection) -> int:
            before = cc.state(conn, request_id)
            vis = visibility or self._default_visibility(before["service_code"])
            version = cc.change_status(self.store, request_id, new_status, note,
                                       actor=self.actor.name, conn=conn, visibility=vis,
                                       expected_version=expected_version)
            self._log(conn, "status", "concern", request_id,
                      {"from": before["detailed_status"], "to": str(new_status),
                       "note": note.strip(), "visibility": vis})
            self._status_messages(conn, request_id, version=version,
                                  previous=before["detailed_status"], status=str(new_status),
                                  note=note, visibility=vis)
            return version

        return self._write("the status change", Action.CHANGE_STATUS, run)

    def merge(self, keep_id: str, duplicate_ids: Sequence[str], note: str) -> list[str]:
        def run(conn: Connection) -> list[str]:
            before = {d: cc.state(conn, d)["detailed_status"] for d in dict.fromkeys(
                duplicate_ids) if d != keep_id}
            merged = cc.merge(self.store, keep_id, duplicate_ids, note, actor=self.actor.name,
                              conn=conn)
            self._log(conn, "merge", "concern", keep_id,
                      {"merged": merged, "note": note.strip()})
            for d in merged:  # each duplicate's followers learn it was closed (no note)
                self._status_messages(conn, d, version=cc.state(conn, d)["version"],
                                      previous=before.get(d), status="duplicate", note=None,
                                      visibility="internal")
            return merged

        return list(self._write("the merge", Action.MERGE, run))

    def delete_concern(self, request_id: str, reason: str) -> None:
        require(self.actor, Action.DELETE)
        if not (reason or "").strip():
            raise UnusableInputError(_("say why the report is deleted; the reason is kept"))

        def run(conn: Connection) -> None:
            cc.delete_concern(self.store, request_id, conn=conn)
            ended = end_follows_of_report(conn, request_id, now_iso())
            self._log(conn, "delete", "concern", request_id, {"reason": reason.strip()}
                      | ({"follows_ended": ended} if ended else {}))

        self._write("the deletion", Action.DELETE, run)
