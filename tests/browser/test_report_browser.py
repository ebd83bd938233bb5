"""Filing reports in Chromium: a click on the map, a marker, and hostile text shown literally."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser

# the frame Streamlit shows (during a rerun a second one, not yet laid out, has width -1)
MAP_FRAME = 'iframe[title="streamlit_folium.st_folium"]:not([width="-1"])'
XSS = '<img src=x onerror=alert(1)> and <script>alert("x")</script>'


def markers(page: Any) -> int:
    return int(page.evaluate(
        """() => {
            const f = document.querySelector('iframe[title="streamlit_folium.st_folium"]');
            const d = f && f.contentDocument;
            return d ? d.querySelectorAll('.leaflet-overlay-pane path.leaflet-interactive').length
                     : -1;
        }"""))


def settle(page: Any) -> None:
    """Wait until Streamlit has finished rerunning (a rerun would close an open dropdown)."""
    page.wait_for_timeout(300)
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=30_000)


def choose(page: Any, label: str, option: str, *, starting: bool = False) -> None:
    """Pick ``option`` in the select box ``label`` (with ``starting``, the option whose
    text starts with it, as "CR-1 · Graffiti" for "CR-1 · Graffiti · reported ...")."""
    box = page.get_by_test_id("stSelectbox").filter(has_text=label)
    name: Any = re.compile("^" + re.escape(option)) if starting else option
    for _ in range(5):
        settle(page)
        box.click()
        try:
            page.get_by_role("option", name=name, exact=not starting).first.click(
                timeout=5_000)
            break
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
    expect(box.locator("input")).to_have_value(name)  # the choice is the input's value
    settle(page)


def file_report(page: Any, app_url: str, *, dx: int, dy: int, description: str) -> None:
    page.goto(f"{app_url}/report")
    frame = page.frame_locator(MAP_FRAME)
    frame.locator(".leaflet-container").wait_for(timeout=60_000)
    page.wait_for_function("() => true")
    expect(page.get_by_text("No place chosen yet")).to_be_visible(timeout=30_000)
    box = frame.locator(".leaflet-container").bounding_box()
    frame.locator(".leaflet-container").click(
        position={"x": box["width"] / 2 + dx, "y": box["height"] / 2 + dy})
    expect(page.get_by_text("Chosen place:")).to_be_visible(timeout=30_000)
    choose(page, "Category", "Graffiti")
    field = page.get_by_label("Description")
    field.fill(description)
    field.press("Tab")  # commit the text to Streamlit before submitting
    settle(page)
    expect(field).to_have_value(description)
    page.get_by_role("button", name="Submit report").click()
    new_anyway = page.get_by_role("button", name="None of these: submit mine as a new report")
    success = page.get_by_text("Thank you. Your report")
    expect(success.or_(new_anyway)).to_be_visible(timeout=30_000)
    if new_anyway.is_visible():
        new_anyway.click()
    expect(success).to_be_visible(timeout=30_000)


def test_click_the_map_file_a_report_and_see_its_marker(page: Any, app_url: str) -> None:
    page.goto(f"{app_url}/report")
    page.frame_locator(MAP_FRAME).locator(".leaflet-container").wait_for(timeout=60_000)
    page.wait_for_function(
        """() => {
            const f = document.querySelector('iframe[title="streamlit_folium.st_folium"]');
            const d = f && f.contentDocument;
            return d && d.querySelectorAll('.leaflet-overlay-pane path').length > 100;
        }""", timeout=60_000)
    before = markers(page)
    file_report(page, app_url, dx=40, dy=30, description="Fresh tags on the bus shelter")
    page.wait_for_function(
        f"""() => {{
            const f = document.querySelector('iframe[title="streamlit_folium.st_folium"]');
            const d = f && f.contentDocument;
            return d && d.querySelectorAll(
                '.leaflet-overlay-pane path.leaflet-interactive').length === {before + 1};
        }}""", timeout=60_000)
    screenshot(page, "report_filed")


def test_hostile_description_never_executes_and_shows_literally(page: Any,
                                                               app_url: str) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    file_report(page, app_url, dx=-60, dy=-40, description=XSS)
    page.goto(f"{app_url}/concern")
    expect(page.get_by_text(XSS, exact=True)).to_be_visible(timeout=60_000)
    screenshot(page, "hostile_text_literal")
    page.goto(app_url)
    frame = page.frame_locator(MAP_FRAME)
    frame.locator("#cpted-legend").wait_for(timeout=60_000)
    # Hover every marker briefly would be slow; the tooltips' HTML is escaped server-side
    # (tests/test_maps.py). Here: no element the text describes exists, and nothing ran.
    injected = page.evaluate(
        """() => {
            const f = document.querySelector('iframe[title="streamlit_folium.st_folium"]');
            const docs = [document, f && f.contentDocument].filter(Boolean);
            return docs.reduce((n, d) => n + d.querySelectorAll('img[src="x"]').length, 0);
        }""")
    assert injected == 0
    assert dialogs == []
