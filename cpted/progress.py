"""Measures of success, per neighborhood and local month: what a block meeting tracks.

Pure functions of data already read as the viewer may see it (through
:class:`cpted.access.Access`, whose ``progress`` method gathers the inputs): concerns as
shown to that viewer (a sensitive report counts where it is shown), reopenings, action
plans placed where their spot or reports are shown, rated audits, repaired lights and the
perception survey's answers, which reach this module without their points.

Months are calendar months in the app's time zone. The measures:

``opened``, ``closed``
    Reports made in the month; reports closed in it (a closed report's last update).
``median_days_to_close``
    Of the reports closed in the month, the median days from report to close.
``due``, ``closed_within_target``
    Reports whose category's target (report time + ``target_days``) fell in the month and
    has passed, and the share of them closed by it. Each report is judged once, in the
    month it fell due, open or not, so late reports still open count as missed.
``reopened``
    Reopenings in the month (a closed report moved back to an open status).
``plans_done``, ``plans_overdue``
    Plans marked done in the month; plans overdue at the month's end (or now, for the
    current month): due before it and not done or dropped by then.
``audits_rated``, ``audit_score``, ``audits_not_rated``
    Audits made in the month with enough answers to rate them
    (:data:`cpted.scoring.MIN_COVERAGE`), their mean overall score (0-100), and the audits
    left out for too few answers.
``repairs``, ``night_before``, ``night_after``, ``repairs_watching``
    Lights repaired in the month (closed "streetlight out" reports matched to a pole, see
    :mod:`cpted.outcomes`) and the night-time concerns within :data:`REPAIR_RADIUS_M` of
    them in the :data:`REPAIR_DAYS` before and after; ``repairs_watching`` of them are too
    recent for their "after" window to have passed, so their count is so far.
``survey_answers``, ``safe_mean``, ``safe_low``, ``safe_high``, ``knows_contact``,
``knows_low``, ``knows_high``
    Survey answers in the month; with at least :data:`MIN_SURVEY_ANSWERS`, the mean
    feeling of safety after dark (1-5) with its 95% t interval, and the share who know
    whom to contact with its 95% Wilson score interval (below that, the count only).

The intervals and why these (Wilson, t): :mod:`cpted.intervals`.

What these cannot show: reports measure people reporting, not crime; the survey's answers
come from whoever chose to answer, not a random sample; and a change near a repaired light
is not proof that the repair caused it (see :data:`cpted.outcomes.CAVEATS`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cpted.intervals import CONFIDENCE, t_interval, wilson_interval
from cpted.lighting import OUTAGE_SERVICE_CODE
from cpted.overlay import DEFAULT_TARGET_DAYS
from cpted.spots import FINISHED, PlanStatus
from layers.crs import WGS84, metric_crs
from layers.spatial import assign

SAFETY_QUESTION = "How safe do you feel walking here after dark?"
CONTACT_QUESTION = "Do you know whom to contact about a problem here?"
#: The answers to :data:`SAFETY_QUESTION`, in words.
SAFETY_SCALE: dict[int, str] = {1: "Very unsafe", 2: "Unsafe", 3: "Neither safe nor unsafe",
                                4: "Safe", 5: "Very safe"}
#: Fewer answers than this in a month show as a count only: too few for a mean or a share
#: to say anything, and so that one person's answer cannot be read off a chart.
MIN_SURVEY_ANSWERS = 5
#: The "after repairs" analysis' defaults, as on the Streetlights page.
REPAIR_RADIUS_M = 100.0
REPAIR_DAYS = 90.0
REPAIR_MATCH_M = 30.0

#: Every monthly measure, in the order tables show them, with its label.
MEASURES: dict[str, str] = {
    "opened": "Reports opened",
    "closed": "Reports closed",
    "median_days_to_close": "Median days to close",
    "due": "Reports due",
    "closed_within_target": "Closed within target",
    "reopened": "Reopened",
    "plans_done": "Plans done",
    "plans_overdue": "Plans overdue",
    "audits_rated": "Audits rated",
    "audit_score": "Mean audit score",
    "audits_not_rated": "Audits with too few answers",
    "repairs": "Lights repaired",
    "night_before": "Night concerns near them, before",
    "night_after": "Night concerns near them, after",
    "repairs_watching": "Repairs still within their after window",
    "survey_answers": "Survey answers",
    "safe_mean": "Feeling safe after dark (1-5)",
    "safe_low": "Feeling safe: 95% low",
    "safe_high": "Feeling safe: 95% high",
    "knows_contact": "Know whom to contact",
    "knows_low": "Know whom to contact: 95% low",
    "knows_high": "Know whom to contact: 95% high",
}
COUNTS = ("opened", "closed", "due", "reopened", "plans_done", "plans_overdue",
          "audits_rated", "audits_not_rated", "repairs", "night_before", "night_after",
          "repairs_watching", "survey_answers")


# -- months ----------------------------------------------------------------------------

def local_month(times: pd.Series, tz: str) -> pd.Series:
    """Each time's calendar month (a ``period[M]``) in the time zone ``tz``; aligned on
    ``times``' index. Naive times are read as UTC."""
    t = pd.to_datetime(times, utc=True)
    return t.dt.tz_convert(tz).dt.tz_localize(None).dt.to_period("M")


def month_end(month: pd.Period, tz: str) -> pd.Timestamp:
    """The first moment after ``month`` in ``tz`` (its end, as a UTC timestamp)."""
    return pd.Timestamp((month + 1).start_time, tz=tz).tz_convert("UTC")


def hood_of(points: gpd.GeoSeries, hoods: gpd.GeoDataFrame) -> pd.Series:
    """The id of the neighborhood holding each point (None outside all); aligned on
    ``points``."""
    which = assign(points, hoods.geometry)
    ids = hoods["id"].astype(str).to_numpy()
    return pd.Series([ids[k] if k >= 0 else None for k in which], index=points.index,
                     dtype=object)


def _count(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    if frame.empty:
        return pd.DataFrame({name: pd.Series(dtype="int64")},
                            index=pd.MultiIndex.from_arrays([[], pd.PeriodIndex([], freq="M")],
                                                            names=["neighborhood_id", "month"]))
    return frame.groupby(["neighborhood_id", "month"]).size().rename(name).to_frame()


def _empty(columns: Sequence[str]) -> pd.DataFrame:
    index = pd.MultiIndex.from_arrays([pd.Index([], dtype=object), pd.PeriodIndex([], freq="M")],
                                      names=["neighborhood_id", "month"])
    return pd.DataFrame({c: pd.Series(dtype=float) for c in columns}, index=index)


# -- each measure ----------------------------------------------------------------------

def concern_months(concerns: gpd.GeoDataFrame, hoods: gpd.GeoDataFrame, *, tz: str,
                   now: pd.Timestamp, target_days: Mapping[str, float] | None = None,
                   reopenings: pd.DataFrame | None = None) -> pd.DataFrame:
    """Reports opened, closed, median days to close, due, share closed within target and
    reopened, per neighborhood and month (see the module's description).

    Parameters
    ----------
    concerns
        Concerns as the viewer may see them (EPSG:4326), with ``service_request_id``,
        ``service_code``, ``status``, ``requested_datetime`` and ``updated_datetime``.
    hoods
        Neighborhoods (EPSG:4326) with ``id``.
    tz
        The time zone of the months.
    now
        What "has passed" is measured against (timezone-aware).
    target_days
        Days to close by category code; others get
        :data:`cpted.overlay.DEFAULT_TARGET_DAYS`.
    reopenings
        ``service_request_id`` and ``at`` (UTC) of each reopening.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``(neighborhood_id, month)``; only the months that have any.
    """
    cols = ["opened", "closed", "median_days_to_close", "due", "met", "reopened"]
    if concerns.empty:
        return _empty(cols)
    hood = hood_of(concerns.geometry, hoods)
    inside = hood.notna()
    c = pd.DataFrame({
        "id": concerns["service_request_id"].astype(str),
        "neighborhood_id": hood,
        "code": concerns["service_code"].astype(str),
        "closed": concerns["status"].astype(str) == "closed",
        "req": pd.to_datetime(concerns["requested_datetime"], utc=True),
        "upd": pd.to_datetime(concerns["updated_datetime"], utc=True),
    })[inside.to_numpy()]
    opened = _count(c.assign(month=local_month(c["req"], tz)), "opened")
    shut = c[c["closed"]].assign(days=lambda f: (f["upd"] - f["req"]).dt.total_seconds()
                                 / 86400)
    shut = shut.assign(month=local_month(shut["upd"], tz))
    closed = _count(shut, "closed")
    median = (shut.groupby(["neighborhood_id", "month"])["days"].median()
              .rename("median_days_to_close").to_frame() if len(shut)
              else _empty(["median_days_to_close"]))
    targets = c["code"].map(dict(target_days or {})).fillna(DEFAULT_TARGET_DAYS).astype(float)
    due_at = c["req"] + pd.to_timedelta(targets, unit="D")
    judged = c.assign(due_at=due_at, met=c["closed"] & (c["upd"] <= due_at))
    judged = judged[judged["due_at"] <= now]
    judged = judged.assign(month=local_month(judged["due_at"], tz))
    if len(judged):
        due = judged.groupby(["neighborhood_id", "month"]).agg(
            due=("met", "size"), met=("met", "sum"))
    else:
        due = _empty(["due", "met"])
    re = reopenings if reopenings is not None else pd.DataFrame(
        {"service_request_id": [], "at": []})
    where = dict(zip(c["id"], c["neighborhood_id"], strict=True))
    re = re.assign(neighborhood_id=re["service_request_id"].astype(str).map(where))
    re = re[re["neighborhood_id"].notna()]
    reopened = _count(re.assign(month=local_month(re["at"], tz)) if len(re) else re,
                      "reopened")
    return pd.concat([opened, closed, median, due, reopened], axis=1)


def plan_months(plans: pd.DataFrame, plan_hood: pd.Series, *, tz: str,
                now: pd.Timestamp) -> pd.DataFrame:
    """Plans done in each month and overdue at its end, per neighborhood.

    Parameters
    ----------
    plans
        Action plans (:meth:`cpted.access.Access.plans`): ``status``, ``due_date``
        (``YYYY-MM-DD``), ``created_at`` and ``updated_at`` (when its status last changed).
    plan_hood
        Each plan's neighborhood id (None when it has none), aligned on ``plans``.
    tz, now
        The months' time zone; the current time, which ends the current month.
    """
    cols = ["plans_done", "plans_overdue"]
    keep = plan_hood.notna()
    if not keep.any():
        return _empty(cols)
    p = pd.DataFrame({
        "neighborhood_id": plan_hood[keep].astype(str),
        "status": plans.loc[keep, "status"].astype(str),
        "due": pd.to_datetime(plans.loc[keep, "due_date"]).dt.date,
        "created": pd.to_datetime(plans.loc[keep, "created_at"], utc=True, format="ISO8601"),
        "updated": pd.to_datetime(plans.loc[keep, "updated_at"], utc=True, format="ISO8601"),
    })
    finished = p["updated"].where(p["status"].isin(list(FINISHED)))
    done = p[p["status"] == PlanStatus.DONE.value]
    out = _count(done.assign(month=local_month(done["updated"], tz)), "plans_done")
    first = local_month(p["created"], tz).min()
    last = local_month(pd.Series([now]), tz).iloc[0]
    rows = []
    for month in pd.period_range(first, last, freq="M"):
        end = min(month_end(month, tz), now)
        local_day = end.tz_convert(tz).date()
        late = ((p["created"] < end) & (p["due"] < local_day)
                & ~(finished < end).fillna(False).astype(bool))
        for nid, n in p[late].groupby("neighborhood_id").size().items():
            rows.append({"neighborhood_id": nid, "month": month, "plans_overdue": int(n)})
    overdue = (pd.DataFrame(rows).set_index(["neighborhood_id", "month"]) if rows
               else _empty(["plans_overdue"]))
    return pd.concat([out, overdue], axis=1)


def audit_months(audits: pd.DataFrame, *, tz: str) -> pd.DataFrame:
    """Audits rated, their mean overall score and audits left out for too few answers,
    per neighborhood and month.

    ``audits`` are :func:`cpted.assessments.list_assessments` rows (``neighborhood_id``,
    ``assessed_at``, ``overall``, ``enough_answers``); only audits with enough answers
    (:data:`cpted.scoring.MIN_COVERAGE`) are scored.
    """
    cols = ["audits_rated", "audit_score", "audits_not_rated"]
    a = audits[audits["neighborhood_id"].notna()] if len(audits) else audits
    if a.empty:
        return _empty(cols)
    rated = a["enough_answers"].astype(bool)
    f = pd.DataFrame({"neighborhood_id": a["neighborhood_id"].astype(str),
                      "month": local_month(a["assessed_at"], tz),
                      "score": pd.to_numeric(a["overall"], errors="coerce").where(rated),
                      "rated": rated & pd.to_numeric(a["overall"], errors="coerce").notna()})
    g = f.groupby(["neighborhood_id", "month"])
    return pd.DataFrame({"audits_rated": g["rated"].sum().astype("int64"),
                         "audit_score": g["score"].mean(),
                         "audits_not_rated": (g.size() - g["rated"].sum()).astype("int64")})


def repair_counts(repairs: pd.DataFrame, lights: gpd.GeoDataFrame,
                  concerns: gpd.GeoDataFrame, *, crs: object, now: pd.Timestamp,
                  radius_m: float = REPAIR_RADIUS_M, days: float = REPAIR_DAYS
                  ) -> pd.DataFrame:
    """For each repair (``pole_id``, ``repaired_at``), the night-time concerns (other than
    light-out reports) within ``radius_m`` of its pole in the ``days`` before it and
    after it, and whether its after window has passed (``watching`` when not); with the
    pole's point (EPSG:4326) as ``geometry``. The same counts as
    :func:`cpted.outcomes.repair_outcome` makes for the treated area, one repair at a time.
    """
    poles = lights.set_index(lights["id"].astype(str)).geometry
    pts = gpd.GeoSeries(poles.reindex(repairs["pole_id"].astype(str)).to_numpy(), crs=WGS84,
                        index=repairs.index)
    night = concerns[(concerns["time_of_day"] == "night")
                     & (concerns["service_code"] != OUTAGE_SERVICE_CODE)]
    night_pts = np.asarray(night.to_crs(crs).geometry.values)
    times = pd.to_datetime(night["requested_datetime"], utc=True)
    window = pd.Timedelta(days=days)
    metric = np.asarray(pts.to_crs(crs).values)
    before, after = [], []
    for k, t in enumerate(pd.to_datetime(repairs["repaired_at"], utc=True)):
        close = shapely.dwithin(night_pts, metric[k], radius_m)
        before.append(int((close & (times >= t - window) & (times < t)).sum()))
        after.append(int((close & (times > t) & (times <= t + window)).sum()))
    out = gpd.GeoDataFrame({
        "pole_id": repairs["pole_id"].astype(str),
        "repaired_at": pd.to_datetime(repairs["repaired_at"], utc=True),
        "night_before": pd.Series(before, index=repairs.index, dtype="int64"),
        "night_after": pd.Series(after, index=repairs.index, dtype="int64")},
        geometry=pts, crs=WGS84)
    out["watching"] = out["repaired_at"] + window > now
    return out


def repair_months(concerns: gpd.GeoDataFrame, lights: gpd.GeoDataFrame,
                  hoods: gpd.GeoDataFrame, *, tz: str, now: pd.Timestamp,
                  radius_m: float = REPAIR_RADIUS_M, days: float = REPAIR_DAYS,
                  match_m: float = REPAIR_MATCH_M) -> pd.DataFrame:
    """Lights repaired in each month and the night-time concerns near them before and
    after (:func:`repair_counts`), per neighborhood of the pole."""
    from cpted.outcomes import repairs_from_reports

    cols = ["repairs", "night_before", "night_after", "repairs_watching"]
    if concerns.empty or lights.empty:
        return _empty(cols)
    crs = metric_crs(lights)
    start = pd.to_datetime(concerns["updated_datetime"], utc=True).min()
    repairs = repairs_from_reports(concerns, lights, crs, start=start,
                                   end=now + pd.Timedelta(seconds=1), match_m=match_m)
    if repairs.empty:
        return _empty(cols)
    counted = repair_counts(repairs, lights, concerns, crs=crs, now=now, radius_m=radius_m,
                            days=days)
    counted["neighborhood_id"] = hood_of(counted.geometry, hoods)
    counted = counted[counted["neighborhood_id"].notna()]
    if counted.empty:
        return _empty(cols)
    counted["month"] = local_month(counted["repaired_at"], tz)
    g = counted.groupby(["neighborhood_id", "month"])
    return pd.DataFrame({"repairs": g.size(), "night_before": g["night_before"].sum(),
                         "night_after": g["night_after"].sum(),
                         "repairs_watching": g["watching"].sum().astype("int64")})


def survey_stats(safe: Sequence[int] | np.ndarray, knows: Sequence[bool] | np.ndarray, *,
                 min_answers: int = MIN_SURVEY_ANSWERS,
                 confidence: float = CONFIDENCE) -> dict[str, float]:
    """The survey's aggregates of one group of answers: ``survey_answers``, then (with at
    least ``min_answers``) ``safe_mean``, ``safe_low``, ``safe_high`` (t interval, cut to
    1-5) and ``knows_contact``, ``knows_low``, ``knows_high`` (Wilson), else NaN."""
    n = len(safe)
    out: dict[str, float] = {"survey_answers": float(n)}
    nan = math.nan
    if n < max(1, min_answers):
        return out | dict.fromkeys(("safe_mean", "safe_low", "safe_high", "knows_contact",
                                    "knows_low", "knows_high"), nan)
    mean, low, high = t_interval(safe, confidence=confidence)
    k = int(np.asarray(knows, dtype=bool).sum())
    wl, wh = wilson_interval(k, n, confidence=confidence)
    return out | {"safe_mean": mean, "safe_low": low, "safe_high": high,
                  "knows_contact": k / n, "knows_low": wl, "knows_high": wh}


def survey_months(answers: pd.DataFrame, *, tz: str,
                  min_answers: int = MIN_SURVEY_ANSWERS) -> pd.DataFrame:
    """The survey per neighborhood and month (:func:`survey_stats` of each).

    ``answers`` have ``at`` (UTC), ``neighborhood_id``, ``safe_after_dark`` (1-5) and
    ``knows_contact`` (bool), and no place.
    """
    cols = ["survey_answers", "safe_mean", "safe_low", "safe_high", "knows_contact",
            "knows_low", "knows_high"]
    a = answers[answers["neighborhood_id"].notna()] if len(answers) else answers
    if a.empty:
        return _empty(cols)
    a = a.assign(month=local_month(a["at"], tz), neighborhood_id=a["neighborhood_id"]
                 .astype(str))
    rows = {key: survey_stats(g["safe_after_dark"].to_numpy(), g["knows_contact"].to_numpy(),
                              min_answers=min_answers)
            for key, g in a.groupby(["neighborhood_id", "month"])}
    out = pd.DataFrame.from_dict(rows, orient="index", columns=cols)
    out.index = pd.MultiIndex.from_tuples(list(rows), names=["neighborhood_id", "month"])
    out["survey_answers"] = out["survey_answers"].astype("int64")
    return out


def survey_summary(answers: pd.DataFrame, hoods: pd.DataFrame, *,
                   since: pd.Timestamp | None = None,
                   min_answers: int = MIN_SURVEY_ANSWERS) -> pd.DataFrame:
    """The survey per neighborhood, pooled over the answers since ``since`` (all when
    None): ``neighborhood_id``, ``name`` and :func:`survey_stats`; every neighborhood a
    row, in the layer's order."""
    a = answers if since is None else answers[answers["at"] >= since]
    rows = []
    for nid, name in zip(hoods["id"].astype(str), hoods["name"], strict=True):
        mine = a[a["neighborhood_id"].astype(str) == nid]
        rows.append({"neighborhood_id": nid, "name": str(name or nid)}
                    | survey_stats(mine["safe_after_dark"].to_numpy(),
                                   mine["knows_contact"].to_numpy(), min_answers=min_answers))
    out = pd.DataFrame(rows)
    out["survey_answers"] = out["survey_answers"].astype("int64")
    return out


# -- all together ----------------------------------------------------------------------

@dataclass(frozen=True)
class ProgressInputs:
    """What :func:`compute` measures, each read as the viewer may see it."""

    neighborhoods: gpd.GeoDataFrame
    concerns: gpd.GeoDataFrame
    reopenings: pd.DataFrame
    target_days: Mapping[str, float]
    plans: pd.DataFrame
    plan_neighborhoods: pd.Series
    audits: pd.DataFrame
    lights: gpd.GeoDataFrame
    survey: pd.DataFrame


@dataclass(frozen=True)
class Progress:
    """The measures per neighborhood and month: :attr:`months` holds one row per
    neighborhood and month from the first month with any data to the current one, with
    the columns of :data:`MEASURES` (counts 0 where nothing happened, other measures NaN
    where there is nothing to measure)."""

    months: pd.DataFrame
    names: dict[str, str]
    tz: str
    made_at: pd.Timestamp
    min_survey_answers: int = MIN_SURVEY_ANSWERS
    notes: tuple[str, ...] = field(default=())

    def of(self, neighborhood_id: str) -> pd.DataFrame:
        """One neighborhood's months, oldest first, indexed by month."""
        m = self.months
        return m[m["neighborhood_id"] == str(neighborhood_id)].set_index("month").drop(
            columns="neighborhood_id")


def compute(inputs: ProgressInputs, *, tz: str, now: pd.Timestamp) -> Progress:
    """Every measure of the module's description, per neighborhood and local month."""
    now = pd.Timestamp(now)
    now = now.tz_localize("UTC") if now.tzinfo is None else now.tz_convert("UTC")
    hoods = inputs.neighborhoods
    parts = [
        concern_months(inputs.concerns, hoods, tz=tz, now=now,
                       target_days=inputs.target_days, reopenings=inputs.reopenings),
        plan_months(inputs.plans, inputs.plan_neighborhoods, tz=tz, now=now),
        audit_months(inputs.audits, tz=tz),
        repair_months(inputs.concerns, inputs.lights, hoods, tz=tz, now=now),
        survey_months(inputs.survey, tz=tz),
    ]
    parts = [p for p in parts if len(p)]
    joined = pd.concat(parts, axis=1) if parts else _empty([])
    ids = hoods["id"].astype(str).tolist()
    names = {i: str(n or i) for i, n in zip(ids, hoods["name"], strict=True)}
    last = local_month(pd.Series([now]), tz).iloc[0]
    months_seen = joined.index.get_level_values("month")
    first = months_seen.min() if len(months_seen) else last
    first = min(first, last)
    grid = pd.MultiIndex.from_product([ids, pd.period_range(first, last, freq="M")],
                                      names=["neighborhood_id", "month"])
    joined = joined[joined.index.get_level_values("neighborhood_id").isin(ids)]
    table = joined.reindex(grid)
    for col in MEASURES:
        if col not in table.columns:
            table[col] = np.nan
    met = table["met"] if "met" in table.columns else pd.Series(np.nan, index=table.index)
    table["closed_within_target"] = met / table["due"].where(table["due"] > 0)
    for col in COUNTS:
        table[col] = table[col].fillna(0).astype("int64")
    table = table[list(MEASURES)].reset_index()
    return Progress(months=table, names=names, tz=tz, made_at=now)
