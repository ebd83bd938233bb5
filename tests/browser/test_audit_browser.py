"""A CPTED audit on a phone-sized screen in Chromium: draw a spot, answer, save, see scores."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.assets import install_routes
from tests.browser.conftest import screenshot
from tests.browser.test_report_browser import MAP_FRAME, settle

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True,
                              has_touch=True)
    ctx.served, ctx.missing, ctx.blocked = [], [], []
    install_routes(ctx, ctx.served, ctx.missing, ctx.blocked)
    pg = ctx.new_page()
    yield pg
    ctx.close()


def answer(page: Any, question: str, option: str) -> None:
    group = page.get_by_test_id("stRadio").filter(has_text=question)
    group.get_by_text(option, exact=True).click()


def open_section(page: Any, title: str) -> None:
    page.get_by_test_id("stExpander").filter(has_text=title).locator("summary").click()


def test_audit_on_a_phone(phone: Any, app_url: str) -> None:
    page = phone
    page.goto(f"{app_url}/assess")
    frame = page.frame_locator(MAP_FRAME)
    container = frame.locator(".leaflet-container")
    container.wait_for(timeout=60_000)
    expect(page.get_by_text("No place drawn yet.")).to_be_visible(timeout=30_000)
    # the draw toolbar came from the leaflet-draw package, not a failed CDN request
    expect(frame.locator(".leaflet-draw-draw-circlemarker")).to_be_visible()
    frame.locator(".leaflet-draw-draw-circlemarker").click()
    box = container.bounding_box()
    container.click(position={"x": box["width"] / 2 + 20, "y": box["height"] / 2 - 30})
    expect(page.get_by_text("Place: a spot at")).to_be_visible(timeout=30_000)
    settle(page)
    screenshot(page, "audit-phone-1-place")

    page.get_by_role("textbox", name="Place name").fill("Corner store lot")
    page.get_by_role("textbox", name="Audited by").fill("Maple Block Association")
    page.get_by_role("textbox", name="Audited by").press("Tab")
    settle(page)
    page.get_by_test_id("stRadio").filter(has_text="Day or night").get_by_text(
        "Night", exact=True).click()
    settle(page)
    open_section(page, "Lighting (6)")
    answer(page, "The light is bright enough to recognise a face", "Dark")
    answer(page, "All the lights here are working.", "No")
    open_section(page, "Natural surveillance (6)")
    answer(page, "Windows and doors of occupied buildings look onto this place.", "All along")
    open_section(page, "Feeling of safety (2)")
    answer(page, "How safe do you feel here?", "Unsafe")
    page.get_by_test_id("stRadio").filter(has_text="How safe do you feel here?"
                                          ).scroll_into_view_if_needed()
    screenshot(page, "audit-phone-2-checklist")
    page.get_by_role("button", name="Save audit").click()
    expect(page.get_by_text("Saved: Corner store lot")).to_be_visible(timeout=30_000)
    settle(page)
    overall = page.get_by_test_id("stMetric").filter(has_text="Overall (design)")
    # 4 of the 41 night items answered: too few for an overall score (MIN_COVERAGE)
    expect(overall).to_contain_text("–")
    expect(page.get_by_text("Not enough answers: 4 of 41 items answered")).to_be_visible()
    expect(page.get_by_text("Report each light that is out")).to_be_visible()
    # the page fits the phone: nothing wider than the screen
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1
    expect(page.get_by_role("button", name="Save audit")).to_have_count(0)  # result replaces form
    page.wait_for_timeout(500)
    expect(page.get_by_text("Saved: Corner store lot")).to_be_in_viewport()  # scrolled to it
    screenshot(page, "audit-phone-3-scores")
    page.get_by_text("Report each light that is out").scroll_into_view_if_needed()
    screenshot(page, "audit-phone-4-recommendations")
    assert any("leaflet.draw.js" in u for u in page.context.served)
    assert not page.context.missing and not page.context.blocked
