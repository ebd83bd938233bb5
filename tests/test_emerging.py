"""Emerging hot spots: Mann-Kendall against references, slices, the space-time
neighbourhood, every class found on a planted space-time pattern, the map and the CLI.

References: ``scipy.stats.kendalltau`` of a series against time (Mann-Kendall's S and
its p-value without the continuity correction are Kendall's tau-b test of that pair);
the S and tie-corrected variance formula (Gilbert 1987, 16.4) computed with plain loops;
the Gi* z-score in Getis and Ord's own form recomputed with plain numpy.
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from scipy import stats

from cpted import emerging as em
from cpted import hotspots as hs
from cpted import spacetime, trend
from cpted.cli import main
from cpted.emerging import Pattern
from cpted.maps import build_emerging_map
from cpted.maps.describe import text_of

NDArrayInt = np.ndarray
SERIES = [
    [1.0, 2, 2, 3, 1, 4, 4, 4, 5, 2],           # ties
    [5.0, 4, 4, 4, 3, 3, 1, 0, 0, -1, -2, -2],  # falling, ties
    [0.3, -1.2, 0.8, 0.1, 2.5, -0.4, 1.9],      # no ties
    [2.0, 2, 2, 2, 3],                          # mostly one tie group
]


# -- Mann-Kendall ------------------------------------------------------------------

@pytest.mark.parametrize("x", SERIES)
def test_mann_kendall_equals_scipys_kendall_tau_of_the_series_against_time(x: list[float]
                                                                           ) -> None:
    """Reference: scipy.stats.kendalltau(time, x). With no ties in time, tau-b =
    S / sqrt(n0 (n0 - n_x)) (n0 pairs, n_x pairs tied in x), and its asymptotic p-value is
    Mann-Kendall's without the continuity correction."""
    t = np.arange(len(x))
    ref = stats.kendalltau(t, x, method="asymptotic")
    got = trend.mann_kendall(np.array(x), continuity=False)
    n0 = len(x) * (len(x) - 1) / 2
    tied = sum(c * (c - 1) / 2 for c in Counter(x).values())
    assert got.s[0] == pytest.approx(ref.statistic * math.sqrt(n0 * (n0 - tied)))
    assert got.p[0] == pytest.approx(ref.pvalue, rel=1e-9)


@pytest.mark.parametrize("x", SERIES)
def test_mann_kendall_statistic_and_tie_corrected_variance_by_the_formula(
        x: list[float]) -> None:
    """Reference: S = sum over i < j of sign(x_j - x_i), Var S = [n(n-1)(2n+5) - sum over
    tie groups of t(t-1)(2t+5)] / 18, Z = (S - sign S) / sqrt(Var S), p = 2 (1 - Phi(|Z|)),
    written out here with plain loops (Gilbert 1987, 16.4)."""
    n = len(x)
    s = sum((x[j] > x[i]) - (x[j] < x[i]) for i in range(n) for j in range(i + 1, n))
    var = (n * (n - 1) * (2 * n + 5)
           - sum(c * (c - 1) * (2 * c + 5) for c in Counter(x).values())) / 18
    z = 0.0 if s == 0 else (s - math.copysign(1, s)) / math.sqrt(var)
    p = math.erfc(abs(z) / math.sqrt(2))
    got = trend.mann_kendall(x)
    assert (got.s[0], got.var_s[0]) == (s, pytest.approx(var))
    assert (got.z[0], got.p[0]) == (pytest.approx(z), pytest.approx(p))


def test_mann_kendall_of_many_rows_is_each_rows_own() -> None:
    rng = np.random.default_rng(3)
    rows = np.round(rng.normal(size=(30, 15)), 1)  # rounding makes ties
    rows[4] = 2.0                                  # a constant row: no trend at all
    many = trend.mann_kendall(rows)
    for i, row in enumerate(rows):
        one = trend.mann_kendall(row)
        assert (many.s[i], many.var_s[i], many.p[i]) == (one.s[0], one.var_s[0], one.p[0])
    assert (many.s[4], many.z[4], many.p[4]) == (0.0, 0.0, 1.0)
    with pytest.raises(ValueError, match="at least 3"):
        trend.mann_kendall([1.0, 2.0])


def test_the_smallest_trend_p_is_that_of_a_series_rising_every_slice() -> None:
    for n in (4, 10, 24):
        assert trend.smallest_trend_p(n) == pytest.approx(
            trend.mann_kendall(np.arange(n, dtype=float)).p[0])
    assert trend.smallest_trend_p(4) > 0.05 > trend.smallest_trend_p(10)


# -- classes from bin series ---------------------------------------------------------

def bins(text: str) -> list[int]:
    return [{"+": 1, "-": -1, ".": 0}[c] for c in text]


@pytest.mark.parametrize(("series", "z", "p", "expected"), [
    ("..........", 0.0, 1.0, Pattern.NONE),
    (".........+", 0.0, 1.0, Pattern.NEW_HOT),
    ("......++++", 2.5, 0.01, Pattern.CONSECUTIVE_HOT),
    ("..+...++++", 2.5, 0.01, Pattern.SPORADIC_HOT),     # hot before the final run
    ("+++++++++.", 0.0, 1.0, Pattern.HISTORICAL_HOT),
    ("++++++++..", 0.0, 1.0, Pattern.NONE),              # 80 % hot: not historical
    (".+++++++++", 3.0, 0.001, Pattern.INTENSIFYING_HOT),
    (".+++++++++", -3.0, 0.001, Pattern.DIMINISHING_HOT),
    (".+++++++++", 1.0, 0.3, Pattern.PERSISTENT_HOT),
    ("-........+", 0.0, 1.0, Pattern.OSCILLATING_HOT),   # a cold past outranks "new"
    ("-.....++++", 0.0, 1.0, Pattern.OSCILLATING_HOT),   # ... and "consecutive"
    ("+++++++++-", 0.0, 1.0, Pattern.OSCILLATING_COLD),  # cold now outranks historical hot
    (".---------", -3.0, 0.001, Pattern.INTENSIFYING_COLD),
    (".---------", 3.0, 0.001, Pattern.DIMINISHING_COLD),
    ("-.-.-.-..-", 0.0, 1.0, Pattern.SPORADIC_COLD),
    ("---------.", 0.0, 1.0, Pattern.HISTORICAL_COLD),
])
def test_classes_follow_the_definitions_and_our_reading_of_their_overlaps(
        series: str, z: float, p: float, expected: Pattern) -> None:
    assert em.classify(bins(series), z, p) is expected


def test_every_class_has_plain_words() -> None:
    for pattern in Pattern:
        words = em.meaning(pattern, "week")
        assert words and "week" in words
    assert "hotter" in em.meaning(Pattern.INTENSIFYING_HOT)
    assert "colder" in em.meaning(Pattern.INTENSIFYING_COLD)


# -- slices -------------------------------------------------------------------------------

def test_slices_count_back_from_the_day_after_the_last_event() -> None:
    tz = "America/Chicago"
    when = pd.Series(pd.to_datetime(["2025-01-03 10:00", "2025-06-30 23:30"]).tz_localize(tz))
    edges = em.slice_edges(when, "month", tz=tz)
    assert edges[-1] == pd.Timestamp("2025-07-01", tz=tz)
    assert list(edges.strftime("%Y-%m-%d")) == ["2025-02-01", "2025-03-01", "2025-04-01",
                                                 "2025-05-01", "2025-06-01", "2025-07-01"]
    # a known period: the slices are its whole months
    edges = em.slice_edges(when, "month", tz=tz, start=pd.Timestamp("2025-01-01", tz=tz),
                           end=pd.Timestamp("2025-08-01", tz=tz))
    assert len(edges) - 1 == 7 and edges[0] == pd.Timestamp("2025-01-01", tz=tz)
    weeks = em.slice_edges(when, "week", tz=tz)
    assert (np.diff(weeks.tz_convert("UTC").asi8) > 0).all()
    assert set(weeks.tz_convert(tz).hour) == {0}  # local midnights, through the DST change
    assert len(weeks) - 1 == 25
    with pytest.raises(hs.HotspotError, match="at least 4"):
        em.slice_edges(when.iloc[[1]], "month", tz=tz)
    with pytest.raises(hs.HotspotError, match="unknown slice length"):
        em.slice_edges(when, "day", tz=tz)  # type: ignore[arg-type]


# -- the space-time neighbourhood and Gi* ------------------------------------------------

def small_grid(cells: int = 5, size: float = 100.0) -> hs.Grid:
    crs = pyproj.CRS(32615)
    box = shapely.box(360000, 4320000, 360000 + cells * size, 4320000 + cells * size)
    return hs.make_grid(box, crs, size)


def test_cube_weights_join_a_cell_to_its_neighbours_now_and_in_the_slices_before() -> None:
    grid = small_grid()
    n, t = len(grid), 4
    w = spacetime.cube_weights(grid.neighbours(), t, 1)
    degree = np.asarray(w.sum(axis=1)).ravel().reshape(t, n)
    centre = grid._find(np.array([2]), np.array([2]))[0]
    corner = grid._find(np.array([0]), np.array([0]))[0]
    assert degree[0, centre] == 8 and degree[1:, centre].tolist() == [17, 17, 17]
    assert degree[0, corner] == 3 and degree[2, corner] == 7
    assert w.diagonal().sum() == 0 and set(np.unique(w.data)) == {1.0}
    # the bin looks back, never forward
    assert w[1 * n + centre, 0 * n + centre] == 1 and w[0 * n + centre, 1 * n + centre] == 0
    flat = np.asarray(spacetime.cube_weights(grid.neighbours(), t, 0).sum(axis=1)).ravel()
    assert flat.reshape(t, n)[:, centre].tolist() == [8, 8, 8, 8]
    two = np.asarray(spacetime.cube_weights(grid.neighbours(), t, 2).sum(axis=1)).ravel()
    assert two.reshape(t, n)[:, centre].tolist() == [8, 17, 26, 26]


def test_cube_z_scores_are_getis_and_ords_against_the_whole_cube() -> None:
    """Reference: Gi* z_i = (sum_j w_ij x_j - xbar W_i) / (S sqrt((n W_i - W_i^2) /
    (n - 1))), xbar and S over every cell of every slice (Getis and Ord 1992, Ord and
    Getis 1995), recomputed with plain numpy."""
    grid = small_grid()
    n, t = len(grid), 5
    rng = np.random.default_rng(7)
    counts = rng.poisson(2.0, size=(n, t)).astype(float)
    when, xy = [], []
    edges = pd.date_range("2025-01-01", periods=t + 1, freq="MS", tz="UTC")
    for i in range(n):
        for k in range(t):
            xy += [grid.centres[i]] * int(counts[i, k])
            when += [edges[k] + pd.Timedelta(days=3)] * int(counts[i, k])
    xy_arr = np.array(xy)
    events = gpd.GeoDataFrame({"when": pd.DatetimeIndex(when)},
                              geometry=gpd.points_from_xy(xy_arr[:, 0], xy_arr[:, 1]),
                              crs=grid.crs).to_crs(4326)
    got = em.analyse(events, grid=grid, start=edges[0], end=edges[-1])
    assert got.slices == t and np.array_equal(got.counts, counts)
    x = counts.T.ravel()  # slice-major, as the cube is laid out
    wfull = spacetime.cube_weights(grid.neighbours(), t, 1).toarray() + np.eye(n * t)
    xbar, s = x.mean(), math.sqrt((x ** 2).mean() - x.mean() ** 2)
    wi = wfull.sum(axis=1)
    ref = (wfull @ x - xbar * wi) / (s * np.sqrt((len(x) * wi - wi ** 2) / (len(x) - 1)))
    assert np.allclose(got.z, ref.reshape(t, n).T)


def test_conditional_moments_equal_an_enumeration_of_every_draw() -> None:
    """Reference: every k-subset of the other values enumerated (itertools), its sums'
    mean and population variance computed directly."""
    from itertools import combinations

    import scipy.sparse as sp

    y = np.array([0.0, 3, 1, 4, 1, 5, 9, 2])
    n = len(y)
    rows = {0: [1, 2, 3], 4: [0, 5], 7: [1, 2, 3, 4, 5]}
    w = sp.lil_matrix((n, n))
    for i, js in rows.items():
        w[i, js] = 1.0
    mean, var = spacetime.conditional_moments(y, w.tocsr())
    for i, js in rows.items():
        others = np.delete(y, i)
        sums = np.array([sum(c) for c in combinations(others, len(js))])
        assert mean[i] == pytest.approx(sums.mean())
        assert var[i] == pytest.approx(sums.var())


def test_cube_significance_matches_esdas_permutation_test() -> None:
    """Reference: esda's conditional permutation test (through cpted.hotspots.gi_star,
    9,999 permutations) on a small cube; the exact moments remove its simulation noise,
    so the two-sided p-values agree to within that noise."""
    grid = small_grid()
    t = 4
    rng = np.random.default_rng(11)
    y = rng.poisson(1.5, size=len(grid) * t).astype(float)
    y[[6, 7, 11, 12, 31, 32]] += 6  # something to find
    w = spacetime.cube_weights(grid.neighbours(), t, 1)
    ours = spacetime.cube_gi(y, w)
    ref = hs.gi_star(y, w, permutations=9999)
    assert np.allclose(ours.z, ref.z)
    assert np.abs(ours.p - ref.p).max() < 0.03
    assert np.corrcoef(ours.p, ref.p)[0, 1] > 0.999
    assert (ours.bins > 0).sum() > 0 and np.array_equal(ours.bins > 0, ref.bins > 0)


# -- every class on a planted space-time pattern ------------------------------------------

T = 20
BACKGROUND = 6
HIGH = 18


def planted(kind: str) -> NDArrayInt:
    """Records per slice in a 3 x 3 block of cells, for each class."""
    t = np.arange(T)
    s = np.full(T, BACKGROUND)
    if kind == "new hot":
        s[-1] = HIGH + 6
    elif kind == "consecutive hot":
        s[16:] = HIGH
    elif kind == "intensifying hot":
        s = 12 + t
    elif kind == "persistent hot":
        s = HIGH + t % 2
    elif kind == "diminishing hot":
        s = 31 - t
    elif kind == "sporadic hot":
        s[[3, 9, 14, 19]] = HIGH + 6
    elif kind == "oscillating hot":
        s[2:7] = 0
        s[-1] = HIGH + 6
    elif kind == "historical hot":
        s[:18] = HIGH
    elif kind == "new cold":
        s[-1] = 0
    elif kind == "consecutive cold":
        s[16:] = 0
    elif kind == "intensifying cold":
        s = np.repeat([2, 1, 0], [7, 7, 6])
    elif kind == "persistent cold":
        s = t % 2
    elif kind == "diminishing cold":
        s = np.repeat([0, 1, 2], [7, 7, 6])
    elif kind == "sporadic cold":
        s[[3, 9, 14, 19]] = 0
    elif kind == "oscillating cold":
        s[2:7] = HIGH
        s[-1] = 0
    elif kind == "historical cold":
        s[:18] = 0
    return s


KINDS = [p.value.lower().replace(" spot", "") for p in Pattern if p is not Pattern.NONE]


@pytest.fixture(scope="module")
def planted_cube() -> tuple[em.Emerging, dict[str, int], NDArrayInt]:
    """Sixteen 3 x 3 blocks, one per class, two background cells apart, on a background of
    6 records per cell and month; one more block stays background. Events sit at their
    cells' centres, spread through their month, in WGS84."""
    grid = small_grid(25)
    counts = np.full((len(grid), T), BACKGROUND)
    centre_of: dict[str, int] = {}
    for k, kind in enumerate([*KINDS, "no pattern"]):
        r0, c0 = divmod(k, 5)[0] * 5 + 1, divmod(k, 5)[1] * 5 + 1
        rr, cc = np.meshgrid(np.arange(r0, r0 + 3), np.arange(c0, c0 + 3), indexing="ij")
        counts[grid._find(rr.ravel(), cc.ravel())] = planted(kind)
        centre_of[kind] = int(grid._find(np.array([r0 + 1]), np.array([c0 + 1]))[0])
    edges = pd.date_range("2025-01-01", periods=T + 1, freq="MS", tz="America/Chicago")
    xy, when = [], []
    for i in range(len(grid)):
        for k in range(T):
            m = int(counts[i, k])
            xy += [grid.centres[i]] * m
            when += [edges[k] + (j + 0.5) / m * (edges[k + 1] - edges[k]) for j in range(m)]
    xy_arr = np.array(xy)
    events = gpd.GeoDataFrame({"when": pd.DatetimeIndex(when).tz_convert("UTC"),
                               "weight": 1.0},
                              geometry=gpd.points_from_xy(xy_arr[:, 0], xy_arr[:, 1]),
                              crs=grid.crs).to_crs(4326)
    found = em.analyse(events, grid=grid, tz="America/Chicago", start=edges[0], end=edges[-1])
    return found, centre_of, counts


@pytest.mark.parametrize("kind", [*KINDS, "no pattern"])
def test_each_class_is_found_on_its_planted_space_time_pattern(
        planted_cube: tuple[em.Emerging, dict[str, int], NDArrayInt], kind: str) -> None:
    found, centre_of, _ = planted_cube
    got = found.patterns[centre_of[kind]]
    expected = Pattern.NONE if kind == "no pattern" else Pattern(
        kind.capitalize().replace(" hot", " hot spot").replace(" cold", " cold spot"))
    assert got is expected, (kind, found.bins[centre_of[kind]], found.trend.p[centre_of[kind]])


def test_the_planted_cube_keeps_every_record_and_says_what_it_did(
        planted_cube: tuple[em.Emerging, dict[str, int], NDArrayInt]) -> None:
    found, centre_of, counts = planted_cube
    assert found.slices == T and np.array_equal(found.counts, counts)
    assert found.n_events == counts.sum() and found.n_before == found.n_undated == 0
    table = found.counts_by_pattern()
    assert list(table["pattern"]) == [p.value for p in Pattern]
    assert (table.set_index("pattern")["cells"].drop(Pattern.NONE.value) >= 1).all()
    assert table["cells"].sum() == len(found.grid)
    frame = found.frame()
    row = frame.iloc[centre_of["intensifying hot"]]
    assert (row["pattern"], row["trend"], row["hot_slices"]) == ("Intensifying hot spot",
                                                                  "rising", T)
    assert row["events"] == counts[centre_of["intensifying hot"]].sum()
    assert "20 months from 2025-01-01 to 2026-08-31" in found.describe()
    assert "neighbours in the same month and the month before it" in found.describe()


def test_undated_events_and_events_outside_the_slices_are_left_out_and_counted() -> None:
    grid = small_grid()
    c = grid.centres[12]
    pts = gpd.points_from_xy([c[0]] * 7, [c[1]] * 7, crs=grid.crs).to_crs(4326)
    when = pd.to_datetime(["2025-01-10", "2025-02-10", "2025-03-10", "2025-04-10",
                           "2025-05-10", "2024-06-01", None], utc=True)
    events = gpd.GeoDataFrame({"when": when}, geometry=pts)
    other = gpd.GeoDataFrame({"when": pd.to_datetime(["2025-02-11", "2025-03-12"], utc=True)},
                             geometry=gpd.points_from_xy([grid.centres[0][0]] * 2,
                                                         [grid.centres[0][1]] * 2,
                                                         crs=grid.crs).to_crs(4326))
    both = gpd.GeoDataFrame(pd.concat([events, other], ignore_index=True), crs=4326)
    got = em.analyse(both, grid=grid, start=pd.Timestamp("2025-01-01", tz="UTC"),
                     end=pd.Timestamp("2025-06-01", tz="UTC"))
    assert (got.slices, got.n_events, got.n_undated, got.n_before) == (5, 7, 1, 1)
    assert "1 without a date" in got.describe() and "1 outside the whole months" in \
        got.describe()


def test_demographic_fields_are_refused() -> None:
    grid = small_grid()
    events = gpd.GeoDataFrame({"when": pd.to_datetime(["2025-01-10"], utc=True),
                               "suspect_race": ["x"]},
                              geometry=gpd.points_from_xy([-94.5], [39.0], crs=4326))
    with pytest.raises(hs.HotspotError, match="suspect_race"):
        em.analyse(events, grid=grid)


# -- the map ---------------------------------------------------------------------------

def test_the_map_colours_each_class_and_says_so_in_words(
        planted_cube: tuple[em.Emerging, dict[str, int], NDArrayInt]) -> None:
    found, _, _ = planted_cube
    frame = found.frame()
    frame.loc[0, "meaning"] = "<script>alert(1)</script>"  # text is escaped wherever drawn
    fmap = build_emerging_map(frame, slice_length="month")
    page = fmap.get_root().render()
    from cpted.maps import PATTERN_COLOURS

    for pattern, colour in PATTERN_COLOURS.items():
        assert colour in page and pattern.value in page
    assert "<script>alert(1)</script>" not in page
    text = text_of(fmap)
    assert text is not None
    assert "1 new hot spot cell" in text.summary or "new hot spot cells" in text.summary
    [rows] = text.tables
    assert len(rows.rows) == int((frame["pattern"] != Pattern.NONE.value).sum())
    assert rows.rows["Pattern"].iloc[0] == Pattern.NEW_HOT.value  # ArcGIS's order
    assert {"Pattern", "What it means", "Trend", "Latitude", "Longitude"} <= set(
        rows.rows.columns)


# -- the command line --------------------------------------------------------------------

def test_cli_hotspots_emerging_writes_the_classes_and_counts_them(
        sample_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "emerging.geojson"
    assert main(["hotspots", "--db", str(sample_db), "--method", "emerging", "--slice",
                 "month", "--source", "concerns", "--source", "night:2",
                 "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "months from" in text and "Mann-Kendall" in text
    lines = {line.split(":")[0].strip(): line for line in text.splitlines()
             if line.startswith("  ")}
    assert set(lines) == {p.value for p in Pattern}
    cells = gpd.read_file(out)
    printed = {p: int(lines[p].split(":")[1].split("(")[0].replace(",", ""))
               for p in lines}
    assert len(cells) == sum(n for p, n in printed.items() if p != Pattern.NONE.value)
    assert cells["pattern"].value_counts().to_dict() == {
        p: n for p, n in printed.items() if n and p != Pattern.NONE.value}
    assert f"wrote {len(cells):,} cell(s) with a pattern" in text
    # weeks work too
    assert main(["hotspots", "--db", str(sample_db), "--method", "emerging", "--slice",
                 "week", "--source", "concerns", "--since",
                 "2026-01-01", "--until", "2026-06-30", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "25 weeks from 2026-01-06 to 2026-06-29" in text, text  # --until is exclusive
    # a test period makes no sense for a description of the whole period
    assert main(["hotspots", "--db", str(sample_db), "--method", "emerging",
                 "--evaluate-after", "2026-01-01", "--out", str(out)]) == 1
    assert "--evaluate-after" in capsys.readouterr().err
