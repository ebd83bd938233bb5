"""Serve the map's CDN files from local npm packages during browser tests.

No machine here reaches public CDNs, so every request the page makes to
one is answered from ``tests/browser/node_modules`` (installed by
``.ci/run`` with ``npm ci``). Map tiles are answered with a blank tile.
"""

from __future__ import annotations

import base64
import mimetypes
import re
from pathlib import Path

NODE_MODULES = Path(__file__).resolve().parent / "node_modules"

# A 1x1 light grey PNG, stretched by Leaflet to a tile.
BLANK_TILE = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4//8/AAX+Av4N70a4AAAAAElFTkSuQmCC"
)

_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"https://cdn\.jsdelivr\.net/npm/(@?[^@/]+(?:/[^@/]+)?)@[^/]+/(.+)"), r"\1/\2"),
    (re.compile(r"https://code\.jquery\.com/jquery-[\d.]+\.min\.js"), "jquery/dist/jquery.min.js"),
    (re.compile(r"https://cdnjs\.cloudflare\.com/ajax/libs/Leaflet\.awesome-markers/[^/]+/(.+)"),
     r"leaflet.awesome-markers/dist/\1"),
    (re.compile(r"https://cdnjs\.cloudflare\.com/ajax/libs/leaflet\.draw/[^/]+/(.+)"),
     r"leaflet-draw/dist/\1"),
]


def local_path(url: str) -> Path | None:
    """The local file standing in for a CDN ``url``, or None."""
    for pattern, repl in _RULES:
        m = pattern.fullmatch(url.split("?")[0])
        if m:
            path = NODE_MODULES / m.expand(repl)
            return path if path.is_file() else None
    return None


def is_local(url: str) -> bool:
    return re.match(r"https?://(localhost|127\.0\.0\.1)(:\d+)?/", url) is not None


def install_routes(context: object, served: list[str] | None = None,
                   missing: list[str] | None = None) -> None:
    """Route a Playwright context's external requests to local files.

    ``served`` and ``missing`` collect the URLs answered from disk and those
    with no local copy (answered empty), so a test can assert on them.
    """

    def handle(route: object) -> None:
        url = route.request.url  # type: ignore[attr-defined]
        if is_local(url) or url.startswith("data:"):
            route.continue_()  # type: ignore[attr-defined]
            return
        path = local_path(url)
        if path is not None:
            if served is not None:
                served.append(url)
            ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            route.fulfill(status=200, body=path.read_bytes(), content_type=ctype)  # type: ignore[attr-defined]
        elif re.search(r"tile|\{z\}|/\d+/\d+/\d+(@2x)?\.png", url):
            route.fulfill(status=200, body=BLANK_TILE, content_type="image/png")  # type: ignore[attr-defined]
        else:
            if missing is not None:
                missing.append(url)
            kind = "text/css" if url.endswith(".css") else "application/javascript"
            route.fulfill(status=200, body="", content_type=kind)  # type: ignore[attr-defined]

    context.route("**/*", handle)  # type: ignore[attr-defined]
