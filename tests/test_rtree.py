"""The GeoPackage R-tree index (``gpkg_rtree_index``, OGC 12-128r18 Annex F.3): present,
used, kept right by its triggers, and read by GDAL too.

The reference for "right" is independent of the index: each row's envelope recomputed by
shapely from the stored geometry, and GDAL's own bbox filter through pyogrio.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pyogrio
import pytest
import shapely
import sqlalchemy as sa

from benchmarks.store_bench import generate
from cpted.sample import load_sample
from layers import backup, migrations, rtree
from layers.schema import Layer
from layers.store import open_store
from layers.tables import TABLES


def indexed(path: Path, table: str = "concerns") -> dict[int, tuple[float, ...]]:
    with sqlite3.connect(path) as c:
        return {r[0]: tuple(r[1:]) for r in c.execute(
            f"SELECT id, minx, maxx, miny, maxy FROM rtree_{table}_geom")}


def envelopes(path: Path, table: str = "concerns") -> dict[int, tuple[float, ...]]:
    """Every non-empty stored geometry's envelope, computed by shapely (no index)."""
    with open_store(path, upgrade=False) as s, s.engine.connect() as conn:
        rows = conn.execute(sa.text(f'SELECT fid, geom FROM "{table}"')).fetchall()
        geoms = s.decode_geoms([r[1] for r in rows])
    out = {}
    for (fid, _), g in zip(rows, geoms, strict=True):
        if g is not None and not g.is_empty:
            x0, y0, x1, y1 = g.bounds
            out[fid] = (x0, x1, y0, y1)
    return out


def same(a: dict[int, tuple[float, ...]], b: dict[int, tuple[float, ...]]) -> None:
    assert a.keys() == b.keys()
    for k in a:  # an R-tree stores 32-bit floats, rounded outwards
        assert np.allclose(a[k], b[k], atol=1e-5), (k, a[k], b[k])


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    path = tmp_path / "s.gpkg"
    with open_store(path) as s:
        load_sample(s)
        s.add(Layer.CONCERNS, generate(3_000, s.read(Layer.NEIGHBORHOODS)))
    return path


def test_every_feature_table_has_the_extension_its_index_and_triggers(store_path: Path) -> None:
    with sqlite3.connect(store_path) as c:
        ext = set(c.execute("SELECT table_name, column_name, extension_name, scope "
                            "FROM gpkg_extensions"))
        names = {r[0] for r in c.execute("SELECT name FROM sqlite_master")}
    tables = [*(TABLES[layer].name for layer in Layer), "assessments"]
    for t in tables:
        assert (t, "geom", "gpkg_rtree_index", "write-only") in ext
        assert f"rtree_{t}_geom" in names
        for suffix in rtree.TRIGGERS:
            assert f"rtree_{t}_geom_{suffix}" in names
    same(indexed(store_path), envelopes(store_path))
    same(indexed(store_path, "streets"), envelopes(store_path, "streets"))


def test_a_map_window_is_answered_through_the_index(store_path: Path) -> None:
    with open_store(store_path) as s:
        t = TABLES[Layer.CONCERNS]
        q = sa.select(t.c.fid).where(t.c.fid.in_(rtree.window(t.name, -94.6, 39.0, -94.5, 39.1)))
        with s.engine.connect() as conn:
            sql = str(q.compile(conn, compile_kwargs={"literal_binds": True}))
            plan = " ".join(str(r[-1]) for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
    assert "VIRTUAL TABLE INDEX" in plan and "rtree_concerns_geom" in plan, plan


def test_a_window_returns_what_gdal_and_a_full_scan_return(store_path: Path) -> None:
    with open_store(store_path) as s:
        everything = s.read(Layer.CONCERNS)
        minx, miny, maxx, maxy = everything.total_bounds
        box = (minx + 0.3 * (maxx - minx), miny + 0.3 * (maxy - miny),
               minx + 0.6 * (maxx - minx), miny + 0.5 * (maxy - miny))
        window = s.read(Layer.CONCERNS, bbox=box)
        page = s.read(Layer.CONCERNS, bbox=box, limit=10, offset=5)
    scan = everything[shapely.intersects(everything.geometry.values, shapely.box(*box))]
    assert 0 < len(window) < len(everything)
    assert list(window["service_request_id"]) == list(scan["service_request_id"])
    assert list(page["service_request_id"]) == list(scan["service_request_id"][5:15])
    info = pyogrio.read_info(store_path, layer="concerns")
    assert info["capabilities"]["fast_spatial_filter"]  # GDAL sees the index
    gdal = pyogrio.read_dataframe(store_path, layer="concerns", bbox=box)
    assert sorted(gdal["service_request_id"]) == sorted(window["service_request_id"])


def test_the_index_stays_right_after_inserts_updates_deletes_and_a_restore(
        store_path: Path, tmp_path: Path) -> None:
    with open_store(store_path) as s:
        hoods = s.read(Layer.NEIGHBORHOODS)
        s.add(Layer.CONCERNS, generate(500, hoods, seed=11).assign(
            service_request_id=[f"X{i}" for i in range(500)]))
        ids = s.read(Layer.CONCERNS)["service_request_id"].tolist()
        s.delete(Layer.CONCERNS, ids[:200])
        moved = s.encode_geoms(np.array([shapely.Point(-94.55, 39.05)], dtype=object))[0]
        with s.transaction() as conn:  # a geometry moved, one emptied, a key changed
            conn.execute(sa.text("UPDATE concerns SET geom = :g WHERE service_request_id = :i"),
                         {"g": moved, "i": ids[300]})
            conn.execute(sa.text("UPDATE concerns SET geom = NULL WHERE service_request_id = :i"),
                         {"i": ids[301]})
            conn.execute(sa.text("UPDATE concerns SET fid = fid + 100000 "
                                 "WHERE service_request_id = :i"), {"i": ids[302]})
    same(indexed(store_path), envelopes(store_path))
    assert indexed(store_path)[  # the moved one is indexed where it now is
        next(k for k, v in envelopes(store_path).items() if v == (-94.55, -94.55, 39.05, 39.05))]
    saved = tmp_path / "backup.gpkg"
    with open_store(store_path) as s:
        backup.backup(s, saved)
    fresh = tmp_path / "restored.gpkg"
    with open_store(fresh) as s:
        backup.restore(s, saved)
    same(indexed(fresh), envelopes(fresh))
    assert len(indexed(fresh)) == len(envelopes(store_path))


def test_an_older_store_gets_its_index_filled_by_the_migration(tmp_path: Path) -> None:
    path = tmp_path / "old.gpkg"
    with open_store(path, upgrade=False) as s, s.engine.begin() as conn:
        for number, description, step in migrations.MIGRATIONS[:7]:
            step(conn)
            conn.execute(sa.text("INSERT INTO cpted_migrations VALUES (:v, :d, 'then')"),
                         {"v": number, "d": description})
    with open_store(path, upgrade=False) as s:
        load_sample(s)
    with sqlite3.connect(path) as c:
        assert not c.execute("SELECT 1 FROM sqlite_master WHERE name LIKE 'rtree_%'").fetchall()
    with open_store(path) as s:  # upgrades to the latest version
        assert s.schema_version() == migrations.LATEST
    same(indexed(path), envelopes(path))
    assert len(indexed(path)) > 1000


def test_envelopes_of_every_blob_kind() -> None:
    point, line = shapely.Point(1.5, 2.5), shapely.LineString([(0, 0), (3, 4)])
    from layers import gpkg

    blobs = gpkg.encode(np.array([point, line, shapely.Point(), None], dtype=object))
    assert rtree.envelope(blobs[0]) == (1.5, 1.5, 2.5, 2.5)
    assert rtree.envelope(blobs[1]) == (0.0, 3.0, 0.0, 4.0)
    assert rtree.envelope(blobs[2]) is None  # empty
    assert rtree.envelope(blobs[3]) is None
    assert rtree.envelope(b"not a geometry") is None
