"""Forecasts, risk terrain and what Gi* can find, against independent references.

References: PEI* and the prospective and steady-count weights counted by hand with plain
loops; the risk terrain model's coefficients against statsmodels' unpenalised Poisson
GLM; factor values against brute-force distances; Gi* of an empty neighbourhood against
esda's ``G_Local``; the no-peeking rule by changing the evaluation window's events and
finding nothing before it moved.
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import esda
import geopandas as gpd
import libpysal
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely

from cpted import forecast as fc
from cpted import hotspots as hs
from cpted import patrol as pt
from cpted import risk_terrain as rt
from cpted.cli import main

CRS = pyproj.CRS.from_epsg(32615)
T0 = pd.Timestamp("2026-01-01", tz="UTC")


def grid(size: float = 100.0, w: float = 2000, h: float = 2000) -> hs.Grid:
    return hs.make_grid(shapely.box(0, 0, w, h), CRS, size)


def events_at(xy: np.ndarray, days: np.ndarray) -> gpd.GeoDataFrame:
    """Events at metric ``xy`` (EPSG:32615), ``days`` after T0, as gather_events gives."""
    pts = gpd.GeoSeries(shapely.points(xy), crs=CRS).to_crs(4326)
    return gpd.GeoDataFrame({"source": "incidents", "weight": 1.0,
                             "when": T0 + pd.to_timedelta(days, unit="D"),
                             "ref": [f"e{i}" for i in range(len(xy))]},
                            geometry=pts.values, crs=4326)


def test_pei_star_counted_by_hand() -> None:
    scores = np.array([9, 1, 7, 0, 0, 3, 0, 0, 0, 2], dtype=float)
    after = np.array([5, 0, 3, 1, 0, 2, 1, 0, 4, 0], dtype=float)
    r = hs.evaluate(scores, scores, after, 0.2)  # top 2 cells by score: cells 0 and 2
    # caught 5 + 3 = 8; the best two cells of the later period hold 5 + 4 = 9
    assert r["pei_star"] == pytest.approx(8 / 9)
    perfect = hs.evaluate(after, scores, after, 0.3)
    assert perfect["pei_star"] == pytest.approx(1.0)


def test_prospective_and_steady_scores_by_hand() -> None:
    g = grid(100, 500, 500)  # 5 x 5 cells
    xy = np.array([[250.0, 250], [250, 250], [150, 250], [450, 450], [50, 50]])
    days = np.array([0.0, 9.0, 5.0, 8.0, 1.0])
    ev = events_at(xy, days)
    ctx = fc._Context(g, fc._rings(g, 2), None)
    e = fc._Events(hs.events_xy(ev, CRS), np.ones(5), days * fc.DAY_S + T0.timestamp())
    until = T0 + pd.Timedelta(days=10)
    p = fc.Prospective(half_life_days=4.0, bandwidth=2)
    got = fc.prospective(ctx, e, until, p)
    # by hand: each event's weight 0.5 ** (age / 4) lands on its cell at 1, on cells one
    # ring away (Chebyshev distance 1) at 1/2 and two rings away at 1/3
    cells = [(int(x // 100), int(y // 100)) for x, y in xy]
    want = np.zeros(len(g))
    centres = g.centres
    for (cx, cy), d in zip(cells, days, strict=True):
        tw = 0.5 ** ((10 - d) / 4)
        for k in range(len(g)):
            ring = max(abs(int(centres[k, 0] // 100) - cx), abs(int(centres[k, 1] // 100) - cy))
            if ring <= 2:
                want[k] += tw / (1 + ring)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    # steady counts: each cell's busiest of 4 slices of [T0, T0 + 10 days) left out
    st = fc.steady(ctx, e, T0, until)
    centre = g.locate(np.array([[250.0, 250]]))[0]
    assert st[centre] == pytest.approx(1 + 2e-6)  # events in slices 0 and 3: one is left
    assert st[g.locate(np.array([[450.0, 450]]))[0]] == pytest.approx(1e-6)


def test_risk_terrain_equals_statsmodels_and_factors_equal_brute_force() -> None:
    import statsmodels.api as sm

    g = grid(100, 3000, 3000)
    rng = np.random.default_rng(11)
    vac_xy = rng.uniform(0, 3000, (60, 2))
    parcels = gpd.GeoDataFrame(
        {"id": [f"p{i}" for i in range(60)],
         "status": rng.choice(["vacant_lot", "occupied", "vacant_building"], 60)},
        geometry=gpd.GeoSeries(shapely.points(vac_xy), crs=CRS).to_crs(4326).values, crs=4326)
    f = rt.environment(g, parcels=parcels, radius_m=250)
    vac = vac_xy[parcels["status"].isin(rt.VACANT).to_numpy()]
    d = np.hypot(g.centres[:, None, 0] - vac[None, :, 0], g.centres[:, None, 1] - vac[None, :, 1])
    np.testing.assert_allclose(f.values["Distance to a vacant parcel (m)"], d.min(axis=1),
                               atol=0.05)  # reprojection round trip, to the centimetre
    np.testing.assert_array_equal(f.values["Vacant parcels nearby"], (d <= 250).sum(axis=1))
    # counts drawn with a known relative risk: near vacant parcels, more events
    x = f.matrix()
    z = (x - x.mean(0)) / x.std(0)
    y = rng.poisson(np.exp(-0.5 - 0.4 * z[:, 0] + 0.3 * z[:, 1]))
    model = rt.fit(f, y.astype(float), alpha=1e-9)
    ref = sm.GLM(y, sm.add_constant(z), family=sm.families.Poisson()).fit()
    np.testing.assert_allclose(model.coef, ref.params[1:], atol=1e-4)
    rr = model.relative_risks()
    assert list(rr["Factor"]) == list(f.values)
    np.testing.assert_allclose(rr["Relative risk per SD"], np.exp(ref.params[1:]), rtol=1e-3)
    # the penalty pulls the relative risks towards 1
    shrunk = rt.fit(f, y.astype(float), alpha=1.0)
    assert (np.abs(shrunk.coef) < np.abs(model.coef)).all()


def drifting_city(seed: int = 3) -> tuple[hs.Grid, gpd.GeoDataFrame]:
    """Steady hot cells plus a hot area that moves every 20 days: recent events matter."""
    g = grid(100, 3000, 3000)
    rng = np.random.default_rng(seed)
    xy, days = [rng.uniform(0, 3000, (3000, 2))], [rng.uniform(0, 120, 3000)]
    for start in range(0, 120, 20):
        centre = rng.uniform(300, 2700, 2)
        xy.append(centre + rng.normal(0, 60, (400, 2)))
        days.append(rng.uniform(start, start + 20, 400))
    return g, events_at(np.clip(np.vstack(xy), 1, 2999), np.concatenate(days))


def test_no_peeking_nothing_before_the_evaluation_date_sees_after_it() -> None:
    g, ev = drifting_city()
    cut = T0 + pd.Timedelta(days=100)
    first = fc.evaluate_methods(ev, g, cut)
    w = first.windows
    assert w.start < w.tune < w.validate < w.evaluate == cut < w.end
    # replace every event from the cut on with others elsewhere: the choice, the
    # validation table and every method's scores stay the same
    later = (ev["when"] >= cut).to_numpy()
    moved = ev.copy()
    moved.loc[later, "geometry"] = gpd.GeoSeries(
        shapely.points(np.random.default_rng(9).uniform(0, 3000, (later.sum(), 2))),
        crs=CRS).to_crs(4326).values
    second = fc.evaluate_methods(moved, g, cut)
    assert second.chosen == first.chosen
    pd.testing.assert_frame_equal(first.stage("validation"), second.stage("validation"))
    for key, score in first.scores.items():
        np.testing.assert_array_equal(score, second.scores[key])
    assert not first.stage("evaluation").equals(second.stage("evaluation"))
    # the chosen method is the one with the best validation PAI at 1% (then 5%)
    val = first.stage("validation").pivot(index="method", columns="area_share", values="pai")
    best = max(val.index, key=lambda m: (val.loc[m, 0.01], val.loc[m, 0.05]))
    assert val.loc[first.chosen].tolist() == val.loc[best].tolist()
    # the evaluation rows recomputed with plain numpy from the scores
    after = np.zeros(len(g))
    cells = g.locate(hs.events_xy(ev[later], CRS))
    np.add.at(after, cells[cells >= 0], 1.0)
    for r in first.stage("evaluation").itertuples():
        s = first.scores[r.method]
        k = max(1, round(r.area_share * len(s)))
        top = np.lexsort((np.arange(len(s)), -s))[:k]
        assert r.hit_rate == pytest.approx(after[top].sum() / after.sum())
        assert r.pai == pytest.approx(after[top].sum() / after.sum() / (k / len(s)))
        assert r.pei_star == pytest.approx(after[top].sum() / np.sort(after)[::-1][:k].sum())
    # on a moving hot area the recent past beats plain counts
    assert first.chosen != "counts"
    assert "validation window" in first.verdict()


def test_choosing_without_a_held_back_period() -> None:
    g, ev = drifting_city()
    e = fc.evaluate_methods(ev, g, None)
    assert e.stage("evaluation").empty and not e.stage("validation").empty
    assert "nothing was held back" in e.verdict()
    assert math.isnan(e.ratio())


def test_a_strong_single_cell_is_never_dropped_for_lack_of_neighbours() -> None:
    rng = np.random.default_rng(5)
    xy = [rng.uniform(0, 3000, (1500, 2))]
    xy.append(np.array([700.0, 700]) + rng.normal(0, 80, (300, 2)))  # a hot block
    xy.append(np.full((71, 2), [2450.0, 2450]))  # one cell, 71 events
    pts = np.vstack(xy)
    lone = pts[-1]
    # the lone cell's neighbours are empty
    keep = ~((np.abs(pts[:, 0] - lone[0]) < 160) & (np.abs(pts[:, 1] - lone[1]) < 160))
    keep[-71:] = True
    ev = events_at(pts[keep], rng.uniform(0, 100, keep.sum()))
    hot = hs.analyse(ev, crs=CRS, cell_size=100.0, permutations=199)
    cell = hot.grid.locate(lone[None, :])[0]
    assert hot.counts[cell] == 71
    assert hot.counts[hot.grid.neighbours()[cell].indices].sum() == 0
    assert hot.gi.bins[cell] <= 1  # Gi* does not call it a strong hot spot
    cands = pt.candidates_from(hot, "gi")
    mine = [c for c in cands if c.label.startswith(f"Cell {cell}:")]
    assert len(mine) == 1 and mine[0].prize >= 71
    top = hot.top_by_count(3)
    assert top.iloc[0]["Cell"] == cell and top.iloc[0]["Events in its neighbours"] == 0
    from_forecast = pt.candidates_from(hot, "forecast", forecast=hot.counts, limit=5)
    assert from_forecast[0].label.startswith(f"Cell {cell}:")


def test_cold_spots_are_offered_only_where_they_can_occur() -> None:
    g = grid(100, 4000, 4000)
    w = g.neighbours()
    rng = np.random.default_rng(8)
    sparse = np.where(rng.uniform(size=len(g)) < 0.77, 0.0, rng.poisson(3, len(g)) + 1.0)
    check = hs.cold_spot_check(sparse, w)
    assert check.empty_share == pytest.approx((sparse == 0).mean())
    # reference: esda's Gi* of an interior cell after emptying its whole neighbourhood
    y = sparse.copy()
    c = int(np.argmax(np.asarray(w.sum(axis=1)).ravel() == 8))
    y[np.r_[c, w[c].indices]] = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ref = esda.G_Local(y, libpysal.graph.Graph.from_sparse(w), transform="B", star=True,
                           permutations=0)
    emptied = hs.cold_spot_check(y, w)
    assert emptied.lowest_z == pytest.approx(ref.Zs[c], abs=1e-9)
    assert not check.possible and "cannot show cold spots" in check.describe()
    r = hs.gi_star(sparse, w, seed=1)
    assert (r.bins < 0).sum() == 0  # none found, as the check said
    # a dense grid with a planted empty patch: possible, and found
    dense = rng.poisson(6, len(g)).astype(float)
    centres = g.centres
    patch = (np.abs(centres[:, 0] - 2000) < 250) & (np.abs(centres[:, 1] - 2000) < 250)
    dense[patch] = 0
    check = hs.cold_spot_check(dense, w)
    assert check.possible and "can occur" in check.describe()
    assert (hs.gi_star(dense, w, seed=1).bins[patch] < 0).any()


def test_the_rank_p_value_option_is_gone() -> None:
    g = grid()
    with pytest.raises(TypeError):
        hs.gi_star(np.ones(len(g)), g.neighbours(), p_from="rank")  # type: ignore[call-arg]


def test_cli_prints_the_evaluation_as_one_json_object_last(
        sample_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "hot.csv"
    assert main(["hotspots", "--db", str(sample_db), "--out", str(out), "--permutations",
                 "99", "--evaluate-after", "2026-06-01", "--json"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    doc = json.loads(lines[-1])
    assert list(doc) == ["rows"]
    rows = doc["rows"]
    assert {tuple(sorted(r)) for r in rows} == {
        ("area_share", "chosen", "hit_rate", "method", "pai", "pei_star", "rri")}
    assert {r["area_share"] for r in rows} == {0.01, 0.05}
    methods = {r["method"] for r in rows}
    assert {"counts", "kde", "gi", "prospective", "steady", "blend"} <= methods
    chosen = [r for r in rows if r["chosen"]]
    assert len(chosen) == 2 and len({r["method"] for r in chosen}) == 1
    assert {r["area_share"] for r in chosen} == {0.01, 0.05}
    # the sentence before it says whether the chosen method beat counts
    assert "validation window" in lines[-2]
    # without --json the last line is that sentence
    assert main(["hotspots", "--db", str(sample_db), "--out", str(out), "--permutations",
                 "99", "--evaluate-after", "2026-06-01"]) == 0
    assert not capsys.readouterr().out.strip().splitlines()[-1].startswith("{")
