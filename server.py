"""cpted-mapper served: the pages (app.py) and the files their maps load, from one origin.

Start it with ``make run``, or ``streamlit run server.py``. The routes are in
:mod:`cpted.server`.
"""

import streamlit as st

from cpted.server import routes

app = st.App("app.py", routes=routes())
