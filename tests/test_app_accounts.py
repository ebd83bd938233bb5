"""Signing in, roles, the change log and stale saves, through the pages (AppTest)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from cpted import accounts as acc
from cpted.access import Access
from cpted.accounts import Actor
from cpted.privacy import Role
from layers.schema import Layer
from layers.store import open_store
from tests.conftest import ROOT, by_label

APP = str(ROOT / "app.py")
pytestmark = pytest.mark.usefixtures("fresh_streamlit_caches")


@pytest.fixture
def app(sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("CPTED_DB_URL", str(sample_db))
    monkeypatch.delenv("CPTED_STAFF_MODE", raising=False)
    monkeypatch.chdir(ROOT)
    with open_store(sample_db) as s:
        acc.create_account(s, "dana", "Dana Coordinator", Role.COORDINATOR, "correct horse 1")
        acc.create_account(s, "root", "Root Admin", Role.ADMIN, "correct horse 2")
    return AppTest.from_file(APP, default_timeout=90)


def sign_in(app: AppTest, user: str, password: str) -> AppTest:
    app.run()
    by_label(app.sidebar.text_input, "User name").input(user)
    by_label(app.sidebar.text_input, "Password").input(password)
    by_label(app.sidebar.button, "Sign in").click().run()
    assert not app.exception
    return app


def test_wrong_password_stays_public(app: AppTest) -> None:
    sign_in(app, "dana", "not the password")
    assert app.sidebar.error[0].value == "wrong user name or password"
    app.switch_page("app_pages/concern.py").run()
    assert "Save status" not in [b.label for b in app.button]
    assert any("Status changes are made by coordinators" in c.value for c in app.caption)
    assert not [e for e in app.expander if e.label == "Reporter contact (staff only)"]


def test_coordinator_changes_a_status_and_sees_it_in_the_change_log(
        app: AppTest, sample_db: Path) -> None:
    sign_in(app, "dana", "correct horse 1")
    assert "Signed in as **Dana Coordinator** (coordinator)" in app.sidebar.caption[0].value
    app.switch_page("app_pages/concern.py").run()
    picked = app.selectbox[0].value
    by_label(app.selectbox, "New status").set_value("acknowledged")
    by_label(app.text_area, "Note (required)").input("Seen on the evening walk")
    by_label(app.button, "Save status").click().run()
    assert not app.exception
    assert any(f"{picked} is now “Acknowledged”" in s.value for s in app.success)
    history = app.dataframe[0].value  # the report's own history shows the change too
    assert history.iloc[-1]["note"] == "Seen on the evening walk"
    assert history.iloc[-1]["actor"] == "Dana Coordinator"
    app.switch_page("app_pages/changes.py").run()
    assert not app.exception
    table = app.dataframe[0].value
    assert table.iloc[0]["Who"] == "dana" and table.iloc[0]["What"] == "status"
    assert table.iloc[0]["Record"] == f"concern {picked}"
    assert "Seen on the evening walk" in table.iloc[0]["Details"]


def test_a_stale_status_change_is_refused_on_the_page(app: AppTest, sample_db: Path) -> None:
    sign_in(app, "dana", "correct horse 1")
    app.switch_page("app_pages/concern.py").run()
    picked = app.selectbox[0].value
    # someone else changes the same report after Dana opened it
    with open_store(sample_db) as s:
        other = Access(s, Actor("root", "Root Admin", Role.ADMIN))
        now = s.read(Layer.CONCERNS, ids=[picked])["detailed_status"][0]
        other.change_status(picked, "referred" if now != "referred" else "fixed",
                            "sent to public works")
    by_label(app.selectbox, "New status").set_value("in progress")
    by_label(app.text_area, "Note (required)").input("Working on it")
    by_label(app.button, "Save status").click().run()
    assert not app.exception
    assert "was changed by someone else since you opened it" in app.error[0].value
    with open_store(sample_db) as s:
        assert s.read(Layer.CONCERNS, ids=[picked])["detailed_status"][0] != "in progress"
    by_label(app.button, "Reload the latest version").click().run()
    by_label(app.selectbox, "New status").set_value("in progress")
    by_label(app.text_area, "Note (required)").input("Working on it")
    by_label(app.button, "Save status").click().run()
    assert any("is now “In progress”" in s.value for s in app.success)


def test_admin_adds_an_account_and_changes_a_role(app: AppTest, sample_db: Path) -> None:
    sign_in(app, "root", "correct horse 2")
    app.switch_page("app_pages/accounts.py").run()
    assert not app.exception
    by_label(app.text_input, "User name").input("sam")
    by_label(app.text_input, "Name shown to others").input("Sam <b>Officer</b>")
    by_label(app.selectbox, "Role").set_value("officer")
    by_label(app.text_input, "Password (at least 10 characters)").input("long password 3")
    by_label(app.button, "Add account").click().run()
    assert not app.exception
    assert app.success[0].value == "Added sam as officer."
    by_label(app.selectbox, "Account").set_value("dana")
    by_label(app.selectbox, "New role").set_value("planner")
    by_label(app.button, "Save").click().run()
    assert app.success[0].value == "Saved dana."
    with open_store(sample_db) as s:
        roles = acc.list_accounts(s).set_index("username")["role"]
        assert roles.to_dict() == {"dana": "planner", "root": "admin", "sam": "officer"}
        trail = Access(s, Actor("root", "Root", Role.ADMIN)).audit_trail()
    assert trail["action"].tolist() == ["role", "account created"]


def test_staff_pages_are_listed_only_for_roles_that_may_use_them(app: AppTest) -> None:
    """The navigation hides them; the domain API refuses them anyway (test_access)."""
    app.run()
    for page in ("app_pages/changes.py", "app_pages/accounts.py"):
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            app.switch_page(page)
    sign_in(app, "dana", "correct horse 1")
    app.switch_page("app_pages/changes.py").run()  # a coordinator reads the change log...
    assert app.title[0].value == "Change log"
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        app.switch_page("app_pages/accounts.py")  # ...but does not manage accounts


def test_categories_and_instrument_page_by_role(app: AppTest, sample_db: Path) -> None:
    with open_store(sample_db) as s:
        acc.create_account(s, "pat", "Pat Planner", Role.PLANNER, "correct horse 4")
    sign_in(app, "pat", "correct horse 4")
    app.switch_page("app_pages/setup.py").run()
    assert not app.exception
    assert "Save categories" not in [b.label for b in app.button]  # planners: instrument only
    assert any("Coordinators and administrators edit these" in c.value for c in app.caption)
    assert "cpted-street-audit" in app.markdown[-1].value or any(
        "cpted-street-audit" in m.value for m in app.markdown)
    app2 = AppTest.from_file(APP, default_timeout=90)
    sign_in(app2, "dana", "correct horse 1")
    app2.switch_page("app_pages/setup.py").run()
    assert "Save categories" in [b.label for b in app2.button]
    assert any("Planners and administrators change the instrument" in c.value
               for c in app2.caption)
