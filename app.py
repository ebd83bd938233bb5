"""cpted-mapper: the Streamlit router.

Pages live in app_pages/; logic lives in cpted/ and layers/.
"""

import streamlit as st

from app_pages._state import account_box, role
from cpted.access import Action, can

st.set_page_config(page_title="cpted-mapper", page_icon=":world_map:", layout="wide")
account_box()
acting = role()

community = [
    st.Page("app_pages/map.py", title="Map", icon=":material/map:", default=True),
    st.Page("app_pages/report.py", title="Report a concern", icon=":material/add_location:"),
    st.Page("app_pages/concern.py", title="Concern", icon=":material/history:"),
    st.Page("app_pages/neighborhoods.py", title="Neighborhoods", icon=":material/bar_chart:"),
    st.Page("app_pages/survey.py", title="How safe does it feel?",
            icon=":material/nightlight:"),
    st.Page("app_pages/progress.py", title="Progress", icon=":material/trending_up:"),
    st.Page("app_pages/spots.py", title="Problem spots", icon=":material/push_pin:"),
    st.Page("app_pages/assess.py", title="Audit a place", icon=":material/fact_check:"),
    st.Page("app_pages/audits.py", title="Audits", icon=":material/insights:"),
]
city = [
    st.Page("app_pages/streetlights.py", title="Streetlights", icon=":material/lightbulb:"),
    st.Page("app_pages/patrol.py", title="Patrol", icon=":material/directions_bike:"),
    st.Page("app_pages/import_data.py", title="Import", icon=":material/upload_file:"),
    st.Page("app_pages/export.py", title="Export", icon=":material/download:"),
]
# Shown to the roles that may use them; the pages check again through the domain API.
admin = []
if can(acting, Action.EDIT_CATEGORIES) or can(acting, Action.EDIT_INSTRUMENT):
    admin.append(st.Page("app_pages/setup.py", title="Categories & instrument",
                         icon=":material/tune:"))
if can(acting, Action.SEE_AUDIT):
    admin.append(st.Page("app_pages/changes.py", title="Change log", icon=":material/policy:"))
if can(acting, Action.MANAGE_ACCOUNTS):
    admin.append(st.Page("app_pages/accounts.py", title="Accounts", icon=":material/group:"))
sections = {"Neighborhood": community, "City": city}
if admin:
    sections["Administration"] = admin
st.navigation(sections, expanded=True).run()
