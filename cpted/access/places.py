"""CPTED audits, problem spots, action plans and patrol visits through the door.

Anyone may record an audit (counted against the rate limit, logged); only its author
(the same account, or for the public the same browser session) or a role in
``EDIT_ANY_AUDIT`` may edit or delete it. Spots and plans are for staff; patrol
visits for the roles in ``LOG_VISITS``. Plan notes carry a visibility: others than
staff see a plan's note only when it is public.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd

from cpted import agreement as ag
from cpted import assessments as au
from cpted import concerns as cc
from cpted import patrol as pt
from cpted import prescore as ps
from cpted import spots as sp
from cpted.access.concerns import ConcernDoor
from cpted.access.permissions import Action, can, refuse, require
from cpted.i18n import _
from cpted.instrument import Instrument
from cpted.scoring import Scorecard
from layers.errors import UnusableInputError
from layers.schema import Layer

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection


class PlacesDoor(ConcernDoor):
    # -- audits: reading -------------------------------------------------------
    def audits(self, *, neighborhood_id: str | None = None) -> gpd.GeoDataFrame:
        return au.list_assessments(self.store, neighborhood_id=neighborhood_id)

    def audit(self, assessment_id: str) -> au.Assessment:
        return au.get_assessment(self.store, assessment_id)

    def audit_photos(self, assessment_id: str) -> list[tuple[int, str, bytes]]:
        return au.photos(self.store, assessment_id)

    def audit_scorecard(self, assessment: au.Assessment) -> Scorecard:
        return au.scorecard(self.store, assessment)

    def audit_instrument(self, assessment: au.Assessment) -> Instrument:
        return au.instrument_of(self.store, assessment)

    def same_place(self, assessment_id: str, **options: Any) -> Any:
        return au.same_place(self.store, assessment_id, **options)

    def day_and_night(self, assessment_id: str) -> tuple[au.Assessment, au.Assessment] | None:
        return au.day_and_night(self.store, assessment_id)

    def current_instrument(self) -> Instrument | None:
        return au.current_instrument(self.store)

    def audit_agreement(self) -> ag.Agreement:
        """Fleiss' kappa per item where several auditors audited one place on one walk,
        over the audits with enough answers (:func:`cpted.agreement.agreement`)."""
        audits = au.list_assessments(self.store)
        return ag.agreement(audits, au.instruments_used(self.store, audits),
                            radius_m=au.SAME_PLACE_RADIUS_M)

    def safety_drivers(self) -> list[ag.Driver]:
        """How each principle's score goes with feeling safe across the rated audits
        (:func:`cpted.agreement.safety_drivers`)."""
        audits = au.list_assessments(self.store)
        return ag.safety_drivers(audits, au.instruments_used(self.store, audits))

    def prescore(self, *, now: datetime | None = None) -> ps.Prescore:
        """The pre-score of every street segment (:func:`cpted.prescore.prescore`), from
        the layers as this actor sees them; concerns count in the groups of
        :data:`cpted.prescore.MAINTENANCE_GROUPS`.

        Raises
        ------
        UnusableInputError
            When the store holds no streets.
        """
        streets = self.layer(Layer.STREETS)
        if streets.empty:
            raise UnusableInputError(_("there are no streets in the store: import the street "
                                       "centrelines first"))
        codes = {code for code, svc in cc.services(self.store).items()
                 if svc.group in ps.MAINTENANCE_GROUPS}
        return ps.prescore(
            streets, lights=self.layer(Layer.STREETLIGHTS),
            buildings=self.layer(Layer.BUILDINGS), parcels=self.layer(Layer.PARCELS),
            concerns=self.concerns(), incidents=self.layer(Layer.INCIDENTS),
            maintenance_codes=codes, now=now or datetime.now(UTC))

    def may_edit_audit(self, assessment: au.Assessment) -> bool:
        """Whether this actor may edit or delete ``assessment``: its author or a role in
        ``EDIT_ANY_AUDIT``."""
        if can(self.actor.role, Action.EDIT_ANY_AUDIT):
            return True
        return bool(assessment.author_key) and assessment.author_key == self.actor.author_key

    def _require_audit_edit(self, assessment_id: str) -> au.Assessment:
        current = au.get_assessment(self.store, assessment_id)
        if not self.may_edit_audit(current):
            raise refuse(self.actor, Action.EDIT_ANY_AUDIT)
        return current

    # -- audits: writing -------------------------------------------------------
    def save_audit(self, draft: au.AssessmentDraft, instrument: Instrument, *,
                   now: datetime | None = None) -> str:
        """Record a new audit as this actor's own; return its id."""
        def run(conn: Connection) -> str:
            aid = au.save_assessment(self.store, draft, instrument, now=now,
                                     author_key=self.actor.author_key, conn=conn)
            self._log(conn, "audit", "assessment", aid, {"place": draft.place_name})
            return aid

        return self._write("the audit", Action.CREATE_AUDIT, run, now=now)

    def update_audit(self, assessment_id: str, draft: au.AssessmentDraft,
                     instrument: Instrument, *, expected_version: int,
                     remove_photos: Sequence[int] = (), now: datetime | None = None) -> int:
        """Save an edit of an audit made on ``expected_version``; return the new version."""
        self._require_audit_edit(assessment_id)

        def run(conn: Connection) -> int:
            version = au.update_assessment(self.store, assessment_id, draft, instrument,
                                           expected_version=expected_version,
                                           remove_photos=remove_photos, now=now, conn=conn)
            self._log(conn, "audit edited", "assessment", assessment_id,
                      {"version": version})
            return version

        return int(self._write("the audit edit", Action.CREATE_AUDIT, run, now=now))

    def delete_audit(self, assessment_id: str, reason: str) -> None:
        """Delete an audit with its photos; the reason goes to the change log."""
        self._require_audit_edit(assessment_id)
        if not (reason or "").strip():
            raise UnusableInputError(_("say why the audit is deleted; the reason is kept"))

        def run(conn: Connection) -> None:
            au.delete_assessment(self.store, assessment_id, conn=conn)
            self._log(conn, "audit deleted", "assessment", assessment_id,
                      {"reason": reason.strip()})

        self._write("the audit deletion", Action.CREATE_AUDIT, run)

    def audit_report(self, assessment_id: str) -> Any:
        """The printable report of one audit (:func:`cpted.reports.assessment_report`)."""
        from cpted import reports

        return reports.assessment_report(self.store, assessment_id)

    def neighborhood_brief(self, neighborhood_id: str, *, since: datetime | None = None,
                           now: datetime | None = None) -> Any:
        """A neighborhood's brief for a public meeting (:func:`cpted.reports.neighborhood_brief`),
        made from the public's view of the concerns whoever asks for it."""
        from cpted import reports
        from cpted.privacy import Role, concerns_for

        seen = concerns_for(Role.PUBLIC, self.store.read(Layer.CONCERNS),
                            self.sensitive_codes(), grid_m=self.settings.sensitive_grid_m)
        return reports.neighborhood_brief(self.store, neighborhood_id, concerns=seen,
                                          since=since, now=now)

    # -- problem spots and action plans ---------------------------------------
    def spots(self) -> pd.DataFrame:
        """Problem spots; their notes are for staff.

        A spot is stored at the centre of its reports' exact places. To anyone who may
        not see sensitive places exactly it is shown at the centre of its reports as they
        see them, so a spot gathered from one sensitive report does not give it away.
        """
        out = sp.spots(self.store)
        if not self.staff and "note" in out.columns:
            out["note"] = None
        if len(out) and not can(self.actor.role, Action.SEE_EXACT_SENSITIVE):
            links = sp.spot_links(self.store)
            seen = self.as_seen(self.store.read(
                Layer.CONCERNS, ids=links["service_request_id"].unique().tolist()))
            at = dict(zip(seen["service_request_id"], seen.geometry, strict=True))
            pts = links.assign(x=[at[i].x if i in at else None
                                  for i in links["service_request_id"]],
                               y=[at[i].y if i in at else None
                                  for i in links["service_request_id"]])
            centre = pts.groupby("spot_id")[["x", "y"]].mean()
            out["lon"] = out["id"].map(centre["x"])
            out["lat"] = out["id"].map(centre["y"])
        return out

    def spot_reports(self, spot_id: str) -> list[str]:
        return sp.spot_reports(self.store, spot_id)

    def plans(self, *, today: date | None = None) -> pd.DataFrame:
        """Action plans; others than staff see a plan's note only when it is public."""
        out = sp.plans(self.store, today=today)
        if not self.staff and "note" in out.columns:
            public = out.get("note_visibility", pd.Series("internal", index=out.index))
            out["note"] = out["note"].where(public == "public", None)
        return out

    def create_spot(self, title: str, request_ids: Sequence[str], *, note: str = "") -> str:
        def run(conn: Connection) -> str:
            sid = sp.create_spot(self.store, title, request_ids, note=note,
                                 actor=self.actor.name, conn=conn)
            self._log(conn, "spot", "problem spot", sid,
                      {"title": title.strip(), "reports": list(request_ids)})
            return sid

        return self._write("the problem spot", Action.MANAGE_SPOTS, run)

    def create_plan(self, title: str, *, owner_kind: str | None, owner_name: str,
                    due: date, spot_id: str | None = None, request_ids: Sequence[str] = (),
                    note: str = "", note_visibility: str = "internal") -> str:
        def run(conn: Connection) -> str:
            pid = sp.create_plan(self.store, title, owner_kind=owner_kind,
                                 owner_name=owner_name, due=due, actor=self.actor.name,
                                 spot_id=spot_id, request_ids=request_ids, note=note,
                                 note_visibility=note_visibility, conn=conn)
            self._log(conn, "plan", "action plan", pid,
                      {"title": title.strip(), "owner": owner_name.strip()})
            return pid

        return self._write("the action plan", Action.MANAGE_SPOTS, run)

    def set_plan_status(self, plan_id: str, status: str, note: str, *,
                        visibility: str = "internal") -> None:
        def run(conn: Connection) -> None:
            sp.set_plan_status(self.store, plan_id, status, note, actor=self.actor.name,
                               visibility=visibility, conn=conn)
            self._log(conn, "plan status", "action plan", plan_id,
                      {"to": str(status), "note": note.strip(), "visibility": visibility})

        self._write("the plan's status", Action.MANAGE_SPOTS, run)

    # -- patrol ----------------------------------------------------------------
    def patrol_events(self, sources: Sequence[pt.Source], *, tz: str | None = None
                      ) -> gpd.GeoDataFrame:
        """The events a patrol plan weighs (see :func:`cpted.patrol.gather_events`), at
        their exact places: for the roles that see exact locations."""
        require(self.actor, Action.SEE_EXACT_SENSITIVE)
        return pt.gather_events(self.store, sources, tz=tz)

    def visits(self, *, since: datetime | None = None) -> gpd.GeoDataFrame:
        require(self.actor, Action.LOG_VISITS)
        return pt.visits(self.store, since=since)

    def log_visit(self, *, officer: str, place: str, lon: float, lat: float,
                  visited_at: datetime | None = None, note: str = "") -> int:
        def run(conn: Connection) -> int:
            vid = pt.log_visit(self.store, officer=officer, place=place, lon=lon, lat=lat,
                               visited_at=visited_at, note=note, conn=conn)
            self._log(conn, "visit", "patrol visit", str(vid), {"place": place.strip()})
            return vid

        return int(self._write("the visit", Action.LOG_VISITS, run))
