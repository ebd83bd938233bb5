"""``cpted db upgrade|backup|restore`` on both backends."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from cpted import concerns as cc
from cpted.cli import main
from cpted.concerns import ReportDraft
from layers import backup, migrations
from layers.store import Store, open_store


def contents(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every data table, geometries as WKT, in key order."""
    out = {}
    with store.engine.connect() as conn:
        for t in backup.data_tables():
            if t.name == "cpted_settings":
                continue  # the revision counter differs by design
            order = list(t.primary_key.columns) or list(t.c)
            rows = [dict(r._mapping) for r in conn.execute(sa.select(t).order_by(*order))]
            if "geom" in t.c and rows:
                wkt = store.decode_geoms([r["geom"] for r in rows])
                for r, g in zip(rows, wkt, strict=True):
                    r["geom"] = None if g is None else g.wkt
            out[t.name] = [tuple(bytes(v) if isinstance(v, memoryview) else v
                                 for v in r.values()) for r in rows]
    return out


def test_backup_and_restore_round_trip_through_the_other_backend(
        sample_db: Path, db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The sample district restored into this backend, backed up again: same rows."""
    with open_store(sample_db) as s:
        cc.submit_report(s, ReportDraft("graffiti", -94.58, 39.04, "with contact",
                                        contact_email="a@b.org"))
        original = contents(s)
    assert main(["db", "restore", str(sample_db), "--db", db_url]) == 0
    assert "restored" in capsys.readouterr().out
    out = tmp_path / "backup.gpkg"
    assert main(["db", "backup", "--db", db_url, "--out", str(out)]) == 0
    with open_store(out) as b:
        again = contents(b)
    assert again.keys() == original.keys()
    for name in original:
        assert again[name] == original[name], name
    assert sum(len(v) for v in original.values()) > 1000
    # the restored store goes on working: new rows get new ids
    with open_store(db_url) as s:
        rid = cc.submit_report(s, ReportDraft("graffiti", -94.57, 39.05, "after restore"))
        assert cc.history(s, rid)["kind"].tolist() == ["created"]


def test_restore_refuses_to_replace_data_without_force(
        sample_db: Path, any_store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    cc.submit_report(any_store, ReportDraft("graffiti", -94.58, 39.04, "mine"))
    url = str(any_store.path or any_store.url)
    assert main(["db", "restore", str(sample_db), "--db", url]) == 1
    err = capsys.readouterr().err
    assert "is not empty (" in err and "1 concerns" in err and "--force" in err
    assert any_store.count(cc.Layer.CONCERNS) == 1
    assert main(["db", "restore", str(sample_db), "--db", url, "--force"]) == 0
    assert any_store.count(cc.Layer.CONCERNS) > 100


def test_backup_never_overwrites_by_accident(any_store: Store, tmp_path: Path) -> None:
    out = tmp_path / "b.gpkg"
    out.write_text("precious")
    url = str(any_store.path or any_store.url)
    assert main(["db", "backup", "--db", url, "--out", str(out)]) == 1
    assert out.read_text() == "precious"


def old_store(backend: str, tmp_path: Path, request: pytest.FixtureRequest, *,
              version: int) -> str:
    """A new database migrated only up to schema ``version``; its URL."""
    url = (request.getfixturevalue("pg_server").create_database() if backend == "postgis"
           else str(tmp_path / "old.gpkg"))
    with open_store(url, upgrade=False) as s, s.engine.begin() as conn:
        for number, description, step in migrations.MIGRATIONS[:version]:
            step(conn)
            conn.execute(sa.text("INSERT INTO cpted_migrations VALUES (:v, :d, 'then')"),
                         {"v": number, "d": description})
    return url


def test_upgrade_applies_pending_migrations(backend: str, tmp_path: Path,
                                            request: pytest.FixtureRequest,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    # a store as version 4 of the schema left it: no row versions, no accounts
    url = old_store(backend, tmp_path, request, version=4)
    with open_store(url, upgrade=False) as s, s.engine.begin() as conn:
        for layer in migrations.V1_LAYERS:
            conn.exec_driver_sql(f'ALTER TABLE "{layer.value}" DROP COLUMN version')
    with open_store(url, upgrade=False) as s:
        assert s.schema_version() == 4
        with s.engine.connect() as conn:
            assert "version" not in migrations.column_names(conn, "concerns")
    assert main(["db", "upgrade", "--db", url]) == 0
    printed = capsys.readouterr().out
    assert f"schema version 4 -> {migrations.LATEST} (applied 5, 6, 7, 8, 9, 10, 11)" in printed
    with open_store(url, upgrade=False) as s:
        assert s.schema_version() == migrations.LATEST
        with s.engine.connect() as conn:
            assert "version" in migrations.column_names(conn, "concerns")
    assert main(["db", "upgrade", "--db", url]) == 0
    assert "nothing to apply" in capsys.readouterr().out


def test_v6_makes_old_support_notes_and_sensitive_notes_internal(backend: str, tmp_path: Path,
                                                                 request: pytest.FixtureRequest
                                                                 ) -> None:
    """Notes from before visibility existed: "me too" notes copied the supporter's text,
    and nothing on a sensitive report may reach the public, so both become internal."""
    from layers import tables as wt

    url = old_store(backend, tmp_path, request, version=5)
    with open_store(url, upgrade=False) as s:
        services = cc.services(s)
        sensitive = next(c for c, v in services.items() if v.sensitive)
        plain = next(c for c, v in services.items() if not v.sensitive)
        ids = {}
        for code in (sensitive, plain):
            ids[code] = cc.submit_report(s, ReportDraft(
                service_code=code, description="text", lon=-94.58, lat=39.1,
                answers={a.code: a.values[0] if a.values else "x"
                         for a in services[code].attributes if a.required}))
        with s.engine.begin() as conn:
            for rid in ids.values():
                for kind in ("status", "support"):
                    conn.execute(sa.insert(wt.concern_events).values(
                        service_request_id=rid, at="2026-01-01T00:00:00.000Z", kind=kind,
                        note=f"{kind} note"))
            conn.execute(sa.update(wt.concern_events).values(visibility="internal"))
    with open_store(url) as s, s.engine.connect() as conn:
        e = wt.concern_events
        got = {(r.service_request_id, r.kind): r.visibility for r in conn.execute(
            sa.select(e.c.service_request_id, e.c.kind, e.c.visibility)
            .where(e.c.note.is_not(None)))}
    assert got == {(ids[sensitive], "status"): "internal",
                   (ids[sensitive], "support"): "internal",
                   (ids[plain], "status"): "public",
                   (ids[plain], "support"): "internal"}


def test_v9_adds_parcels_and_street_levels_to_an_old_store(backend: str, tmp_path: Path,
                                                           request: pytest.FixtureRequest
                                                           ) -> None:
    """A store as version 8 left it (no parcels table; streets without level or one-way)
    gets the parcels layer, registered and indexed as every feature table is, and the
    two street columns; its streets are kept."""
    import geopandas as gpd
    import shapely

    from layers import rtree
    from layers.schema import Layer

    url = old_store(backend, tmp_path, request, version=8)
    with open_store(url, upgrade=False) as s, s.engine.begin() as conn:
        for column in ("level", "oneway"):  # v1 now makes streets as they are today
            conn.exec_driver_sql(f'ALTER TABLE streets DROP COLUMN "{column}"')
        conn.execute(sa.text("INSERT INTO streets (id, name, class, geom) "
                             "VALUES ('s1', 'Oak St', 'local', NULL)"))
        assert not sa.inspect(conn).has_table("parcels")
    with open_store(url) as s:
        assert s.schema_version() == migrations.LATEST == 11
        with s.engine.connect() as conn:
            assert {"level", "oneway"} <= migrations.column_names(conn, "streets")
            if backend == "embedded":
                assert conn.execute(sa.text(
                    "SELECT data_type, description FROM gpkg_contents "
                    "WHERE table_name = 'parcels'")).one() == ("features", "Parcels")
                assert conn.execute(sa.text(
                    "SELECT geometry_type_name FROM gpkg_geometry_columns "
                    "WHERE table_name = 'parcels'")).scalar_one() == "GEOMETRY"
                assert rtree.has_index(conn, "parcels")
            else:
                assert conn.execute(sa.text(
                    "SELECT indexdef FROM pg_indexes WHERE tablename = 'parcels' "
                    "AND indexname = 'ix_parcels_geom'")).scalar_one().count("gist") == 1
        assert s.read(Layer.STREETS)["name"].tolist() == ["Oak St"]
        lots = gpd.GeoDataFrame(
            {"id": ["p1", "p2"], "status": ["vacant_lot", "vacant_building"],
             "owner_type": ["land_bank", "private"], "source": ["test", "test"]},
            geometry=[shapely.box(-94.581, 39.041, -94.580, 39.042),
                      shapely.Point(-94.57, 39.05)], crs=4326)
        s.add(Layer.PARCELS, lots)
        back = s.read(Layer.PARCELS).sort_values("id")
        assert back["status"].tolist() == ["vacant_lot", "vacant_building"]
        assert back.geometry.geom_type.tolist() == ["Polygon", "Point"]
        near = s.read(Layer.PARCELS, bbox=(-94.585, 39.04, -94.579, 39.043))
        assert near["id"].tolist() == ["p1"]


def test_a_bulk_insert_widens_the_page_cache_only_while_it_runs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import geopandas as gpd
    import shapely

    from layers import store as store_mod
    from layers.schema import Layer

    seen: list[int] = []
    real = store_mod.rtree.bulk_insert

    def watching(conn: Any, table: str) -> Any:  # the cache while rows go in
        seen.append(conn.exec_driver_sql("PRAGMA cache_size").scalar())
        return real(conn, table)

    monkeypatch.setattr(store_mod.rtree, "bulk_insert", watching)
    with open_store(tmp_path / "s.gpkg") as s:
        hoods = gpd.GeoDataFrame({"id": ["a"], "name": ["A"]},
                                 geometry=[shapely.box(0, 0, 1, 1)], crs=4326)
        s.add(Layer.NEIGHBORHOODS, hoods)
        with s.engine.connect() as conn:  # the pool's connection, after the insert
            after = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    assert seen == [-store_mod.BULK_CACHE_KIB]
    assert after == -2000  # SQLite's default again
