"""Every forecast method on real crime (../shared/data, never committed), judged on a later
window, the method chosen on a validation window before it.

Kansas City 2017: January-June makes the forecasts, July-December judges them. Chicago's
file covers 1-3 January 2016: 1-2 January makes them, 3 January judges them. Every row
of the table is recomputed here with plain numpy from the methods' scores, the later
events counted into the cells' polygons by a geopandas spatial join (independent of the
module's own cell lookup and of ``evaluate``).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from cpted import forecast as fc
from cpted import hotspots as hs
from cpted import patrol as pt
from layers.importer import import_file
from layers.schema import Layer
from layers.store import Store
from tests.conftest import ROOT

pytestmark = pytest.mark.realdata
TZ = "America/Chicago"

CITIES = {
    "Kansas City 2017": ("kansas_city/kcmo_neighborhoods.geojson", None,
                         "kansas_city/kcpd_crime_2017.csv", None, "2017-07-01"),
    "Chicago January 2016": ("chicago/Boundaries_-_Community_Areas_current.geojson",
                             "chicago-community-areas.toml",
                             "chicago/Crimes_-_2001_to_present.csv", "chicago-crimes.toml",
                             "2016-01-03"),
}


def later_counts(grid: hs.Grid, later: gpd.GeoDataFrame) -> np.ndarray:
    """Later events in the study area per cell by a spatial join on the cells' polygons
    (a point on an edge goes to the lowest-numbered cell)."""
    cells = gpd.GeoDataFrame({"cell": np.arange(len(grid))}, geometry=grid.polygons())
    pts = later.to_crs(grid.crs)[["geometry"]]
    pts = pts[pts.within(grid.area)]
    joined = gpd.sjoin(pts, cells, how="inner", predicate="intersects")
    joined = joined[~joined.index.duplicated(keep="first")]
    return np.bincount(joined["cell"].to_numpy(), minlength=len(grid)).astype(float)


@pytest.mark.parametrize("city", list(CITIES))
def test_every_method_on_a_later_window_chosen_without_peeking(
        city: str, store: Store, real_data: Path) -> None:
    hoods_path, hoods_profile, crime_path, crime_profile, cut_day = CITIES[city]
    for path, layer, profile in ((hoods_path, Layer.NEIGHBORHOODS, hoods_profile),
                                 (crime_path, Layer.INCIDENTS, crime_profile)):
        assert (real_data / path).exists(), f"{path} is missing from the real data folder"
        import_file(store, real_data / path, layer,
                    profile=str(ROOT / "profiles" / profile) if profile else None)
    cut = pd.Timestamp(cut_day, tz=TZ)
    events = pt.gather_events(store, [pt.Source("incidents", 1.0)], tz=TZ)
    first, later = pt.split_events(events, cut)
    hot = hs.analyse(first, boundary=store.read(Layer.NEIGHBORHOODS), permutations=99)
    e = fc.evaluate_methods(events, hot.grid, cut)
    w = e.windows
    assert w.start < w.tune < w.validate < w.evaluate == cut < w.end
    assert first["when"].max() < cut <= later["when"].min()

    print(f"\n{city}: {hot.describe()}; {e.windows.describe(TZ)}")
    for line in fc.table_text(e):
        print(line)
    print(f"prospective: {e.prospective.describe()}")
    for note in e.notes:
        print(f"note: {note}")
    print(e.verdict())

    before = later_counts(hot.grid, first)
    np.testing.assert_array_equal(e.scores["counts"], hot.counts)
    np.testing.assert_array_equal(before, hot.counts)
    after = later_counts(hot.grid, later)
    n_cells = len(after)
    table = e.stage("evaluation")
    assert set(table["area_share"]) == {0.01, 0.05}
    assert {"counts", "steady", "kde", "gi", "prospective", "blend"} <= set(table["method"])
    for r in table.itertuples():
        s = e.scores[r.method]
        k = max(1, round(r.area_share * n_cells))
        top = np.lexsort((np.arange(n_cells), -s))[:k]
        n, big_n = after[top].sum(), after.sum()
        assert r.hit_rate == pytest.approx(n / big_n)
        assert r.pai == pytest.approx((n / big_n) / (k / n_cells))
        assert r.pei_star == pytest.approx(n / np.sort(after)[::-1][:k].sum())
        assert r.rri == pytest.approx((n / before[top].sum()) / (big_n / before.sum()))
    # the chosen method did best on the validation window (counts unless beaten)
    val = e.stage("validation").pivot(index="method", columns="area_share", values="pai")
    assert all((val.loc[e.chosen, 0.01], val.loc[e.chosen, 0.05])
               >= (val.loc[m, 0.01], val.loc[m, 0.05]) for m in val.index)
    # and the sentence is honest about the goal
    pai = table[table["area_share"] == 0.01].set_index("method")["pai"]
    ratio = pai[e.chosen] / pai["counts"]
    assert e.ratio() == pytest.approx(ratio)
    assert ("beats counts by the goal" in e.verdict()) == (ratio >= fc.GOAL)
    assert (("short of the goal" in e.verdict()) or ("not reached" in e.verdict())) == (
        ratio < fc.GOAL)
