"""The routes the app serves beside Streamlit's own: map files and base-map tiles.

``server.py`` at the project root mounts them with ``st.App``, so ``streamlit run
server.py`` serves the pages and everything their maps load from one origin. Nothing
here reads records: the tiles are files :mod:`cpted.basemap` built from the base
layers a page read through the access layer.

- ``/assets/<package>/dist/<file>``: the front-end packages installed with the app
  (:data:`cpted.maps.assets.SERVED_DIRS` only).
- ``/basemap/<key>/<layer>/<z>/<x>/<y>.mvt``: a base-map tile; 204 (empty) where a tile
  set has no tile, as vector-tile clients expect, and 404 for an unknown set.

And one middleware, :class:`PageLanguage`: the page Streamlit serves declares the
language it will be shown in.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cpted import basemap, i18n
from cpted.maps.assets import NODE_MODULES, SERVED_DIRS

#: Set once ``server.py`` has mounted the routes; pages read it to tell a user who started
#: the bare script (``streamlit run app.py``) why its maps cannot draw.
SERVING = False

#: Tiles are named by their content, so a browser may keep them; assets change on upgrade.
_TILE_CACHE = "public, max-age=31536000, immutable"
_ASSET_CACHE = "public, max-age=86400"


def basemap_root() -> Path:
    """Where tile sets are built: ``CPTED_BASEMAP_DIR``, or the user's cache folder."""
    from layers.settings import load_settings

    configured = load_settings().basemap_dir
    return Path(configured) if configured else basemap.default_dir()


def asset_path(relative: str) -> Path | None:
    """The installed file ``relative`` names under a served folder, or None.

    Only files inside :data:`SERVED_DIRS` are served: ``..``, absolute paths and links
    out of those folders are refused.
    """
    if "\\" in relative or "\x00" in relative:
        return None
    for folder in SERVED_DIRS:
        root = (NODE_MODULES / folder).resolve()
        if not relative.startswith(folder + "/"):
            continue
        path = (NODE_MODULES / relative).resolve()
        if path.is_relative_to(root) and path.is_file():
            return path
    return None


async def _asset(request: Request) -> Response:
    path = asset_path(str(request.path_params["path"]))
    if path is None:
        return Response("Not found", status_code=404, media_type="text/plain")
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return FileResponse(path, media_type=kind, headers={
        "Cache-Control": _ASSET_CACHE, "X-Content-Type-Options": "nosniff"})


async def _tile(request: Request) -> Response:
    p = request.path_params
    key, name = str(p["key"]), str(p["layer"])
    root = basemap_root()
    if not basemap.valid_key(key) or name not in {b.name for b in basemap.BASE_LAYERS} \
            or not (root / key / f"{name}.mbtiles").is_file():
        return Response("No such tile set", status_code=404, media_type="text/plain")
    data = basemap.read_tile(root, key, name, int(p["z"]), int(p["x"]), int(p["y"]))
    headers = {"Cache-Control": _TILE_CACHE, "X-Content-Type-Options": "nosniff"}
    if data is None:
        return Response(status_code=204, headers=headers)
    return Response(data, media_type="application/vnd.mapbox-vector-tile", headers=headers)


def routes() -> list[BaseRoute]:
    """The routes to mount; marks the process as serving them (see :data:`SERVING`)."""
    global SERVING
    SERVING = True
    return [
        Route("/assets/{path:path}", _asset, methods=["GET"]),
        Route("/basemap/{key}/{layer}/{z:int}/{x:int}/{y:int}.mvt", _tile, methods=["GET"]),
    ]


class PageLanguage:
    """Declares the page's language on the page itself (WCAG 2.1, 3.1.1 "Language of
    Page"), so a screen reader reads a Spanish page with a Spanish voice.

    Streamlit serves one HTML page, written ``<html lang="en">``; a page asked for by a
    browser is served with the language the app will speak to it, negotiated from its
    ``Accept-Language`` as the pages negotiate it (:func:`cpted.i18n.negotiate`). A
    language chosen later in the picker is set on the page by the picker
    (``app_pages/_state.language_box``). Nothing else is changed: other responses pass
    through untouched, and the page is sent uncompressed (it is 8 kB).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "GET":
            await self.app(scope, receive, send)
            return
        asked = Headers(scope=scope)
        code = i18n.negotiate(asked.get("accept-language"))
        if code == i18n.SOURCE or "text/html" not in asked.get("accept", ""):
            await self.app(scope, receive, send)
            return
        # a page's own request: kept out of compression, so its text can be read
        scope = {**scope, "headers": [(k, v) for k, v in scope["headers"]
                                      if k.lower() != b"accept-encoding"]}
        start: Message | None = None
        body: list[bytes] = []

        async def respond(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                kind = Headers(raw=message.get("headers", [])).get("content-type", "")
                if kind.startswith("text/html"):
                    start = message
                    return
                await send(message)
            elif message["type"] == "http.response.body" and start is not None:
                body.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                page = declare(b"".join(body), code)
                headers = MutableHeaders(raw=list(start.get("headers", [])))
                headers["content-length"] = str(len(page))
                await send({**start, "headers": headers.raw})
                await send({"type": "http.response.body", "body": page})
            else:
                await send(message)

        await self.app(scope, receive, respond)


def declare(page: bytes, code: str) -> bytes:
    """``page`` with its ``<html>`` element's ``lang`` set to ``code`` (the first one
    only; a page with no ``lang`` on it is returned as it is)."""
    head, sep, rest = page.partition(b"<html lang=\"")
    if not sep:
        return page
    _old, quote, tail = rest.partition(b"\"")
    return head + sep + code.encode("ascii") + quote + tail
