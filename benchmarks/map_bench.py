"""The Map page built on the server at 10,000, 100,000 and 1,000,000 concerns.

For each size, a store holds the sample district plus that many generated concerns
(``store_bench.generate``, spread over the district's neighborhoods). The Map page runs
through Streamlit's AppTest (the page's script as the server runs it, with its caches,
but no browser): first with every cache empty (the first visitor after a change), then
again (the next visitor). The map HTML it hands to the browser is measured as sent
(``st_folium`` recorded). Baseline, in the same process: the Export page, which reads
no layer and draws no map, so the ratio is what the Map page costs over Streamlit's own
run. Goal: the first build under 3 s at 1,000,000 concerns.

    .venv/bin/python benchmarks/map_bench.py [--sizes 10000,100000,1000000] [--keep DIR]

``--keep DIR`` makes each store once in DIR and reuses it on later runs (a store of a
million concerns takes minutes to make).

Ends with one ``RESULT`` line.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.store_bench import generate  # noqa: E402
from layers.schema import Layer  # noqa: E402
from layers.store import open_store  # noqa: E402

#: CPU seconds of the last :func:`build` (this process, every thread): on a shared
#: machine the wall clock also counts the time other programs held the cores.
CPU: list[float] = [0.0]


def build(db: Path, page: str, sent: list[int]) -> float:
    """Seconds for one run of ``page`` on ``db``; the map HTML it sent is appended."""
    from streamlit.testing.v1 import AppTest

    os.environ["CPTED_DB_URL"] = str(db)
    t, cpu = time.perf_counter(), time.process_time()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600).switch_page(
        f"app_pages/{page}").run()
    took = time.perf_counter() - t
    CPU[0] = time.process_time() - cpu
    assert not at.exception, at.exception
    return took


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--keep", type=Path, default=None,
                    help="make the stores in this folder once and reuse them")
    args = ap.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]

    import streamlit as st
    import streamlit_folium

    from cpted import server
    from cpted.sample import load_sample

    server.SERVING = True
    os.environ["CPTED_STAFF_MODE"] = "true"
    work = Path(tempfile.mkdtemp(prefix="map-bench-"))
    stores = args.keep or work
    stores.mkdir(parents=True, exist_ok=True)
    os.environ["CPTED_BASEMAP_DIR"] = str(work / "tiles")
    sent: list[int] = []

    def record(fig: Any, **kwargs: Any) -> dict[str, Any]:
        sent.append(len(fig.get_root().render().encode()))
        return {}

    streamlit_folium.st_folium = record
    os.chdir(ROOT)
    rows = []
    for n in sizes:
        db = stores / f"c{n}.gpkg"
        if not db.exists():
            made = db.with_suffix(".making")
            made.unlink(missing_ok=True)
            with open_store(made) as s:
                load_sample(s)
                s.add(Layer.CONCERNS, generate(n, s.read(Layer.NEIGHBORHOODS)))
            made.rename(db)
        with open_store(db) as s:
            total = s.count(Layer.CONCERNS)
        st.cache_data.clear()
        st.cache_resource.clear()
        base = min(build(db, "export.py", []) for _ in range(2))
        st.cache_data.clear()
        st.cache_resource.clear()
        sent.clear()
        first = build(db, "map.py", sent)
        first_cpu = CPU[0]
        first_bytes = sum(sent)
        sent.clear()
        again = build(db, "map.py", sent)
        rows.append((n, total, base, first, again, first_bytes, first_cpu, CPU[0]))
        print(f"{total:>9,} concerns: Map page first build {first:6.2f} s, next {again:6.2f} s; "
              f"Export page (baseline) {base:5.2f} s; ratio {first / base:5.1f}x; "
              f"map HTML {first_bytes / 1e6:5.2f} MB; CPU first {first_cpu:5.2f} s, "
              f"next {CPU[0]:5.2f} s; load average {os.getloadavg()[0]:.1f}", flush=True)
    _n, total, _base, first, *_rest = rows[-1]
    print(f"at {total:,} concerns the first build took {first:.2f} s "
          f"(goal under 3 s: {'met' if first < 3 else 'NOT met'})")
    print("RESULT " + " ".join(
        f"first_s_{r[0]}={r[3]:.2f} next_s_{r[0]}={r[4]:.2f} ratio_{r[0]}={r[3] / r[2]:.1f} "
        f"map_mb_{r[0]}={r[5] / 1e6:.2f} first_cpu_s_{r[0]}={r[6]:.2f} "
        f"next_cpu_s_{r[0]}={r[7]:.2f}" for r in rows))


if __name__ == "__main__":
    main()
