"""Made-up perception-survey answers for the sample district, so the Progress page and the
neighborhood briefs have a survey trend to show.

Each neighborhood has a hidden feeling of safety that drifts over the year, and a share
of people who know whom to contact; three to sixteen people answer each month, so some
months have too few answers to show a mean. Seeded: the same store gets the same answers.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import shapely

from layers.clock import iso
from layers.repos import survey as repo
from layers.schema import Layer
from layers.store import Store

SEED = 20261201


def _point_in(polygon: shapely.Geometry, rng: random.Random) -> shapely.Point:
    minx, miny, maxx, maxy = polygon.bounds
    for _ in range(1000):
        p = shapely.Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
        if polygon.contains(p):
            return p
    return polygon.representative_point()


def seed_survey(store: Store, *, months: int = 12, now: datetime | None = None) -> int:
    """Add sample answers over the ``months`` before ``now`` unless the store already has
    some; return how many were added."""
    with store.engine.connect() as conn:
        if repo.count(conn):
            return 0
    hoods = store.read(Layer.NEIGHBORHOODS)
    if hoods.empty:
        return 0
    rng = random.Random(SEED)
    now = now or datetime(2026, 11, 15, 18, 0, tzinfo=UTC)
    start = now - timedelta(days=30.4 * months)
    rows: list[dict[str, object]] = []
    for nid, polygon in zip(hoods["id"].astype(str), hoods.geometry, strict=True):
        feeling, drift = rng.uniform(2.2, 3.8), rng.uniform(-0.06, 0.1)
        knows = rng.uniform(0.25, 0.7)
        for m in range(months):
            for _ in range(rng.randint(3, 16)):
                when = start + timedelta(days=30.4 * m + rng.uniform(0, 30.4))
                centre = feeling + drift * m + rng.gauss(0, 0.9)
                p = _point_in(polygon, rng)
                rows.append({"at": iso(when), "lon": round(p.x, 6), "lat": round(p.y, 6),
                             "neighborhood_id": nid,
                             "safe_after_dark": min(5, max(1, round(centre))),
                             "knows_contact": int(rng.random() < knows + 0.01 * m),
                             "client": f"sample:{len(rows)}"})
    with store.transaction() as conn:
        repo.insert_many(conn, rows)
        store.bump(conn)
    return len(rows)
