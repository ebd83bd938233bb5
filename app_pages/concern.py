"""One concern: what was reported, its support, photos, and every status change with its reason."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from app_pages._state import access, layer, refusal, services, store, tz
from app_pages._text import md
from cpted import concerns as cc
from cpted.access import Action, can
from layers.errors import ConflictError, CptedError
from layers.schema import DetailedStatus, Layer

s = store()
me = access()
acting = me.actor.role
staff = can(acting, Action.CHANGE_STATUS)
catalogue = services()
st.title("Concern")

all_concerns = layer(Layer.CONCERNS)
if all_concerns.empty:
    st.info("No concerns are stored yet.")
    st.stop()
recent = all_concerns.sort_values("requested_datetime", ascending=False)
ids = recent["service_request_id"].tolist()
default = st.session_state.get("concern_id")
picked = st.selectbox(
    "Concern", ids, index=ids.index(default) if default in ids else 0,
    format_func=lambda i: f"{i} · {recent.set_index('service_request_id').at[i, 'service_name']}",
    help="Newest first. Type to search by id.")
st.session_state["concern_id"] = picked
row = me.concern(picked)
# The version this person has seen: a status change is saved only over that version, so a
# change someone else made meanwhile is never overwritten unseen.
seen_versions = st.session_state.setdefault("seen_versions", {})
seen_versions.setdefault(picked, row["version"])
local = pd.to_datetime(row["requested_datetime"]).tz_convert(tz())

h = me.history(picked)
support = int((h["kind"] == "support").sum())


def text(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


c1, c2, c3 = st.columns([2, 1, 1])
c1.metric("Status", row["detailed_status"] or row["status"],
          help="Open311 status: " + str(row["status"]))
c2.metric("Supporters", support)
c3.metric("Open311", row["status"])
when = {"day": "a daytime problem", "night": "a night-time problem"}.get(
    row["time_of_day"], "time of day not known")
st.markdown(f"**{md(row['service_name'])}** · reported {local:%Y-%m-%d %H:%M} · {when} · "
            f"location {row['location_precision']}")
st.text(text(row["description"]) or "(no description)")
if text(row["address"]):
    st.caption(f"Address: {md(row['address'])}")
if text(row["attributes"]):
    questions = {a.code: a.description or a.code
                 for a in catalogue[row["service_code"]].attributes} \
        if row["service_code"] in catalogue else {}
    for code, answer in json.loads(row["attributes"]).items():
        label = questions.get(code, code.replace("_", " ").capitalize())
        shown = {True: "yes", False: "no"}.get(answer, answer) if isinstance(answer, bool) \
            else answer
        st.caption(f"{md(label)}: {md(shown)}")
for _media_type, data in me.photos(picked):
    st.image(data, caption="Photo (metadata removed)", width=360)
if can(acting, Action.SEE_CONTACT):
    contact = me.contact(picked)
    with st.expander("Reporter contact (staff only)"):
        st.text(contact if contact else "Anonymous report.")

st.subheader("What was done, and why")
if h.empty:
    st.caption("No history recorded (imported report).")
else:
    shown = h.assign(at=h["at"].dt.tz_convert(tz()).dt.strftime("%Y-%m-%d %H:%M"),
                     actor=h["actor"].fillna(""), note=h["note"].fillna(""))
    shown["change"] = [(f"{a} → {b}" if a else b) if b else "" for a, b in
                       zip(shown["from_status"], shown["to_status"], strict=True)]
    shown["visibility"] = [("everyone" if v == "public" else "staff only") if n else ""
                           for v, n in zip(shown["visibility"], shown["note"], strict=True)]
    columns = ["at", "kind", "actor", "change", "note", *(["visibility"] if staff else [])]
    st.dataframe(shown[columns], hide_index=True,
                 width="stretch",
                 column_config={"at": "When", "kind": "What", "actor": "Who",
                                "visibility": "Note seen by",
                                "change": "Status", "note": st.column_config.TextColumn(
                                    "Note", width="large")})

left, right = st.columns(2)
with left, st.form("support"):
    st.markdown("**Me too**: this affects me as well.")
    note = st.text_input("Comment (optional)", max_chars=cc.MAX_NOTE_CHARS)
    if row["sensitive"]:
        st.caption("Comments on this kind of report are seen by staff only.")
    else:
        st.caption("Your comment is shown publicly with this report.")
    if st.form_submit_button("Add my support"):
        try:
            n = me.support(picked, note or None)
        except CptedError as exc:
            st.error(md(exc))
        else:
            st.success(f"Thank you: {n} supporter(s) now.")
            st.rerun()
with right:
    if not staff:
        st.caption("Status changes are made by coordinators and city staff.")
    else:
        with st.form("status"):
            st.markdown("**Change the status**: every change needs a note saying what was "
                        "done and why.")
            statuses = [x.value for x in DetailedStatus if x.value != row["detailed_status"]]
            new = st.selectbox("New status", statuses)
            why = st.text_area("Note (required)", max_chars=cc.MAX_NOTE_CHARS)
            visibility = st.radio(
                "Who may read the note", ["internal", "public"],
                index=0 if row["sensitive"] else 1, horizontal=True,
                format_func={"internal": "Staff only", "public": "Everyone"}.get,
                help="Staff-only notes never reach public pages, exports or messages. On a "
                     "sensitive category the public never sees any note.")
            st.caption(f"Recorded as {md(me.actor.name)}.")
            if st.form_submit_button("Save status", type="primary"):
                try:
                    version = me.change_status(picked, new, why, visibility=visibility,
                                               expected_version=seen_versions[picked])
                except ConflictError as exc:
                    st.error(md(exc))
                    st.session_state["stale"] = picked
                except CptedError as exc:
                    refusal(exc)
                else:
                    seen_versions[picked] = version
                    st.session_state["status_flash"] = f"{md(picked)} is now {new!r}."
                    st.rerun()
        if st.session_state.get("stale") == picked and st.button("Reload the latest version"):
            seen_versions.pop(picked, None)
            st.session_state.pop("stale", None)
            st.rerun()
if flash := st.session_state.pop("status_flash", None):
    st.success(flash)

if can(acting, Action.MERGE) or can(acting, Action.DELETE):
    with st.expander("Merge duplicates or delete (coordinators)"):
        others = [i for i in ids if i != picked]
        with st.form("merge"):
            dups = st.multiselect("Reports that are the same problem as this one", others,
                                  help="Each is closed as a duplicate; its supporters and "
                                       "its reporter count as support here.")
            why = st.text_input("Why they are the same (kept in the change log)")
            if st.form_submit_button("Merge into this report", disabled=not can(
                    acting, Action.MERGE)):
                try:
                    merged = me.merge(picked, dups, why)
                except CptedError as exc:
                    st.error(md(exc))
                else:
                    st.session_state["status_flash"] = (
                        f"Merged {len(merged)} report(s) into {md(picked)}.")
                    st.rerun()
        with st.form("delete"):
            reason = st.text_input("Reason for deleting this report (kept in the change log)")
            sure = st.checkbox(f"Delete {md(picked)} with its photos, contact and history")
            if st.form_submit_button("Delete", disabled=not can(acting, Action.DELETE)):
                if not sure:
                    st.error("Tick the box to confirm the deletion.")
                else:
                    try:
                        me.delete_concern(picked, reason)
                    except CptedError as exc:
                        st.error(md(exc))
                    else:
                        st.session_state.pop("concern_id", None)
                        st.session_state["status_flash"] = f"{md(picked)} was deleted."
                        st.rerun()
