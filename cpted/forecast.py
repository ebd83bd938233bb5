"""Forecasts of where events will be, each judged on a later window, chosen without peeking.

Methods (all on one grid of :mod:`cpted.hotspots`; a cell's score ranks it):

* **counts**: the events in each cell, the naive baseline every method must beat;
* **steady**: the count less the cell's busiest quarter of the window, so one burst
  (a party, one arrest sweep) does not make a hotspot on its own (our variant);
* **kde**: the quartic kernel density of :func:`cpted.hotspots.kde` (bandwidth rule);
* **gi**: the analytic Gi* z-score of the counts;
* **prospective**: prospective hotspotting (Bowers, Johnson and Pease 2004, Brit. J.
  Criminology 44(5):641-658): each event weighs ``0.5 ** (age / half_life)`` and
  counts in its own cell and, near-repeat style, in the cells ``k`` rings away at
  ``1 / (1 + k)`` of that, up to ``bandwidth`` rings; half-life and bandwidth are picked
  from :data:`HALF_LIVES` x :data:`BANDWIDTHS` on the tuning split;
* **rtm**: the risk-terrain count model of :mod:`cpted.risk_terrain`, when the store
  holds environmental layers;
* **blend**: a Poisson regression (L2) of the next period's counts on the log rates of
  the other methods, its weights fitted on the tuning split.

No peeking: the events before ``evaluate_from`` are split in time. The first third
and the second third tune (prospective parameters, blend weights); the first two
thirds against the last third *validate*, and the method with the best validation
PAI at 1% of the area (then at 5%) is **chosen**; counts keep the choice unless beaten.
Tuning is then redone on the validation split and every method is computed from all
events before ``evaluate_from`` and judged on the events from it on (the evaluation
window), which nothing before has seen.

Metrics, for the top ``share`` of cells by score (:func:`cpted.hotspots.evaluate`):
hit rate ``n / N``; PAI ``(n / N) / (a / A)`` (Chainey, Tompson and Uhlig 2008); PEI*
``n / n*``, with ``n*`` the later events in the same number of cells that had the most
of them, the best any forecast of that size could do (Hunt 2016, NIJ Real-Time Crime
Forecasting Challenge; White, Hunt and Green 2023, Security Journal); RRI (Levine 2008).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from numpy.typing import NDArray

from cpted import hotspots as hs
from cpted import i18n
from cpted import risk_terrain as rt
from cpted.i18n import N_, _

SHARES = (0.01, 0.05)
#: The chosen method should reach this multiple of counts' PAI at 1% (the goal we set).
GOAL = 1.10
#: Each method's name, kept in English (the CLI's and the table's ``name``); shown as
#: ``_(NAMES[key])``.
NAMES = {"counts": N_("Counts"), "steady": N_("Steady counts"), "kde": N_("Kernel density"),
         "gi": N_("Gi* z-score"), "prospective": N_("Prospective hotspotting"),
         "rtm": N_("Risk terrain model"), "blend": N_("Blend")}
#: Half-lives tried, as shares of the window that makes the forecast.
HALF_LIVES = (0.125, 0.5, 2.0)
#: Near-repeat reach tried, in rings of cells around the event's own.
BANDWIDTHS = (0, 1, 2)
STEADY_SLICES = 4
BLEND_ALPHA = 0.01
DAY_S = 86400.0


class ForecastError(hs.HotspotError):
    """A forecast cannot be evaluated from what was given; the message says why."""


@dataclass(frozen=True)
class Windows:
    """The time splits: tune ``[start, tune)`` -> ``[tune, validate)``, validate
    ``[start, validate)`` -> ``[validate, evaluate)``, evaluate ``[start, evaluate)`` ->
    ``[evaluate, end)``."""

    start: pd.Timestamp
    tune: pd.Timestamp
    validate: pd.Timestamp
    evaluate: pd.Timestamp
    end: pd.Timestamp

    def describe(self, tz: str) -> str:
        def d(t: pd.Timestamp) -> str:
            return f"{t.tz_convert(tz):%Y-%m-%d %H:%M}"
        return _("made from {start} to {evaluate} and judged from {evaluate} to {end}; the "
                 "method was chosen on {validate} to {evaluate} (validation), made from the "
                 "events before it").format(start=d(self.start), evaluate=d(self.evaluate),
                                            end=d(self.end), validate=d(self.validate))


def windows(when: pd.Series, evaluate_from: pd.Timestamp | None,
            end: pd.Timestamp | None = None) -> Windows:
    """The splits for events at ``when`` judged from ``evaluate_from`` (see the notes).

    With no ``evaluate_from`` nothing is held back: the evaluation window is empty
    (``evaluate == end``, after the last event) and the method is only chosen.
    """
    known = when.dropna()
    if not len(known):
        raise ForecastError("no events with a time to make a forecast from")
    start = known.min()
    last = known.max()
    stop = end if end is not None else last + pd.Timedelta(seconds=1)
    if evaluate_from is None:
        evaluate_from = stop
    elif not start < evaluate_from:
        raise ForecastError("no events before the evaluation date to make a forecast from")
    elif not stop > evaluate_from:
        raise ForecastError("no events on or after the evaluation date to judge it with")
    validate = start + (evaluate_from - start) * 2 / 3
    return Windows(start, start + (validate - start) / 2, validate, evaluate_from, stop)


@dataclass(frozen=True)
class Prospective:
    half_life_days: float
    bandwidth: int  # rings of cells

    def describe(self) -> str:
        reach = (_("own cell only") if self.bandwidth == 0
                 else _("{n} ring(s) of neighbouring cells").format(
                     n=i18n.number(self.bandwidth)))
        return _("half-life {days} days, {reach}").format(
            days=i18n.number(float(f"{self.half_life_days:.3g}")), reach=reach)


def _rings(grid: hs.Grid, n: int) -> list[sp.csr_matrix]:
    """Binary matrices of the cells exactly k = 1..n rings away."""
    a = grid.neighbours()
    eye = sp.identity(len(grid), format="csr")
    reach = [eye]
    step = (a + eye).tocsr()
    cur = eye
    for _k in range(n):
        cur = (cur @ step).tocsr()
        cur.data[:] = 1.0
        reach.append(cur)
    rings: list[sp.csr_matrix] = [(reach[k] - reach[k - 1]).tocsr() for k in range(1, n + 1)]
    return rings


@dataclass
class _Events:
    xy: NDArray[np.float64]
    w: NDArray[np.float64]
    when: NDArray[np.float64]  # seconds since the epoch

    def window(self, t0: pd.Timestamp, t1: pd.Timestamp) -> _Events:
        keep = (self.when >= t0.timestamp()) & (self.when < t1.timestamp())
        return _Events(self.xy[keep], self.w[keep], self.when[keep])


@dataclass
class _Context:
    grid: hs.Grid
    rings: list[sp.csr_matrix]
    factors_at: Callable[[pd.Timestamp], rt.Factors] | None


def prospective(ctx: _Context, ev: _Events, until: pd.Timestamp, p: Prospective
                ) -> NDArray[np.float64]:
    """Prospective scores (see the module's notes) of events ``ev`` as of ``until``."""
    age = np.maximum(0.0, (until.timestamp() - ev.when) / DAY_S)
    own = hs.cell_counts(ctx.grid, ev.xy, ev.w * 0.5 ** (age / p.half_life_days))
    out = own.copy()
    for k in range(1, p.bandwidth + 1):
        out += (ctx.rings[k - 1] @ own) / (1 + k)
    return out


def steady(ctx: _Context, ev: _Events, t0: pd.Timestamp, t1: pd.Timestamp
           ) -> NDArray[np.float64]:
    """Counts less each cell's busiest of :data:`STEADY_SLICES` equal time slices."""
    edges = np.linspace(t0.timestamp(), t1.timestamp(), STEADY_SLICES + 1)
    part = np.clip(np.searchsorted(edges, ev.when, side="right") - 1, 0, STEADY_SLICES - 1)
    slices = np.array([hs.cell_counts(ctx.grid, ev.xy[part == s], ev.w[part == s])
                       for s in range(STEADY_SLICES)])
    # a hair of the total keeps cells with equal steady counts in order of their total
    out: NDArray[np.float64] = slices.sum(axis=0) - slices.max(axis=0) + 1e-6 * slices.sum(0)
    return out


def _per_day(score: NDArray[np.float64], t0: pd.Timestamp, t1: pd.Timestamp
             ) -> NDArray[np.float64]:
    out: NDArray[np.float64] = score / max((t1 - t0).total_seconds() / DAY_S, 1e-9)
    return out


def _pai(score: NDArray[np.float64], after: NDArray[np.float64], share: float) -> float:
    return hs.evaluate(score, np.ones(len(score)), after, share)["pai"]


def _rank_key(score: NDArray[np.float64], after: NDArray[np.float64]) -> tuple[float, float]:
    a, b = (_pai(score, after, s) for s in SHARES)
    return (a if math.isfinite(a) else -1.0, b if math.isfinite(b) else -1.0)


@dataclass
class _Stage:
    scores: dict[str, NDArray[np.float64]]
    counts: NDArray[np.float64]
    risk: rt.RiskModel | None


def _tune_prospective(ctx: _Context, ev: _Events, t0: pd.Timestamp, t1: pd.Timestamp,
                      after: NDArray[np.float64]) -> Prospective:
    span = (t1 - t0).total_seconds() / DAY_S
    best: tuple[tuple[float, float], Prospective] | None = None
    for share in HALF_LIVES:
        for bw in BANDWIDTHS:
            p = Prospective(share * span, bw)
            key = _rank_key(prospective(ctx, ev, t1, p), after)
            if best is None or key > best[0]:
                best = (key, p)
    assert best is not None
    return best[1]


def _base(ctx: _Context, ev: _Events, t0: pd.Timestamp, t1: pd.Timestamp,
          p: Prospective) -> _Stage:
    """Every method but the blend, made from ``ev`` in ``[t0, t1)``."""
    e = ev.window(t0, t1)
    counts = hs.cell_counts(ctx.grid, e.xy, e.w)
    scores: dict[str, NDArray[np.float64]] = {"counts": counts,
                                              "steady": steady(ctx, e, t0, t1)}
    radius = hs.bandwidth_rule(e.xy, ctx.grid.size) if len(e.xy) else 1.5 * ctx.grid.size
    scores["kde"] = hs.kde(ctx.grid.centres, e.xy, radius, e.w) * ctx.grid.cell_area / 1e6
    if counts.sum() > 0 and np.ptp(counts) > 0:
        a = ctx.grid.neighbours()
        scores["gi"] = hs.gi_star_z(counts, (a + sp.identity(len(counts), format="csr")))
    scores["prospective"] = prospective(ctx, e, t1, p)
    risk = None
    factors = ctx.factors_at(t1) if ctx.factors_at is not None else None
    if factors and counts.sum() > 0:
        risk = rt.fit(factors, counts)
        scores["rtm"] = risk.predict(factors)
    return _Stage(scores, counts, risk)


BLENDED = ("counts", "steady", "kde", "prospective", "rtm")


def _features(stage: _Stage, t0: pd.Timestamp, t1: pd.Timestamp) -> NDArray[np.float64]:
    cols = [np.log1p(_per_day(np.maximum(stage.scores[k], 0.0), t0, t1))
            for k in BLENDED if k in stage.scores]
    return np.column_stack(cols)


def _fit_blend(x: NDArray[np.float64], y: NDArray[np.float64]) -> object:
    from sklearn.linear_model import PoissonRegressor

    return PoissonRegressor(alpha=BLEND_ALPHA, max_iter=1000).fit(x, y)


def _predict(model: object, x: NDArray[np.float64]) -> NDArray[np.float64]:
    out: NDArray[np.float64] = np.asarray(
        model.predict(x), dtype=np.float64)  # type: ignore[attr-defined]
    return out


@dataclass
class Evaluation:
    """All methods on the validation and evaluation windows, and the one chosen."""

    windows: Windows
    table: pd.DataFrame
    chosen: str
    scores: dict[str, NDArray[np.float64]]  # made from every event before the evaluation
    prospective: Prospective
    risk: rt.RiskModel | None
    notes: list[str] = field(default_factory=list)

    @property
    def expected(self) -> NDArray[np.float64]:
        """The chosen method's scores, made from every event before the evaluation date."""
        return self.scores[self.chosen]

    def stage(self, name: str) -> pd.DataFrame:
        return self.table[self.table["stage"] == name].reset_index(drop=True)

    def rows(self) -> list[dict[str, object]]:
        """The evaluation window's rows as plain values (the CLI's JSON)."""
        ev = self.stage("evaluation")
        return [{"method": r.method, "area_share": float(r.area_share),
                 "hit_rate": _num(r.hit_rate), "pai": _num(r.pai),
                 "pei_star": _num(r.pei_star), "rri": _num(r.rri), "chosen": bool(r.chosen)}
                for r in ev.itertuples()]

    def ratio(self, share: float = 0.01) -> float:
        """The chosen method's evaluation PAI over counts' at ``share`` of the area."""
        ev = self.stage("evaluation")
        if ev.empty:
            return float("nan")
        at = ev[ev["area_share"] == share].set_index("method")["pai"]
        return float(at[self.chosen] / at["counts"]) if at["counts"] else float("nan")

    def verdict(self) -> str:
        """A plain sentence: did the chosen method beat counts by the goal on the later
        window? In the language in use."""
        name = _(NAMES[self.chosen])
        r = self.ratio()
        said = {"name": name, "ratio": i18n.number(r, digits=2),
                "goal": i18n.number(GOAL, digits=2), "share": i18n.percent(SHARES[0])}
        if self.stage("evaluation").empty:
            return _("{name} did best on the validation window (the latest third of the "
                     "events, forecast from the rest); nothing was held back to judge it "
                     "on.").format(**said)
        if self.chosen == "counts":
            return _("On the validation window no method beat plain counts, so counts were "
                     "kept; the goal of {goal} times counts' PAI at {share} of the area is not "
                     "reached here.").format(**said)
        if r >= GOAL:
            return _("{name}, chosen on the validation window, caught {ratio} times as many "
                     "later events per area as counts in the top {share} of the area: it beats "
                     "counts by the goal of {goal}.").format(**said)
        if r > 1:
            return _("{name}, chosen on the validation window, did better than counts on "
                     "the later window ({ratio} times counts' PAI at {share} of the area), short "
                     "of the goal of {goal}.").format(**said)
        return _("{name}, chosen on the validation window, did no better than counts on the "
                 "later window ({ratio} times counts' PAI at {share} of the area), short of the "
                 "goal of {goal}.").format(**said)


def _num(x: float) -> float | None:
    return float(x) if x == x and math.isfinite(x) else None


def _rows(stage: str, stg: _Stage, after: NDArray[np.float64],
          shares: Sequence[float]) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for key, score in stg.scores.items():
        for share in shares:
            r = hs.evaluate(score, stg.counts, after, share)
            # area_share is the share asked for; the cells' own share is k / n
            out.append({"stage": stage, "method": key, "name": NAMES[key], **r,
                        "cells_share": r["area_share"], "area_share": share})
    return out


def evaluate_methods(events: gpd.GeoDataFrame, grid: hs.Grid,
                     evaluate_from: pd.Timestamp | None,
                     *, end: pd.Timestamp | None = None,
                     factors_at: Callable[[pd.Timestamp], rt.Factors] | None = None,
                     shares: Sequence[float] = SHARES) -> Evaluation:
    """Every method, tuned, validated and judged on the splits of :func:`windows`.

    ``events`` are WGS84 points with ``when`` and ``weight`` (as
    :func:`cpted.patrol.gather_events` gives them); events without a time (standing
    conditions) are left out. ``factors_at(t)`` gives the risk-terrain factors as known
    at ``t`` (``None``: no risk terrain model). With ``evaluate_from`` ``None`` nothing
    is held back: the method is chosen on the validation window and every method is
    made from all events, with no evaluation rows.
    """
    timed = events[events["when"].notna().to_numpy(dtype=bool)]
    xy = hs.events_xy(timed, grid.crs)
    # as hotspots.analyse counts them: events in the study area and in one of its cells
    inside = ((grid.locate(xy) >= 0) & shapely.contains_xy(grid.area, xy[:, 0], xy[:, 1])
              if len(xy) else np.zeros(0, bool))
    w = (timed["weight"].to_numpy(dtype=float) if "weight" in timed
         else np.ones(len(timed)))
    when = pd.to_datetime(timed["when"], utc=True)
    seconds = (when - pd.Timestamp(0, tz="UTC")).dt.total_seconds().to_numpy()
    ev = _Events(xy[inside], w[inside], seconds[inside])
    win = windows(when[inside], evaluate_from, end)
    ctx = _Context(grid, _rings(grid, max(BANDWIDTHS)), factors_at)

    def target(t0: pd.Timestamp, t1: pd.Timestamp) -> NDArray[np.float64]:
        e = ev.window(t0, t1)
        return hs.cell_counts(grid, e.xy, e.w)

    def stage(t_cut: pd.Timestamp, t_prev: pd.Timestamp
              ) -> tuple[_Stage, Prospective]:
        """Tune on [start, t_prev) -> [t_prev, t_cut), then make from [start, t_cut)."""
        tune_after = target(t_prev, t_cut)
        p = _tune_prospective(ctx, ev.window(win.start, t_prev), win.start, t_prev, tune_after)
        tune = _base(ctx, ev, win.start, t_prev, p)
        made = _base(ctx, ev, win.start, t_cut, p)
        if tune_after.sum() > 0:
            model = _fit_blend(_features(tune, win.start, t_prev), tune_after)
            made.scores["blend"] = _predict(model, _features(made, win.start, t_cut))
        return made, p

    val, _p = stage(win.validate, win.tune)
    val_after = target(win.validate, win.evaluate)
    notes = []
    if val_after.sum() == 0:
        raise ForecastError("no events in the validation window to choose a method with")
    chosen = "counts"
    best = _rank_key(val.scores["counts"], val_after)
    for key, score in val.scores.items():
        k = _rank_key(score, val_after)
        if k > best:
            chosen, best = key, k
    final, p_final = stage(win.evaluate, win.validate)
    if chosen not in final.scores:  # e.g. no blend: nothing in the latest split to fit it on
        notes.append(_("{name} did best on the validation window but could not be made "
                       "from every earlier event, so counts are used.").format(
                           name=_(NAMES[chosen])))
        chosen = "counts"
    rows = _rows("validation", val, val_after, shares)
    if win.end > win.evaluate and evaluate_from is not None:
        rows += _rows("evaluation", final, target(win.evaluate, win.end), shares)
    if "rtm" not in final.scores:
        notes.append(_("No risk terrain model: the store holds no vacant parcels, concerns "
                       "or streetlights out to measure risk factors from (bars and bus stops "
                       "have no layer)."))
    table = pd.DataFrame(rows)
    table["chosen"] = table["method"] == chosen
    return Evaluation(win, table, chosen, final.scores, p_final, final.risk, notes)


def factors_from(grid: hs.Grid, *, parcels: gpd.GeoDataFrame | None = None,
                 concerns: gpd.GeoDataFrame | None = None,
                 streetlights: gpd.GeoDataFrame | None = None
                 ) -> Callable[[pd.Timestamp], rt.Factors] | None:
    """``factors_at`` for :func:`evaluate_methods` from the store's layers, or ``None``
    when none of them holds anything a factor could be measured from."""
    layers = [x for x in (parcels, concerns, streetlights) if x is not None and len(x)]
    if not layers:
        return None

    def at(until: pd.Timestamp) -> rt.Factors:
        return rt.environment(grid, parcels=parcels, concerns=concerns,
                              streetlights=streetlights, until=until)

    return at


def table_text(evaluation: Evaluation) -> list[str]:
    """The evaluation window's rows as aligned lines of text (the CLI's table)."""
    lines = []
    for r in evaluation.stage("evaluation").itertuples():
        mark = "  <- chosen on validation" if r.chosen else ""
        lines.append(f"  {r.name:24} top {r.area_share:4.0%} of area: hit rate "
                     f"{r.hit_rate:6.1%}  PAI {r.pai:6.2f}  PEI* {r.pei_star:5.2f}  "
                     f"RRI {r.rri:5.2f}{mark}")
    return lines
