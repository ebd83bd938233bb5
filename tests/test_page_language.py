"""The page Streamlit serves declares the language it is shown in (cpted.server.PageLanguage)."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from cpted.server import PageLanguage, declare

PAGE = '<!doctype html>\n<html lang="en">\n<head></head><body>' + "x" * 2000 + "</body></html>"


def _client() -> TestClient:
    async def page(request: Request) -> Response:
        return HTMLResponse(PAGE)

    async def data(request: Request) -> Response:
        return JSONResponse({"html": '<html lang="en">'})

    # as Streamlit stacks them: ours outside, its compression inside
    app = Starlette(routes=[Route("/concern", page, methods=["GET", "POST"]),
                            Route("/data", data)],
                    middleware=[Middleware(PageLanguage), Middleware(GZipMiddleware,
                                                                     minimum_size=500)])
    return TestClient(app)


BROWSER = {"Accept": "text/html,application/xhtml+xml", "Accept-Encoding": "gzip"}


def test_a_page_asked_for_in_spanish_says_so() -> None:
    got = _client().get("/concern", headers={**BROWSER, "Accept-Language": "es-MX,es;q=0.9"})
    assert got.status_code == 200
    assert got.headers.get("content-encoding") is None  # read and rewritten, so uncompressed
    assert '<html lang="es">' in got.text and 'lang="en"' not in got.text
    assert int(got.headers["content-length"]) == len(got.content)
    assert got.text.replace('lang="es"', 'lang="en"') == PAGE  # nothing else changed


def test_an_english_or_unknown_language_leaves_the_page_as_it_is() -> None:
    for header in ("en-GB,en;q=0.8", "de-DE", ""):
        got = _client().get("/concern", headers={**BROWSER, "Accept-Language": header})
        assert got.headers.get("content-encoding") == "gzip"  # untouched: still compressed
        assert got.text == PAGE  # (the client decompresses it)


def test_other_answers_pass_through_untouched() -> None:
    client = _client()
    data = client.get("/data", headers={**BROWSER, "Accept-Language": "es"})
    assert data.json() == {"html": '<html lang="en">'}  # not a page: not rewritten
    posted = client.post("/concern", headers={**BROWSER, "Accept-Language": "es"})
    assert '<html lang="en">' in posted.text  # only pages asked for (GET) are declared


def test_declare_sets_the_first_lang_only() -> None:
    assert declare(b'<html lang="en"><p lang="en">', "es") == b'<html lang="es"><p lang="en">'
    assert declare(b"<html><body>", "es") == b"<html><body>"
