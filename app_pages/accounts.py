"""Accounts: who may sign in, with which role (administrators only)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages._state import access, refusal, tz
from app_pages._text import md
from cpted.access import PERMISSIONS, Action, PermissionDeniedError
from cpted.privacy import Role
from layers.errors import CptedError

me = access()
st.title("Accounts")
try:
    table = me.accounts()
except PermissionDeniedError as exc:
    st.info(f"Accounts are managed by administrators ({md(exc)}).")
    st.stop()

with st.expander("What each role may do", expanded=table.empty):
    roles = list(Role)
    grid = {a.value: ["✓" if r in PERMISSIONS[a] else "" for r in roles] for a in Action}
    st.dataframe({"action": list(grid), **{r.value: [grid[a][i] for a in grid]
                                           for i, r in enumerate(roles)}},
                 hide_index=True, width="stretch")
    st.caption("Everyone, the public included, may report a concern and support one.")

if flash := st.session_state.pop("accounts_flash", None):
    st.success(flash)
st.dataframe(
    table.drop(columns=["version"]).assign(
        disabled=table["disabled"].astype(bool),
        created_at=pd.to_datetime(table["created_at"], utc=True, format="ISO8601")
        .dt.tz_convert(tz()).dt.strftime("%Y-%m-%d %H:%M")),
    hide_index=True, width="stretch",
    column_config={"username": "User name", "display_name": "Name", "email": "E-mail",
                   "role": "Role", "disabled": "Disabled", "created_at": "Created"})

choices = [r.value for r in Role if r is not Role.PUBLIC]
left, right = st.columns(2)
with left, st.form("new-account", clear_on_submit=True):
    st.markdown("**Add an account**")
    username = st.text_input("User name", help="Lower-case letters, digits, '.', '_', '-'.")
    name = st.text_input("Name shown to others")
    email = st.text_input("E-mail (for sign-in through the identity provider)")
    role = st.selectbox("Role", choices, index=0)
    password = st.text_input("Password (at least 10 characters)", type="password")
    if st.form_submit_button("Add account", type="primary"):
        try:
            me.create_account(username.strip().lower(), name, role, password or None,
                              email=email.strip() or None)
        except CptedError as exc:
            refusal(exc)
        else:
            st.session_state["accounts_flash"] = f"Added {md(username)} as {role}."
            st.rerun()
with right:
    if table.empty:
        st.stop()
    with st.form("change-role"):
        st.markdown("**Change a role, or disable an account**")
        who = st.selectbox("Account", table["username"].tolist())
        row = table.set_index("username").loc[who]
        new_role = st.selectbox("New role", choices, index=choices.index(row["role"]))
        disabled = st.checkbox("Disabled (cannot sign in)", value=bool(row["disabled"]))
        if st.form_submit_button("Save"):
            try:
                if new_role != row["role"]:
                    me.set_role(who, new_role, expected_version=int(row["version"]))
                if disabled != bool(row["disabled"]):
                    me.set_disabled(who, disabled)
            except CptedError as exc:
                st.error(md(exc))
            else:
                st.session_state["accounts_flash"] = f"Saved {md(who)}."
                st.rerun()
