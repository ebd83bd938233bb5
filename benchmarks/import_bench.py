"""Import a generated concern CSV into the store and compare with a plain baseline.

The baseline, timed in the same run on the same file: ``pandas.read_csv`` plus
``geopandas.points_from_xy`` plus a GeoPackage write through pyogrio (no
validation, no transaction, no import log). Prints rows per second for both and
their ratio (ours / baseline time; lower is better).

    .venv/bin/python benchmarks/import_bench.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="cpted-bench-") as tmp:
        csv = Path(tmp) / "concerns.csv"
        make_csv(csv, args.rows)
        print(f"rows: {args.rows:,}  csv: {csv.stat().st_size / 2**20:.0f} MB")
        base_s = baseline(csv, Path(tmp) / "baseline.gpkg")
        our_s, accepted = ours(csv, Path(tmp) / "store.gpkg")
        assert accepted == args.rows, f"expected every row accepted, got {accepted:,}"
        print(f"baseline (read_csv + points_from_xy + GPKG write): {base_s:7.2f} s "
              f"{args.rows / base_s:12,.0f} rows/s")
        print(f"cpted import (read, validate, store, log):         {our_s:7.2f} s "
              f"{args.rows / our_s:12,.0f} rows/s")
        print(f"ratio ours/baseline time: {our_s / base_s:.2f}")
        print(f"RESULT rows={args.rows} ratio={our_s / base_s:.2f} accepted={accepted}")


if __name__ == "__main__":
    main()
