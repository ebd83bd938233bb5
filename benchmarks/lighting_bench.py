"""Illuminance on a large grid, against a plain numpy all-pairs sum in the same run.

A 1,000 x 1,000-cell grid (1,000,000 cells, 3 m) lit by 10,000 poles at random
heights and outputs. Ours: ``cpted.lighting.lux_grid`` (an R-tree finds the
cells within each pole's reach). Baseline: every cell against every pole in
numpy, over chunks of cells, with the same formula and reach rule (the default Type V
distribution's computed cut, 8.75 mounting heights); it is slow,
so it runs on ``--baseline-cells`` cells spread over the grid and its time is
scaled to the whole grid. Prints both, the ratio and the largest relative
difference on the cells both computed. Target: at least 10x, same lux to 1e-6.

Then priorities over 5,000 candidates (a generated street grid with poles out,
low-output poles and dark gaps): the time to find every candidate's effect and
choose within a budget (joint lifts counted: points lit to target only by several
items together), and the greedy's gap to the exact optimum of the same problem
(HiGHS, with a time limit; the gap is taken to its best bound when the limit stops
it). Targets: choosing under 2 s, within 0.5% of the optimum.

    .venv/bin/python benchmarks/lighting_bench.py [--cells 1000000] [--poles 10000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from cpted import lighting as lt


def all_pairs(inv: lt.Inventory, data: lt.LightingData, x: np.ndarray, y: np.ndarray,
              chunk: int = 200) -> np.ndarray:
    out = np.zeros(len(x))
    lit = ~inv.out
    px, py, h, lm = inv.x[lit], inv.y[lit], inv.height_m[lit], inv.lumens[lit]
    unit = lt.Distribution.even_field(1000.0)
    for lo in range(0, len(x), chunk):
        dx = x[lo:lo + chunk, None] - px[None, :]
        dy = y[lo:lo + chunk, None] - py[None, :]
        d = np.hypot(dx, dy)
        cos = h / np.sqrt(d * d + h * h)
        i = unit.intensity(np.degrees(np.arctan2(d, h))) * lm / 1000 * data.maintenance_factor
        e = np.where(d <= unit.reach_heights(data.ignored_share) * h, i * cos**3 / (h * h), 0.0)
        out[lo:lo + chunk] = e.sum(axis=1)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cells", type=int, default=1_000_000)
    ap.add_argument("--poles", type=int, default=10_000)
    ap.add_argument("--baseline-cells", type=int, default=20_000)
    ap.add_argument("--candidates", type=int, default=5_000)
    ap.add_argument("--time-limit", type=float, default=120.0, help="exact solver, seconds")
    args = ap.parse_args()
    rng = np.random.default_rng(5)
    side = round(float(np.sqrt(args.cells)))
    cell = 3.0
    extent = side * cell
    n = args.poles
    inv = lt.Inventory(np.array([f"p{k}" for k in range(n)], dtype=object),
                      rng.uniform(0, extent, n), rng.uniform(0, extent, n),
                      rng.uniform(6, 12, n), rng.uniform(4000, 20000, n),
                      np.full(n, "hps", dtype=object), rng.random(n) < 0.1,
                      np.zeros(n, dtype=bool), crs=None)
    data = lt.load_lighting_data()
    grid = lt.Grid(0.0, 0.0, cell, side, side)

    t0 = time.perf_counter()
    lux = lt.lux_grid(inv, data, grid).ravel()
    t_ours = time.perf_counter() - t0

    gx, gy = grid.centres()
    pick = rng.choice(len(gx), size=min(args.baseline_cells, len(gx)), replace=False)
    t0 = time.perf_counter()
    base = all_pairs(inv, data, gx[pick], gy[pick])
    t_base = (time.perf_counter() - t0) * len(gx) / len(pick)

    scale = np.maximum(np.abs(base), 1e-12)
    rel = float(np.max(np.abs(lux[pick] - base) / scale))
    print(f"lux grid: {len(gx):,} cells ({cell:g} m), {n:,} poles ({int(inv.out.sum()):,} out), "
          f"reach {lt.DEFAULT_DISTRIBUTION.reach_heights(data.ignored_share):g} mounting "
          "heights (Type V)")
    print(f"  ours (R-tree pairs)      {t_ours:8.2f} s")
    print(f"  baseline (all pairs)     {t_base:8.2f} s  (timed on {len(pick):,} cells, scaled)")
    print(f"  ratio baseline/ours      {t_base / t_ours:8.1f}x   target >= 10x")
    print(f"  max relative difference  {rel:.2e}   target <= 1e-6")
    print(f"  mean lux {lux.mean():.2f}; share of cells under 1 lux {np.mean(lux < 1):.1%}")
    gap, t_choose = priorities(args.candidates, args.time_limit)
    print(f"RESULT lux_speedup={t_base / t_ours:.1f} lux_max_rel_diff={rel:.2e} "
          f"greedy_gap_to_bound={gap:.4f} choose_s={t_choose:.2f}")


def priorities(n_candidates: int, time_limit: float) -> tuple[float, float]:
    """Time the work list; the greedy's gap to the exact solver's bound, and the seconds
    choosing took."""
    import geopandas as gpd
    import shapely

    from cpted import priorities as pr

    rng = np.random.default_rng(8)
    data = lt.load_lighting_data()
    # a grid of 100 m blocks; poles every ~45 m along the east-west streets
    side = 56
    streets, poles = [], []
    for j in range(side):
        for i in range(side):
            x, y = i * 100.0, j * 100.0
            streets.append(shapely.LineString([(x, y), (x + 100, y)]))
            streets.append(shapely.LineString([(x, y), (x, y + 100)]))
            for f in (0.2, 0.65):
                poles.append((x + 100 * f, y + 6))
    crs = "EPSG:32615"
    street_frame = gpd.GeoDataFrame(
        {"id": [f"s{k}" for k in range(len(streets))],
         "class": rng.choice(["local", "collector", "arterial"], len(streets), p=[.8, .15, .05])},
        geometry=streets, crs=crs)
    n = len(poles)
    px, py = np.array(poles).T
    out = rng.random(n) < 0.12
    lumens = np.where(rng.random(n) < 0.15, 4000.0, 12000.0)
    inv = lt.Inventory(np.array([f"p{k}" for k in range(n)], dtype=object), px, py,
                       np.full(n, 9.0), lumens, np.full(n, "led", dtype=object), out,
                       np.zeros(n, dtype=bool), crs=crs)
    night = gpd.GeoDataFrame(geometry=gpd.points_from_xy(rng.uniform(0, side * 100, 3000),
                                                         rng.uniform(0, side * 100, 3000)),
                             crs=crs)
    t0 = time.perf_counter()
    plan = pr.candidates_for(street_frame, inv, data, pr.Costs.default(), night_concerns=night)
    t_cand = time.perf_counter() - t0
    plan.candidates = plan.candidates[:n_candidates]
    budget = 0.1 * sum(c.cost for c in plan.candidates)
    t0 = time.perf_counter()
    pr.choose(plan, budget)
    t_choose = time.perf_counter() - t0
    t0 = time.perf_counter()
    ex = pr.exact_plan(plan, budget, time_limit_s=time_limit)
    t_exact = time.perf_counter() - t0
    ours = plan.value()
    print(f"priorities: {len(plan.candidates):,} candidates on {len(streets):,} streets, "
          f"budget ${budget:,.0f}")
    print(f"  candidates and their effects {t_cand:8.2f} s")
    print(f"  greedy with swaps            {t_choose:8.2f} s  ({len(plan.chosen)} items, "
          f"${plan.spent:,.0f})")
    print(f"  exact (HiGHS)                {t_exact:8.2f} s  "
          f"({'optimal' if ex.optimal else f'stopped at {time_limit:g} s'})")
    print(f"  greedy benefit {ours:,.0f}; exact {ex.value:,.0f}; bound {ex.bound:,.0f}; "
          f"gap to bound {1 - ours / ex.bound:.2%}")
    return float(1 - ours / ex.bound), t_choose


if __name__ == "__main__":
    main()
