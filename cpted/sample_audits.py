"""Made-up CPTED audits for the sample district, so a new install has some to look at.

Places are street corners of the sample district; each has a hidden quality that
drives its answers, a night audit a year ago and a night audit this year, and
some a day audit too, so trends and day/night comparisons have data. On
:data:`JOINT_WALKS` of this year's night walks two more groups audit the same place
within the same evening, each answering from the same hidden quality with its own
noise, so inter-rater agreement has data. Seeded: the same store gets the same
audits.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import shapely

from cpted.assessments import AssessmentDraft, list_assessments, save_assessment
from cpted.instrument import NA, Instrument, load_instrument
from layers.schema import Layer
from layers.store import Store

GROUPS = ("Maple Block Association", "Northside Neighbors", "Eastgate Watch",
          "Riverside Residents")
SEED = 20261121
#: This year's night walks on which two more groups audit the same place.
JOINT_WALKS = 6


def _answers(instrument: Instrument, period: str, quality: float,
             rng: random.Random) -> dict[str, int | str | None]:
    out: dict[str, int | str | None] = {}
    for item in instrument.items:
        if not item.applies_to(period):
            continue
        roll = rng.random()
        if roll < 0.05 and item.allow_na:
            out[item.id] = NA
            continue
        if roll < 0.10:
            continue  # left blank: the auditors could not judge it
        values = item.scale.values
        centre = quality * (len(values) - 1) + rng.gauss(0, 0.8)
        out[item.id] = values[min(len(values) - 1, max(0, round(centre)))]
    return out


def seed_audits(store: Store, *, places: int = 18, now: datetime | None = None) -> int:
    """Add sample audits unless the store already has some; return how many were added."""
    if len(list_assessments(store)):
        return 0
    streets = store.read(Layer.STREETS)
    if streets.empty:
        return 0
    instrument = load_instrument()
    rng = random.Random(SEED)
    now = now or datetime(2026, 10, 15, 21, 30, tzinfo=UTC)
    picks = rng.sample(range(len(streets)), places)
    added = 0
    nights: list[tuple[str, shapely.Geometry, str, datetime, float]] = []
    for n, i in enumerate(picks):
        line = streets.geometry.iloc[i]
        name = streets["name"].iloc[i] if "name" in streets.columns else None
        place = f"{name or 'Street'} (block {n + 1})"
        quality = rng.uniform(0.15, 0.85)
        group = GROUPS[n % len(GROUPS)]
        geometry: shapely.Geometry = line if n % 3 == 0 else line.interpolate(0.5,
                                                                             normalized=True)
        visits = [("night", now - timedelta(days=365 + rng.randint(0, 20)), quality)]
        # a year later: most places improved a little after the first audit's fixes
        visits.append(("night", now - timedelta(days=rng.randint(0, 30)),
                       min(0.95, quality + rng.uniform(-0.05, 0.2))))
        if n % 2 == 0:
            visits.append(("day", now - timedelta(days=rng.randint(0, 30), hours=10),
                           min(0.95, quality + 0.15)))
        for period, when, q in visits:
            draft = AssessmentDraft(place, geometry, group, when, period,
                                    _answers(instrument, period, q, rng),
                                    notes="Sample audit (made-up data).")
            save_assessment(store, draft, instrument, now=when)
            added += 1
        nights.append((place, geometry, group, visits[1][1], visits[1][2]))
    # a generator of its own, so the audits above stay as they were before joint walks
    joint = random.Random(SEED + 1)
    for place, geometry, group, when, q in nights[:JOINT_WALKS]:
        for other in [g for g in GROUPS if g != group][:2]:
            at = when - timedelta(minutes=joint.randint(5, 90))
            draft = AssessmentDraft(place, geometry, other, at, "night",
                                    _answers(instrument, "night", q, joint),
                                    notes="Sample audit (made-up data), on the same walk as "
                                          f"{group}.")
            save_assessment(store, draft, instrument, now=at)
            added += 1
    return added
