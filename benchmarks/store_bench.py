"""The store on 1,000,000 concerns: PostGIS against the embedded GeoPackage, same run.

A throwaway PostgreSQL + PostGIS server (:mod:`layers.pgtemp`) and an embedded store
in a temporary folder are loaded with the same generated concerns spread over the
sample district's neighborhoods. Then, on each backend, timed over ``--repeat`` runs
(best of):

1. the Map page's query: concerns of two categories, open, at night, in one year
   (``Store.read`` with ``where`` and ``time``), as the page's sidebar filters ask;
2. the overlay: concerns per neighborhood (``Store.counts_within``: SQL with the
   GiST index on PostGIS, an STRtree over the read points on the embedded store);
3. a map window (``Store.read(bbox=...)``) of about 1% of the district (PostGIS's GiST
   index; the GeoPackage's R-tree, :mod:`layers.rtree`).

Ends with one ``RESULT`` line: the ratios (targets: window within 3x, overlay within 2x)
and whether every answer agreed.

Prints rows, times, the ratio (embedded / PostGIS: above 1 means PostGIS is faster)
and whether both backends gave the same answers (same ids, same counts).

    .venv/bin/python benchmarks/store_bench.py [--concerns 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from layers import pgtemp
from layers.schema import Layer
from layers.store import Store, open_store

ROOT = Path(__file__).resolve().parents[1]
CODES = ["dark_area", "graffiti", "vacant_property", "loitering", "broken_light",
         "illegal_dumping", "drug_activity", "overgrown_vegetation"]


def generate(n: int, hoods: gpd.GeoDataFrame, seed: int = 7) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = hoods.total_bounds
    t0 = pd.Timestamp("2022-01-01", tz="UTC")
    seconds = rng.integers(0, 4 * 365 * 86400, n)
    status = rng.random(n) < 0.4
    return gpd.GeoDataFrame({
        "service_request_id": [f"B{i:07d}" for i in range(n)],
        "service_code": np.array(CODES)[rng.integers(0, len(CODES), n)],
        "service_name": "generated",
        "description": "generated report",
        "requested_datetime": t0 + pd.to_timedelta(seconds, unit="s"),
        "updated_datetime": t0 + pd.to_timedelta(seconds + 86400, unit="s"),
        "status": np.where(status, "open", "closed"),
        "detailed_status": np.where(status, "submitted", "fixed"),
        "time_of_day": np.array(["day", "night", "unknown"])[rng.integers(0, 3, n)],
        "source": "bench",
    }, geometry=gpd.points_from_xy(rng.uniform(minx, maxx, n), rng.uniform(miny, maxy, n)),
        crs=4326)


def best(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def load(store: Store, hoods: gpd.GeoDataFrame, concerns: gpd.GeoDataFrame) -> float:
    store.add(Layer.NEIGHBORHOODS, hoods)
    t = time.perf_counter()
    store.add(Layer.CONCERNS, concerns)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--concerns", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    reason = pgtemp.unavailable()
    if reason:
        raise SystemExit(f"cannot start PostGIS: {reason}")

    hoods = gpd.read_file(ROOT / "sample_data" / "neighborhoods.geojson")
    hoods = hoods[["id", "name", "population", "geometry"]]
    concerns = generate(args.concerns, hoods)
    minx, miny, maxx, maxy = hoods.total_bounds
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    window = (cx - (maxx - minx) * 0.05, cy - (maxy - miny) * 0.05,
              cx + (maxx - minx) * 0.05, cy + (maxy - miny) * 0.05)
    where = {"service_code": ["dark_area", "broken_light"], "status": ["open"],
             "time_of_day": ["night"]}
    period = ("requested_datetime", pd.Timestamp("2024-01-01", tz="UTC"),
              pd.Timestamp("2025-01-01", tz="UTC"))
    print(f"{args.concerns:,} concerns over {len(hoods)} sample neighborhoods; best of "
          f"{args.repeat}")

    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp, pgtemp.TempServer() as server:
        stores = {"embedded": open_store(Path(tmp) / "bench.gpkg"),
                  "postgis": open_store(server.create_database())}
        for name, store in stores.items():
            r: dict[str, Any] = {"load": load(store, hoods, concerns)}
            if name == "postgis":
                with store.engine.begin() as conn:
                    conn.exec_driver_sql("ANALYZE")
            r["map_s"], frame = best(lambda s=store: s.read(
                Layer.CONCERNS, where=where, time=period), args.repeat)
            r["map_ids"] = sorted(frame["service_request_id"])
            r["overlay_s"], r["overlay"] = best(lambda s=store: s.counts_within(
                Layer.CONCERNS, Layer.NEIGHBORHOODS), args.repeat)
            r["window_s"], win = best(lambda s=store: s.read(Layer.CONCERNS, bbox=window),
                                      args.repeat)
            r["window_ids"] = sorted(win["service_request_id"])
            results[name] = r
            store.close()

    e, p = results["embedded"], results["postgis"]
    # an independent check of the overlay: every point against every polygon with shapely
    hits = shapely.STRtree(hoods.geometry.values).query(concerns.geometry.values,
                                                         predicate="intersects")
    first = pd.Series(hits[1]).groupby(hits[0]).min()
    reference = dict.fromkeys(hoods["id"], 0)
    reference.update(pd.Series(hoods["id"].to_numpy()[first.to_numpy()]).value_counts()
                     .to_dict())
    rows = [
        ("load (COPY / executemany)", e["load"], p["load"], "-"),
        (f"Map page query ({len(e['map_ids']):,} rows)", e["map_s"], p["map_s"],
         e["map_ids"] == p["map_ids"]),
        (f"overlay ({len(hoods)} neighborhoods)", e["overlay_s"], p["overlay_s"],
         e["overlay"] == p["overlay"] == reference),
        (f"map window ({len(e['window_ids']):,} rows)", e["window_s"], p["window_s"],
         e["window_ids"] == p["window_ids"]),
    ]
    print(f"{'':38} {'embedded s':>11} {'PostGIS s':>10} {'ratio':>7}  same answers")
    for label, a, b, same in rows:
        print(f"{label:38} {a:11.3f} {b:10.3f} {a / b:7.2f}  {same}")
    print("ratio = embedded time / PostGIS time (above 1: PostGIS is faster)")
    window, overlay = e["window_s"] / p["window_s"], e["overlay_s"] / p["overlay_s"]
    print(f"map window within 3x of PostGIS: {'met' if window <= 3 else 'NOT met'}; "
          f"counts per neighborhood within 2x: {'met' if overlay <= 2 else 'NOT met'}")
    same = all(bool(r[3]) for r in rows[1:])
    print(f"RESULT concerns={args.concerns} window_ratio={window:.2f} "
          f"overlay_ratio={overlay:.2f} map_ratio={e['map_s'] / p['map_s']:.2f} "
          f"load_ratio={e['load'] / p['load']:.2f} same_answers={int(same)}")


if __name__ == "__main__":
    main()
