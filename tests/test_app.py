"""Page tests with Streamlit's AppTest (no browser; the map component is not rendered)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from layers.schema import Layer
from tests.conftest import ROOT

APP = str(ROOT / "app.py")


pytestmark = pytest.mark.usefixtures("fresh_streamlit_caches")


@pytest.fixture
def app(sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("CPTED_DB_URL", str(sample_db))
    monkeypatch.chdir(ROOT)
    return AppTest.from_file(APP, default_timeout=60)


def test_map_page_shows_the_sample_with_filters(app: AppTest) -> None:
    app.run()
    assert not app.exception
    assert app.title[0].value == "Map"
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Concerns shown"] == "2,000"
    category = app.sidebar.multiselect[0]
    assert category.label == "Category"
    category.set_value(["dark_area"]).run()
    metrics = {m.label: m.value for m in app.metric}
    shown = int(metrics["Concerns shown"].replace(",", ""))
    assert 0 < shown < 2000
    status = app.sidebar.multiselect[1]
    status.set_value(["open"]).run()
    assert int(app.metric[1].value.replace(",", "")) == int(
        app.metric[0].value.replace(",", ""))  # every concern shown is open


def test_map_page_on_an_empty_store_offers_the_sample(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CPTED_DB_URL", str(tmp_path / "empty.gpkg"))
    monkeypatch.chdir(ROOT)
    # the public may not load it (it is in the permission table) ...
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.button[0].click().run()
    assert "may not load the sample district" in at.error[0].value
    # ... the demo's coordinator may
    monkeypatch.setenv("CPTED_STAFF_MODE", "true")
    from app_pages import _state

    _state.settings.clear()
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert "store is empty" in at.info[0].value
    at.button[0].click().run()
    assert not at.exception
    assert {m.label: m.value for m in at.metric}["Concerns shown"] == "2,000"


def test_import_page_is_refused_to_the_public(app: AppTest) -> None:
    app.switch_page("app_pages/import_data.py").run()
    assert not app.exception
    assert "Importing data is for these roles: admin, coordinator, planner" in app.info[0].value
    assert not app.get("file_uploader")


def test_import_page_renders_its_form(app: AppTest, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CPTED_STAFF_MODE", "true")
    app.switch_page("app_pages/import_data.py").run()
    assert not app.exception
    assert app.title[0].value == "Import"
    assert app.selectbox[0].label == "Layer"
    assert "Concerns" in app.selectbox[0].options


def test_export_page_offers_every_layer_and_format(app: AppTest) -> None:
    app.switch_page("app_pages/export.py").run()
    assert not app.exception
    assert app.title[0].value == "Export"
    layer = app.selectbox[0]
    assert any(o.startswith("Concerns (2,000)") for o in layer.options)
    fmt = app.selectbox[1]
    assert len(fmt.options) == 5  # four file formats and Open311 for concerns
    assert any("Open311" in o for o in fmt.options)
    assert any("2,000 rows" in c.value for c in app.caption)
    assert any("never exported" in c.value for c in app.caption)
    button = app.get("download_button")[0]
    assert "concerns.geojson" in button.proto.label
    layer.set_value("incidents").run()
    assert "empty" in app.info[0].value
    assert len(app.selectbox[1].options) == 4


def test_map_page_lists_concerns_for_people_and_opens_one(app: AppTest) -> None:
    from cpted.tables import CONCERN_COLUMNS

    app.run()
    table = next(d.value for d in app.dataframe if "Concern id" in d.value.columns)
    # plain labels, the category's name first and the id last; no raw column names
    assert list(table.columns) == list(CONCERN_COLUMNS.values())
    assert not {"service_code", "service_request_id", "requested_datetime"} & set(table.columns)
    assert "Dark area / lighting" in set(table["Category"])
    # times in the app's time zone (the sample's), newest first
    import pandas as pd

    from cpted.sample import TIMEZONE
    from layers.store import open_store

    with open_store(os.environ["CPTED_DB_URL"]) as s:
        newest = s.read(Layer.CONCERNS).sort_values("requested_datetime").iloc[-1]
    assert table["Concern id"].iloc[0] == newest["service_request_id"]
    local = pd.Timestamp(newest["requested_datetime"]).tz_convert(TIMEZONE)
    assert table["Reported"].iloc[0] == f"{local:%Y-%m-%d %H:%M}"
    # selecting a row opens that concern on the Concern page
    picked = table["Concern id"].iloc[2]
    app.session_state["map-concerns"] = {"selection": {"rows": [2], "columns": []}}
    app.run()
    assert not app.exception, app.exception
    assert app.title[0].value == "Concern"
    assert app.session_state["concern_id"] == picked
    assert app.selectbox[0].value == picked
