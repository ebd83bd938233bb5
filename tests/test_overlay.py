from __future__ import annotations

import geopandas as gpd
import mapclassify
import numpy as np
import pandas as pd
import pytest
import shapely

from cpted.overlay import assign, classify, counts, monthly_trend, overlay
from layers.schema import Layer
from layers.store import Store

UTM = 32615


def squares() -> gpd.GeoDataFrame:
    """Two 1 km squares side by side (made in UTM metres, returned in WGS84)."""
    x0, y0 = 363000.0, 4322000.0
    return gpd.GeoDataFrame(
        {"id": ["A", "B"], "name": ["Alpha", "Beta"], "population": [2000, None]},
        geometry=[shapely.box(x0, y0, x0 + 1000, y0 + 1000),
                  shapely.box(x0 + 1000, y0, x0 + 2000, y0 + 1000)], crs=UTM).to_crs(4326)


def pts(xy: list[tuple[float, float]], **cols: list) -> gpd.GeoDataFrame:
    g = gpd.GeoSeries(gpd.points_from_xy(*zip(*xy, strict=True)), crs=UTM).to_crs(4326)
    return gpd.GeoDataFrame(cols, geometry=g.values, crs=4326)


def test_counts_and_rates_by_hand() -> None:
    x0, y0 = 363000.0, 4322000.0
    t = pd.Timestamp("2026-01-01", tz="UTC")
    c = pts([(x0 + 100, y0 + 100), (x0 + 500, y0 + 900), (x0 + 1500, y0 + 500),
             (x0 + 5000, y0 + 5000)],
            service_request_id=["1", "2", "3", "4"], service_code=["g"] * 4,
            status=["open", "closed", "closed", "open"],
            requested_datetime=[t] * 4,
            updated_datetime=[t, t + pd.Timedelta(days=4), t + pd.Timedelta(days=40), t])
    out = overlay(c, squares(), target_days={"g": 30}, reopened={"2"},
                  now=pd.Timestamp("2026-06-01", tz="UTC")).set_index("neighborhood_id")
    assert list(out["count"]) == [2, 1]  # the fourth point is outside both
    assert out.loc["A", "area_km2"] == pytest.approx(1.0, rel=1e-3)
    assert out.loc["A", "per_km2"] == pytest.approx(2.0, rel=1e-3)
    assert out.loc["A", "per_1000"] == pytest.approx(1.0)  # 2 per 2,000 residents
    assert np.isnan(out.loc["B", "per_1000"])  # no population given
    assert (out.loc["A", "open"], out.loc["A", "closed"]) == (1, 1)
    assert out.loc["A", "median_days_to_close"] == pytest.approx(4)
    assert out.loc["A", "closed_within_target"] == pytest.approx(0.5)  # 1 of 2 eligible
    assert out.loc["B", "closed_within_target"] == 0.0  # closed after 40 days > 30
    assert out.loc["A", "reopen_rate"] == 1.0 and out.loc["B", "reopen_rate"] == 0.0


def test_counts_equal_geopandas_sjoin(sample_store: Store) -> None:
    """Reference: geopandas.sjoin (predicate intersects) plus a groupby."""
    c = sample_store.read(Layer.CONCERNS)
    h = sample_store.read(Layer.NEIGHBORHOODS)
    joined = gpd.sjoin(c, h[["id", "geometry"]], predicate="intersects", how="inner")
    joined = joined[~joined.index.duplicated(keep="first")]
    ref = joined.groupby("id").size().reindex(h["id"], fill_value=0).to_numpy()
    np.testing.assert_array_equal(counts(c.geometry, h.geometry), ref)
    np.testing.assert_array_equal(overlay(c, h)["count"].to_numpy(), ref)


def test_point_on_a_shared_edge_counts_once() -> None:
    x0, y0 = 363000.0, 4322000.0
    sq = gpd.GeoDataFrame(geometry=[shapely.box(x0, y0, x0 + 1000, y0 + 1000),
                                    shapely.box(x0 + 1000, y0, x0 + 2000, y0 + 1000)], crs=UTM)
    edge = gpd.GeoSeries([shapely.Point(x0 + 1000, y0 + 500)], crs=UTM)
    assert list(assign(edge, sq.geometry)) == [0]
    assert counts(edge, sq.geometry).sum() == 1


def test_monthly_trend_fills_empty_months() -> None:
    x0, y0 = 363000.0, 4322000.0
    c = pts([(x0 + 10, y0 + 10)] * 2,
            requested_datetime=[pd.Timestamp("2026-01-15", tz="UTC"),
                                pd.Timestamp("2026-03-15", tz="UTC")])
    t = monthly_trend(c, squares(), tz="America/Chicago")
    assert list(t.index.strftime("%Y-%m")) == ["2026-01", "2026-02", "2026-03"]
    assert list(t["Alpha"]) == [1, 0, 1]


def test_classify_matches_mapclassify_and_handles_few_values() -> None:
    vals = pd.Series([1, 2, 2, 3, 10, 11, 12, 30, 31, 60], dtype=float)
    np.testing.assert_allclose(classify(vals, k=4, scheme="Quantiles"),
                               mapclassify.Quantiles(vals.to_numpy(), k=4).bins)
    assert list(classify(pd.Series([5.0, 5.0]), k=5)) == [5.0]
    assert classify(pd.Series([], dtype=float)).size == 0
    bins = classify(vals, k=3)
    assert len(bins) == 3 and bins[-1] == 60


def test_assign_equals_sjoin_first_polygon_on_edges_vertices_holes_and_odd_inputs() -> None:
    """Reference: geopandas.sjoin (intersects), each point kept in its lowest polygon."""
    rng = np.random.default_rng(5)
    cells = [shapely.box(i, j, i + 1, j + 1) for i in range(6) for j in range(6)]
    holed = shapely.Polygon([(7, 0), (10, 0), (10, 3), (7, 3)],
                            [[(8, 1), (9, 1), (9, 2), (8, 2)]])
    multi = shapely.MultiPolygon([shapely.box(7, 4, 8, 5), shapely.box(9, 4, 10, 5)])
    polys = gpd.GeoSeries([*cells, holed, multi, shapely.Polygon()], crs=4326)
    xy = np.vstack([rng.uniform(-1, 11, (3000, 2)),
                    rng.integers(0, 7, (400, 2)).astype(float),  # vertices
                    np.column_stack([rng.integers(0, 7, 300), rng.uniform(0, 6, 300)]),
                    [[8.5, 1.5], [8.0, 1.5], [9.5, 4.5], [8.5, 4.5]]])  # hole, its edge
    geoms = list(gpd.points_from_xy(xy[:, 0], xy[:, 1]))
    geoms += [None, shapely.Point(), shapely.LineString([(0.5, 0.5), (3.5, 0.5)]),
              shapely.MultiPoint([(20, 20), (9.5, 4.5)])]
    pts = gpd.GeoSeries(geoms, crs=4326)
    joined = gpd.sjoin(gpd.GeoDataFrame(geometry=pts), gpd.GeoDataFrame(geometry=polys),
                       predicate="intersects", how="inner").sort_values("index_right")
    first = joined[~joined.index.duplicated(keep="first")]["index_right"]
    reference = np.full(len(pts), -1)
    reference[first.index.to_numpy()] = first.to_numpy()
    got = assign(pts, polys)
    np.testing.assert_array_equal(got, reference)
    assert (got[3000:3400] >= 0).all()  # every vertex inside the grid is counted once
    np.testing.assert_array_equal(
        counts(pts, polys), np.bincount(reference[reference >= 0], minlength=len(polys)))
