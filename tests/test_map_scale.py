"""The Map page's large-layer paths: point blobs decoded straight into coordinate arrays,
counts and newest rows from SQL, cells counted on arrays, and the public's points still
blurred by the access layer."""

from __future__ import annotations

import os
import re
import struct
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from streamlit.testing.v1 import AppTest

from cpted import accounts as acc
from cpted.access import Access
from cpted.accounts import Actor
from cpted.maps import MapLayers, aggregate_points, build_map, cell_size_for
from cpted.privacy import Role
from layers import gpkg
from layers.points import Points
from layers.schema import Layer
from layers.store import Store, open_store
from tests.conftest import ROOT
from tests.test_store import concerns

EDGE_CASES = [
    shapely.Point(-94.58, 39.04),
    None,
    shapely.Point(),  # empty
    shapely.Point(-94.57, 39.05, 12.0),  # 3D: another layout
    shapely.box(-94.58, 39.04, -94.57, 39.05),  # not a point
    shapely.LineString([(-94.58, 39.04), (-94.56, 39.04)]),
    shapely.Point(180.0, -90.0),
]


def sorted_rows(xy: np.ndarray) -> np.ndarray:
    return np.asarray(sorted(map(tuple, np.asarray(xy))), dtype=float).reshape(-1, 2)


def shapely_xy(geoms: list[shapely.Geometry | None]) -> np.ndarray:
    """What the decoder should give, computed by shapely alone."""
    out = np.full((len(geoms), 2), np.nan)
    for i, g in enumerate(geoms):
        if g is None or g.is_empty:
            continue
        p = g if g.geom_type == "Point" else shapely.point_on_surface(g)
        out[i] = (p.x, p.y)
    return out


def test_the_array_decoder_equals_shapely_on_points_empties_and_nulls() -> None:
    blobs = gpkg.encode(np.array(EDGE_CASES, dtype=object))
    got = gpkg.point_coordinates(blobs)
    np.testing.assert_array_equal(got, shapely_xy(EDGE_CASES))
    # and on what shapely decodes from the same blobs
    back = gpkg.decode(blobs)
    np.testing.assert_array_equal(got, shapely_xy(list(back)))


def test_the_fixed_layout_is_read_without_shapely_and_others_with_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    points = [shapely.Point(-94.5 + i * 1e-3, 39.0 + i * 1e-3) for i in range(50)]
    blobs = gpkg.encode(np.array(points, dtype=object))
    assert {len(b or b"") for b in blobs} == {gpkg.POINT_BLOB_BYTES}

    def no_shapely(_blobs: object) -> None:
        raise AssertionError("points of the fixed layout went through shapely")

    monkeypatch.setattr(gpkg, "decode", no_shapely)
    np.testing.assert_array_equal(gpkg.point_coordinates(blobs),
                                  shapely.get_coordinates(np.array(points)))
    # a big-endian point (as another program may write it) is not the fixed layout
    big = b"GP\x00\x00" + struct.pack(">i", 4326) + shapely.to_wkb(points[0], byte_order=0)
    assert len(big) == gpkg.POINT_BLOB_BYTES
    monkeypatch.undo()
    np.testing.assert_array_equal(gpkg.point_coordinates([big]), [[points[0].x, points[0].y]])


def test_joined_blobs_of_another_layout_are_refused() -> None:
    one = gpkg.encode(np.array([shapely.Point(1, 2)], dtype=object))[0]
    assert one is not None
    np.testing.assert_array_equal(gpkg.point_xy(one + one), [[1, 2], [1, 2]])
    with pytest.raises(ValueError, match="29 bytes each"):
        gpkg.point_xy(one[:-1])
    empty = gpkg.encode(np.array([shapely.Point()], dtype=object))[0]
    assert empty is not None and len(empty) == gpkg.POINT_BLOB_BYTES
    with pytest.raises(ValueError, match="not every blob"):
        gpkg.point_xy(one + empty)


@pytest.fixture
def store(any_store: Store) -> Store:
    return any_store


def test_read_points_gives_every_located_row_of_the_filter(store: Store) -> None:
    rows = concerns(12)
    geoms = list(rows.geometry)
    geoms[3], geoms[4] = None, shapely.Point()  # no location: left out
    if store.dialect == "sqlite":  # PostGIS holds points only; a GeoPackage anything
        geoms[5] = shapely.box(-94.6, 39.0, -94.59, 39.01)  # a point on its surface
    rows = rows.set_geometry(gpd.GeoSeries(geoms, crs=4326))
    store.add(Layer.CONCERNS, rows)
    where = {"service_code": ["graffiti"], "status": ["open"]}
    time = ("requested_datetime", pd.Timestamp("2025-03-02", tz="UTC"), None)
    got = store.read_points(Layer.CONCERNS, where=where, time=time,
                            marked=("service_request_id", ["c5", "c7", "nobody"]))
    frame = store.read(Layer.CONCERNS, where=where, time=time)
    assert list(frame["service_request_id"]) == ["c1", "c3", "c5", "c7", "c9", "c11"]
    expected = shapely_xy(list(frame.geometry))
    expected = expected[~np.isnan(expected).any(axis=1)]
    np.testing.assert_allclose(sorted_rows(got.xy), sorted_rows(expected), rtol=0, atol=1e-9)
    marked = sorted_rows(got.xy[got.marked])
    np.testing.assert_allclose(marked, sorted_rows(shapely_xy(
        list(frame.geometry[frame["service_request_id"].isin(["c5", "c7"])]))), atol=1e-9)
    assert len(store.read_points(Layer.CONCERNS, where={"status": ["closed"]})) == 0


def test_read_points_reads_a_foreign_blob_through_shapely(tmp_path: Path) -> None:
    with open_store(tmp_path / "s.gpkg") as s:
        s.add(Layer.CONCERNS, concerns(3))
        big = b"GP\x00\x00" + struct.pack(">i", 4326) + shapely.to_wkb(
            shapely.Point(-94.0, 39.5), byte_order=0)
        with s.transaction() as conn:
            conn.exec_driver_sql("UPDATE concerns SET geom = ? WHERE service_request_id = 'c1'",
                                 (big,))
        got = s.read_points(Layer.CONCERNS)
    np.testing.assert_allclose(sorted_rows(got.xy),
                               [[-94.58, 39.04], [-94.5798, 39.04], [-94.0, 39.5]], atol=1e-9)


def test_sql_counts_and_newest_rows_equal_the_pandas_filter_on_the_sample(
        sample_store: Store) -> None:
    codes = sample_store.distinct(Layer.CONCERNS, "service_code")[:4]
    where = {"service_code": codes, "status": ["open", "closed"],
             "time_of_day": ["night", "day"]}
    window = ("requested_datetime", pd.Timestamp("2025-01-01", tz="UTC"),
              pd.Timestamp("2026-06-01", tz="UTC"))
    everything = sample_store.read(Layer.CONCERNS)
    when = everything["requested_datetime"]
    mine = everything[everything["service_code"].isin(codes)
                      & everything["status"].isin(["open", "closed"])
                      & everything["time_of_day"].isin(["night", "day"])
                      & (when >= window[1]) & (when < window[2])]
    assert 50 < len(mine) < len(everything)  # the filter takes some and leaves some
    n, among = sample_store.tally(Layer.CONCERNS, where=where, time=window, among={
        "open": {"status": ["open"]}, "night dark": {"time_of_day": ["night"],
                                                     "service_code": ["dark_area"]}})
    assert n == len(mine)
    assert among == {"open": int((mine["status"] == "open").sum()),
                     "night dark": int(((mine["time_of_day"] == "night")
                                        & (mine["service_code"] == "dark_area")).sum())}
    newest = sample_store.read(Layer.CONCERNS, where=where, time=window,
                               newest="requested_datetime", limit=25,
                               columns=["service_request_id", "requested_datetime"])
    expected = mine.sort_values("requested_datetime", ascending=False, kind="stable").head(25)
    assert list(newest["service_request_id"]) == list(expected["service_request_id"])
    assert list(newest.columns) == ["service_request_id", "requested_datetime", "geometry"]
    page2 = sample_store.read(Layer.CONCERNS, where=where, time=window,
                              newest="requested_datetime", limit=25, offset=25)
    assert list(page2["service_request_id"]) == list(
        mine.sort_values("requested_datetime", ascending=False, kind="stable")
        .iloc[25:50]["service_request_id"])


def test_the_public_gets_sensitive_points_generalised_and_staff_exact(
        sample_store: Store) -> None:
    public = Access(sample_store, acc.public("b"))
    staff = Access(sample_store, Actor("c", "C", Role.COORDINATOR))
    sensitive = public.sensitive_codes()
    raw = sample_store.read(Layer.CONCERNS)
    assert raw["service_code"].isin(list(sensitive)).sum() > 10
    seen = public.layer(Layer.CONCERNS)  # the frames the other pages show the public
    pts = public.concern_points()
    # the same places as the public's frame: sensitive ones at their cell's centre
    np.testing.assert_allclose(sorted_rows(pts.xy),
                               sorted_rows(shapely.get_coordinates(seen.geometry.values)),
                               atol=1e-9)
    blurred = seen[seen["service_code"].isin(list(sensitive))]
    np.testing.assert_allclose(sorted_rows(pts.xy[pts.marked]),
                               sorted_rows(shapely.get_coordinates(blurred.geometry.values)),
                               atol=1e-9)
    exact = shapely.get_coordinates(raw[raw["service_code"].isin(list(sensitive))]
                                    .geometry.values)
    assert not {tuple(p) for p in exact} & {tuple(p) for p in pts.xy}
    # staff see every place as stored
    np.testing.assert_allclose(sorted_rows(staff.concern_points().xy),
                               sorted_rows(shapely.get_coordinates(raw.geometry.values)),
                               atol=1e-9)


def many(n: int, seed: int = 3) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    return gpd.GeoDataFrame(
        {"service_code": "x", "service_name": "X", "status": "open"}, index=range(n),
        geometry=gpd.points_from_xy(-94.6 + rng.random(n) * 0.05, 39.0 + rng.random(n) * 0.05),
        crs=4326)


def test_cells_from_arrays_equal_cells_from_the_frame() -> None:
    frame = many(20_000)
    pts = Points(shapely.get_coordinates(frame.geometry.values))
    assert cell_size_for(pts, cell_m=100, max_cells=200) == cell_size_for(
        frame, cell_m=100, max_cells=200) > 100
    a = aggregate_points(pts, cell_m=150)
    b = aggregate_points(frame, cell_m=150)
    assert a["count"].sum() == len(frame)
    key = [(round(g.bounds[0], 9), round(g.bounds[1], 9), c)
           for g, c in zip(a.geometry, a["count"], strict=True)]
    want = [(round(g.bounds[0], 9), round(g.bounds[1], 9), c)
            for g, c in zip(b.geometry, b["count"], strict=True)]
    assert sorted(key) == sorted(want)
    assert list(a["count"]) == sorted(a["count"], reverse=True)  # most crowded first


def test_the_map_of_arrays_is_the_map_of_the_frame() -> None:
    frame = many(8_000)
    pts = Points(shapely.get_coordinates(frame.geometry.values))
    html_a = build_map(MapLayers(concerns=pts), point_limit=5000).get_root().render()
    html_b = build_map(MapLayers(concerns=frame), point_limit=5000).get_root().render()
    assert "Concerns (8,000, per 150 m cell)" in html_a

    def counts(html: str) -> list[int]:
        return sorted(int(v) for v in re.findall(r'"count": (\d+)', html))

    assert sum(counts(html_a)) == 8_000 and counts(html_a) == counts(html_b)
    with pytest.raises(ValueError, match="give the rows themselves"):
        build_map(MapLayers(concerns=Points(pts.xy[:10])), point_limit=5000)


def test_the_map_page_past_its_point_limit_counts_in_cells_and_lists_the_newest(
        sample_db: Path, monkeypatch: pytest.MonkeyPatch,
        fresh_streamlit_caches: None, map_returns: list[dict[str, object]]) -> None:
    monkeypatch.setenv("CPTED_DB_URL", str(sample_db))
    monkeypatch.setenv("CPTED_MAP_POINT_LIMIT", "500")
    monkeypatch.chdir(ROOT)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Concerns shown"] == "2,000"
    with open_store(os.environ["CPTED_DB_URL"]) as s:
        everything = s.read(Layer.CONCERNS)
    assert metrics["Open"] == f"{int((everything['status'] == 'open').sum()):,}"
    assert any("counted in square cells" in c.value for c in at.caption)
    table = next(d.value for d in at.dataframe if "Concern id" in d.value.columns)
    newest = everything.sort_values("requested_datetime", ascending=False, kind="stable")
    assert list(table["Concern id"]) == list(newest["service_request_id"])  # all 2,000
    # a filter narrows the counts in SQL as it did in pandas
    at.sidebar.multiselect[1].set_value(["open"]).run()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Concerns shown"] == metrics["Open"]
