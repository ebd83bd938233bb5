"""Patrol routes against the exact optimum on small generated cases (how close, how often).

Cases as ``tests/test_routing.py`` makes them: 5 to 12 stops uniformly placed on a
5 x 5 square, one-way travel times 1.0-1.3 times the distance (closed under shortest
paths), gamma-distributed prizes, a 2-minute dwell, 1 to 3 officers, a shift of 8-20
minutes and at most one must-visit stop. Ours: ``cpted.routing.solve`` with its
defaults. Reference: ``cpted.routing.exact``, a dynamic programme over every subset of
stops (Held-Karp tours, then the best split between officers), run in the same
process. Prints how many cases the heuristic matched exactly, the smallest and mean
share of the optimum, and the cases below 100%.

    .venv/bin/python benchmarks/routing_exact_bench.py [--cases 200] [--first-seed 0]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.spatial.distance import cdist

from cpted.routing import Problem, exact, solve


def instance(seed: int) -> Problem:
    rng = np.random.default_rng(seed)
    m = int(rng.integers(5, 13))
    k = int(rng.integers(1, 4))
    pts = rng.uniform(0, 5, (m + 1, 2))
    t = cdist(pts, pts) * rng.uniform(1.0, 1.3, (m + 1, m + 1))
    np.fill_diagonal(t, 0)
    for j in range(m + 1):
        t = np.minimum(t, t[:, [j]] + t[[j], :])
    n_must = int(rng.integers(0, 2))
    must = rng.choice(m, size=n_must, replace=False).tolist()
    shift = float(rng.uniform(8, 20))
    must = [s for s in must if t[0, s + 1] + 2.0 + t[s + 1, 0] <= shift]
    return Problem(t, rng.gamma(1.5, 2.0, m), np.full(m, 2.0), shift, k, frozenset(must))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=200)
    ap.add_argument("--first-seed", type=int, default=0)
    args = ap.parse_args()
    ratios, t_ours, t_exact = [], 0.0, 0.0
    below: list[tuple[int, float]] = []
    for seed in range(args.first_seed, args.first_seed + args.cases):
        p = instance(seed)
        t0 = time.perf_counter()
        sol = solve(p, seed=seed)
        t1 = time.perf_counter()
        best = exact(p)
        t2 = time.perf_counter()
        t_ours, t_exact = t_ours + t1 - t0, t_exact + t2 - t1
        r = sol.prize / best if best > 0 else 1.0
        ratios.append(r)
        if r < 1 - 1e-9:
            below.append((seed, r))
    arr = np.array(ratios)
    matched = int((arr >= 1 - 1e-9).sum())
    print(f"{len(arr)} cases (seeds {args.first_seed}-{args.first_seed + args.cases - 1}), "
          "5-12 stops, 1-3 officers")
    print(f"  matched the exact optimum: {matched} of {len(arr)}")
    print(f"  share of the optimum: min {arr.min():.4f}, mean {arr.mean():.5f}")
    for seed, r in below:
        print(f"  seed {seed}: {r:.4f}")
    print(f"  time: heuristic {t_ours:.1f} s, exact programme {t_exact:.1f} s "
          f"(ratio exact/ours {t_exact / t_ours:.2f}x)")
    print(f"RESULT cases={len(arr)} matched={matched} min_share={arr.min():.4f} "
          f"mean_share={arr.mean():.5f}")


if __name__ == "__main__":
    main()
