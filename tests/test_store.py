"""Store contract tests: what any backend must do, run on the embedded GeoPackage and on a
PostgreSQL + PostGIS server the test session starts itself."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal

from layers import migrations
from layers.errors import StoreError
from layers.schema import Layer
from layers.store import Store, open_store


def concerns(n: int, start: int = 0) -> gpd.GeoDataFrame:
    t0 = pd.Timestamp("2025-03-01 12:00", tz="UTC")
    return gpd.GeoDataFrame({
        "service_request_id": [f"c{i}" for i in range(start, start + n)],
        "service_code": ["graffiti" if i % 2 else "dark_area" for i in range(start, start + n)],
        "service_name": ["Graffiti" if i % 2 else "Dark area" for i in range(start, start + n)],
        "description": [f"report {i} with 'quotes'; DROP TABLE concerns; --"
                        for i in range(start, start + n)],
        "address": None,
        "requested_datetime": [t0 + pd.Timedelta(days=i) for i in range(start, start + n)],
        "updated_datetime": pd.NaT,
        "status": ["open"] * n,
        "detailed_status": ["submitted"] * n,
        "time_of_day": ["night"] * n,
        "source": ["test"] * n,
        "attributes": None,
    }, geometry=[shapely.Point(-94.58 + i * 1e-4, 39.04) for i in range(start, start + n)],
        crs=4326)


@pytest.fixture
def store(any_store: Store) -> Store:
    return any_store


def snapshot(store: Store) -> dict[str, object]:
    return {layer.value: store.read(layer).to_wkt().to_csv() for layer in Layer}


def test_add_and_read_round_trip(store: Store) -> None:
    df = concerns(5)
    assert store.add(Layer.CONCERNS, df) == 5
    back = store.read(Layer.CONCERNS)
    expected = df.copy()
    expected["updated_datetime"] = pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns, UTC]")
    back["requested_datetime"] = back["requested_datetime"].astype("datetime64[ns, UTC]")
    back["updated_datetime"] = back["updated_datetime"].astype("datetime64[ns, UTC]")
    assert_geodataframe_equal(back, expected, check_dtype=False, check_like=True)


def test_polygons_round_trip_through_geopackage_blobs(store: Store) -> None:
    hoods = gpd.GeoDataFrame(
        {"id": ["a"], "name": ["A"], "population": [1200]},
        geometry=[shapely.MultiPolygon([shapely.box(-94.58, 39.04, -94.57, 39.05)])], crs=4326)
    store.add(Layer.NEIGHBORHOODS, hoods)
    back = store.read(Layer.NEIGHBORHOODS)
    assert back.geometry.iloc[0].equals_exact(hoods.geometry.iloc[0], 0)
    assert int(back["population"].iloc[0]) == 1200


def test_gdal_opens_the_store_as_a_geopackage(tmp_path: Path) -> None:
    store = open_store(tmp_path / "g.gpkg")
    store.add(Layer.CONCERNS, concerns(3))
    assert store.path is not None
    layers = dict(pyogrio.list_layers(store.path))
    assert layers["concerns"] == "Point"
    assert layers["neighborhoods"] == "MultiPolygon"
    via_gdal = pyogrio.read_dataframe(store.path, layer="concerns")
    assert list(via_gdal["service_request_id"]) == ["c0", "c1", "c2"]
    assert via_gdal.crs.to_epsg() == 4326
    assert via_gdal.geometry.iloc[1].equals(shapely.Point(-94.5799, 39.04))
    info = pyogrio.read_info(store.path, layer="concerns")
    assert info["features"] == 3
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("PRAGMA application_id").fetchone()[0] == 0x47504B47


def test_ids_already_stored_refuse_the_whole_write(store: Store) -> None:
    store.add(Layer.CONCERNS, concerns(3))
    before = snapshot(store)
    with pytest.raises(StoreError, match="1 id"):
        store.add(Layer.CONCERNS, concerns(3, start=2))
    assert snapshot(store) == before


def test_on_conflict_skip_and_replace(store: Store) -> None:
    store.add(Layer.CONCERNS, concerns(3))
    newer = concerns(3, start=2)
    newer["description"] = "newer"
    assert store.add(Layer.CONCERNS, newer, on_conflict="skip") == 2
    got = store.read(Layer.CONCERNS).set_index("service_request_id")["description"]
    assert got["c2"].startswith("report 2") and got["c4"] == "newer"
    store.add(Layer.CONCERNS, newer, on_conflict="replace")
    got = store.read(Layer.CONCERNS).set_index("service_request_id")["description"]
    assert got["c2"] == "newer" and len(got) == 5


def test_a_write_that_fails_half_way_leaves_the_store_unchanged(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    import layers.store as store_mod

    store.add(Layer.CONCERNS, concerns(4))
    before = snapshot(store)
    revision = store.revision()
    monkeypatch.setattr(store_mod, "CHUNK_ROWS", 10)
    seen: list[int] = []

    def boom(done: int, total: int) -> None:
        seen.append(done)
        if done >= 30:
            raise RuntimeError("disk unplugged")

    with pytest.raises(RuntimeError, match="disk unplugged"):
        store.add(Layer.CONCERNS, concerns(100, start=10), progress=boom)
    assert seen == [0, 10, 20, 30]  # three batches were written before the failure
    assert snapshot(store) == before
    assert store.revision() == revision


def test_a_database_constraint_failure_rolls_back_everything(store: Store,
                                                             monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    import layers.store as store_mod

    monkeypatch.setattr(store_mod, "CHUNK_ROWS", 5)
    bad = concerns(20)
    bad.loc[15, "service_code"] = None  # NOT NULL column: fails in the fourth batch
    with pytest.raises(StoreError, match="nothing was stored"):
        store.add(Layer.CONCERNS, bad)
    assert store.count(Layer.CONCERNS) == 0


def test_filters_are_applied_in_the_query(store: Store) -> None:
    store.add(Layer.CONCERNS, concerns(10))
    assert store.count(Layer.CONCERNS, where={"service_code": ["graffiti"]}) == 5
    got = store.read(Layer.CONCERNS, where={"service_code": ["dark_area"]},
                     time=("requested_datetime", pd.Timestamp("2025-03-03", tz="UTC"),
                           pd.Timestamp("2025-03-07 12:00", tz="UTC")))
    # c6 was reported at exactly the end, which is excluded: start <= t < end.
    assert list(got["service_request_id"]) == ["c2", "c4"]


def test_pages_of_a_read_follow_the_stored_order(store: Store) -> None:
    store.add(Layer.CONCERNS, concerns(10))
    store.add(Layer.CONCERNS, concerns(3, start=10))
    graffiti = {"service_code": ["graffiti"]}
    whole = list(store.read(Layer.CONCERNS, where=graffiti)["service_request_id"])
    assert whole == ["c1", "c3", "c5", "c7", "c9", "c11"]
    pages = [list(store.read(Layer.CONCERNS, where=graffiti, limit=4, offset=k)
                  ["service_request_id"]) for k in (0, 4, 8)]
    assert pages == [whole[:4], whole[4:], []]
    # a box is filtered before the page is taken, on both backends
    box = (-94.58 + 2.5e-4, 39.0, -94.58 + 8.5e-4, 39.1)  # c3 .. c8
    got = store.read(Layer.CONCERNS, bbox=box, limit=2, offset=1)
    assert list(got["service_request_id"]) == ["c4", "c5"]
    assert list(got.index) == [0, 1]
    with pytest.raises(StoreError, match="limit and offset"):
        store.read(Layer.CONCERNS, offset=-1)


def test_text_with_sql_and_quotes_is_stored_literally(store: Store) -> None:
    df = concerns(1)
    nasty = "Robert'); DROP TABLE concerns;-- \"x\" \\ %s ? :name"
    df["description"] = nasty
    df["service_request_id"] = "id' OR '1'='1"
    store.add(Layer.CONCERNS, df)
    assert store.read(Layer.CONCERNS)["description"].iloc[0] == nasty
    assert store.read(Layer.CONCERNS, ids=["id' OR '1'='1"]).shape[0] == 1
    assert store.read(Layer.CONCERNS, ids=["x' OR '1'='1"]).shape[0] == 0


def test_migrations_are_recorded_and_not_rerun(tmp_path: Path) -> None:
    path = tmp_path / "m.gpkg"
    with open_store(path) as s:
        assert s.schema_version() == migrations.LATEST
        s.add(Layer.CONCERNS, concerns(2))
    with open_store(path) as s:  # reopening applies nothing and keeps data
        assert s.count(Layer.CONCERNS) == 2
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT version FROM cpted_migrations").fetchall()
    assert rows == [(v,) for v, _, _ in migrations.MIGRATIONS]


def test_a_database_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.gpkg"
    open_store(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO cpted_migrations VALUES (999, 'future', 'x')")
    with pytest.raises(StoreError, match="newer than this program"):
        open_store(path)


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    with pytest.raises(StoreError, match="not a GeoPackage"):
        open_store(path)


def test_someone_elses_database_is_not_taken_over(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER)")
    with pytest.raises(StoreError, match="did not create"):
        open_store(path)


def test_plain_paths_of_any_name_and_sqlite_urls_work(tmp_path: Path) -> None:
    with open_store(tmp_path / "sub" / "my.db") as s:
        s.add(Layer.CONCERNS, concerns(1))
    with open_store(f"sqlite:///{tmp_path / 'sub' / 'my.db'}") as s:
        assert s.count(Layer.CONCERNS) == 1


def test_default_location_comes_from_the_environment(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CPTED_DB_URL", str(tmp_path / "env.gpkg"))
    with open_store() as s:
        assert s.path == tmp_path / "env.gpkg"


def test_revision_changes_on_every_write(store: Store) -> None:
    r0 = store.revision()
    store.add(Layer.CONCERNS, concerns(1))
    r1 = store.revision()
    store.delete(Layer.CONCERNS, ["c0"])
    assert r0 < r1 < store.revision()
    assert store.count(Layer.CONCERNS) == 0


def test_missing_text_reads_back_as_none_not_nan(store: Store) -> None:
    store.add(Layer.CONCERNS, concerns(2))  # address and attributes are None
    got = store.read(Layer.CONCERNS)
    assert got["address"].tolist() == [None, None]
    assert got["attributes"].tolist() == [None, None]


def test_counts_within_polygons_match_the_overlay(store: Store) -> None:
    """PostGIS counts in SQL; both backends must agree with cpted.overlay.counts (an STRtree
    over the same shapes), including the rule for a point on a shared boundary."""
    from cpted.overlay import counts

    hoods = gpd.GeoDataFrame(
        {"id": ["west", "east", "empty"], "name": ["W", "E", "Nothing"]},
        geometry=[shapely.box(-94.60, 39.00, -94.58, 39.02),
                  shapely.box(-94.58, 39.00, -94.56, 39.02),
                  shapely.box(-94.50, 39.00, -94.49, 39.01)], crs=4326)
    store.add(Layer.NEIGHBORHOODS, hoods)
    pts = concerns(8)
    pts["geometry"] = [shapely.Point(x, y) for x, y in [
        (-94.59, 39.01), (-94.595, 39.015), (-94.57, 39.01), (-94.58, 39.01),  # on the edge
        (-94.565, 39.005), (-94.40, 39.01), (-94.59, 39.019), (-94.575, 39.001)]]
    store.add(Layer.CONCERNS, pts)
    got = store.counts_within(Layer.CONCERNS, Layer.NEIGHBORHOODS)
    reference = counts(store.read(Layer.CONCERNS).geometry,
                       store.read(Layer.NEIGHBORHOODS).geometry)
    assert got == dict(zip(["west", "east", "empty"], reference.tolist(), strict=True))
    assert got == {"west": 4, "east": 3, "empty": 0}  # the edge point goes to the first, west
    only = store.counts_within(Layer.CONCERNS, Layer.NEIGHBORHOODS,
                               where={"service_code": ["graffiti"]})
    assert only == {"west": 2, "east": 1, "empty": 0}  # c1, c3 (the edge) and c7
