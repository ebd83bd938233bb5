"""Problem spots and action plans: group reports about one place, plan what will be done."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pandas as pd
import streamlit as st
from shapely.geometry import shape

from app_pages._maps import show_map
from app_pages._state import access, category_names, layer, role, tz
from app_pages._text import md
from app_pages._words import word
from cpted import gathering, i18n
from cpted import spots as sp
from cpted.i18n import _, ngettext
from cpted.maps import build_gather_map, build_spots_map
from cpted.privacy import STAFF
from layers.errors import CptedError
from layers.schema import Layer

#: Session keys: the gathered report ids, the last drawing and click already used (the
#: map returns them on every rerun), and a message to show after the next rerun.
GATHERED = "spot-gathered"
SEEN_DRAWING = "spot-seen-drawing"
SEEN_CLICK = "spot-seen-click"
NOTICE = "spot-notice"

me = access()
acting = role()
zone = tz()
names = category_names()
st.title(_("Problem spots and action plans"))
st.caption(_("A problem spot gathers the reports made about one place (a dark alley, a vacant "
             "house). An action plan says what will be done about a spot or some reports, "
             "who will do it and by when; its progress shows in each report's history."))

if notice := st.session_state.pop(NOTICE, None):
    st.success(notice)

plans = me.plans()
spots = me.spots()
spot_title = dict(zip(spots["id"], spots["title"], strict=True)) if len(spots) else {}
late = plans[plans["overdue"]]
if len(late):
    st.error(ngettext("{n} action plan overdue: {plans}", "{n} action plans overdue: {plans}",
                      len(late)).format(
        n=i18n.number(len(late)),
        plans="; ".join(ngettext("{plan} ({owner}, {n} day late)",
                                 "{plan} ({owner}, {n} days late)", int(r.days_overdue)).format(
            plan=md(r.title), owner=md(r.owner_name), n=i18n.number(int(r.days_overdue)))
            for r in late.itertuples())))

# -- the spots ------------------------------------------------------------------------------
st.subheader(_("Problem spots"))
if spots.empty:
    st.caption(_("No problem spots yet: a coordinator gathers repeated reports about one "
                 "place into a spot."))
else:
    status = sp.spot_statuses(spots, plans)
    if acting in STAFF:
        # A spot sits at the centre of its reports, exact ones included: staff only.
        show_map(build_spots_map(spots, status), key="spots-map", height=340)
    created = pd.to_datetime(spots["created_at"], utc=True).dt.tz_convert(zone)
    st.dataframe(
        pd.DataFrame({"title": spots["title"], "status": [word(x) for x in status],
                      "reports": spots["reports"],
                      "open": spots["open"], "created": created.dt.strftime("%Y-%m-%d"),
                      "note": spots["note"], "id": spots["id"]}),
        hide_index=True, width="stretch",
        column_config={"title": _("Spot"), "status": _("Status"), "reports": _("Reports"),
                       "open": _("Still open"), "created": _("Created"), "note": _("Note"),
                       "id": _("Spot id")})

st.subheader(_("Action plans"))
if plans.empty:
    st.caption(_("No action plans yet."))
else:
    st.dataframe(
        pd.DataFrame({"title": plans["title"],
                      "spot": plans["spot_id"].map(spot_title),
                      "owner_kind": [word(k) for k in plans["owner_kind"]],
                      "owner_name": plans["owner_name"],
                      "due_date": plans["due_date"],
                      "status": [word(x) for x in plans["status"]],
                      "overdue": plans["overdue"], "days_overdue": plans["days_overdue"],
                      "reports": plans["reports"], "id": plans["id"]}),
        hide_index=True, width="stretch",
        column_config={"title": _("What will be done"), "spot": _("Problem spot"),
                       "owner_kind": _("Owner type"), "owner_name": _("Owner"),
                       "due_date": _("Due"), "status": _("Status"),
                       "overdue": st.column_config.CheckboxColumn(_("Overdue")),
                       "days_overdue": _("Days late"), "reports": _("Reports"),
                       "id": _("Plan id")})

if acting not in STAFF:
    st.info(_("Coordinators and city staff create problem spots and action plans."))
    st.stop()

# -- gathering reports on the map -----------------------------------------------------------
st.subheader(_("Gather reports on the map"))
st.caption(_("Draw an area with the polygon or rectangle tool (top left of the map) to gather "
             "every report inside it, or click a report to add it. Gathered reports have a "
             "thick black ring. Then make them a problem spot, or link them to an action "
             "plan."))
everything = layer(Layer.CONCERNS)
closed_too = st.toggle(_("Include closed reports"), key="gather-closed",
                       help=_("Repeated reports about a place may include closed ones."))
pool = everything if closed_too else everything[everything["status"] == "open"]
gathered: list[str] = list(st.session_state.get(GATHERED, []))


def _gather(ids: list[str], *, drawn: bool) -> None:
    """Add ``ids`` to the gathered reports; ``drawn``: they are those inside a drawn area
    (else the one clicked)."""
    new = [i for i in ids if i not in gathered]
    st.session_state[GATHERED] = gathered + new
    again = len(ids) - len(new)
    if not ids:
        notice = _("No reports inside the drawn area.") if drawn else _("No reports clicked.")
    elif drawn:
        notice = ngettext("Gathered {n} report inside the drawn area.",
                          "Gathered {n} reports inside the drawn area.", len(new)).format(
            n=i18n.number(len(new)))
    else:
        notice = ngettext("Gathered {n} report clicked.", "Gathered {n} reports clicked.",
                          len(new)).format(n=i18n.number(len(new)))
    if again:
        notice += " " + ngettext("{n} was already gathered.", "{n} were already gathered.",
                                 again).format(n=i18n.number(again))
    st.session_state[NOTICE] = notice


def _drop(rid: str) -> None:
    st.session_state[GATHERED] = [i for i in st.session_state.get(GATHERED, []) if i != rid]


def _clear() -> None:
    st.session_state[GATHERED] = []


out = show_map(build_gather_map(pool, gathered=gathered, category_names=names, tz=zone),
               key="spot-gather-map", height=460,
               returned_objects=["last_active_drawing", "last_object_clicked"]) or {}
drawing = (out.get("last_active_drawing") or {}).get("geometry")
if drawing:
    seen = json.dumps(drawing, sort_keys=True)
    if seen != st.session_state.get(SEEN_DRAWING):
        st.session_state[SEEN_DRAWING] = seen
        try:
            _gather(gathering.reports_in_area(pool, shape(drawing)), drawn=True)
        except (gathering.GatherError, ValueError, TypeError, KeyError, AttributeError) as exc:
            st.error(_("That drawing could not gather reports: {why}").format(why=md(exc)))
        else:
            st.rerun()
click = out.get("last_object_clicked")
if click and click.get("lat") is not None and click.get("lng") is not None:
    seen = f"{click['lat']},{click['lng']}"
    if seen != st.session_state.get(SEEN_CLICK):
        st.session_state[SEEN_CLICK] = seen
        rid = gathering.nearest_report(pool, float(click["lng"]), float(click["lat"]))
        if rid is not None:
            _gather([rid], drawn=False)
            st.rerun()

rows = gathering.report_summaries(everything, gathered, tz=zone, category_names=names)
if rows.empty:
    st.caption(_("No reports gathered yet."))
else:
    head, clear = st.columns([4, 1])
    head.markdown(ngettext("**{n} report gathered**", "**{n} reports gathered**",
                           len(rows)).format(n=i18n.number(len(rows))))
    clear.button(_("Clear all"), key="gather-clear", on_click=_clear)
    with st.container(height=min(60 + 42 * len(rows), 320)):
        for r in rows.itertuples():
            text, drop = st.columns([6, 1], vertical_alignment="center")
            closed = "" if r.status == "open" else " · " + _("closed")
            text.markdown(f"**{md(_(r.category))}** · {r.date}{closed} · {md(r.description)}")
            drop.button(_("Remove"), key=f"drop-{r.id}", on_click=_drop, args=(r.id,),
                        help=_("Take report {id} out of the gathered ones").format(
                            id=r.id))
picked = list(rows["id"])

with st.form("new-spot"):
    st.markdown(_("**Make the gathered reports a problem spot**"))
    title = st.text_input(_("Title"), placeholder=_("Dark alley behind 5th & Main"))
    note = st.text_area(_("Note"), help=_("Kept on the spot; only staff read it."))
    if not picked:
        st.caption(_("Gather at least one report on the map first."))
    if st.form_submit_button(_("Create problem spot"), disabled=not picked):
        try:
            me.create_spot(title, picked, note=note)
        except CptedError as exc:
            st.error(md(exc))
        else:
            st.session_state[GATHERED] = []
            st.session_state[NOTICE] = ngettext(
                "Problem spot “{title}” created with {n} report.",
                "Problem spot “{title}” created with {n} reports.", len(picked)).format(
                    title=md(title.strip()), n=i18n.number(len(picked)))
            st.rerun()

# -- plans ------------------------------------------------------------------------------------
KINDS = [k.value for k in sp.OwnerKind]
with st.form("new-plan"):
    st.markdown(_("**Plan an intervention**"))
    title = st.text_input(_("What will be done"),
                          placeholder=_("Ask the city to trim the hedges"))
    c1, c2, c3 = st.columns(3)
    kind = c1.selectbox(_("Owner type"), KINDS, index=None, placeholder=_("Choose who does it"),
                        format_func=lambda k: word(k).capitalize(),
                        help=_("A resident, the block association, the police, a city "
                               "department (such as Parks or Public Works) or someone else."))
    owner = c2.text_input(_("Owner"), placeholder=_("e.g. {example}").format(
                              example=_("Parks Department")),
                          help=_("The person, unit or department who will do it."))
    due = c3.date_input(_("Due"), value=date.today() + timedelta(days=30),
                        format=_("YYYY/MM/DD"))
    spot = st.selectbox(_("Problem spot"), ["", *spots["id"].tolist()],
                        format_func=lambda i: _("(none)") if not i else
                        f"{spot_title[i]} ({i})")
    link = st.checkbox(ngettext("Link the {n} gathered report", "Link the {n} gathered reports",
                                len(picked)).format(n=i18n.number(len(picked))),
                       value=bool(picked), disabled=not picked,
                       help=_("The reports gathered on the map above."))
    note = st.text_area(_("Note"), key="plan-note")
    note_vis = st.radio(_("Who may read the note"), ["internal", "public"], horizontal=True,
                        key="plan-note-vis",
                        format_func={"internal": _("Staff only"), "public": _("Everyone")}.get)
    if st.form_submit_button(_("Create action plan")):
        reports = picked if link else []
        try:
            me.create_plan(title, owner_kind=kind, owner_name=owner, due=due,
                           spot_id=spot or None, request_ids=reports, note=note,
                           note_visibility=note_vis)
        except CptedError as exc:
            st.error(md(str(exc).split("\n")[0]))
            for p in getattr(exc, "problems", ()):
                st.markdown(f"- {md(p)}")
        else:
            if reports:
                st.session_state[GATHERED] = []
            st.session_state[NOTICE] = _("Action plan “{title}” created; its reports show it "
                                         "in their history.").format(title=md(title.strip()))
            st.rerun()

if len(plans):
    plan_title = dict(zip(plans["id"], plans["title"], strict=True))
    with st.form("plan-status"):
        st.markdown(_("**Update a plan**"))
        pid = st.selectbox(_("Plan"), plans["id"].tolist(),
                           format_func=lambda i: f"{plan_title[i]} ({i})")
        new = st.selectbox(_("Status"), [x.value for x in sp.PlanStatus], format_func=word)
        why = st.text_input(_("What happened"))
        why_vis = st.radio(_("Who may read it"), ["internal", "public"], horizontal=True,
                           key="plan-status-vis",
                           format_func={"internal": _("Staff only"), "public": _("Everyone")}.get)
        if st.form_submit_button(_("Save")):
            try:
                me.set_plan_status(pid, new, why, visibility=why_vis)
            except CptedError as exc:
                st.error(md(exc))
            else:
                st.rerun()
