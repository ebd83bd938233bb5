"""The HTTP routes of following: Atom feeds and the links in follow messages.

Every route acts as the public (the caller's address for the rate limit) through
:class:`cpted.access.Access`, so a feed or a page shows what the public may see.

- ``GET /feeds/neighborhood/{id}.atom``: a neighborhood's Atom feed (RFC 4287).
- ``GET /feeds/area/{token}.atom``: the feed of a followed area, by its signed token.
- ``GET /follow/confirm?token=...``: a page asking to confirm a follow, with a button;
  ``POST`` (the button) confirms it. A link scanner that opens every link in a message
  therefore confirms nothing: only a person pressing the button does.
- ``GET /follow/unsubscribe?token=...``: a page with a button to stop the messages;
  ``POST`` ends the follow at once: RFC 8058's one-click unsubscription, which mail
  providers send as ``List-Unsubscribe=One-Click``, and the page's button alike.
- ``GET /follow/fixed?token=...``: "Is it fixed?" about a report marked fixed, with a
  button for each answer; ``POST`` records it (:mod:`cpted.fixed_links`).

Pages and feeds speak the language the caller's ``Accept-Language`` prefers
(:func:`cpted.i18n.negotiate`); an area's feed, the language its follow was made in.

Mount them beside the app's own routes: ``st.App("app.py", routes=[*routes(),
*feed_routes()])`` in ``server.py``.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from cpted import accounts, i18n
from cpted.atom import MEDIA_TYPE
from cpted.clients import client_address
from cpted.follows import FollowError, FollowSummary, Kind, frequency_words
from cpted.i18n import _
from layers.errors import CptedError, StoreError, UnusableInputError
from layers.settings import Settings, load_settings
from layers.store import Store, open_store

T = TypeVar("T")

_PAGE_HEADERS = {
    # the token is in the address: never cache the page, never pass it on as a referrer
    "Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                               "form-action 'self'; frame-ancestors 'none'",
}
_FEED_HEADERS = {"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"}
_STYLE = ("body{font-family:system-ui,sans-serif;max-width:38rem;margin:3rem auto;"
          "padding:0 1rem;line-height:1.5;color:#222}button{font-size:1rem;"
          "padding:.5rem 1.2rem;cursor:pointer}.error{color:#a00}"
          "textarea{width:100%;font:inherit;box-sizing:border-box}")
_stores: dict[str, Store] = {}
_lock = threading.Lock()


def _shared_store(url: str) -> Store:
    """One store per database for the process, opened at the first request."""
    with _lock:
        if url not in _stores:
            _stores[url] = open_store(url)
        return _stores[url]


def page(title: str, *paragraphs: str, status_code: int = 200) -> Response:
    """A small HTML page; ``paragraphs`` are HTML already escaped by the caller."""
    body = "".join(p if p.startswith(("<p", "<form")) else f"<p>{p}</p>" for p in paragraphs)
    text = (f'<!doctype html><html lang="{html.escape(i18n.current())}"><head>'
            f'<meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
            f"<body><h1>{html.escape(title)}</h1>{body}</body></html>")
    return Response(text, status_code=status_code, media_type="text/html; charset=utf-8",
                    headers=_PAGE_HEADERS)


def _what(summary: FollowSummary) -> str:
    if summary.kind is Kind.REPORT:
        text = _("{what}, each time its status changes")
    elif summary.kind is Kind.ASSIGNED:
        text = _("{what}, each time the status of one changes")
    else:
        text = _("{what}, {how}, with its new reports and changes")
    return html.escape(text.format(what=summary.label, how=frequency_words(summary.frequency)))


def language_of(request: Request) -> str:
    """The language a request's ``Accept-Language`` prefers among those available."""
    return i18n.negotiate(request.headers.get("accept-language"))


def feed_routes(*, store: Store | None = None, settings: Settings | None = None
                ) -> list[BaseRoute]:
    """The feed and follow-link routes, on ``store`` (default: the one the settings name,
    opened at the first request) with ``settings`` (default: :func:`load_settings`)."""
    config = settings or load_settings()

    def door(request: Request) -> Any:
        from cpted.access import Access

        peer = request.client.host if request.client else None
        who = accounts.public(address=client_address(
            peer, request.headers.get("x-forwarded-for"), config.trusted_proxies))
        return Access(store or _shared_store(config.db_url), who, config)

    async def call(request: Request, fn: Callable[[Any], T]) -> T:
        d = door(request)
        language = i18n.current()

        def spoken(d: Any) -> T:
            with i18n.use(language):
                return fn(d)

        return await run_in_threadpool(spoken, d)

    def back() -> str:
        words = html.escape(_("Back to the map"))
        return f'<a href="{html.escape(config.link_base + "/")}">{words}</a>'

    def refused(exc: BaseException, title: str) -> Response:
        from cpted.access import RateLimitError

        if isinstance(exc, RateLimitError):
            code = 429
        elif isinstance(exc, StoreError):
            code = 503
        else:
            code = 400
        text = str(exc).split("\n")[0]
        return page(title, f'<p class="error">{html.escape(text[:1].upper() + text[1:])}.</p>',
                    back(), status_code=code)

    async def neighborhood_feed(request: Request) -> Response:
        with i18n.use(language_of(request)):
            return await _neighborhood_feed(request)

    async def _neighborhood_feed(request: Request) -> Response:
        nid = str(request.path_params["neighborhood_id"])
        try:
            data = await call(request, lambda d: d.neighborhood_feed(nid))
        except UnusableInputError as exc:
            return Response(str(exc), status_code=404, media_type="text/plain")
        return Response(data, media_type=f"{MEDIA_TYPE}; charset=utf-8",
                        headers=_FEED_HEADERS)

    async def area_feed(request: Request) -> Response:
        token = str(request.path_params["token"])
        try:
            data = await call(request, lambda d: d.area_feed(token))
        except FollowError as exc:
            return Response(str(exc), status_code=404, media_type="text/plain")
        return Response(data, media_type=f"{MEDIA_TYPE}; charset=utf-8",
                        headers={**_FEED_HEADERS, "Cache-Control": "private, max-age=300",
                                 "Referrer-Policy": "no-referrer"})

    async def confirm(request: Request) -> Response:
        with i18n.use(language_of(request)):
            return await _confirm(request)

    async def _confirm(request: Request) -> Response:
        token = request.query_params.get("token", "")
        title = _("Confirm following")
        try:
            if request.method == "GET":
                summary = await call(request, lambda d: d.followed_by(token, "confirm"))
                if summary.ended:
                    return page(title, html.escape(_("This follow has ended. Follow again to "
                                                     "start anew.")), back())
                if summary.confirmed:
                    return _confirmed(summary, back())
                return page(title, html.escape(_("Send e-mails about {what}?")).format(
                                what=_what(summary)),
                            _button(request, _("Yes, send them")),
                            html.escape(_("If you did not ask for this, close this page: "
                                          "nothing will be sent.")))
            summary = await call(request, lambda d: d.confirm_follow(token))
        except CptedError as exc:
            return refused(exc, title)
        return _confirmed(summary, back())

    async def unsubscribe(request: Request) -> Response:
        with i18n.use(language_of(request)):
            return await _unsubscribe(request)

    async def _unsubscribe(request: Request) -> Response:
        token = request.query_params.get("token", "")
        title = _("Stop the messages")
        try:
            if request.method == "GET":
                summary = await call(request, lambda d: d.followed_by(token, "unsubscribe"))
                if summary.ended:
                    return page(title, html.escape(_("These messages were already stopped: "
                                                     "no more are sent.")), back())
                return page(title, html.escape(_("Stop the e-mails about {what}?")).format(
                                what=_what(summary)),
                            _button(request, _("Stop them"), field=("List-Unsubscribe",
                                                                    "One-Click")))
            summary = await call(request, lambda d: d.unsubscribe(token))
        except CptedError as exc:
            return refused(exc, title)
        return page(_("Stopped"), html.escape(_(
            "No more messages will be sent about {what}, and the address was "
            "deleted.").format(what=summary.label)), back())

    from cpted.fixed_links import answer_endpoint

    return [
        Route("/feeds/neighborhood/{neighborhood_id}.atom", neighborhood_feed,
              methods=["GET"]),
        Route("/feeds/area/{token}.atom", area_feed, methods=["GET"]),
        Route("/follow/confirm", confirm, methods=["GET", "POST"]),
        Route("/follow/unsubscribe", unsubscribe, methods=["GET", "POST"]),
        Route("/follow/fixed", _speaking(answer_endpoint(call, back, refused)),
              methods=["GET", "POST"]),
    ]


def _speaking(endpoint: Callable[[Request], Any]) -> Callable[[Request], Any]:
    """``endpoint`` run in the language of its request."""
    async def run(request: Request) -> Response:
        with i18n.use(language_of(request)):
            out: Response = await endpoint(request)
            return out

    return run


def _button(request: Request, label: str, *, field: tuple[str, str] | None = None) -> str:
    """A form posting back to this very address (its token included)."""
    return form(request, label, fields=dict([field]) if field else None)


def form(request: Request, label: str, *, fields: dict[str, str] | None = None,
         before: str = "") -> str:
    """A form posting back to this very address (its token included), with hidden
    ``fields``, ``before`` (HTML already escaped: more inputs) and a button ``label``."""
    action = request.url.path + ("?" + request.url.query if request.url.query else "")
    hidden = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                     for k, v in (fields or {}).items())
    return (f'<form method="post" action="{html.escape(action)}">{hidden}{before}'
            f"<button type=\"submit\">{html.escape(label)}</button></form>")


def _confirmed(summary: FollowSummary, back: str) -> Response:
    parts = [html.escape(_("You now follow {what}. Each message has a link to stop "
                           "them.")).format(what=_what(summary))]
    if summary.feed_url:
        url = html.escape(summary.feed_url)
        parts.append(html.escape(_("The same news as a feed, for a feed reader: {link}")).format(
            link=f'<a href="{url}">{url}</a>'))
    return page(_("Following"), *parts, back)
