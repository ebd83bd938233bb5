"""The Import page in Chromium: upload, validation report, commit with progress, nothing lost."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser

CSV = ("ID,Category,Created,Status,Latitude,Longitude\n"
       "web-1,graffiti,2025-05-01 22:00,open,39.045,-94.580\n"
       "web-2,graffiti,2025-05-02 09:00,closed,39.046,-94.581\n"
       "web-3,graffiti,2025-05-03 10:00,open,,\n"
       "web-4,graffiti,2025-05-03 10:00,sometimes,39.047,-94.582\n")


def test_upload_check_and_import(page: Any, staff_app_url: str, tmp_path: Path) -> None:
    src = tmp_path / "walk_audit.csv"
    src.write_text(CSV)
    page.goto(f"{staff_app_url}/import_data")
    page.get_by_text("Validation report").wait_for(state="detached", timeout=5_000)
    page.locator("input[type=file]").set_input_files(str(src))
    page.get_by_text("Validation report").wait_for(timeout=60_000)
    def metric(label: str) -> Any:
        return page.get_by_test_id("stMetric").filter(has_text=label)

    expect(metric("Rows read")).to_contain_text("4", timeout=30_000)
    expect(metric("Would be accepted")).to_contain_text("2")
    expect(metric("Rejected")).to_contain_text("2")
    # st.dataframe draws on a canvas; its cells exist as hidden accessible table cells.
    expect(page.locator("td", has_text="status 'sometimes' is not one of")).to_have_count(1)
    screenshot(page, "import_report")
    page.get_by_role("button", name="Import 2 rows into concerns").click()
    page.get_by_text("Imported 2 rows into concerns from walk_audit.csv").wait_for(
        timeout=60_000)
    screenshot(page, "import_done")


def test_unusable_upload_says_why(page: Any, staff_app_url: str, tmp_path: Path) -> None:
    src = tmp_path / "minutes.csv"
    src.write_text("item,owner\nTrim hedges,Parks\n")
    page.goto(f"{staff_app_url}/import_data")
    page.locator("input[type=file]").set_input_files(str(src))
    page.get_by_text("has no coordinate columns").wait_for(timeout=60_000)
    assert page.get_by_role("button", name="Import").count() == 0
    screenshot(page, "import_refused")
