"""cpted-mapper: the Streamlit router.

Pages live in app_pages/; logic lives in cpted/ and layers/.
"""

import streamlit as st

from app_pages._state import account_box, language_box, role
from cpted.access import Action, can
from cpted.i18n import _

st.set_page_config(page_title="cpted-mapper", page_icon=":world_map:", layout="wide")
language_box()
account_box()
acting = role()

community = [
    st.Page("app_pages/map.py", title=_("Map"), icon=":material/map:", default=True),
    st.Page("app_pages/report.py", title=_("Report a concern"), icon=":material/add_location:"),
    st.Page("app_pages/concern.py", title=_("Concern"), icon=":material/history:"),
    st.Page("app_pages/neighborhoods.py", title=_("Neighborhoods"), icon=":material/bar_chart:"),
    st.Page("app_pages/survey.py", title=_("How safe does it feel?"),
            icon=":material/nightlight:"),
    st.Page("app_pages/progress.py", title=_("Progress"), icon=":material/trending_up:"),
    st.Page("app_pages/spots.py", title=_("Problem spots"), icon=":material/push_pin:"),
    st.Page("app_pages/assess.py", title=_("Audit a place"), icon=":material/fact_check:"),
    st.Page("app_pages/audits.py", title=_("Audits"), icon=":material/insights:"),
]
city = [
    st.Page("app_pages/streetlights.py", title=_("Streetlights"), icon=":material/lightbulb:"),
    st.Page("app_pages/patrol.py", title=_("Patrol"), icon=":material/directions_bike:"),
    st.Page("app_pages/import_data.py", title=_("Import"), icon=":material/upload_file:"),
    st.Page("app_pages/export.py", title=_("Export"), icon=":material/download:"),
]
# Shown to the roles that may use them; the pages check again through the domain API.
admin = []
if can(acting, Action.EDIT_CATEGORIES) or can(acting, Action.EDIT_INSTRUMENT):
    admin.append(st.Page("app_pages/setup.py", title=_("Categories & instrument"),
                         icon=":material/tune:"))
if can(acting, Action.SEE_AUDIT):
    admin.append(st.Page("app_pages/changes.py", title=_("Change log"), icon=":material/policy:"))
if can(acting, Action.MANAGE_ACCOUNTS):
    admin.append(st.Page("app_pages/accounts.py", title=_("Accounts"), icon=":material/group:"))
sections = {_("Neighborhood"): community, _("City"): city}
if admin:
    sections[_("Administration")] = admin
st.navigation(sections, expanded=True).run()
