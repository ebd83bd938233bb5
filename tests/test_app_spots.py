"""AppTest flows of the Problem spots page, with st_folium patched to return a drawing or a
click: reports gathered on the map become a spot; a plan's owner type must be chosen."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import shapely
from shapely.geometry import mapping
from streamlit.testing.v1 import AppTest

from app_pages._text import md
from cpted import spots as sp
from cpted.access import Access
from cpted.accounts import Actor
from cpted.privacy import Role
from layers.schema import Layer
from layers.settings import Settings
from layers.store import open_store
from tests.conftest import ROOT, by_label, frame_with

APP = str(ROOT / "app.py")
PAGE = "app_pages/spots.py"
#: An area in the west of the sample district, drawn as on the map (lon, lat).
AREA = shapely.Polygon([(-94.590, 39.035), (-94.582, 39.034), (-94.579, 39.040),
                        (-94.584, 39.045), (-94.591, 39.042)])

pytestmark = pytest.mark.usefixtures("fresh_streamlit_caches")


@pytest.fixture
def app(sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("CPTED_DB_URL", str(sample_db))
    monkeypatch.setenv("CPTED_STAFF_MODE", "true")  # the demo acts as a coordinator
    monkeypatch.chdir(ROOT)
    return AppTest.from_file(APP, default_timeout=90)


def coordinator_reports(sample_db: Path) -> Any:
    """The open reports as a coordinator sees them, read through the access layer."""
    with open_store(sample_db) as s:
        seen = Access(s, Actor("t", "Test Coordinator", Role.COORDINATOR)).layer(
            Layer.CONCERNS)
    return seen[seen["status"] == "open"]


def feature(geom: shapely.Geometry) -> dict[str, Any]:
    return {"type": "Feature", "properties": {}, "geometry": mapping(geom)}


def gathered(app: AppTest) -> list[str]:
    return list(app.session_state["spot-gathered"])


def test_drawing_an_area_gathers_exactly_the_reports_inside_and_makes_a_spot(
        app: AppTest, sample_db: Path, map_returns: list[dict[str, Any]]) -> None:
    reports = coordinator_reports(sample_db)
    # expected independently: shapely's point-in-polygon over the layer
    inside = [shapely.contains(AREA, g) for g in reports.geometry]
    expected = set(reports.loc[inside, "service_request_id"])
    assert 0 < len(expected) < len(reports)
    assert all(AREA.boundary.distance(g) > 1e-7 for g in reports.geometry)  # none on the edge

    app.switch_page(PAGE).run()
    assert not app.exception
    assert "No reports gathered yet." in [c.value for c in app.caption]
    assert by_label(app.button, "Create problem spot").disabled
    map_returns[0] = {"last_active_drawing": feature(AREA)}
    app.run()
    assert not app.exception
    got = gathered(app)
    assert set(got) == expected and len(got) == len(expected)
    reports_ = "report" if len(expected) == 1 else "reports"
    assert any(f"Gathered {len(expected)} {reports_} inside the drawn area." in m.value
               for m in app.success)
    text = [m.value for m in app.markdown]
    assert f"**{len(expected)} {reports_} gathered**" in text
    # the list names each report by its category and date, not by its id
    one = reports[reports["service_request_id"] == got[0]].iloc[0]
    line = next(t for t in text if t.startswith(f"**{md(one['service_name'])}**"))
    assert one["service_request_id"] not in line
    with open_store(sample_db) as s:
        zone = s.get_setting("timezone") or Settings().timezone
    assert one["requested_datetime"].tz_convert(zone).strftime("%Y-%m-%d") in line

    app.run()  # the map returns the same drawing on every rerun: it gathers once
    assert sorted(gathered(app)) == sorted(got)
    by_label(app.text_input, "Title").input("West end <i>alleys</i>")
    by_label(app.button, "Create problem spot").click().run()
    assert not app.exception and not app.error
    assert any("created with" in m.value for m in app.success)
    with open_store(sample_db) as s:
        table = sp.spots(s)
        row = table[table["title"] == "West end <i>alleys</i>"]
        assert len(row) == 1
        assert set(sp.spot_reports(s, row["id"].iloc[0])) == expected
    assert gathered(app) == []  # cleared for the next spot
    statuses = frame_with(app, "title").value
    assert list(statuses.columns[:2]) == ["title", "status"]  # the name comes before the id
    assert statuses.set_index("title").at["West end <i>alleys</i>", "status"] == (
        sp.SpotStatus.NO_PLAN.value)


def test_clicking_a_report_adds_it_and_remove_takes_it_out(
        app: AppTest, sample_db: Path, map_returns: list[dict[str, Any]]) -> None:
    reports = coordinator_reports(sample_db)
    target = reports.iloc[7]
    app.switch_page(PAGE).run()
    # a click about 5 m north of the report's marker
    map_returns[0] = {"last_object_clicked": {"lat": target.geometry.y + 0.00005,
                                              "lng": target.geometry.x}}
    app.run()
    assert not app.exception
    assert gathered(app) == [target["service_request_id"]]
    assert not by_label(app.button, "Create problem spot").disabled
    app.button(key=f"drop-{target['service_request_id']}").click().run()
    assert gathered(app) == []
    app.run()  # the same click, returned again, does not bring it back
    assert gathered(app) == []
    assert "No reports gathered yet." in [c.value for c in app.caption]


def test_a_plan_needs_its_owner_type_chosen(app: AppTest, sample_db: Path,
                                            map_returns: list[dict[str, Any]]) -> None:
    reports = coordinator_reports(sample_db)
    target = reports.iloc[3]
    app.switch_page(PAGE).run()
    owner_type = by_label(app.selectbox, "Owner type")
    assert owner_type.value is None  # no default a hurried user would store unawares
    map_returns[0] = {"last_object_clicked": {"lat": target.geometry.y,
                                              "lng": target.geometry.x}}
    app.run()
    assert by_label(app.checkbox, "Link the 1 gathered report").value
    by_label(app.text_input, "What will be done").input("Ask the city to trim the hedges")
    by_label(app.text_input, "Owner").input("Parks Department")
    by_label(app.button, "Create action plan").click().run()
    assert not app.exception
    assert app.error and "not saved" in app.error[0].value
    assert any("choose the owner type" in m.value for m in app.markdown)
    with open_store(sample_db) as s:
        assert sp.plans(s).empty
    by_label(app.selectbox, "Owner type").set_value("city department")
    by_label(app.button, "Create action plan").click().run()
    assert not app.exception and not app.error
    with open_store(sample_db) as s:
        plans = sp.plans(s)
    assert len(plans) == 1 and plans["owner_kind"].iloc[0] == "city department"
    assert plans["owner_name"].iloc[0] == "Parks Department"
    assert plans["reports"].iloc[0] == 1
