"""Responsible use of patrol hotspots: what the evidence is, loops to watch, what goes in.

* **Evidence mix** (:func:`evidence_mix`): the share of records, and of the weight the
  hotspots count, that comes from residents' reports, from police records (imported
  incidents), from CPTED audits and from the city's parcel file. Police records show
  where police were as much as where problems are.
* **Feedback loop** (:func:`feedback_loop`): a patrol sent to a place records more
  there, and those records pull the next patrol back: a runaway feedback loop (Ensign,
  Friedler, Neville, Scheidegger and Venkatasubramanian 2018, "Runaway Feedback Loops in
  Predictive Policing", Proceedings of the 1st Conference on Fairness, Accountability
  and Transparency, PMLR 81:160-171). For each cell with logged visits we count the
  records in equal windows before and after its first visit and flag the cell when the
  count rose by more than chance would give (a one-sided exact binomial test of the
  "after" share of the records against one half, :func:`scipy.stats.binomtest`).
* **No demographic input** (:func:`check_no_demographics`): hotspots, forecasts and
  routes are computed from places, times, kinds of record and weights only; an input
  with a field about people (race, ethnicity, sex, age, ...) is refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import stats

from cpted import hotspots as hs
from cpted import i18n
from cpted.i18n import N_, _, ngettext

#: Words that make a field about people rather than places (matched against each word of
#: a column's name, so ``suspect_race`` and ``VictimAge`` are caught, ``page`` is not).
DEMOGRAPHIC_WORDS = frozenset({
    "race", "racial", "ethnicity", "ethnic", "hispanic", "latino", "sex", "gender",
    "age", "dob", "birth", "birthdate", "religion", "nationality", "citizenship",
    "immigration", "income", "disability", "orientation", "demographic", "demographics",
})

#: Which kind of evidence each layer of :data:`cpted.patrol.SOURCE_KINDS` is.
#: (The groups are kept in English and marked for the catalogue: shown as ``_(group)``.)
EVIDENCE_GROUPS: dict[str, str] = {
    "open concerns": N_("Resident reports"), "night-time concerns": N_("Resident reports"),
    "incidents": N_("Police records"), "weak CPTED audits": N_("CPTED audits"),
    "vacant parcels": N_("City parcel records"),
}
OTHER_GROUP = N_("Other records")
#: Each group inside a sentence.
_IN_A_SENTENCE = {"Resident reports": N_("resident reports"),
                  "Police records": N_("police records"),
                  "CPTED audits": N_("weak CPTED audits"),  # the only ones that count
                  "City parcel records": N_("city parcel records"),
                  "Other records": N_("other records")}
GROUP_ORDER = ("Resident reports", "Police records", "CPTED audits", "City parcel records")
#: Days on each side of a cell's first visit compared by :func:`feedback_loop` (our choice:
#: a season, long enough to count in, short enough that the place has not changed).
FEEDBACK_WINDOW_DAYS = 90
#: Fewer days than this on either side and a cell is not judged.
FEEDBACK_MIN_DAYS = 14
FEEDBACK_ALPHA = 0.05


class DemographicInputError(hs.HotspotError):
    """An input holds a field about people; none is ever used."""


def _words(name: str) -> list[str]:
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", str(name))
    return [w for w in re.split(r"[^a-z0-9]+", spaced.lower()) if w]


def demographic_fields(columns: Iterable[object]) -> list[str]:
    """The column names in ``columns`` that are about people (see the module's notes)."""
    return [str(c) for c in columns if DEMOGRAPHIC_WORDS.intersection(_words(str(c)))]


def check_no_demographics(columns: Iterable[object]) -> None:
    """Refuse an input with a field about people.

    Raises
    ------
    DemographicInputError
        Naming every such field.
    """
    found = demographic_fields(columns)
    if found:
        raise DemographicInputError(
            "hotspots never use information about people; this input has "
            + ", ".join(repr(f) for f in found) + ": leave those fields out")


# -- evidence mix --------------------------------------------------------------------

def evidence_mix(events: pd.DataFrame) -> pd.DataFrame:
    """Where the evidence comes from: one row per kind, in :data:`GROUP_ORDER`.

    Parameters
    ----------
    events : pandas.DataFrame
        ``cpted.patrol.gather_events`` output: ``source`` (a layer kind) and ``weight``.

    Returns
    -------
    pandas.DataFrame
        ``evidence``, ``records``, ``weight``, ``record_share`` and ``weight_share``
        (shares of the totals, 0-1); kinds with no records are left out.
    """
    if len(events) == 0:
        return pd.DataFrame({"evidence": [], "records": [], "weight": [],
                             "record_share": [], "weight_share": []})
    group = events["source"].map(EVIDENCE_GROUPS).fillna(OTHER_GROUP)
    w = events["weight"].astype(float) if "weight" in events else pd.Series(
        1.0, index=events.index)
    out = pd.DataFrame({"evidence": group, "weight": w}).groupby("evidence").agg(
        records=("weight", "size"), weight=("weight", "sum"))
    order = [g for g in (*GROUP_ORDER, OTHER_GROUP) if g in out.index]
    out = out.loc[order].reset_index()
    out["record_share"] = out["records"] / out["records"].sum()
    out["weight_share"] = out["weight"] / out["weight"].sum()
    return out


def evidence_words(mix: pd.DataFrame) -> str:
    """The mix in one sentence ("62% of the weight is resident reports, ...")."""
    if mix.empty:
        return _("No records went in.")
    parts = [ngettext("{group} {share} ({n} record)", "{group} {share} ({n} records)",
                      int(row.records)).format(
        group=_(_IN_A_SENTENCE.get(row.evidence, row.evidence)),
        share=i18n.percent(row.weight_share), n=i18n.number(int(row.records)))
        for row in mix.itertuples()]
    return _("Of the weight the hotspots count: {parts}.").format(parts=", ".join(parts))


# -- feedback loop ---------------------------------------------------------------------

def feedback_loop(events: gpd.GeoDataFrame, visits: gpd.GeoDataFrame, grid: hs.Grid, *,
                  window_days: float = FEEDBACK_WINDOW_DAYS,
                  min_days: float = FEEDBACK_MIN_DAYS,
                  alpha: float = FEEDBACK_ALPHA) -> pd.DataFrame:
    """Records before and after the first logged visit in each visited cell.

    Parameters
    ----------
    events : geopandas.GeoDataFrame
        WGS84 points with ``when`` (UTC); undated rows are left out.
    visits : geopandas.GeoDataFrame
        WGS84 points with ``visited_at`` (``cpted.patrol.visits``).
    grid : cpted.hotspots.Grid
        The cells.
    window_days : float
        Days compared on each side of the first visit, shortened to the records' span.
    min_days : float
        With fewer days of records on either side the cell is not judged.
    alpha : float
        A rise is flagged when the one-sided binomial p is below it.

    Returns
    -------
    pandas.DataFrame
        One row per visited cell: ``place`` (as its first visit names it), ``cell``,
        ``lon``, ``lat`` (its centre), ``visits``,
        ``first_visit`` (UTC), ``days`` (each window's length), ``before``, ``after``,
        ``p`` and ``rose`` (True where the count rose beyond chance); ``judged`` False
        (and ``reason``) where the records do not reach far enough either side.
    """
    columns = ["place", "cell", "lon", "lat", "visits", "first_visit", "days", "before",
               "after", "p", "rose", "judged", "reason"]
    if len(visits) == 0:
        return pd.DataFrame({c: [] for c in columns})
    when = pd.to_datetime(events["when"], utc=True) if len(events) else pd.Series(
        [], dtype="datetime64[ns, UTC]")
    dated = when.notna().to_numpy()
    e_cell = grid.locate(hs.events_xy(events, grid.crs))[dated] if len(events) else \
        np.empty(0, dtype=np.int64)
    e_when = when[dated]
    start = e_when.min() if len(e_when) else None
    end = e_when.max() if len(e_when) else None
    v_cell = grid.locate(hs.events_xy(visits, grid.crs))
    v_when = pd.to_datetime(visits["visited_at"], utc=True)
    centres = gpd.GeoSeries(gpd.points_from_xy(*grid.centres.T), crs=grid.crs).to_crs(
        "EPSG:4326")
    rows = []
    for cell in sorted({int(c) for c in v_cell if c >= 0}):
        here = v_cell == cell
        first = v_when[here].min()
        firsts = visits[here & (v_when == first).to_numpy()]
        place = str(firsts["place"].iloc[0]) if "place" in visits and len(firsts) else ""
        row: dict[str, object] = {
            "place": place, "cell": cell, "lon": float(centres.iloc[cell].x),
            "lat": float(centres.iloc[cell].y), "visits": int(here.sum()),
            "first_visit": first, "days": 0.0, "before": 0, "after": 0, "p": float("nan"),
            "rose": False, "judged": False, "reason": ""}
        if start is None or end is None:
            row["reason"] = _("no dated records")
        else:
            days = min(window_days, (first - start) / pd.Timedelta(days=1),
                       (end - first) / pd.Timedelta(days=1))
            if days < min_days:
                row["reason"] = (_("no records after the first visit yet") if first >= end
                                 else _("too few days of records on one side of the first "
                                        "visit"))
            else:
                span = pd.Timedelta(days=days)
                in_cell = e_when[e_cell == cell]
                before = int(((in_cell >= first - span) & (in_cell < first)).sum())
                after = int(((in_cell >= first) & (in_cell < first + span)).sum())
                total = before + after
                p = (float(stats.binomtest(after, total, 0.5, alternative="greater").pvalue)
                     if total else 1.0)
                row.update(days=float(days), before=before, after=after, p=p,
                           rose=bool(after > before and p < alpha), judged=True)
        rows.append(row)
    return pd.DataFrame(rows, columns=columns)


# -- how this was made -------------------------------------------------------------------

def how_made(*, sources: Sequence[str], mix: pd.DataFrame, hotspots: str,
             emerging: str | None = None, dwell_max_min: float) -> list[str]:
    """The "how this was made" box, one plain sentence (or two) per line.

    ``sources`` describe each layer that went in; ``hotspots`` and ``emerging`` are the
    analyses' own descriptions; ``dwell_max_min`` the longest stop allowed.
    """
    lines = [
        _("What went in: {sources}.").format(
            sources="; ".join(sources) if sources else _("nothing")),
        evidence_words(mix),
        _("How: the area is cut into equal cells and records are counted in each; a hot "
          "spot is a cell whose neighbourhood holds more records than chance would give "
          "(Getis-Ord Gi*, tested by shuffling the counts, with a guard against false "
          "alarms among many cells). Details: {details}.").format(details=hotspots),
    ]
    if emerging:
        lines.append(_("Emerging hot spots: the same test in each slice of time, then a "
                       "trend test per cell, sorted into Esri's classes. Details: "
                       "{details}.").format(details=emerging))
    lines += [
        _("What never goes in: anything about people. There is no race, ethnicity, sex, "
          "age or income in any input; an input carrying such a field is refused."),
        _("What it cannot see: problems nobody reported or recorded. Resident reports "
          "follow who reports; police records follow where police already are, so a "
          "place patrolled more is recorded more (Ensign et al. 2018)."),
        _("Stops last at most {minutes} minutes: Koper (1995, Justice Quarterly 12(4)) "
          "found that the deterrence a stop leaves behind grows with its length up to "
          "about 15 minutes and not beyond; 10 to 15 minutes is the usual advice.").format(
            minutes=i18n.number(dwell_max_min)),
    ]
    return lines
