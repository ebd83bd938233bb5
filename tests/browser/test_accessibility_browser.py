"""Every page checked by axe-core (WCAG 2.1 A and AA rules), in Chromium, at a desktop
size and a phone size: no serious or critical violation.

axe-core comes from npm with the map files (``cpted/web/package.json``) and is read from
disk into each page and into each of its frames (the map's), so nothing is downloaded.
Every result, whatever its impact, is written to ``artifacts/axe/`` (git-ignored) for a
person to read.

What Streamlit itself draws and we cannot change is listed in :data:`STREAMLIT_OWN`, each
by rule and selector with the reason; nothing else is excused.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from playwright.sync_api import expect

from cpted.maps.assets import NODE_MODULES
from tests.browser.assets import install_routes
from tests.browser.conftest import screenshot
from tests.conftest import ROOT, need

pytestmark = pytest.mark.browser

AXE = NODE_MODULES / "axe-core" / "axe.min.js"
RESULTS = ROOT / "artifacts" / "axe"
MAP_FRAME = 'iframe[title="streamlit_folium.st_folium"]'
SIZES = {"desktop": (1400, 900), "phone": (390, 844)}
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

#: Streamlit's own markup that fails a rule, by (rule, CSS selector, why we leave it).
STREAMLIT_OWN = [
    ("list", '[data-testid="stSidebarNavItems"]',
     "st.navigation with sections wraps each section's links in a <div> inside the "
     "sidebar's <ul>; the list markup is Streamlit's and takes no option"),
    ("listitem", '[data-testid="stSidebarNavItems"] li',
     "the same: each page link's <li> sits in that <div>, not directly in the <ul>"),
]


def app_pages() -> list[str]:
    """The URL path of every page app.py lists (the Map page is the root)."""
    files = re.findall(r'st\.Page\("app_pages/([a-z_]+)\.py"', (ROOT / "app.py").read_text())
    return ["" if f == "map" else f for f in files]


#: The pages staff see in the demo (a coordinator); Accounts needs an administrator.
STAFF_PAGES = [p for p in app_pages() if p != "accounts"]
#: The public's pages that differ from staff's: the sign-in form, the Report page's
#: duplicate wording, a Concern page's approximate place, the closed Patrol page.
PUBLIC_PAGES = ["", "report", "concern", "patrol"]
#: Pages whose Leaflet map must be drawn (and checked inside its frame).
MAP_PAGES = {"", "report", "neighborhoods", "survey", "spots", "assess", "audits",
             "streetlights", "patrol"}

#: Runs axe on the document and the frames it reached; returns every result, with the
#: nodes Streamlit's own markup accounts for moved from "violations" to "excused".
RUN_AXE = """async ([tags, known]) => {
  const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}, iframes: true});
  const isKnown = (rule, node) => node.target.length === 1 && known.some(([id, sel]) => {
    const el = document.querySelector(node.target[0]);
    return id === rule && el !== null && el.matches(sel);
  });
  const brief = (v, nodes) => ({id: v.id, impact: v.impact, help: v.help,
    nodes: nodes.map(n => ({target: n.target, html: n.html.slice(0, 300),
                            summary: (n.failureSummary || '').slice(0, 300)}))});
  const violations = [], excused = [];
  for (const v of r.violations) {
    const ours = v.nodes.filter(n => !isKnown(v.id, n));
    const theirs = v.nodes.filter(n => isKnown(v.id, n));
    if (ours.length) violations.push(brief(v, ours));
    if (theirs.length) excused.push(brief(v, theirs));
  }
  return {url: r.url, violations, excused,
          incomplete: r.incomplete.map(v => brief(v, v.nodes.slice(0, 5))),
          frames_checked: [...r.violations, ...r.incomplete, ...r.passes].some(
            v => v.nodes.some(n => n.target.length > 1))};
}"""


def ready(page: Any, path: str, *, with_map: bool = True) -> None:
    """Wait until the page has run and its map (``with_map``) or still map is drawn."""
    page.wait_for_selector('[data-testid="stAppViewContainer"]', timeout=60_000)
    page.wait_for_timeout(500)
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=60_000)
    if path == "patrol" and with_map:  # the hot-spot map appears once they are found
        button = page.get_by_role("button", name="Find hotspots")
        expect(button).to_be_visible(timeout=60_000)
        button.click()
        page.wait_for_timeout(500)
        expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=90_000)
    if path in MAP_PAGES and with_map:
        page.wait_for_selector(MAP_FRAME, timeout=90_000)
        frame = page.frame_locator(MAP_FRAME).first
        frame.locator(".leaflet-container").wait_for(timeout=60_000)
        page.wait_for_timeout(2_000)  # tiles and the legend settle
    if path == "concern":
        expect(page.get_by_role("img", name=re.compile("^Map: ")).first).to_be_visible(
            timeout=60_000)


def idle(page: Any) -> None:
    """Wait until Streamlit has been done running for a second (its "Running... Stop"
    status is its own, and only there while a script runs)."""
    for _ in range(60):
        expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=60_000)
        page.wait_for_timeout(1_000)
        if page.get_by_test_id("stStatusWidget").count() == 0:
            return
    raise AssertionError("the page never stopped running")


def check(page: Any, name: str) -> dict[str, Any]:
    """Run axe on ``page`` (and its frames); write the results as ``name``.json."""
    idle(page)
    for frame in page.frames:
        if frame.url.startswith("http://127.0.0.1"):
            frame.add_script_tag(path=str(AXE))
    got: dict[str, Any] = page.evaluate(RUN_AXE, [WCAG, [[r, s] for r, s, _ in STREAMLIT_OWN]])
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(got, indent=1))
    return got


def serious(got: dict[str, Any]) -> list[str]:
    return [f"{v['impact']} {v['id']}: {v['help']} at {[n['target'] for n in v['nodes']]}"
            for v in got["violations"] if v["impact"] in ("serious", "critical")]


@pytest.fixture
def sized(browser: Any, request: pytest.FixtureRequest) -> Any:
    need(AXE.is_file(), f"axe-core is not installed at {AXE}: run `make web-assets` "
         "(npm ci --prefix cpted/web)")
    width, height = SIZES[request.param]
    ctx = browser.new_context(viewport={"width": width, "height": height})
    install_routes(ctx)
    page = ctx.new_page()
    yield page
    ctx.close()


def test_the_page_lists_follow_app_py() -> None:
    assert set(STAFF_PAGES) | {"accounts"} == set(app_pages())
    assert set(PUBLIC_PAGES) <= set(app_pages()) and set(app_pages()) >= MAP_PAGES


@pytest.mark.parametrize("sized", list(SIZES), indirect=True)
@pytest.mark.parametrize("path", STAFF_PAGES)
def test_each_page_as_staff_has_no_serious_violation(
        staff_app_url: str, sized: Any, path: str, request: pytest.FixtureRequest) -> None:
    size = request.node.callspec.params["sized"]
    sized.goto(f"{staff_app_url}/{path}")
    ready(sized, path)
    got = check(sized, f"staff-{size}-{path or 'map'}")
    if path in MAP_PAGES:
        assert got["frames_checked"], "axe did not reach the map's frame"
    assert not serious(got), serious(got)


@pytest.mark.parametrize("sized", list(SIZES), indirect=True)
@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_each_page_as_the_public_has_no_serious_violation(
        app_url: str, sized: Any, path: str, request: pytest.FixtureRequest) -> None:
    size = request.node.callspec.params["sized"]
    sized.goto(f"{app_url}/{path}")
    ready(sized, path, with_map=path != "patrol")  # closed to the public: no map
    got = check(sized, f"public-{size}-{path or 'map'}")
    assert not serious(got), serious(got)


@pytest.mark.parametrize("sized", ["desktop"], indirect=True)
def test_the_accounts_page_as_an_administrator(staff_app_url: str, sized: Any) -> None:
    """Accounts is listed for administrators only: switch the demo's role, then open it
    from the navigation (a new page load would start as a coordinator again); checked
    wide, then narrowed to the phone size in the same session."""
    sized.goto(staff_app_url)
    ready(sized, "")
    box = sized.get_by_test_id("stSelectbox").filter(has_text="Acting as")
    box.click()
    sized.get_by_role("option", name="admin", exact=True).click()
    expect(sized.get_by_role("link", name=re.compile("Accounts"))).to_be_visible(
        timeout=30_000)
    sized.get_by_role("link", name=re.compile("Accounts")).click()
    expect(sized.get_by_role("heading", name="Accounts").first).to_be_visible(timeout=30_000)
    ready(sized, "accounts")
    wide = check(sized, "admin-desktop-accounts")
    sized.set_viewport_size({"width": SIZES["phone"][0], "height": SIZES["phone"][1]})
    sized.wait_for_timeout(1_500)
    narrow = check(sized, "admin-phone-accounts")
    screenshot(sized, "axe_accounts_phone")
    assert not serious(wide), serious(wide)
    assert not serious(narrow), serious(narrow)
