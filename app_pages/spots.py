"""Problem spots and action plans: group reports about one place, plan what will be done."""

from __future__ import annotations

from datetime import date, timedelta

import streamlit as st

from app_pages._state import access, layer, role, services
from app_pages._text import md
from cpted import spots as sp
from cpted.privacy import STAFF
from layers.errors import CptedError
from layers.schema import Layer

me = access()
acting = role()
catalogue = services()
st.title("Problem spots and action plans")

plans = me.plans()
late = plans[plans["overdue"]]
if len(late):
    st.error(f"{len(late)} action plan(s) overdue: "
             + "; ".join(f"{md(r.title)} ({md(r.owner_name)}, {r.days_overdue} days late)"
                         for r in late.itertuples()))
st.subheader("Action plans")
if plans.empty:
    st.caption("No action plans yet.")
else:
    st.dataframe(
        plans[["id", "title", "owner_kind", "owner_name", "due_date", "status", "overdue",
               "days_overdue", "reports"]],
        hide_index=True, width="stretch",
        column_config={"overdue": st.column_config.CheckboxColumn("Overdue"),
                       "days_overdue": "Days late", "owner_kind": "Owner type",
                       "owner_name": "Owner", "due_date": "Due"})

spots = me.spots()
st.subheader("Problem spots")
if spots.empty:
    st.caption("No problem spots yet: a coordinator gathers repeated reports about one place "
               "into a spot.")
else:
    st.dataframe(spots[["id", "title", "reports", "open", "note"]], hide_index=True,
                 width="stretch")

if acting not in STAFF:
    st.info("Coordinators and city staff create problem spots and action plans.")
    st.stop()

concerns = layer(Layer.CONCERNS, where={"status": ["open"]})
labels = {r.service_request_id: f"{r.service_request_id} · {r.service_name} · "
                                f"{(r.address or '')[:40]}" for r in concerns.itertuples()}
with st.form("new-spot"):
    st.markdown("**Gather reports into a problem spot**")
    title = st.text_input("Title", placeholder="Dark alley behind 5th & Main")
    picked = st.multiselect("Reports", list(labels), format_func=labels.get)
    note = st.text_area("Note")
    if st.form_submit_button("Create problem spot"):
        try:
            sid = me.create_spot(title, picked, note=note)
        except CptedError as exc:
            st.error(md(exc))
        else:
            st.success(f"Problem spot {md(sid)} created with {len(picked)} report(s).")
            st.rerun()

with st.form("new-plan"):
    st.markdown("**Plan an intervention**")
    title = st.text_input("What will be done", placeholder="Ask the city to trim the hedges")
    c1, c2, c3 = st.columns(3)
    kind = c1.selectbox("Owner type", [k.value for k in sp.OwnerKind])
    owner = c2.text_input("Owner", placeholder="Parks Department")
    due = c3.date_input("Due", value=date.today() + timedelta(days=30))
    spot_ids = ["", *spots["id"].tolist()] if len(spots) else [""]
    spot = st.selectbox("Problem spot", spot_ids,
                        format_func=lambda i: "(none)" if not i else
                        f"{i} · {spots.set_index('id').at[i, 'title']}")
    reports = st.multiselect("Or reports", list(labels), format_func=labels.get)
    note = st.text_area("Note", key="plan-note")
    note_vis = st.radio("Who may read the note", ["internal", "public"], horizontal=True,
                        key="plan-note-vis",
                        format_func={"internal": "Staff only", "public": "Everyone"}.get)
    if st.form_submit_button("Create action plan"):
        try:
            pid = me.create_plan(title, owner_kind=kind, owner_name=owner, due=due,
                                 spot_id=spot or None, request_ids=reports, note=note,
                                 note_visibility=note_vis)
        except CptedError as exc:
            st.error(md(str(exc).split("\n")[0]))
            for p in getattr(exc, "problems", ()):
                st.markdown(f"- {md(p)}")
        else:
            st.success(f"Action plan {md(pid)} created; its reports show it in their history.")
            st.rerun()

if len(plans):
    with st.form("plan-status"):
        st.markdown("**Update a plan**")
        pid = st.selectbox("Plan", plans["id"].tolist(),
                           format_func=lambda i: f"{i} · {plans.set_index('id').at[i, 'title']}")
        new = st.selectbox("Status", [x.value for x in sp.PlanStatus])
        why = st.text_input("What happened")
        why_vis = st.radio("Who may read it", ["internal", "public"], horizontal=True,
                           key="plan-status-vis",
                           format_func={"internal": "Staff only", "public": "Everyone"}.get)
        if st.form_submit_button("Save"):
            try:
                me.set_plan_status(pid, new, why, visibility=why_vis)
            except CptedError as exc:
                st.error(md(exc))
            else:
                st.rerun()
