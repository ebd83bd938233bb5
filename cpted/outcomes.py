"""After repairs: night-time concerns near repaired lights, against a comparison area.

A repair is a "streetlight out" report closed in the window, matched to its pole.
For each repair, night-time concerns (other than light-out reports themselves)
are counted within ``radius_m`` of the pole in the ``days`` before and after the
repair; the comparison area is the streets of the same classes further than
``2 * radius_m`` from every repaired pole, counted (within 50 m of those streets)
over the same days. Both are put per km of street per window (summed over the
repairs: the street within ``radius_m`` of each repaired pole, and the whole
comparison length once per repair), and the difference in differences is

    (treated after - treated before) - (comparison after - comparison before).

What this can show: whether night-time reports near repaired lights changed more
than elsewhere over the same weeks. What it cannot: that the repair caused it.
Reports measure people reporting, not crime or fear; counts are small; repairs
are not random (lights near busy places may be fixed first); and a change near
one light may be displaced to the next street.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

CAVEATS = (
    "This compares reports, not crime: a change can come from people reporting more or "
    "less. Repairs were not assigned at random, counts near a few lights are small, and "
    "activity may move to nearby streets. A difference here is a reason to look closer, "
    "not proof that the repairs worked."
)


@dataclass(frozen=True)
class Outcome:
    repairs: int
    days: float
    radius_m: float
    treated_km: float
    comparison_km: float
    treated_before: int
    treated_after: int
    comparison_before: int
    comparison_after: int

    def rate(self, count: int, km: float) -> float:
        return count / km if km else float("nan")

    @property
    def treated_change(self) -> float:
        return (self.rate(self.treated_after, self.treated_km)
                - self.rate(self.treated_before, self.treated_km))

    @property
    def comparison_change(self) -> float:
        return (self.rate(self.comparison_after, self.comparison_km)
                - self.rate(self.comparison_before, self.comparison_km))

    @property
    def did(self) -> float:
        """Difference in differences, in night-time concerns per km of street per window."""
        return self.treated_change - self.comparison_change

    def table(self) -> pd.DataFrame:
        return pd.DataFrame({
            "area": ["near repaired lights", "comparison streets"],
            "street km x windows": [self.treated_km, self.comparison_km],
            "before": [self.treated_before, self.comparison_before],
            "after": [self.treated_after, self.comparison_after],
            "before per km": [self.rate(self.treated_before, self.treated_km),
                              self.rate(self.comparison_before, self.comparison_km)],
            "after per km": [self.rate(self.treated_after, self.treated_km),
                             self.rate(self.comparison_after, self.comparison_km)],
            "change per km": [self.treated_change, self.comparison_change],
        })


def repairs_from_reports(concerns: gpd.GeoDataFrame, lights: gpd.GeoDataFrame, crs: object,
                         *, start: pd.Timestamp, end: pd.Timestamp,
                         match_m: float = 30.0) -> pd.DataFrame:
    """Closed "streetlight out" reports in [start, end) matched to a pole: the repairs."""
    from cpted.lighting import match_outages

    closed = concerns[(concerns["service_code"] == "streetlight_out")
                      & (concerns["status"] == "closed")
                      & (concerns["updated_datetime"] >= start)
                      & (concerns["updated_datetime"] < end)]
    matched = match_outages(lights, closed, crs, radius_m=match_m)
    when = closed.set_index("service_request_id")["updated_datetime"]
    matched["repaired_at"] = when.reindex(matched["service_request_id"]).to_numpy()
    return matched.drop_duplicates("pole_id", keep="first").reset_index(drop=True)


def repair_outcome(repairs: pd.DataFrame, lights: gpd.GeoDataFrame,
                   streets: gpd.GeoDataFrame, concerns: gpd.GeoDataFrame, crs: object, *,
                   radius_m: float = 100.0, days: float = 90.0) -> Outcome:
    """Night-time concerns near ``repairs`` (pole_id, repaired_at), before and after."""
    night = concerns[(concerns["time_of_day"] == "night")
                     & (concerns["service_code"] != "streetlight_out")]
    poles = lights.set_index(lights["id"].astype(str)).to_crs(crs).geometry
    pts = poles.reindex(repairs["pole_id"].astype(str)).values
    lines = streets.to_crs(crs).geometry.values
    tree = shapely.STRtree(lines)
    treated_lines = np.unique(tree.query(pts, predicate="dwithin", distance=radius_m)[1])
    excluded = np.unique(tree.query(pts, predicate="dwithin", distance=2 * radius_m)[1])
    classes = set(streets["class"].iloc[treated_lines]) if len(treated_lines) else set()
    comparison = np.array([k for k in range(len(lines)) if k not in set(excluded)
                           and streets["class"].iloc[k] in classes], dtype=int)
    treated_km = 0.0
    for p in pts:  # street within the radius of each repaired pole, once per repair
        near = tree.query(p, predicate="dwithin", distance=radius_m)
        if len(near):
            circle = shapely.buffer(p, radius_m, quad_segs=64)
            treated_km += float(shapely.length(shapely.intersection(lines[near], circle)).sum())
    treated_km /= 1000
    comparison_km = float(shapely.length(lines[comparison]).sum() / 1000) * len(repairs)
    comp_tree = shapely.STRtree(lines[comparison]) if len(comparison) else None
    night_pts = night.to_crs(crs).geometry.values
    times = night["requested_datetime"].dt.tz_convert("UTC").dt.tz_localize(None).to_numpy()
    window = np.timedelta64(int(days * 86400), "s")
    tb = ta = cb = ca = 0
    for k, row in repairs.reset_index(drop=True).iterrows():
        t = np.datetime64(pd.Timestamp(row["repaired_at"]).tz_convert("UTC").tz_localize(None))
        before = (times >= t - window) & (times < t)
        after = (times > t) & (times <= t + window)
        close = shapely.dwithin(night_pts, pts[k], radius_m)
        tb += int((before & close).sum())
        ta += int((after & close).sum())
        if comp_tree is not None:
            cb += _near_count(comp_tree, night_pts[before])
            ca += _near_count(comp_tree, night_pts[after])
    return Outcome(len(repairs), days, radius_m, treated_km, comparison_km, tb, ta, cb, ca)


def _near_count(tree: shapely.STRtree, points: np.ndarray) -> int:
    """How many of ``points`` lie within 50 m of any line in ``tree``."""
    if len(points) == 0:
        return 0
    hit, _ = tree.query(points, predicate="dwithin", distance=50.0)
    return len(np.unique(hit))
