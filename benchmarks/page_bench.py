"""Each page in Chromium: time until Streamlit is idle, and what its maps send.

Three stores, each served by ``streamlit run server.py`` on a free loopback port:

1. the sample district (``cpted sample``);
2. the sample district plus ``--concerns`` (100,000) generated concerns;
3. Kansas City's 246 real neighborhoods (``../shared/data``) with a generated street
   grid of ``--streets`` (40,000) named segments over them: the base map at city scale.

For stores 1 and 2, every page is opened ``--repeat`` times in a fresh browser page
(best of) and timed from navigation until Streamlit is idle (no "running" widget) with
its map, if any, drawn. The baseline is the Export page, which draws no map, timed in
the same run: each page's ratio is its time over the baseline's, so a slow machine moves
both. The map HTML each page sends (the rendered folium page, as ``st_folium`` receives
it) is measured through AppTest on the same store.

For store 3 the Map page is opened once and the bytes of every base-map tile the first
view loaded are summed: the basemap budget is 3 MB.

    .venv/bin/python benchmarks/page_bench.py [--concerns 100000] [--streets 40000]

Ends with one ``RESULT`` line: ``concern_s`` (Concern page on the sample, target under
2 s), ``worst_ratio_100k`` (slowest page over the baseline on the large store) and
``basemap_first_view_mb`` (target under 3).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.api_bench import free_port  # noqa: E402
from benchmarks.store_bench import generate  # noqa: E402
from layers.schema import Layer  # noqa: E402
from layers.store import open_store  # noqa: E402

LEAFLET, STILL = "leaflet", "still"
#: (URL path, page file, its map: a Leaflet map, a still one drawn on the server, or
#: none); the Export page is the baseline.
PAGES = [("", "map.py", LEAFLET), ("report", "report.py", LEAFLET),
         ("concern", "concern.py", STILL), ("neighborhoods", "neighborhoods.py", LEAFLET),
         ("spots", "spots.py", LEAFLET), ("assess", "assess.py", LEAFLET),
         ("audits", "audits.py", LEAFLET), ("streetlights", "streetlights.py", LEAFLET),
         ("patrol", "patrol.py", None), ("export", "export.py", None)]
BASELINE = "export"
CHROMIUM = os.environ.get("CPTED_CHROMIUM", "/usr/bin/chromium")


@contextmanager
def serving(db: Path, tiles: Path) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "CPTED_DB_URL": str(db), "CPTED_STAFF_MODE": "true",
           "CPTED_BASEMAP_DIR": str(tiles)}
    log = open(db.with_suffix(".log"), "w")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(ROOT / "server.py"),
                             "--server.port", str(port), "--server.address", "127.0.0.1",
                             "--server.headless", "true"], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the app did not start; see {log.name}") from None
                time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


def idle_time(browser: Any, url: str, has_map: str | None) -> float:
    """Seconds from navigation until Streamlit is idle with its map (if any) drawn."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 900})
    ctx.route("**/*", lambda r: r.continue_() if r.request.url.startswith(url[:22])
              else r.abort())
    page = ctx.new_page()
    start = time.perf_counter()
    page.goto(url)
    page.wait_for_selector("[data-testid=stMain]", timeout=120_000)
    if has_map == LEAFLET:
        page.wait_for_selector('iframe[title="streamlit_folium.st_folium"]', timeout=120_000)
        frame = next(f for f in page.frames if "st_folium" in f.url)
        frame.wait_for_selector(".leaflet-container", timeout=120_000)
    elif has_map == STILL:  # its image decoded and laid out
        page.wait_for_function("() => [...document.querySelectorAll('img[alt^=\"Map: \"]')]"
                               ".some(i => i.complete && i.naturalWidth > 0)", timeout=120_000)
    while True:  # idle: no running indicator for 300 ms
        page.wait_for_selector("[data-testid=stStatusWidget]", state="detached",
                               timeout=120_000)
        page.wait_for_timeout(300)
        if page.locator("[data-testid=stStatusWidget]").count() == 0:
            break
    took = time.perf_counter() - start - 0.3
    ctx.close()
    return took


def map_bytes(db: Path, tiles: Path) -> dict[str, int]:
    """The rendered map HTML (or still map SVG) each page sends, through AppTest with
    st_folium and the still maps recorded."""
    import streamlit_folium
    from streamlit.testing.v1 import AppTest

    from app_pages import _maps
    from cpted import server

    os.environ.update({"CPTED_DB_URL": str(db), "CPTED_STAFF_MODE": "true",
                       "CPTED_BASEMAP_DIR": str(tiles)})
    server.SERVING = True
    sizes: dict[str, int] = {}
    current = [""]

    def record(fig: Any, **kwargs: Any) -> dict[str, Any]:
        sizes[current[0]] = sizes.get(current[0], 0) + len(fig.get_root().render().encode())
        return {}

    streamlit_folium.st_folium = record
    draw = _maps.place_svg

    def still(*args: Any, **kwargs: Any) -> Any:
        drawn = draw(*args, **kwargs)
        sizes[current[0]] = sizes.get(current[0], 0) + len(drawn.svg.encode())
        return drawn

    _maps.place_svg = still
    os.chdir(ROOT)
    for path, page, has_map in PAGES:
        if has_map:
            current[0] = path or "map"
            AppTest.from_file(str(ROOT / "app.py"), default_timeout=300).switch_page(
                f"app_pages/{page}").run()
    return sizes


def street_grid(hoods: gpd.GeoDataFrame, n: int) -> gpd.GeoDataFrame:
    """About ``n`` named street segments on a grid over the neighborhoods' extent."""
    minx, miny, maxx, maxy = hoods.total_bounds
    side = int(np.sqrt(n / 2))
    xs, ys = np.linspace(minx, maxx, side + 1), np.linspace(miny, maxy, side + 1)
    lines, names, classes = [], [], []
    for i in range(side):
        for j in range(side):
            lines += [shapely.LineString([(xs[i], ys[j]), (xs[i + 1], ys[j])]),
                      shapely.LineString([(xs[i], ys[j]), (xs[i], ys[j + 1])])]
            names += [f"E {j + 1}th St", f"{i + 1}th Ave"]
            cls = "arterial" if j % 20 == 0 else "collector" if j % 5 == 0 else "local"
            classes += [cls, "arterial" if i % 20 == 0 else "local"]
    return gpd.GeoDataFrame({"id": [f"S{k}" for k in range(len(lines))], "name": names,
                             "class": classes}, geometry=lines, crs=4326)


def basemap_first_view(browser: Any, url: str) -> tuple[int, int]:
    """(tile bytes, tile count) the Map page's first view loads."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 900})
    got: list[int] = []

    def answered(r: Any) -> None:
        if "/basemap/" in r.url and r.status == 200:
            got.append(len(r.body()))

    ctx.on("response", answered)
    page = ctx.new_page()
    page.goto(url)
    page.wait_for_selector('iframe[title="streamlit_folium.st_folium"]', timeout=300_000)
    page.wait_for_timeout(8_000)  # every tile in view requested and answered
    ctx.close()
    return sum(got), len(got)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--concerns", type=int, default=100_000)
    ap.add_argument("--streets", type=int, default=40_000)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--basemap-only", action="store_true",
                    help="measure only the city-scale base map (store 3)")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    from cpted.sample import load_sample

    work = Path(tempfile.mkdtemp(prefix="page-bench-"))
    sample, large = work / "sample.gpkg", work / "large.gpkg"
    stores = [] if args.basemap_only else [("sample", sample),
                                            (f"{args.concerns:,} concerns", large)]
    if stores:
        with open_store(sample) as s:
            load_sample(s)
        with open_store(large) as s:
            load_sample(s)
            s.add(Layer.CONCERNS, generate(args.concerns, s.read(Layer.NEIGHBORHOODS)))
    results: dict[str, dict[str, float]] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM,
                                    args=["--no-sandbox", "--disable-gpu"])
        for label, db in stores:
            tiles = work / f"tiles-{db.stem}"
            with serving(db, tiles) as url:
                idle_time(browser, url, LEAFLET)  # warm: caches and the base map's tiles built
                times = {path: min(idle_time(browser, f"{url}/{path}", has_map)
                                   for _ in range(args.repeat)) for path, _, has_map in PAGES}
            results[label] = times
            sizes = map_bytes(db, tiles)
            base = times[BASELINE]
            print(f"\n{label}: baseline (Export page, no map) {base:.2f} s")
            print(f"{'page':<16}{'idle s':>8}{'ratio':>8}{'map kB':>13}")
            for path, _, _ in PAGES:
                name = path or "map"
                print(f"{name:<16}{times[path]:>8.2f}{times[path] / base:>8.2f}"
                      f"{sizes.get(name, 0) / 1024:>13.0f}")
        kc = ROOT.parent / "shared" / "data" / "kansas_city" / "kcmo_neighborhoods.geojson"
        mb = float("nan")
        if kc.exists():
            from layers.importer import import_file

            city = work / "kc.gpkg"
            with open_store(city) as s:
                import_file(s, kc, Layer.NEIGHBORHOODS)
                hoods = s.read(Layer.NEIGHBORHOODS)
                s.add(Layer.STREETS, street_grid(hoods, args.streets))
                counts = s.counts()
            with serving(city, work / "tiles-kc") as url:
                idle_time(browser, url, LEAFLET)  # builds the city's tiles once
                size, n = basemap_first_view(browser, url)
            mb = size / 1e6
            print(f"\nKansas City: {counts[Layer.NEIGHBORHOODS]} neighborhoods, "
                  f"{counts[Layer.STREETS]:,} street segments: first view of the Map page "
                  f"loads {n} base-map tiles, {mb:.2f} MB (budget 3 MB)")
        else:
            print(f"\n{kc} not found: the city-scale base map was not measured")
        browser.close()
    concern = results["sample"]["concern"] if stores else float("nan")
    large_label = f"{args.concerns:,} concerns"
    worst = max(t / results[large_label][BASELINE] for t in results[large_label].values()) \
        if stores else float("nan")
    if stores:
        print(f"\nConcern page on the sample: {concern:.2f} s (target under 2 s): "
              f"{'met' if concern < 2 else 'NOT met'}")
    print(f"RESULT concern_s={concern:.2f} worst_ratio_100k={worst:.2f} "
          f"basemap_first_view_mb={mb:.2f}")


if __name__ == "__main__":
    main()
