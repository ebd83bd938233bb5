"""Filing a report with the keyboard alone, in Chromium: no mouse, no map click.

Tab moves between controls, typing fills them, Enter and Space press buttons and pick
options. The place is typed as a cross street of the sample district; the stored report
must sit where those two streets cross, computed here with shapely from the stored
street lines.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyproj
import pytest
import shapely
from playwright.sync_api import expect

from layers.schema import Layer
from layers.store import open_store
from tests.browser.conftest import _serve, screenshot

pytestmark = pytest.mark.browser

UTM = pyproj.CRS.from_epsg(32615)
DESCRIPTION = "Fresh tags on the corner shop, typed without a mouse"

#: What the focused element is, in words a test can compare.
FOCUSED = """() => {
  const e = document.activeElement;
  if (!e) return '';
  const group = e.closest('[role=radiogroup]');
  return [e.tagName, e.getAttribute('aria-label') || '', (e.innerText || '').trim(),
          group ? 'radios:' + (group.getAttribute('aria-label') || '') : ''].join('|');
}"""


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The app as the public sees it, on a sample district this test can read back."""
    db = tmp_path_factory.mktemp("keyboard") / "sample.gpkg"
    for url in _serve(tmp_path_factory, str(db)):
        yield url, db


def tab_to(page: Any, want: str, *, most: int = 120) -> str:
    """Press Tab until the focused element's description contains ``want``."""
    seen = []
    for _ in range(most):
        page.keyboard.press("Tab")
        now = str(page.evaluate(FOCUSED))
        if want in now:
            return now
        seen.append(now)
    raise AssertionError(f"Tab never reached {want!r}; it went through {seen}")


def settle(page: Any) -> None:
    page.wait_for_timeout(300)
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=30_000)


def crossing(db: Path, a: str, b: str) -> shapely.Point:
    with open_store(db) as s:
        streets = s.read(Layer.STREETS).to_crs(UTM)
    got = shapely.intersection(
        shapely.union_all(streets[streets["name"] == a].geometry.values),
        shapely.union_all(streets[streets["name"] == b].geometry.values))
    assert isinstance(got, shapely.Point), got
    return got


def test_a_report_is_filed_by_keyboard_at_a_typed_cross_street(
        page: Any, served: tuple[str, Path]) -> None:
    url, db = served
    page.goto(f"{url}/report")
    expect(page.get_by_label("Type the place", exact=True)).to_be_visible(timeout=60_000)
    settle(page)
    page.locator("body").focus()  # focus, not a click: where Tab starts from

    tab_to(page, "|Type the place|")
    page.keyboard.type("39th and Linwood")
    page.keyboard.press("Enter")  # submits the find form
    expect(page.get_by_text("Chosen place: 39th St & Linwood Blvd")).to_be_visible(
        timeout=30_000)
    settle(page)

    tab_to(page, "|Category|")
    page.keyboard.type("Graffiti")
    page.keyboard.press("Enter")
    settle(page)
    expect(page.get_by_test_id("stSelectbox").filter(has_text="Category")
           .locator("input")).to_have_value("Graffiti")

    tab_to(page, "TEXTAREA|Description|")
    page.keyboard.type(DESCRIPTION)
    # leaving the box commits its text; the next stop is the time of day, whose radio
    # buttons the arrow keys move between (it starts on "Not sure", after "Night")
    page.keyboard.press("Tab")
    settle(page)
    expect(page.get_by_label("Description")).to_have_value(DESCRIPTION)
    if "radios:When is it a problem?" not in str(page.evaluate(FOCUSED)):
        tab_to(page, "radios:When is it a problem?")  # the rerun may have moved focus
    page.keyboard.press("ArrowLeft")
    settle(page)
    expect(page.get_by_role("radio", name="Night")).to_be_checked()

    tab_to(page, "Submit report")
    page.keyboard.press("Space")
    success = page.get_by_text("Thank you. Your report")
    new_anyway = page.get_by_role("button", name="None of these: submit mine as a new report")
    expect(success.or_(new_anyway)).to_be_visible(timeout=30_000)
    if new_anyway.is_visible():
        settle(page)
        tab_to(page, "None of these")
        page.keyboard.press("Space")
    expect(success).to_be_visible(timeout=30_000)
    screenshot(page, "report_by_keyboard")

    with open_store(db) as s:
        concerns = s.read(Layer.CONCERNS)
    new = concerns[concerns["description"] == DESCRIPTION]
    assert len(new) == 1, len(new)
    assert new["service_code"].iloc[0] == "graffiti"
    assert new["time_of_day"].iloc[0] == "night"
    x, y = pyproj.Transformer.from_crs(4326, UTM, always_xy=True).transform(
        new.geometry.iloc[0].x, new.geometry.iloc[0].y)
    assert shapely.Point(x, y).distance(crossing(db, "39th St", "Linwood Blvd")) < 0.5


#: The element focused inside the map's frame, and the focus ring it shows: its own
#: outline, or for the legend's hidden fold box that of the label drawn for it.
FRAME_FOCUS = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return null;
  const shown = e.classList.contains('cpted-legend-toggle') ? e.nextElementSibling : e;
  const s = getComputedStyle(shown);
  return {what: e.className.baseVal !== undefined ? 'svg' : (e.id || e.className || e.tagName),
          tag: e.tagName, outline: s.outlineStyle, width: parseFloat(s.outlineWidth),
          colour: s.outlineColor};
}"""


def test_focus_in_the_map_is_visible_and_skips_its_shapes(
        page: Any, served: tuple[str, Path]) -> None:
    url, _ = served
    page.goto(f"{url}/report")
    frame_el = page.wait_for_selector('iframe[title="streamlit_folium.st_folium"]',
                                      timeout=60_000)
    frame = frame_el.content_frame()
    frame.wait_for_selector("#cpted-legend", timeout=60_000)
    settle(page)
    page.locator("body").focus()
    tab_to(page, "BUTTON||Find|")
    seen: list[dict[str, Any]] = []
    for _ in range(12):  # the map's own stops, then out of the frame
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.tagName") != "IFRAME":
            break
        got = frame.evaluate(FRAME_FOCUS)
        if got is not None:
            seen.append(got)
    kinds = [s["what"] for s in seen]
    assert "svg" not in kinds, kinds  # no street, area or concern is a tab stop
    assert "map_div" in kinds, kinds  # the map's box, where arrow keys pan
    assert any("leaflet-control-zoom-in" in k for k in kinds), kinds
    assert "cpted-legend-toggle" in " ".join(kinds), kinds
    assert len(seen) <= 8, kinds  # the map, its buttons, layer menu, legend, attribution
    for s in seen:
        assert s["outline"] != "none" and s["width"] >= 2, s
    screenshot(page, "map_focus")
