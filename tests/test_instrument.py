"""The audit instrument: the bundled one is complete and valid; broken files name every fault."""

from __future__ import annotations

import pytest

from cpted.instrument import (
    NA,
    Applies,
    InstrumentError,
    PrincipleKind,
    Scale,
    check_answers,
    load_instrument,
    parse_instrument,
)

REQUIRED_PRINCIPLES = {"natural_surveillance", "lighting", "access_control", "territoriality",
                       "maintenance", "activity_support", "target_hardening", "cohesion",
                       "connectivity", "feeling_safe"}


def test_default_instrument_covers_every_principle_with_cited_items() -> None:
    ins = load_instrument()
    assert 30 <= len(ins.items) <= 45
    assert {p.id for p in ins.principles} == REQUIRED_PRINCIPLES
    assert ins.principle("feeling_safe").kind is PrincipleKind.OUTCOME
    assert any(i.question == "How safe do you feel here?" for i in ins.items)
    for item in ins.items:
        assert item.sources, f"{item.id} cites no source"
        assert item.question.strip()
        if ins.principle(item.principle).kind is PrincipleKind.DESIGN:
            assert item.recommendation, f"{item.id} has no recommendation"
    # equal weights, said so in the file the app shows
    assert ins.equal_weights
    assert "no validated weights" in ins.weights_note
    assert {i.scale for i in ins.items} == set(Scale)
    assert {i.applies for i in ins.items} >= {Applies.BOTH, Applies.NIGHT}


BROKEN = """
[instrument]
id = "x"
version = "1"
title = "Broken"

[sources]
a = "A source"

[[principles]]
id = "lighting"
name = "Lighting"

[[principles]]
id = "lighting"
name = "Lighting again"

[[items]]
id = "i1"
principle = "lighting"
question = "Lit?"
scale = "0-3"
sources = ["a"]

[[items]]
id = "i1"
principle = "lightning"
question = "Dup"
scale = "0-10"
sources = ["nowhere"]

[[items]]
id = "i3"
principle = "lighting"
question = "Glare?"
scale = "1-5"
labels = ["one", "two"]
applies = "dusk"
weight = -2
recommendation_kind = "someday"
"""


def test_broken_instrument_names_every_problem() -> None:
    with pytest.raises(InstrumentError) as err:
        parse_instrument(BROKEN, name="broken.toml")
    problems = "\n".join(err.value.problems)
    expected = [
        "duplicate principle id 'lighting'",
        "duplicate item id 'i1'",
        "unknown principle 'lightning'",
        "scale '0-10' is not one of",
        "source 'nowhere' is not listed",
        "scale 1-5 needs 5 labels, got 2",
        "applies 'dusk' is not one of",
        "weight must be a positive number, got -2",
        "recommendation_kind 'someday' is not one of",
    ]
    for text in expected:
        assert text in problems, text
    assert len(err.value.problems) == len(expected)
    assert "broken.toml has 9 problem(s)" in str(err.value)


def test_not_toml_and_missing_header_are_explained(tmp_path) -> None:
    with pytest.raises(InstrumentError, match="not valid TOML"):
        parse_instrument("[instrument\nid=")
    with pytest.raises(InstrumentError) as err:
        parse_instrument("[[items]]\nid='a'\n")
    assert any("[instrument] table" in p for p in err.value.problems)
    assert any("no [[principles]]" in p for p in err.value.problems)
    with pytest.raises(InstrumentError, match="cannot read"):
        load_instrument(tmp_path / "missing.toml")


def test_answers_are_checked_against_the_instrument() -> None:
    ins = load_instrument()
    problems = check_answers(ins, {"lt_level": 2, "ns_windows": 7, "nope": 1,
                                   "fs_feel": NA, "lt_working": True}, "day")
    assert problems == [
        "lt_level: this item applies only by night",
        "ns_windows: 7 is not on the 0-3 scale",
        "'nope' is not an item of CPTED street audit",
        "fs_feel: N/A is not allowed for this item",
        "lt_working: True is not on the yes/no scale",
    ]
    assert check_answers(ins, {"lt_level": 2, "ns_windows": NA, "fs_alone": 0}, "night") == []
