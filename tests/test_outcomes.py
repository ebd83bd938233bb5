"""Difference in differences near repaired lights, on a planted case counted by hand."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from cpted.outcomes import CAVEATS, repair_outcome, repairs_from_reports

CRS = "EPSG:32615"
T = pd.Timestamp("2026-06-01", tz="UTC")


def concern(rid: str, x: float, y: float, days: float, *, code: str = "graffiti",
            tod: str = "night", status: str = "open", closed_days: float | None = None) -> dict:
    return {"service_request_id": rid, "service_code": code, "time_of_day": tod,
            "status": status, "requested_datetime": T + pd.Timedelta(days=days),
            "updated_datetime": T + pd.Timedelta(days=closed_days if closed_days is not None
                                                  else days),
            "geometry": shapely.Point(x, y)}


def test_planted_difference_in_differences() -> None:
    # two 1 km streets far apart: one with a repaired pole at x=500, one for comparison
    streets = gpd.GeoDataFrame({"id": ["t", "c"], "class": ["local", "local"]},
                               geometry=[shapely.LineString([(0, 0), (1000, 0)]),
                                         shapely.LineString([(0, 5000), (1000, 5000)])],
                               crs=CRS)
    lights = gpd.GeoDataFrame({"id": ["P1"]}, geometry=[shapely.Point(500, 5)], crs=CRS)
    rows = [concern("fix", 505, 5, -20, code="streetlight_out", status="closed",
                    closed_days=0)]
    # near the repaired pole (within 100 m): 6 night concerns before, 2 after
    rows += [concern(f"tb{k}", 480 + k, 10, -10 - k) for k in range(6)]
    rows += [concern(f"ta{k}", 520 + k, 10, 5 + k) for k in range(2)]
    # a day-time concern and a light-out report nearby do not count
    rows += [concern("day", 500, 10, 3, tod="day"),
             concern("lo", 500, 12, 4, code="streetlight_out")]
    # comparison street: 4 before, 4 after; one far outside the window
    rows += [concern(f"cb{k}", 100 * k, 5010, -30) for k in range(4)]
    rows += [concern(f"ca{k}", 100 * k, 5010, 30) for k in range(4)]
    rows += [concern("old", 100, 5010, -200)]
    concerns = gpd.GeoDataFrame(rows, crs=CRS)
    repairs = repairs_from_reports(concerns, lights, CRS, start=T - pd.Timedelta(days=1),
                                   end=T + pd.Timedelta(days=1))
    assert list(repairs["pole_id"]) == ["P1"] and repairs["repaired_at"].iloc[0] == T
    out = repair_outcome(repairs, lights, streets, concerns, CRS, radius_m=100, days=90)
    assert (out.treated_before, out.treated_after) == (6, 2)
    assert (out.comparison_before, out.comparison_after) == (4, 4)
    # treated street within 100 m of the pole: 2 * sqrt(100^2 - 5^2) m
    km = 2 * (100**2 - 5**2) ** 0.5 / 1000
    assert out.treated_km == pytest.approx(km, rel=1e-3)  # the circle is a 256-gon
    assert out.comparison_km == pytest.approx(1.0)
    assert out.did == pytest.approx((2 - 6) / out.treated_km - 0.0)
    table = out.table()
    assert list(table["before"]) == [6, 4] and list(table["after"]) == [2, 4]
    assert "not proof" in CAVEATS
