"""CPTED audits: on the map by score; across audits, whether auditors agree, what goes with
feeling safe and where to audit next; one audit's scores, its trend, reports to print."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages._audit_analytics import across, show_agreement, show_drivers, show_where_next
from app_pages._audit_view import show_scorecard
from app_pages._maps import show_map
from app_pages._state import access, layer, role, store, tz
from app_pages._text import md
from cpted import assessments as au
from cpted import reports
from cpted.isovist import IsovistError, isovist_at
from cpted.maps import build_audits_map, build_sightlines_map
from cpted.scoring import MIN_COVERAGE, compare
from layers.errors import CptedError, UnusableInputError
from layers.schema import Layer

s = store()
me = access()
zone = tz()
st.title("CPTED audits")

hoods = layer(Layer.NEIGHBORHOODS)
names = dict(zip(hoods["id"], hoods["name"], strict=True)) if len(hoods) else {}
with st.sidebar:
    hood = st.selectbox("Neighborhood", [None, *names], format_func=lambda n: "All" if n is None
                        else names[n], key="audits-hood")
audits = me.audits(neighborhood_id=hood)
if audits.empty:
    st.info("No audits yet. Use **Audit a place** to make the first one.")
    st.page_link("app_pages/assess.py", label="Audit a place", icon=":material/fact_check:")
    st.header("Where to audit next")
    show_where_next(me.audits(), zone)
    st.stop()

# -- all audits ------------------------------------------------------------------------------
latest = audits.sort_values("assessed_at").groupby("place_name").tail(1)
c1, c2, c3 = st.columns(3)
c1.metric("Audits", len(audits))
c2.metric("Places", audits["place_name"].nunique())
rated = au.rated(latest).dropna()
c3.metric("Median overall (latest per place)", f"{rated.median():.0f}" if len(rated) else "–",
          help="Over the places whose latest audit has enough answers to be rated.")
fmap = build_audits_map(latest, neighborhoods=hoods)
st.caption("Latest audit of each place, coloured by overall score: red poor, orange weak, "
           "light green adequate, green strong; light grey when too few items were answered "
           "for a score.")
show_map(fmap, height=380, key="audits-map", returned_objects=[])

table = pd.DataFrame({
    "place": audits["place_name"],
    "date": audits["assessed_at"].dt.tz_convert(zone).dt.strftime("%Y-%m-%d %H:%M"),
    "period": audits["period"].str.capitalize(), "overall": au.rated(audits).round(0),
    "label": audits["label"], "confidence": (audits["confidence"] * 100).round(0),
    "by": audits["assessor"], "audit": audits["id"]})
st.dataframe(table, hide_index=True, width="stretch",
             column_config={
                 "place": "Place", "date": "Audited", "period": "Day or night",
                 "overall": st.column_config.ProgressColumn(
                     "Overall score", min_value=0, max_value=100, format="%d"),
                 "label": "Rating",
                 "confidence": st.column_config.NumberColumn(
                     "Confidence", format="%d%%",
                     help="The share of the checklist items that apply here that were "
                          f"answered; below {MIN_COVERAGE:.0%} there is no overall score."),
                 "by": "Audited by", "audit": "Audit id"})

# -- one audit ----------------------------------------------------------------------------------
ids = list(audits["id"])
# several groups may audit one place on one evening: time and auditor tell them apart
label = {r.id: f"{r.place_name} · {r.assessed_at.tz_convert(zone):%Y-%m-%d %H:%M} · "
               f"{r.period} · {r.assessor}" for r in audits.itertuples()}
wanted = st.session_state.pop("show_audit", None)
chosen = st.selectbox("Audit", ids, format_func=label.get, key="audit-pick",
                      index=ids.index(wanted) if wanted in ids else 0)
a = me.audit(chosen)
card = me.audit_scorecard(a)
ins = me.audit_instrument(a)
st.header(md(a.place_name))
st.caption(f"{a.period.capitalize()} audit on {a.assessed_at.tz_convert(zone):%Y-%m-%d %H:%M} "
           f"by {md(a.assessor)} · {md(ins.title)} v{md(a.instrument_version)} · {md(a.id)}")
tab_scores, tab_trend, tab_sight, tab_print = st.tabs(
    ["Scores", "Trend and comparison", "Sightlines", "Print"])
with tab_scores:
    show_scorecard(card, ins.weights_note)
    if a.notes:
        st.subheader("Notes")
        st.text(a.notes)
    pics = me.audit_photos(a.id)
    if pics:
        st.subheader("Photos")
        st.image([d for _, _, d in pics], width=240,
                 alt=[f"Photo {k} of {len(pics)} of the audit of {a.place_name}"
                      for k in range(1, len(pics) + 1)])
    if me.may_edit_audit(a):
        if st.button("Edit this audit"):
            st.session_state["edit_audit"] = (a.id, a.version)
            st.switch_page("app_pages/assess.py")
        with st.popover("Delete this audit"):
            why = st.text_input("Why it is deleted (kept in the change log)", key="del-why")
            if st.button("Delete the audit and its photos", key="del-audit"):
                try:
                    me.delete_audit(a.id, why)
                except CptedError as exc:
                    st.error(md(exc))
                else:
                    st.session_state.pop("audit-pick", None)
                    st.rerun()
    else:
        st.caption("Only the person who recorded this audit, or a coordinator or planner, "
                   "may change it.")

with tab_trend:
    trend = me.same_place(a.id)
    if len(trend) < 2:
        st.info("This is the only audit of this place so far. Audit it again (say next year, "
                f"or by {'day' if a.period == 'night' else 'night'}) to see a trend.")
    else:
        st.image(reports.trend_chart(trend), caption=f"Overall score of the {len(trend)} audits "
                 f"within {au.SAME_PLACE_RADIUS_M:.0f} m of this place",
                 alt="Line chart of the overall score (0 to 100) of each audit of this "
                     "place, by date: " + "; ".join(
                         f"{r.assessed_at.tz_convert(zone):%Y-%m-%d} ({r.period}) "
                         + (f"{r.overall:.0f}" if r.enough_answers and r.overall == r.overall
                            else "not rated") for r in trend.itertuples()) + ".")
        options = list(trend["id"])
        tlabel = {r.id: f"{r.assessed_at.tz_convert(zone):%Y-%m-%d %H:%M} · {r.period} · "
                        + (f"{r.overall:.0f}" if r.enough_answers and r.overall == r.overall
                           else r.label.lower()) + f" · {r.assessor}"
                        for r in trend.itertuples()}
        b1, b2 = st.columns(2)
        before = b1.selectbox("Before", options, index=0, format_func=tlabel.get)
        after = b2.selectbox("After", options, index=len(options) - 1, format_func=tlabel.get)
        table = compare(me.audit_scorecard(me.audit(before)),
                        me.audit_scorecard(me.audit(after)))
        st.dataframe(table, hide_index=True, width="stretch",
                     column_config={c: st.column_config.NumberColumn(format="%.0f")
                                    for c in ("before", "after")} |
                     {"change": st.column_config.NumberColumn(format="%+.0f")})
        pair = me.day_and_night(a.id)
        if pair is not None:
            st.subheader("Day and night")
            dn = compare(me.audit_scorecard(pair[0]), me.audit_scorecard(pair[1])).rename(
                columns={"before": "day", "after": "night", "change": "night - day"})
            st.dataframe(dn, hide_index=True, width="stretch")

with tab_sight:
    g = a.geometry
    spot = g if g.geom_type == "Point" else g.representative_point() if "Polygon" in \
        g.geom_type else g.interpolate(0.5, normalized=True)
    st.caption("The area visible from the place's point within 100 m, given the building "
               "footprints (an isovist). Openness is the visible share of the full circle.")
    try:
        placed = isovist_at(spot.x, spot.y, layer(Layer.BUILDINGS))
    except IsovistError as exc:
        st.warning(md(exc))
    else:
        m1, m2 = st.columns(2)
        m1.metric("Visible area", f"{placed.isovist.area_m2:,.0f} m²")
        m2.metric("Openness", f"{placed.isovist.openness:.0%}")
        smap = build_sightlines_map(spot, placed.polygon_wgs84)
        show_map(smap, height=360, key=f"sight-{a.id}",
                 returned_objects=[])

with tab_print:
    st.write("A printable report of this audit: map, scores, recommendations and photos.")
    if st.button("Make the report", key="make-report"):
        with st.spinner("Drawing the map and charts…"):
            r = me.audit_report(a.id)
            st.session_state["report-files"] = (a.id, reports.report_pdf(r, tz=zone),
                                                reports.report_html(r, tz=zone))
    files = st.session_state.get("report-files")
    if files and files[0] == a.id:
        d1, d2 = st.columns(2)
        d1.download_button("Download PDF", files[1], file_name=f"audit-{a.id}.pdf",
                           mime="application/pdf")
        d2.download_button("Download HTML", files[2], file_name=f"audit-{a.id}.html",
                           mime="text/html")
    st.divider()
    st.write("A neighborhood brief for a meeting: its audits, open concerns and what changed.")
    if names:
        nid = st.selectbox("Neighborhood", list(names), format_func=names.get, key="brief-hood",
                           index=list(names).index(a.neighborhood_id)
                           if a.neighborhood_id in names else 0)
        since = st.date_input("Changes since", value=pd.Timestamp.now(tz=zone).date()
                              - pd.Timedelta(days=90), key="brief-since")
        if st.button("Make the brief"):
            try:
                b = me.neighborhood_brief(
                    nid, since=pd.Timestamp(since, tz=zone).to_pydatetime())
            except UnusableInputError as exc:
                st.error(md(exc))
            else:
                st.download_button("Download the brief (PDF)", reports.brief_pdf(b, tz=zone),
                                   file_name=f"brief-{nid}.pdf", mime="application/pdf")

# -- across audits ------------------------------------------------------------------------------
st.header("Across audits")
everyone = me.audits()
agreement, drivers = across(s.url, s.revision(), role().value)
tab_agree, tab_safe, tab_next = st.tabs(
    ["Do auditors agree?", "What goes with feeling safe", "Where to audit next"])
with tab_agree:
    show_agreement(agreement, everyone)
with tab_safe:
    show_drivers(drivers, everyone)
with tab_next:
    show_where_next(everyone, zone)
