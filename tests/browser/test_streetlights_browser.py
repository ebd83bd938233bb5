"""The Streetlights page in Chromium: the darkness map draws its lux picture and streets."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.browser.test_report_browser import MAP_FRAME, settle

pytestmark = pytest.mark.browser


def test_darkness_map_and_work_list(page: Any, app_url: str) -> None:
    page.goto(f"{app_url}/streetlights")
    frame = page.frame_locator(MAP_FRAME).first
    frame.locator(".leaflet-container").wait_for(timeout=90_000)
    settle(page)
    # the lux picture is an image overlay; poles that are out are dots
    expect(frame.locator("img.leaflet-image-layer")).to_have_count(1, timeout=30_000)
    lines = frame.locator(".leaflet-overlay-pane path.leaflet-interactive")
    expect(lines.first).to_be_attached()
    assert lines.count() == 101  # the sample poles that are out (status or matched report)
    screenshot(page, "streetlights-1-darkness")
    page.get_by_role("button", name="Make the work list").click()
    expect(page.get_by_text("fixes", exact=False).first).to_be_visible(timeout=90_000)
    settle(page)
    expect(page.frame_locator(MAP_FRAME).nth(1).locator(".leaflet-container")).to_be_visible(
        timeout=60_000)
    page.get_by_text("Dark street length after the work").scroll_into_view_if_needed()
    screenshot(page, "streetlights-2-after")
