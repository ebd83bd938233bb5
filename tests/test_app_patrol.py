"""AppTest of the Patrol page: staff only, hotspots with their test, routes, the visit log."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app_pages._text import md
from cpted import patrol as pt
from layers.schema import Layer
from layers.store import open_store
from tests.conftest import ROOT, by_label

APP = str(ROOT / "app.py")
pytestmark = pytest.mark.usefixtures("fresh_streamlit_caches")


def open_page(sample_db: Path, monkeypatch: pytest.MonkeyPatch, staff: bool) -> AppTest:
    monkeypatch.setenv("CPTED_DB_URL", str(sample_db))
    monkeypatch.setenv("CPTED_STAFF_MODE", "true" if staff else "false")
    monkeypatch.chdir(ROOT)
    app = AppTest.from_file(APP, default_timeout=180)
    app.switch_page("app_pages/patrol.py").run()
    assert not app.exception, app.exception
    return app


def test_the_public_is_told_patrol_planning_is_for_staff(
        sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_page(sample_db, monkeypatch, staff=False)
    assert any("officers and staff only" in i.value for i in app.info)
    assert not [b for b in app.button if b.label == "Find hotspots"]


def test_patrol_page_from_hotspots_to_routes_and_a_logged_visit(
        sample_db: Path, monkeypatch: pytest.MonkeyPatch, map_returns: list[dict]) -> None:
    app = open_page(sample_db, monkeypatch, staff=True)
    by_label(app.number_input, "Weight").set_value(1.0)  # open concerns
    by_label(app.button, "Find hotspots").click().run()
    assert not app.exception, app.exception
    metrics = {m.label: m.value for m in app.metric}
    hot = [int(x) for x in metrics["Hot spots (99/95/90%)"].split("/")]
    assert sum(hot) > 0
    assert int(metrics["Events"].replace(",", "")) > 100
    counted = next(c.value for c in app.caption if c.value.startswith("Counted: "))
    assert "open concerns x1" in counted and md("night-time concerns x2 (night only)") in counted
    table = next(d.value for d in app.dataframe if "PAI" in d.value.columns)
    names = {m.removesuffix(" (chosen)") for m in table["Method"]}
    assert {"Counts", "Kernel density", "Gi* z-score", "Prospective hotspotting",
            "Blend"} <= names
    assert table["Method"].str.endswith("(chosen)").sum() == 2  # one method, both shares
    assert set(table["Top area"]) == {"1%", "5%"}
    assert "PEI*" in table.columns
    # whether it beats counts, in a sentence
    said = [x.value for x in [*app.info, *app.warning] if "validation window" in x.value]
    assert len(said) == 1 and "counts" in said[0]
    # the busiest cells beside their Gi* result
    top = next(d.value for d in app.dataframe if "Gi* result" in d.value.columns)
    assert top["Events in the cell"].is_monotonic_decreasing and len(top) == 10

    # a click on the map sets the station
    with open_store(sample_db) as s:
        from cpted import network as nw
        from layers.schema import Layer

        net = nw.from_lines(s.read(Layer.STREETS))
    lon, lat = net.lonlat[10]
    map_returns[0] = {"last_clicked": {"lng": float(lon), "lat": float(lat)}}
    app.run()
    station = by_label(app.text_input, "Station (lon, lat)")
    assert station.value == f"{lon:.6f}, {lat:.6f}"
    # how the store's streets were joined, in words, beside the network's size
    joined = next(c.value for c in app.caption if c.value.startswith("Network: "))
    assert "Joining the lines: " in joined and "junction" in joined.split("Joining")[1]
    by_label(app.number_input, "Shift (minutes)").set_value(120)
    by_label(app.number_input, "Officers").set_value(2)
    by_label(app.button, "Plan routes").click().run()
    assert not app.exception, app.exception
    summary = app.success[0].value
    assert summary.startswith("2 officer(s) visit") and "120-minute shift" in summary
    stops = next(d.value for d in app.dataframe if "arrive" in d.value.columns)
    assert set(stops["officer"]) <= {1, 2} and len(stops) > 2
    assert stops["arrive"].str.match(r"^\d\d:\d\d$").all()

    # log a visit to the first stop
    by_label(app.text_input, "Officer").set_value("Ofc. Rivera")
    by_label(app.text_area, "Note").set_value("Quiet; two lights out on the corner")
    next(b for b in app.button if b.label == "Log the visit").click().run()
    assert not app.exception, app.exception
    assert any(x.value.startswith("Logged: Officer 1, stop 1") for x in app.success)
    with open_store(sample_db) as s:
        logged = pt.visits(s)
    assert len(logged) == 1 and logged.iloc[0]["officer"] == "Ofc. Rivera"
    shown = next(d.value for d in app.dataframe if "officer" in d.value.columns
                 and "note" in d.value.columns)
    assert shown.iloc[0]["note"] == "Quiet; two lights out on the corner"


def test_a_visit_to_a_point_is_logged_and_mapped_without_a_plan(
        sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import streamlit_folium

    drawn: list[tuple[str, str]] = []

    def fake_st_folium(fig: object, **kwargs: object) -> dict:
        drawn.append((str(kwargs.get("key")), fig.get_root().render()))  # type: ignore[attr-defined]
        return {}

    monkeypatch.setattr(streamlit_folium, "st_folium", fake_st_folium)
    app = open_page(sample_db, monkeypatch, staff=True)
    by_label(app.text_input, "Officer").set_value("Ofc. <b>Lee</b>")
    by_label(app.text_input, "Or a point (lon, lat)").set_value("-94.5751, 39.0402")
    next(b for b in app.button if b.label == "Log the visit").click().run()
    assert not app.exception, app.exception
    assert any(x.value == "Logged: Point -94.57510, 39.04020" for x in app.success)
    assert any(c.value.startswith("1 visit in the last 30 days") for c in app.caption)
    maps = [html for key, html in drawn if key == "visits-map"]
    assert maps, [key for key, _ in drawn]
    assert "39.0402" in maps[-1] and "-94.5751" in maps[-1]
    assert "Ofc. &lt;b&gt;Lee&lt;/b&gt;" in maps[-1] and "<b>Lee</b>" not in maps[-1]
    # a point that is not one is refused and nothing is stored
    by_label(app.text_input, "Officer").set_value("Ofc. Lee")
    by_label(app.text_input, "Or a point (lon, lat)").set_value("somewhere")
    next(b for b in app.button if b.label == "Log the visit").click().run()
    assert any("longitude, latitude" in e.value for e in app.error)
    with open_store(sample_db) as s:
        assert len(pt.visits(s)) == 1


def test_patrol_page_shows_emerging_hot_spots_and_the_responsible_use_box(
        sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import streamlit_folium

    drawn: dict[str, str] = {}

    def fake_st_folium(fig: object, **kwargs: object) -> dict:
        drawn[str(kwargs.get("key"))] = fig.get_root().render()  # type: ignore[attr-defined]
        return {}

    monkeypatch.setattr(streamlit_folium, "st_folium", fake_st_folium)
    from datetime import UTC, datetime

    with open_store(sample_db) as s:  # a visit inside the records' period, where they are
        concerns = s.read(Layer.CONCERNS)
        busiest = concerns.geometry.x.round(3).astype(str) + concerns.geometry.y.round(3).astype(
            str)
        at = concerns[busiest == busiest.value_counts().index[0]].geometry.iloc[0]
        pt.log_visit(s, officer="Ofc. Rivera", place="Busy corner", lon=at.x, lat=at.y,
                     visited_at=datetime(2025, 11, 1, 21, 0, tzinfo=UTC))
        # planted: police record 14 incidents there in the weeks after the visit
        import geopandas as gpd
        import pandas as pd

        after = pd.date_range("2025-11-03", "2025-12-20", periods=14, tz="UTC")
        s.add(Layer.INCIDENTS, gpd.GeoDataFrame(
            {"id": [f"inc-{k}" for k in range(14)], "category": "disorder",
             "occurred_datetime": after, "source": "police"},
            geometry=gpd.points_from_xy([at.x] * 14, [at.y] * 14), crs=4326))
    app = open_page(sample_db, monkeypatch, staff=True)
    by_label(app.button, "Find hotspots").click().run()
    assert not app.exception, app.exception

    # responsible use: the evidence mix in words and a chart, feedback, how this was made
    text = " ".join(m.value for m in app.markdown)
    assert "Responsible use" in text and "How this was made" in text
    assert any(w.value.startswith("Of the weight the hotspots count: resident reports")
               for w in app.markdown)
    assert "no race, ethnicity, sex, age or income" in text
    assert "Koper \\(1995" in text and "Ensign et al. 2018" in text
    assert "police records" in next(w.value for w in app.markdown
                                    if w.value.startswith("Of the weight"))
    [loop] = [w.value for w in app.warning if "patrol visits" in w.value]
    assert loop.startswith("Records rose after patrol visits in 1 cell(s)")
    rose = next(d.value for d in app.dataframe if "Records after" in d.value.columns)
    assert rose["Place"].tolist() == ["Busy corner"]
    assert rose["First visit"].tolist() == ["2025-11-01 16:00"]  # local time (Chicago)
    assert int(rose["Records after"].iloc[0]) >= 14 > int(rose["Records before"].iloc[0])
    # stops are capped at Koper's 15 minutes
    assert by_label(app.number_input, "Minutes at each stop").max == 15

    # emerging hot spots: a count per class, the map and its words
    assert by_label(app.radio, "Slices of time").options == ["Months", "Weeks"]
    by_label(app.button, "Find emerging hot spots").click().run()
    assert not app.exception, app.exception
    counts = next(d.value for d in app.dataframe if "What it means" in d.value.columns)
    assert len(counts) == 17 and counts["Cells"].sum() > 0
    assert counts.loc[counts["Pattern"] == "New hot spot", "What it means"].iloc[0] == (
        "a hot spot in the latest month and never before")
    assert "emerging-map" in drawn and "Emerging hot spots" in drawn["emerging-map"]
    described = next(c.value for c in app.caption if c.value.startswith("24 months from"))
    assert "Mann" in described
    # the box now says how the emerging hot spots were made as well
    assert any("the same test in each slice of time" in m.value and "24 months" in m.value
               for m in app.markdown)
    hot_found = int(counts.loc[counts["Pattern"].str.contains("hot spot"), "Cells"].sum())
    assert any(m.value.startswith(f"**{hot_found:,} cell(s) with a hot spot pattern**")
               for m in app.markdown)
