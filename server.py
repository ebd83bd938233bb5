"""cpted-mapper served: the pages (app.py), the files their maps load, and the Open311
GeoReport v2 API, all from one origin.

Start it with ``make run``, or ``streamlit run server.py``. The routes are in
:mod:`cpted.server` (map files and base-map tiles) and :mod:`cpted.api` (``/open311/v2/``).
"""

import streamlit as st

from cpted.api import api_routes
from cpted.server import routes
from layers.settings import load_settings

app = st.App("app.py", routes=[*routes(), *api_routes(load_settings())])
