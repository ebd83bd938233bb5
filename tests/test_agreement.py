"""Agreement between auditors and what goes with feeling safe, against references.

References: statsmodels' ``fleiss_kappa`` (equal numbers of raters), Fleiss's published
worked example (as reproduced in the Wikipedia article on Fleiss' kappa: 10 subjects, 14
raters, 5 categories, kappa 0.210), agreeing pairs counted one by one (unequal numbers),
Spearman's rho as the Pearson correlation of ranks in plain numpy, and the Fisher-z
interval written out by hand.
"""

from __future__ import annotations

import itertools
import json
import math
from datetime import UTC, datetime, timedelta

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss_kappa

from cpted import agreement as ag
from cpted.instrument import NA, load_instrument
from cpted.scoring import score

INS = load_instrument()
WHEN = datetime(2026, 9, 1, 21, 0, tzinfo=UTC)
LON, LAT = -94.58, 39.05

#: Fleiss (1971)'s example as the Wikipedia article on Fleiss' kappa reproduces it.
WIKI_TABLE = np.array([[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0],
                       [2, 2, 8, 1, 1], [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2],
                       [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]])


def test_kappa_equals_statsmodels_and_the_published_example() -> None:
    assert ag.fleiss_kappa(WIKI_TABLE) == pytest.approx(0.210, abs=5e-4)
    assert ag.fleiss_kappa(WIKI_TABLE) == pytest.approx(sm_fleiss_kappa(WIKI_TABLE), rel=1e-12)
    rng = np.random.default_rng(1)
    for _ in range(50):
        raters, cats, subjects = rng.integers(2, 7), rng.integers(2, 6), rng.integers(2, 30)
        table = np.array([rng.multinomial(raters, rng.dirichlet(np.ones(cats)))
                          for _ in range(subjects)])
        if (table.sum(axis=0) == table.sum()).any():
            continue  # one category only: kappa is undefined for both
        assert ag.fleiss_kappa(table) == pytest.approx(sm_fleiss_kappa(table), rel=1e-10,
                                                       abs=1e-12)


def pairwise_kappa(ratings: list[list[int]], cats: int) -> float:
    """Kappa from the ratings themselves: agreeing ordered pairs counted one by one per
    subject, chance from all ratings pooled."""
    per_subject = []
    for r in ratings:
        pairs = [(a, b) for a, b in itertools.permutations(range(len(r)), 2)]
        per_subject.append(sum(r[a] == r[b] for a, b in pairs) / len(pairs))
    pooled = [x for r in ratings for x in r]
    chance = sum((pooled.count(c) / len(pooled)) ** 2 for c in range(cats))
    return (float(np.mean(per_subject)) - chance) / (1 - chance)


def test_kappa_with_unequal_raters_counts_agreeing_pairs() -> None:
    rng = np.random.default_rng(2)
    for _ in range(30):
        ratings = [list(rng.integers(0, 4, rng.integers(2, 6))) for _ in range(12)]
        table = np.array([[r.count(c) for c in range(4)] for r in ratings])
        assert ag.fleiss_kappa(table) == pytest.approx(pairwise_kappa(ratings, 4), rel=1e-10)


def test_kappa_refuses_a_subject_with_one_rating_and_is_undefined_for_one_category() -> None:
    with pytest.raises(ValueError, match="two ratings"):
        ag.fleiss_kappa(np.array([[2, 0], [1, 0]]))
    assert math.isnan(ag.fleiss_kappa(np.array([[3, 0], [2, 0]])))


def audits_frame(rows: list[dict[str, object]]) -> gpd.GeoDataFrame:
    """Rows shaped as ``list_assessments`` gives them, ``enough_answers`` from the scoring."""
    out = []
    for n, r in enumerate(rows):
        answers = dict(r["answers"])  # type: ignore[call-overload]
        period = str(r.get("period", "night"))
        card = score(INS, answers, period)
        out.append({"id": f"A-{n}", "place_name": r.get("place", "Corner"),
                    "assessor": r["who"], "assessed_at": pd.Timestamp(r.get("when", WHEN)),
                    "period": period, "instrument_id": INS.id,
                    "instrument_version": INS.version, "answers": json.dumps(answers),
                    "lon": r.get("lon", LON), "lat": r.get("lat", LAT),
                    "overall": card.overall, "outcome": card.outcome,
                    "confidence": card.confidence, "enough_answers": card.enough_answers})
    frame = pd.DataFrame(out)
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame["lon"], frame["lat"]),
                            crs=4326)


def full(value: int, **over: int | str) -> dict[str, int | str]:
    """Every night item answered ``value`` on its scale (clipped), with ``over`` changes."""
    out: dict[str, int | str] = {}
    for item in INS.items:
        if item.applies_to("night"):
            vals = item.scale.values
            out[item.id] = vals[min(value, len(vals) - 1)]
    return out | over


def test_agreement_groups_one_walk_and_leaves_out_audits_with_too_few_answers() -> None:
    metres = 1 / 111_320  # degrees of latitude per metre
    rows: list[dict[str, object]] = [
        # place A: three auditors on one evening; all agree on lt_level, split on ns_windows
        {"who": "Maple", "answers": full(1, lt_level=0, ns_windows=0)},
        {"who": "Eastgate", "answers": full(1, lt_level=0, ns_windows=3),
         "lat": LAT + 10 * metres, "when": WHEN + timedelta(hours=1)},
        {"who": "Riverside", "answers": full(1, lt_level=0, ns_windows=3),
         "when": WHEN - timedelta(days=2)},
        # place B, 500 m away: two auditors who disagree on lt_level
        {"who": "Maple", "answers": full(2, lt_level=3), "lat": LAT + 500 * metres},
        {"who": "Eastgate", "answers": full(2, lt_level=1), "lat": LAT + 500 * metres},
        # not the same walk: a year later, another time of day, 60 m away
        {"who": "Northside", "answers": full(0), "when": WHEN + timedelta(days=365)},
        {"who": "Northside", "answers": full(0), "period": "day"},
        {"who": "Northside", "answers": full(0), "lat": LAT + 60 * metres},
        # the same auditor twice on the walk counts once (the latest)
        {"who": " maple ", "answers": full(1, lt_level=0, ns_windows=0),
         "when": WHEN + timedelta(minutes=5)},
    ]
    frame = audits_frame(rows)
    result = ag.agreement(frame, {INS.key: INS})
    assert sorted(result.places["audits"]) == [2, 3]
    items = result.items.set_index("item_id")
    # lt_level: place A (0, 0, 0) and place B (3, 1): by hand on a 0-3 scale
    assert items.loc["lt_level", "places"] == 2
    assert items.loc["lt_level", "kappa"] == pytest.approx(
        pairwise_kappa([[0, 0, 0], [3, 1]], 4), rel=1e-12)
    assert items.loc["lt_level", "agreement"] == pytest.approx((1 + 0) / 2)
    # an audit on the walk with too few answers (one item, answered the other way) changes
    # nothing: it is not rated, so not counted
    sparse = {"who": "Latecomer", "answers": {"lt_level": 3, "ns_windows": 0}}
    with_sparse = audits_frame([*rows, sparse])
    assert not with_sparse["enough_answers"].iloc[-1]
    again = ag.agreement(with_sparse, {INS.key: INS})
    pd.testing.assert_frame_equal(again.items, result.items)
    assert "Latecomer" not in " ".join(again.places["auditors"])


def test_na_and_blank_answers_are_not_ratings() -> None:
    rows: list[dict[str, object]] = [
        {"who": "A", "answers": full(1, lt_level=NA)},
        {"who": "B", "answers": full(1, lt_level=2)},
        {"who": "C", "answers": {k: v for k, v in full(1).items() if k != "lt_level"}},
    ]
    result = ag.agreement(audits_frame(rows), {INS.key: INS})
    assert "lt_level" not in set(result.items["item_id"])  # one rating only: no subject
    assert (result.items["places"] == 1).all()


def test_safety_drivers_are_spearman_with_a_fisher_interval() -> None:
    rng = np.random.default_rng(4)
    rows: list[dict[str, object]] = []
    for n in range(30):
        q = rng.uniform(0, 1)
        answers = {}
        for item in INS.items:
            if item.applies_to("night"):
                vals = item.scale.values
                centre = q * (len(vals) - 1) + rng.normal(0, 0.7)
                answers[item.id] = vals[int(np.clip(round(centre), 0, len(vals) - 1))]
        rows.append({"who": f"G{n}", "answers": answers, "lat": LAT + n * 0.01})
    rows.append({"who": "Sparse", "answers": {"lt_level": 0, "fs_feel": 3}})  # not rated
    frame = audits_frame(rows)
    drivers = {d.principle: d for d in ag.safety_drivers(frame, {INS.key: INS})}
    rated = frame[frame["enough_answers"]]
    assert len(rated) == 30
    cards = [score(INS, json.loads(a), "night") for a in rated["answers"]]
    feel = np.array([c.outcome for c in cards], dtype=float)
    for p in INS.principles:
        if p.kind.value != "design":
            continue
        x = np.array([c.by_id()[p.id] for c in cards], dtype=float)
        ok = ~np.isnan(x) & ~np.isnan(feel)
        # Spearman = Pearson of average ranks (plain numpy)
        rx, ry = stats.rankdata(x[ok]), stats.rankdata(feel[ok])
        rho = float(np.corrcoef(rx, ry)[0, 1])
        d = drivers[p.name]
        assert d.n == int(ok.sum())
        assert d.rho == pytest.approx(rho, rel=1e-10)
        half = 1.959963984540054 * math.sqrt(1.06 / (d.n - 3))
        assert (d.low, d.high) == pytest.approx(
            (math.tanh(math.atanh(rho) - half), math.tanh(math.atanh(rho) + half)), rel=1e-9)
    strongest = max(drivers.values(), key=lambda d: d.rho or 0)
    assert strongest.low is not None and strongest.low > 0
    assert strongest.words.startswith(f"Where {strongest.principle.lower()} scored higher, "
                                      "auditors felt safer")


def test_too_few_audits_say_so() -> None:
    frame = audits_frame([{"who": "A", "answers": full(1)}, {"who": "B", "answers": full(2)}])
    drivers = ag.safety_drivers(frame, {INS.key: INS})
    assert all(d.rho is None for d in drivers)
    assert "too few audits (2)" in drivers[0].words


def test_the_sample_districts_joint_walks_against_statsmodels(sample_store: object) -> None:
    from cpted import assessments as au
    from layers.store import Store

    assert isinstance(sample_store, Store)
    audits = au.list_assessments(sample_store)
    result = ag.agreement(audits, au.instruments_used(sample_store, audits))
    assert len(result.places) == 6 and (result.places["audits"] == 3).all()
    # the walks rebuilt here another way: the same place name, night, within one day
    night = audits[audits["period"] == "night"].copy()
    night["day"] = night["assessed_at"].dt.floor("D")
    tables: dict[str, list[list[int]]] = {}
    raw: dict[str, list[list[int]]] = {}
    for _, walk in night.groupby("place_name"):
        latest = walk[walk["assessed_at"] >= walk["assessed_at"].max() - pd.Timedelta(days=1)]
        if latest["assessor"].nunique() < 2:
            continue
        answers = [json.loads(a) for a in latest["answers"]]
        for item in INS.items:
            got = [a.get(item.id) for a in answers]
            got = [v for v in got if v is not None and v != NA]
            if len(got) >= 2:
                tables.setdefault(item.id, []).append(
                    [got.count(v) for v in item.scale.values])
                raw.setdefault(item.id, []).append([item.scale.values.index(v) for v in got])
    items = result.items.set_index("item_id")
    assert set(items.index) == set(tables)
    equal = unequal = 0
    for item_id, table in tables.items():
        t = np.array(table)
        if (t.sum(axis=0) == t.sum()).any():
            assert pd.isna(items.loc[item_id, "kappa"])  # one answer only: undefined
        elif len(set(t.sum(axis=1))) == 1:  # every place rated by the same number
            assert items.loc[item_id, "kappa"] == pytest.approx(sm_fleiss_kappa(t), rel=1e-10)
            equal += 1
        else:
            cats = len(t[0])
            assert items.loc[item_id, "kappa"] == pytest.approx(
                pairwise_kappa(raw[item_id], cats), rel=1e-10)
            unequal += 1
    assert equal >= 5 and unequal >= 5
