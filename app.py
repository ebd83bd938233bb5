"""cpted-mapper: the Streamlit router.

Pages live in app_pages/; logic lives in cpted/ and layers/.
"""

import streamlit as st

st.set_page_config(page_title="cpted-mapper", page_icon=":world_map:", layout="wide")

pages = [
    st.Page("app_pages/map.py", title="Map", icon=":material/map:", default=True),
    st.Page("app_pages/import_data.py", title="Import", icon=":material/upload_file:"),
    st.Page("app_pages/export.py", title="Export", icon=":material/download:"),
]
st.navigation(pages).run()
