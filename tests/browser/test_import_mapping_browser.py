"""The Import page's mapping step in Chromium, on a desk and on a phone: a file with
misnamed columns mapped by editing the tables' cells, checked, and saved as a profile.
Screenshots (artifacts/screenshots/import_mapping_*) are looked at."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS
from tests.test_mapping_edit import WALK

pytestmark = pytest.mark.browser

ROW_PX = 35      # a data editor's row (and header) height
COLUMN_PX = 200  # a "medium" column


def shot(page: Any, name: str, anchor: Any) -> None:
    """A screenshot of the viewport with ``anchor`` at its top (Streamlit scrolls its own
    container, so a full-page shot would show the top only)."""
    anchor.evaluate("e => e.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(300)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"import_mapping_{name}.png"))


def choose(page: Any, grid: Any, row: int, column: int, text: str) -> None:
    """Pick ``text`` in the select cell at ``row``, ``column`` (0-based, below the
    header) of a data editor, as a person does: double-click the cell, type, pick."""
    grid.evaluate("e => e.scrollIntoView({block: 'center'})")
    page.wait_for_timeout(500)
    box = grid.bounding_box()
    x = box["x"] + column * COLUMN_PX + COLUMN_PX / 2
    y = box["y"] + ROW_PX * (row + 1) + ROW_PX / 2
    combo = page.locator("#portal [role=combobox]")
    for _ in range(3):  # the first click on a grid may only focus it
        page.mouse.dblclick(x, y)
        try:
            combo.wait_for(timeout=2_000)
            break
        except PlaywrightTimeout:  # not open yet: try again
            continue
    combo.press_sequentially(text)
    page.get_by_role("option", name=text, exact=True).click()


def row_index(grid: Any, first_cell: str) -> int:
    """The row (0-based) whose first cell starts with ``first_cell``, read from the
    grid's accessible table (the canvas has no text)."""
    grid.locator("td").first.wait_for(state="attached", timeout=30_000)
    rows = [t.strip() for t in grid.locator("[role=row]").all_inner_texts()][1:]  # no header
    return next(i for i, t in enumerate(rows) if t.startswith(first_cell))


@pytest.mark.parametrize(("width", "height"), [(1400, 900), (390, 844)])
def test_map_a_file_by_its_cells_check_and_save(page: Any, staff_app_url: str,
                                                tmp_path: Path, width: int,
                                                height: int) -> None:
    page.set_viewport_size({"width": width, "height": height})
    src = tmp_path / "walk.csv"
    src.write_text(WALK)
    page.goto(f"{staff_app_url}/import_data")
    page.locator("input[type=file]").set_input_files(str(src))
    page.get_by_text("was taken for Open or closed by its name").wait_for(timeout=60_000)
    tag = "desk" if width > 800 else "phone"
    page.get_by_test_id("stDataFrame").first.locator("td").first.wait_for(
        state="attached", timeout=30_000)  # the grid is drawn
    shot(page, f"{tag}_1_columns", page.get_by_text("1. Columns"))
    shot(page, f"{tag}_2_flagged", page.get_by_text("Columns not used"))
    # the check waits for the person's answers
    expect(page.get_by_text("Before the rows can be checked")).to_be_visible()
    assert page.get_by_test_id("stMetric").count() == 0

    fields = page.get_by_test_id("stDataFrame").first
    expect(page.get_by_text("Category code – required")).to_have_count(1)
    choose(page, fields, row_index(fields, "Category code"), 1, "What")
    # the file's code column is used now (the grid draws only the cells in view, so
    # the words under the table tell it on a phone too)
    expect(page.get_by_text("Columns not used: What")).to_have_count(0, timeout=30_000)
    expect(page.get_by_text("Category code – required")).to_have_count(0)
    page.get_by_text("Use column 'Status' for Open or closed").click()
    metric = page.get_by_test_id("stMetric")
    expect(metric.filter(has_text="Would be accepted")).to_contain_text("4", timeout=60_000)
    values = page.get_by_test_id("stDataFrame").nth(1)
    choose(page, values, row_index(values, "Waiting on parts"), 1, "open")
    expect(metric.filter(has_text="Would be accepted")).to_contain_text("5", timeout=60_000)
    expect(metric.filter(has_text="Rejected")).to_contain_text("1")
    expect(page.locator("td", has_text="missing required value")).to_have_count(1)
    shot(page, f"{tag}_3_values", page.get_by_text("2. Values"))
    shot(page, f"{tag}_4_report", page.get_by_text("3. Validation report"))

    name = page.get_by_label("Profile name")
    name.fill(f"Walk audit {tag}")
    name.press("Enter")
    page.get_by_role("button", name="Save profile").click()
    page.get_by_text(f"Saved the profile Walk audit {tag}").wait_for(timeout=60_000)
    expect(page.get_by_text(f"This mapping is saved as Walk audit {tag}.")).to_be_visible()
    expect(page.get_by_role("button", name="Save profile")).to_have_count(0)
    expect(page.get_by_role("button", name="Download profile (TOML)")).to_be_enabled()
    shot(page, f"{tag}_5_keep", page.get_by_text("4. Keep this mapping"))
