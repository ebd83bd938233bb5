"""Scores of one assessment: per principle, overall, label, confidence, recommendations.

- A principle's score is the weighted mean of its answered items, each put on
  0..1 (lowest answer 0, highest 1), times 100. Items marked N/A and items that
  do not apply at the audit's time (night-only items by day) are left out, so
  they never change a score; unanswered items are left out of the score too,
  but lower the confidence.
- The overall score is the weighted mean of the scored design principles. The
  outcome principle (how safe the auditors felt) is reported beside it and kept
  out of it, so the two can be compared rather than mixed.
- Confidence is the share of applicable items that were answered.
- Recommendations come from items answered in the lower half of their scale,
  ranked quick wins first, then by gap (1 - normalised answer) times weight.

Sums use :func:`math.fsum`, which is exactly rounded, so the order of items or
answers never changes a result.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from cpted.instrument import NA, Instrument, Item, Principle, PrincipleKind, RecommendationKind

#: An answer this low (normalised) or lower earns the item's recommendation.
LOW_ANSWER = 0.5

#: Plain labels for a 0-100 score. These bands are this project's convention:
#: no CPTED standard defines cut-offs.
SCORE_BANDS = ((80.0, "Strong"), (60.0, "Adequate"), (40.0, "Weak"), (0.0, "Poor"))
CONFIDENCE_BANDS = ((0.8, "high"), (0.5, "medium"), (0.0, "low"))


def score_label(score: float | None) -> str:
    if score is None:
        return "Not scored"
    return next(label for floor, label in SCORE_BANDS if score >= floor)


def confidence_label(confidence: float) -> str:
    return next(label for floor, label in CONFIDENCE_BANDS if confidence >= floor)


@dataclass(frozen=True)
class PrincipleScore:
    principle: Principle
    score: float | None
    answered: int
    applicable: int

    @property
    def label(self) -> str:
        return score_label(self.score)


@dataclass(frozen=True)
class Recommendation:
    item: Item
    answer: int
    gap: float
    priority: float

    @property
    def text(self) -> str:
        return self.item.recommendation

    @property
    def quick_win(self) -> bool:
        return self.item.recommendation_kind is RecommendationKind.QUICK_WIN


@dataclass(frozen=True)
class Scorecard:
    period: str
    principles: tuple[PrincipleScore, ...]
    overall: float | None
    outcome: float | None
    confidence: float
    recommendations: tuple[Recommendation, ...]

    @property
    def label(self) -> str:
        return score_label(self.overall)

    @property
    def confidence_label(self) -> str:
        return confidence_label(self.confidence)

    def by_id(self) -> dict[str, float | None]:
        return {p.principle.id: p.score for p in self.principles}

    def table(self) -> pd.DataFrame:
        """One row per principle: name, score, label, answered of applicable."""
        return pd.DataFrame({
            "principle": [p.principle.name for p in self.principles],
            "score": [p.score for p in self.principles],
            "label": [p.label for p in self.principles],
            "answered": [f"{p.answered} of {p.applicable}" for p in self.principles],
        })


def _weighted_mean(pairs: list[tuple[float, float]]) -> float:
    return math.fsum(w * v for w, v in pairs) / math.fsum(w for w, _ in pairs)


def score(instrument: Instrument, answers: Mapping[str, int | str | None],
          period: str) -> Scorecard:
    """The :class:`Scorecard` of ``answers`` (item id -> value, ``"na"`` or None)."""
    results: list[PrincipleScore] = []
    recs: list[Recommendation] = []
    applicable_total = answered_total = 0
    for p in instrument.principles:
        pairs: list[tuple[float, float]] = []
        applicable = 0
        for item in instrument.items_of(p.id, period):
            value = answers.get(item.id)
            if value == NA:
                continue
            applicable += 1
            if value is None:
                continue
            norm = item.normalised(int(value))
            pairs.append((item.weight, norm))
            if norm <= LOW_ANSWER and item.recommendation:
                gap = 1.0 - norm
                recs.append(Recommendation(item, int(value), gap,
                                           gap * item.weight * p.weight))
        applicable_total += applicable
        answered_total += len(pairs)
        results.append(PrincipleScore(p, 100.0 * _weighted_mean(pairs) if pairs else None,
                                      len(pairs), applicable))
    design = [(r.principle.weight, r.score) for r in results
              if r.principle.kind is PrincipleKind.DESIGN and r.score is not None]
    outcome = [(r.principle.weight, r.score) for r in results
               if r.principle.kind is PrincipleKind.OUTCOME and r.score is not None]
    order = {item.id: n for n, item in enumerate(instrument.items)}
    recs.sort(key=lambda r: (not r.quick_win, -r.priority, order[r.item.id]))
    return Scorecard(
        period=period,
        principles=tuple(results),
        overall=_weighted_mean(design) if design else None,
        outcome=_weighted_mean(outcome) if outcome else None,
        confidence=answered_total / applicable_total if applicable_total else 0.0,
        recommendations=tuple(recs),
    )


def compare(before: Scorecard, after: Scorecard) -> pd.DataFrame:
    """Principle by principle, then overall: before, after and the change (None: not scored)."""
    b_map = after.by_id()
    frame = pd.DataFrame({
        "principle": [*(p.principle.name for p in before.principles), "Overall (design)"],
        "before": pd.array([*(p.score for p in before.principles), before.overall],
                           dtype="Float64"),
        "after": pd.array([*(b_map.get(p.principle.id) for p in before.principles),
                           after.overall], dtype="Float64"),
    })
    frame["change"] = frame["after"] - frame["before"]
    return frame
