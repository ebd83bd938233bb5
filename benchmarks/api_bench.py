"""The Open311 API's ``requests.json`` in pages of 1,000, against the store's own read.

An embedded store in a temporary folder gets the sample district's neighborhoods and
``--concerns`` (100,000) generated concerns (``store_bench.generate``: eight categories,
one of them sensitive, over four years). ``cpted api`` (uvicorn) serves it on a free
loopback port in a subprocess. For ``--pages`` pages spread over the whole list, each
timed best of ``--repeat``, in this process:

1. ``store``: ``Store.read`` of the same rows (the same time filter, ``limit`` 1,000 and
   ``offset``), the floor any answer stands on;
2. ``door``: ``Access(public).open311_requests`` of that page: the store's read plus the
   public's privacy rules (sensitive places snapped to the grid), the page's status
   notes and the GeoReport records, without HTTP;
3. ``api``: ``GET requests.json?start_date=...&page=N&page_size=1000`` over HTTP, until
   its last byte (the JSON is parsed afterwards, untimed, to check its ids against 1).

Prints each page's times and the ratios ``api/store``, ``door/store`` and ``api/door``
(what HTTP and JSON add), then one ``RESULT`` line.

    .venv/bin/python benchmarks/api_bench.py [--concerns 100000] [--pages 11] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import geopandas as gpd
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.store_bench import best, generate  # noqa: E402
from cpted import accounts  # noqa: E402
from cpted.access import Access  # noqa: E402
from layers.schema import Layer  # noqa: E402
from layers.store import open_store  # noqa: E402

PAGE_SIZE = 1000
START = "2000-01-01T00:00:00Z"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server(db: Path, log: Path) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "CPTED_DB_URL": str(db), "PYTHONPATH": str(ROOT)}
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "cpted.cli", "api", "--port",
                                 str(port)], env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/open311/v2"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise SystemExit("cpted api exited:\n" + log.read_text())
            try:
                with urllib.request.urlopen(base + "/discovery.json", timeout=5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("cpted api did not start:\n" + log.read_text()) from None
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=300) as r:
        data: bytes = r.read()
        return data


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--concerns", type=int, default=100_000)
    ap.add_argument("--pages", type=int, default=11,
                    help="pages timed, spread from the first to the last")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    hoods = gpd.read_file(ROOT / "sample_data" / "neighborhoods.geojson")
    hoods = hoods[["id", "name", "population", "geometry"]]
    total_pages = -(-args.concerns // PAGE_SIZE)
    spread = max(1, args.pages - 1)
    pages = sorted({round(1 + k * (total_pages - 1) / spread) for k in range(args.pages)})
    start = pd.Timestamp(START)
    print(f"{args.concerns:,} concerns, pages of {PAGE_SIZE:,}: timing pages "
          f"{', '.join(map(str, pages))} of {total_pages}, best of {args.repeat}")

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.gpkg"
        with open_store(db) as store:
            store.add(Layer.NEIGHBORHOODS, hoods)
            store.add(Layer.CONCERNS, generate(args.concerns, hoods))
        rows: list[tuple[int, float, float, float, bool]] = []
        with server(db, Path(tmp) / "api.log") as base, open_store(db) as store:
            door = Access(store, accounts.public())
            for page in pages:
                offset = (page - 1) * PAGE_SIZE
                store_s, frame = best(lambda o=offset: store.read(
                    Layer.CONCERNS, time=("requested_datetime", start, None),
                    limit=PAGE_SIZE, offset=o), args.repeat)
                door_s, _ = best(lambda o=offset: door.open311_requests(
                    time=("requested_datetime", start, None), limit=PAGE_SIZE, offset=o),
                    args.repeat)
                url = base + "/requests.json?" + urllib.parse.urlencode(
                    {"start_date": START, "page": page, "page_size": PAGE_SIZE})
                api_s, body = best(lambda u=url: fetch(u), args.repeat)
                same = ([r["service_request_id"] for r in json.loads(body)]
                        == list(frame["service_request_id"]))
                rows.append((page, store_s, door_s, api_s, same))

    print(f"{'page':>5} {'rows':>5} {'store ms':>9} {'door ms':>8} {'api ms':>7} "
          f"{'api/store':>9} {'door/store':>10} {'api/door':>8}  same rows")
    for page, s, d, a, same in rows:
        n = min(PAGE_SIZE, args.concerns - (page - 1) * PAGE_SIZE)
        print(f"{page:5d} {n:5d} {s * 1e3:9.1f} {d * 1e3:8.1f} {a * 1e3:7.1f} {a / s:9.2f} "
              f"{d / s:10.2f} {a / d:8.2f}  {same}")
    med = {k: statistics.median(r[i] for r in rows) for i, k in
           ((1, "store"), (2, "door"), (3, "api"))}
    print("ratios of medians: api/store = HTTP answer over the store's read of the same rows;"
          " door/store = privacy and records; api/door = HTTP and JSON")
    print(f"RESULT rows={args.concerns} page_size={PAGE_SIZE} pages_timed={len(rows)} "
          f"store_ms={med['store'] * 1e3:.1f} door_ms={med['door'] * 1e3:.1f} "
          f"api_ms={med['api'] * 1e3:.1f} api_over_store={med['api'] / med['store']:.2f} "
          f"door_over_store={med['door'] / med['store']:.2f} "
          f"api_over_door={med['api'] / med['door']:.2f} "
          f"same_rows={all(r[4] for r in rows)}")


if __name__ == "__main__":
    main()
