"""The app in Debian's Chromium: the Leaflet map loads and draws the sample's concerns."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser

# the frame Streamlit shows (during a rerun a second one, not yet laid out, has width -1)
MAP_FRAME = 'iframe[title="streamlit_folium.st_folium"]:not([width="-1"])'


def test_map_page_draws_the_concerns(page: Any, app_url: str) -> None:
    page.goto(app_url)
    page.wait_for_selector(MAP_FRAME, timeout=60_000)
    frame = page.frame_locator(MAP_FRAME)
    frame.locator(".leaflet-container").wait_for(timeout=60_000)
    legend = frame.locator("#cpted-legend")
    legend.wait_for(timeout=30_000)
    assert "Dark area / lighting" in legend.inner_text()
    # Each concern and each streetlight is an SVG circle (a path) in Leaflet's overlay pane.
    markers = frame.locator(".leaflet-overlay-pane path.leaflet-interactive")
    page.wait_for_function(
        """() => {
            const f = document.querySelector('iframe[title="streamlit_folium.st_folium"]');
            const d = f && f.contentDocument;
            return d && d.querySelectorAll('.leaflet-overlay-pane path').length > 3000;
        }""", timeout=60_000)
    count = markers.count()
    # 2,000 concerns + 1,128 streetlights + 725 streets + 8 neighborhoods in the sample.
    assert count >= 2000 + 1128
    assert page.get_by_text("Concerns shown").is_visible()
    shot = screenshot(page, "map_page")
    assert shot.stat().st_size > 50_000
    served = page.context.served
    assert any(u.endswith("/assets/leaflet/dist/leaflet.js") for u in served), served
    assert not page.context.blocked, page.context.blocked


def test_filter_narrows_what_the_map_draws(page: Any, app_url: str) -> None:
    page.goto(app_url)
    page.wait_for_selector(MAP_FRAME, timeout=60_000)
    frame = page.frame_locator(MAP_FRAME)
    frame.locator("#cpted-legend").wait_for(timeout=60_000)
    # The label carries the count, which other tests in the session may change.
    label = re.compile(r"^Concerns \([\d,]+\)$")
    page.locator("[data-testid=stSidebar]").get_by_text(label).click()
    page.wait_for_function(
        """() => {
            const f = document.querySelector('iframe[title="streamlit_folium.st_folium"]');
            const d = f && f.contentDocument;
            const legend = d && d.querySelector('#cpted-legend');
            return legend && !legend.innerText.includes('Dark area');
        }""", timeout=60_000)
    assert "Streetlight: out" in frame.locator("#cpted-legend").inner_text()
    screenshot(page, "map_without_concerns")
