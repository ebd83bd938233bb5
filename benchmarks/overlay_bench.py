"""Overlay of many concerns on neighborhoods, against geopandas.sjoin + groupby.

1. 1,000,000 generated points joined to the 246 Kansas City neighborhoods
   (../shared/data or $CPTED_REAL_DATA; generated polygons when absent):
   our ``cpted.overlay.counts`` and ``geopandas.sjoin`` plus a groupby, timed in the
   same run, best of ``--repeat``, at each of ``--sizes`` (10k to 4M points by default);
   prints both times, their speed-up and whether the counts are identical.
   Target: at least 2x faster than the baseline at every size.
2. The Map page with 100,000 concerns: the time to build the folium map and the
   size of the HTML sent to the browser. Target: under 5 MB.

    .venv/bin/python benchmarks/overlay_bench.py [--sizes 10000,100000,1000000,4000000]

Ends with one ``RESULT`` line: the slowest speed-up over the sizes, whether the counts
were identical at every size, and the Map page's build time and MB.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cpted.maps import MapLayers, build_map
from cpted.overlay import counts

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.store_bench import best  # noqa: E402


def neighborhoods() -> tuple[gpd.GeoDataFrame, str]:
    folder = Path(os.environ.get("CPTED_REAL_DATA") or ROOT.parent / "shared" / "data")
    path = folder / "kansas_city" / "kcmo_neighborhoods.geojson"
    if path.exists():
        gdf = gpd.read_file(path)
        gdf["geometry"] = shapely.make_valid(gdf.geometry.values)
        return gdf[["geometry"]].assign(id=range(len(gdf))), "246 Kansas City neighborhoods"
    cells = [shapely.box(-94.7 + i * 0.02, 38.9 + j * 0.02, -94.68 + i * 0.02, 38.92 + j * 0.02)
             for i in range(16) for j in range(16)]
    return gpd.GeoDataFrame({"id": range(len(cells))}, geometry=cells, crs=4326), \
        "256 generated square neighborhoods"


def points_in(extent: np.ndarray, n: int, seed: int = 1) -> gpd.GeoSeries:
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = extent
    return gpd.GeoSeries(gpd.points_from_xy(rng.uniform(minx, maxx, n),
                                            rng.uniform(miny, maxy, n)), crs=4326)


def baseline(pts: gpd.GeoSeries, hoods: gpd.GeoDataFrame) -> np.ndarray:
    """geopandas.sjoin plus a groupby, a shared-edge point kept in its first polygon."""
    left = gpd.GeoDataFrame(geometry=pts)
    joined = gpd.sjoin(left, hoods, predicate="intersects", how="inner")
    joined = joined.sort_values("index_right")
    joined = joined[~joined.index.duplicated(keep="first")]
    return joined.groupby("index_right").size().reindex(range(len(hoods)),
                                                        fill_value=0).to_numpy()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,100000,1000000,4000000")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--map-points", type=int, default=100_000)
    args = ap.parse_args()
    hoods, what = neighborhoods()
    print(f"points on {what}; best of {args.repeat}")
    print(f"{'points':>10} {'ours s':>8} {'sjoin s':>8} {'speed-up':>9}  identical")
    speedups, identical = [], True
    for size in (int(v) for v in args.sizes.split(",")):
        pts = points_in(hoods.total_bounds, size)
        ours_s, ours = best(lambda p=pts: counts(p, hoods.geometry), args.repeat)
        base_s, base = best(lambda p=pts: baseline(p, hoods), args.repeat)
        same = bool(np.array_equal(ours, base))
        identical &= same
        speedups.append(base_s / ours_s)
        print(f"{size:>10,} {ours_s:8.3f} {base_s:8.3f} {base_s / ours_s:9.2f}  {same}")
    print(f"slowest speed-up {min(speedups):.2f}x (target >= 2 at every size): "
          f"{'met' if min(speedups) >= 2 else 'NOT met'}")

    n = args.map_points
    rng = np.random.default_rng(2)
    sample = points_in(hoods.total_bounds, n, seed=3)
    concerns = gpd.GeoDataFrame({
        "service_request_id": [f"B{i}" for i in range(n)],
        "service_code": rng.choice(["dark_area", "graffiti", "illegal_dumping"], n),
        "service_name": "x", "status": rng.choice(["open", "closed"], n),
        "detailed_status": "submitted", "time_of_day": "night", "description": "text",
        "address": "", "requested_datetime": pd.Timestamp("2026-01-01", tz="UTC"),
    }, geometry=sample.values, crs=4326)
    t = time.perf_counter()
    html = build_map(MapLayers(concerns=concerns, neighborhoods=hoods.assign(
        name="n")), point_limit=5000).get_root().render()
    build_s = time.perf_counter() - t
    mb = len(html.encode()) / 2**20
    print(f"Map page with {n:,} concerns: built in {build_s:.2f} s, "
          f"{mb:.2f} MB of HTML (target < 5 MB)")
    print(f"RESULT min_speedup={min(speedups):.2f} identical={int(identical)} "
          f"map_build_s={build_s:.2f} map_mb={mb:.2f}")


if __name__ == "__main__":
    main()
