"""The Mann-Kendall trend test, for one series or many at once.

S is the sum over pairs ``i < j`` of ``sign(x_j - x_i)`` (Mann 1945; Kendall 1975); its
variance under no trend is corrected for ties, and the normal score takes a continuity
correction, as in Gilbert (1987), *Statistical Methods for Environmental Pollution
Monitoring*, section 16.4. Without the correction the test is Kendall's tau test of the
series against time (``scipy.stats.kendalltau``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import stats


@dataclass(frozen=True)
class MannKendall:
    """The Mann-Kendall trend test of one or many series (arrays aligned on the series).

    ``s`` is the statistic, the sum over pairs ``i < j`` of ``sign(x_j - x_i)``;
    ``var_s`` its variance under no trend, corrected for ties; ``z`` the normal score
    (with the continuity correction when asked for); ``p`` the two-sided p-value.
    """

    s: NDArray[np.float64]
    var_s: NDArray[np.float64]
    z: NDArray[np.float64]
    p: NDArray[np.float64]


def mann_kendall(x: NDArray[np.float64] | Sequence[float], *, continuity: bool = True,
                 decimals: int = 9) -> MannKendall:
    """The Mann-Kendall test of each row of ``x`` (one series per row, in time order).

    Parameters
    ----------
    x : array of shape (T,) or (n, T)
        The series; a 1-d array is one series.
    continuity : bool
        Subtract 1 from ``|S|`` before dividing by its standard deviation (the usual
        form, Gilbert 1987, 16.4); ``False`` gives ``S / sqrt(Var S)``, which is what
        ``scipy.stats.kendalltau`` of the series against time computes.
    decimals : int
        Values equal to this many decimals are ties (z-scores of equal counts are equal
        but for rounding).

    Returns
    -------
    MannKendall
        Arrays of shape (n,) (of shape (1,) for one series).

    Raises
    ------
    ValueError
        For fewer than 3 values in a series (the test needs at least 3).
    """
    a = np.round(np.atleast_2d(np.asarray(x, dtype=float)), decimals)
    n_rows, t = a.shape
    if t < 3:
        raise ValueError(f"the Mann-Kendall test needs at least 3 values, got {t}")
    s = np.zeros(n_rows)
    for i in range(t - 1):
        s += np.sign(a[:, i + 1:] - a[:, i:i + 1]).sum(axis=1)
    # tie groups per row: sort, number the runs of equal values, count each run
    srt = np.sort(a, axis=1)
    new_run = np.ones_like(srt, dtype=bool)
    new_run[:, 1:] = srt[:, 1:] != srt[:, :-1]
    run = np.cumsum(new_run, axis=1) - 1 + (np.arange(n_rows) * t)[:, None]
    size = np.bincount(run.ravel(), minlength=n_rows * t).reshape(n_rows, t).astype(float)
    ties = (size * (size - 1) * (2 * size + 5)).sum(axis=1)
    var_s = (t * (t - 1) * (2 * t + 5) - ties) / 18.0
    shift = 1.0 if continuity else 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(s > 0, (s - shift) / np.sqrt(var_s),
                     np.where(s < 0, (s + shift) / np.sqrt(var_s), 0.0))
    z = np.where(var_s > 0, z, 0.0)
    p = 2 * stats.norm.sf(np.abs(z))
    return MannKendall(s, var_s, z, p)


def smallest_trend_p(slices: int) -> float:
    """The smallest two-sided Mann-Kendall p-value ``slices`` values can give (a series
    rising every slice, no ties, with the continuity correction): below
    10 slices it is large, so few trends can be found."""
    s = slices * (slices - 1) / 2
    var = slices * (slices - 1) * (2 * slices + 5) / 18
    return float(2 * stats.norm.sf((s - 1) / math.sqrt(var)))
