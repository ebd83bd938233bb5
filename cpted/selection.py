"""Choosing work items under a budget when items light points jointly.

Each item ``i`` adds ``light[i][k]`` lux at point ``points[i][k]``; point ``p`` is
*lifted* when the items chosen together add at least its ``deficit[p]`` (the lux it
lacks to reach its minimum target), and is then worth ``values[p]``. Two repairs that
only together lift a point both contribute to that. The value of a set ``S`` is
``f(S) = sum of values[p] over points with sum_{i in S} light[i][p] >= deficit[p]``.

``f`` is not submodular (a second item can complete what the first began), so a greedy
on it alone never starts a joint lift. :func:`greedy` ranks items by the fractional
value ``g(S) = sum_p values[p] * min(1, light_S[p] / deficit[p])``, which credits each
item with the share of every deficit it closes given the light already added by the
items taken; ``g`` is monotone submodular (a sum of concave functions of sums), so the
lazy greedy (Minoux 1978) is exact for it. It is also the linear relaxation of the
integer programme at an integral choice of items. The chosen set is then judged by
``f``: items whose removal lifts no fewer points are dropped and the freed budget
refilled, and the best single item is taken if it is worth more (Khuller, Moss & Naor
(1999), "The budgeted maximum coverage problem", Information Processing Letters
70(1), 39-45). :func:`exact` solves the integer programme with HiGHS
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


class _State:
    """The light added so far, for fractional gains."""

    def __init__(self, lifts: Lifts, chosen: Sequence[int]) -> None:
        self.lifts = lifts
        self.got = lifts.added(chosen)
        with np.errstate(divide="ignore"):
            self.weight = np.where(lifts.deficit > 0, lifts.values / lifts.deficit, 0.0)
        self.cap = np.maximum(lifts.deficit, 0.0)

    def gain(self, i: int) -> float:
        pts = self.lifts.points[i]
        if len(pts) == 0:
            return 0.0
        got, cap = self.got[pts], self.cap[pts]
        now = np.minimum(got, cap)
        new = np.minimum(got + self.lifts.light[i], cap)
        return float(((new - now) * self.weight[pts]).sum())

    def take(self, i: int) -> None:
        np.add.at(self.got, self.lifts.points[i], self.lifts.light[i])


def _fill(costs: Sequence[float], lifts: Lifts, left: float, chosen: list[int],
          exclude: frozenset[int] = frozenset(),
          bounds: Sequence[float] | None = None) -> list[int]:
    """Add items by fractional gain per dollar while any affordable item adds some.

    A lazy greedy: the fractional gain is submodular, so a ratio computed earlier
    bounds the current one. Items wait in a heap by that bound; the top one is
    re-evaluated with the light of the items taken so far, and taken when its fresh
    ratio still beats the next bound. ``bounds`` (each item's ratio on its own) starts
    the heap without evaluating every item. Ties go to the lower index."""
    chosen = list(chosen)
    state = _State(lifts, chosen)
    taken = set(chosen) | exclude
    if bounds is None:
        bounds = [_ratio(state.gain(i), costs[i]) for i in range(len(costs))]
    heap = [(-bounds[i], i, False) for i in range(len(costs))
            if i not in taken and costs[i] <= left + 1e-9 and bounds[i] > 0]
    heapq.heapify(heap)
    while heap:
        _, i, fresh = heapq.heappop(heap)
        if costs[i] > left + 1e-9:
            continue  # no longer affordable, and the budget only shrinks
        if not fresh:
            r = _ratio(state.gain(i), costs[i])
            if r > 0:
                heapq.heappush(heap, (-r, i, True))
            continue
        chosen.append(i)
        state.take(i)
        left -= costs[i]
        heap = [(b, j, False) for b, j, _ in heap]  # every other ratio may now be stale
        heapq.heapify(heap)
    return chosen


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


def _improve(costs: Sequence[float], lifts: Lifts, budget: float, chosen: list[int],
             bounds: Sequence[float]) -> list[int]:
    """Drop items that lift nothing jointly, refill the freed budget; while that gains."""
    best, best_value = chosen, lifts.value(chosen)
    for _ in range(5):
        kept = _prune(lifts, best)
        if len(kept) == len(best):
            break
        trial = _fill(costs, lifts, budget - sum(costs[i] for i in kept), kept,
                      frozenset(set(best) - set(kept)), bounds)
        value = lifts.value(trial)
        if value <= best_value + 1e-9:
            break
        best, best_value = trial, value
    return best


def greedy_lifts(costs: Sequence[float], lifts: Lifts, budget: float, *,
                 swap_rounds: int = 5) -> list[int]:
    """Items to do within ``budget``, in the order taken (see the module docstring).

    The fractional-gain lazy greedy, pruned and refilled by :func:`_improve`, or the
    best single affordable item if that lifts more value; then, for a list of at most
    :data:`SWAP_LIMIT` items, improved by swaps (drop one item, or on short lists two,
    and refill the freed budget greedily) while that gains value, for at most
    ``swap_rounds`` passes.
    """
    state = _State(lifts, [])
    alone = [_ratio(state.gain(i), costs[i]) for i in range(len(costs))]
    chosen = _improve(costs, lifts, budget, _fill(costs, lifts, float(budget), [],
                                                  bounds=alone), alone)
    best = lifts.value(chosen)
    singles = [(float(lifts.values[lifts.alone(i)].sum()), i) for i in range(len(costs))
               if costs[i] <= budget + 1e-9]
    if singles and max(singles)[0] > best:
        chosen = [max(singles)[1]]
        best = max(singles)[0]
    # Swaps help a short list, where one poor pick is a large share; on a long one the
    # greedy is already close and each pass would refill once per item.
    for _ in range(swap_rounds if len(chosen) <= SWAP_LIMIT else 0):
        improved = False
        drops: list[tuple[int, ...]] = [(j,) for j in chosen]
        if len(chosen) <= PAIR_SWAP_LIMIT:
            drops += [(a, b) for k, a in enumerate(chosen) for b in chosen[k + 1:]]
        for out in drops:
            rest = [i for i in chosen if i not in out]
            left = budget - sum(costs[i] for i in rest)
            trial = _fill(costs, lifts, left, rest, frozenset(out), alone)
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
