"""Browser fixtures: the app served by Streamlit on a free loopback port, and Debian's Chromium."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cpted.maps.assets import missing_files
from tests.browser.assets import install_routes
from tests.conftest import ROOT, need

CHROMIUM = os.environ.get("CPTED_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = ROOT / "artifacts" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(tmp_path_factory: pytest.TempPathFactory, db_url: str | None = None,
           **env_extra: str) -> Iterator[str]:
    """Serve the app on a copy of the sample district (in a new GeoPackage, or in the
    PostGIS database ``db_url``) until the generator is closed."""
    from cpted.sample import load_sample
    from layers.store import open_store

    db = db_url or str(tmp_path_factory.mktemp("browser") / "sample.gpkg")
    with open_store(db) as s:
        load_sample(s)
    port = _free_port()
    env = {**os.environ, "CPTED_DB_URL": str(db), **env_extra}
    log = open(tmp_path_factory.mktemp("logs") / "streamlit.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "server.py"), "--server.port",
         str(port), "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not start; see {log.name}")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="session")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app on a copy of the sample district, as the public sees it."""
    yield from _serve(tmp_path_factory)


@pytest.fixture(scope="session")
def staff_app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app with staff mode on (the Acting-as choice, defaulting to coordinator)."""
    yield from _serve(tmp_path_factory, CPTED_STAFF_MODE="true")


@pytest.fixture(scope="session")
def shared_app_url(tmp_path_factory: pytest.TempPathFactory, pg_server: Any) -> Iterator[str]:
    """The app as a city deploys it: the sample district in PostGIS, sign-in with local
    accounts (a coordinator ``dana`` and an administrator ``root``), no staff mode."""
    from cpted.accounts import create_account
    from cpted.privacy import Role
    from layers.store import open_store

    url = pg_server.create_database()
    with open_store(url) as s:
        create_account(s, "dana", "Dana Coordinator", Role.COORDINATOR, "correct horse 1")
        create_account(s, "root", "Root Admin", Role.ADMIN, "correct horse 2")
    yield from _serve(tmp_path_factory, url, CPTED_STAFF_MODE="false")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    need(Path(CHROMIUM).exists() or shutil.which("chromium") is not None,
         f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    need(not missing_files(), "the map files are not installed: run `make web-assets` "
         "(npm ci --prefix cpted/web)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        need(False, "playwright is not installed (pip install -e .[dev])")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh page on a network that reaches only the app (see ``assets.py``)."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    ctx.served, ctx.missing, ctx.blocked = [], [], []  # type: ignore[attr-defined]
    install_routes(ctx, ctx.served, ctx.missing, ctx.blocked)  # type: ignore[attr-defined]
    pg = ctx.new_page()
    yield pg
    ctx.close()


def screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
