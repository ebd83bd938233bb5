"""The street pre-score: each component on a case worked by hand, then the whole sample
district (map, list, and its agreement with the sample audits).

References: exact geometry by hand (the view circle less the circular segment behind a
long wall), distances measured pair by pair with shapely, Spearman's rho as the Pearson
correlation of ranks in plain numpy, and audits matched to streets with geopandas'
``sjoin_nearest``.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from scipy import stats

from cpted import assessments as au
from cpted import prescore as ps
from cpted.access import Access
from cpted.accounts import public
from cpted.maps import build_prescore_map
from cpted.maps.describe import text_of
from layers.crs import WGS84
from layers.store import Store

CRS = "EPSG:32615"  # UTM 15N, Kansas City
X0, Y0 = 363_000.0, 4_321_000.0
NOW = datetime(2026, 11, 1, tzinfo=UTC)
EMPTY = gpd.GeoDataFrame(geometry=[], crs=WGS84)


def metric(geoms: list[shapely.Geometry], **cols: list[object]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(cols, geometry=[shapely.affinity.translate(g, X0, Y0)
                                            for g in geoms], crs=CRS).to_crs(WGS84)


def grid() -> gpd.GeoDataFrame:
    """Oak St from x = 0 to 300 in three blocks, crossed by 1st-4th St every 100 m."""
    oak = [shapely.LineString([(x, 0), (x + 100, 0)]) for x in (0, 100, 200)]
    cross = [shapely.LineString([(x, -100), (x, 100)]) for x in (0, 100, 200, 300)]
    return metric(oak + cross, id=[f"S{k}" for k in range(7)],
                  name=["Oak St"] * 3 + ["1st St", "2nd St", "3rd St", "4th St"],
                  **{"class": ["local"] * 7})


def run(streets: gpd.GeoDataFrame, **layers: gpd.GeoDataFrame) -> ps.Prescore:
    base = {"lights": EMPTY, "buildings": EMPTY, "parcels": EMPTY, "concerns": EMPTY,
            "incidents": EMPTY}
    return ps.prescore(streets, **(base | layers), maintenance_codes={"graffiti"}, now=NOW)


def test_segments_are_named_by_their_cross_streets() -> None:
    labels = ps.street_labels(grid(), CRS)
    assert labels.tolist()[:3] == ["Oak St between 1st St and 2nd St",
                                   "Oak St between 2nd St and 3rd St",
                                   "Oak St between 3rd St and 4th St"]
    assert labels.iloc[3] == "1st St"  # Oak St crosses its middle, not its ends
    ends_at_oak = metric([shapely.LineString([(0, 0), (100, 0)]),
                          shapely.LineString([(0, 0), (0, 100)])], name=["Oak St", "Elm St"])
    assert ps.street_labels(ends_at_oak, CRS).tolist() == ["Oak St at Elm St", "Elm St at Oak St"]


def test_percentile_score_ranks_and_keeps_zero_at_zero() -> None:
    got = ps.percentile_score(pd.Series([0.0, 2.0, 1.0, 2.0], index=[5, 6, 7, 8]))
    assert got.to_dict() == {5: 0.0, 6: 1.0, 7: 0.5, 8: 1.0}


def test_counts_near_are_per_100m_within_the_distance_measured_pair_by_pair() -> None:
    rng = np.random.default_rng(8)
    pts = rng.uniform(-150, 450, (300, 2))
    streets = grid()
    concerns = metric([shapely.Point(p) for p in pts], service_code=["graffiti"] * 200 +
                      ["broken_sidewalk"] * 100, status=["open"] * 150 + ["closed"] * 150)
    got = run(streets, concerns=concerns).segments
    lines = streets.to_crs(CRS).geometry
    counted = [shapely.Point(p) for p, c, s in zip(pts, concerns["service_code"],
                                                   concerns["status"], strict=True)
               if c == "graffiti" and s == "open"]
    for k, line in enumerate(lines):
        near = sum(shapely.distance(line, shapely.affinity.translate(p, X0, Y0)) <= 50
                   for p in counted)
        assert got["maintenance_per_100m"].iloc[k] == pytest.approx(
            100 * near / line.length, rel=1e-9)
    assert got["maintenance"].equals(ps.percentile_score(got["maintenance_per_100m"]))


def test_a_long_wall_beside_the_street_closes_it_in_by_the_circular_segment() -> None:
    streets = grid().iloc[:1]
    wall = metric([shapely.box(-2000, 10, 2000, 30)])  # 10 m north of Oak St, 4 km long
    got = run(streets, buildings=wall)
    r, d = 100.0, 10.0
    segment = r * r * math.acos(d / r) - d * math.sqrt(r * r - d * d)
    openness = (math.pi * r * r - segment) / (math.pi * r * r)
    # through WGS84 and back the wall moves by micrometres
    assert got.segments["openness"].iloc[0] == pytest.approx(openness, rel=1e-6)
    assert got.segments["enclosure"].iloc[0] == pytest.approx(1 - openness, rel=1e-6)


def test_darkness_counts_poles_out_and_bright_poles() -> None:
    streets = grid().iloc[:1]
    pole = metric([shapely.Point(50, 5)], id=["P1"], lumens=[40_000.0], watts=[None],
                  mounting_height_m=[9.0], status=["working"], fixture_type=["led"])
    lit = run(streets, lights=pole).segments
    assert 0 <= lit["darkness"].iloc[0] < 0.5
    assert lit["darkness"].iloc[0] == pytest.approx(
        max(0.0, 1 - lit["avg_lux"].iloc[0] / 4.3))  # local street: RP-8 4.3 lux average
    out = run(streets, lights=pole.assign(status=["out"])).segments
    assert out["avg_lux"].iloc[0] == 0 and out["darkness"].iloc[0] == 1


def test_incidents_of_the_last_year_count_and_the_pre_score_is_the_components_mean() -> None:
    streets = grid()
    when = [NOW - timedelta(days=10), NOW - timedelta(days=400), NOW - timedelta(days=30)]
    incidents = metric([shapely.Point(50, 5), shapely.Point(55, 5), shapely.Point(150, -20)],
                       id=["I1", "I2", "I3"], category=["theft"] * 3,
                       occurred_datetime=[pd.Timestamp(w) for w in when])
    vacant = metric([shapely.Point(250, 30), shapely.Point(260, 30)], id=["V1", "V2"],
                    status=["vacant_lot", "occupied"])
    got = run(streets, incidents=incidents, parcels=vacant)
    assert got.used == ("vacant", "incidents")
    assert set(got.missing) == {"darkness", "enclosure", "maintenance"}
    seg = got.segments
    assert seg["incidents_per_100m"].iloc[:3].tolist() == pytest.approx([1.0, 1.0, 0.0])
    assert seg["vacant_per_100m"].iloc[2] == pytest.approx(1.0)  # the occupied one not
    expected = 100 * (seg["vacant"] + seg["incidents"]) / 2
    assert seg["pre_score"].to_numpy() == pytest.approx(expected.to_numpy())


# -- the sample district --------------------------------------------------------------------

@pytest.fixture
def sample(sample_store: Store) -> tuple[ps.Prescore, gpd.GeoDataFrame]:
    door = Access(sample_store, public("prescore-test"))
    return door.prescore(now=NOW), au.list_assessments(sample_store)


def test_every_sample_segment_is_scored_from_light_sightlines_and_concerns(
        sample: tuple[ps.Prescore, gpd.GeoDataFrame], sample_store: Store) -> None:
    result, _ = sample
    seg = result.segments
    streets = sample_store.read("streets")  # type: ignore[arg-type]
    assert len(seg) == len(streets) and seg.index.equals(streets.index)
    assert result.used == ("darkness", "enclosure", "maintenance")
    assert result.missing == {"vacant": "there are no parcels in the store",
                              "incidents": "there are no incidents in the store"}
    assert seg["pre_score"].between(0, 100).all()
    assert seg["pre_score"].to_numpy() == pytest.approx(
        100 * seg[["darkness", "enclosure", "maintenance"]].mean(axis=1).to_numpy())
    # each segment is named by its street and cross streets, never by its id
    assert not seg["street"].str.contains(r"\bS-?\d").any()
    assert seg["street"].str.contains(" between ").mean() > 0.8


def test_where_to_audit_next_skips_streets_with_a_recent_rated_audit(
        sample: tuple[ps.Prescore, gpd.GeoDataFrame]) -> None:
    result, audits = sample
    todo = ps.where_to_audit(result, audits, now=NOW, top=10)
    assert len(todo) == 10
    assert todo["pre_score"].is_monotonic_decreasing
    # no listed segment has a rated audit of the last year within 25 m (measured here)
    recent = audits[audits["enough_answers"] & (audits["assessed_at"] >= pd.Timestamp(
        NOW - timedelta(days=365)))]
    pts = gpd.GeoSeries(gpd.points_from_xy(recent["lon"], recent["lat"]), crs=WGS84
                        ).to_crs(CRS)
    lines = result.segments.geometry.to_crs(CRS)
    audited = {k for k in lines.index if pts.distance(lines.loc[k]).min() <= 25}
    assert audited and not audited & set(todo.index)
    unaudited = result.segments.drop(index=list(audited))
    assert todo["pre_score"].iloc[0] == pytest.approx(unaudited["pre_score"].max())
    # the map: every segment, the list drawn on top, its text alternative naming them
    fmap = build_prescore_map(result.segments, todo)
    page = fmap.get_root().render()
    assert page.count('"street"') >= len(result.segments)
    text = text_of(fmap)
    assert text is not None and "725 street segments" in text.summary
    listed = text.tables[0].rows
    assert listed["Street"].tolist() == todo["street"].tolist()


def test_pre_score_against_the_sample_audits_is_spearman_over_places(
        sample: tuple[ps.Prescore, gpd.GeoDataFrame]) -> None:
    result, audits = sample
    check = ps.check_against_audits(result, audits)
    # rebuilt another way: each place's latest rated audit, its nearest segment by sjoin
    rated = audits[audits["enough_answers"]].sort_values("assessed_at")
    latest = rated.groupby("place_name").tail(1)
    pts = gpd.GeoDataFrame(latest[["place_name", "overall"]],
                           geometry=gpd.points_from_xy(latest["lon"], latest["lat"]),
                           crs=WGS84).to_crs(CRS)
    segs = result.segments[["pre_score", "geometry"]].to_crs(CRS)
    joined = gpd.sjoin_nearest(pts, segs, max_distance=25).sort_values("place_name")
    assert check.n == len(joined) == latest["place_name"].nunique() == 18
    assert check.pairs["pre_score"].to_numpy() == pytest.approx(joined["pre_score"].to_numpy())
    x, y = stats.rankdata(joined["pre_score"]), stats.rankdata(joined["overall"])
    assert check.rho == pytest.approx(float(np.corrcoef(x, y)[0, 1]), rel=1e-10)
    assert check.p_value is not None and 0 < check.p_value <= 1
    json.dumps({"rho": check.rho})  # a plain float, shown as such


def test_the_map_escapes_street_names_and_shows_each_component() -> None:
    attack = "<img src=x onerror=alert(1)>"
    streets = grid().assign(name=[attack] * 3 + ["1st St", "2nd St", "3rd St", "4th St"])
    concerns = metric([shapely.Point(50, 5)], service_code=["graffiti"], status=["open"])
    result = run(streets, concerns=concerns)
    todo = ps.where_to_audit(result, gpd.GeoDataFrame(
        {"enough_answers": [], "assessed_at": [], "lon": [], "lat": []}), now=NOW, top=3)
    fmap = build_prescore_map(result.segments, todo)
    page = fmap.get_root().render()
    assert attack not in page
    assert "\\u0026lt;img src=x onerror=alert(1)\\u0026gt; between 1st St" in page  # JSON
    assert ps.COMPONENTS["maintenance"] in page
    text = text_of(fmap)
    assert text is not None
    rows = text.tables[0].rows
    shown = (todo["maintenance"] * 100).round(0).tolist()
    assert rows[ps.COMPONENTS["maintenance"]].tolist() == shown
    assert ps.COMPONENTS["darkness"] not in rows.columns  # no poles: no darkness column
