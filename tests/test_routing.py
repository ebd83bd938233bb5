"""Prize-collecting routes against exact solvers on small cases.

References: brute force over every ordered subset (for the dynamic programme), the
dynamic programme (for the heuristic, on up to 12 stops) and HiGHS (for the integer
programme's bound).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from cpted.routing import Problem, RoutingError, exact, milp_bound, solve


def instance(seed: int, m: int | None = None, officers: int | None = None,
             musts: int | None = None) -> Problem:
    rng = np.random.default_rng(seed)
    m = m or int(rng.integers(5, 13))
    k = officers or int(rng.integers(1, 4))
    pts = rng.uniform(0, 5, (m + 1, 2))
    t = cdist(pts, pts) * rng.uniform(1.0, 1.3, (m + 1, m + 1))  # one-way differences
    np.fill_diagonal(t, 0)
    for j in range(m + 1):  # shortest-path closure, as the network's matrix is
        t = np.minimum(t, t[:, [j]] + t[[j], :])
    n_must = int(rng.integers(0, 2)) if musts is None else musts
    must = rng.choice(m, size=n_must, replace=False).tolist()
    shift = float(rng.uniform(8, 20))
    # keep must-visits reachable alone
    must = [s for s in must if t[0, s + 1] + 2.0 + t[s + 1, 0] <= shift]
    return Problem(t, rng.gamma(1.5, 2.0, m), np.full(m, 2.0), shift, k, frozenset(must))


def brute_force(p: Problem) -> float:
    """Best prize over every assignment of stops to officers (or none) and every order."""
    best_time: dict[frozenset[int], float] = {frozenset(): 0.0}
    for r in range(1, p.m + 1):
        for subset in itertools.combinations(range(p.m), r):
            times = [p.route_time(list(order)) for order in itertools.permutations(subset)]
            best_time[frozenset(subset)] = min(times)
    feasible = [s for s, t in best_time.items() if t <= p.shift + 1e-9]
    best = -np.inf
    for combo in itertools.combinations_with_replacement(feasible, p.officers):
        union: set[int] = set()
        disjoint = True
        for s in combo:
            if union & s:
                disjoint = False
                break
            union |= s
        if disjoint and p.must <= union:
            best = max(best, float(sum(p.prize[list(union)])))
    return best


@pytest.mark.parametrize("seed", range(6))
def test_the_dynamic_programme_equals_brute_force(seed: int) -> None:
    p = instance(seed, m=6, officers=1 + seed % 2)
    assert exact(p) == pytest.approx(brute_force(p))


def check_solution(p: Problem, routes: list[list[int]], unvisited: list[int]) -> None:
    seen = [s for r in routes for s in r]
    assert sorted(seen + unvisited) == list(range(p.m))  # every stop once, none lost
    assert len(routes) == p.officers
    assert all(p.route_time(r) <= p.shift + 1e-9 for r in routes)
    assert p.must <= set(seen)


def test_heuristic_reaches_98_percent_of_the_exact_optimum_on_small_cases() -> None:
    ratios = []
    for seed in range(60):
        p = instance(seed)
        sol = solve(p, seed=seed)
        check_solution(p, sol.routes, sol.unvisited)
        best = exact(p)
        assert sol.prize <= best + 1e-9
        ratios.append(sol.prize / best if best > 0 else 1.0)
    assert min(ratios) >= 0.98, sorted(ratios)[:5]
    print(f"\nheuristic / exact over 60 cases: min {min(ratios):.4f}, "
          f"mean {np.mean(ratios):.4f}")


def test_the_integer_programme_agrees_on_a_small_case() -> None:
    p = instance(11, m=8, officers=2, musts=1)
    found, bound, optimal = milp_bound(p, time_limit=60)
    best = exact(p)
    assert optimal
    assert found == pytest.approx(best, abs=1e-6)
    assert bound >= best - 1e-6


def test_must_visits_that_cannot_fit_are_refused_with_a_reason() -> None:
    t = np.array([[0, 30, 30], [30, 0, 60], [30, 60, 0]], dtype=float)
    p = Problem(t, np.array([1.0, 1.0]), np.array([5.0, 5.0]), 70.0, 1, frozenset({0, 1}))
    with pytest.raises(RoutingError, match="do not all fit"):
        solve(p)
    p = Problem(t, np.array([1.0, 1.0]), np.array([5.0, 5.0]), 50.0, 1, frozenset({0}))
    with pytest.raises(RoutingError, match="even alone"):
        solve(p)
    with pytest.raises(RoutingError, match="reached"):
        Problem(np.array([[0, np.inf], [np.inf, 0]]), np.ones(1), np.ones(1), 10.0)
