"""Shared fixtures.

A test that needs something absent (Chromium, the real city data, npm
assets) skips with the reason on a user's machine and fails under CI, where
``.ci/run`` installs everything and ``../shared/data`` is present.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from layers.store import Store, open_store

ROOT = Path(__file__).resolve().parents[1]


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


def need(condition: bool, reason: str) -> None:
    """Skip when ``condition`` is false, or fail under CI."""
    if condition:
        return
    if in_ci():
        pytest.fail(f"required under CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session", autouse=True)
def _served_maps(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Pages run as ``server.py`` serves them (its routes mounted), with base-map tiles
    built in a temporary folder rather than the user's cache."""
    from cpted import server

    folder = tmp_path_factory.mktemp("basemap")
    old = os.environ.get("CPTED_BASEMAP_DIR"), server.SERVING
    os.environ["CPTED_BASEMAP_DIR"] = str(folder)
    server.SERVING = True
    yield
    server.SERVING = old[1]
    if old[0] is None:
        os.environ.pop("CPTED_BASEMAP_DIR", None)
    else:
        os.environ["CPTED_BASEMAP_DIR"] = old[0]


@pytest.fixture(scope="session")
def real_data() -> Path:
    folder = Path(os.environ.get("CPTED_REAL_DATA") or ROOT.parent / "shared" / "data")
    need(folder.is_dir(), f"real city data not found at {folder} (set CPTED_REAL_DATA)")
    return folder


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(tmp_path / "store.gpkg")
    yield s
    s.close()


BACKENDS = ["embedded", "postgis"]


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Any]:
    """A PostgreSQL + PostGIS server for the whole session, in a temporary directory on a
    loopback port; stopped and removed afterwards."""
    from layers import pgtemp

    reason = pgtemp.unavailable()
    need(reason is None, f"no PostGIS server for the store tests: {reason}")
    with pgtemp.TempServer() as server:
        yield server


@pytest.fixture(scope="session")
def pg_template(pg_server: Any) -> str:
    """A database already migrated to the latest schema; each test copies it."""
    url = pg_server.create_database()
    open_store(url).close()
    return url.rsplit("/", 1)[1]


@pytest.fixture
def pg_url(pg_server: Any, pg_template: str) -> str:
    """A new migrated PostGIS database of this test's own."""
    return str(pg_server.create_database(template=pg_template))


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A new store's location on the test's backend (a file, or a PostGIS database)."""
    if backend == "postgis":
        return str(request.getfixturevalue("pg_url"))
    return str(tmp_path / "store.gpkg")


@pytest.fixture
def any_store(db_url: str) -> Iterator[Store]:
    """A new store on each backend in turn: the store contract runs on both."""
    s = open_store(db_url)
    yield s
    s.close()


@pytest.fixture(scope="session")
def _sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from cpted.sample import load_sample

    path = tmp_path_factory.mktemp("sample") / "sample.gpkg"
    with open_store(path) as s:
        load_sample(s)
    return path


@pytest.fixture
def sample_db(_sample_db: Path, tmp_path: Path) -> Path:
    """A private copy of a store holding the sample district."""
    path = tmp_path / "sample.gpkg"
    shutil.copy(_sample_db, path)
    return path


@pytest.fixture
def sample_store(sample_db: Path) -> Iterator[Store]:
    s = open_store(sample_db)
    yield s
    s.close()


@pytest.fixture
def fresh_streamlit_caches() -> Iterator[None]:
    """Streamlit's caches live for the process; page tests each start clean."""
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def map_returns(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Patch ``st_folium`` (not rendered under AppTest) to return ``map_returns[0]``:
    a test sets a click or a drawing there."""
    import streamlit_folium

    box: list[dict[str, Any]] = [{}]

    def fake_st_folium(fig: Any, **kwargs: Any) -> dict[str, Any]:
        return dict(box[0])

    monkeypatch.setattr(streamlit_folium, "st_folium", fake_st_folium)
    return box


def frame_with(app: Any, column: str) -> Any:
    """The first table on the page with ``column`` (a page also lists what its maps show,
    so a test names the table it means rather than counting tables)."""
    found = [d for d in app.dataframe if column in d.value.columns]
    assert found, f"no table with {column!r}; have {[list(d.value.columns) for d in app.dataframe]}"
    return found[0]


def by_label(widgets: Any, label: str) -> Any:
    """The first of ``widgets`` with this label (fails listing the labels there are)."""
    found = [w for w in widgets if w.label == label]
    assert found, f"no widget labelled {label!r}; have {[w.label for w in widgets]}"
    return found[0]
