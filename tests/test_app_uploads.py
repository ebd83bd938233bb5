"""Every upload widget shows the cap its page enforces (AppTest reads the widget's own cap)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from cpted.instrument import MAX_FILE_MB
from cpted.network import MAX_UPLOAD_MB
from cpted.photos import MAX_PHOTO_BYTES, MAX_PHOTO_MB
from layers.settings import load_settings
from tests.conftest import ROOT, by_label

APP = str(ROOT / "app.py")
pytestmark = pytest.mark.usefixtures("fresh_streamlit_caches")


def uploaders(sample_db: Path, monkeypatch: pytest.MonkeyPatch, page: str, *,
              role: str = "admin") -> dict[str, int]:
    """Each file uploader's label and cap (MB) on ``page``, acting as ``role``."""
    monkeypatch.setenv("CPTED_DB_URL", str(sample_db))
    monkeypatch.setenv("CPTED_STAFF_MODE", "true")
    monkeypatch.chdir(ROOT)
    app = AppTest.from_file(APP, default_timeout=180)
    app.session_state["acting_as"] = role
    app.switch_page(page).run()
    assert not app.exception, app.exception
    if page.endswith("patrol.py"):  # the network upload comes with the routes
        by_label(app.number_input, "Weight").set_value(1.0)
        by_label(app.button, "Find hotspots").click().run()
        assert not app.exception, app.exception
    return {u.label: u.proto.max_upload_size_mb for u in app.get("file_uploader")}


def test_photo_uploaders_show_the_photo_cap(sample_db: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    assert MAX_PHOTO_MB * 1024 * 1024 == MAX_PHOTO_BYTES  # the cap enforced on the bytes
    assert uploaders(sample_db, monkeypatch, "app_pages/report.py", role="resident") == {
        "Photo (optional)": MAX_PHOTO_MB}
    assert uploaders(sample_db, monkeypatch, "app_pages/assess.py") == {"Photos": MAX_PHOTO_MB}


def test_import_and_instrument_uploaders_show_their_caps(
        sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CPTED_MAX_UPLOAD_MB", "12.5")
    from app_pages import _state

    _state.settings.clear()
    assert load_settings().max_upload_mb == 12.5
    assert uploaders(sample_db, monkeypatch, "app_pages/import_data.py") == {"File": 13}
    caps = uploaders(sample_db, monkeypatch, "app_pages/setup.py")
    assert list(caps.values()) == [MAX_FILE_MB]


def test_patrol_network_uploader_shows_its_cap(sample_db: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    caps = uploaders(sample_db, monkeypatch, "app_pages/patrol.py", role="officer")
    assert len(caps) == 1
    (label, cap), = caps.items()
    assert cap == MAX_UPLOAD_MB and f"up to {MAX_UPLOAD_MB} MB" in label
