"""The cluster engine (cpted/cluster.py) against the single-machine path.

The references: :func:`layers.spatial.assign` and :func:`cpted.overlay.overlay` for
neighborhood counts, :func:`cpted.hotspots.analyse` for grid counts (the single-machine
paths the cluster must equal), and for the boundary rule also a brute-force loop here
(each point tested against every polygon with ``shapely.intersects``, first hit wins).
The cluster is a real ``dask.distributed`` one: two workers in this process, on a
loopback TCP port, so ``--scheduler`` is exercised as a real cluster would be.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal

from cpted import accounts, cluster
from cpted import hotspots as hs
from cpted.access import Access
from cpted.cli import main
from cpted.overlay import overlay
from layers.schema import Layer
from layers.spatial import assign, counts
from layers.store import Store, open_store

WGS84 = "EPSG:4326"


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, protocol="tcp",
                      host="127.0.0.1", dashboard_address=":0") as lc, Client(lc) as c:
        yield c


def brute_force(points: gpd.GeoSeries, polygons: gpd.GeoSeries) -> np.ndarray:
    """The rule written out: each point's first polygon (in order) it intersects, or -1."""
    out = np.full(len(points), -1)
    for i, p in enumerate(points.values):
        for j, poly in enumerate(polygons.values):
            if shapely.intersects(p, poly):
                out[i] = j
                break
    return out


def tiles() -> gpd.GeoDataFrame:
    """Six neighborhoods sharing edges and corners: four squares and two triangles that
    split a fifth square along its diagonal (about 1.1 km a side, in Kansas City)."""
    x0, y0, d = -94.60, 39.05, 0.01
    shapes = [shapely.box(x0 + i * d, y0 + j * d, x0 + (i + 1) * d, y0 + (j + 1) * d)
              for j in range(2) for i in range(2)]
    a, b = (x0 + 2 * d, y0), (x0 + 3 * d, y0 + d)
    shapes += [shapely.Polygon([a, (b[0], a[1]), b]), shapely.Polygon([a, b, (a[0], b[1])])]
    return gpd.GeoDataFrame({"id": [f"N{k}" for k in range(6)],
                             "name": [f"Hood {k}" for k in range(6)]},
                            geometry=shapes, crs=WGS84)


def random_points(hoods: gpd.GeoDataFrame, n: int, seed: int) -> gpd.GeoDataFrame:
    """Uniform points over the neighborhoods' extent and a margin, a fifth of them exactly
    on the polygons' vertices and edges (shared boundaries, corners, outer edges)."""
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = hoods.total_bounds
    pad = 0.1 * (maxx - minx)
    x = rng.uniform(minx - pad, maxx + pad, n)
    y = rng.uniform(miny - pad, maxy + pad, n)
    vertices = shapely.get_coordinates(hoods.geometry.boundary.values)
    on = rng.choice(n, n // 10, replace=False)
    x[on], y[on] = vertices[rng.integers(0, len(vertices), len(on))].T
    # points along edges: between two consecutive vertices of a ring, at binary fractions
    # (exactly representable, so exactly on an axis-parallel edge)
    rings = [shapely.get_coordinates(r)
             for r in shapely.get_parts(hoods.geometry.boundary.values)]
    edge = rng.choice(np.setdiff1d(np.arange(n), on), n // 10, replace=False)
    for k in edge:
        ring = rings[rng.integers(len(rings))]
        v = rng.integers(len(ring) - 1)
        t = rng.integers(0, 9) / 8
        x[k], y[k] = ring[v] + t * (ring[v + 1] - ring[v])
    status = rng.choice(["open", "closed"], n)
    return gpd.GeoDataFrame({"service_request_id": [f"r{seed}-{i}" for i in range(n)],
                             "status": status}, geometry=gpd.points_from_xy(x, y), crs=WGS84)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_dask_counts_equal_the_single_machine_path_on_random_points(
        client: Any, tmp_path: Path, seed: int) -> None:
    hoods = tiles()
    pts = random_points(hoods, 3000, seed)
    on_edges = shapely.intersects(pts.geometry.values, hoods.boundary.union_all())
    assert on_edges.sum() >= 300  # the boundary rule is really exercised
    cluster.write_partitioned(pts, tmp_path / "parts", rows_per_partition=400)
    parts = cluster.read_partitions(tmp_path / "parts")
    assert parts.npartitions == 8
    got = cluster.neighborhood_counts(parts, hoods, client)
    which = assign(pts.geometry, hoods.geometry)
    np.testing.assert_array_equal(which, brute_force(pts.geometry, hoods.geometry))
    np.testing.assert_array_equal(got["count"].to_numpy(), counts(pts.geometry, hoods.geometry))
    assert list(got.index) == list(range(len(hoods)))
    by = cluster.neighborhood_counts(parts, hoods, client, by="status")
    for value in ("open", "closed"):
        mine = which[pts["status"].to_numpy() == value]
        np.testing.assert_array_equal(by[value].to_numpy(),
                                      np.bincount(mine[mine >= 0], minlength=len(hoods)))


def test_overlay_counts_equal_the_overlay(client: Any, sample_store: Store) -> None:
    door = Access(sample_store, accounts.operator())
    concerns, hoods = door.concerns(), door.layer(Layer.NEIGHBORHOODS)
    import dask_geopandas

    points = dask_geopandas.from_geopandas(concerns, npartitions=3)
    got = cluster.overlay_counts(points, hoods, client)
    want = overlay(concerns, hoods)
    assert got["count"].sum() > 0
    cols = ["neighborhood_id", "name", "count", "area_km2", "per_km2", "population",
            "per_1000", "open", "closed"]
    pd.testing.assert_frame_equal(got[cols], want[cols])


@pytest.mark.parametrize("shape", ["square", "hex"])
def test_grid_counts_equal_the_hotspot_analysis(client: Any, tmp_path: Path,
                                                shape: str) -> None:
    hoods = tiles()
    pts = random_points(hoods, 4000, 7)
    pts["weight"] = np.where(np.arange(len(pts)) % 3 == 0, 0.5, 1.0)
    cluster.write_partitioned(pts, tmp_path / "parts", rows_per_partition=700)
    want = hs.analyse(pts, boundary=hoods, cell_size=150, shape=shape,  # type: ignore[arg-type]
                      permutations=99)
    got = cluster.grid_counts(cluster.read_partitions(tmp_path / "parts"), want.grid, client)
    assert want.n_outside > 0 and want.counts.sum() > 0
    np.testing.assert_array_equal(got, want.counts)


def test_partitioned_export_round_trips(sample_store: Store, tmp_path: Path) -> None:
    door = Access(sample_store, accounts.operator())
    rows = door.layer(Layer.CONCERNS)
    folder = tmp_path / "parts"
    assert cluster.write_partitioned(rows, folder, rows_per_partition=250) == len(rows)
    files = sorted(folder.iterdir())
    assert [f.name for f in files] == [f"part.{i}.parquet" for i in range(8)]
    parts = cluster.read_partitions(folder)
    back = parts.compute()
    key = "service_request_id"
    back = back.sort_values(key).reset_index(drop=True)
    want = rows.sort_values(key).reset_index(drop=True)
    assert_geodataframe_equal(back, want.astype({c: back[c].dtype for c in want.columns
                                                 if c != "geometry"}))
    # each file is a compact piece of the Hilbert order: its bounding box (from the
    # GeoParquet metadata, what spatial_partitions reads) holds its rows and covers far
    # less than the whole extent, as a random split of the rows would not
    whole = shapely.box(*rows.total_bounds).area
    boxes = parts.spatial_partitions
    assert len(boxes) == 8
    for f, box in zip(files, boxes, strict=True):
        piece = gpd.read_parquet(f)
        assert shapely.covers(box, piece.geometry.values).all()
    assert shapely.area(boxes.values).mean() < 0.4 * whole  # a ratio: degrees² will do
    assert b"bbox" in pq.read_metadata(files[0]).metadata[b"geo"]
    # writing again replaces the earlier partitions, leaving none behind
    cluster.write_partitioned(rows, folder, rows_per_partition=1000)
    assert sorted(f.name for f in folder.iterdir()) == ["part.0.parquet", "part.1.parquet"]


def test_partitioned_export_refuses_a_folder_holding_other_files(sample_store: Store,
                                                                 tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("keep me")
    with pytest.raises(cluster.ClusterError, match="holds other files than partitions"):
        cluster.write_partitioned(sample_store.read(Layer.CONCERNS), tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "keep me"


def plain(frame: gpd.GeoDataFrame, key: str) -> gpd.GeoDataFrame:
    """``frame`` sorted by ``key``, its values Python objects and every missing one None."""
    out = frame.sort_values(key).reset_index(drop=True)
    for col in out.columns.drop(out.geometry.name):
        out[col] = out[col].astype(object).where(out[col].notna(), None)
    return out


def test_public_partitioned_export_is_the_public_export(sample_store: Store,
                                                        tmp_path: Path) -> None:
    public = Access(sample_store, accounts.public())
    public.export(Layer.CONCERNS, tmp_path / "one.parquet", "parquet")
    public.export(Layer.CONCERNS, tmp_path / "parts", "parquet", partitioned=True)
    one = gpd.read_parquet(tmp_path / "one.parquet")
    parts = pd.concat([gpd.read_parquet(p) for p in sorted((tmp_path / "parts").iterdir())])
    key = "service_request_id"
    # the same rows and values (dask writes text as pandas' NA-backed strings)
    assert_geodataframe_equal(plain(parts, key), plain(one, key), check_dtype=False)
    # and the public rules were applied: something was blurred in the sample district
    exact = sample_store.read(Layer.CONCERNS).set_index(key).geometry
    moved = ~exact.loc[one[key]].geom_equals_exact(one.set_index(key).geometry, 1e-9)
    assert moved.any()


# -- the command line ------------------------------------------------------------

def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_overlay_on_the_cluster_equals_the_overlay(
        client: Any, sample_db: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    parts = tmp_path / "parts"
    code, out, err = run(capsys, "export", "--layer", "concerns", "--format", "parquet",
                         "--partitioned", str(parts), "--db", str(sample_db))
    assert code == 0, err
    assert "wrote 2,000 concerns" in out and "spatially partitioned" in out
    address = client.scheduler.address
    assert address.startswith("tcp://127.0.0.1:")
    code, out, err = run(capsys, "overlay", "--engine", "dask", "--scheduler", address,
                         "--partitions", str(parts), "--status", "open",
                         "--out", str(tmp_path / "dask.csv"), "--db", str(sample_db))
    assert code == 0, err
    assert f"by the cluster at {address}" in out
    code, _, err = run(capsys, "overlay", "--status", "open", "--out",
                       str(tmp_path / "one.csv"), "--db", str(sample_db))
    assert code == 0, err
    dask_t, one_t = pd.read_csv(tmp_path / "dask.csv"), pd.read_csv(tmp_path / "one.csv")
    assert dask_t["count"].sum() > 0
    for col in ("neighborhood_id", "name", "count", "open", "closed", "per_km2"):
        pd.testing.assert_series_equal(dask_t[col], one_t[col])
    assert (dask_t["closed"] == 0).all()  # the --status filter ran on the partitions


def test_cli_overlay_starts_a_local_cluster_without_a_scheduler(
        sample_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "overlay", "--engine", "dask", "--out",
                         str(tmp_path / "d.csv"), "--db", str(sample_db))
    assert code == 0, err
    assert "by a local cluster of 2 workers" in out
    with open_store(sample_db) as s:
        want = overlay(s.read(Layer.CONCERNS), s.read(Layer.NEIGHBORHOODS))
    np.testing.assert_array_equal(pd.read_csv(tmp_path / "d.csv")["count"], want["count"])


def test_cli_hotspot_counts_on_the_cluster_equal_the_analysis(
        client: Any, sample_db: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    parts = tmp_path / "parts"
    assert run(capsys, "export", "--layer", "concerns", "--format", "parquet",
               "--partitioned", str(parts), "--db", str(sample_db))[0] == 0
    code, out, err = run(capsys, "hotspots", "--engine", "dask", "--scheduler",
                         client.scheduler.address, "--partitions", str(parts),
                         "--method", "gi", "--cell-size", "120", "--permutations", "99",
                         "--out", str(tmp_path / "cells.csv"), "--db", str(sample_db))
    assert code == 0, err
    with open_store(sample_db) as s:
        want = hs.analyse(s.read(Layer.CONCERNS), boundary=s.read(Layer.NEIGHBORHOODS),
                          cell_size=120, permutations=99)
    got = pd.read_csv(tmp_path / "cells.csv")
    np.testing.assert_array_equal(got["count"], want.counts)
    np.testing.assert_array_equal(got["gi_bin"], want.gi.bins)
    assert f"{int(want.counts.sum()):,} events counted" in out


@pytest.mark.parametrize(("args", "message"), [
    (["overlay", "--partitions", "x", "--out", "o.csv"], "--partitions go with --engine dask"),
    (["hotspots", "--engine", "dask", "--partitions", "x", "--out", "o.csv"],
     "needs --cell-size"),
    (["hotspots", "--engine", "dask", "--cell-size", "100", "--out", "o.csv"],
     "reads --partitions DIR"),
    (["hotspots", "--engine", "dask", "--method", "kde", "--out", "o.csv"],
     "does not take --method kde"),
    (["export", "--layer", "concerns", "--format", "csv", "--partitioned", "p"],
     "a partitioned export is GeoParquet"),
    (["export", "--layer", "concerns", "--format", "parquet"], "give one of --out"),
])
def test_cli_refusals(sample_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                      args: list[str], message: str) -> None:
    code, _, err = run(capsys, *[str(tmp_path / a) if a in ("x", "o.csv", "p") else a
                                   for a in args], "--db", str(sample_db))
    assert code == 1
    assert message in err


# -- Kansas City -----------------------------------------------------------------

@pytest.mark.realdata
def test_kansas_city_neighborhoods_on_the_cluster(client: Any, store: Store,
                                                  real_data: Path, tmp_path: Path) -> None:
    from layers.importer import import_file

    folder = real_data / "kansas_city"
    import_file(store, folder / "kcmo_neighborhoods.geojson", Layer.NEIGHBORHOODS)
    import_file(store, folder / "kcmo_311_potholes_2020JanFeb.csv", Layer.CONCERNS)
    door = Access(store, accounts.operator())
    hoods, real = door.layer(Layer.NEIGHBORHOODS), door.concerns()
    assert len(hoods) == 246 and len(real) == 4451
    # the real reports, then random points with a fifth on the 246 polygons' boundaries
    cluster.write_partitioned(real, tmp_path / "real", rows_per_partition=1000)
    got = cluster.overlay_counts(cluster.read_partitions(tmp_path / "real"), hoods, client)
    want = overlay(real, hoods)
    for col in ("count", "open", "closed"):
        np.testing.assert_array_equal(got[col], want[col])
    pts = random_points(hoods, 60_000, 11)
    cluster.write_partitioned(pts, tmp_path / "random", rows_per_partition=10_000)
    got = cluster.neighborhood_counts(cluster.read_partitions(tmp_path / "random"), hoods,
                                      client)
    np.testing.assert_array_equal(got["count"], counts(pts.geometry, hoods.geometry))
