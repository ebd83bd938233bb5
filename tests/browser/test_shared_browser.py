"""A shared deployment in Chromium: the app on PostGIS, a coordinator signs in, changes a
status, and finds it in the change log; the public sees neither the form nor the log."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import screenshot
from tests.browser.test_report_browser import choose, settle

pytestmark = pytest.mark.browser


def sign_in(page: Any, user: str, password: str) -> Any:
    """Sign in through the sidebar's form; returns the sidebar."""
    side = page.get_by_test_id("stSidebar")
    side.get_by_text("Sign in", exact=True).first.click()
    side.get_by_label("User name").fill(user)
    side.get_by_label("Password", exact=True).fill(password)
    side.get_by_role("button", name="Sign in").click()
    settle(page)
    return side


def test_sign_in_change_a_status_and_read_the_change_log(page: Any,
                                                          shared_app_url: str) -> None:
    from playwright.sync_api import expect

    page.goto(f"{shared_app_url}/concern", wait_until="networkidle")
    expect(page.get_by_role("heading", name="Concern")).to_be_visible(timeout=60_000)
    settle(page)
    expect(page.get_by_text("Status changes are made by coordinators")).to_be_visible()
    expect(page.get_by_role("link", name="Change log")).to_have_count(0)

    side = sign_in(page, "dana", "correct horse 1")
    expect(side.get_by_text("Signed in as")).to_contain_text("Dana Coordinator")
    # the form starts on the current status; the coordinator picks the new one
    choose(page, "New status", "Acknowledged")
    note = page.get_by_label("Note (required)")
    note.fill("Checked on the evening walk; the light is out")
    page.get_by_role("button", name="Save status").click()
    settle(page)
    expect(page.get_by_text("is now “Acknowledged”")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Reporter contact (staff only)")).to_be_visible()
    screenshot(page, "shared-concern-signed-in")

    page.get_by_role("link", name="Change log").click()
    expect(page.get_by_role("heading", name="Change log")).to_be_visible(timeout=30_000)
    settle(page)
    expect(page.get_by_test_id("stMetricValue").first).to_have_text("1")
    screenshot(page, "shared-change-log")


def test_admin_pages_read_clearly(page: Any, shared_app_url: str) -> None:
    """The administrator's pages, for the screenshots: accounts with the permission table,
    and the categories and instrument."""
    from playwright.sync_api import expect

    page.goto(shared_app_url, wait_until="networkidle")
    settle(page)
    sign_in(page, "root", "correct horse 2")
    page.get_by_role("link", name="Accounts").click()
    expect(page.get_by_role("heading", name="Accounts")).to_be_visible(timeout=30_000)
    settle(page)
    page.get_by_text("What each role may do").click()
    settle(page)
    screenshot(page, "shared-accounts")
    page.get_by_role("link", name="Categories & instrument").click()
    expect(page.get_by_role("heading", name="Report categories")).to_be_visible(timeout=30_000)
    expect(page.get_by_role("button", name="Save categories")).to_be_visible()
    settle(page)
    screenshot(page, "shared-setup")
