"""Import a generated concern CSV into the store and compare with plain baselines.

Three runs on the same file, each in a process of its own so that its peak memory is its
own (``ru_maxrss`` of the child):

1. the goal's baseline: ``pandas.read_csv`` plus ``geopandas.points_from_xy`` plus our
   GeoPackage write (``Store.add``: the rows, the GeoPackage R-tree, the extent) -- what
   an import costs with no reading options, mapping, validation or import log;
2. a reference: the same frame written by pyogrio (GDAL's GeoPackage driver, no R-tree
   kept by us, no transaction of ours);
3. ``cpted import`` (read, map, validate, store, log).

Prints time, rows per second and peak memory of each, and the ratios ours / baseline
(goal: at most 1.3 at 1,000,000 rows).

    .venv/bin/python benchmarks/import_bench.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from layers.importer import import_file
from layers.schema import Layer
from layers.store import open_store

CODES = ["dark_area", "streetlight_out", "graffiti", "illegal_dumping", "overgrown_vegetation"]


def make_csv(path: Path, rows: int, seed: int = 1) -> None:
    rng = np.random.default_rng(seed)
    t0 = pd.Timestamp("2024-01-01")
    when = t0 + pd.to_timedelta(rng.integers(0, 730 * 24 * 60, rows), unit="min")
    pd.DataFrame({
        "service_request_id": np.char.add("R", np.arange(rows).astype(str)),
        "service_code": rng.choice(CODES, rows),
        "description": rng.choice(["Light out on the corner", "Dark alley", "Trash piled up"],
                                  rows),
        "requested_datetime": when.strftime("%Y-%m-%d %H:%M"),
        "status": rng.choice(["open", "closed"], rows),
        "time_of_day": rng.choice(["day", "night"], rows),
        "latitude": 39.03 + rng.random(rows) * 0.05,
        "longitude": -94.60 + rng.random(rows) * 0.06,
    }).to_csv(path, index=False)


def baseline(csv: Path, out: Path) -> float:
    """read_csv + points + our GeoPackage write."""
    t = time.perf_counter()
    df = pd.read_csv(csv)
    gdf = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df.longitude, df.latitude), crs=4326)
    with open_store(out) as store:
        store.add(Layer.CONCERNS, gdf[[c for c in gdf.columns
                                       if c not in ("latitude", "longitude")]])
    return time.perf_counter() - t


def gdal(csv: Path, out: Path) -> float:
    """read_csv + points + pyogrio's GeoPackage write."""
    t = time.perf_counter()
    df = pd.read_csv(csv)
    gdf = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df.longitude, df.latitude), crs=4326)
    pyogrio.write_dataframe(gdf, out, driver="GPKG", layer="concerns")
    return time.perf_counter() - t


def ours(csv: Path, db: Path) -> tuple[float, int]:
    t = time.perf_counter()
    with open_store(db) as store:
        summary = import_file(store, csv, Layer.CONCERNS, tz="America/Chicago")
    return time.perf_counter() - t, summary.accepted


def _child(what: str, csv: Path, out: Path, answer: Any) -> None:
    took = {"baseline": lambda: (baseline(csv, out), 0), "gdal": lambda: (gdal(csv, out), 0),
            "ours": lambda: ours(csv, out)}[what]()
    answer.put((*took, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))


def run(what: str, csv: Path, out: Path) -> tuple[float, int, float]:
    """(seconds, rows accepted, peak MB) of one run in a fresh process."""
    ctx = mp.get_context("spawn")
    answer = ctx.Queue()
    proc = ctx.Process(target=_child, args=(what, csv, out, answer))
    proc.start()
    got = answer.get()
    proc.join()
    return float(got[0]), int(got[1]), float(got[2])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="cpted-bench-") as tmp:
        csv = Path(tmp) / "concerns.csv"
        make_csv(csv, args.rows)
        print(f"rows: {args.rows:,}  csv: {csv.stat().st_size / 2**20:.0f} MB")
        base_s, _, base_mb = run("baseline", csv, Path(tmp) / "baseline.gpkg")
        gdal_s, _, gdal_mb = run("gdal", csv, Path(tmp) / "gdal.gpkg")
        our_s, accepted, our_mb = run("ours", csv, Path(tmp) / "store.gpkg")
        assert accepted == args.rows, f"expected every row accepted, got {accepted:,}"
        for label, took, mb in (
                ("baseline (read_csv + points + our GeoPackage write)", base_s, base_mb),
                ("reference (read_csv + points + pyogrio GPKG write)", gdal_s, gdal_mb),
                ("cpted import (read, map, validate, store, log)", our_s, our_mb)):
            print(f"{label:<54}{took:8.2f} s {args.rows / took:11,.0f} rows/s "
                  f"{mb:8,.0f} MB peak")
        print(f"ratio ours/baseline time: {our_s / base_s:.2f} (goal at most 1.3); "
              f"ours/pyogrio: {our_s / gdal_s:.2f}; peak memory ours/baseline: "
              f"{our_mb / base_mb:.2f}")
        print(f"RESULT rows={args.rows} ratio={our_s / base_s:.2f} "
              f"ratio_pyogrio={our_s / gdal_s:.2f} memory_ratio={our_mb / base_mb:.2f} "
              f"accepted={accepted}")


if __name__ == "__main__":
    main()
