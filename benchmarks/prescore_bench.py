"""The street pre-score of the whole sample district, against the lighting model alone.

The sample district (725 street segments, 2,819 buildings, 1,128 poles, 2,000 concerns)
in a temporary store. Ours: ``Access.prescore`` (reading the layers through the door,
the lighting model, exact isovists every 50 m along every segment, concern counts and
the street names). Baseline, in the same process: ``cpted.lighting.segment_lux`` on the
same streets and poles, the model the Streetlights page already runs for every
segment. Prints both times, their ratio and the number of isovists.

    .venv/bin/python benchmarks/prescore_bench.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from cpted import lighting as lt
from cpted.access import Access
from cpted.accounts import public
from cpted.sample import load_sample
from layers.crs import metric_crs
from layers.schema import Layer
from layers.store import open_store


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    now = datetime(2026, 11, 1, tzinfo=UTC)
    with tempfile.TemporaryDirectory() as tmp, open_store(Path(tmp) / "s.gpkg") as store:
        load_sample(store)
        door = Access(store, public("bench"))
        streets, lights = store.read(Layer.STREETS), store.read(Layer.STREETLIGHTS)
        data = lt.load_lighting_data()
        ours, base = [], []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            result = door.prescore(now=now)
            t1 = time.perf_counter()
            inv = lt.inventory(lights, data, metric_crs(lights))
            lt.segment_lux(streets, inv, data)
            t2 = time.perf_counter()
            ours.append(t1 - t0)
            base.append(t2 - t1)
        seg = result.segments
        isovists = int(sum(max(1, round(n / 50.0)) for n in seg["length_m"]))
        t_ours, t_base = min(ours), min(base)
        print(f"pre-score: {len(seg):,} segments, {isovists:,} exact isovists, components "
              f"{', '.join(result.used)}")
        print(f"  ours (whole pre-score)     {t_ours:6.2f} s (best of {args.repeat})")
        print(f"  baseline (segment_lux)     {t_base:6.2f} s")
        print(f"  ratio ours/baseline        {t_ours / t_base:6.1f}x")
        print(f"RESULT seconds={t_ours:.2f} baseline_seconds={t_base:.2f} "
              f"ratio={t_ours / t_base:.1f} segments={len(seg)}")


if __name__ == "__main__":
    main()
