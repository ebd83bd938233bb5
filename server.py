"""cpted-mapper served from one origin: the pages (app.py), the files their maps load,
the Open311 GeoReport v2 API, the Atom feeds and the follow links.

Start it with ``make run``, or ``streamlit run server.py``. The routes are in
:mod:`cpted.server` (map files and base-map tiles), :mod:`cpted.api` (``/open311/v2/``) and
:mod:`cpted.feeds` (``/feeds/...``, ``/follow/...``).
"""

import streamlit as st
from starlette.middleware import Middleware

from cpted.api import api_routes
from cpted.feeds import feed_routes
from cpted.server import PageLanguage, routes
from layers.settings import load_settings

settings = load_settings()
app = st.App("app.py", routes=[*routes(), *api_routes(settings), *feed_routes(settings=settings)],
             middleware=[Middleware(PageLanguage)])
