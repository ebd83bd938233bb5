"""Where to audit next: a data-driven CPTED pre-score for every street segment.

Each segment gets up to five components, each on 0..1 where 1 is the most reason
to walk it:

- ``darkness``: how far its modelled average lux falls short of its class's RP-8
  target, ``1 - min(1, avg_lux / target_avg)`` (:func:`cpted.lighting.segment_lux`,
  with poles out as :func:`cpted.lighting.poles_out` says);
- ``enclosure``: ``1 - openness`` of the exact isovists (:mod:`cpted.isovist`)
  sampled along it every :attr:`PrescoreSettings.sightline_every_m`: the less of
  its surroundings can be seen from the street, the fewer sightlines for natural
  surveillance;
- ``vacant``, ``maintenance``, ``incidents``: vacant parcels, open maintenance
  concerns and incidents of the last year within :attr:`PrescoreSettings.near_m`
  of it, per 100 m of street, put on 0..1 as a percentile rank among the segments
  (0 where there are none), so one busy corner does not flatten the rest.

The pre-score is 100 times the mean of the components the store has data for (a
component with no layer behind it is left out and named). Equal weights are this
project's convention: no study gives weights for these factors. It is a guide to
where a walk audit is most needed, not an audit: the audits' own scores say how a
place is. Once places are audited, :func:`check_against_audits` says how well the
two agree (Spearman's rank correlation, scipy).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import stats

from cpted import lighting as lt
from cpted.isovist import IsovistError, Sightlines
from layers.crs import WGS84, metric_crs

#: The components, in the order they are shown, with their plain names.
COMPONENTS = {
    "darkness": "Darkness (modelled light short of its target)",
    "enclosure": "Closed-in (little can be seen from the street)",
    "vacant": "Vacant parcels near",
    "maintenance": "Open maintenance concerns near",
    "incidents": "Incidents near (last year)",
}
#: Concern groups (the service list's ``group``) counted as maintenance concerns.
MAINTENANCE_GROUPS = frozenset({"Maintenance", "Property"})
VACANT_STATUSES = frozenset({"vacant_lot", "vacant_building"})


@dataclass(frozen=True)
class PrescoreSettings:
    """How the pre-score looks around each segment (distances in metres)."""

    near_m: float = 50.0  # parcels, concerns and incidents this close count
    sightline_every_m: float = 50.0  # one isovist per this much street, at least one
    sightline_radius_m: float = 100.0
    incidents_days: int = 365
    recent_audit_days: int = 365  # an audit younger than this makes a segment "audited"
    audit_radius_m: float = 25.0  # an audit this close to a segment is of it

    def __post_init__(self) -> None:
        for name in ("near_m", "sightline_every_m", "sightline_radius_m", "audit_radius_m"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} should be a positive distance in metres, "
                                 f"got {getattr(self, name)!r}")


@dataclass(frozen=True)
class Prescore:
    """Pre-scores of the street segments (``segments``: WGS84 lines, the streets' index)."""

    segments: gpd.GeoDataFrame
    used: tuple[str, ...]  # components with data behind them
    missing: dict[str, str] = field(default_factory=dict)  # component -> why it is left out


@dataclass(frozen=True)
class AuditCheck:
    """Pre-score against audit score over the audited places (one pair a place)."""

    pairs: pd.DataFrame  # place_name, street, pre_score, overall
    rho: float | None  # Spearman's rank correlation (None under 3 places)
    p_value: float | None

    @property
    def n(self) -> int:
        return len(self.pairs)


def percentile_score(values: pd.Series) -> pd.Series:
    """Each value's percentile rank among ``values`` (0..1, ties share the highest rank),
    0 where the value is 0; aligned on the index."""
    v = values.fillna(0.0).to_numpy(dtype=float)
    ranks = stats.rankdata(v, method="max") / max(len(v), 1)
    return pd.Series(np.where(v > 0, ranks, 0.0), index=values.index)


def _per_100m_near(lines: gpd.GeoSeries, points: gpd.GeoSeries, radius_m: float
                   ) -> pd.Series:
    """How many of ``points`` lie within ``radius_m`` of each line, per 100 m of it
    (both in the same metric CRS); aligned on ``lines``' index."""
    counts = np.zeros(len(lines))
    if len(points):
        tree = shapely.STRtree(points.values)
        li, _ = tree.query(lines.values, predicate="dwithin", distance=radius_m)
        counts = np.bincount(li, minlength=len(lines)).astype(float)
    length = np.maximum(lines.length.to_numpy(), 1.0)
    return pd.Series(100.0 * counts / length, index=lines.index)


def openness_along(lines: gpd.GeoSeries, sight: Sightlines, every_m: float) -> pd.Series:
    """Mean openness of isovists at points every ``every_m`` along each line (metric CRS;
    at least the midpoint), NaN where every point lies in a building; aligned on the
    index."""
    out = np.full(len(lines), np.nan)
    for k, line in enumerate(lines.values):
        n = max(1, round(line.length / every_m))
        seen = []
        for f in (np.arange(n) + 0.5) / n:
            p = line.interpolate(f, normalized=True)
            try:
                seen.append(sight.at(p.x, p.y).openness)
            except IsovistError:
                continue
        if seen:
            out[k] = float(np.mean(seen))
    return pd.Series(out, index=lines.index)


def street_labels(streets: gpd.GeoDataFrame, crs: object) -> pd.Series:
    """Each segment in words: "Oak Street between 5th Street and 6th Street" (the other
    named streets at its two ends), "Oak Street" when its ends meet no other name,
    "Unnamed street" without a name; aligned on the index."""
    names = (streets["name"].astype(object) if "name" in streets.columns
             else pd.Series(None, index=streets.index, dtype=object))
    names = names.where(names.map(lambda v: isinstance(v, str) and bool(v.strip())), None)
    named = names.to_numpy(dtype=object)
    lines = streets.geometry.to_crs(crs).values
    tree = shapely.STRtree(lines)
    out = []
    for k, line in enumerate(lines):
        own = named[k]
        if own is None:
            out.append("Unnamed street")
            continue
        ends = []
        for end in shapely.get_coordinates(shapely.boundary(line))[:2]:
            hits = tree.query(shapely.Point(end), predicate="dwithin", distance=1.0)
            others = sorted({str(named[h]) for h in hits
                             if named[h] is not None and named[h] != own})
            if others:
                ends.append(others[0])
        ends = list(dict.fromkeys(ends))
        if len(ends) == 2:
            out.append(f"{own} between {ends[0]} and {ends[1]}")
        elif ends:
            out.append(f"{own} at {ends[0]}")
        else:
            out.append(str(own))
    return pd.Series(out, index=streets.index, dtype=object)


def prescore(streets: gpd.GeoDataFrame, *, lights: gpd.GeoDataFrame,
             buildings: gpd.GeoDataFrame, parcels: gpd.GeoDataFrame,
             concerns: gpd.GeoDataFrame, incidents: gpd.GeoDataFrame,
             maintenance_codes: Collection[str], now: datetime,
             settings: PrescoreSettings | None = None,
             lighting_data: lt.LightingData | None = None) -> Prescore:
    """The pre-score of every street segment (see the module).

    Parameters
    ----------
    streets
        Street segments (lines, any CRS) with ``id`` and, when known, ``name`` and
        ``class``.
    lights, buildings, parcels, concerns, incidents
        The store's layers (any CRS; empty frames where a layer is absent). Concerns
        count when open and of a code in ``maintenance_codes``; parcels when their
        ``status`` is vacant; incidents when they occurred in the last
        :attr:`PrescoreSettings.incidents_days` before ``now``.
    maintenance_codes
        The service codes of maintenance concerns (see :data:`MAINTENANCE_GROUPS`).
    now
        Timezone-aware; the end of the incidents' window.
    settings
        Distances and windows; :class:`PrescoreSettings` by default.
    lighting_data
        The lighting model's data; :func:`cpted.lighting.load_lighting_data` by default.

    Returns
    -------
    Prescore
        ``segments`` holds ``id``, ``street`` (:func:`street_labels`), ``class``,
        ``length_m``, the raw measures ``avg_lux``, ``target_avg``, ``openness``,
        ``vacant_per_100m``, ``maintenance_per_100m``, ``incidents_per_100m``, one
        0..1 column per component (NaN where left out), ``pre_score`` (0-100) and the
        geometry (WGS84), on ``streets``' index.

    Raises
    ------
    ValueError
        When ``streets`` is empty or has no CRS.
    """
    if streets.empty:
        raise ValueError("prescore needs street segments, got an empty layer")
    settings = settings or PrescoreSettings()
    crs = metric_crs(streets)
    lines = streets.geometry.to_crs(crs)
    out = gpd.GeoDataFrame({
        "id": streets["id"].astype(str) if "id" in streets.columns
        else pd.Series([str(i) for i in streets.index], index=streets.index),
        "street": street_labels(streets, crs),
        "class": (streets["class"].astype(object).fillna("local") if "class" in streets.columns
                  else pd.Series("local", index=streets.index, dtype=object)),
        "length_m": lines.length,
    }, geometry=streets.geometry.to_crs(WGS84), crs=WGS84)
    missing: dict[str, str] = {}

    if len(lights):
        data = lighting_data or lt.load_lighting_data()
        out_poles = lt.poles_out(lights, concerns, crs=crs)
        inv = lt.inventory(lights, data, crs, out_ids=lights["id"].astype(str)[out_poles].tolist())
        seg = lt.segment_lux(streets, inv, data)  # rows in the streets' order
        out["avg_lux"] = seg["avg_lux"].to_numpy()
        out["target_avg"] = seg["target_avg"].to_numpy()
        out["darkness"] = 1.0 - np.minimum(1.0, out["avg_lux"] / out["target_avg"])
    else:
        out["avg_lux"] = out["target_avg"] = out["darkness"] = np.nan
        missing["darkness"] = "there is no streetlight inventory to model the light from"

    if len(buildings):
        sight = Sightlines(buildings.geometry.to_crs(crs).values,
                           radius_m=settings.sightline_radius_m)
        out["openness"] = openness_along(lines, sight, settings.sightline_every_m)
        out["enclosure"] = 1.0 - out["openness"]
    else:
        out["openness"] = out["enclosure"] = np.nan
        missing["enclosure"] = "there are no building footprints to see sightlines among"

    counted = {
        "vacant": (parcels[parcels["status"].isin(VACANT_STATUSES)]
                   if len(parcels) and "status" in parcels.columns else parcels.iloc[0:0],
                   len(parcels), "there are no parcels in the store"),
        "maintenance": (concerns[concerns["service_code"].isin(set(maintenance_codes))
                                 & (concerns["status"] == "open")]
                        if len(concerns) else concerns, len(concerns),
                        "there are no concerns in the store"),
        "incidents": (_recent(incidents, now, settings.incidents_days), len(incidents),
                      "there are no incidents in the store"),
    }
    for name, (rows, layer_rows, why) in counted.items():
        if not layer_rows:
            out[f"{name}_per_100m"] = out[name] = np.nan
            missing[name] = why
            continue
        pts = rows.geometry.to_crs(crs) if len(rows) else gpd.GeoSeries([], crs=crs)
        pts = pts[~pts.is_empty & pts.notna()].centroid if len(pts) else pts
        density = _per_100m_near(lines, pts, settings.near_m)
        out[f"{name}_per_100m"] = density
        out[name] = percentile_score(density)
    used = tuple(c for c in COMPONENTS if c not in missing)
    if used:
        out["pre_score"] = 100.0 * out[list(used)].mean(axis=1, skipna=True)
    else:
        out["pre_score"] = np.nan
    return Prescore(out, used, missing)


def _recent(incidents: gpd.GeoDataFrame, now: datetime, days: int) -> gpd.GeoDataFrame:
    if incidents.empty or "occurred_datetime" not in incidents.columns:
        return incidents
    when = pd.to_datetime(incidents["occurred_datetime"], utc=True, errors="coerce")
    start = pd.Timestamp(now - timedelta(days=days))
    return incidents[(when >= start) & (when <= pd.Timestamp(now))]


def _audits_near(segments: gpd.GeoDataFrame, audits: gpd.GeoDataFrame, radius_m: float
                 ) -> tuple[np.ndarray, np.ndarray]:
    """(audit position, segment position) of each audit's nearest segment within
    ``radius_m`` (audits further from every segment are left out)."""
    crs = metric_crs(segments)
    pts = gpd.GeoSeries(gpd.points_from_xy(audits["lon"], audits["lat"]), crs=WGS84).to_crs(crs)
    tree = shapely.STRtree(segments.geometry.to_crs(crs).values)
    (ai, si), _ = tree.query_nearest(pts.values, max_distance=radius_m, return_distance=True,
                                     all_matches=False)
    return ai, si


def recently_audited(score: Prescore, audits: gpd.GeoDataFrame, *, now: datetime,
                     settings: PrescoreSettings | None = None) -> pd.Series:
    """Whether each segment has an audit with enough answers to be rated within
    ``audit_radius_m`` made in the last ``recent_audit_days``; aligned on the segments."""
    settings = settings or PrescoreSettings()
    seg = score.segments
    done = pd.Series(False, index=seg.index)
    if audits.empty:
        return done
    cutoff = pd.Timestamp(now - timedelta(days=settings.recent_audit_days))
    fresh = audits[audits["enough_answers"].astype(bool)
                   & (pd.to_datetime(audits["assessed_at"], utc=True) >= cutoff)]
    if fresh.empty:
        return done
    _, si = _audits_near(seg, fresh, settings.audit_radius_m)
    done.iloc[np.unique(si)] = True
    return done


def where_to_audit(score: Prescore, audits: gpd.GeoDataFrame, *, now: datetime, top: int = 10,
                   settings: PrescoreSettings | None = None) -> pd.DataFrame:
    """The ``top`` segments by pre-score with no recent rated audit, highest first."""
    seg = score.segments.assign(audited=recently_audited(score, audits, now=now,
                                                         settings=settings))
    todo = seg[~seg["audited"] & seg["pre_score"].notna()]
    return pd.DataFrame(todo.sort_values(["pre_score", "street"], ascending=[False, True],
                                         kind="stable").head(top).drop(columns="geometry"))


def check_against_audits(score: Prescore, audits: gpd.GeoDataFrame, *,
                         settings: PrescoreSettings | None = None) -> AuditCheck:
    """Spearman's rank correlation between the pre-score and the overall audit score.

    One pair a place: its latest audit with enough answers to be rated, against the
    pre-score of the segment nearest it (within ``audit_radius_m``). A high pre-score
    means more reason to audit and a high audit score a better place, so agreement
    shows as a negative correlation.
    """
    settings = settings or PrescoreSettings()
    cols = ["place_name", "street", "pre_score", "overall"]
    rated = audits[audits["enough_answers"].astype(bool) & audits["overall"].notna()]
    if rated.empty:
        return AuditCheck(pd.DataFrame(columns=cols), None, None)
    latest = rated.sort_values("assessed_at", kind="stable").groupby("place_name").tail(1)
    ai, si = _audits_near(score.segments, latest, settings.audit_radius_m)
    seg = score.segments.iloc[si]
    pairs = pd.DataFrame({"place_name": latest["place_name"].to_numpy()[ai],
                          "street": seg["street"].to_numpy(),
                          "pre_score": seg["pre_score"].to_numpy(),
                          "overall": latest["overall"].to_numpy(dtype=float)[ai]})
    pairs = pairs.dropna(subset=["pre_score"]).sort_values("place_name").reset_index(drop=True)
    if len(pairs) < 3:
        return AuditCheck(pairs, None, None)
    res = stats.spearmanr(pairs["pre_score"], pairs["overall"])
    return AuditCheck(pairs, float(res.statistic), float(res.pvalue))
