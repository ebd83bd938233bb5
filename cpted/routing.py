"""Prize-collecting patrol routes (the team orienteering problem).

Given travel minutes between a station and candidate stops, each stop's prize
and dwell time, a shift length and a number of officers, choose and order stops
so that every officer leaves the station and is back within the shift, and the
total prize visited is as large as possible. Must-visit stops are always
included (or the plan is refused, saying which do not fit).

:func:`solve` builds routes by greedy insertion (largest prize per added
minute), then improves them by local search: 2-opt and relocation within a
route to shorten it, inserting stops that now fit, and exchanging a visited
stop for unvisited ones of more prize. It restarts from a few greedy rules and
keeps the best. :func:`exact` is a dynamic programme over subsets for small
cases (up to about 14 stops), used to check the heuristic; :func:`milp_bound`
asks HiGHS for an upper bound on larger ones.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from cpted import i18n
from cpted.i18n import _
from layers.errors import UnusableInputError

EPS = 1e-9


class RoutingError(UnusableInputError):
    """Routes cannot be planned from what was given; the message says why."""


@dataclass
class Problem:
    """Index 0 of ``minutes`` is the station; stops are 1..m."""

    minutes: NDArray[np.float64]  # (m+1, m+1) shortest travel minutes
    prize: NDArray[np.float64]    # (m,)
    dwell: NDArray[np.float64]    # (m,) minutes
    shift: float                  # minutes per officer
    officers: int = 1
    must: frozenset[int] = frozenset()  # stop indices 0..m-1

    def __post_init__(self) -> None:
        self.minutes = np.asarray(self.minutes, dtype=float)
        self.prize = np.asarray(self.prize, dtype=float)
        self.dwell = np.asarray(self.dwell, dtype=float)
        m = len(self.prize)
        if self.minutes.shape != (m + 1, m + 1) or len(self.dwell) != m:
            raise RoutingError("the travel matrix, prizes and dwell times do not agree in size")
        if self.officers < 1:
            raise RoutingError("plan for at least one officer")
        if not self.shift > 0:
            raise RoutingError("the shift must be longer than zero minutes")
        if (self.prize < 0).any():
            raise RoutingError("prizes cannot be negative")
        if not np.isfinite(self.minutes).all():
            raise RoutingError(_("some stops cannot be reached from the station on the "
                                 "network"))
        self._rows: list[list[float]] = self.minutes.tolist()
        self._dwell: list[float] = self.dwell.tolist()

    @property
    def m(self) -> int:
        return len(self.prize)

    def route_time(self, route: list[int]) -> float:
        """Minutes for a route of stop indices (0-based), station to station."""
        if not route:
            return 0.0
        t = self._rows
        d = self._dwell
        total = t[0][route[0] + 1] + t[route[-1] + 1][0]
        for a, b in itertools.pairwise(route):
            total += t[a + 1][b + 1]
        return float(total + sum(d[s] for s in route))

    def value(self, routes: list[list[int]]) -> float:
        return float(sum(self.prize[s] for r in routes for s in r))


@dataclass
class Solution:
    routes: list[list[int]]
    prize: float
    times: list[float]
    unvisited: list[int] = field(default_factory=list)


# -- heuristic -----------------------------------------------------------------

def _best_insertion(p: Problem, route: list[int], spent: float, stops: NDArray[np.int64],
                    ) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """For each candidate stop: the least added minutes over positions, and that position."""
    nodes = np.array([0, *(s + 1 for s in route), 0])
    a, b = nodes[:-1], nodes[1:]
    t = p.minutes
    cand = stops + 1
    added = (t[a][:, cand] + t[cand][:, b].T - t[a, b][:, None]) + p.dwell[stops][None, :]
    pos = np.argmin(added, axis=0)
    best = added[pos, np.arange(len(stops))]
    best = np.where(spent + best <= p.shift + EPS, best, np.inf)
    return best, pos


def _insert_greedy(p: Problem, routes: list[list[int]], free: set[int], power: float,
                   only: set[int] | None = None,
                   noise: NDArray[np.float64] | None = None) -> None:
    times = [p.route_time(r) for r in routes]
    while True:
        pool = np.array(sorted(only & free if only is not None else free), dtype=np.int64)
        if len(pool) == 0:
            return
        best_score, choice = -np.inf, None
        for k, r in enumerate(routes):
            added, pos = _best_insertion(p, r, times[k], pool)
            ok = np.isfinite(added)
            if not ok.any():
                continue
            score = np.full(len(pool), -np.inf)
            gain = p.prize[pool[ok]]
            if only is not None:  # must-visits: cheapest first
                score[ok] = -added[ok]
            else:
                score[ok] = gain / np.maximum(added[ok], 1e-6) ** power
                if noise is not None:
                    score[ok] *= noise[pool[ok]]
                score[ok & (p.prize[pool] <= 0)] = -np.inf
            j = int(np.argmax(score))
            if score[j] > best_score:
                best_score, choice = score[j], (k, int(pos[j]), int(pool[j]))
        if choice is None or not np.isfinite(best_score):
            return
        k, pos_k, s = choice
        routes[k].insert(pos_k, s)
        times[k] = p.route_time(routes[k])
        free.discard(s)


def _two_opt(p: Problem, route: list[int]) -> list[int]:
    """Shorten a route by segment reversal and single-stop relocation until no gain.

    Moves are evaluated in closed form from running sums of the forward and backward
    travel times, so one-way streets (an asymmetric matrix) are handled exactly.
    """
    best = list(route)
    t = p.minutes
    while len(best) > 1:
        nodes = np.array([0, *(s + 1 for s in best), 0])
        n = len(best)
        fwd = t[nodes[:-1], nodes[1:]]
        bwd = t[nodes[1:], nodes[:-1]]
        cf = np.concatenate([[0.0], np.cumsum(fwd)])
        cb = np.concatenate([[0.0], np.cumsum(bwd)])
        # reversal of nodes[i..j], 1 <= i < j <= n
        i, j = np.triu_indices(n, k=1)
        i = i + 1
        j = j + 1
        prev, nxt = nodes[i - 1], nodes[j + 1]
        delta = (t[prev, nodes[j]] + t[nodes[i], nxt] + (cb[j] - cb[i])
                 - t[prev, nodes[i]] - t[nodes[j], nxt] - (cf[j] - cf[i]))
        k = int(np.argmin(delta)) if len(delta) else -1
        if k >= 0 and delta[k] < -1e-7:
            a, b = int(i[k]) - 1, int(j[k]) - 1
            best = best[:a] + best[a:b + 1][::-1] + best[b + 1:]
            continue
        # relocation of one stop (at nodes[pos]) into another edge (nodes[u], nodes[u+1])
        pos = np.arange(1, n + 1)[:, None]
        u = np.arange(n + 1)[None, :]
        moved = nodes[pos]
        gain = (t[nodes[pos - 1], moved] + t[moved, nodes[pos + 1]]
                - t[nodes[pos - 1], nodes[pos + 1]])
        cost = t[nodes[u], moved] + t[moved, nodes[u + 1]] - t[nodes[u], nodes[u + 1]]
        delta = np.where((u == pos - 1) | (u == pos), np.inf, cost - gain)
        k = int(np.argmin(delta))
        r, e = divmod(k, n + 1)
        if delta[r, e] >= -1e-7:
            break
        stop = best[r]
        if e < r:
            best = [*best[:e], stop, *best[e:r], *best[r + 1:]]
        else:
            best = best[:r] + best[r + 1:e] + [stop] + best[e:]
    return best


def _exchange(p: Problem, routes: list[list[int]], free: set[int]) -> bool:
    """Drop one visited stop (not a must) and refill greedily; keep it if the prize grows."""
    current = p.value(routes)
    visited = sorted(((p.prize[s], k, s) for k, r in enumerate(routes) for s in r
                      if s not in p.must))
    for _prize, k, s in visited:
        trial = [list(r) for r in routes]
        trial[k].remove(s)
        trial_free = set(free)
        _insert_greedy(p, trial, trial_free, 1.0)  # refill without s first, then maybe s
        trial_free.add(s)
        _insert_greedy(p, trial, trial_free, 1.0)
        if p.value(trial) > current + 1e-9:
            routes[:] = [_two_opt(p, r) for r in trial]
            free.clear()
            free.update(trial_free)
            return True
    return False


def _relocate_between(p: Problem, routes: list[list[int]]) -> bool:
    """Move one stop to another officer's route where that lowers the total minutes."""
    if len(routes) < 2:
        return False
    times = [p.route_time(r) for r in routes]
    for a, ra in enumerate(routes):
        for i, s in enumerate(ra):
            rest = ra[:i] + ra[i + 1:]
            saved = times[a] - p.route_time(rest)
            for b, rb in enumerate(routes):
                if b == a:
                    continue
                added, pos = _best_insertion(p, rb, times[b], np.array([s]))
                if np.isfinite(added[0]) and added[0] < saved - 1e-7:
                    routes[a] = rest
                    routes[b] = [*rb[:int(pos[0])], s, *rb[int(pos[0]):]]
                    return True
    return False


def _insert_reordering(p: Problem, routes: list[list[int]], free: set[int],
                       tries: int = 10) -> bool:
    """Insert a stop that fits only after its route is reordered (2-opt after insertion).

    Tried for the most valuable free stops whose cheapest insertion overshoots the
    shift by at most 15%.
    """
    if not free:
        return False
    pool = np.array(sorted(free, key=lambda s: -p.prize[s]), dtype=np.int64)
    pool = pool[p.prize[pool] > 0]
    done = 0
    for s in pool:
        for k, r in enumerate(routes):
            t_now = p.route_time(r)
            added, pos = _best_insertion(p, r, -np.inf, np.array([s]))
            over = t_now + added[0] - p.shift
            if over <= EPS or over > 0.15 * p.shift:
                continue
            cand = _two_opt(p, [*r[:int(pos[0])], int(s), *r[int(pos[0]):]])
            if p.route_time(cand) <= p.shift + EPS:
                routes[k] = cand
                free.discard(int(s))
                return True
            done += 1
            if done >= tries:
                return False
    return False


def _local_search(p: Problem, routes: list[list[int]], free: set[int], max_rounds: int) -> None:
    for _round in range(max_rounds):
        routes[:] = [_two_opt(p, r) for r in routes]
        before = p.value(routes)
        _insert_greedy(p, routes, free, 1.0)
        if p.value(routes) > before + 1e-9:
            continue
        if _relocate_between(p, routes):
            continue
        if _exchange(p, routes, free):
            continue
        if not _insert_reordering(p, routes, free):
            return


def _perturb(p: Problem, routes: list[list[int]], free: set[int],
             rng: np.random.Generator) -> tuple[list[list[int]], set[int]]:
    """Remove a random share (up to 40%) of the optional visited stops and refill."""
    trial = [list(r) for r in routes]
    trial_free = set(free)
    optional = [s for r in trial for s in r if s not in p.must]
    if not optional:
        return trial, trial_free
    k = int(rng.integers(1, max(2, round(0.4 * len(optional))) + 1))
    drop = set(rng.choice(optional, size=min(k, len(optional)), replace=False).tolist())
    trial = [[s for s in r if s not in drop] for r in trial]
    # refill without the dropped stops first, with noisy scores, so the search is pushed
    # somewhere new
    noise = np.exp(rng.normal(0.0, 0.5, p.m))
    _insert_greedy(p, trial, trial_free, float(rng.uniform(0.0, 2.0)), noise=noise)
    trial_free |= drop
    return trial, trial_free


def solve(p: Problem, *, restarts: tuple[float, ...] = (1.0, 0.5, 2.0, 0.0),
          max_rounds: int = 200, kicks: int | None = None, time_limit: float = 20.0,
          seed: int = 0) -> Solution:
    """Routes for every officer by greedy insertion and local search (see the module).

    After the restarts, ``kicks`` rounds of iterated local search (default: scaled to the
    number of stops) each remove up to 40% of the optional stops, refill with noisy
    scores and search again; the walk goes on from any plan within 3% of the best
    (record-to-record travel), returning to the best plan after 8 kicks without a new
    best. ``time_limit`` seconds bound the kicks; results are repeatable for a given
    ``seed`` when the limit is not reached.
    """
    import time

    started = time.perf_counter()
    must = set(p.must)
    bad = [s for s in must if p.minutes[0, s + 1] + p.dwell[s] + p.minutes[s + 1, 0]
           > p.shift + EPS]
    if bad:
        raise RoutingError(_("{n} must-visit stop(s) cannot be reached and left within the "
                             "shift even alone: lengthen the shift or drop them").format(
            n=i18n.number(len(bad))))
    best: Solution | None = None
    for power in restarts:
        routes: list[list[int]] = [[] for _ in range(p.officers)]
        free = set(range(p.m))
        if must:
            _insert_greedy(p, routes, free, power, only=must)
            if free & must:
                raise RoutingError(_(
                    "the {n} must-visit stops do not all fit in {officers} shift(s) of "
                    "{shift} minutes; add an officer, lengthen the shift or drop some "
                    "must-visits").format(n=i18n.number(len(must)),
                                          officers=i18n.number(p.officers),
                                          shift=i18n.number(p.shift)))
        _insert_greedy(p, routes, free, power)
        _local_search(p, routes, free, max_rounds)
        value = p.value(routes)
        if best is None or value > best.prize + 1e-9:
            best = Solution([list(r) for r in routes], value,
                            [p.route_time(r) for r in routes], sorted(free))
    assert best is not None
    rng = np.random.default_rng(seed)
    n_kicks = kicks if kicks is not None else min(400, 20 + 4 * p.m)
    routes, free = [list(r) for r in best.routes], set(best.unvisited)
    stale = 0
    for _kick in range(n_kicks):
        if time.perf_counter() - started > time_limit:
            break
        trial, trial_free = _perturb(p, routes, free, rng)
        _local_search(p, trial, trial_free, max_rounds)
        value = p.value(trial)
        spent = sum(p.route_time(r) for r in trial)
        stale += 1
        if value > best.prize + 1e-9:
            best = Solution([list(r) for r in trial], value,
                            [p.route_time(r) for r in trial], sorted(trial_free))
            stale = 0
        # record-to-record travel: walk on from any plan within 3% of the best, and go
        # back to the best after 8 kicks without a new best
        current = p.value(routes)
        if stale and stale % 8 == 0:
            routes, free = [list(r) for r in best.routes], set(best.unvisited)
        elif value >= 0.97 * best.prize or (value > current - 1e-9
                                            and spent < sum(p.route_time(r) for r in routes)):
            routes, free = trial, trial_free
    return best


# -- exact, for checking ---------------------------------------------------------

def _tour_times(p: Problem) -> NDArray[np.float64]:
    """Held-Karp: the shortest station-to-station time through each subset of stops."""
    m = p.m
    full = 1 << m
    t = p.minutes
    f = np.full((full, m), np.inf)
    for j in range(m):
        f[1 << j, j] = t[0, j + 1] + p.dwell[j]
    for mask in range(1, full):
        row = f[mask]
        if not np.isfinite(row).any():
            continue
        for j in range(m):
            if mask >> j & 1:
                continue
            cand = row + t[1:, j + 1] + p.dwell[j]
            best = cand.min()
            nm = mask | 1 << j
            if best < f[nm, j]:
                f[nm, j] = best
    tour = np.full(full, np.inf)
    tour[0] = 0.0
    back = f + t[1:, 0][None, :]
    tour[1:] = back[1:].min(axis=1)
    return tour


def exact(p: Problem) -> float:
    """The optimal total prize, by dynamic programming over subsets (m <= ~14).

    Must-visit stops carry a prize larger than all others together, so an
    optimum covers them whenever possible; -inf when they cannot all be covered.
    """
    m = p.m
    if m > 16:
        raise RoutingError("the exact check is for small cases (16 stops at most)")
    big = float(p.prize.sum()) + 1.0
    prize = p.prize + np.array([big if s in p.must else 0.0 for s in range(m)])
    full = 1 << m
    masks = np.arange(full)
    bits = (masks[:, None] >> np.arange(m)[None, :]) & 1
    value = bits @ prize
    feasible = _tour_times(p) <= p.shift + EPS
    one = np.where(feasible, value, -np.inf)
    # best[U]: best single feasible subset inside U (max over subsets, by bit relaxation)
    best = one.copy()
    for j in range(m):
        has = (masks >> j & 1).astype(bool)
        best[has] = np.maximum(best[has], best[masks[has] ^ (1 << j)])
    level = best
    for _officer in range(p.officers - 1):
        nxt = np.full(full, -np.inf)
        for u in range(full):
            s = u
            top = -np.inf
            while True:  # every subset s of u as one route, the rest for the others
                if feasible[s]:
                    v = value[s] + level[u ^ s]
                    if v > top:
                        top = v
                if s == 0:
                    break
                s = (s - 1) & u
            nxt[u] = top
        level = nxt
    total = float(level[full - 1])
    n_must = len(p.must)
    if total < n_must * big - 1e-6:
        return -math.inf
    return total - n_must * big


def milp_bound(p: Problem, *, time_limit: float = 60.0) -> tuple[float, float, bool]:
    """An upper bound on the optimal prize from HiGHS (scipy.optimize.milp).

    The model: arc and visit binaries, degree constraints, Miller-Tucker-Zemlin
    arrival times, each stop's arrival between its shortest time from the
    station and the shift's end less dwell and return, and the total minutes of
    all officers within ``officers x shift``. Returns (best prize found, bound,
    proved optimal).
    """
    from scipy.optimize import Bounds, LinearConstraint, milp

    m = p.m
    n = m + 1
    t = p.minutes
    arcs = [(i, j) for i in range(n) for j in range(n) if i != j]
    na = len(arcs)
    ny = m
    nu = m
    nvar = na + ny + nu
    yi = na  # y_s at yi + s
    ui = na + ny
    c = np.zeros(nvar)
    c[yi:yi + m] = -p.prize
    rows, cols, vals, lo, hi = [], [], [], [], []
    r = 0

    def row(entries: list[tuple[int, float]], low: float, high: float) -> None:
        nonlocal r
        for col, val in entries:
            rows.append(r)
            cols.append(col)
            vals.append(val)
        lo.append(low)
        hi.append(high)
        r += 1

    out_of: list[list[int]] = [[] for _ in range(n)]
    into: list[list[int]] = [[] for _ in range(n)]
    for k, (i, j) in enumerate(arcs):
        out_of[i].append(k)
        into[j].append(k)
    for s in range(m):
        node = s + 1
        row([(k, 1.0) for k in out_of[node]] + [(yi + s, -1.0)], 0, 0)
        row([(k, 1.0) for k in into[node]] + [(yi + s, -1.0)], 0, 0)
    row([(k, 1.0) for k in out_of[0]], 0, p.officers)
    row([(k, 1.0) for k in out_of[0]] + [(k, -1.0) for k in into[0]], 0, 0)
    # total minutes of all officers
    row([(k, t[i, j]) for k, (i, j) in enumerate(arcs)]
        + [(yi + s, p.dwell[s]) for s in range(m)], -np.inf, p.officers * p.shift)
    # arrival times: t0i*y <= u_i <= (L - d_i - t_i0) * y
    for s in range(m):
        node = s + 1
        row([(ui + s, 1.0), (yi + s, -t[0, node])], 0, np.inf)
        row([(ui + s, 1.0), (yi + s, -(p.shift - p.dwell[s] - t[node, 0]))], -np.inf, 0)
    # MTZ with the tightest big-M each arc allows: u_i lies in [a_i, b_i], where a_i is
    # the time from the station and b_i the latest arrival that still gets back in time
    early = t[0, 1:]
    late = p.shift - p.dwell - t[1:, 0]
    ub_arc = np.ones(na)
    for k, (i, j) in enumerate(arcs):
        if i == 0 or j == 0:
            continue
        step = p.dwell[i - 1] + t[i, j]
        if early[i - 1] + step > late[j - 1] + EPS:
            ub_arc[k] = 0  # no plan can use this arc
            continue
        big_m = late[i - 1] + step - early[j - 1]
        row([(ui + j - 1, 1.0), (ui + i - 1, -1.0), (k, -big_m)], step - big_m, np.inf)
    # no two-stop cycles
    index = {a: k for k, a in enumerate(arcs)}
    for i in range(1, n):
        for j in range(i + 1, n):
            row([(index[(i, j)], 1.0), (index[(j, i)], 1.0), (yi + i - 1, -1.0)], -np.inf, 0)
    import scipy.sparse as sp

    a_mat = sp.csr_matrix((vals, (rows, cols)), shape=(r, nvar))
    integrality = np.concatenate([np.ones(na + ny), np.zeros(nu)])
    lb = np.zeros(nvar)
    ub = np.concatenate([ub_arc, np.ones(ny), np.full(nu, p.shift)])
    for s in p.must:
        lb[yi + s] = 1
    res = milp(c, constraints=LinearConstraint(a_mat, lo, hi), integrality=integrality,
               bounds=Bounds(lb, ub), options={"time_limit": time_limit, "disp": False})
    found = -float(res.fun) if res.x is not None else 0.0
    bound = getattr(res, "mip_dual_bound", None)
    bound_v = -float(bound) if bound is not None and np.isfinite(bound) else float(p.prize.sum())
    return found, max(bound_v, found), res.status == 0
