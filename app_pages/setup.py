"""Categories and the CPTED audit instrument: what coordinators and planners configure."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import streamlit as st

from app_pages._state import access, instrument, services
from app_pages._text import md
from cpted import i18n
from cpted.access import Action, can
from cpted.i18n import _, ngettext
from cpted.instrument import MAX_FILE_MB, parse_instrument
from layers.errors import CptedError, UnusableInputError

me = access()
role = me.actor.role
st.title(_("Categories and instrument"))
if flash := st.session_state.pop("setup_flash", None):
    st.success(flash)

st.subheader(_("Report categories"))
catalogue = services()
editable = can(role, Action.EDIT_CATEGORIES)
frame = pd.DataFrame([{
    "code": s.service_code, "name": s.service_name, "sensitive": s.sensitive,
    "duplicate radius (m)": s.duplicate_radius_m, "duplicate window (days)":
    s.duplicate_window_days, "target (days)": s.target_days} for s in catalogue.values()])
st.caption(_("Sensitive categories are shown to the public only at the centre of a grid "
             "cell, without description or address. Reports of the same category within "
             "the duplicate radius and window are offered as duplicates; the target is how "
             "many days a report should take to close.") + (
    "" if editable else " " + _("Coordinators and administrators edit these.")))
edited = st.data_editor(
    frame, hide_index=True, width="stretch", disabled=not editable or ["code"],
    column_config={
        "code": _("code"), "name": _("name"), "sensitive": _("sensitive"),
        "duplicate radius (m)": st.column_config.NumberColumn(
            _("duplicate radius (m)"), min_value=1, max_value=1000),
        "duplicate window (days)": st.column_config.NumberColumn(
            _("duplicate window (days)"), min_value=1, max_value=365),
        "target (days)": st.column_config.NumberColumn(
            _("target (days)"), min_value=1, max_value=365)},
    key="categories")
if editable and st.button(_("Save categories"), type="primary"):
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
        st.info(_("Nothing was changed."))
    else:
        try:
            me.save_services(changed)
        except CptedError as exc:
            st.error(md(exc))
        else:
            st.session_state["setup_flash"] = ngettext(
                "Saved {n} category: {codes}.", "Saved {n} categories: {codes}.",
                len(changed)).format(n=i18n.number(len(changed)),
                                     codes=", ".join(md(s.service_code) for s in changed))
            st.rerun()

st.subheader(_("CPTED audit instrument"))
current = instrument()


def sizes(n_items: int, n_principles: int) -> str:
    """``"27 questions over 7 principles"``, each count in its own plural."""
    return _("{questions} over {principles}").format(
        questions=ngettext("{n} question", "{n} questions", n_items).format(
            n=i18n.number(n_items)),
        principles=ngettext("{n} principle", "{n} principles", n_principles).format(
            n=i18n.number(n_principles)))


st.markdown(_("New audits use **{title}** ({id} version {version}): {sizes}. Audits made "
              "before a change keep the instrument they were answered on.").format(
    title=md(current.title), id=md(current.id), version=md(current.version),
    sizes=sizes(len(current.items), len(current.principles))))
st.download_button(_("Download it (TOML)"), current.text.encode(),
                   file_name=f"{current.id}-{current.version}.toml", mime="application/toml")
if not can(role, Action.EDIT_INSTRUMENT):
    st.caption(_("Planners and administrators change the instrument."))
    st.stop()
upload = st.file_uploader(_("A changed instrument (TOML, with a new version number)"),
                          type=["toml"], max_upload_size=MAX_FILE_MB,
                          help=_("At most {mb} MB.").format(mb=i18n.number(MAX_FILE_MB)))
if upload is not None:
    if upload.size > MAX_FILE_MB * 1024 * 1024:
        st.error(_("An instrument file is at most {mb} MB.").format(
            mb=i18n.number(MAX_FILE_MB)))
        st.stop()
    text = upload.getvalue().decode("utf-8", errors="replace")
    try:
        new = parse_instrument(text, name=upload.name)
    except UnusableInputError as exc:
        st.error(md(str(exc).split("\n")[0]))
        for p in exc.problems:
            st.markdown(f"- {md(p)}")
        st.stop()
    st.markdown(_("**{title}** ({id} version {version}): {sizes}.").format(
        title=md(new.title), id=md(new.id), version=md(new.version),
        sizes=sizes(len(new.items), len(new.principles))))
    if st.button(_("Use it for new audits"), type="primary"):
        try:
            me.add_instrument(text)
        except CptedError as exc:
            st.error(md(exc))
        else:
            st.session_state["setup_flash"] = _("New audits now use {id} {version}.").format(
                id=md(new.id), version=md(new.version))
            st.rerun()
