"""Emerging hot spots on Kansas City's 2017 crime (real data, ``../shared/data``).

The cube is recounted here with pandas (local calendar month of each incident, its cell
from the grid), independently of the slicing; the trend of a sample of cells is checked
against ``scipy.stats.kendalltau`` of its z-scores against time. The crime file names the
people involved (Race, Sex, Age): none of it reaches what the analysis reads.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cpted import emerging as em
from cpted import hotspots as hs
from cpted import patrol as pt
from cpted import responsible as rs
from cpted import trend
from layers.importer import import_file
from layers.schema import Layer
from layers.store import Store

pytestmark = pytest.mark.realdata
TZ = "America/Chicago"


def test_kc_crime_2017_emerging_hot_spots_by_month(store: Store, real_data: Path) -> None:
    folder = real_data / "kansas_city"
    import_file(store, folder / "kcmo_neighborhoods.geojson", Layer.NEIGHBORHOODS)
    import_file(store, folder / "kcpd_crime_2017.csv", Layer.INCIDENTS)
    sources = [pt.Source("incidents", 1.0, pd.Timestamp("2017-01-01", tz=TZ),
                         pd.Timestamp("2018-01-01", tz=TZ))]
    events = pt.gather_events(store, sources, tz=TZ)
    assert rs.demographic_fields(store.read(Layer.INCIDENTS).columns) == []
    assert rs.demographic_fields(events.columns) == []
    start, end = em.source_period(sources)
    found = em.analyse(events, boundary=store.read(Layer.NEIGHBORHOODS), tz=TZ,
                       start=start, end=end)
    assert found.slices == 12
    # the cube recounted with pandas: calendar month in Kansas City, cell from the grid
    cell = found.grid.locate(hs.events_xy(events, found.grid.crs))
    month = pd.to_datetime(events["when"], utc=True).dt.tz_convert(TZ).dt.month.to_numpy()
    keep = cell >= 0
    recount = np.zeros_like(found.counts)
    np.add.at(recount, (cell[keep], month[keep] - 1), 1.0)
    assert np.array_equal(found.counts, recount)
    assert found.n_events == int(keep.sum()) and found.n_outside == int((~keep).sum())
    # trends: Mann-Kendall without the continuity correction is Kendall's tau test of the
    # z-scores against time (scipy), on the 50 cells with the most crime
    busiest = np.argsort(-found.counts.sum(axis=1))[:50]
    plain = trend.mann_kendall(found.z[busiest], continuity=False)
    ref = [stats.kendalltau(np.arange(12), found.z[i], method="asymptotic").pvalue
           for i in busiest]
    assert np.allclose(plain.p, ref)
    table = found.counts_by_pattern().set_index("pattern")["cells"]
    assert table.sum() == len(found.grid)
    hot = sum(int(table[p.value]) for p in em.HOT_PATTERNS)
    assert hot > 100  # a city's crime concentrates
    # the classes agree with their definitions cell by cell
    for i in np.flatnonzero([p is not em.Pattern.NONE for p in found.patterns])[:500]:
        b = found.bins[i]
        p = found.patterns[i]
        if p in (em.Pattern.PERSISTENT_HOT, em.Pattern.INTENSIFYING_HOT,
                 em.Pattern.DIMINISHING_HOT):
            assert (b > 0).sum() >= 0.9 * 12 and b[-1] > 0
        elif p is em.Pattern.NEW_HOT:
            assert b[-1] > 0 and not (b[:-1] != 0).any()
        elif p is em.Pattern.HISTORICAL_HOT:
            assert b[-1] <= 0 and (b > 0).sum() >= 0.9 * 12
    print(f"\nKansas City crime 2017, emerging: {found.describe()}")
    print(found.counts_by_pattern()[["pattern", "cells"]].to_string(index=False))
