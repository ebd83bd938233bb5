"""The app in Spanish for a browser that asks for it (``Accept-Language: es-ES``), at a
desk and on a phone, with screenshots in ``artifacts/screenshots/``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.assets import install_routes
from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser


@pytest.fixture(params=[(1400, 900), (390, 844)], ids=["desk", "phone"])
def spanish(browser: Any, request: pytest.FixtureRequest) -> Iterator[tuple[Any, str]]:
    width, height = request.param
    ctx = browser.new_context(viewport={"width": width, "height": height}, locale="es-ES")
    install_routes(ctx)
    yield ctx.new_page(), request.node.callspec.id
    ctx.close()


def test_a_spanish_browser_gets_the_report_page_in_spanish(
        app_url: str, spanish: tuple[Any, str]) -> None:
    page, size = spanish
    page.goto(f"{app_url}/report")
    expect(page.get_by_role("heading", name="Informar de un problema")).to_be_visible(
        timeout=60_000)
    expect(page.get_by_role("button", name="Enviar informe")).to_be_visible()
    expect(page.get_by_text("Las preguntas marcadas con * requieren respuesta.")).to_be_visible()
    screenshot(page, f"spanish_report_{size}")
    # the navigation speaks Spanish too (on a phone it sits in the closed sidebar)
    expect(page.get_by_role("link", name="Informar de un problema")).to_have_count(1)
    expect(page.get_by_role("link", name="Mapa")).to_have_count(1)
