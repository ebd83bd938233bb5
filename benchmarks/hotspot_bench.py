"""Hotspots on 10,000 cells: our whole pipeline against esda alone in the same run.

Events are drawn over a 10 x 10 km area (a background plus planted clusters) and
gridded into 100 x 100 cells of 100 m. Ours: ``cpted.hotspots`` end to end, from the
points: the grid, weighted counts, the quartic KDE, Gi* (esda, 999 conditional
permutations) and the FDR bins at three confidence levels. Baseline: esda alone on
the same counts and weights (``G_Local`` with 999 permutations plus ``esda.fdr``), as
an analyst would script it. Prints both times, the ratio (ours / esda; the price of the
grid, the KDE and the bins on top of the statistic) and checks that both flag the
same cells at 95%. Then times :func:`cpted.forecast.evaluate_methods` (every forecast
method tuned, validated and judged on a later window; events spread over 180 days,
judged from day 120) against that same pipeline run (``forecast_vs_analyse``).

    .venv/bin/python benchmarks/hotspot_bench.py [--side 100] [--events 60000]
"""

from __future__ import annotations

import argparse
import time
import warnings

import esda
import geopandas as gpd
import libpysal
import numpy as np
import pandas as pd
import pyproj
import shapely

from cpted import forecast as fc
from cpted import hotspots as hs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--side", type=int, default=100)
    ap.add_argument("--events", type=int, default=60_000)
    ap.add_argument("--permutations", type=int, default=999)
    args = ap.parse_args()
    rng = np.random.default_rng(3)
    extent = args.side * 100.0
    x0, y0 = 500_000.0, 4_300_000.0
    n_bg = args.events // 2
    hubs = rng.uniform(0, extent, (25, 2))
    xy = np.vstack([rng.uniform(0, extent, (n_bg, 2)),
                    hubs[rng.integers(0, 25, args.events - n_bg)]
                    + rng.normal(0, 150, (args.events - n_bg, 2))])
    xy = xy[(xy >= 0).all(axis=1) & (xy < extent).all(axis=1)] + (x0, y0)
    crs = pyproj.CRS.from_epsg(32615)
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=crs)
    events = pts.to_crs(4326)
    day0 = pd.Timestamp("2026-01-01", tz="UTC")
    events["when"] = day0 + pd.to_timedelta(rng.uniform(0, 180, len(events)), unit="D")
    events["weight"] = 1.0
    # the boundary is square in UTM; cells stay inside it
    boundary_m = gpd.GeoDataFrame(geometry=[shapely.box(x0, y0, x0 + extent, y0 + extent)],
                                  crs=crs)

    t0 = time.perf_counter()
    hot = hs.analyse(events, boundary=boundary_m.to_crs(4326), cell_size=100.0,
                     permutations=args.permutations, crs=crs)
    t_ours = time.perf_counter() - t0

    y = hot.counts
    w = hot.grid.neighbours()
    t1 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = esda.G_Local(y, libpysal.graph.Graph.from_sparse(w), transform="B", star=True,
                         permutations=args.permutations, seed=12345, n_jobs=1)
        p = np.minimum(1.0, 2 * g.p_z_sim)
        cut = esda.fdr(p, 0.05)
    t_esda = time.perf_counter() - t1
    flagged_esda = (p < cut)
    flagged_ours = np.abs(hot.gi.bins) >= 2
    same = (flagged_esda == flagged_ours).mean()

    print(f"cells: {len(hot.grid):,} ({hot.grid.size:g} m), events: {hot.n_events:,}, "
          f"permutations: {args.permutations}")
    print(f"ours (grid, counts, KDE radius {hot.radius:g} m, Gi*, FDR bins): {t_ours:.2f} s")
    print(f"esda alone (G_Local + fdr on the same counts): {t_esda:.2f} s")
    print(f"ratio ours / esda: {t_ours / t_esda:.2f}x")
    print(f"cells flagged at 95% (FDR): ours {int(flagged_ours.sum()):,}, esda "
          f"{int(flagged_esda.sum()):,}; agreement {same:.2%}")
    print(f"Gi* z max difference from esda: {np.abs(hot.gi.z - g.Zs).max():.1e}")
    t2 = time.perf_counter()
    ev = fc.evaluate_methods(events, hot.grid, day0 + pd.Timedelta(days=120))
    t_fc = time.perf_counter() - t2
    print(f"forecast evaluation ({len(ev.table['method'].unique())} methods, tuned, "
          f"validated, judged): {t_fc:.2f} s, {t_fc / t_ours:.2f}x the pipeline above")
    print(f"RESULT ratio_vs_esda={t_ours / t_esda:.2f} agreement={same:.4f} "
          f"z_max_diff={np.abs(hot.gi.z - g.Zs).max():.1e} "
          f"forecast_vs_analyse={t_fc / t_ours:.2f}")


if __name__ == "__main__":
    main()
