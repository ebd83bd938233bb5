"""Emerging hot spots: Gi* in space and time, a trend test per cell, and what each cell is.

The steps follow ArcGIS Pro's Emerging Hot Spot Analysis ("How Emerging Hot Spot Analysis
works", Esri, ArcGIS Pro tool reference, space-time pattern mining toolbox,
https://pro.arcgis.com/en/pro-app/latest/tool-reference/space-time-pattern-mining/learnmoreemerging.htm);
the code is ours.

1. **Slices** (:func:`slice_edges`): months or weeks of the project's local calendar,
   counted back from the local midnight after the last event (ArcGIS aligns its time
   steps to the end of the data by default, so the latest slice is a whole one and not
   a stub that would read as "cooling"); data ending on a month's last day gives
   calendar months. Events before the first whole slice, and standing conditions with
   no time (vacant parcels), are left out and counted.
2. **Gi\\* in a space-time neighbourhood** (:func:`cpted.spacetime.cube_weights`), with
   the whole cube as the reference: a cell's neighbourhood in slice ``t`` is the cell
   and its 8 (square) or 6 (hexagon) neighbours in slice ``t`` and in the
   ``time_steps`` slices before it
   (ArcGIS's "neighborhood time step", default 1); the mean and variance Gi\\* compares
   a neighbourhood with are those of every cell in every slice (ArcGIS's "entire cube"
   global window, its default). We chose this over a purely spatial Gi\\* per slice
   because (a) the reference is then fixed, so a cell whose counts rise shows a rising
   z-score that the trend test can see, where per-slice Gi\\* compares each slice with
   its own mean and a city-wide rise is invisible; (b) an empty or near-empty slice,
   common with weekly slices, has no statistic of its own (Gi\\* needs counts that
   vary), while in the cube it is simply low; (c) it is ArcGIS's method, so the classes
   mean what its users expect. ``time_steps=0`` gives the purely spatial neighbourhood
   (still against the whole cube). The z-score is :func:`cpted.hotspots.gi_star_z`'s,
   and its significance that of :func:`cpted.hotspots.gi_star` (where the statistic
   falls in its conditional permutation distribution, the focal bin held fixed; esda's
   ``p_z_sim``), with one difference (:func:`cpted.spacetime.cube_gi`): the mean and
   variance of that distribution are computed exactly, as a sum of ``k`` values drawn without
   replacement from the other bins has them, instead of estimated from simulated
   draws. esda's simulation, without numba (not installed here), costs time growing
   with the square of the number of bins, and a cube has many (cells x slices); the
   exact moments cost time in proportion to them and carry no simulation noise
   (``benchmarks/emerging_bench.py`` measures both on one cube). The false-discovery-rate bins
   are then found, as in :func:`cpted.hotspots.gi_star`, once over every cell of every
   slice, as ArcGIS applies FDR over the whole cube. A bin is a hot (cold) spot when its
   Gi_Bin is positive (negative): 90 % confidence or more.
3. **Trend** (:func:`cpted.trend.mann_kendall`): the Mann-Kendall test of each cell's series of
   z-scores against time (Mann 1945; Kendall 1975), with the variance corrected for
   ties and a continuity correction, as in Gilbert (1987), *Statistical Methods for
   Environmental Pollution Monitoring*, section 16.4. A trend is significant at
   ``trend_alpha`` (two-sided; 0.05 by default, our choice).
4. **Classes** (:func:`classify`), as ArcGIS defines them (its table of pattern names).
   With ``h``/``c`` the cell's hot/cold bins over the ``T`` slices, "90 %" meaning at
   least 90 % of the slices, and "latest" the final slice:

   - *new hot spot*: hot in the latest slice and never hot before;
   - *consecutive*: one unbroken run of at least two hot slices ending with the latest,
     never hot before that run, hot in less than 90 %;
   - *intensifying*: hot in 90 % including the latest, with a significant rising trend;
   - *persistent*: hot in 90 %, with no significant trend;
   - *diminishing*: hot in 90 % including the latest, with a significant falling trend;
   - *sporadic*: hot in the latest, on and off before, hot in less than 90 %, never cold;
   - *oscillating*: hot in the latest, cold in some earlier slice, hot in less than 90 %;
   - *historical*: not hot in the latest, but hot in at least 90 %;

   and the cold-spot counterparts with hot and cold swapped (an *intensifying* cold spot
   grows colder: its z-scores fall). Where two definitions fit one series we read them
   so each cell gets one class: a persistent hot spot is hot in the latest slice
   (otherwise it is historical, whose definition names the latest slice); a significant
   latest slice decides before history, so a cell 90 % hot but a cold spot now is an
   oscillating cold spot, not a historical hot spot; an earlier cold (hot) slice makes
   a cell oscillating even when it was never hot (cold) before, as ArcGIS's oscillating
   definition names no other condition. Anything else is *no pattern detected*.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from numpy.typing import NDArray

from cpted import hotspots as hs
from cpted import i18n
from cpted.i18n import N_, _, ngettext
from cpted.spacetime import cube_gi, cube_weights
from cpted.trend import MannKendall, mann_kendall
from layers.crs import metric_crs

if TYPE_CHECKING:
    from cpted.patrol import Source

SliceLength = Literal["month", "week"]
SLICE_LENGTHS: tuple[SliceLength, ...] = ("month", "week")
#: The fewest whole slices we analyse: with 4, the Mann-Kendall test can just reach
#: p < 0.1; with fewer it can never find a trend.
MIN_SLICES = 4
#: Below this many slices we say that the trend test has little power.
FEW_SLICES = 10
#: Cells x slices we analyse at most (the permutation test's time and memory grow with it).
MAX_BINS = 3_000_000
#: Share of slices that makes a cell persistently hot or cold (ArcGIS's 90 percent).
PERSISTENT_SHARE = 0.9
TREND_ALPHA = 0.05


class Pattern(StrEnum):
    """The classes of Emerging Hot Spot Analysis, in ArcGIS's order."""

    NONE = N_("No pattern detected")
    NEW_HOT = N_("New hot spot")
    CONSECUTIVE_HOT = N_("Consecutive hot spot")
    INTENSIFYING_HOT = N_("Intensifying hot spot")
    PERSISTENT_HOT = N_("Persistent hot spot")
    DIMINISHING_HOT = N_("Diminishing hot spot")
    SPORADIC_HOT = N_("Sporadic hot spot")
    OSCILLATING_HOT = N_("Oscillating hot spot")
    HISTORICAL_HOT = N_("Historical hot spot")
    NEW_COLD = N_("New cold spot")
    CONSECUTIVE_COLD = N_("Consecutive cold spot")
    INTENSIFYING_COLD = N_("Intensifying cold spot")
    PERSISTENT_COLD = N_("Persistent cold spot")
    DIMINISHING_COLD = N_("Diminishing cold spot")
    SPORADIC_COLD = N_("Sporadic cold spot")
    OSCILLATING_COLD = N_("Oscillating cold spot")
    HISTORICAL_COLD = N_("Historical cold spot")


_HOT = (Pattern.NEW_HOT, Pattern.CONSECUTIVE_HOT, Pattern.INTENSIFYING_HOT,
        Pattern.PERSISTENT_HOT, Pattern.DIMINISHING_HOT, Pattern.SPORADIC_HOT,
        Pattern.OSCILLATING_HOT, Pattern.HISTORICAL_HOT)
_COLD = (Pattern.NEW_COLD, Pattern.CONSECUTIVE_COLD, Pattern.INTENSIFYING_COLD,
         Pattern.PERSISTENT_COLD, Pattern.DIMINISHING_COLD, Pattern.SPORADIC_COLD,
         Pattern.OSCILLATING_COLD, Pattern.HISTORICAL_COLD)
HOT_PATTERNS = frozenset(_HOT)
COLD_PATTERNS = frozenset(_COLD)

#: What each class means, in plain words, by slice length; kept in English and shown
#: in the language in use by :func:`meaning`.
MEANINGS: dict[tuple[Pattern, SliceLength], str] = {
    (Pattern.NONE, "month"):
        N_("none of the patterns below: not a hot or cold spot often enough, or not in the"
           " latest month"),
    (Pattern.NONE, "week"):
        N_("none of the patterns below: not a hot or cold spot often enough, or not in the"
           " latest week"),
    (Pattern.NEW_HOT, "month"): N_("a hot spot in the latest month and never before"),
    (Pattern.NEW_HOT, "week"): N_("a hot spot in the latest week and never before"),
    (Pattern.CONSECUTIVE_HOT, "month"):
        N_("a hot spot in an unbroken run of the latest months (two or more), never before"
           " that run"),
    (Pattern.CONSECUTIVE_HOT, "week"):
        N_("a hot spot in an unbroken run of the latest weeks (two or more), never before "
           "that run"),
    (Pattern.INTENSIFYING_HOT, "month"):
        N_("a hot spot in at least 90% of months, the latest included, and growing hotter"),
    (Pattern.INTENSIFYING_HOT, "week"):
        N_("a hot spot in at least 90% of weeks, the latest included, and growing hotter"),
    (Pattern.PERSISTENT_HOT, "month"):
        N_("a hot spot in at least 90% of months, with no clear trend"),
    (Pattern.PERSISTENT_HOT, "week"):
        N_("a hot spot in at least 90% of weeks, with no clear trend"),
    (Pattern.DIMINISHING_HOT, "month"):
        N_("a hot spot in at least 90% of months, the latest included, but growing cooler"),
    (Pattern.DIMINISHING_HOT, "week"):
        N_("a hot spot in at least 90% of weeks, the latest included, but growing cooler"),
    (Pattern.SPORADIC_HOT, "month"):
        N_("a hot spot in the latest month, on and off before, never a cold spot"),
    (Pattern.SPORADIC_HOT, "week"):
        N_("a hot spot in the latest week, on and off before, never a cold spot"),
    (Pattern.OSCILLATING_HOT, "month"):
        N_("a hot spot in the latest month, but a cold spot in some earlier one"),
    (Pattern.OSCILLATING_HOT, "week"):
        N_("a hot spot in the latest week, but a cold spot in some earlier one"),
    (Pattern.HISTORICAL_HOT, "month"):
        N_("not a hot spot in the latest month, but one in at least 90% of them"),
    (Pattern.HISTORICAL_HOT, "week"):
        N_("not a hot spot in the latest week, but one in at least 90% of them"),
    (Pattern.NEW_COLD, "month"): N_("a cold spot in the latest month and never before"),
    (Pattern.NEW_COLD, "week"): N_("a cold spot in the latest week and never before"),
    (Pattern.CONSECUTIVE_COLD, "month"):
        N_("a cold spot in an unbroken run of the latest months (two or more), never "
           "before that run"),
    (Pattern.CONSECUTIVE_COLD, "week"):
        N_("a cold spot in an unbroken run of the latest weeks (two or more), never before"
           " that run"),
    (Pattern.INTENSIFYING_COLD, "month"):
        N_("a cold spot in at least 90% of months, the latest included, and growing colder"),
    (Pattern.INTENSIFYING_COLD, "week"):
        N_("a cold spot in at least 90% of weeks, the latest included, and growing colder"),
    (Pattern.PERSISTENT_COLD, "month"):
        N_("a cold spot in at least 90% of months, with no clear trend"),
    (Pattern.PERSISTENT_COLD, "week"):
        N_("a cold spot in at least 90% of weeks, with no clear trend"),
    (Pattern.DIMINISHING_COLD, "month"):
        N_("a cold spot in at least 90% of months, the latest included, but growing less "
           "cold"),
    (Pattern.DIMINISHING_COLD, "week"):
        N_("a cold spot in at least 90% of weeks, the latest included, but growing less "
           "cold"),
    (Pattern.SPORADIC_COLD, "month"):
        N_("a cold spot in the latest month, on and off before, never a hot spot"),
    (Pattern.SPORADIC_COLD, "week"):
        N_("a cold spot in the latest week, on and off before, never a hot spot"),
    (Pattern.OSCILLATING_COLD, "month"):
        N_("a cold spot in the latest month, but a hot spot in some earlier one"),
    (Pattern.OSCILLATING_COLD, "week"):
        N_("a cold spot in the latest week, but a hot spot in some earlier one"),
    (Pattern.HISTORICAL_COLD, "month"):
        N_("not a cold spot in the latest month, but one in at least 90% of them"),
    (Pattern.HISTORICAL_COLD, "week"):
        N_("not a cold spot in the latest week, but one in at least 90% of them"),
}


def meaning(pattern: Pattern, slice_length: SliceLength = "month") -> str:
    """What ``pattern`` means, in plain words ("a hot spot in the latest month ..."), in
    the language in use."""
    return _(MEANINGS[(pattern, slice_length)])


# -- slices ------------------------------------------------------------------------

def _step(length: SliceLength) -> pd.DateOffset:
    if length == "month":
        return pd.DateOffset(months=1)
    if length == "week":
        return pd.DateOffset(weeks=1)
    raise hs.HotspotError(f"unknown slice length {length!r}; use one of: "
                          + ", ".join(SLICE_LENGTHS))


def slice_edges(when: pd.Series, length: SliceLength = "month", *, tz: str = "UTC",
                start: pd.Timestamp | None = None, end: pd.Timestamp | None = None
                ) -> pd.DatetimeIndex:
    """The edges of the whole slices covering ``when`` (timezone-aware), oldest first.

    Slices are months or weeks of the local calendar in ``tz``: the last one ends at the
    local midnight after the last time, each earlier edge a whole number of months or
    weeks before it (a month before the 31st is the month's last day). Only whole slices
    are kept, so the first starts on or after the local midnight before the first time.
    ``len(edges) - 1`` is the number of slices. ``start`` and ``end`` (timezone-aware)
    replace the first time's midnight and the last time's next midnight, for data drawn
    from a known period: the latest slice then ends at ``end`` even when nothing
    happened in its last days.

    Raises
    ------
    cpted.hotspots.HotspotError
        When no time is given, the slice length is unknown, or fewer than
        :data:`MIN_SLICES` whole slices fit.
    """
    step = _step(length)
    times = pd.to_datetime(when.dropna())
    if times.empty:
        raise hs.HotspotError("no dated events: emerging hot spots need times")
    local = times.dt.tz_convert(tz)
    end = (local.max().normalize() + pd.Timedelta(days=1) if end is None
           else pd.Timestamp(end).tz_convert(tz))
    start = local.min().normalize() if start is None else pd.Timestamp(start).tz_convert(tz)
    edges = []
    k = 0
    while True:
        edge = end - k * step
        if edge < start:
            break
        edges.append(edge)
        k += 1
    slices = len(edges) - 1
    if slices < MIN_SLICES:
        span = (local.max() - local.min()).days
        raise hs.HotspotError(
            f"the events span {span} days: {slices} whole {length}(s), and the trend test "
            f"needs at least {MIN_SLICES}; choose weeks, or a longer period")
    return pd.DatetimeIndex(edges[::-1])


# -- classes -----------------------------------------------------------------------

def _classify_side(own: NDArray[np.bool_], other: NDArray[np.bool_], rising: bool,
                   falling: bool, side: tuple[Pattern, ...]) -> Pattern | None:
    """The class of a series whose latest slice is significant on this side."""
    new, consecutive, intensifying, persistent, diminishing, sporadic, oscillating, _ = side
    t = len(own)
    if own.sum() >= PERSISTENT_SHARE * t:
        return intensifying if rising else diminishing if falling else persistent
    if other[:-1].any():
        return oscillating
    if not own[:-1].any():
        return new
    run = t - int(np.flatnonzero(~own)[-1]) - 1  # the final unbroken run's length
    if run >= 2 and not own[:t - run].any():
        return consecutive
    return sporadic


def classify(bins: NDArray[np.int64] | Sequence[int], trend_z: float, trend_p: float, *,
             trend_alpha: float = TREND_ALPHA) -> Pattern:
    """The emerging hot spot class of one cell (see the module's notes).

    Parameters
    ----------
    bins : sequence of int
        The cell's Gi_Bin (-3..3) in each slice, oldest first.
    trend_z, trend_p : float
        The Mann-Kendall z and two-sided p of the cell's z-scores.
    trend_alpha : float
        The trend is significant when ``trend_p < trend_alpha``.
    """
    b = np.asarray(bins)
    hot, cold = b > 0, b < 0
    up = bool(trend_p < trend_alpha and trend_z > 0)
    down = bool(trend_p < trend_alpha and trend_z < 0)
    if hot[-1]:
        got = _classify_side(hot, cold, up, down, _HOT)
    elif cold[-1]:
        # a cold spot intensifies as its z-scores fall
        got = _classify_side(cold, hot, down, up, _COLD)
    elif hot.sum() >= PERSISTENT_SHARE * len(b):
        got = Pattern.HISTORICAL_HOT
    elif cold.sum() >= PERSISTENT_SHARE * len(b):
        got = Pattern.HISTORICAL_COLD
    else:
        got = None
    return got or Pattern.NONE


# -- the whole analysis ------------------------------------------------------------

@dataclass
class Emerging:
    """An emerging hot spot analysis: one row per cell, one column per slice.

    ``counts``, ``z``, ``p`` and ``bins`` have shape (cells, slices); ``edges`` the
    slices' edges (local time, oldest first); ``trend`` the Mann-Kendall test of each
    row of ``z``; ``patterns`` one :class:`Pattern` per cell.
    """

    grid: hs.Grid
    edges: pd.DatetimeIndex
    slice_length: SliceLength
    time_steps: int
    counts: NDArray[np.float64]
    z: NDArray[np.float64]
    p: NDArray[np.float64]
    bins: NDArray[np.int64]
    thresholds: dict[float, float]
    trend: MannKendall
    trend_alpha: float
    patterns: list[Pattern]
    n_events: int
    n_undated: int
    n_before: int
    n_outside: int

    @property
    def slices(self) -> int:
        return len(self.edges) - 1

    def trend_words(self) -> list[str]:
        """Each cell's trend in words: rising, falling or no clear trend."""
        sig = self.trend.p < self.trend_alpha
        words = (_("rising"), _("falling"), _("no clear trend"))
        return [words[0] if s and z > 0 else words[1] if s and z < 0 else words[2]
                for s, z in zip(sig, self.trend.z, strict=True)]

    def frame(self) -> gpd.GeoDataFrame:
        """One row per cell (WGS84 polygons): its class, what it means, its records
        over all slices and in the latest, how many slices it was hot and cold, and
        its trend (Mann-Kendall z and p of its z-scores, and in words)."""
        return self.grid.to_frame(
            pattern=[p.value for p in self.patterns],
            meaning=[meaning(p, self.slice_length) for p in self.patterns],
            events=self.counts.sum(axis=1), latest=self.counts[:, -1],
            hot_slices=(self.bins > 0).sum(axis=1), cold_slices=(self.bins < 0).sum(axis=1),
            trend=self.trend_words(), trend_z=self.trend.z, trend_p=self.trend.p)

    def counts_by_pattern(self) -> pd.DataFrame:
        """How many cells fall in each class, every class listed, in ArcGIS's order."""
        found = pd.Series([p.value for p in self.patterns]).value_counts()
        return pd.DataFrame({
            "pattern": [p.value for p in Pattern],
            "cells": [int(found.get(p.value, 0)) for p in Pattern],
            "meaning": [meaning(p, self.slice_length) for p in Pattern]})

    def describe(self) -> str:
        """The analysis in one sentence: slices, cells, neighbourhood, tests, events."""
        first = self.edges[0].strftime("%Y-%m-%d")
        last = (self.edges[-1] - pd.Timedelta(days=1)).strftime("%Y-%m-%d")
        month = self.slice_length == "month"
        if self.time_steps == 0:
            near = (_("the cell and its neighbours in the same month") if month else
                    _("the cell and its neighbours in the same week"))
        elif self.time_steps == 1:
            near = (_("the cell and its neighbours in the same month and the month before "
                      "it") if month else
                    _("the cell and its neighbours in the same week and the week before it"))
        else:
            near = (_("the cell and its neighbours in the same month and the {n} months "
                      "before it") if month else
                    _("the cell and its neighbours in the same week and the {n} weeks "
                      "before it")).format(n=i18n.number(self.time_steps))
        left = [what.format(n=i18n.number(n)) for n, what in (
            (self.n_undated, _("{n} without a date (standing conditions)")),
            (self.n_before, _("{n} outside the whole months") if month else
             _("{n} outside the whole weeks")),
            (self.n_outside, _("{n} outside the study area"))) if n]
        slices = (ngettext("{n} month", "{n} months", self.slices) if month else
                  ngettext("{n} week", "{n} weeks", self.slices)).format(
            n=i18n.number(self.slices))
        said = (_("{slices} from {first} to {last} over {cells} cells of {ha} ha; Gi* of "
                  "{near}, against every cell and month together, conditional permutation "
                  "significance and FDR control; Mann-Kendall trend of each cell's z-scores "
                  "at p < {alpha}; {events} events") if month else
                _("{slices} from {first} to {last} over {cells} cells of {ha} ha; Gi* of "
                  "{near}, against every cell and week together, conditional permutation "
                  "significance and FDR control; Mann-Kendall trend of each cell's z-scores "
                  "at p < {alpha}; {events} events")).format(
            slices=slices, first=first, last=last, cells=i18n.number(len(self.grid)),
            ha=i18n.number(self.grid.cell_area / 1e4, digits=2), near=near,
            alpha=i18n.number(self.trend_alpha), events=i18n.number(self.n_events))
        if left:
            said += _(" ({parts} left out)").format(parts="; ".join(left))
        return said


def _grid_for(events: gpd.GeoDataFrame, xy: NDArray[np.float64], crs: pyproj.CRS,
              boundary: gpd.GeoDataFrame | None, cell_size: float | None,
              shape: hs.Shape) -> hs.Grid:
    """The grid :func:`cpted.hotspots.analyse` would draw for these events."""
    area = hs.study_area(events, crs, boundary)
    inside = shapely.contains_xy(area, xy[:, 0], xy[:, 1])
    if not inside.any():
        raise hs.HotspotError("none of the events lies inside the study area")
    size = cell_size or hs.cell_size_rule(xy[inside], area.area)
    return hs.make_grid(area, crs, size, shape)


def analyse(events: gpd.GeoDataFrame, *, grid: hs.Grid | None = None,
            boundary: gpd.GeoDataFrame | None = None, cell_size: float | None = None,
            shape: hs.Shape = "square", slice_length: SliceLength = "month",
            time_steps: int = 1, tz: str = "UTC", start: pd.Timestamp | None = None,
            end: pd.Timestamp | None = None, weight_column: str | None = "weight",
            fdr: bool = True, trend_alpha: float = TREND_ALPHA) -> Emerging:
    """Emerging hot spots of ``events`` (WGS84 points with a ``when`` column).

    Parameters
    ----------
    events : geopandas.GeoDataFrame
        WGS84 points with ``when`` (timezone-aware; rows without one are left out and
        counted) and, when ``weight_column`` names one, a weight per event.
    grid : cpted.hotspots.Grid, optional
        The cells to use (for example a :class:`cpted.hotspots.Hotspots` grid, so the
        two maps match); otherwise drawn as :func:`cpted.hotspots.analyse` draws it from
        ``boundary``, ``cell_size`` and ``shape``.
    slice_length : {"month", "week"}
        The length of a slice (see :func:`slice_edges`).
    time_steps : int
        Earlier slices in each bin's neighbourhood (ArcGIS's neighborhood time step).
    tz : str
        The time zone whose calendar the slices follow.
    start, end : pandas.Timestamp, optional
        The period the events were drawn from (see :func:`slice_edges`).
    fdr : bool
        Bin with Benjamini-Hochberg false-discovery-rate control (see
        :func:`cpted.spacetime.cube_gi`).
    trend_alpha : float
        Significance of the Mann-Kendall trend (two-sided).

    Raises
    ------
    cpted.hotspots.HotspotError
        With no dated events, fewer than :data:`MIN_SLICES` whole slices, more than
        :data:`MAX_BINS` cells x slices, or counts Gi* cannot test (all equal).
    """
    from cpted.responsible import check_no_demographics

    check_no_demographics(events.columns)
    if len(events) == 0:
        raise hs.HotspotError("no events match the chosen layers and time windows")
    if "when" not in events:
        raise hs.HotspotError("emerging hot spots need each event's time in a 'when' column")
    when = pd.to_datetime(events["when"], utc=True)
    dated = when.notna().to_numpy()
    edges = slice_edges(when[dated], slice_length, tz=tz, start=start, end=end)
    crs = grid.crs if grid is not None else metric_crs(
        boundary if boundary is not None and len(boundary) else events)
    xy = hs.events_xy(events, crs)
    if grid is None:
        grid = _grid_for(events, xy, crs, boundary, cell_size, shape)
    slices = len(edges) - 1
    if len(grid) * slices > MAX_BINS:
        raise hs.HotspotError(
            f"{len(grid):,} cells x {slices} {slice_length}s is {len(grid) * slices:,} "
            f"cells to test, more than {MAX_BINS:,}: choose larger cells or months")
    cell = grid.locate(xy)
    local = when.dt.tz_convert(edges.tz)
    k = np.full(len(events), -1, dtype=np.int64)
    k[dated] = edges.searchsorted(pd.DatetimeIndex(local[dated]), side="right") - 1
    before = dated & ((k < 0) | (k >= slices))  # outside the whole slices
    use = dated & (k >= 0) & (k < slices) & (cell >= 0)
    w = (events[weight_column].to_numpy(dtype=float)
         if weight_column and weight_column in events else np.ones(len(events)))
    n = len(grid)
    flat = np.bincount(k[use] * n + cell[use], weights=w[use], minlength=n * slices)
    gi = cube_gi(flat.astype(float), cube_weights(grid.neighbours(), slices, time_steps),
                 fdr=fdr)

    def cube(values: NDArray[np.generic]) -> NDArray[np.generic]:
        return np.asarray(values).reshape(slices, n).T.copy()

    z = cube(gi.z).astype(float)
    bins = cube(gi.bins).astype(np.int64)
    trend = mann_kendall(z)
    patterns = [classify(bins[i], float(trend.z[i]), float(trend.p[i]),
                         trend_alpha=trend_alpha) for i in range(n)]
    return Emerging(grid, edges, slice_length, time_steps, cube(flat).astype(float), z,
                    cube(gi.p).astype(float), bins, gi.thresholds, trend, trend_alpha,
                    patterns, int(use.sum()), int((~dated).sum()),
                    int(before.sum()), int((dated & ~before & (cell < 0)).sum()))


def source_period(sources: Sequence[Source]) -> tuple[pd.Timestamp | None,
                                                        pd.Timestamp | None]:
    """The period dated ``sources`` were drawn from: the earliest start and the latest
    end (``None`` where any source is open on that side); vacant parcels have no dates
    and do not count."""
    dated = [s for s in sources if s.kind != "vacant parcels"]
    starts = [s.start for s in dated if s.start is not None]
    ends = [s.end for s in dated if s.end is not None]
    start = min(starts) if starts and len(starts) == len(dated) else None
    end = max(ends) if ends and len(ends) == len(dated) else None
    return start, end
