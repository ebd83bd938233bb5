"""Across audits: do auditors agree, and which principles go with feeling safe.

Only audits with enough answers to be rated count (:data:`cpted.scoring.MIN_COVERAGE`,
the "not enough answers" rule): an audit with a few answers says little about the
place and would weigh as much as a full one.

**Agreement.** Audits of one place are those of the same instrument and time of day
whose points lie within ``radius_m`` of each other (linked in a chain, as
:func:`cpted.assessments.same_place` links them) and were made within
``window_days`` of each other: the same walk, before the place can have changed.
Each auditor (by name) counts once per place, with their latest audit. For every
item, each place audited by two or more auditors who answered it is a subject, and
Fleiss' kappa (Fleiss, J. L. (1971), "Measuring nominal scale agreement among many
raters", Psychological Bulletin 76(5), 378-382) measures how much more often they gave
the same answer than chance would make them. Places where a different number of
auditors answered are allowed: each place's agreement is the share of agreeing pairs
among its own raters, and chance agreement comes from all answers pooled, which is
Fleiss' formula when every place has the same number. N/A and blank answers are not
ratings. Kappa's words follow Landis, J. R. and Koch, G. G. (1977), "The measurement of
observer agreement for categorical data", Biometrics 33(1), 159-174.

**Feeling safe.** For every design principle, Spearman's rank correlation (scipy)
between its score and the "how safe do you feel" score over the rated audits where
both were answered, with a 95% interval from Fisher's z transform using the standard
error ``sqrt(1.06 / (n - 3))`` of Fieller, Hartley and Pearson (1957), "Tests for rank
correlation coefficients. I", Biometrika 44, 470-481. A correlation is an association
across audits, not a cause, and audits of one place are not independent.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from scipy import sparse, stats

from cpted.instrument import NA, Instrument, PrincipleKind
from cpted.scoring import score
from layers.crs import WGS84, metric_crs

#: Audits of one place made this many days apart or less are one walk (rated together).
SAME_WALK_DAYS = 30
#: Landis and Koch's (1977) words for kappa, by lower bound.
KAPPA_WORDS = ((0.81, "almost perfect"), (0.61, "substantial"), (0.41, "moderate"),
               (0.21, "fair"), (0.0, "slight"), (-math.inf, "poor (less than chance)"))
#: Fewest audits for a correlation with an interval (Fisher's z needs n > 3).
MIN_AUDITS = 5


def kappa_words(kappa: float | None) -> str:
    """Landis and Koch's word for ``kappa``; "not defined" for None."""
    if kappa is None or math.isnan(kappa):
        return "not defined"
    return next(word for floor, word in KAPPA_WORDS if kappa >= floor)


def fleiss_kappa(table: NDArray[np.float64] | NDArray[np.int64]) -> float:
    """Fleiss' kappa of a subjects x categories table of rating counts.

    Subjects may have different numbers of ratings (at least two each): a subject's
    agreement is the share of agreeing ordered pairs of its ratings,
    ``(sum_j n_ij^2 - n_i) / (n_i (n_i - 1))``, and chance agreement is
    ``sum_j p_j^2`` with ``p_j`` the share of all ratings in category ``j``. With equal
    numbers this is Fleiss (1971) exactly. NaN when every rating is in one category.

    Raises
    ------
    ValueError
        When a subject has fewer than two ratings or the table is empty.
    """
    t = np.asarray(table, dtype=float)
    if t.ndim != 2 or t.shape[0] == 0:
        raise ValueError(f"expected a subjects x categories table, got shape {t.shape}")
    n = t.sum(axis=1)
    if (n < 2).any():
        raise ValueError(f"every subject needs two ratings or more, got {n.min():g}")
    p_subject = ((t * t).sum(axis=1) - n) / (n * (n - 1))
    p_cat = t.sum(axis=0) / n.sum()
    expected = float((p_cat * p_cat).sum())
    if expected >= 1 - 1e-12:
        return math.nan
    return (float(p_subject.mean()) - expected) / (1 - expected)


def rated_only(audits: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The audits with enough answers to be rated (``enough_answers``)."""
    return audits[audits["enough_answers"].astype(bool)]


def walks(audits: gpd.GeoDataFrame, *, radius_m: float = 25.0,
          window_days: float = SAME_WALK_DAYS) -> pd.Series:
    """A group number for each audit: audits of one place, instrument and time of day
    within ``window_days`` of each other (see the module); aligned on the index."""
    if audits.empty:
        return pd.Series([], index=audits.index, dtype=int)
    pts = gpd.GeoSeries(gpd.points_from_xy(audits["lon"], audits["lat"]), crs=WGS84)
    xy = pts.to_crs(metric_crs(pts)).values
    i, j = shapely.STRtree(xy).query(xy, predicate="dwithin", distance=radius_m)
    when = pd.to_datetime(audits["assessed_at"], utc=True).to_numpy()
    key = (audits["period"].astype(str) + "|" + audits["instrument_id"].astype(str) + "|"
           + audits["instrument_version"].astype(str)).to_numpy()
    gap = np.abs(when[i] - when[j]) <= np.timedelta64(int(window_days * 86400), "s")
    keep = gap & (key[i] == key[j])
    graph = sparse.coo_matrix((np.ones(int(keep.sum())), (i[keep], j[keep])),
                              shape=(len(audits), len(audits)))
    _, labels = sparse.csgraph.connected_components(graph, directed=False)
    return pd.Series(labels, index=audits.index)


@dataclass(frozen=True)
class Agreement:
    """Fleiss' kappa per item over the places audited by several auditors."""

    items: pd.DataFrame  # item_id, principle, question, places, ratings, agreement, kappa, words
    places: pd.DataFrame  # place_name, period, auditors (names, joined), audits, first, last

    @property
    def any(self) -> bool:
        return bool(len(self.places))

    def overall(self) -> float | None:
        """The mean kappa over the items where it is defined (None when none is)."""
        k = self.items["kappa"].dropna()
        return float(k.mean()) if len(k) else None


def agreement(audits: gpd.GeoDataFrame, instruments: Mapping[tuple[str, str], Instrument], *,
              radius_m: float = 25.0, window_days: float = SAME_WALK_DAYS) -> Agreement:
    """Inter-rater agreement per item (see the module).

    Parameters
    ----------
    audits
        :func:`cpted.assessments.list_assessments` rows; those without enough answers
        are left out here.
    instruments
        ``(instrument_id, version) -> Instrument`` for every instrument the audits use.
    radius_m, window_days
        How near and how close in time audits must be to count as one walk.

    Returns
    -------
    Agreement
        ``items``: one row per item answered by two auditors or more at some place,
        in the instrument's order; ``places``: the places audited by several auditors.
    """
    rated = rated_only(audits)
    item_cols = ["item_id", "principle", "question", "places", "ratings", "agreement",
                 "kappa", "words"]
    place_cols = ["place_name", "period", "auditors", "audits", "first", "last"]
    if rated.empty:
        return Agreement(pd.DataFrame(columns=item_cols), pd.DataFrame(columns=place_cols))
    rated = rated.assign(walk=walks(rated, radius_m=radius_m, window_days=window_days))
    # one audit per auditor and walk: their latest
    rated = rated.sort_values("assessed_at", kind="stable")
    rated = rated.assign(who=rated["assessor"].str.strip().str.casefold())
    one = rated.groupby(["walk", "who"], sort=False).tail(1)
    several = one.groupby("walk")["who"].transform("size") >= 2
    joint = one[several]
    places = pd.DataFrame([{
        "place_name": g["place_name"].iloc[-1], "period": g["period"].iloc[0],
        "auditors": ", ".join(sorted(g["assessor"].str.strip())), "audits": len(g),
        "first": g["assessed_at"].min(), "last": g["assessed_at"].max()}
        for _, g in joint.groupby("walk", sort=True)], columns=place_cols)
    rows = []
    keys = sorted(set(zip(joint["instrument_id"], joint["instrument_version"], strict=True)))
    for key in keys:
        ins = instruments[key]
        sub = joint[(joint["instrument_id"] == key[0]) & (joint["instrument_version"] == key[1])]
        answers = [json.loads(a) if isinstance(a, str) else dict(a) for a in sub["answers"]]
        walk_of = sub["walk"].to_numpy()
        for item in ins.items:
            values = item.scale.values
            table: dict[int, list[int]] = {}
            for w, ans in zip(walk_of, answers, strict=True):
                v = ans.get(item.id)
                if v is None or v == NA or v not in values:
                    continue
                table.setdefault(int(w), [0] * len(values))[values.index(int(v))] += 1
            counts = np.array([c for c in table.values() if sum(c) >= 2], dtype=float)
            if not len(counts):
                continue
            kappa = fleiss_kappa(counts)
            n = counts.sum(axis=1)
            observed = float((((counts * counts).sum(axis=1) - n) / (n * (n - 1))).mean())
            rows.append({"item_id": item.id, "principle": ins.principle(item.principle).name,
                         "question": item.question, "places": len(counts),
                         "ratings": int(n.sum()), "agreement": observed,
                         "kappa": None if math.isnan(kappa) else kappa,
                         "words": ("everyone gave the same answer" if math.isnan(kappa)
                                   else kappa_words(kappa))})
    return Agreement(pd.DataFrame(rows, columns=item_cols), places)


@dataclass(frozen=True)
class Driver:
    principle: str
    n: int  # audits with both the principle and the feeling of safety scored
    rho: float | None
    low: float | None  # 95% interval
    high: float | None
    p_value: float | None

    @property
    def words(self) -> str:
        """The result in a sentence a meeting can read."""
        if self.rho is None or self.low is None or self.high is None:
            return (f"{self.principle}: too few audits ({self.n}) with both it and the "
                    f"feeling of safety answered; {MIN_AUDITS} are needed.")
        figures = (f"rank correlation {self.rho:+.2f}, 95% interval {self.low:+.2f} to "
                   f"{self.high:+.2f}, {self.n} audits")
        if self.low > 0:
            return f"Where {self.principle.lower()} scored higher, auditors felt safer ({figures})."
        if self.high < 0:
            return (f"Where {self.principle.lower()} scored higher, auditors felt less safe "
                    f"({figures}).")
        return (f"{self.principle}: no clear link with feeling safe; the interval includes "
                f"no link at all ({figures}).")


def spearman_interval(rho: float, n: int, *, level: float = 0.95) -> tuple[float, float]:
    """The ``level`` interval of a Spearman correlation from ``n`` pairs (n > 3), by
    Fisher's z with Fieller, Hartley and Pearson's (1957) standard error."""
    z = math.atanh(max(min(rho, 1 - 1e-12), -1 + 1e-12))
    half = float(stats.norm.ppf(0.5 + level / 2)) * math.sqrt(1.06 / (n - 3))
    return math.tanh(z - half), math.tanh(z + half)


def safety_drivers(audits: gpd.GeoDataFrame,
                   instruments: Mapping[tuple[str, str], Instrument]) -> list[Driver]:
    """Per design principle, how its score goes with the feeling of safety across the
    rated audits (see the module), strongest link first."""
    rated = rated_only(audits)
    scores: list[dict[str, float | None]] = []
    names: dict[str, str] = {}
    for _, row in rated.iterrows():
        ins = instruments[(str(row["instrument_id"]), str(row["instrument_version"]))]
        answers = json.loads(row["answers"]) if isinstance(row["answers"], str) \
            else dict(row["answers"])
        card = score(ins, answers, str(row["period"]))
        entry: dict[str, float | None] = {"__outcome": card.outcome}
        for p in card.principles:
            if p.principle.kind is PrincipleKind.DESIGN:
                names.setdefault(p.principle.id, p.principle.name)
                entry[p.principle.id] = p.score
        scores.append(entry)
    frame = pd.DataFrame(scores, dtype=float)
    out = []
    for pid, name in names.items():
        both = frame[[pid, "__outcome"]].dropna() if pid in frame else pd.DataFrame()
        n = len(both)
        if n < MIN_AUDITS or both[pid].nunique() < 2 or both["__outcome"].nunique() < 2:
            out.append(Driver(name, n, None, None, None, None))
            continue
        res = stats.spearmanr(both[pid], both["__outcome"])
        rho = float(res.statistic)
        low, high = spearman_interval(rho, n)
        out.append(Driver(name, n, rho, low, high, float(res.pvalue)))
    return sorted(out, key=lambda d: (d.rho is None, -abs(d.rho or 0.0), d.principle))
