"""Hotspot statistics against independent references.

References: esda's ``G_Local`` (z-scores) and ``fdr`` (Benjamini-Hochberg cut-off) on
the same weights; the quartic kernel summed directly, point by point, from its
formula; hit rate, PAI and RRI counted by hand on a planted case.
"""

from __future__ import annotations

import math
import warnings

import esda
import geopandas as gpd
import libpysal
import numpy as np
import pyproj
import pytest
import shapely
from scipy.spatial import cKDTree

from cpted import hotspots as hs

CRS = pyproj.CRS.from_epsg(32615)


def grid(shape: str = "square", size: float = 100.0, w: float = 3000, h: float = 2000
         ) -> hs.Grid:
    return hs.make_grid(shapely.box(0, 0, w, h), CRS, size, shape)  # type: ignore[arg-type]


@pytest.mark.parametrize("shape", ["square", "hex"])
def test_cells_locate_points_to_the_nearest_centre_and_have_the_right_neighbours(
        shape: str) -> None:
    g = grid(shape)
    assert (g.locate(g.centres) == np.arange(len(g))).all()
    pts = np.random.default_rng(1).uniform([0, 0], [3000, 2000], (5000, 2))
    got = g.locate(pts)
    _, nearest = cKDTree(g.centres).query(pts)
    inside = got >= 0
    assert inside.mean() > 0.9
    assert (got[inside] == nearest[inside]).all()
    # every cell has the same area, and interior cells the full set of neighbours
    assert np.allclose(g.polygons().area, 100.0 ** 2)
    k = np.asarray(g.neighbours().sum(axis=1)).ravel()
    assert k.max() == (8 if shape == "square" else 6)
    # neighbours touch: their polygons share an edge or a corner
    polys = g.polygons().values
    w = g.neighbours().tocoo()
    sample = np.random.default_rng(2).choice(len(w.row), 200, replace=False)
    for i, j in zip(w.row[sample], w.col[sample], strict=True):
        assert polys[i].distance(polys[j]) < 1e-6


@pytest.mark.parametrize("shape", ["square", "hex"])
def test_gi_star_z_equals_esda_on_the_same_weights(shape: str) -> None:
    g = grid(shape)
    y = np.random.default_rng(3).poisson(1.5, len(g)).astype(float)
    y[:40] += 6
    w = g.neighbours()
    ours = hs.gi_star_z(y, w + w.__class__(np.eye(len(y))))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ref = esda.G_Local(y, libpysal.graph.Graph.from_sparse(w), transform="B", star=True,
                           permutations=0)
    assert np.allclose(ours, ref.Zs, atol=1e-10)
    full = hs.gi_star(y, w, permutations=99, seed=1)
    assert np.allclose(full.z, ref.Zs, atol=1e-10)


def test_fdr_threshold_equals_esda_fdr() -> None:
    rng = np.random.default_rng(4)
    cases = [rng.uniform(size=500), np.concatenate([rng.uniform(0, 0.002, 40),
                                                    rng.uniform(size=460)]),
             rng.choice([0.002, 0.01, 0.2, 0.9], size=300)]
    for p in cases:
        for alpha in (0.01, 0.05, 0.10):
            assert hs.fdr_threshold(p, alpha) == pytest.approx(esda.fdr(p, alpha), rel=1e-12)
    g = grid()
    y = np.random.default_rng(5).poisson(2, len(g)).astype(float)
    y[100:130] += 8
    r = hs.gi_star(y, g.neighbours(), seed=2)
    for conf, cut in r.thresholds.items():
        assert cut == pytest.approx(esda.fdr(r.p, 1 - conf))
    # the bins follow the cut-offs: a cell is at +-3 exactly when p < the 99% cut-off
    assert ((np.abs(r.bins) == 3) == (r.p < r.thresholds[0.99])).all()
    assert ((np.abs(r.bins) >= 1) == (r.p < r.thresholds[0.90])).all()
    assert (np.sign(r.bins[r.bins != 0]) == np.sign(r.z[r.bins != 0])).all()


def test_kde_equals_the_kernel_summed_directly() -> None:
    rng = np.random.default_rng(6)
    events = rng.uniform(0, 1000, (300, 2))
    weights = rng.uniform(0.5, 3, 300)
    at = np.array([[500.0, 500.0], [10.0, 990.0], [250.0, 700.0], [1500.0, 1500.0]])
    r = 180.0
    got = hs.kde(at, events, r, weights)
    for k, (x, y) in enumerate(at):
        total = 0.0
        for (ex, ey), w in zip(events, weights, strict=True):
            d2 = (ex - x) ** 2 + (ey - y) ** 2
            if d2 < r * r:
                total += w * 3 / (math.pi * r * r) * (1 - d2 / (r * r)) ** 2
        assert got[k] == pytest.approx(total * 1e6, rel=1e-12, abs=1e-12)
    assert got[3] == 0.0
    # the kernel integrates to one: a fine grid sum around one event
    xs = np.arange(-200, 200, 1.0) + 0.5
    xx, yy = np.meshgrid(xs, xs)
    assert hs.quartic(np.hypot(xx, yy), 150.0).sum() == pytest.approx(1.0, rel=1e-3)


def test_pai_hit_rate_and_rri_on_a_planted_case_counted_by_hand() -> None:
    scores = np.array([9, 1, 7, 0, 0, 3, 0, 0, 0, 2], dtype=float)
    before = np.array([9, 1, 7, 0, 0, 3, 0, 0, 0, 2], dtype=float)   # 22 events
    after = np.array([5, 0, 3, 1, 0, 2, 1, 0, 0, 0], dtype=float)     # 12 events
    r = hs.evaluate(scores, before, after, 0.2)  # the top 2 of 10 cells: cells 0 and 2
    assert r["cells"] == 2 and r["area_share"] == 0.2
    assert r["events"] == 8                                # 5 + 3 later events inside
    assert r["hit_rate"] == pytest.approx(8 / 12)
    assert r["pai"] == pytest.approx((8 / 12) / (2 / 10))  # 3.33
    assert r["rri"] == pytest.approx((8 / 16) / (12 / 22))  # 16 earlier events inside
    # ties are broken by cell order: of the tied zeros, the first ones come first
    assert list(hs.top_cells(np.array([0.0, 5, 0, 0]), 0.5)) == [1, 0]


def test_planted_hotspots_are_found() -> None:
    g = grid(size=100, w=4000, h=4000)
    rng = np.random.default_rng(7)
    y = rng.poisson(1.0, len(g)).astype(float)
    centres = g.centres
    planted = np.zeros(len(g), dtype=bool)
    for cx, cy in [(850, 850), (2550, 3150), (3350, 1250)]:  # 3 x 3 cells each
        near = (np.abs(centres[:, 0] - cx) < 150) & (np.abs(centres[:, 1] - cy) < 150)
        planted |= near
        y[near] += rng.poisson(7.0, near.sum())
    r = hs.gi_star(y, g.neighbours(), seed=3)
    assert planted.sum() == 27
    assert (r.bins[planted] >= 2).mean() >= 0.85  # found at 95% or more
    assert (r.bins[planted] < 0).sum() == 0
    middles = g.locate(np.array([[850.0, 850.0], [2550, 3150], [3350, 1250]]))
    assert (r.bins[middles] == 3).all()  # the middle of each block at 99%
    # hot cells away from the planted blocks and their ring of neighbours are rare
    ring = np.asarray((g.neighbours() @ planted.astype(float)) > 0).ravel() | planted
    assert (r.bins[~ring] > 0).sum() <= 3


def test_on_random_data_fdr_keeps_false_hot_cells_near_nominal() -> None:
    g = grid(size=100, w=3000, h=3000)
    w = g.neighbours()
    raw, runs_with_any = [], 0
    for seed in range(10):
        y = np.random.default_rng(100 + seed).poisson(2, len(g)).astype(float)
        r = hs.gi_star(y, w, seed=seed)
        raw.append((r.p < 0.10).mean())
        runs_with_any += int((r.bins != 0).any())
    # unadjusted, about 10% of cells pass at 90% confidence: the test can fail
    assert 0.07 < float(np.mean(raw)) < 0.14
    # with FDR control there is no true hotspot, so any discovery is false: BH bounds the
    # chance of one at alpha = 10% for the 90% level
    assert runs_with_any <= 3


def test_cell_size_and_bandwidth_rules() -> None:
    rng = np.random.default_rng(8)
    xy = rng.uniform(0, 2000, (400, 2))
    area = 2000.0 * 2000.0
    size = hs.cell_size_rule(xy, area)
    assert size == math.ceil(math.sqrt(area / 400) / 5) * 5  # 100 m: one event per cell
    # clustered events: the observed nearest-neighbour distance can't push it lower
    tight = np.vstack([rng.normal(1000, 5, (400, 2))])
    assert hs.cell_size_rule(tight, area) == size
    radius = hs.bandwidth_rule(xy, size)
    d, _ = cKDTree(xy).query(xy, k=11)
    assert radius == math.ceil(max(d[:, 10].mean(), 1.5 * size) / 5) * 5


def test_analyse_explains_what_is_wrong() -> None:
    empty = gpd.GeoDataFrame({"weight": []}, geometry=gpd.GeoSeries([], crs=4326))
    with pytest.raises(hs.HotspotError, match="no events"):
        hs.analyse(empty)
    with pytest.raises(hs.HotspotError, match="cell shape"):
        hs.make_grid(shapely.box(0, 0, 10, 10), CRS, 1.0, "triangle")  # type: ignore[arg-type]
    with pytest.raises(hs.HotspotError, match="at least"):
        hs.make_grid(shapely.box(0, 0, 1e6, 1e6), CRS, 10.0)
    with pytest.raises(hs.HotspotError, match="permutations"):
        hs.gi_star(np.ones(10), grid().neighbours()[:10, :10], permutations=9)


def test_event_coordinates_equal_geopandas_reprojection() -> None:
    """Reference: GeoDataFrame.to_crs (the transformer here is made once and reused)."""
    rng = np.random.default_rng(4)
    ev = gpd.GeoDataFrame(geometry=gpd.points_from_xy(rng.uniform(-94.7, -94.4, 500),
                                                      rng.uniform(38.9, 39.2, 500)), crs=4326)
    utm = pyproj.CRS.from_epsg(32615)
    expected = shapely.get_coordinates(ev.to_crs(utm).geometry.values)
    np.testing.assert_allclose(hs.events_xy(ev, utm), expected, rtol=0, atol=1e-6)
    same = ev.to_crs(utm)
    np.testing.assert_array_equal(hs.events_xy(same, utm),
                                  shapely.get_coordinates(same.geometry.values))
