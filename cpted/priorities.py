"""A budgeted streetlight work list: repairs, upgrades and new poles, ranked by benefit.

Streets are sampled every few metres. A sample point is dark when its modelled
lux is below its street's minimum target (IES RP-8 walkway average divided by the
allowed average:minimum ratio). Each candidate's effect is the lux it adds at every
sample point within its reach, found by re-running the lighting model there. A
dark point is lifted when the candidates chosen *together* add the lux it lacks, so
two repairs that only jointly light a point both count toward it
(:mod:`cpted.selection`). A point's value is the street length it stands for, times
its street class's pedestrian exposure weight, times (1 + the night-time concerns
near its street), times an optional equity weight of its neighborhood.

A street counts as fixed only when, with the chosen work, it meets all three of its
class's RP-8 tests: average, minimum and uniformity (:func:`cpted.lighting.judge_streets`).

Choosing candidates under a budget is done by :func:`cpted.selection.greedy_lifts`
and checked against the exact integer programme solved by HiGHS
(``scipy.optimize.milp``, :func:`exact_plan`).
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cpted import i18n
from cpted import lighting as lt
from cpted.i18n import N_, _
from cpted.selection import ExactResult as ExactResult
from cpted.selection import Lifts, exact_lifts, greedy_lifts
from cpted.selection import exact as exact
from cpted.selection import greedy as greedy
from layers.errors import UnusableInputError

#: The kinds of work item, kept in English (``Candidate.kind``) and shown as
#: ``_(KIND_WORDS[kind])``.
KIND_WORDS: dict[str, str] = {"repair": N_("repair"), "upgrade": N_("upgrade"),
                              "new pole": N_("new pole")}

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class Costs:
    repair_usd: float
    upgrade_usd: float
    new_pole_usd: float

    @classmethod
    def default(cls) -> Costs:
        p = _settings()
        return cls(float(p["repair_usd"]), float(p["upgrade_usd"]), float(p["new_pole_usd"]))


def _settings() -> dict[str, Any]:
    priorities: dict[str, Any] = tomllib.loads(
        lt.LIGHTING_DATA.read_text(encoding="utf-8"))["priorities"]
    return priorities


@dataclass
class Candidate:
    id: str
    kind: str  # repair, upgrade, new pole
    pole_id: str
    x: float
    y: float
    cost: float
    fixes: frozenset[int] = frozenset()  # the dark points it lifts on its own
    value: float = 0.0  # their value
    points: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.intp))
    adds_lux: np.ndarray = field(default_factory=lambda: np.empty(0))  # at those points


@dataclass
class Plan:
    segments: pd.DataFrame  # segment_lux columns + night_concerns
    points: pd.DataFrame  # street sample points: seg, x, y, lux, target_min, length_m, value
    candidates: list[Candidate]
    chosen: list[int]  # indices into candidates, in the order taken
    budget: float
    crs: object
    night_xy: np.ndarray = field(default_factory=lambda: np.empty((0, 2)))  # metric
    concern_radius_m: float = 50.0
    data: lt.LightingData | None = None

    @property
    def spent(self) -> float:
        return float(sum(self.candidates[i].cost for i in self.chosen))

    @property
    def values(self) -> np.ndarray:
        values: np.ndarray = self.points["value"].to_numpy()
        return values

    def lifts(self) -> Lifts:
        """The selection problem: each candidate's lux at the dark points it reaches."""
        pts = self.points
        deficit = np.maximum(pts["target_min"].to_numpy() - pts["lux"].to_numpy(), 0.0)
        dark = [deficit[c.points] > 0 for c in self.candidates]
        return Lifts([c.points[d] for c, d in zip(self.candidates, dark, strict=True)],
                     [c.adds_lux[d] for c, d in zip(self.candidates, dark, strict=True)],
                     deficit, self.values)

    def lux_after(self, chosen: Sequence[int] | None = None) -> np.ndarray:
        """Lux at every sample point with the ``chosen`` items (default: the plan's) done."""
        lux: np.ndarray = self.points["lux"].to_numpy().copy()
        for i in self.chosen if chosen is None else chosen:
            np.add.at(lux, self.candidates[i].points, self.candidates[i].adds_lux)
        return lux

    def fixed_points(self, chosen: Sequence[int] | None = None) -> set[int]:
        """Dark points lifted to their minimum by the ``chosen`` items together."""
        lux = self.lux_after(chosen)
        was = self.points["lux"].to_numpy() < self.points["target_min"].to_numpy()
        now = lux >= self.points["target_min"].to_numpy() - 1e-9
        return set(np.flatnonzero(was & now).tolist())

    def value(self, chosen: Sequence[int] | None = None) -> float:
        v = self.values
        return float(sum(v[s] for s in self.fixed_points(chosen)))

    def streets_after(self, chosen: Sequence[int] | None = None) -> pd.DataFrame:
        """Each street judged by RP-8's average, minimum and uniformity with the work done.

        :func:`cpted.lighting.judge_streets` columns, one row per street in order.
        """
        data = self.data or lt.load_lighting_data()
        verdict = lt.judge_streets(self.lux_after(chosen), self.points["seg"].to_numpy(),
                                   self.segments["class"].to_numpy(dtype=object), data)
        return pd.DataFrame(verdict)

    def streets_fixed(self, chosen: Sequence[int] | None = None) -> np.ndarray:
        """Positions of the streets short of RP-8 now that meet all three tests after."""
        after = self.streets_after(chosen)
        fixed: np.ndarray = np.flatnonzero(self.segments["dark"].to_numpy()
                                           & ~after["dark"].to_numpy())
        return fixed

    def _near(self, points: set[int]) -> int:
        """Night-time concerns within the concern radius of any of ``points``."""
        if not points or not len(self.night_xy):
            return 0
        idx = list(points)
        tree = shapely.STRtree(shapely.points(self.night_xy))
        geoms = shapely.points(self.points["x"].to_numpy()[idx], self.points["y"].to_numpy()[idx])
        _, hit = tree.query(geoms, predicate="dwithin", distance=self.concern_radius_m)
        return len(np.unique(hit))

    def summary(self) -> dict[str, float]:
        fixed = self.fixed_points()
        length = self.points["length_m"].to_numpy()
        km = float(length[list(fixed)].sum() / 1000) if fixed else 0.0
        near = self._near(fixed)
        dark = self.points["lux"] < self.points["target_min"]
        streets = self.streets_fixed()
        return {"spent_usd": self.spent, "dark_km_fixed": km, "night_concerns_near": near,
                "items": len(self.chosen),
                "dark_km_total": float(self.points.loc[dark, "length_m"].sum() / 1000),
                "streets_fixed": len(streets),
                "streets_fixed_km": float(self.segments["length_m"].to_numpy()[streets].sum()
                                          / 1000)}

    def summary_text(self) -> str:
        s = self.summary()
        return _("{spent} fixes {km} km of dark street near {near} night-time concern(s) "
                 "({items} item(s); {total} km of street is below its minimum target now). "
                 "{streets} street(s) ({streets_km} km) then meet all three RP-8 tests: "
                 "average, minimum and uniformity.").format(
            spent=i18n.money(s["spent_usd"], cents=False),
            km=i18n.number(s["dark_km_fixed"], digits=1),
            near=i18n.number(s["night_concerns_near"]), items=i18n.number(s["items"]),
            total=i18n.number(s["dark_km_total"], digits=1),
            streets=i18n.number(s["streets_fixed"]),
            streets_km=i18n.number(s["streets_fixed_km"], digits=1))

    def work_list(self) -> pd.DataFrame:
        """The chosen items in order, each with its share of what the list fixes.

        Columns: ``rank``, ``item``, ``kind`` (repair, upgrade, new pole), ``pole_id``
        (blank for a new pole), ``cost_usd``, ``dark_m_fixed`` (metres of street the
        list lifts to the minimum target, each lifted point shared among the items
        lighting it in proportion to the lux each adds, so the column sums to the
        list's total), ``night_concerns_near`` (near the points it helps lift),
        ``benefit`` (the same share of the weighted value), ``streets`` (the streets
        it lights, by name then id: "Elm St (ST-0001, ST-0002)"), and the point
        geometry in EPSG:4326.
        """
        length = self.points["length_m"].to_numpy()
        values = self.values
        seg_of = self.points["seg"].to_numpy()
        lifted = np.zeros(len(self.points), dtype=bool)
        lifted[list(self.fixed_points())] = True
        total = np.zeros(len(self.points))
        for i in self.chosen:
            np.add.at(total, self.candidates[i].points, self.candidates[i].adds_lux)
        rows = []
        for rank, i in enumerate(self.chosen, 1):
            c = self.candidates[i]
            on = lifted[c.points] & (c.adds_lux > 0)
            pts = c.points[on]
            share = c.adds_lux[on] / total[pts]
            segs = sorted(set(seg_of[pts].tolist()))
            rows.append({"rank": rank, "item": c.id, "kind": c.kind, "pole_id": c.pole_id,
                         "cost_usd": c.cost, "dark_m_fixed": float((length[pts] * share).sum()),
                         "night_concerns_near": self._near(set(pts.tolist())),
                         "benefit": float((values[pts] * share).sum()),
                         "streets": street_names(self.segments, segs),
                         "x": c.x, "y": c.y})
        frame = pd.DataFrame(rows, columns=["rank", "item", "kind", "pole_id", "cost_usd",
                                            "dark_m_fixed", "night_concerns_near", "benefit",
                                            "streets", "x", "y"])
        pts = gpd.GeoSeries(gpd.points_from_xy(frame["x"], frame["y"]), crs=self.crs)
        return gpd.GeoDataFrame(frame.drop(columns=["x", "y"]), geometry=pts.to_crs(4326))


def street_names(segments: pd.DataFrame, rows: Sequence[int]) -> str:
    """Streets ``rows`` of ``segments`` by name, each with its segments' ids after it.

    ``"Elm St (ST-0001, ST-0002), 5th St (ST-0107)"``, names in the order first met;
    a street with no name is written by its id alone.
    """
    ids = segments["id"].astype(str).to_numpy()
    names = (segments["name"].to_numpy() if "name" in segments.columns
             else np.full(len(segments), None, dtype=object))
    by_name: dict[str, list[str]] = {}
    unnamed: list[str] = []
    for k in rows:
        name = names[k]
        if isinstance(name, str) and name.strip():
            by_name.setdefault(name.strip(), []).append(str(ids[k]))
        else:
            unnamed.append(str(ids[k]))
    return ", ".join([f"{name} ({', '.join(seg)})" for name, seg in by_name.items()]
                     + unnamed)


def _weights(streets: gpd.GeoDataFrame, seg: pd.DataFrame, x: np.ndarray, y: np.ndarray,
             seg_of: np.ndarray, night_xy: np.ndarray, settings: Mapping[str, Any],
             equity: Mapping[str, float] | None,
             hood_of_street: Sequence[str | None] | None) -> np.ndarray:
    """Per sample point: exposure x (1 + night concerns within the radius) x equity."""
    exposure = settings.get("exposure", {})
    radius = float(settings["concern_radius_m"])
    counts = np.zeros(len(x))
    if len(night_xy):
        tree = shapely.STRtree(shapely.points(night_xy))
        pi, _ = tree.query(shapely.points(x, y), predicate="dwithin", distance=radius)
        counts = np.bincount(pi, minlength=len(x)).astype(float)
        near_seg = np.zeros(len(streets))
        lines = shapely.STRtree(streets.geometry.values)
        _, si = lines.query(shapely.points(night_xy), predicate="dwithin", distance=radius)
        np.add.at(near_seg, si, 1)
        seg["night_concerns"] = near_seg.astype(int)
    else:
        seg["night_concerns"] = 0
    w = np.array([float(exposure.get(str(c), 1.0)) for c in seg["class"]])
    eq = np.ones(len(streets))
    if equity and hood_of_street is not None:
        eq = np.array([float(equity.get(h, 1.0)) if h else 1.0 for h in hood_of_street])
    weights: np.ndarray = (w * eq)[seg_of] * (1 + counts)
    return weights


def candidates_for(streets: gpd.GeoDataFrame, inv: lt.Inventory, data: lt.LightingData,
                   costs: Costs, *, night_concerns: gpd.GeoDataFrame | None = None,
                   equity: Mapping[str, float] | None = None,
                   hood_of_street: Sequence[str | None] | None = None,
                   progress: Progress | None = None) -> Plan:
    """Street verdicts and every candidate with the segments it fixes (nothing chosen yet)."""
    settings = _settings()
    say = progress or (lambda _f, _m: None)
    say(0.05, _("modelling lux along the streets"))
    metric = streets.to_crs(inv.crs)
    x, y, seg_of = lt.sample_streets(metric.geometry, data.sample_spacing_m)
    e0 = lt.illuminance(inv, data, x, y)
    segs = lt.segment_lux(streets, inv, data)
    night_xy = (shapely.get_coordinates(night_concerns.to_crs(inv.crs).geometry.values)
                if night_concerns is not None and len(night_concerns) else np.empty((0, 2)))
    weight = _weights(metric, segs, x, y, seg_of, night_xy, settings, equity, hood_of_street)
    dark = segs["dark"].to_numpy()
    per_point = np.bincount(seg_of, minlength=len(streets))
    point_len = segs["length_m"].to_numpy()[seg_of] / np.maximum(per_point[seg_of], 1)
    t_min = segs["target_min"].to_numpy()[seg_of]
    values = point_len * weight
    points = pd.DataFrame({"seg": seg_of, "x": x, "y": y, "lux": e0, "target_min": t_min,
                           "length_m": point_len, "value": values})
    dark_point = e0 < t_min

    cands: list[Candidate] = []
    for k in np.flatnonzero(inv.out):
        cands.append(Candidate(f"repair {inv.ids[k]}", "repair", str(inv.ids[k]),
                               float(inv.x[k]), float(inv.y[k]), costs.repair_usd))
    low = (~inv.out) & (inv.lumens < float(settings["upgrade_below_lumens"]))
    for k in np.flatnonzero(low):
        cands.append(Candidate(f"upgrade {inv.ids[k]}", "upgrade", str(inv.ids[k]),
                               float(inv.x[k]), float(inv.y[k]), costs.upgrade_usd))
    # new poles: at the darkest sample point of each dark street, if no working pole is near
    gap = float(settings["new_pole_min_gap_m"])
    working = shapely.STRtree(shapely.points(inv.x[~inv.out], inv.y[~inv.out]))
    for s in np.flatnonzero(dark):
        on = np.flatnonzero(seg_of == s)
        if len(on) == 0:
            continue
        j = on[np.argmin(e0[on])]
        if len(working.query(shapely.Point(x[j], y[j]), predicate="dwithin", distance=gap)):
            continue
        cands.append(Candidate(f"new pole on {street_names(segs, [int(s)])}", "new pole", "",
                               float(x[j]), float(y[j]), costs.new_pole_usd))

    # each candidate's effect, computed by re-running the model where it reaches
    n_base = len(inv)
    new_h = float(settings["new_pole_height_m"])
    new_lm = float(settings["new_pole_lumens"])
    up_lm = float(settings["upgrade_to_lumens"])
    news = [c for c in cands if c.kind == "new pole"]
    ext = inv.added(np.array([c.x for c in news]), np.array([c.y for c in news]), new_h,
                    new_lm, str(settings["new_pole_fixture"]),
                    [c.id for c in news]) if news else inv
    ext = ext.with_changes(out=np.zeros(len(ext), dtype=bool))
    index = {str(i): k for k, i in enumerate(inv.ids)}
    tree = shapely.STRtree(shapely.points(x, y))
    new_k = iter(range(n_base, len(ext)))
    light = lt.pole_light(ext, data)
    for n, c in enumerate(cands):
        if n % 50 == 0:
            say(0.1 + 0.85 * n / max(1, len(cands)), _("candidate {n} of {total}").format(
                n=i18n.number(n + 1), total=i18n.number(len(cands))))
        pk = next(new_k) if c.kind == "new pole" else index[c.pole_id]
        pts = tree.query(shapely.Point(ext.x[pk], ext.y[pk]), predicate="dwithin",
                         distance=float(light.reach_m[pk]))
        if len(pts) == 0:
            continue
        pole = np.full(len(pts), pk)
        delta = lt.pair_illuminance(ext, data, pole, x[pts], y[pts], light=light)
        if c.kind == "upgrade":  # lux scales with the pole's lumens
            delta = delta * (up_lm / ext.lumens[pk] - 1.0)
        keep = delta > 0
        c.points, c.adds_lux = pts[keep].astype(np.intp), delta[keep]
        lifted = pts[dark_point[pts] & (e0[pts] + delta >= t_min[pts])]
        c.fixes = frozenset(lifted.tolist())
        c.value = float(values[lifted].sum())
    say(1.0, _("done"))
    return Plan(segs, points, cands, [], 0.0, inv.crs, night_xy,
                float(settings["concern_radius_m"]), data)


# -- selection -------------------------------------------------------------------------------

def choose(plan: Plan, budget: float) -> Plan:
    """``plan`` with the greedy selection for ``budget`` (joint lifts counted), in the
    order taken."""
    if budget < 0:
        raise UnusableInputError(_("the budget must be zero or more, got {budget}").format(
            budget=budget))
    plan.chosen = greedy_lifts([c.cost for c in plan.candidates], plan.lifts(), budget)
    plan.budget = budget
    return plan


def exact_plan(plan: Plan, budget: float, *, time_limit_s: float | None = None) -> ExactResult:
    """The exact optimum of ``plan``'s selection for ``budget`` (HiGHS), joint lifts counted."""
    return exact_lifts([c.cost for c in plan.candidates], plan.lifts(), budget,
                       time_limit_s=time_limit_s)


# -- from the store ----------------------------------------------------------------------------

@dataclass
class StoreLighting:
    """The lighting inputs read from a store, ready for the model."""

    inv: lt.Inventory
    data: lt.LightingData
    streets: gpd.GeoDataFrame
    night: gpd.GeoDataFrame
    outages: pd.DataFrame  # open "light out" reports matched to poles
    crs: object


def neighborhood_of_streets(streets: gpd.GeoDataFrame, hoods: gpd.GeoDataFrame,
                            crs: object) -> list[str | None]:
    """The id of the neighborhood holding each street's midpoint (None outside all)."""
    mids = gpd.GeoDataFrame(geometry=streets.geometry.to_crs(crs)
                            .interpolate(0.5, normalized=True).to_crs(4326), crs=4326)
    joined = gpd.sjoin(mids, hoods[["id", "geometry"]].to_crs(4326), how="left",
                       predicate="within")
    joined = joined[~joined.index.duplicated()]
    return [None if pd.isna(v) else str(v) for v in joined["id"]]


def night_concerns(concerns: gpd.GeoDataFrame, *, days: float = 365.0) -> gpd.GeoDataFrame:
    """Night-time concerns reported in the last ``days`` before the latest report."""
    night = concerns[concerns["time_of_day"] == "night"]
    if night.empty:
        return night
    latest = concerns["requested_datetime"].max()
    return night[night["requested_datetime"] >= latest - pd.Timedelta(days=days)]


def from_store(store: object, *, outage_radius_m: float = lt.OUTAGE_RADIUS_M,
               data: lt.LightingData | None = None) -> StoreLighting:
    from layers.crs import metric_crs
    from layers.schema import Layer
    from layers.store import Store

    assert isinstance(store, Store)
    lights = store.read(Layer.STREETLIGHTS)
    streets = store.read(Layer.STREETS)
    if lights.empty:
        raise UnusableInputError("there are no streetlights in the store: import the pole "
                                 "inventory first")
    if streets.empty:
        raise UnusableInputError("there are no streets in the store: import the street "
                                 "centrelines first")
    data = data or lt.load_lighting_data()
    crs = metric_crs(lights)
    concerns = store.read(Layer.CONCERNS)
    outages = lt.match_outages(lights, lt.open_outage_reports(concerns), crs,
                               radius_m=outage_radius_m)
    out = lt.poles_out(lights, concerns, crs=crs, radius_m=outage_radius_m)
    inv = lt.inventory(lights, data, crs, out_ids=lights["id"].astype(str)[out].tolist())
    inv = lt.orient_to_streets(inv, streets.geometry)
    return StoreLighting(inv, data, streets, night_concerns(concerns), outages, crs)


@dataclass(frozen=True)
class Darkness:
    """How dark the streets are under one inventory, in kilometres of street.

    ``dark_km`` is what a work list lifts: street length whose modelled lux is under
    its class's minimum target, point by point. ``short_km`` is the length of whole
    streets failing any of RP-8's tests (average, minimum or uniformity); lighting a
    street's darkest stretch rarely brings its average up to target, so it falls far
    more slowly than ``dark_km`` and may not move at all.
    """

    dark_km: float
    short_km: float
    total_km: float


def darkness(streets: gpd.GeoDataFrame, inv: lt.Inventory, data: lt.LightingData, *,
             segments: pd.DataFrame | None = None) -> Darkness:
    """The :class:`Darkness` of ``streets`` lit by ``inv`` (any CRS for the streets).

    ``segments``, when given, is ``lighting.segment_lux(streets, inv, data)`` already
    computed, so it is not computed again.
    """
    seg = lt.segment_lux(streets, inv, data) if segments is None else segments
    if len(seg) != len(streets):
        raise ValueError(f"segments should hold one row per street ({len(streets)}), "
                         f"got {len(seg)}")
    return Darkness(dark_km=lt.below_minimum_km(streets, inv, data),
                    short_km=float(seg.loc[seg["dark"], "length_m"].sum() / 1000),
                    total_km=float(seg["length_m"].sum() / 1000))


def after_work(plan: Plan, inv: lt.Inventory) -> lt.Inventory:
    """``inv`` as it will be once the plan's chosen items are done."""
    settings = _settings()
    chosen = [plan.candidates[i] for i in plan.chosen]
    fixed = [c.pole_id for c in chosen if c.kind == "repair"]
    upgraded = [c.pole_id for c in chosen if c.kind == "upgrade"]
    after = inv.with_changes(
        out=inv.out & ~np.isin(inv.ids, fixed),
        lumens=np.where(np.isin(inv.ids, upgraded),
                        float(settings["upgrade_to_lumens"]), inv.lumens))
    news = [c for c in chosen if c.kind == "new pole"]
    if news:
        after = after.added(np.array([c.x for c in news]), np.array([c.y for c in news]),
                            float(settings["new_pole_height_m"]),
                            float(settings["new_pole_lumens"]),
                            str(settings["new_pole_fixture"]), [c.id for c in news])
    return after
