"""Isovists (sightlines) for many points among many buildings, against an unindexed baseline.

1,000 viewpoints among 5,000 generated building footprints (a 3.5 km square of
city blocks with gaps, like the sample district) at the default 100 m view
distance, each exact (an angular sweep over the walls). Ours:
``cpted.isovist.Sightlines.at``, which asks an STRtree for the footprints that meet
the view circle. Baseline: the same sweep
tested against every wall of the layer (no spatial index; walls beyond the view
distance are dropped by one vectorised distance test), run in the same process on the
first ``--baseline-points`` viewpoints. Prints the time per isovist of each, their
ratio, and whether the polygons and areas are identical.

    .venv/bin/python benchmarks/isovist_bench.py [--points 1000] [--buildings 5000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import shapely

from cpted.isovist import IsovistError, Sightlines


def city(n: int, rng: np.random.Generator) -> list[shapely.Polygon]:
    side = int(np.ceil(np.sqrt(n)))
    pitch = 50.0  # metres between building origins: 30 m blocks and 20 m streets
    out = []
    for k in range(n):
        i, j = divmod(k, side)
        x, y = i * pitch + rng.uniform(0, 8), j * pitch + rng.uniform(0, 8)
        w, h = rng.uniform(10, 30), rng.uniform(10, 30)
        out.append(shapely.box(x, y, x + w, y + h))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=1000)
    ap.add_argument("--buildings", type=int, default=5000)
    ap.add_argument("--baseline-points", type=int, default=50)
    args = ap.parse_args()
    rng = np.random.default_rng(11)
    footprints = city(args.buildings, rng)
    union = shapely.union_all(footprints)
    extent = np.sqrt(args.buildings) * 50.0
    points: list[tuple[float, float]] = []
    while len(points) < args.points:
        x, y = rng.uniform(0, extent, 2)
        if not union.contains(shapely.Point(x, y)):
            points.append((float(x), float(y)))
    lines = Sightlines(footprints)

    t0 = time.perf_counter()
    ours = []
    for x, y in points:
        try:
            ours.append(lines.at(x, y))
        except IsovistError:
            ours.append(None)
    t_ours = (time.perf_counter() - t0) / len(points)

    m = min(args.baseline_points, len(points))
    t0 = time.perf_counter()
    base = [lines.at_unindexed(x, y) for x, y in points[:m]]
    t_base = (time.perf_counter() - t0) / m

    same = all(a is not None and a.polygon.equals_exact(b.polygon, 0)
               and a.area_m2 == b.area_m2 for a, b in zip(ours[:m], base, strict=True))
    print(f"isovists: {len(points):,} viewpoints among {len(footprints):,} buildings, "
          f"100 m view, exact sweep")
    print(f"  ours (STRtree)      {t_ours * 1000:8.2f} ms per isovist "
          f"({t_ours * len(points):.1f} s for all)")
    print(f"  baseline (no index) {t_base * 1000:8.2f} ms per isovist (first {m})")
    print(f"  ratio baseline/ours {t_base / t_ours:8.1f}x   target >= 10x")
    print(f"  same polygons: {same}")
    print(f"  mean openness {np.mean([i.openness for i in ours if i is not None]):.2f}")
    print(f"RESULT speedup={t_base / t_ours:.1f} same={int(same)}")


if __name__ == "__main__":
    main()
