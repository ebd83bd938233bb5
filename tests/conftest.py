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


@pytest.fixture(scope="session")
def _sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from cpted.cli import load_sample

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


def by_label(widgets: Any, label: str) -> Any:
    """The first of ``widgets`` with this label (fails listing the labels there are)."""
    found = [w for w in widgets if w.label == label]
    assert found, f"no widget labelled {label!r}; have {[w.label for w in widgets]}"
    return found[0]
