"""A metro region on a dask.distributed cluster: points per neighborhood and per grid cell.

``--points`` generated points (default 20,000,000) over the 246 Kansas City
neighborhoods (../shared/data or $CPTED_REAL_DATA; required), uniform over their extent
with 2% exactly on the polygons' vertices (shared boundaries), on a ``LocalCluster`` of
``--workers`` workers (default 2, one thread each) with ``--memory-limit`` per worker
(default 2 GiB, well below the points' size in one process, printed below):

1. write: the points are generated partition by partition on the workers (never all in
   one process), spatially shuffled (Hilbert order) and written as GeoParquet
   (:func:`cpted.cluster.shuffle_to_parquet`);
2. overlay: points per neighborhood from those partitions
   (:func:`cpted.cluster.neighborhood_counts`);
3. grid: points per ``--cell-m`` grid cell over the neighborhoods
   (:func:`cpted.cluster.grid_counts`).

The baseline, in this process and the same run: the same points generated here at once,
counted by :func:`layers.spatial.counts` and by the hotspot module's grid steps
(``events_xy``, the study-area test, ``cell_counts``), when ``--points`` is at most
``--single-max``. Prints the times, each worker's peak memory (its process's maximum
resident set), the points' size in one process and whether the counts are identical.

    .venv/bin/python benchmarks/cluster_bench.py [--points 20000000]

Ends with one ``RESULT`` line.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cpted import cluster  # noqa: E402
from cpted import hotspots as hs  # noqa: E402
from layers.crs import metric_crs  # noqa: E402
from layers.spatial import counts  # noqa: E402


def neighborhoods() -> gpd.GeoDataFrame:
    folder = Path(os.environ.get("CPTED_REAL_DATA") or ROOT.parent / "shared" / "data")
    path = folder / "kansas_city" / "kcmo_neighborhoods.geojson"
    if not path.exists():
        raise SystemExit(f"{path} is missing: the benchmark runs on Kansas City's "
                         "neighborhoods (set CPTED_REAL_DATA)")
    gdf = gpd.read_file(path)
    # repaired as the importer repairs them (the file has one bad ring)
    return gpd.GeoDataFrame(geometry=shapely.make_valid(gdf.geometry.values), crs=gdf.crs)


def make_points(k: int, *, n: int, bounds: tuple[float, float, float, float],
                vertices: np.ndarray, seed: int) -> gpd.GeoDataFrame:
    """Partition ``k``'s ``n`` points: the same for the same arguments, wherever made."""
    rng = np.random.default_rng([seed, k])
    minx, miny, maxx, maxy = bounds
    x, y = rng.uniform(minx, maxx, n), rng.uniform(miny, maxy, n)
    on = rng.random(n) < 0.02
    x[on], y[on] = vertices[rng.integers(0, len(vertices), int(on.sum()))].T
    return gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y), crs=4326)


def peak_rss_mb() -> float:
    """This process's maximum resident set so far (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=20_000_000)
    ap.add_argument("--partition-points", type=int, default=250_000,
                    help="points per partition (1,000,000 outgrow a 1 GiB worker)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--memory-limit", default="2GiB", help="per worker")
    ap.add_argument("--cell-m", type=float, default=250.0)
    ap.add_argument("--single-max", type=int, default=20_000_000,
                    help="run the single-machine baseline up to this many points")
    ap.add_argument("--dir", type=Path, help="where to write the partitions (default: a "
                                             "temporary folder, removed afterwards)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    # p2p shuffles log each start and stop at WARNING level
    logging.getLogger("distributed.shuffle").setLevel(logging.ERROR)
    import dask.dataframe as dd
    import dask_geopandas  # noqa: F401  (dask frames of GeoDataFrames are its frames)
    from dask.utils import parse_bytes

    hoods = neighborhoods()
    bounds = tuple(float(v) for v in hoods.total_bounds)
    vertices = shapely.get_coordinates(hoods.geometry.boundary.values)
    crs = metric_crs(hoods)
    grid = hs.make_grid(hs.study_area(hoods, crs, hoods), crs, args.cell_m)
    nparts = max(1, math.ceil(args.points / args.partition_points))
    sizes = [args.points // nparts + (k < args.points % nparts) for k in range(nparts)]
    limit_mb = parse_bytes(args.memory_limit) / 2**20
    print(f"{args.points:,} points in {nparts} partitions over {len(hoods)} Kansas City "
          f"neighborhoods and {len(grid):,} cells of {args.cell_m:g} m; {args.workers} "
          f"workers with {limit_mb:,.0f} MB each")
    folder = args.dir or Path(tempfile.mkdtemp(prefix="cluster-bench-"))
    try:
        with cluster.connect(workers=args.workers, memory_limit=args.memory_limit) as client:
            meta = make_points(0, n=0, bounds=bounds, vertices=vertices, seed=args.seed)
            gen = dd.from_map(
                lambda k: make_points(k, n=sizes[k], bounds=bounds, vertices=vertices,
                                      seed=args.seed),
                list(range(nparts)), meta=meta, enforce_metadata=False)
            t = time.perf_counter()
            cluster.shuffle_to_parquet(gen, folder, npartitions=nparts)
            write_s = time.perf_counter() - t
            disk_mb = sum(p.stat().st_size for p in folder.iterdir()) / 2**20
            print(f"write: generated, shuffled and written in {write_s:.1f} s "
                  f"({disk_mb:,.0f} MB of GeoParquet)")
            parts = cluster.read_partitions(folder)
            t = time.perf_counter()
            dask_hoods = cluster.neighborhood_counts(parts, hoods, client)["count"].to_numpy()
            overlay_s = time.perf_counter() - t
            print(f"overlay on the cluster: {overlay_s:.1f} s")
            t = time.perf_counter()
            dask_cells = cluster.grid_counts(parts, grid, client)
            grid_s = time.perf_counter() - t
            print(f"grid counts on the cluster: {grid_s:.1f} s")
            peaks = client.run(peak_rss_mb)
        peak_mb = max(peaks.values())
        print("peak memory per worker: " + ", ".join(f"{v:,.0f} MB" for v in peaks.values())
              + f" (limit {limit_mb:,.0f} MB)")
    finally:
        if args.dir is None:
            shutil.rmtree(folder, ignore_errors=True)

    result = {"points": args.points, "workers": args.workers, "partitions": nparts,
              "limit_mb": round(limit_mb), "write_s": round(write_s, 1),
              "dask_overlay_s": round(overlay_s, 1), "dask_grid_s": round(grid_s, 1),
              "peak_worker_mb": round(peak_mb)}
    if args.points <= args.single_max:
        before = rss_mb()
        pts = gpd.GeoSeries(np.concatenate([
            make_points(k, n=sizes[k], bounds=bounds, vertices=vertices,
                        seed=args.seed).geometry.values for k in range(nparts)]), crs=4326)
        data_mb = rss_mb() - before
        t = time.perf_counter()
        one_hoods = counts(pts, hoods.geometry)
        single_overlay_s = time.perf_counter() - t
        t = time.perf_counter()
        xy = hs.events_xy(gpd.GeoDataFrame(geometry=pts), crs)
        inside = shapely.contains_xy(grid.area, xy[:, 0], xy[:, 1])
        one_cells = hs.cell_counts(grid, xy[inside])
        single_grid_s = time.perf_counter() - t
        same = bool(np.array_equal(one_hoods, dask_hoods)
                    and np.array_equal(one_cells, dask_cells))
        print(f"single machine (this process): the points take {data_mb:,.0f} MB; overlay "
              f"{single_overlay_s:.1f} s, grid counts {single_grid_s:.1f} s; counts identical: "
              f"{same}")
        print(f"worker limit / points' size in one process: {limit_mb / data_mb:.2f}; "
              f"cluster / single time: overlay {overlay_s / single_overlay_s:.2f}, grid "
              f"{grid_s / single_grid_s:.2f}")
        result |= {"data_mb": round(data_mb), "limit_over_data": round(limit_mb / data_mb, 2),
                   "single_overlay_s": round(single_overlay_s, 1),
                   "single_grid_s": round(single_grid_s, 1),
                   "overlay_ratio": round(overlay_s / single_overlay_s, 2),
                   "grid_ratio": round(grid_s / single_grid_s, 2), "identical": int(same)}
    else:
        print(f"single machine skipped (more than --single-max {args.single_max:,} points)")
        result |= {"inside": int(dask_hoods.sum())}
    print("RESULT " + " ".join(f"{k}={v}" for k, v in result.items()))


if __name__ == "__main__":
    main()
