"""Choosing work items under a budget when items light points jointly.

Each item ``i`` adds ``light[i][k]`` lux at point ``points[i][k]``; point ``p`` is
*lifted* when the items chosen together add at least its ``deficit[p]`` (the lux it
lacks to reach its minimum target), and is then worth ``values[p]``. Two repairs that
only together lift a point both count toward it. The value of a set ``S`` is
``f(S) = sum of values[p] over points with sum_{i in S} light[i][p] >= deficit[p]``.

``f`` is not submodular (a second item can complete what a first began), so a greedy
over single items never starts a lift that needs two. :func:`greedy_lifts` therefore
chooses among *groups*: every single item, and every pair of items that together
lift a point neither lifts alone. Each step takes the group with the most value per
dollar, its gain recomputed with the light the items already taken add (so a
repair that completes a half-lit point is credited with it); after a step only the
groups touching the points that changed are re-evaluated, which makes this the
plain greedy, not an approximation of it. Items that end up lifting nothing the
others do not are dropped and the freed budget refilled; the best single item is
taken if it is worth more (Khuller, Moss & Naor (1999), "The budgeted maximum
coverage problem", Information Processing Letters 70(1), 39-45); short lists are
improved by swaps. :func:`exact_lifts` solves the integer programme with HiGHS
(``scipy.optimize.milp``). Plain coverage is the case ``light = deficit = 1``.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import optimize, sparse

from layers.errors import UnusableInputError

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
#: A point is lifted when the light added falls short of its deficit by at most this.
TOLERANCE_LUX = 1e-9
#: Lists this short are also improved by dropping pairs of items.
PAIR_SWAP_LIMIT = 30
#: Lists longer than this are not improved by swaps.
SWAP_LIMIT = 400
#: Swaps are tried only when (items dropped per pass) x (groups) is at most this.
SWAP_WORK = 2_000_000


@dataclass(frozen=True)
class Lifts:
    """What each item adds at each point, and what each point lacks and is worth.

    Only points with a positive deficit count; ``points[i]`` are indices into
    ``deficit`` and ``values``, with ``light[i]`` (lux, positive) alongside.
    """

    points: Sequence[IntArray]
    light: Sequence[FloatArray]
    deficit: FloatArray
    values: FloatArray

    @classmethod
    def coverage(cls, covers: Sequence[frozenset[int]],
                 values: Sequence[float] | FloatArray) -> Lifts:
        """Budgeted maximum coverage as a lift problem: each item fully lifts its points."""
        v = np.asarray(values, dtype=float)
        pts = [np.array(sorted(c), dtype=np.intp) for c in covers]
        return cls(pts, [np.ones(len(p)) for p in pts], np.ones(len(v)), v)

    def added(self, chosen: Sequence[int]) -> FloatArray:
        """Lux the ``chosen`` items add together at every point."""
        got = np.zeros(len(self.deficit))
        for i in chosen:
            np.add.at(got, self.points[i], self.light[i])
        return got

    def lifted(self, chosen: Sequence[int]) -> NDArray[np.bool_]:
        """Which points the ``chosen`` items lift together."""
        out: NDArray[np.bool_] = (self.deficit > 0) & (
            self.added(chosen) >= self.deficit - TOLERANCE_LUX)
        return out

    def value(self, chosen: Sequence[int]) -> float:
        """``f``: the value of the points the ``chosen`` items lift together."""
        return float(self.values[self.lifted(chosen)].sum()) if len(chosen) else 0.0

    def alone(self, i: int) -> IntArray:
        """The points item ``i`` lifts on its own."""
        pts = self.points[i]
        ok = (self.deficit[pts] > 0) & (self.light[i] >= self.deficit[pts] - TOLERANCE_LUX)
        return pts[ok]


def _ratio(gain: float, cost: float) -> float:
    return gain / cost if cost > 0 else (np.inf if gain > 0 else 0.0)


class _Groups:
    """Single items and the pairs that lift a point jointly, with what each adds."""

    def __init__(self, costs: Sequence[float], lifts: Lifts) -> None:
        n = len(costs)
        self.lifts = lifts
        self.need = lifts.deficit - TOLERANCE_LUX
        self.members: list[tuple[int, ...]] = [(i,) for i in range(n)]
        self.points: list[IntArray] = list(lifts.points)
        self.light: list[FloatArray] = list(lifts.light)
        self.cost: list[float] = [float(c) for c in costs]
        # a pair lifts a point jointly when both add less than it lacks and together
        # enough: look for such pairs point by point among the items short there
        short: dict[int, list[tuple[int, float]]] = {}
        for i, (pts, light) in enumerate(zip(lifts.points, lifts.light, strict=True)):
            under = (lifts.deficit[pts] > 0) & (light < self.need[pts])
            for q, e in zip(pts[under].tolist(), light[under].tolist(), strict=True):
                short.setdefault(q, []).append((i, e))
        pairs: set[tuple[int, int]] = set()
        for q, items in short.items():
            need = float(self.need[q])
            for k, (a, ea) in enumerate(items):
                for b, eb in items[k + 1:]:
                    if ea + eb >= need:
                        pairs.add((a, b))
        for a, b in sorted(pairs):
            pa, pb = lifts.points[a], lifts.points[b]
            u = np.union1d(pa, pb)
            both = np.zeros(len(u))
            np.add.at(both, np.searchsorted(u, pa), lifts.light[a])
            np.add.at(both, np.searchsorted(u, pb), lifts.light[b])
            self.members.append((a, b))
            self.points.append(u)
            self.light.append(both)
            self.cost.append(float(costs[a]) + float(costs[b]))
        self.of_item: list[list[int]] = [[] for _ in range(n)]
        for g, m in enumerate(self.members):
            for i in m:
                self.of_item[i].append(g)
        self.at_point: dict[int, list[int]] = {}
        for g, pts in enumerate(self.points):
            for q in pts.tolist():
                self.at_point.setdefault(q, []).append(g)


class _Greedy:
    """The greedy's state: items taken, the light they add, and groups waiting by ratio.

    Gains are computed with the light of the items taken so far; after each step the
    groups touching the points that changed are re-evaluated (no other gain can
    change). Ties go to the lower group index (single items first, by index). Items
    can be dropped again (:meth:`drop`) and the greedy resumed with the freed budget.
    """

    def __init__(self, costs: Sequence[float], lifts: Lifts, groups: _Groups, left: float,
                 chosen: Sequence[int], exclude: frozenset[int] = frozenset()) -> None:
        self.costs, self.lifts, self.g = costs, lifts, groups
        self.left = float(left)
        self.chosen = list(chosen)
        self.taken = set(chosen)
        self.exclude = set(exclude)
        self.got = lifts.added(self.chosen)
        self.version = [0] * len(groups.members)
        self.heap = [(-r, g, 0) for g in range(len(groups.members))
                     if self.usable(g) and (r := self.ratio(g)) > 0]
        heapq.heapify(self.heap)
        self.waiting: list[tuple[float, int, int]] = []  # too dear for the budget left

    def ratio(self, g: int) -> float:
        pts = self.g.points[g]
        if len(pts) == 0:
            return 0.0
        need = self.g.need[pts]
        before = self.got[pts]
        now = (before + self.g.light[g] >= need) & (before < need)
        return _ratio(float(self.lifts.values[pts][now].sum()), self.g.cost[g])

    def usable(self, g: int) -> bool:
        return not any(i in self.taken or i in self.exclude for i in self.g.members[g])

    def _refresh(self, items: Sequence[int]) -> None:
        touched: set[int] = set()
        for i in items:
            for q in self.lifts.points[i].tolist():
                touched.update(self.g.at_point.get(q, ()))
        for h in touched:
            if self.usable(h):
                self.version[h] += 1
                if (r := self.ratio(h)) > 0:
                    heapq.heappush(self.heap, (-r, h, self.version[h]))

    def run(self) -> list[int]:
        """Take groups by value newly lifted per dollar while an affordable one adds some."""
        while self.heap:
            entry = heapq.heappop(self.heap)
            _, g, v = entry
            if v != self.version[g] or not self.usable(g):
                continue  # stale or overtaken
            if self.g.cost[g] > self.left + 1e-9:
                self.waiting.append(entry)
                continue
            for i in self.g.members[g]:
                self.chosen.append(i)
                self.taken.add(i)
                self.left -= self.costs[i]
                np.add.at(self.got, self.lifts.points[i], self.lifts.light[i])
            self._refresh(self.g.members[g])
        return list(self.chosen)

    def drop(self, items: Sequence[int]) -> None:
        """Undo ``items`` (and never take them again), freeing their budget."""
        for i in items:
            self.chosen.remove(i)
            self.taken.discard(i)
            self.exclude.add(i)
            self.left += self.costs[i]
            np.subtract.at(self.got, self.lifts.points[i], self.lifts.light[i])
        for entry in self.waiting:
            heapq.heappush(self.heap, entry)
        self.waiting = []
        self._refresh(items)


def _fill(costs: Sequence[float], lifts: Lifts, left: float, chosen: list[int],
          exclude: frozenset[int] = frozenset(), groups: _Groups | None = None) -> list[int]:
    """``chosen`` extended by the greedy (:class:`_Greedy`) within ``left`` dollars."""
    return _Greedy(costs, lifts, groups or _Groups(costs, lifts), left, chosen,
                   exclude).run()


def _prune(lifts: Lifts, chosen: list[int]) -> list[int]:
    """``chosen`` without the items whose removal lifts no fewer points (last first)."""
    keep = list(chosen)
    got = lifts.added(keep)
    need = lifts.deficit - TOLERANCE_LUX
    lifted = (lifts.deficit > 0) & (got >= need)
    for i in reversed(chosen):
        pts = lifts.points[i]
        on = lifted[pts]
        if not on.any() or np.all(got[pts][on] - lifts.light[i][on] >= need[pts][on]):
            keep.remove(i)
            np.subtract.at(got, pts, lifts.light[i])
    return keep


def greedy_lifts(costs: Sequence[float], lifts: Lifts, budget: float, *,
                 swap_rounds: int = 5) -> list[int]:
    """Items to do within ``budget``, in the order taken (see the module docstring).

    The greedy over groups (:func:`_fill`); then, while it gains, items that lift
    nothing the others do not are dropped and the freed budget refilled; the best
    single affordable item if that lifts more value; then, for a list of at most
    :data:`SWAP_LIMIT` items on a problem small enough, improved by swaps (drop one
    item, or on short lists two, and refill the freed budget greedily) while that
    gains value, for at most ``swap_rounds`` passes.
    """
    groups = _Groups(costs, lifts)
    state = _Greedy(costs, lifts, groups, float(budget), [])
    chosen = state.run()
    best = lifts.value(chosen)
    for _ in range(5):
        kept = set(_prune(lifts, chosen))
        if len(kept) == len(chosen):
            break
        state.drop([i for i in chosen if i not in kept])
        trial = state.run()
        value = lifts.value(trial)
        if value <= best + 1e-9:
            break
        chosen, best = trial, value
    singles = [(float(lifts.values[lifts.alone(i)].sum()), i) for i in range(len(costs))
               if costs[i] <= budget + 1e-9]
    if singles and max(singles)[0] > best:
        best, one = max(singles)
        chosen = [one]
    # Swaps help a short list, where one poor pick is a large share; each refill
    # re-evaluates every group, so they are kept to problems where that is cheap.
    drops: list[tuple[int, ...]] = [(j,) for j in chosen]
    if len(chosen) <= PAIR_SWAP_LIMIT:
        drops += [(a, b) for k, a in enumerate(chosen) for b in chosen[k + 1:]]
    small = len(chosen) <= SWAP_LIMIT and len(drops) * len(groups.members) <= SWAP_WORK
    for _ in range(swap_rounds if small else 0):
        improved = False
        drops = [(j,) for j in chosen]
        if len(chosen) <= PAIR_SWAP_LIMIT:
            drops += [(a, b) for k, a in enumerate(chosen) for b in chosen[k + 1:]]
        for out in drops:
            rest = [i for i in chosen if i not in out]
            left = budget - sum(costs[i] for i in rest)
            trial = _fill(costs, lifts, left, rest, frozenset(out), groups)
            value = lifts.value(trial)
            if value > best + 1e-9:
                chosen, best, improved = trial, value, True
                break
        if not improved:
            break
    return chosen


def greedy(costs: Sequence[float], covers: Sequence[frozenset[int]],
           values: Sequence[float] | FloatArray, budget: float, *,
           swap_rounds: int = 5) -> list[int]:
    """Budgeted maximum coverage by :func:`greedy_lifts` (each item lifts its points)."""
    return greedy_lifts(costs, Lifts.coverage(covers, values), budget,
                        swap_rounds=swap_rounds)


@dataclass(frozen=True)
class ExactResult:
    chosen: list[int]
    value: float
    bound: float  # an upper bound on the optimum (equal to value when proved optimal)
    optimal: bool


def exact_lifts(costs: Sequence[float], lifts: Lifts, budget: float, *,
                time_limit_s: float | None = None) -> ExactResult:
    """The optimum of the integer programme (HiGHS through scipy.optimize.milp).

    Variables x_i (do item i) and z_p (point p lifted): maximise sum v_p z_p subject
    to deficit_p z_p <= sum_i light_ip x_i (a point counts only when the items done
    together add its deficit) and sum c_i x_i <= budget.
    """
    n = len(costs)
    pts = sorted({int(p) for arr in lifts.points for p in arr if lifts.deficit[p] > 0})
    col = {p: k for k, p in enumerate(pts)}
    m = len(pts)
    if n == 0 or m == 0:
        return ExactResult([], 0.0, 0.0, True)
    v = lifts.values
    c = np.concatenate([np.zeros(n), -v[pts]])
    rows: list[int] = []
    cols: list[int] = []
    data: list[float] = []
    for i in range(n):
        for p, e in zip(lifts.points[i].tolist(), lifts.light[i].tolist(), strict=True):
            if p in col:
                rows.append(col[p])
                cols.append(i)
                data.append(-e)
    rows += list(range(m))
    cols += [n + k for k in range(m)]
    data += (lifts.deficit[pts] - TOLERANCE_LUX).tolist()
    a_lift = sparse.csr_array((data, (rows, cols)), shape=(m, n + m))
    a_budget = sparse.csr_array(np.concatenate([np.asarray(costs, float), np.zeros(m)])[None, :])
    res = optimize.milp(
        c, integrality=np.ones(n + m), bounds=optimize.Bounds(0, 1),
        constraints=[optimize.LinearConstraint(a_lift, -np.inf, 0),
                     optimize.LinearConstraint(a_budget, -np.inf, budget)],
        options={"time_limit": time_limit_s} if time_limit_s else {})
    if res.x is None:
        raise UnusableInputError(f"the exact solver found no solution: {res.message}")
    chosen = [i for i in range(n) if res.x[i] > 0.5]
    value = lifts.value(chosen)
    bound = float(-res.mip_dual_bound) if getattr(res, "mip_dual_bound", None) is not None \
        else value
    return ExactResult(chosen, value, max(bound, value), res.status == 0)


def exact(costs: Sequence[float], covers: Sequence[frozenset[int]],
          values: Sequence[float] | FloatArray, budget: float, *,
          time_limit_s: float | None = None) -> ExactResult:
    """Budgeted maximum coverage solved exactly (:func:`exact_lifts` with unit lifts)."""
    return exact_lifts(costs, Lifts.coverage(covers, values), budget,
                       time_limit_s=time_limit_s)
