"""Every page's map on a network that reaches only the app.

Each request to another host is aborted (``assets.install_routes``). Each map must still
draw: Leaflet's container has height, the store's base map is painted (its street
colour on the tile canvases, and neighborhood labels where the whole district is in
view), no file the map asked for failed, and no console error reports a failed load.
Then the same with a configured tile server that cannot be reached.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from cpted.maps.basemap import AREA_LABEL, STREET_COLOUR
from tests.browser.assets import install_routes
from tests.browser.conftest import _serve, screenshot
from tests.conftest import ROOT

pytestmark = pytest.mark.browser

# the frame Streamlit shows (during a rerun a second one, not yet laid out, has width -1)
MAP_FRAME = 'iframe[title="streamlit_folium.st_folium"]:not([width="-1"])'

#: Page path -> whether the whole district is in view (so neighborhood labels show).
MAP_PAGES = {"": True, "report": False, "neighborhoods": True,
             "spots": True, "survey": True, "assess": False,
             "audits": True, "streetlights": True, "patrol": True}

#: Counts the base map's street and label colours on the tile canvases, sampling pixels.
PAINTED = """([street, label]) => {
  const rgb = h => [1, 3, 5].map(i => parseInt(h.slice(i, i + 2), 16));
  const s = rgb(street), l = rgb(label);
  const near = (d, i, t) => Math.abs(d[i] - t[0]) + Math.abs(d[i + 1] - t[1])
                            + Math.abs(d[i + 2] - t[2]) < 30;
  let tiles = 0, streets = 0, labels = 0;
  for (const c of document.querySelectorAll('canvas.leaflet-tile')) {  // ground and names panes
    if (!c.width) continue;
    tiles++;
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    for (let i = 0; i < d.length; i += 4 * 3) {
      if (near(d, i, s)) streets++; else if (near(d, i, l)) labels++;
    }
  }
  const box = document.querySelector('.leaflet-container');
  return {tiles, streets, labels, height: box ? box.getBoundingClientRect().height : 0};
}"""


#: Pages whose map is a still one, drawn on the server (``show_place``).
STILL_PAGES = {"concern"}


def pages_with_maps(call: str = "show_map(") -> set[str]:
    """The URL path of every page whose source shows a map (page files named as in app.py)."""
    out = set()
    for path in (ROOT / "app_pages").glob("*.py"):
        if call in path.read_text() and not path.name.startswith("_"):
            out.add("" if path.stem == "map" else path.stem)
    return out


def test_the_lists_below_cover_every_page_with_a_map() -> None:
    assert pages_with_maps() <= set(MAP_PAGES), pages_with_maps() - set(MAP_PAGES)
    assert pages_with_maps("show_place(") <= STILL_PAGES


@pytest.fixture
def offline(browser: Any) -> Iterator[tuple[Any, dict[str, list[str]]]]:
    ctx = browser.new_context(viewport={"width": 1400, "height": 900})
    seen: dict[str, list[str]] = {"served": [], "missing": [], "blocked": [], "errors": []}
    install_routes(ctx, seen["served"], seen["missing"], seen["blocked"])
    pg = ctx.new_page()

    def console(m: Any) -> None:
        url = (m.location or {}).get("url", "")
        if m.type == "error" and not re.search(r"/_stcore/(health|host-config)$", url):
            seen["errors"].append(f"{m.text} ({url})")

    pg.on("console", console)
    yield pg, seen
    ctx.close()


def painted(page: Any, labels: bool) -> dict[str, float]:
    """Wait for the first map's base map to be painted; return what was counted."""
    page.wait_for_selector(MAP_FRAME, timeout=90_000)
    frame = next(f for f in page.frames if "st_folium" in f.url)
    frame.wait_for_selector(".leaflet-container", timeout=60_000)
    result: dict[str, float] = {}
    for _ in range(60):  # tiles are fetched and painted after the map appears
        result = frame.evaluate(PAINTED, [STREET_COLOUR, AREA_LABEL])
        if result["streets"] > 50 and (result["labels"] > 20 or not labels):
            break
        page.wait_for_timeout(500)
    return result


@pytest.mark.parametrize("path", sorted(MAP_PAGES))
def test_each_page_map_draws_with_no_other_host(
        staff_app_url: str, offline: tuple[Any, dict[str, list[str]]], path: str) -> None:
    page, seen = offline
    page.goto(f"{staff_app_url}/{path}")
    if path == "patrol":  # the hot-spot map appears once the hot spots are found
        button = page.get_by_role("button", name="Find hotspots")
        expect(button).to_be_visible(timeout=60_000)
        button.click()
    got = painted(page, MAP_PAGES[path])
    screenshot(page, f"offline_{path or 'map'}")
    assert got["height"] > 100, got
    assert got["tiles"] > 0 and got["streets"] > 50, got  # the store's streets are drawn
    if MAP_PAGES[path]:
        assert got["labels"] > 20, got  # and the neighborhoods' names
    assert any("/assets/leaflet/dist/leaflet.js" in u for u in seen["served"]), seen["served"]
    assert any(re.search(r"/basemap/[0-9a-f]{16}/streets/", u) for u in seen["served"])
    assert not seen["blocked"], seen["blocked"]
    assert not seen["missing"], seen["missing"]
    assert not [e for e in seen["errors"] if "Failed to load" in e or "404" in e], seen["errors"]


def test_drawing_a_spot_on_the_audit_map_loads_every_icon(
        staff_app_url: str, offline: tuple[Any, dict[str, list[str]]]) -> None:
    page, seen = offline
    page.goto(f"{staff_app_url}/assess")
    painted(page, False)
    frame = page.frame_locator(MAP_FRAME)
    frame.locator(".leaflet-draw-draw-circlemarker").click()
    frame.locator(".leaflet-container").click(position={"x": 400, "y": 200})
    page.wait_for_timeout(1_500)
    assert any(u.endswith("/assets/leaflet-draw/dist/images/spritesheet.svg")
               for u in seen["served"]), seen["served"]
    assert not seen["missing"] and not seen["blocked"], (seen["missing"], seen["blocked"])


@pytest.fixture(scope="module")
def unreachable_tiles_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app with a configured tile server no request can reach."""
    yield from _serve(tmp_path_factory, CPTED_STAFF_MODE="true",
                      CPTED_TILE_URL="https://tiles.unreachable.example/{z}/{x}/{y}.png",
                      CPTED_TILE_ATTRIBUTION="Unreachable Tiles Ltd")


@pytest.mark.parametrize("path", ["", "report"])
def test_maps_still_draw_when_the_configured_tile_server_is_unreachable(
        unreachable_tiles_url: str, offline: tuple[Any, dict[str, list[str]]],
        path: str) -> None:
    page, seen = offline
    page.goto(f"{unreachable_tiles_url}/{path}")
    got = painted(page, MAP_PAGES[path])
    assert got["height"] > 100 and got["streets"] > 50, got
    assert any("tiles.unreachable.example" in u for u in seen["blocked"])  # it was asked
    frame = page.frame_locator(MAP_FRAME)
    expect(frame.locator(".leaflet-control-attribution")).to_contain_text(
        "Unreachable Tiles Ltd")
    screenshot(page, f"offline_tiles_unreachable_{path or 'map'}")


@pytest.mark.parametrize("path", sorted(STILL_PAGES))
def test_each_still_map_draws_with_no_other_host(
        staff_app_url: str, offline: tuple[Any, dict[str, list[str]]], path: str) -> None:
    page, seen = offline
    page.goto(f"{staff_app_url}/{path}")
    still = page.get_by_role("img", name=re.compile("^Map: ")).first
    expect(still).to_be_visible(timeout=60_000)
    screenshot(page, f"offline_{path}")
    assert still.bounding_box()["height"] > 100
    src = still.get_attribute("src") or ""
    assert src.startswith("data:image/svg+xml;base64,")  # in the page: nothing to fetch
    svg = base64.b64decode(src.split(",", 1)[1]).decode()
    assert svg.count('class="street"') > 0  # the store's streets
    assert svg.count('class="street-name"') > 0  # with their names
    assert svg.count('class="pin"') == 1
    assert not seen["blocked"], seen["blocked"]
    assert not seen["missing"], seen["missing"]
    assert not [e for e in seen["errors"] if "Failed to load" in e or "404" in e], seen["errors"]
