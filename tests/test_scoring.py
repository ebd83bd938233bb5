"""Scores: a worked example by hand, then properties over random answers (hypothesis)."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cpted.instrument import NA, PrincipleKind, load_instrument, parse_instrument
from cpted.scoring import (
    MIN_COVERAGE,
    NOT_ENOUGH_ANSWERS,
    answers_needed,
    audit_label,
    compare,
    score,
)

INS = load_instrument()
PERIODS = st.sampled_from(["day", "night"])


def test_worked_example_by_hand() -> None:
    answers = {
        "lt_level": 1,        # 0-3: 1/3
        "lt_even": 3,         # 0-3: 1
        "lt_working": 0,      # yes/no: 0
        "lt_glare": NA,       # left out
        "ns_windows": 2,      # 2/3
        "sc_help": 4,         # 1-5: 3/4
        "fs_feel": 2,         # outcome, 1-5: 1/4
    }
    card = score(INS, answers, "night")
    s = card.by_id()
    assert s["lighting"] == pytest.approx(100 * (1 / 3 + 1 + 0) / 3)
    assert s["natural_surveillance"] == pytest.approx(100 * 2 / 3)
    assert s["cohesion"] == pytest.approx(75.0)
    assert s["feeling_safe"] == pytest.approx(25.0)
    assert s["maintenance"] is None
    # overall: equal-weight mean of the three scored design principles, outcome kept apart
    assert card.overall == pytest.approx((400 / 9 + 200 / 3 + 75) / 3)
    assert card.outcome == pytest.approx(25.0)
    applicable = sum(1 for i in INS.items if i.applies_to("night")) - 1  # lt_glare is N/A
    assert card.confidence == pytest.approx(6 / applicable)
    assert card.confidence_label == "low"
    # 6 of 40 answered: the mean (62) is kept but not rated as "Adequate"
    assert (card.answered, card.applicable) == (6, applicable)
    assert not card.enough_answers and card.rated_overall is None
    assert card.label == NOT_ENOUGH_ANSWERS
    assert card.coverage_note == (f"6 of {applicable} items answered; an overall score "
                                  "needs at least 20 (50%)")
    # recommendations: answered in the lower half; quick wins first, then by gap x weight
    ranked = [(r.item.id, r.quick_win, r.gap) for r in card.recommendations]
    assert ranked == [("lt_working", True, 1.0), ("lt_level", False, pytest.approx(2 / 3))]


def test_day_audit_leaves_night_items_out() -> None:
    card = score(INS, {"ns_windows": 3, "lt_unblocked": 0}, "day")
    lighting = next(p for p in card.principles if p.principle.id == "lighting")
    assert lighting.applicable == 1 and lighting.score == 0.0


def test_weights_change_the_mean() -> None:
    text = INS.text.replace('id = "lt_level"\nprinciple = "lighting"',
                            'id = "lt_level"\nprinciple = "lighting"\nweight = 3')
    weighted = parse_instrument(text)
    assert not weighted.equal_weights
    card = score(weighted, {"lt_level": 3, "lt_even": 0}, "night")
    assert card.by_id()["lighting"] == pytest.approx(75.0)


def test_compare_before_and_after() -> None:
    before = score(INS, {"lt_level": 0, "ns_windows": 3}, "night")
    after = score(INS, {"lt_level": 3, "ns_windows": 3}, "night")
    table = compare(before, after).set_index("principle")
    assert table.loc["Lighting", "change"] == 100.0
    assert table.loc["Natural surveillance", "change"] == 0.0
    # 2 of 41 items answered: neither audit has an overall score to compare
    assert table.loc["Overall (design)"].isna().all()
    assert table["change"].isna().sum() == len(INS.principles) - 1


def _all_na_but(keep: dict[str, int], period: str) -> dict[str, int | str]:
    """``keep``, and every other item that applies marked N/A (where allowed)."""
    out: dict[str, int | str] = {i.id: NA for i in INS.items
                                 if i.applies_to(period) and i.allow_na}
    return {**out, **keep}


def test_compare_rated_audits_compares_the_overall_score() -> None:
    before = score(INS, _all_na_but({"lt_level": 0, "ns_windows": 3}, "night"), "night")
    after = score(INS, _all_na_but({"lt_level": 3, "ns_windows": 3}, "night"), "night")
    assert before.enough_answers and after.enough_answers  # 2 of 4: the outcome items
    table = compare(before, after).set_index("principle")
    assert table.loc["Overall (design)", "before"] == 50.0
    assert table.loc["Overall (design)", "change"] == 50.0


def _answered(n: int, period: str) -> dict[str, int | str | None]:
    """The first ``n`` items that apply answered at their lowest, the rest left blank."""
    items = [i for i in INS.items if i.applies_to(period)]
    return {i.id: i.scale.values[0] for i in items[:n]}


@pytest.mark.parametrize("period", ["day", "night"])
def test_coverage_threshold_is_half_of_the_applicable_items(period: str) -> None:
    applicable = sum(1 for i in INS.items if i.applies_to(period))
    need = answers_needed(applicable)
    assert need / applicable >= MIN_COVERAGE > (need - 1) / applicable
    below, at = score(INS, _answered(need - 1, period), period), score(
        INS, _answered(need, period), period)
    assert (below.answered, at.answered) == (need - 1, need)
    assert not below.enough_answers and below.rated_overall is None
    assert below.label == NOT_ENOUGH_ANSWERS
    assert at.enough_answers and at.rated_overall == at.overall is not None
    assert at.label == "Poor"  # every answer at its lowest


def test_one_of_41_answered_is_not_enough_answers_not_poor() -> None:
    card = score(INS, {"lt_level": 0}, "night")
    assert (card.answered, card.applicable) == (1, 41)
    assert card.overall == 0.0  # the mean of one item: not a rating of the place
    assert card.label == NOT_ENOUGH_ANSWERS and card.rated_overall is None
    assert "1 of 41 items answered" in card.coverage_note


def test_na_answers_shrink_what_must_be_answered() -> None:
    # N/A items do not apply, so four answers of four applicable items are enough
    card = score(INS, _all_na_but({"lt_level": 3, "ns_windows": 3, "fs_feel": 5,
                                   "fs_alone": 5}, "night"), "night")
    assert (card.answered, card.applicable) == (4, 4)
    assert card.enough_answers and card.label == "Strong"


@pytest.mark.parametrize(("overall", "confidence", "label"), [
    (90.0, 0.5, "Strong"), (90.0, 0.49, NOT_ENOUGH_ANSWERS), (None, 0.9, "Not scored"),
    (None, 0.1, NOT_ENOUGH_ANSWERS), (10.0, 1.0, "Poor"), (0.0, 0.0, NOT_ENOUGH_ANSWERS)])
def test_audit_label(overall: float | None, confidence: float, label: str) -> None:
    assert audit_label(overall, confidence) == label


@st.composite
def answer_sets(draw):  # type: ignore[no-untyped-def]
    period = draw(PERIODS)
    answers: dict[str, int | str] = {}
    for item in INS.items:
        if not item.applies_to(period):
            continue
        choices = [None, *item.scale.values, *([NA] if item.allow_na else [])]
        value = draw(st.sampled_from(choices))
        if value is not None:
            answers[item.id] = value
    return period, answers


def _all_scores(card):  # type: ignore[no-untyped-def]
    return [*card.by_id().values(), card.overall, card.outcome]


@settings(max_examples=300, deadline=None)
@given(answer_sets())
def test_every_score_lies_in_0_100(case) -> None:  # type: ignore[no-untyped-def]
    period, answers = case
    card = score(INS, answers, period)
    for v in _all_scores(card):
        assert v is None or 0.0 <= v <= 100.0
    assert 0.0 <= card.confidence <= 1.0


@settings(max_examples=300, deadline=None)
@given(answer_sets(), st.data())
def test_na_never_changes_a_score(case, data) -> None:  # type: ignore[no-untyped-def]
    period, answers = case
    blank = [i.id for i in INS.items if i.applies_to(period) and i.allow_na
             and i.id not in answers]
    if not blank:
        return
    item = data.draw(st.sampled_from(blank))
    with_na = score(INS, {**answers, item: NA}, period)
    assert _all_scores(with_na) == _all_scores(score(INS, answers, period))


@settings(max_examples=300, deadline=None)
@given(answer_sets(), st.data())
def test_raising_an_answer_never_lowers_a_score(case, data) -> None:  # type: ignore[no-untyped-def]
    period, answers = case
    scored = [k for k, v in answers.items() if v != NA]
    if not scored:
        return
    key = data.draw(st.sampled_from(scored))
    item = INS.item(key)
    higher = [v for v in item.scale.values if v > answers[key]]
    if not higher:
        return
    raised = {**answers, key: data.draw(st.sampled_from(higher))}
    a, b = score(INS, answers, period), score(INS, raised, period)
    assert b.by_id()[item.principle] >= a.by_id()[item.principle]
    if INS.principle(item.principle).kind is PrincipleKind.DESIGN:
        assert b.overall >= a.overall
    else:
        assert b.outcome >= a.outcome


@settings(max_examples=100, deadline=None)
@given(answer_sets(), st.randoms(use_true_random=False))
def test_item_order_does_not_matter(case, rnd: random.Random) -> None:  # type: ignore[no-untyped-def]
    period, answers = case
    keys = list(answers)
    rnd.shuffle(keys)
    shuffled_answers = {k: answers[k] for k in keys}
    # the instrument itself with its items in another order
    head, *blocks = INS.text.split("\n[[items]]\n")
    rnd.shuffle(blocks)
    reordered = parse_instrument("\n[[items]]\n".join([head, *blocks]))
    a = score(INS, answers, period)
    b = score(reordered, shuffled_answers, period)
    assert _all_scores(a) == _all_scores(b)
    assert a.confidence == b.confidence
    assert {r.item.id for r in a.recommendations} == {r.item.id for r in b.recommendations}
