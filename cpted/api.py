"""The Open311 GeoReport v2 server: Starlette routes under ``/open311/v2/``, JSON only.

Resources (``GET`` unless said; https://wiki.open311.org/GeoReport_v2):

- ``discovery.json``: the service discovery document (formats: ``application/json``);
- ``services.json``: the categories; ``services/{service_code}.json``: one category's
  questions (its service definition);
- ``requests.json``: reports, filtered by ``service_request_id`` (comma-delimited; it
  overrides every other filter), ``service_code``, ``status``, ``start_date`` and
  ``end_date`` (on ``requested_datetime``; with neither, the last 90 days), paged by
  ``page`` (from 1) and ``page_size`` (default and most 1,000), in the order they were
  stored (so pages stay put as reports arrive);
- ``POST requests.json``: file a report, form-encoded, with an ``api_key`` (see
  :mod:`cpted.open311_input` for the fields read);
- ``requests/{service_request_id}.json``: one report.

Every read and write goes through :class:`cpted.access.Access`: a ``GET`` as the public
(:func:`cpted.accounts.public`, with the client's address from
:func:`cpted.clients.client_address`), so an answer's records are those of the public
``open311`` export; a ``POST`` as the key's client (:func:`cpted.apikeys.client_actor`),
through the Report page's checks, duplicate check and rate limit. Refusals are the
specification's error list with the HTTP status: 400 bad input, 403 no, bad or revoked
key, 404 unknown service, report or resource (``.xml`` too), 405 a method a resource
does not take, 409 similar open reports nearby (send ``not_duplicate=true`` to file it
anyway), 413 a body past the photo limit, 429 the rate limit (with ``Retry-After``),
503 the database unreachable.

:func:`api_routes` gives the routes to mount in any Starlette app; :func:`create_app`
is the standalone app that ``cpted api`` serves with uvicorn.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from cpted import apikeys
from cpted.access import Access, PermissionDeniedError, RateLimitError
from cpted.accounts import Actor, public
from cpted.clients import client_address
from cpted.open311_input import (
    DEFAULT_DAYS,
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    Open311Error,
    Submission,
    parse_requests_query,
    parse_submission,
)
from cpted.photos import MAX_PHOTO_BYTES
from layers import open311
from layers.errors import CptedError, StoreError, UnusableInputError
from layers.services import Service
from layers.settings import Settings, load_settings
from layers.store import Store, open_store

PREFIX = "/open311/v2"
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
FORMATS = ("application/json",)
#: Largest POST body read: a photo at its limit plus the form around it.
MAX_BODY_BYTES = MAX_PHOTO_BYTES + 1024 * 1024
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
_log = logging.getLogger(__name__)

Handler = Callable[["_Api", Request], Awaitable[Response]]


class _Api:
    """The server's state: its settings and one store, opened at the first request."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._store: Store | None = None
        self._lock = threading.Lock()

    def store(self) -> Store:
        with self._lock:
            if self._store is None:
                self._store = open_store(self.settings.db_url)
            return self._store

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None

    def address(self, request: Request) -> str:
        peer = request.client.host if request.client else None
        return client_address(peer, request.headers.get("x-forwarded-for"),
                              self.settings.trusted_proxies)

    def door(self, request: Request, actor: Actor | None = None) -> Access:
        """The access layer as ``actor``, by default the public at the client's address."""
        return Access(self.store(), actor or public(address=self.address(request)),
                      self.settings)

    def tz(self) -> str:
        return self.store().get_setting("timezone") or self.settings.timezone


# -- answers ------------------------------------------------------------------------

def _json(data: Any, *, status: int = 200, headers: Mapping[str, str] | None = None,
          shared: bool = True) -> Response:
    """``data`` as UTF-8 JSON. ``shared`` answers (public reads) may be read by a page of
    any origin; they carry nothing a cookie or key would have unlocked."""
    body = json.dumps(data, ensure_ascii=False, allow_nan=False, default=str)
    out = {"X-Content-Type-Options": "nosniff", **(headers or {})}
    if shared:
        out["Access-Control-Allow-Origin"] = "*"
    else:
        out["Cache-Control"] = "no-store"
    return Response(body.encode("utf-8"), status_code=status,
                    media_type="application/json; charset=utf-8", headers=out)


def _refusal(exc: BaseException) -> Open311Error:
    """Our refusals as the specification's errors with their HTTP status."""
    if isinstance(exc, Open311Error):
        return exc
    if isinstance(exc, RateLimitError):
        return Open311Error(429, [str(exc)], headers={"Retry-After": str(exc.retry_after_s)})
    if isinstance(exc, apikeys.ApiKeyError | PermissionDeniedError):
        return Open311Error(403, [str(exc)])
    if isinstance(exc, UnusableInputError):
        return Open311Error(400, exc.problems or [str(exc)])
    if isinstance(exc, StoreError):
        return Open311Error(503, [str(exc)], headers={"Retry-After": "30"})
    return Open311Error(400, [str(exc)])


def _resource(api: _Api, handlers: Mapping[str, Handler]) -> Callable[[Request],
                                                                       Awaitable[Response]]:
    """One resource: its handler per method, JSON only, every refusal as spec errors."""
    async def endpoint(request: Request) -> Response:
        method = "GET" if request.method == "HEAD" else request.method
        shared = method == "GET"
        handler = handlers.get(method)
        if handler is None:
            allowed = ", ".join(m for m in handlers if m != "HEAD")
            return _errors(Open311Error(405, [f"{request.url.path} takes {allowed}, not "
                                              f"{request.method}"],
                                        headers={"Allow": allowed}), shared)
        fmt = request.path_params.get("fmt", "json")
        if fmt != "json":
            path = request.url.path
            return _errors(Open311Error(404, [
                f"this server answers in JSON only: ask for {path[:-len(fmt)]}json "
                f"(formats are listed in {PREFIX}/discovery.json)"]), shared)
        try:
            return await handler(api, request)
        except CptedError as exc:
            return _errors(_refusal(exc), shared)
        except Exception:
            _log.exception("Open311 %s %s failed", request.method, request.url.path)
            return _errors(Open311Error(500, ["the server failed to answer; nothing was "
                                              "stored. Try again later"]), shared)

    return endpoint


def _errors(exc: Open311Error, shared: bool) -> Response:
    return _json(exc.errors, status=exc.status, headers=exc.headers, shared=shared)


# -- reading ------------------------------------------------------------------------

async def _discovery(api: _Api, request: Request) -> Response:
    revision = await run_in_threadpool(lambda: api.store().revision())
    changeset = f"revision {revision:012d}"
    base = f"{request.url.scheme}://{request.url.netloc}{request.scope.get('root_path', '')}"
    return _json({
        "changeset": changeset,
        "contact": "The coordinators of this cpted-mapper deployment.",
        "key_service": "An administrator of this deployment makes API keys "
                       "(cpted apikeys add NAME); reading needs none.",
        "endpoints": [{"specification": SPECIFICATION, "url": base + PREFIX,
                       "changeset": changeset, "type": "production",
                       "formats": list(FORMATS)}],
        "extensions": {
            "formats": "JSON only: a resource asked for as .xml answers 404",
            "paging": {"page": "from 1", "page_size_default": DEFAULT_PAGE_SIZE,
                       "page_size_max": MAX_PAGE_SIZE,
                       "order": "as stored, oldest first; new reports come last"},
            "default_range_days": DEFAULT_DAYS,
            "date_range": "start_date and end_date may span more than 90 days: pages bound "
                          "each answer",
            "post": {"not_duplicate": "true files a report although similar open reports "
                                      "are near (else 409 lists them)",
                     "time_of_day": "day, night or unknown",
                     "media": "a photo as a multipart/form-data file (media_url is not "
                              "fetched)"},
            "jurisdiction_id": "not needed: one jurisdiction",
        },
    })


async def _services(api: _Api, request: Request) -> Response:
    found = await run_in_threadpool(lambda: api.door(request).services())
    return _json(open311.services_json(found.values()))


async def _service_definition(api: _Api, request: Request) -> Response:
    code = str(request.path_params["code"])
    service = (await run_in_threadpool(lambda: api.door(request).services())).get(code)
    if service is None:
        raise Open311Error(404, [f"service_code {code!r} was not found; services.json lists "
                                 "them"])
    return _json(open311.service_definition_json(service))


async def _requests(api: _Api, request: Request) -> Response:
    def run() -> tuple[list[dict[str, Any]], Any]:
        door = api.door(request)
        q = parse_requests_query(request.query_params, services=door.services(),
                                 tz=api.tz(), now=datetime.now(UTC))
        if q.ids is not None:
            return door.open311_requests(ids=list(q.ids)), q
        return door.open311_requests(where=q.where, time=("requested_datetime", q.start, q.end),
                                     limit=q.page_size, offset=q.offset), q

    items, q = await run_in_threadpool(run)
    headers = {}
    if q.ids is None and len(items) == q.page_size:
        nxt = request.url.include_query_params(page=q.page + 1, page_size=q.page_size)
        headers["Link"] = f'<{nxt}>; rel="next"'
    return _json(items, headers=headers)


async def _request(api: _Api, request: Request) -> Response:
    rid = str(request.path_params["rid"])
    items = await run_in_threadpool(lambda: api.door(request).open311_requests(ids=[rid]))
    if not items:
        raise Open311Error(404, [f"service_request_id {rid!r} was not found"])
    return _json(items)


# -- filing -------------------------------------------------------------------------

async def _body(request: Request) -> bytes:
    """The request's body, refused (413) past :data:`MAX_BODY_BYTES` before reading on."""
    too_big = Open311Error(413, [f"the request is larger than this server takes "
                                 f"({MAX_BODY_BYTES / 2**20:.0f} MB, a photo at its limit "
                                 "with the form)"])
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_BODY_BYTES:
        raise too_big
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise too_big
        chunks.append(chunk)
    return b"".join(chunks)


async def _file(api: _Api, request: Request) -> Response:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in _FORM_TYPES:
        raise Open311Error(400, [f"send the request form-encoded "
                                 f"(application/x-www-form-urlencoded, or multipart/form-data "
                                 f"with a photo), not {kind or 'without a content type'}"])
    body = await _body(request)

    async def replay() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    try:
        form = await Request(request.scope, replay).form(max_files=1, max_fields=500)
    except Exception as exc:  # Starlette's HTTPException or the parser's own
        detail = getattr(exc, "detail", None) or getattr(exc, "message", None) or exc
        raise Open311Error(400, [f"the form could not be read: {detail}"]) from None
    try:
        media = form.get("media")
        photo = await media.read() if isinstance(media, UploadFile) else None
        fields = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
    finally:
        await form.close()
    address = api.address(request)
    actor = await run_in_threadpool(
        apikeys.authenticate, api.store(), _Fields(fields).last("api_key"), address=address)

    def run() -> tuple[str, Submission, Service]:
        door = api.door(request, actor)
        catalogue = door.services()
        sub = parse_submission(_Fields(fields), services=catalogue, photo=photo)
        _refuse_duplicates(door, sub)
        return door.submit_report(sub.draft), sub, catalogue[sub.draft.service_code]

    rid, sub, service = await run_in_threadpool(run)
    notice = ["Thank you: the report is on the map."]
    if service.sensitive:
        notice.append("Its category is shown publicly only as an approximate area, without "
                      "its text.")
    notice.append(f"The target for this category is {service.target_days:g} days.")
    return _json([{"service_request_id": rid,
                   "service_notice": " ".join([*notice, *sub.notices]),
                   "account_id": None}], shared=False)


def _refuse_duplicates(door: Access, sub: Submission) -> None:
    """409 listing the open reports like this one nearby, as the Report page offers them,
    unless the client said it is none of them."""
    d = sub.draft
    if sub.not_duplicate or not (-180 <= d.lon <= 180 and -90 <= d.lat <= 90):
        return
    near = door.duplicates(d.service_code, d.lon, d.lat)
    if near.empty:
        return
    found: list[str | dict[str, Any]] = [{
        "service_request_id": str(r["service_request_id"]),
        "description": f"an open report of the same kind is already near this place: "
                       f"{r['service_request_id']} ({r['service_name']}, "
                       f"{r['detailed_status']}, {int(r['support'])} supporter(s))"}
        for _, r in near.head(10).iterrows()]
    found.append("if none of these is the problem reported, send the request again with "
                 "not_duplicate=true to file it as a new report")
    raise Open311Error(409, found)


class _Fields:
    """A form's text fields as :class:`cpted.open311_input.Params`."""

    def __init__(self, items: list[tuple[str, str]]) -> None:
        self.items = items

    def getlist(self, key: Any) -> list[Any]:
        return [v for k, v in self.items if k == key]

    def multi_items(self) -> list[tuple[str, Any]]:
        return list(self.items)

    def last(self, key: str) -> str:
        got = self.getlist(key)
        return str(got[-1]) if got else ""


async def _not_found(api: _Api, request: Request) -> Response:
    raise Open311Error(404, [
        f"there is no resource {request.url.path}; this server has {PREFIX}/discovery.json, "
        "services.json, services/{service_code}.json, requests.json and "
        "requests/{service_request_id}.json"])


# -- the routes and the app --------------------------------------------------------

def _routes(api: _Api) -> list[BaseRoute]:
    def route(path: str, **handlers: Handler) -> Route:
        # every method reaches the resource, which answers 405 in the spec's form itself
        return Route(PREFIX + path, _resource(api, handlers), methods=_METHODS)

    anything = dict.fromkeys(_METHODS, _not_found)
    return [
        route("/discovery.{fmt}", GET=_discovery),
        route("/services.{fmt}", GET=_services),
        route("/services/{code}.{fmt}", GET=_service_definition),
        route("/requests.{fmt}", GET=_requests, POST=_file),
        route("/requests/{rid}.{fmt}", GET=_request),
        route("/{rest:path}", **anything),
    ]


def api_routes(settings: Settings) -> list[BaseRoute]:
    """The Open311 routes, all under ``/open311/v2/``, on the store of ``settings``
    (``db_url``), opened at the first request; mount them in any Starlette app."""
    return _routes(_Api(settings))


def create_app(settings: Settings | None = None) -> Starlette:
    """The Open311 server on its own (``cpted api``): :func:`api_routes` on the store of
    ``settings`` (default :func:`layers.settings.load_settings`), closed at shutdown."""
    api = _Api(settings or load_settings())

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        api.close()

    return Starlette(routes=_routes(api), lifespan=lifespan)
