"""Scores of one assessment: per principle, overall, label, confidence, recommendations.

- A principle's score is the weighted mean of its answered items, each put on
  0..1 (lowest answer 0, highest 1), times 100. Items marked N/A and items that
  do not apply at the audit's time (night-only items by day) are left out, so
  they never change a score; unanswered items are left out of the score too,
  but lower the confidence.
- The overall score is the weighted mean of the scored design principles. The
  outcome principle (how safe the auditors felt) is reported beside it and kept
  out of it, so the two can be compared rather than mixed.
- Confidence is the share of applicable items that were answered. Below
  :data:`MIN_COVERAGE` an audit has "not enough answers": its overall score is
  kept (it is still the mean of what was answered) but not rated, so it is shown
  without a score or band and left out of anything that ranks places by score.
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

from cpted import i18n
from cpted.i18n import N_, _, ngettext
from cpted.instrument import NA, Instrument, Item, Principle, PrincipleKind, RecommendationKind

#: An answer this low (normalised) or lower earns the item's recommendation.
LOW_ANSWER = 0.5

#: Plain labels for a 0-100 score. These bands are this project's convention:
#: no CPTED standard defines cut-offs.
SCORE_BANDS = ((80.0, N_("Strong")), (60.0, N_("Adequate")), (40.0, N_("Weak")),
               (0.0, N_("Poor")))
CONFIDENCE_BANDS = ((0.8, N_("high")), (0.5, N_("medium")), (0.0, N_("low")))

#: The least share of an audit's applicable items that must be answered for its overall
#: score to be rated (shown with a band, coloured on maps, counted by Patrol).
#:
#: This is the "half rule" of multi-item questionnaires: a scale score is computed only
#: when at least half of its items were answered (the SF-36 scoring manual is the usual
#: source: Ware, Snow, Kosinski and Gandek 1993, *SF-36 Health Survey: Manual and
#: Interpretation Guide*). With fewer answers the mean describes the few items answered,
#: not the place: one item of 41 answered at its lowest would read "0 / 100, Poor". No
#: CPTED standard sets a threshold; this is the project's convention, and it is the floor
#: of the "medium" confidence band, so an audit is rated exactly when its confidence is
#: not "low".
MIN_COVERAGE = 0.5

#: The label of an audit answered below :data:`MIN_COVERAGE`.
NOT_ENOUGH_ANSWERS = N_("Not enough answers")
#: The label of a score that could not be computed (no item answered).
NOT_SCORED = N_("Not scored")
#: The overall row of :func:`compare`.
OVERALL = N_("Overall (design)")
_LABELS = frozenset({*(w for _f, w in SCORE_BANDS), *(w for _f, w in CONFIDENCE_BANDS),
                     NOT_ENOUGH_ANSWERS, NOT_SCORED, OVERALL})


def label_words(label: str) -> str:
    """A label as computed here (a band, :data:`NOT_ENOUGH_ANSWERS`, a confidence, the
    overall row of :func:`compare`) in the language in use; labels stay English in data
    (maps colour by them), so this is for showing one. Anything else is returned as is."""
    return _(label) if label in _LABELS else label


def score_label(score: float | None) -> str:
    """The band of a 0-100 score (:data:`SCORE_BANDS`), or "Not scored" for None."""
    if score is None:
        return NOT_SCORED
    return next(label for floor, label in SCORE_BANDS if score >= floor)


def enough_answers(confidence: float) -> bool:
    """Whether an audit with this confidence (share of applicable items answered, 0-1)
    has enough answers for its overall score to be rated (see :data:`MIN_COVERAGE`)."""
    return confidence >= MIN_COVERAGE


def audit_label(overall: float | None, confidence: float) -> str:
    """An audit's label: :data:`NOT_ENOUGH_ANSWERS` below :data:`MIN_COVERAGE`, else the
    band of ``overall`` (:func:`score_label`)."""
    if not enough_answers(confidence):
        return NOT_ENOUGH_ANSWERS
    return score_label(overall)


def rated_overall(overall: float | None, confidence: float) -> float | None:
    """``overall`` when the audit has enough answers to rate it, else None."""
    return overall if enough_answers(confidence) else None


def answers_needed(applicable: int) -> int:
    """How many of ``applicable`` items must be answered to reach :data:`MIN_COVERAGE`."""
    return math.ceil(MIN_COVERAGE * applicable)


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
    def answered(self) -> int:
        """How many applicable items were answered (outcome items included)."""
        return sum(p.answered for p in self.principles)

    @property
    def applicable(self) -> int:
        """How many items apply at this audit's time and were not marked N/A."""
        return sum(p.applicable for p in self.principles)

    @property
    def enough_answers(self) -> bool:
        """Whether the overall score may be rated (see :data:`MIN_COVERAGE`)."""
        return enough_answers(self.confidence)

    @property
    def rated_overall(self) -> float | None:
        """:attr:`overall` when there are enough answers, else None."""
        return rated_overall(self.overall, self.confidence)

    @property
    def label(self) -> str:
        """The overall band, or :data:`NOT_ENOUGH_ANSWERS` (see :func:`audit_label`)."""
        return audit_label(self.overall, self.confidence)

    @property
    def coverage_note(self) -> str:
        """In words (the language in use), how many items were answered and, when too few,
        how many are needed."""
        done = ngettext("{answered} of {applicable} item answered",
                        "{answered} of {applicable} items answered", self.applicable).format(
            answered=i18n.number(self.answered), applicable=i18n.number(self.applicable))
        if self.enough_answers:
            return done
        return _("{done}; an overall score needs at least {needed} ({share})").format(
            done=done, needed=i18n.number(answers_needed(self.applicable)),
            share=i18n.percent(MIN_COVERAGE))

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
    """Principle by principle, then overall: before, after and the change (None: not scored).

    The overall row holds :attr:`Scorecard.rated_overall`: an audit with not enough
    answers has no overall score to compare.
    """
    b_map = after.by_id()
    frame = pd.DataFrame({
        "principle": [*(p.principle.name for p in before.principles), OVERALL],
        "before": pd.array([*(p.score for p in before.principles), before.rated_overall],
                           dtype="Float64"),
        "after": pd.array([*(b_map.get(p.principle.id) for p in before.principles),
                           after.rated_overall], dtype="Float64"),
    })
    frame["change"] = frame["after"] - frame["before"]
    return frame
