"""Accounts: who may sign in, with which role (administrators only)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages._state import access, refusal, tz
from app_pages._text import md
from app_pages._words import ROLES, word
from cpted.access import PERMISSIONS, Action, PermissionDeniedError
from cpted.i18n import _
from cpted.privacy import Role
from layers.errors import CptedError

me = access()
st.title(_("Accounts"))
try:
    table = me.accounts()
except PermissionDeniedError as exc:
    st.info(_("Accounts are managed by administrators ({why}).").format(why=md(exc)))
    st.stop()



def role_word(value: str) -> str:
    """A role in the language in use: ``"officer"`` -> ``"agente"``."""
    return word(ROLES.get(value, value))


with st.expander(_("What each role may do"), expanded=table.empty):
    roles = list(Role)
    grid = {a.value: ["✓" if r in PERMISSIONS[a] else "" for r in roles] for a in Action}
    st.dataframe({_("action"): [word(a) for a in grid],
                  **{role_word(r.value): [grid[a][i] for a in grid]
                     for i, r in enumerate(roles)}},
                 hide_index=True, width="stretch")
    st.caption(_("Everyone, the public included, may report a concern and support one."))

if flash := st.session_state.pop("accounts_flash", None):
    st.success(flash)
st.dataframe(
    table.drop(columns=["version"]).assign(
        disabled=table["disabled"].astype(bool), role=table["role"].map(role_word),
        created_at=pd.to_datetime(table["created_at"], utc=True, format="ISO8601")
        .dt.tz_convert(tz()).dt.strftime("%Y-%m-%d %H:%M")),
    hide_index=True, width="stretch",
    column_config={"username": _("User name"), "display_name": _("Name"),
                   "email": _("E-mail"), "role": _("Role"), "disabled": _("Disabled"),
                   "created_at": _("Created")})

choices = [r.value for r in Role if r is not Role.PUBLIC]
left, right = st.columns(2)
with left, st.form("new-account", clear_on_submit=True):
    st.markdown(_("**Add an account**"))
    username = st.text_input(_("User name"),
                             help=_("Lower-case letters, digits, '.', '_', '-'."))
    name = st.text_input(_("Name shown to others"))
    email = st.text_input(_("E-mail (for sign-in through the identity provider)"))
    role = st.selectbox(_("Role"), choices, index=0, format_func=role_word)
    password = st.text_input(_("Password (at least 10 characters)"), type="password")
    if st.form_submit_button(_("Add account"), type="primary"):
        try:
            me.create_account(username.strip().lower(), name, role, password or None,
                              email=email.strip() or None)
        except CptedError as exc:
            refusal(exc)
        else:
            st.session_state["accounts_flash"] = _("Added {user} as {role}.").format(
                user=md(username), role=role_word(role))
            st.rerun()
with right:
    if table.empty:
        st.stop()
    with st.form("change-role"):
        st.markdown(_("**Change a role, or disable an account**"))
        who = st.selectbox(_("Account"), table["username"].tolist())
        row = table.set_index("username").loc[who]
        new_role = st.selectbox(_("New role"), choices, index=choices.index(row["role"]),
                                format_func=role_word)
        disabled = st.checkbox(_("Disabled (cannot sign in)"), value=bool(row["disabled"]))
        if st.form_submit_button(_("Save")):
            try:
                if new_role != row["role"]:
                    me.set_role(who, new_role, expected_version=int(row["version"]))
                if disabled != bool(row["disabled"]):
                    me.set_disabled(who, disabled)
            except CptedError as exc:
                st.error(md(exc))
            else:
                st.session_state["accounts_flash"] = _("Saved {user}.").format(user=md(who))
                st.rerun()
