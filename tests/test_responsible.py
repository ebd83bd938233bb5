"""Responsible use: the evidence mix, the feedback-loop warning on a planted case, the
Koper cap on stops, and no field about people in anything hotspots read."""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely

from cpted import hotspots as hs
from cpted import patrol as pt
from cpted import responsible as rs
from cpted.routing import RoutingError
from layers.importer import import_file
from layers.schema import Layer
from layers.store import open_store


def test_the_evidence_mix_gives_each_kinds_share_of_records_and_of_weight() -> None:
    events = pd.DataFrame({
        "source": ["open concerns"] * 6 + ["night-time concerns"] * 2 + ["incidents"] * 4
        + ["vacant parcels"],
        "weight": [1.0] * 6 + [2.0] * 2 + [1.0] * 4 + [0.5]})
    mix = rs.evidence_mix(events).set_index("evidence")
    # by hand: 8 resident reports weighing 10, 4 police records weighing 4, 1 parcel 0.5
    assert list(mix.index) == ["Resident reports", "Police records", "City parcel records"]
    assert mix["records"].tolist() == [8, 4, 1]
    assert mix["record_share"].tolist() == pytest.approx([8 / 13, 4 / 13, 1 / 13])
    assert mix["weight_share"].tolist() == pytest.approx([10 / 14.5, 4 / 14.5, 0.5 / 14.5])
    words = rs.evidence_words(mix.reset_index())
    assert "resident reports 69% (8 records)" in words and "police records 28%" in words
    audits = pd.DataFrame({"source": ["weak CPTED audits"], "weight": [1.0]})
    assert "weak CPTED audits 100% (1 record)" in rs.evidence_words(rs.evidence_mix(audits))
    assert rs.evidence_mix(events.iloc[:0]).empty


def grid_and_points() -> tuple[hs.Grid, np.ndarray]:
    crs = pyproj.CRS(32615)
    grid = hs.make_grid(shapely.box(360000, 4320000, 360500, 4320500), crs, 100.0)
    return grid, grid.centres


def points(grid: hs.Grid, xy: list[np.ndarray], **columns: object) -> gpd.GeoDataFrame:
    arr = np.array(xy).reshape(-1, 2)
    return gpd.GeoDataFrame(columns, geometry=gpd.points_from_xy(arr[:, 0], arr[:, 1]),
                            crs=grid.crs).to_crs(4326)


def spread(first: str, last: str, n: int) -> list[pd.Timestamp]:
    return list(pd.date_range(first, last, periods=n, tz="UTC")) if n else []


def test_the_feedback_warning_flags_a_cell_whose_records_rose_after_its_visits() -> None:
    """Planted: records are spread over 2025. Cell A (visited 1 July) has 2 records in
    the 90 days before the visit and 12 after; cell B (visited 1 July) 5 and 5; cell C
    (visited 1 July) 3 and 4; cell D is visited after the last record. Reference for A's
    p-value: the binomial tail P(X >= 12 | n = 14, 1/2) summed with math.comb."""
    grid, c = grid_and_points()
    a, b, cc, d = 0, 6, 12, 24
    when = (spread("2025-04-05", "2025-06-28", 2) + spread("2025-07-02", "2025-09-25", 12)
            + spread("2025-04-05", "2025-06-28", 5) + spread("2025-07-02", "2025-09-25", 5)
            + spread("2025-04-05", "2025-06-28", 3) + spread("2025-07-02", "2025-09-25", 4)
            + spread("2025-01-01", "2025-12-31", 6))
    cells = [a] * 14 + [b] * 10 + [cc] * 7 + [d] * 6
    events = points(grid, [c[i] for i in cells], when=pd.DatetimeIndex(when))
    visit_at = pd.Timestamp("2025-07-01", tz="UTC")
    visits = points(grid, [c[a], c[a], c[b], c[cc], c[d]],
                    visited_at=pd.DatetimeIndex([visit_at, visit_at + pd.Timedelta(days=9),
                                                 visit_at, visit_at,
                                                 pd.Timestamp("2026-01-05", tz="UTC")]),
                    place=["Corner of 5th and Main", "Later visit", "Park gate", "Alley",
                           "Late stop"])
    loop = rs.feedback_loop(events, visits, grid).set_index("cell")
    assert set(loop.index) == {a, b, cc, d}
    row = loop.loc[a]
    assert (row["place"], row["visits"], row["days"]) == ("Corner of 5th and Main", 2, 90.0)
    assert (row["before"], row["after"], bool(row["rose"])) == (2, 12, True)
    tail = sum(math.comb(14, k) for k in range(12, 15)) / 2 ** 14
    assert row["p"] == pytest.approx(tail)
    assert (loop.loc[b, "before"], loop.loc[b, "after"], bool(loop.loc[b, "rose"])) == (
        5, 5, False)
    # a rise within chance is not flagged
    assert (loop.loc[cc, "before"], loop.loc[cc, "after"]) == (3, 4)
    assert not loop.loc[cc, "rose"] and loop.loc[cc, "p"] > 0.05
    assert not loop.loc[d, "judged"] and "no records after" in loop.loc[d, "reason"]
    assert loop["rose"].sum() == 1
    assert rs.feedback_loop(events, visits.iloc[:0], grid).empty


def test_stops_are_capped_at_the_koper_optimum() -> None:
    station = (-94.575, 39.04)
    pt.PatrolSettings(station, dwell_min=pt.MAX_DWELL_MIN).check()
    assert pt.MAX_DWELL_MIN == 15.0 and pt.KOPER_MIN_DWELL_MIN == 10.0
    with pytest.raises(RoutingError, match="Koper"):
        pt.PatrolSettings(station, dwell_min=16.0).check()
    with pytest.raises(ValueError, match="between 0 and 15 minutes"):
        pt.PatrolSettings(station, dwell_min=120.0).check()


def test_the_command_line_refuses_a_stop_longer_than_15_minutes(
        sample_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from cpted.cli import main

    assert main(["route", "--db", str(sample_db), "--station=-94.575,39.04", "--dwell-min",
                 "20", "--permutations", "99", "--out", str(tmp_path / "r.gpx")]) == 1
    err = capsys.readouterr().err
    assert "between 0 and 15 minutes" in err and "Koper 1995" in err
    assert not (tmp_path / "r.gpx").exists()


def test_fields_about_people_are_named_and_refused() -> None:
    cols = ["id", "category", "Race", "Sex", "Age", "suspect_race", "VictimAge", "page",
            "usage", "weight", "when", "source"]
    assert rs.demographic_fields(cols) == ["Race", "Sex", "Age", "suspect_race", "VictimAge"]
    with pytest.raises(rs.DemographicInputError, match="'Race', 'Sex', 'Age'"):
        rs.check_no_demographics(cols)
    rs.check_no_demographics(["source", "weight", "when", "ref", "geometry"])


def test_no_field_about_people_reaches_the_candidate_inputs(tmp_path: Path) -> None:
    """Police crime files carry the people involved (Kansas City's has Race, Sex and Age):
    an import keeps none of it, and the events hotspots count are places, times, kinds
    and weights only."""
    path = tmp_path / "crime.csv"
    path.write_text(
        "Report_No,Date,Crime,Race,Sex,Age,Latitude,Longitude\n"
        "17-1,2017-01-05 10:00,Burglary,W,M,34,39.04,-94.575\n"
        "17-2,2017-02-07 22:00,Robbery,B,F,19,39.041,-94.576\n", encoding="utf-8")
    with open_store(tmp_path / "store.gpkg") as store:
        import_file(store, path, Layer.INCIDENTS, tz="America/Chicago")
        stored = store.read(Layer.INCIDENTS)
        events = pt.gather_events(store, pt.parse_sources([]), tz="America/Chicago")
    assert len(stored) == 2 and rs.demographic_fields(stored.columns) == []
    assert len(events) == 2
    assert set(events.columns) == {"source", "weight", "when", "ref", "geometry"}
    assert rs.demographic_fields(events.columns) == []


def test_how_it_was_made_says_what_went_in_and_what_never_does() -> None:
    mix = rs.evidence_mix(pd.DataFrame({"source": ["open concerns", "incidents"],
                                        "weight": [1.0, 1.0]}))
    lines = rs.how_made(sources=["open concerns x1"], mix=mix, hotspots="12 cells",
                        emerging="24 months", dwell_max_min=15.0)
    text = " ".join(lines)
    assert lines[0] == "What went in: open concerns x1."
    assert "resident reports 50%" in text and "police records 50%" in text
    assert "no race, ethnicity, sex, age or income" in text
    assert "Ensign et al. 2018" in text and "Koper (1995" in text and "at most 15" in text
    assert "Details: 24 months." in text
    assert not any("Emerging" in line for line in rs.how_made(
        sources=[], mix=mix, hotspots="x", dwell_max_min=15.0))
