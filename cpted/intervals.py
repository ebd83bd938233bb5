"""Confidence intervals for the perception survey: a proportion and a mean.

Why these intervals: the share is a binomial proportion, for which the Wilson score
interval keeps close to its stated coverage at the small counts a neighborhood gets, and
never leaves [0, 1], unlike the normal ("Wald") interval. The mean of a 1-5 answer is a
mean of bounded values, for which the t interval (mean ± t(0.975, n - 1) · s / √n) is the
standard and can be checked by hand; it is cut to [1, 5] when a few answers make it
reach past the scale. A bootstrap would need no t assumption but gives a different
interval on every run.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import special

CONFIDENCE = 0.95


def _two_sided(confidence: float) -> float:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence should be between 0 and 1, got {confidence!r}")
    return 1 - (1 - confidence) / 2


def wilson_interval(successes: int, n: int, *,
                    confidence: float = CONFIDENCE) -> tuple[float, float]:
    """The Wilson score interval of a binomial proportion ``successes / n``.

    ``(p + z²/2n ± z √(p(1-p)/n + z²/4n²)) / (1 + z²/n)`` with ``z`` the standard normal
    quantile at ``1 - (1 - confidence) / 2`` (1.96 for 95%). ``(nan, nan)`` when ``n`` is 0.

    Raises
    ------
    ValueError
        ``successes`` outside ``0..n``, or ``confidence`` outside (0, 1).
    """
    if n == 0:
        return (math.nan, math.nan)
    if not 0 <= successes <= n:
        raise ValueError(f"successes should be between 0 and n={n}, got {successes}")
    z = float(special.ndtri(_two_sided(confidence)))
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def t_interval(values: Sequence[float] | np.ndarray, *, confidence: float = CONFIDENCE,
               bounds: tuple[float, float] | None = (1.0, 5.0)
               ) -> tuple[float, float, float]:
    """``(mean, low, high)``: the mean of ``values`` and its t interval.

    ``mean ± t(1 - (1 - confidence) / 2, n - 1) · s / √n`` with ``s`` the sample standard
    deviation (``n - 1`` in its denominator), cut to ``bounds`` when given (a 1-5 answer's
    mean cannot pass the scale). With one value the interval is ``nan``; with none, all
    three are.
    """
    x = np.asarray(values, dtype=float)
    n = len(x)
    if n == 0:
        return (math.nan, math.nan, math.nan)
    mean = float(x.mean())
    if n < 2:
        return (mean, math.nan, math.nan)
    half = float(special.stdtrit(n - 1, _two_sided(confidence))) * float(x.std(ddof=1)) \
        / math.sqrt(n)
    low, high = mean - half, mean + half
    if bounds is not None:
        low, high = max(bounds[0], low), min(bounds[1], high)
    return (mean, low, high)
