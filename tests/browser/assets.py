"""Browser pages on a network that reaches nothing but the app.

Every request to a host other than the app's own is aborted and recorded (``blocked``),
so a test sees any map file, font or tile that would still come from a CDN. The app's
own map files (``/assets/...``) and base-map tiles (``/basemap/...``) are recorded as
``served``; any of them answered with an error is recorded as ``missing``.
"""

from __future__ import annotations

import re
from typing import Any

_LOCAL = re.compile(r"https?://(localhost|127\.0\.0\.1)(:\d+)?/")

#: Streamlit's own start-up probes the page's path for ``_stcore/...`` before the app
#: root, and some are answered 404 by design: not a map file, so not "missing".
_STREAMLIT_PROBE = re.compile(r"/_stcore/(health|host-config)$")


def is_local(url: str) -> bool:
    return _LOCAL.match(url) is not None


def install_routes(context: Any, served: list[str] | None = None,
                   missing: list[str] | None = None,
                   blocked: list[str] | None = None) -> None:
    """Abort a Playwright context's requests to other hosts; record what the maps load."""

    def handle(route: Any) -> None:
        url = route.request.url
        if is_local(url) or url.startswith(("data:", "blob:")):
            route.continue_()
            return
        if blocked is not None:
            blocked.append(url)
        route.abort()

    def answered(response: Any) -> None:
        url = response.url
        if not is_local(url) or not re.search(r"/(assets|basemap)/", url):
            if response.status >= 400 and is_local(url) and not _STREAMLIT_PROBE.search(url) \
                    and missing is not None:
                missing.append(f"{response.status} {url}")
            return
        if served is not None:
            served.append(url)
        if response.status >= 400 and missing is not None:
            missing.append(f"{response.status} {url}")

    context.route("**/*", handle)
    context.on("response", answered)
