"""The app as the public sees it in Chromium: no sign-in, no staff mode.

A sensitive report's duplicate panel names the report but never its distance, text,
address or exact place; nobody else's audit offers an "Edit this audit" button; a
description holding a Markdown image and an ``<img>`` is shown as text, and the browser
never asks another host for either picture.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pyproj
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import _serve, screenshot
from tests.browser.test_report_browser import MAP_FRAME, choose, settle

pytestmark = pytest.mark.browser

DRUG_DESCRIPTION = "Dealer in the blue hatchback behind Quillfeather Laundromat every night"
DRUG_ADDRESS = "417 Zephyrine Close, rear lot"
INTERNAL_NOTE = "Passed to Officer Brannigan-Oduya, case 77-31"
ATTACKER = "attacker.invalid"
GRAFFITI_DESCRIPTION = (f"Tags on the wall ![x](http://{ATTACKER}/p.png) and "
                        f'<img src="http://{ATTACKER}/q.png"> by the bus stop')
GRAFFITI_ADDRESS = f"![a](http://{ATTACKER}/addr.png) Corner of Elm"
#: Metres from the centre of the 250 m cell: the sensitive report's exact place, and
#: where the browser clicks. Both lie in the same cell, some 180 m apart, so the click's
#: coordinates on the page never share four decimals with the exact place.
EXACT_OFFSET = (70.0, 60.0)
CLICK_OFFSET = (-70.0, -60.0)
SIZES = {"wide": (1400, 900), "phone": (390, 844)}


@dataclass
class Seeded:
    url: str
    drug_id: str
    drug_lonlat: tuple[float, float]
    click_lonlat: tuple[float, float]
    graffiti_id: str
    audits: int


def _cell_places(store: Any, grid_m: float) -> tuple[tuple[float, float], tuple[float, float]]:
    """An exact place and a click place in one grid cell near the district's middle."""
    from cpted.privacy import utm_epsg
    from layers.crs import WGS84
    from layers.schema import Layer

    west, south, east, north = store.read(Layer.NEIGHBORHOODS).total_bounds
    lon, lat = (west + east) / 2, (south + north) / 2
    fwd = pyproj.Transformer.from_crs(WGS84, utm_epsg(lon, lat), always_xy=True)
    x, y = fwd.transform(lon, lat)
    cx, cy = ((x // grid_m) + 0.5) * grid_m, ((y // grid_m) + 0.5) * grid_m

    def at(offset: tuple[float, float]) -> tuple[float, float]:
        out = fwd.transform(cx + offset[0], cy + offset[1], direction="INVERSE")
        return float(out[0]), float(out[1])

    return at(EXACT_OFFSET), at(CLICK_OFFSET)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    """The sample district plus a sensitive report and a hostile graffiti report, served
    with CPTED_STAFF_MODE unset (as the public)."""
    from cpted import concerns as cc
    from cpted.access import Access
    from cpted.accounts import Actor, public
    from cpted.assessments import list_assessments
    from cpted.privacy import Role
    from cpted.sample import load_sample
    from layers.settings import Settings
    from layers.store import open_store

    db = str(tmp_path_factory.mktemp("public") / "sample.gpkg")
    with open_store(db) as s:
        load_sample(s)
        exact, click = _cell_places(s, Settings().sensitive_grid_m)
        seed = Access(s, public("seed"))
        coordinator = Access(s, Actor("dana", "Dana Coordinator", Role.COORDINATOR))
        drug_id = seed.submit_report(cc.ReportDraft(
            service_code="drug_activity", lon=exact[0], lat=exact[1],
            description=DRUG_DESCRIPTION, address=DRUG_ADDRESS))
        coordinator.change_status(drug_id, "acknowledged", INTERNAL_NOTE,
                                  visibility="internal")
        graffiti_id = seed.submit_report(cc.ReportDraft(
            service_code="graffiti", lon=exact[0] + 0.003, lat=exact[1] + 0.002,
            description=GRAFFITI_DESCRIPTION, address=GRAFFITI_ADDRESS))
        audits = len(list_assessments(s))
    saved = os.environ.pop("CPTED_STAFF_MODE", None)
    try:
        server = _serve(tmp_path_factory, db)  # load_sample again: skips what is there
        url = next(server)
    finally:
        if saved is not None:
            os.environ["CPTED_STAFF_MODE"] = saved
    yield Seeded(url, drug_id, exact, click, graffiti_id, audits)
    for _ in server:  # run on past its one yield: the server is stopped
        pass


@dataclass
class Traffic:
    requests: list[str] = field(default_factory=list)
    aborted: list[str] = field(default_factory=list)


@pytest.fixture
def public_page(browser: Any, seeded: Seeded) -> Iterator[tuple[Any, Traffic]]:
    """A page that records every request. The app's own host is reached; a request to
    any other host is aborted and recorded (the maps need none)."""
    traffic = Traffic()
    own = re.match(r"https?://[^/]+", seeded.url)
    assert own is not None
    ctx = browser.new_context(viewport={"width": 1400, "height": 900})
    ctx.on("request", lambda r: traffic.requests.append(r.url))

    def handle(route: Any) -> None:
        url = route.request.url
        if url.startswith(own.group(0) + "/") or url.startswith("data:"):
            route.continue_()
            return
        traffic.aborted.append(url)
        route.abort()

    ctx.route("**/*", handle)
    pg = ctx.new_page()
    yield pg, traffic
    ctx.close()


def _text_everywhere(page: Any) -> tuple[str, str]:
    """The page's visible text, and the map frame's whole HTML (its data included)."""
    body = page.locator("body").inner_text()
    frame_html = page.evaluate(
        """() => {
            const f = document.querySelector('iframe[title="streamlit_folium.st_folium"]');
            const d = f && f.contentDocument;
            return d ? d.documentElement.outerHTML : '';
        }""")
    return body, frame_html


def _coordinate_forms(value: float) -> set[str]:
    """``value`` to four decimals, rounded and truncated."""
    return {f"{value:.4f}", f"{value:.6f}"[:-2]}


def _click_at(page: Any, lon: float, lat: float) -> None:
    """Click the report map at (lon, lat), found through the Leaflet map in the frame."""
    frame = page.frame_locator(MAP_FRAME)
    container = frame.locator(".leaflet-container")
    container.wait_for(timeout=60_000)
    page.wait_for_function(
        """() => {
            const f = document.querySelector('iframe[title="streamlit_folium.st_folium"]');
            const w = f && f.contentWindow;
            return w && w.L && Object.keys(w).some(k => k.startsWith('map_')
                                                    && w[k] instanceof w.L.Map);
        }""", timeout=60_000)
    point = page.evaluate(
        """([lat, lon]) => {
            const w = document.querySelector(
                'iframe[title="streamlit_folium.st_folium"]').contentWindow;
            const key = Object.keys(w).find(k => k.startsWith('map_') && w[k] instanceof w.L.Map);
            const p = w[key].latLngToContainerPoint([lat, lon]);
            return {x: p.x, y: p.y};
        }""", [lat, lon])
    box = container.bounding_box()
    assert 0 < point["x"] < box["width"] and 0 < point["y"] < box["height"], point
    container.click(position=point)


def test_public_sees_a_sensitive_duplicate_without_its_place_or_text(
        public_page: tuple[Any, Traffic], seeded: Seeded) -> None:
    page, traffic = public_page
    page.goto(f"{seeded.url}/report")
    expect(page.get_by_text("No place chosen yet")).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Acting as")).to_have_count(0)  # no staff-mode role picker
    _click_at(page, *seeded.click_lonlat)
    expect(page.get_by_text("Chosen place:")).to_be_visible(timeout=30_000)
    choose(page, "Category", "Suspected drug activity")
    page.get_by_role("button", name="Submit report").click()
    expect(page.get_by_text("near the place you chose")).to_be_visible(timeout=30_000)
    card = page.get_by_test_id("stVerticalBlock").filter(has_text=seeded.drug_id).filter(
        has=page.get_by_role("button", name="Me too")).last  # the innermost: its card
    expect(card).to_be_visible()
    expect(card).to_contain_text("Suspected drug activity")
    expect(card).to_contain_text("acknowledged")
    expect(card).to_contain_text(re.compile(r"\d+ supporters?"))
    expect(card.get_by_role("button", name="Me too")).to_be_visible()
    expect(page.get_by_text("Thank you. Your report")).to_have_count(0)
    settle(page)

    body, frame_html = _text_everywhere(page)
    lon, lat = seeded.drug_lonlat
    for secret in (DRUG_DESCRIPTION, DRUG_ADDRESS, INTERNAL_NOTE, "m away"):
        assert secret not in body, f"the Report page shows {secret!r}"
        assert secret not in frame_html, f"the report map holds {secret!r}"
    assert not re.search(r"within \d+ m", body), "the panel tells the search radius"
    for form in _coordinate_forms(lat) | _coordinate_forms(lon):
        assert form not in body, f"the Report page shows the exact coordinate {form}"
    for la in _coordinate_forms(lat):
        for lo in _coordinate_forms(lon):
            assert not re.search(rf"{re.escape(la)}\d*,\s*{re.escape(lo)}", frame_html), \
                "the report map holds the sensitive report's exact place"

    for name, (w, h) in SIZES.items():
        page.set_viewport_size({"width": w, "height": h})
        settle(page)
        card.scroll_into_view_if_needed()
        screenshot(page, f"public_duplicate_{name}")
    assert not [u for u in traffic.requests if ATTACKER in u]


def test_public_sees_no_edit_button_on_the_sample_audits(
        public_page: tuple[Any, Traffic], seeded: Seeded) -> None:
    page, _ = public_page
    page.goto(f"{seeded.url}/audits")
    expect(page.get_by_text("CPTED audits", exact=True)).to_be_visible(timeout=60_000)
    picker = page.get_by_test_id("stSelectbox").filter(
        has=page.get_by_text("Audit", exact=True)).locator("input")
    only = page.get_by_text("Only the person who recorded this audit")
    byline = page.get_by_text(re.compile(r"^(Day|Night) audit on .* by "))
    seen: set[str] = set()
    for n in range(3):  # the first few audits in the list, each by the sample loader
        settle(page)
        # a rerun can leave the last audit's caption on screen beside the new one
        # for a moment: wait until there is just one of each
        expect(only).to_have_count(1, timeout=30_000)
        expect(byline).to_have_count(1, timeout=30_000)
        expect(only).to_be_visible(timeout=30_000)
        expect(page.get_by_role("button", name="Edit this audit")).to_have_count(0)
        expect(page.get_by_text("Delete this audit")).to_have_count(0)
        seen.add(byline.inner_text())
        if n < 2:  # the next audit in the list (a rerun may swallow a key: try again)
            for _ in range(5):
                settle(page)
                picker.click()
                page.keyboard.press("ArrowDown")
                page.keyboard.press("Enter")
                settle(page)
                expect(byline).to_have_count(1, timeout=30_000)
                if byline.inner_text() not in seen:
                    break
    assert len(seen) == 3, seen  # three different audits were looked at
    assert seeded.audits >= 3, "the sample loader made too few audits"


def test_public_concern_page_shows_hostile_markup_as_text(
        public_page: tuple[Any, Traffic], seeded: Seeded) -> None:
    page, traffic = public_page
    page.goto(f"{seeded.url}/concern")
    expect(page.get_by_text("Concern", exact=True).first).to_be_visible(timeout=60_000)
    choose(page, "Concern", f"{seeded.graffiti_id} · Graffiti", starting=True)
    expect(page.get_by_text(GRAFFITI_DESCRIPTION, exact=True)).to_be_visible(timeout=30_000)
    expect(page.get_by_text(f"Address: {GRAFFITI_ADDRESS}", exact=True)).to_be_visible()
    page.wait_for_timeout(1_500)  # time for any picture the page asked for to be requested
    pictures = page.evaluate(
        """() => [...document.querySelectorAll('img')].map(i => i.src)""")
    assert not [p for p in pictures if ATTACKER in p], pictures
    for name, (w, h) in SIZES.items():
        page.set_viewport_size({"width": w, "height": h})
        settle(page)
        screenshot(page, f"public_concern_{name}")
    assert not [u for u in traffic.requests if ATTACKER in u], traffic.requests
    assert not [u for u in traffic.aborted if ATTACKER in u], traffic.aborted


def test_public_concern_page_links_to_no_other_host(
        public_page: tuple[Any, Traffic], seeded: Seeded) -> None:
    page, _ = public_page
    page.goto(f"{seeded.url}/concern")
    expect(page.get_by_text("Concern", exact=True).first).to_be_visible(timeout=60_000)
    choose(page, "Concern", f"{seeded.graffiti_id} · Graffiti", starting=True)
    expect(page.get_by_text(GRAFFITI_DESCRIPTION, exact=True)).to_be_visible(timeout=30_000)
    links = page.evaluate("() => [...document.querySelectorAll('a')].map(a => a.href)")
    assert not [h for h in links if ATTACKER in h], links
