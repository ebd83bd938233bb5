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


@pytest.mark.parametrize(("locale", "first", "other"), [
    ("es-ES", ("es", "Informar de un problema"), ("English", "en", "Report a concern")),
    ("en-US", ("en", "Report a concern"), ("Español", "es", "Informar de un problema"))])
def test_the_page_declares_the_language_it_is_shown_in(
        app_url: str, browser: Any, locale: str, first: tuple[str, str],
        other: tuple[str, str, str]) -> None:
    """WCAG 2.1, 3.1.1: ``<html lang>`` is the language of the words shown, as served
    for the browser and after another is chosen in the picker, so a screen reader
    speaks them in the right voice."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 900}, locale=locale)
    install_routes(ctx)
    page = ctx.new_page()
    try:
        page.goto(f"{app_url}/report")
        expect(page.get_by_role("heading", name=first[1])).to_be_visible(timeout=60_000)
        expect(page.locator("html")).to_have_attribute("lang", first[0])
        name, code, heading = other
        page.get_by_test_id("stSelectbox").filter(has_text="Language · Idioma").click()
        page.get_by_role("option", name=name, exact=True).click()
        expect(page.get_by_role("heading", name=heading)).to_be_visible(timeout=60_000)
        expect(page.locator("html")).to_have_attribute("lang", code)
    finally:
        ctx.close()
