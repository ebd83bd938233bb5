"""AppTest flows of following by e-mail, as the public: the Concern page's "Follow this
report" box (and the e-mail with a "me too"), the Report page's checkbox, the
Neighborhoods page's box with its feed link; errors beside the field, the address never
shown back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from layers.schema import Layer
from layers.store import open_store
from tests.conftest import ROOT, by_label

APP = str(ROOT / "app.py")
CLICK = {"lat": 39.0460, "lng": -94.5790}  # no open dark-area report within 50 m
ADDRESS = "neighbor.one@example.org"

pytestmark = pytest.mark.usefixtures("fresh_streamlit_caches")


@pytest.fixture
def app(sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("CPTED_DB_URL", str(sample_db))
    monkeypatch.delenv("CPTED_STAFF_MODE", raising=False)  # the public
    monkeypatch.setenv("CPTED_SECRET_KEY", "app-test-signing-key-0123456789")
    monkeypatch.chdir(ROOT)
    return AppTest.from_file(APP, default_timeout=60)


def follows(db: Path) -> pd.DataFrame:
    with open_store(db) as s:
        return pd.read_sql("SELECT * FROM follows", s.engine)


def page_text(app: AppTest) -> str:
    return "\n".join(str(e.value) for kind in ("markdown", "caption", "success", "error",
                                               "info", "text") for e in getattr(app, kind))


def a_report(db: Path) -> str:
    with open_store(db) as s:
        rows = s.read(Layer.CONCERNS)
        return str(rows.loc[rows["service_code"] == "graffiti", "service_request_id"].iloc[0])


def test_the_concern_page_follows_a_report_linked_from_a_message(app: AppTest,
                                                                sample_db: Path) -> None:
    rid = a_report(sample_db)
    app.query_params["report"] = rid
    app.switch_page("app_pages/concern.py").run()
    assert not app.exception
    assert by_label(app.selectbox, "Concern").value == rid  # opened on the linked report
    # form widgets are submitted together with the form's button, in one run
    by_label(app.text_input, "Your e-mail").input("not an address")
    by_label(app.button, "Follow").click().run()
    assert any("does not look like an e-mail address" in e.value for e in app.error)
    assert follows(sample_db).empty
    by_label(app.text_input, "Your e-mail").input(ADDRESS)
    by_label(app.button, "Follow").click().run()
    assert not app.exception
    assert any("Check your inbox" in m.value for m in app.success)
    [row] = follows(sample_db).to_dict("records")
    assert (row["email"], row["service_request_id"], row["confirmed_at"]) == (ADDRESS, rid, None)
    assert by_label(app.text_input, "Your e-mail").value == ""  # a fresh form
    assert ADDRESS not in page_text(app)


def test_a_me_too_may_follow_the_report_too(app: AppTest, sample_db: Path) -> None:
    rid = a_report(sample_db)
    app.session_state["concern_id"] = rid
    app.switch_page("app_pages/concern.py").run()
    field = by_label(app.text_input, "E-mail me when its status changes (optional)")
    field.input("broken@")
    by_label(app.button, "Add my support").click().run()
    assert any("does not look like an e-mail address" in e.value for e in app.error)
    with open_store(sample_db) as s:
        from cpted.concerns import support_counts

        before = support_counts(s).get(rid, 0)
    by_label(app.text_input, "E-mail me when its status changes (optional)").input(ADDRESS)
    by_label(app.button, "Add my support").click().run()
    assert not app.exception
    assert any("Check your inbox" in m.value and "supporter" in m.value for m in app.success)
    with open_store(sample_db) as s:
        assert support_counts(s)[rid] == before + 1
    assert follows(sample_db)["service_request_id"].tolist() == [rid]


def test_the_report_page_follows_the_report_it_files(app: AppTest, sample_db: Path,
                                                     map_returns: list[dict[str, Any]]) -> None:
    app.switch_page("app_pages/report.py").run()
    map_returns[0] = {"last_clicked": CLICK}
    app.run()
    by_label(app.selectbox, "Category").set_value("dark_area").run()
    by_label(app.selectbox, "What is wrong with the light here? *").set_value(
        "No light at all").run()
    by_label(app.checkbox, "E-mail me when its status changes").check().run()
    by_label(app.text_input, "E-mail for the updates").input("nope").run()
    with open_store(sample_db) as s:
        before = s.count(Layer.CONCERNS)
    by_label(app.button, "Submit report").click().run()
    assert any("does not look like an e-mail address" in e.value for e in app.error)
    with open_store(sample_db) as s:
        assert s.count(Layer.CONCERNS) == before  # nothing filed with a broken address
    by_label(app.text_input, "E-mail for the updates").input(ADDRESS).run()
    by_label(app.button, "Submit report").click().run()
    assert not app.exception
    [thanks] = [m.value for m in app.success]
    assert "Your report CR-" in thanks and "Check your inbox" in thanks
    with open_store(sample_db) as s:
        new = s.read(Layer.CONCERNS).iloc[-1]["service_request_id"]
    assert follows(sample_db)["service_request_id"].tolist() == [new]
    assert not by_label(app.checkbox, "E-mail me when its status changes").value


def test_the_neighborhoods_page_follows_a_neighborhood_and_links_its_feed(
        app: AppTest, sample_db: Path) -> None:
    app.switch_page("app_pages/neighborhoods.py").run()
    assert not app.exception
    with open_store(sample_db) as s:
        hoods = s.read(Layer.NEIGHBORHOODS)
    second = str(hoods["id"].iloc[1])
    by_label(app.selectbox, "Neighborhood").set_value(second).run()
    feed = f"http://localhost:8501/feeds/neighborhood/{second}.atom"
    assert any(feed in m.value for m in app.markdown)
    by_label(app.button, "Follow").click().run()
    assert any("Give an e-mail address" in e.value for e in app.error)
    by_label(app.text_input, "Your e-mail").input(ADDRESS)
    by_label(app.radio, "How often").set_value("daily")
    by_label(app.multiselect, "Only these categories (optional)").select("streetlight_out")
    by_label(app.button, "Follow").click().run()
    assert not app.exception
    assert any("Check your inbox" in m.value for m in app.success)
    [row] = follows(sample_db).to_dict("records")
    assert (row["kind"], row["neighborhood_id"], row["frequency"], row["categories"]) == (
        "area", second, "daily", '["streetlight_out"]')
    assert ADDRESS not in page_text(app)


def test_the_map_page_follows_a_circle_round_a_clicked_place(
        app: AppTest, sample_db: Path, map_returns: list[dict[str, Any]]) -> None:
    import shapely

    from cpted.follows import area_km2

    app.run()
    by_label(app.toggle, "Follow an area by e-mail").set_value(True).run()
    by_label(app.text_input, "Your e-mail").input(ADDRESS)
    by_label(app.button, "Follow this area").click().run()
    assert any("click the map" in e.value.lower() for e in app.error)
    assert follows(sample_db).empty
    map_returns[0] = {"last_clicked": CLICK}
    app.run()
    map_returns[0] = {}
    by_label(app.slider, "How far around it (m)").set_value(600)
    by_label(app.text_input, "Your e-mail").input(ADDRESS)
    by_label(app.radio, "How often").set_value("daily")
    by_label(app.button, "Follow this area").click().run()
    assert not app.exception
    assert any("Check your inbox" in m.value for m in app.success)
    [row] = follows(sample_db).to_dict("records")
    area = shapely.from_geojson(row["area_geojson"])
    assert (row["kind"], row["frequency"], row["neighborhood_id"]) == ("area", "daily", None)
    assert area.covers(shapely.Point(CLICK["lng"], CLICK["lat"]))
    assert area_km2(area) == pytest.approx(3.14159 * 0.6 ** 2, rel=0.01)


def test_staff_assign_follow_what_is_assigned_and_see_the_answers(
        app: AppTest, sample_db: Path) -> None:
    """Signed in as an officer: assign a report to oneself, follow what is assigned (by the
    account's address, no confirmation), and see the count of "Is it fixed?" answers."""
    from cpted import accounts as acc
    from cpted.access import Access
    from cpted.privacy import Role
    from layers.settings import Settings
    from tests.helpers import link, sent_messages, token

    officer = "olive.officer@example.net"
    with open_store(sample_db) as s:
        acc.create_account(s, "olive", "Olive Officer", Role.OFFICER, "long enough pw",
                           email=officer)
    with open_store(sample_db) as s:
        rows = s.read(Layer.CONCERNS, where={"status": ["open"], "service_code": ["graffiti"]})
        rid = str(rows["service_request_id"].iloc[0])
    app.session_state["account"] = "olive"
    app.session_state["concern_id"] = rid
    app.switch_page("app_pages/concern.py").run()
    assert not app.exception
    assert any(c.value == "Assigned to no one." for c in app.caption)
    by_label(app.selectbox, "Assign to").set_value("olive")
    by_label(app.button, "Save assignment").click().run()
    assert not app.exception
    assert any("is assigned to Olive Officer" in m.value for m in app.success)
    by_label(app.button, "Follow what is assigned to me").click().run()
    assert not app.exception
    assert any("at your account's address" in m.value for m in app.success)
    [row] = follows(sample_db).to_dict("records")
    assert (row["kind"], row["account"], row["email"]) == ("assigned", "olive", "")
    assert officer not in page_text(app)
    # a follower answers "no" to the fix: the officer sees the count, not who
    settings = Settings(max_writes_per_minute=1000, secret_key="app-test-signing-key-0123456789")
    with open_store(sample_db) as s:
        public = Access(s, acc.public("f"), settings)
        public.follow_report(rid, ADDRESS)
        [confirmation] = [m for m in sent_messages(s, settings) if m["To"] == ADDRESS]
        public.confirm_follow(token(link(confirmation, "/follow/confirm")))
        Access(s, account_actor(s, "olive"), settings).change_status(
            rid, "fixed", "Cleaned", visibility="public")
        [fixed] = [m for m in sent_messages(s, settings) if m["To"] == ADDRESS]
        public.answer_fixed(token(link(fixed, "/follow/fixed")), "no", "Still there")
    app.run()
    assert not app.exception
    assert any("0 yes, 1 no after the latest fix" in c.value for c in app.caption)
    assert ADDRESS not in page_text(app) and officer not in page_text(app)
    assert by_label(app.button, "Stop the e-mails about what is assigned to me")


def account_actor(store: Any, username: str) -> Any:
    from cpted import accounts as acc

    me = acc.current(store, username)
    assert me is not None
    return me
