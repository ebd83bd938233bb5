"""Concerns joined to neighborhoods: counts, rates, a scorecard and a monthly trend.

Points are assigned to polygons by :func:`layers.spatial.assign` (a point belongs to
the first polygon in the layer's order that it intersects, so one on a shared boundary
goes to the first of the two). Areas are measured in the UTM zone of the
neighborhoods' extent. Vacant parcels are counted per neighborhood too
(:func:`vacancy`), each at one point of its own.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import geopandas as gpd
import mapclassify
import numpy as np
import pandas as pd

from layers.crs import metric_crs
from layers.spatial import assign, counts

__all__ = ["assign", "classify", "counts", "monthly_trend", "overlay", "parcel_points",
           "rates", "vacancy"]

#: The parcel statuses counted as vacant, and the scorecard's column for each.
VACANT = {"vacant_lot": "vacant_lots", "vacant_building": "vacant_buildings"}

#: Open311 detailed statuses that count as "closed with action" are all closed ones.
DEFAULT_TARGET_DAYS = 30.0


def parcel_points(parcels: gpd.GeoDataFrame) -> gpd.GeoSeries:
    """Each parcel at one point, aligned on ``parcels``' index and in its CRS.

    A point parcel is its own point; a polygon's is its representative point
    (``representative_point``: always inside it, unlike the centroid of an L-shaped or
    curved lot, which may fall on the neighbour or the street).
    """
    geoms = parcels.geometry
    is_point = np.asarray(geoms.geom_type == "Point")
    return gpd.GeoSeries(np.where(is_point, geoms.values,
                                  geoms.representative_point().values),
                         index=parcels.index, crs=parcels.crs)


def vacancy(parcels: gpd.GeoDataFrame | None, neighborhoods: gpd.GeoDataFrame
            ) -> pd.DataFrame:
    """Vacant lots and vacant buildings per neighborhood.

    A parcel is placed by :func:`parcel_points` (a point parcel where it is, a polygon
    at its representative point) and counted in the first neighborhood containing that
    point (:func:`layers.spatial.assign`), so a lot straddling two neighborhoods counts
    once.

    Returns
    -------
    pandas.DataFrame
        ``vacant_lots`` and ``vacant_buildings`` (integers), aligned on
        ``neighborhoods``' index; zeros when ``parcels`` is ``None`` or empty.

    Raises
    ------
    ValueError
        The two frames do not share a CRS.
    """
    n = len(neighborhoods)
    out = pd.DataFrame({col: np.zeros(n, dtype=np.int64) for col in VACANT.values()},
                       index=neighborhoods.index)
    if parcels is None or parcels.empty or n == 0:
        return out
    if parcels.crs != neighborhoods.crs:
        raise ValueError(f"parcels and neighborhoods must share a CRS, got {parcels.crs} and "
                         f"{neighborhoods.crs}")
    which = assign(parcel_points(parcels), neighborhoods.geometry)
    status = parcels["status"].to_numpy()
    for value, col in VACANT.items():
        hit = (which >= 0) & (status == value)
        out[col] = np.bincount(which[hit], minlength=n)
    return out


def overlay(
    concerns: gpd.GeoDataFrame,
    neighborhoods: gpd.GeoDataFrame,
    *,
    target_days: Mapping[str, float] | None = None,
    reopened: set[str] | None = None,
    now: pd.Timestamp | None = None,
    parcels: gpd.GeoDataFrame | None = None,
) -> pd.DataFrame:
    """One row per neighborhood: ``neighborhood_id``, ``name``, ``count``, then the measures.

    Measures: ``area_km2``, ``per_km2``, ``population``, ``per_1000`` (NaN without a
    population), ``open``, ``closed``, ``median_days_to_close`` (closed reports,
    requested to last update), ``closed_within_target`` (share of reports at
    least their category's target age that closed within it), ``reopen_rate``
    (share of ever-closed reports that were reopened); with ``parcels``, also
    ``vacant_lots`` and ``vacant_buildings`` (see :func:`vacancy`).
    """
    out = _concern_measures(concerns, neighborhoods, target_days=target_days,
                            reopened=reopened, now=now)
    if parcels is not None:
        counted = vacancy(parcels, neighborhoods)
        for col in VACANT.values():
            out[col] = counted[col].to_numpy()
    return out


def rates(neighborhoods: gpd.GeoDataFrame, count: np.ndarray) -> pd.DataFrame:
    """``neighborhood_id``, ``name``, ``count`` (one per neighborhood, in its order),
    ``area_km2`` (in the UTM zone of the neighborhoods' extent), ``per_km2``,
    ``population`` and ``per_1000`` (NaN without a population or an area)."""
    n = len(neighborhoods)
    out = pd.DataFrame({
        "neighborhood_id": neighborhoods["id"].astype(str).to_numpy(),
        "name": neighborhoods["name"].to_numpy(),
        "count": np.asarray(count, dtype=np.int64),
    })
    area = neighborhoods.geometry.to_crs(metric_crs(neighborhoods)).area.to_numpy() / 1e6
    out["area_km2"] = area
    out["per_km2"] = out["count"] / np.where(area > 0, area, np.nan)
    pop = (pd.to_numeric(neighborhoods["population"], errors="coerce").to_numpy(dtype=float)
           if "population" in neighborhoods else np.full(n, np.nan))
    out["population"] = pop
    out["per_1000"] = out["count"] / np.where(pop > 0, pop, np.nan) * 1000
    return out


def _concern_measures(concerns: gpd.GeoDataFrame, neighborhoods: gpd.GeoDataFrame, *,
                      target_days: Mapping[str, float] | None,
                      reopened: set[str] | None, now: pd.Timestamp | None) -> pd.DataFrame:
    now = now if now is not None else pd.Timestamp.now(tz="UTC")
    which = assign(concerns.geometry, neighborhoods.geometry)
    n = len(neighborhoods)
    c = pd.DataFrame({
        "hood": which,
        "status": concerns["status"].to_numpy() if len(concerns) else [],
    })
    inside = c["hood"] >= 0
    out = rates(neighborhoods, np.bincount(c.loc[inside, "hood"], minlength=n))
    if len(concerns) == 0:
        for col in ("open", "closed"):
            out[col] = 0
        for col in ("median_days_to_close", "closed_within_target", "reopen_rate"):
            out[col] = np.nan
        return out
    is_open = (c["status"] == "open").to_numpy()
    out["open"] = np.bincount(c["hood"][inside & is_open], minlength=n)
    out["closed"] = np.bincount(c["hood"][inside & ~is_open], minlength=n)
    req = pd.to_datetime(concerns["requested_datetime"], utc=True)
    upd = pd.to_datetime(concerns["updated_datetime"], utc=True)
    days = ((upd - req).dt.total_seconds() / 86400).to_numpy()
    closed_days = np.where(~is_open, days, np.nan)
    frame = pd.DataFrame({"hood": which, "closed_days": closed_days})
    frame = frame[frame["hood"] >= 0]
    out["median_days_to_close"] = frame.groupby("hood")["closed_days"].median().reindex(
        range(n)).to_numpy()
    targets = concerns["service_code"].map(dict(target_days or {})).fillna(
        DEFAULT_TARGET_DAYS).to_numpy(dtype=float)
    age = ((now - req).dt.total_seconds() / 86400).to_numpy()
    eligible = age >= targets
    hit = ~is_open & (days <= targets)
    tgt = pd.DataFrame({"hood": which, "eligible": eligible, "hit": hit & eligible})
    tgt = tgt[(tgt["hood"] >= 0) & tgt["eligible"]].groupby("hood")["hit"].mean()
    out["closed_within_target"] = tgt.reindex(range(n)).to_numpy()
    re_ids = reopened or set()
    was_reopened = concerns["service_request_id"].isin(re_ids).to_numpy()
    ever_closed = ~is_open | was_reopened
    ro = pd.DataFrame({"hood": which, "ever": ever_closed, "re": was_reopened})
    ro = ro[(ro["hood"] >= 0) & ro["ever"]].groupby("hood")["re"].mean()
    out["reopen_rate"] = ro.reindex(range(n)).to_numpy()
    return out


def monthly_trend(concerns: gpd.GeoDataFrame, neighborhoods: gpd.GeoDataFrame,
                  *, tz: str = "UTC") -> pd.DataFrame:
    """Concerns per month (rows, local month start) and neighborhood name (columns)."""
    which = assign(concerns.geometry, neighborhoods.geometry)
    keep = which >= 0
    if not keep.any():
        return pd.DataFrame()
    local = pd.to_datetime(concerns["requested_datetime"], utc=True).dt.tz_convert(tz)
    month = local[keep].dt.tz_localize(None).dt.to_period("M").dt.to_timestamp()
    names = neighborhoods["name"].to_numpy()[which[keep]]
    table = pd.crosstab(month.to_numpy(), names)
    table.index.name = "month"
    full = pd.date_range(table.index.min(), table.index.max(), freq="MS")
    return table.reindex(full, fill_value=0)


def classify(values: pd.Series, *, k: int = 5, scheme: str = "FisherJenks") -> np.ndarray:
    """Upper bounds of ``k`` classes of ``values`` by a mapclassify ``scheme``.

    Fewer distinct values than ``k`` give one class per value.
    """
    vals = pd.to_numeric(values, errors="coerce").dropna().to_numpy(dtype=float)
    if len(vals) == 0:
        return np.array([])
    k = max(1, min(k, len(np.unique(vals))))
    if k == 1:
        return np.array([vals.max()])
    classifier = getattr(mapclassify, scheme)
    with warnings.catch_warnings():
        # Without numba, mapclassify falls back to pure Python and says so; for a few
        # hundred neighborhoods that is fast enough.
        warnings.filterwarnings("ignore", message="Numba not installed")
        return np.asarray(classifier(vals, k=k).bins, dtype=float)
