"""Gi* over a space-time cube: contiguity in space and time, and significance from the
exact moments of the conditional permutation distribution.

Used by :mod:`cpted.emerging` (see its notes for why a space-time neighbourhood and the
whole cube as reference). The z-score is :func:`cpted.hotspots.gi_star_z`'s; the
significance is what :func:`cpted.hotspots.gi_star` reads from esda's simulated
permutations (``p_z_sim``), computed from the distribution's exact mean and variance;
the false-discovery-rate bins are found as :func:`cpted.hotspots.gi_star` finds them.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy import stats

from cpted import hotspots as hs


def conditional_moments(y: NDArray[np.float64], w: sp.csr_matrix
                        ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Mean and variance of each bin's neighbour sum under conditional randomisation.

    Bin ``i`` keeps its value; the other ``N = n - 1`` values are shuffled over the
    other places, so its ``k_i`` neighbours (``w``: binary, no diagonal) hold a random
    ``k_i``-subset of them. Such a sum has mean ``k m_i`` and variance
    ``k s_i^2 (N - k) / (N - 1)``, with ``m_i`` and ``s_i^2`` the mean and population
    variance of the other values (sampling without replacement from a finite
    population; Cochran 1977, *Sampling Techniques*, theorem 2.2).
    """
    y = np.asarray(y, dtype=float)
    n = len(y)
    big_n = n - 1
    k = np.asarray(w.sum(axis=1)).ravel()
    m = (y.sum() - y) / big_n
    s2 = np.maximum((np.sum(y ** 2) - y ** 2) / big_n - m ** 2, 0.0)
    mean = k * m
    var = k * s2 * (big_n - k) / (big_n - 1) if big_n > 1 else np.zeros(n)
    return mean, var


def cube_gi(y: NDArray[np.float64], w: sp.csr_matrix, *, fdr: bool = True) -> hs.GiResult:
    """Gi* of every bin with conditional-randomisation significance from exact moments.

    ``w`` is binary space-time contiguity without the diagonal (:func:`cube_weights`).
    z is :func:`cpted.hotspots.gi_star_z`'s; p is two-sided, from where the observed
    neighbour sum falls in the mean and spread of :func:`conditional_moments` (what
    esda's ``p_z_sim`` estimates by simulation); the bins use the same FDR cut-offs
    and levels as :func:`cpted.hotspots.gi_star`.
    """
    y = np.asarray(y, dtype=float)
    z = hs.gi_star_z(y, w + sp.identity(len(y), format="csr"))
    mean, var = conditional_moments(y, w)
    observed = w @ y
    with np.errstate(divide="ignore", invalid="ignore"):
        z_cond = np.where(var > 0, (observed - mean) / np.sqrt(var), 0.0)
    p = np.minimum(1.0, 2.0 * stats.norm.sf(np.abs(z_cond)))
    bins = np.zeros(len(y), dtype=np.int64)
    thresholds: dict[float, float] = {}
    for conf, magnitude in sorted(hs.LEVELS):  # 90, 95, then 99: the strictest wins
        alpha = 1 - conf
        cut = hs.fdr_threshold(p, alpha) if fdr else alpha
        thresholds[conf] = cut
        sig = p < cut if fdr else p <= cut
        bins = np.where(sig, np.sign(z).astype(np.int64) * magnitude, bins)
    return hs.GiResult(z, p, bins, thresholds, 0, fdr)


def cube_weights(spatial: sp.csr_matrix, slices: int, time_steps: int = 1) -> sp.csr_matrix:
    """Binary space-time contiguity of ``slices`` copies of a grid, without the diagonal.

    Bin ``t * n + i`` (cell ``i`` of ``n`` in slice ``t``) neighbours cell ``j`` in slice
    ``t - l`` for ``l`` in ``0..time_steps`` when ``j`` is ``i`` or one of its spatial
    neighbours in ``spatial`` (binary, no diagonal), itself excepted.
    """
    if time_steps < 0:
        raise hs.HotspotError(f"the neighbourhood time steps must be 0 or more, got "
                              f"{time_steps}")
    n = spatial.shape[0]
    near = (spatial + sp.identity(n, format="csr")).tocsr()
    near.data[:] = 1.0
    total = sp.csr_matrix((n * slices, n * slices))
    for lag in range(min(time_steps, slices - 1) + 1):
        total = total + sp.kron(sp.eye(slices, k=-lag, format="csr"), near, format="csr")
    w = (total - sp.identity(n * slices, format="csr")).tocsr()
    w.eliminate_zeros()
    return w
