"""The Patrol page in Chromium: hotspots drawn as cells, then routes with numbered stops."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import screenshot
from tests.browser.test_report_browser import MAP_FRAME, settle

pytestmark = pytest.mark.browser


COUNT_JS = """(sel) => {
    const f = document.querySelector('iframe[title="streamlit_folium.st_folium"]');
    const d = f && f.contentDocument;
    return d ? d.querySelectorAll(sel).length : 0;
}"""


def count(page: Any, selector: str) -> int:
    """How many elements in the map's frame match ``selector``."""
    return int(page.evaluate(COUNT_JS, selector))


def test_patrol_page_finds_hotspots_and_plans_routes(page: Any, staff_app_url: str) -> None:
    from playwright.sync_api import expect

    page.goto(f"{staff_app_url}/patrol", wait_until="networkidle")
    expect(page.get_by_role("heading", name="Patrol")).to_be_visible(timeout=60_000)
    settle(page)
    page.get_by_role("button", name="Find hotspots").click()
    settle(page)
    frame = page.frame_locator(MAP_FRAME)
    frame.locator(".leaflet-container").wait_for(timeout=60_000)
    page.wait_for_function(f"() => ({COUNT_JS})('path.leaflet-interactive') > 20",
                           timeout=60_000)
    cells = count(page, "path.leaflet-interactive")
    expect(page.get_by_text("Which forecast caught the later events best?")).to_be_visible()
    page.locator(MAP_FRAME).scroll_into_view_if_needed()
    screenshot(page, "patrol-hotspots")

    page.get_by_role("button", name="Plan routes").click()
    expect(page.get_by_text("every route is back at the station")).to_be_visible(timeout=90_000)
    settle(page)
    page.wait_for_function(f"() => ({COUNT_JS})('.leaflet-marker-icon') > 3",
                           timeout=60_000)
    stops = count(page, ".leaflet-marker-icon")
    assert count(page, "path.leaflet-interactive") > cells  # the route line and the station
    summary = page.get_by_text("every route is back at the station").inner_text()
    n = int(summary.split(" visit ")[1].split(" stop")[0])
    assert stops == n
    expect(page.get_by_role("button", name="Download GPX for the phone")).to_be_visible()
    page.locator(MAP_FRAME).scroll_into_view_if_needed()
    screenshot(page, "patrol-routes")
    # every file the map asked for came from the app, none from another host
    assert not page.context.missing, page.context.missing  # type: ignore[attr-defined]
    assert not page.context.blocked, page.context.blocked  # type: ignore[attr-defined]
