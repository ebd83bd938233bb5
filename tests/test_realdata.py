"""The importers on real Kansas City exports (../shared/data, never committed)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from layers.crs import haversine_km
from layers.importer import import_file
from layers.schema import Layer
from layers.store import Store

pytestmark = pytest.mark.realdata


def kc(real_data: Path, name: str) -> Path:
    path = real_data / "kansas_city" / name
    assert path.exists(), f"{path} is missing from the real data folder"
    return path


def far_rows(path: Path, lat_col: str, lon_col: str, km: float) -> set[int]:
    """1-based rows lying more than ``km`` from the coordinate-wise median, computed here
    independently of the importer (plain csv module and a haversine)."""
    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    lat = np.array([float(r[lat_col]) for r in rows])
    lon = np.array([float(r[lon_col]) for r in rows])
    d = haversine_km(lon, lat, float(np.median(lon)), float(np.median(lat)))
    return {int(i) + 1 for i in np.flatnonzero(d > km)}


def test_kc_neighborhoods_all_load(store: Store, real_data: Path) -> None:
    s = import_file(store, kc(real_data, "kcmo_neighborhoods.geojson"), Layer.NEIGHBORHOODS)
    assert (s.read, s.accepted, s.rejected) == (246, 246, {})
    hoods = store.read(Layer.NEIGHBORHOODS)
    assert hoods.geometry.is_valid.all()
    assert hoods["id"].is_unique
    assert any("repaired with make_valid" in n for n in s.notes)  # the file has a bad ring
    print("\n" + s.text())


def test_kc_311_imports_with_far_off_rows_rejected(store: Store, real_data: Path) -> None:
    path = kc(real_data, "kcmo_311_potholes_2020JanFeb.csv")
    far = far_rows(path, "LATITUDE", "LONGITUDE", 50)
    assert len(far) == 42  # as documented for this file
    s = import_file(store, path, Layer.CONCERNS)
    assert s.read == 4493
    assert s.rejected == {"outside project area": 42}
    assert {r.row for r in s.rejections} == far
    assert s.accepted == 4493 - 42 == store.count(Layer.CONCERNS)
    print("\n" + s.text())


def test_kc_311_against_stored_neighborhoods(store: Store, real_data: Path) -> None:
    import_file(store, kc(real_data, "kcmo_neighborhoods.geojson"), Layer.NEIGHBORHOODS)
    path = kc(real_data, "kcmo_311_potholes_2020JanFeb.csv")
    s = import_file(store, path, Layer.CONCERNS, fmt="kc311")
    far = far_rows(path, "LATITUDE", "LONGITUDE", 50)
    assert far <= {r.row for r in s.rejections}
    assert s.accepted >= 4493 - 42 - 10  # a few rows may sit just past the city's edge


def test_kc_crime_loads_with_out_of_city_rows_rejected(store: Store, real_data: Path) -> None:
    path = kc(real_data, "kcpd_crime_2017.csv")
    far = far_rows(path, "Latitude", "Longitude", 50)
    assert len(far) == 67  # as documented for this file
    s = import_file(store, path, Layer.INCIDENTS)
    assert s.read == 32283
    assert {r.row for r in s.rejections} == far
    incidents = store.read(Layer.INCIDENTS)
    assert len(incidents) == 32283 - 67
    # Date and Hour were combined: not every incident is at midnight local time.
    local = incidents["occurred_datetime"].dt.tz_convert("America/Chicago")
    assert local.dt.hour.nunique() == 24
    print("\n" + s.text())


def test_kc_streetlight_poles_load_with_their_pole_ids(store: Store, real_data: Path) -> None:
    s = import_file(store, kc(real_data, "kcmo_streetlight_poles_sample.geojson"),
                    Layer.STREETLIGHTS)
    assert (s.read, s.accepted) == (111, 111)
    lights = store.read(Layer.STREETLIGHTS)
    assert lights["id"].str.match(r"^[A-Z]{3}\d{4}$").all()  # POLEID, not OBJECTID
    assert lights["lumens"].isna().all()  # the sample has ids only


def test_kc_311_overlay_matches_the_files_neighborhood_column(store: Store,
                                                              real_data: Path) -> None:
    import pandas as pd

    from cpted.overlay import assign, overlay

    import_file(store, kc(real_data, "kcmo_neighborhoods.geojson"), Layer.NEIGHBORHOODS)
    path = kc(real_data, "kcmo_311_potholes_2020JanFeb.csv")
    import_file(store, path, Layer.CONCERNS, fmt="kc311")
    concerns = store.read(Layer.CONCERNS)
    hoods = store.read(Layer.NEIGHBORHOODS)
    raw = pd.read_csv(path, encoding="utf-8-sig", dtype=str)
    named = dict(zip(raw["CASE ID"].str.strip(), raw["NEIGHBORHOOD"], strict=True))
    theirs = concerns["service_request_id"].map(named).str.strip().str.lower()
    which = assign(concerns.geometry, hoods.geometry)
    ours = pd.Series(np.where(which >= 0, hoods["name"].to_numpy()[np.maximum(which, 0)], ""),
                     index=concerns.index).str.lower()
    has = theirs.notna() & (theirs != "")
    share = float((ours[has] == theirs[has]).mean())
    print(f"\nKC 311: {int(has.sum()):,} rows carry a NEIGHBORHOOD; our overlay agrees on "
          f"{share:.2%}")
    assert share >= 0.95
    table = overlay(concerns, hoods)
    assert table["count"].sum() == (which >= 0).sum()
    assert len(table) == 246


def test_kc_crime_2017_hotspots_predict_the_second_half(store: Store, real_data: Path) -> None:
    """Hotspots from January-June 2017 judged on July-December: PAI at 1% and 5% of area
    for counts, kernel density and Gi*. Hit rates and PAI are recounted here from the
    cell table with plain numpy, independently of ``evaluate``."""
    import pandas as pd

    from cpted import hotspots as hs
    from cpted import patrol as pt

    import_file(store, kc(real_data, "kcmo_neighborhoods.geojson"), Layer.NEIGHBORHOODS)
    import_file(store, kc(real_data, "kcpd_crime_2017.csv"), Layer.INCIDENTS)
    tz = "America/Chicago"
    first = pt.gather_events(store, [pt.Source("incidents", 1.0, None,
                                               pd.Timestamp("2017-07-01", tz=tz))], tz=tz)
    second = pt.gather_events(store, [pt.Source("incidents", 1.0,
                                                pd.Timestamp("2017-07-01", tz=tz),
                                                pd.Timestamp("2018-01-01", tz=tz))], tz=tz)
    assert len(first) > 10_000 and len(second) > 10_000
    hot = hs.analyse(first, boundary=store.read(Layer.NEIGHBORHOODS))
    table = hs.comparison(hot, second)
    print(f"\nKansas City crime 2017: {hot.describe()}")
    print(f"{len(first):,} events January-June made the hotspots; {len(second):,} "
          "July-December judged them")
    for row in table.itertuples():
        print(f"  {row.method:15} top {row.top_area:4.0%} of area: hit rate {row.hit_rate:6.1%}"
              f"  PAI {row.pai:6.2f}  RRI {row.rri:5.2f}")
    after = hs.cell_counts(hot.grid, hs.events_xy(second, hot.grid.crs))
    for key, scores in hot.scores().items():
        for share in (0.01, 0.05):
            k = max(1, round(share * len(scores)))
            top = np.lexsort((np.arange(len(scores)), -scores))[:k]
            hit = after[top].sum() / after.sum()
            row = table[(table["method"] == {"counts": "Counts", "kde": "Kernel density",
                                             "gi": "Gi* z-score"}[key])
                        & (table["top_area"] == share)].iloc[0]
            assert row["hit_rate"] == pytest.approx(hit)
            assert row["pai"] == pytest.approx(hit / (k / len(scores)))
            assert row["pai"] > 2  # crime concentrates: far better than chance
    # the first half's hotspots are real: many Gi* hot cells at 99%
    assert (hot.gi.bins == 3).sum() > 50
