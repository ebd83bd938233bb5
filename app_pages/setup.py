"""Categories and the CPTED audit instrument: what coordinators and planners configure."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import streamlit as st

from app_pages._state import access, instrument, services
from app_pages._text import md
from cpted.access import Action, can
from cpted.instrument import MAX_FILE_MB, parse_instrument
from layers.errors import CptedError, UnusableInputError

me = access()
role = me.actor.role
st.title("Categories and instrument")
if flash := st.session_state.pop("setup_flash", None):
    st.success(flash)

st.subheader("Report categories")
catalogue = services()
editable = can(role, Action.EDIT_CATEGORIES)
frame = pd.DataFrame([{
    "code": s.service_code, "name": s.service_name, "sensitive": s.sensitive,
    "duplicate radius (m)": s.duplicate_radius_m, "duplicate window (days)":
    s.duplicate_window_days, "target (days)": s.target_days} for s in catalogue.values()])
st.caption("Sensitive categories are shown to the public only at the centre of a grid cell, "
           "without description or address. Reports of the same category within the "
           "duplicate radius and window are offered as duplicates; the target is how many "
           "days a report should take to close." + ("" if editable else
                                                    " Coordinators and administrators edit "
                                                    "these."))
edited = st.data_editor(
    frame, hide_index=True, width="stretch", disabled=not editable or ["code"],
    column_config={
        "duplicate radius (m)": st.column_config.NumberColumn(min_value=1, max_value=1000),
        "duplicate window (days)": st.column_config.NumberColumn(min_value=1, max_value=365),
        "target (days)": st.column_config.NumberColumn(min_value=1, max_value=365)},
    key="categories")
if editable and st.button("Save categories", type="primary"):
    changed = []
    for row in edited.to_dict("records"):
        old = catalogue[row["code"]]
        new = replace(old, service_name=str(row["name"]).strip() or old.service_name,
                      sensitive=bool(row["sensitive"]),
                      duplicate_radius_m=float(row["duplicate radius (m)"]),
                      duplicate_window_days=float(row["duplicate window (days)"]),
                      target_days=float(row["target (days)"]))
        if new != old:
            changed.append(new)
    if not changed:
        st.info("Nothing was changed.")
    else:
        try:
            me.save_services(changed)
        except CptedError as exc:
            st.error(md(exc))
        else:
            st.session_state["setup_flash"] = (
                f"Saved {len(changed)} categor{'y' if len(changed) == 1 else 'ies'}: "
                + ", ".join(md(s.service_code) for s in changed) + ".")
            st.rerun()

st.subheader("CPTED audit instrument")
current = instrument()
st.markdown(f"New audits use **{md(current.title)}** ({md(current.id)} version "
            f"{md(current.version)}): "
            f"{len(current.items)} questions over {len(current.principles)} principles. "
            "Audits made before a change keep the instrument they were answered on.")
st.download_button("Download it (TOML)", current.text.encode(),
                   file_name=f"{current.id}-{current.version}.toml", mime="application/toml")
if not can(role, Action.EDIT_INSTRUMENT):
    st.caption("Planners and administrators change the instrument.")
    st.stop()
upload = st.file_uploader("A changed instrument (TOML, with a new version number)",
                          type=["toml"], max_upload_size=MAX_FILE_MB,
                          help=f"At most {MAX_FILE_MB} MB.")
if upload is not None:
    if upload.size > MAX_FILE_MB * 1024 * 1024:
        st.error(f"An instrument file is at most {MAX_FILE_MB} MB.")
        st.stop()
    text = upload.getvalue().decode("utf-8", errors="replace")
    try:
        new = parse_instrument(text, name=upload.name)
    except UnusableInputError as exc:
        st.error(md(str(exc).split("\n")[0]))
        for p in exc.problems:
            st.markdown(f"- {md(p)}")
        st.stop()
    st.markdown(f"**{md(new.title)}** ({md(new.id)} version {md(new.version)}): "
                f"{len(new.items)} "
                f"questions over {len(new.principles)} principles.")
    if st.button("Use it for new audits", type="primary"):
        try:
            me.add_instrument(text)
        except CptedError as exc:
            st.error(md(exc))
        else:
            st.session_state["setup_flash"] = f"New audits now use {md(new.id)} {md(new.version)}."
            st.rerun()
