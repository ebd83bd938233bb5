"""The perception survey and the measures of success through the door.

Anyone may answer the survey (``ANSWER_SURVEY``): a point on the map and two answers, no
free text, counted against the rate limits like any write, and at most once a day for
one neighborhood from one person (account, or browser session for the public). No read
returns an answer, its point or who gave it: everyone gets the aggregates of
:mod:`cpted.progress` only. The measures are computed from what this actor may see, and
the neighborhood brief's from what the public sees, whoever asks for it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd
import shapely

from cpted import concerns as cc
from cpted import progress as pg
from cpted.access.permissions import Action, require
from cpted.access.places import PlacesDoor
from cpted.i18n import _
from layers.clock import iso
from layers.crs import WGS84
from layers.errors import UnusableInputError
from layers.repos import concerns as concern_repo
from layers.repos import spots as spot_repo
from layers.repos import survey as repo
from layers.schema import Layer

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

#: One answer a day for one neighborhood from one person.
ANSWER_EVERY = timedelta(days=1)


class ProgressDoor(PlacesDoor):
    def timezone(self) -> str:
        """The time zone months are counted in: the store's, else the settings'."""
        return self.store.get_setting("timezone") or self.settings.timezone

    # -- the survey ------------------------------------------------------------------
    def answer_survey(self, lon: float, lat: float, safe_after_dark: int,
                      knows_contact: bool, *, now: datetime | None = None) -> str:
        """Record one answer to the perception survey at ``(lon, lat)`` (WGS84 degrees,
        longitude first); return the name of the neighborhood it counts for.

        Raises
        ------
        UnusableInputError
            An answer off the scale, a point outside every neighborhood, or a second
            answer for the same neighborhood within a day (every problem at once).
        """
        require(self.actor, Action.ANSWER_SURVEY)
        problems = []
        if isinstance(safe_after_dark, bool) or safe_after_dark not in pg.SAFETY_SCALE:
            allowed = ", ".join(f"{k} ({v})" for k, v in pg.SAFETY_SCALE.items())
            problems.append(_("say how safe it feels with one of {allowed}; got {got!r}").format(
                allowed=allowed, got=safe_after_dark))
        if not isinstance(knows_contact, bool):
            problems.append(_("answer whether you know whom to contact with yes or no; got "
                              "{got!r}").format(got=knows_contact))
        hood = None
        try:
            point = shapely.Point(float(lon), float(lat))
            valid = -180 <= point.x <= 180 and -90 <= point.y <= 90
        except (TypeError, ValueError):
            valid = False
        if not valid:
            problems.append(_("the place should be a longitude and latitude in degrees; got "
                              "{lon!r}, {lat!r}").format(lon=lon, lat=lat))
        else:
            hoods = self.store.read(Layer.NEIGHBORHOODS)
            hit = hoods[hoods.intersects(point)] if len(hoods) else hoods
            if hit.empty:
                problems.append(_("the place is outside every neighborhood on the map; click "
                                  "inside one"))
            else:
                hood = hit.iloc[0]
        if problems or hood is None:
            raise UnusableInputError(_("the answer was not saved"), problems)
        nid, name = str(hood["id"]), str(hood["name"] or hood["id"])
        when = now or datetime.now(UTC)

        def run(conn: Connection) -> str:
            if repo.answered_since(conn, client=self.actor.author_key, neighborhood_id=nid,
                                   since=iso(when - ANSWER_EVERY)):
                raise UnusableInputError(_(
                    "you have already answered for {name} today; thank you. Each person's "
                    "answer for a neighborhood counts once a day").format(name=name))
            aid = repo.insert(conn, at=iso(when), lon=float(lon), lat=float(lat),
                              neighborhood_id=nid, safe_after_dark=int(safe_after_dark),
                              knows_contact=bool(knows_contact),
                              client=self.actor.author_key)
            # the log says that an answer came, not what it was nor where
            self._log(conn, "survey answer", "survey answer", str(aid), {"neighborhood": nid})
            return name

        return self._write("the answer", Action.ANSWER_SURVEY, run, now=now)

    def survey_summary(self, *, since: datetime | None = None) -> pd.DataFrame:
        """The survey per neighborhood, pooled since ``since`` (all answers when None):
        counts, means and shares with their 95% intervals
        (:func:`cpted.progress.survey_summary`). Aggregates only, for everyone."""
        with self.store.engine.connect() as conn:
            answers = repo.answers(conn)
        hoods = self.store.read(Layer.NEIGHBORHOODS)
        start = None if since is None else pd.Timestamp(since).tz_convert("UTC")
        return pg.survey_summary(answers, hoods, since=start)

    # -- the measures ------------------------------------------------------------------
    def progress(self, *, now: datetime | None = None) -> pg.Progress:
        """Every measure of success per neighborhood and local month
        (:func:`cpted.progress.compute`), from what this actor may see; the current
        month is the one holding ``now`` (timezone-aware; the present when None)."""
        when = pd.Timestamp(now or datetime.now(UTC)).tz_convert("UTC")
        return pg.compute(self._progress_inputs(), tz=self.timezone(), now=when)

    def _progress_inputs(self) -> pg.ProgressInputs:
        hoods = self.store.read(Layer.NEIGHBORHOODS)
        concerns = self.concerns()
        with self.store.engine.connect() as conn:
            reopened = pd.DataFrame(concern_repo.event_times(conn, "reopened"),
                                    columns=["service_request_id", "at"])
            plan_links = spot_repo.plan_links(conn)
            answers = repo.answers(conn)
        reopened["at"] = pd.to_datetime(reopened["at"], utc=True, format="ISO8601")
        plans = self.plans()
        return pg.ProgressInputs(
            neighborhoods=hoods, concerns=concerns, reopenings=reopened,
            target_days={c: s.target_days for c, s in cc.services(self.store).items()},
            plans=plans, plan_neighborhoods=self._plan_places(plans, plan_links, concerns,
                                                              hoods),
            audits=self.audits(), lights=self.store.read(Layer.STREETLIGHTS), survey=answers)

    def _plan_places(self, plans: pd.DataFrame, links: pd.DataFrame,
                     concerns: gpd.GeoDataFrame, hoods: gpd.GeoDataFrame) -> pd.Series:
        """Each plan's neighborhood: where its problem spot is shown to this actor, else
        where the first of its reports (by id) is shown (None when neither is in one)."""
        if plans.empty:
            return pd.Series([], index=plans.index, dtype=object)
        spots = self.spots()
        at: dict[str, shapely.Geometry] = {}
        if len(spots):
            for sid, lon, lat in zip(spots["id"], spots["lon"], spots["lat"], strict=True):
                if pd.notna(lon) and pd.notna(lat):
                    at[f"spot:{sid}"] = shapely.Point(float(lon), float(lat))
        shown = dict(zip(concerns["service_request_id"].astype(str), concerns.geometry,
                         strict=True))
        for pid, rid in zip(links["plan_id"], links["service_request_id"], strict=True):
            if str(rid) in shown:
                at.setdefault(f"plan:{pid}", shown[str(rid)])
        points = []
        for pid, sid in zip(plans["id"], plans["spot_id"], strict=True):
            spot = at.get(f"spot:{sid}") if isinstance(sid, str) and sid else None
            points.append(spot if spot is not None else at.get(f"plan:{pid}"))
        series = gpd.GeoSeries(points, index=plans.index, crs=WGS84)
        return pg.hood_of(series, hoods)

    def neighborhood_brief(self, neighborhood_id: str, *, since: datetime | None = None,
                           now: datetime | None = None) -> Any:
        """A neighborhood's brief for a public meeting, with its progress by month; both
        made from the public's view whoever asks for it (see
        :meth:`cpted.access.Access.progress`)."""
        from cpted import accounts

        brief = super().neighborhood_brief(neighborhood_id, since=since, now=now)
        public = type(self)(self.store, accounts.public(), self.settings)
        brief.progress = public.progress(now=now)
        return brief
