"""Gathering reports on a map: those inside a drawn area, the one nearest a click.

The Problem spots page gathers reports into a spot (or an action plan) by drawing an
area or clicking markers; these functions decide which reports that means, from the
reports as the viewer sees them, and describe the gathered ones in plain words.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from layers.crs import haversine_km
from layers.errors import CRSError, UnusableInputError

#: A click counts as a click on a report within this distance of it, in metres: a
#: report marker is drawn about 6 px wide, about 15 m at street zoom (16), and a finger
#: on a phone lands a little off.
CLICK_RADIUS_M = 25.0
#: How much of a report's description the gathered list shows.
SHORT_DESCRIPTION_CHARS = 60


class GatherError(UnusableInputError):
    """A drawing that cannot gather reports (not an area, or not WGS84)."""


def _check_wgs84(reports: gpd.GeoDataFrame) -> None:
    if reports.crs is None or reports.crs.to_epsg() != 4326:
        raise CRSError(f"reports must be in EPSG:4326 (lon/lat), got {reports.crs}")


def reports_in_area(reports: gpd.GeoDataFrame, area: shapely.Geometry) -> list[str]:
    """The ``service_request_id`` of every report inside ``area``, in ``reports``' order.

    Parameters
    ----------
    reports : geopandas.GeoDataFrame
        Points in EPSG:4326 with ``service_request_id``.
    area : shapely.Geometry
        A WGS84 polygon or multipolygon (x = lon, y = lat), as drawn on the map. A
        drawing that crosses itself is repaired first; a point on its edge counts as
        inside.

    Returns
    -------
    list of str

    Raises
    ------
    GatherError
        When ``area`` is not a polygon with an area.
    CRSError
        When ``reports`` is not in EPSG:4326.
    """
    _check_wgs84(reports)
    if area is None or area.geom_type not in ("Polygon", "MultiPolygon") or area.is_empty:
        kind = "nothing" if area is None else f"a {area.geom_type}"
        raise GatherError(f"gathering needs an area (a polygon or rectangle), got {kind}")
    if not area.is_valid:
        area = shapely.make_valid(area)
    if area.area == 0:
        raise GatherError("the drawn area has no size; draw it again")
    if reports.empty:
        return []
    inside = reports.geometry.covered_by(area).to_numpy()
    return [str(r) for r in reports["service_request_id"].to_numpy()[inside]]


def nearest_report(reports: gpd.GeoDataFrame, lon: float, lat: float, *,
                   within_m: float = CLICK_RADIUS_M) -> str | None:
    """The ``service_request_id`` of the report nearest ``(lon, lat)``, if within reach.

    Parameters
    ----------
    reports : geopandas.GeoDataFrame
        Points in EPSG:4326 with ``service_request_id``.
    lon, lat : float
        Where the map was clicked, WGS84 degrees (longitude first).
    within_m : float
        The farthest a click may be from the report, in metres (great-circle).

    Returns
    -------
    str or None
        None when no report is within ``within_m``.

    Raises
    ------
    CRSError
        When ``reports`` is not in EPSG:4326.
    """
    _check_wgs84(reports)
    if reports.empty:
        return None
    km = haversine_km(reports.geometry.x.to_numpy(), reports.geometry.y.to_numpy(),
                      float(lon), float(lat))
    k = int(np.argmin(km))
    return str(reports["service_request_id"].iloc[k]) if km[k] * 1000 <= within_m else None


def _short(text: object, limit: int) -> str:
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return ""
    words = " ".join(str(text).split())
    return words if len(words) <= limit else words[: limit - 1].rstrip() + "…"


def report_summaries(reports: gpd.GeoDataFrame, ids: Sequence[str], *, tz: str,
                     category_names: Mapping[str, str] | None = None,
                     max_chars: int = SHORT_DESCRIPTION_CHARS) -> pd.DataFrame:
    """One line of plain words per report in ``ids``, in that order.

    Parameters
    ----------
    reports : geopandas.GeoDataFrame
        The reports as the viewer sees them, with ``service_request_id``,
        ``service_code``, ``service_name``, ``requested_datetime`` (timezone-aware),
        ``description`` and ``address``.
    ids : sequence of str
        The reports to describe; ids not in ``reports`` are left out.
    tz : str
        The time zone dates are shown in (the app's).
    category_names : mapping of str to str, optional
        Display name per ``service_code``; else the report's ``service_name``.
    max_chars : int
        Descriptions longer than this are cut, with an ellipsis.

    Returns
    -------
    pandas.DataFrame
        Columns ``id``, ``category``, ``date`` (``YYYY-MM-DD``, local), ``description``
        (short; the address when there is no description) and ``status``.
    """
    rows = reports.set_index("service_request_id", drop=False)
    wanted = [i for i in dict.fromkeys(ids) if i in rows.index]
    sel = rows.loc[wanted]
    names = dict(category_names or {})
    when = pd.to_datetime(sel["requested_datetime"], utc=True).dt.tz_convert(tz)
    return pd.DataFrame({
        "id": sel["service_request_id"].astype(str).to_numpy(),
        "category": [names.get(str(c)) or str(n if isinstance(n, str) else c)
                     for c, n in zip(sel["service_code"], sel["service_name"], strict=True)],
        "date": when.dt.strftime("%Y-%m-%d").fillna("").to_numpy(),
        "description": [_short(d, max_chars) or _short(a, max_chars)
                        for d, a in zip(sel["description"], sel["address"], strict=True)],
        "status": sel["status"].astype(str).to_numpy(),
    })
