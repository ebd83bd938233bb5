"""One concern: what was reported, its support, photos, and every status change with its reason."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from app_pages._state import as_seen, layer, role, services, store, tz
from cpted import concerns as cc
from cpted.privacy import STAFF
from layers.errors import UnusableInputError
from layers.schema import DetailedStatus, Layer

s = store()
acting = role()
staff = acting in STAFF
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
row = as_seen(acting, all_concerns[all_concerns["service_request_id"] == picked]).iloc[0]
local = pd.to_datetime(row["requested_datetime"]).tz_convert(tz())

h = cc.history(s, picked)
support = int((h["kind"] == "support").sum())


def text(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


c1, c2, c3 = st.columns([2, 1, 1])
c1.metric("Status", row["detailed_status"] or row["status"],
          help="Open311 status: " + str(row["status"]))
c2.metric("Supporters", support)
c3.metric("Open311", row["status"])
st.markdown(f"**{row['service_name']}** · reported {local:%Y-%m-%d %H:%M} · "
            f"{row['time_of_day']} · location {row['location_precision']}")
st.text(text(row["description"]) or "(no description)")
if text(row["address"]):
    st.caption(f"Address: {row['address']}")
if text(row["attributes"]):
    questions = {a.code: a.description or a.code
                 for a in catalogue[row["service_code"]].attributes} \
        if row["service_code"] in catalogue else {}
    for code, answer in json.loads(row["attributes"]).items():
        label = questions.get(code, code.replace("_", " ").capitalize())
        shown = {True: "yes", False: "no"}.get(answer, answer) if isinstance(answer, bool) \
            else answer
        st.caption(f"{label}: {shown}")
for _media_type, data in cc.photos(s, picked):
    st.image(data, caption="Photo (metadata removed)", width=360)
if staff:
    contact = cc.contact(s, picked)
    with st.expander("Reporter contact (staff only)"):
        st.write(contact if contact else "Anonymous report.")

st.subheader("What was done, and why")
if h.empty:
    st.caption("No history recorded (imported report).")
else:
    shown = h.assign(at=h["at"].dt.tz_convert(tz()).dt.strftime("%Y-%m-%d %H:%M"))
    shown["change"] = [(f"{a} → {b}" if a else b) if b else "" for a, b in
                       zip(shown["from_status"], shown["to_status"], strict=True)]
    st.dataframe(shown[["at", "kind", "actor", "change", "note"]], hide_index=True,
                 width="stretch",
                 column_config={"at": "When", "kind": "What", "actor": "Who",
                                "change": "Status", "note": st.column_config.TextColumn(
                                    "Note", width="large")})

left, right = st.columns(2)
with left, st.form("support"):
    st.markdown("**Me too**: this affects me as well.")
    note = st.text_input("Comment (optional)")
    if st.form_submit_button("Add my support"):
        try:
            n = cc.add_support(s, picked, note=note or None, actor=acting.value)
        except UnusableInputError as exc:
            st.error(str(exc))
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
            who = st.text_input("Your name or unit", value=acting.value)
            why = st.text_area("Note (required)", max_chars=cc.MAX_NOTE_CHARS)
            if st.form_submit_button("Save status", type="primary"):
                try:
                    cc.change_status(s, picked, new, why, actor=who)
                except UnusableInputError as exc:
                    st.error(str(exc).split("\n")[0])
                    for p in exc.problems:
                        st.markdown(f"- {p}")
                else:
                    st.session_state["status_flash"] = f"{picked} is now {new!r}."
                    st.rerun()
if flash := st.session_state.pop("status_flash", None):
    st.success(flash)
