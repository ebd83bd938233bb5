"""CPTED audits: on the map by score; across audits, whether auditors agree, what goes with
feeling safe and where to audit next; one audit's scores, its trend, reports to print."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from app_pages._audit_analytics import across, show_agreement, show_drivers, show_where_next
from app_pages._audit_view import show_scorecard
from app_pages._maps import show_map
from app_pages._state import access, layer, role, store, tz
from app_pages._text import md, value_word
from cpted import assessments as au
from cpted import i18n, reports
from cpted.i18n import N_, _, ngettext
from cpted.isovist import IsovistError, isovist_at
from cpted.maps import build_audits_map, build_sightlines_map
from cpted.scoring import MIN_COVERAGE, compare, label_words
from layers.errors import CptedError, UnusableInputError
from layers.schema import Layer

s = store()
me = access()
zone = tz()
st.title(_("CPTED audits"))

#: An audit by day or by night, at the start of a sentence.
PERIOD_AUDIT = {"day": N_("Day audit on {when} by {who}"),
                "night": N_("Night audit on {when} by {who}")}


def when(t: pd.Timestamp) -> str:
    """A moment of an audit in the project's time zone, written the language's way."""
    return i18n.when(t.to_pydatetime(), tz=zone)


def compared(frame: pd.DataFrame) -> pd.DataFrame:
    """A :func:`cpted.scoring.compare` table with its principles in the language in use."""
    return frame.assign(principle=[label_words(_(p)) for p in frame["principle"]])


def rating(row: Any) -> str:
    """An audit's overall score, or its label when it is not rated (``row``: a trend's
    row, as ``itertuples`` gives it)."""
    if row.enough_answers and row.overall == row.overall:
        return i18n.number(round(row.overall))
    return label_words(str(row.label)).lower()

hoods = layer(Layer.NEIGHBORHOODS)
names = dict(zip(hoods["id"], hoods["name"], strict=True)) if len(hoods) else {}
with st.sidebar:
    hood = st.selectbox(_("Neighborhood"), [None, *names],
                        format_func=lambda n: _("All") if n is None else names[n],
                        key="audits-hood")
audits = me.audits(neighborhood_id=hood)
if audits.empty:
    st.info(_("No audits yet. Use **Audit a place** to make the first one."))
    st.page_link("app_pages/assess.py", label=_("Audit a place"), icon=":material/fact_check:")
    st.header(_("Where to audit next"))
    show_where_next(me.audits(), zone)
    st.stop()

# -- all audits ------------------------------------------------------------------------------
latest = audits.sort_values("assessed_at").groupby("place_name").tail(1)
c1, c2, c3 = st.columns(3)
c1.metric(_("Audits"), i18n.number(len(audits)))
c2.metric(_("Places"), i18n.number(audits["place_name"].nunique()))
rated = au.rated(latest).dropna()
c3.metric(_("Median overall (latest per place)"),
          i18n.number(round(rated.median())) if len(rated) else "–",
          help=_("Over the places whose latest audit has enough answers to be rated."))
fmap = build_audits_map(latest, neighborhoods=hoods)
st.caption(_("Latest audit of each place, coloured by overall score: red poor, orange weak, "
             "light green adequate, green strong; light grey when too few items were "
             "answered for a score."))
show_map(fmap, height=380, key="audits-map", returned_objects=[])

table = pd.DataFrame({
    "place": audits["place_name"],
    "date": audits["assessed_at"].dt.tz_convert(zone).dt.strftime("%Y-%m-%d %H:%M"),
    "period": audits["period"].map(value_word), "overall": au.rated(audits).round(0),
    "label": audits["label"].map(label_words),
    "confidence": (audits["confidence"] * 100).round(0),
    "by": audits["assessor"], "audit": audits["id"]})
st.dataframe(table, hide_index=True, width="stretch",
             column_config={
                 "place": _("Place"), "date": _("Audited"), "period": _("Day or night"),
                 "overall": st.column_config.ProgressColumn(
                     _("Overall score"), min_value=0, max_value=100, format="%d"),
                 "label": _("Rating"),
                 "confidence": st.column_config.NumberColumn(
                     _("Confidence"), format="%d%%",
                     help=_("The share of the checklist items that apply here that were "
                            "answered; below {share} there is no overall score.").format(
                         share=i18n.percent(MIN_COVERAGE))),
                 "by": _("Audited by"), "audit": _("Audit id")})

# -- one audit ----------------------------------------------------------------------------------
ids = list(audits["id"])
# several groups may audit one place on one evening: time and auditor tell them apart
label = {r.id: f"{r.place_name} · {when(r.assessed_at)} · {value_word(r.period)} · "
               f"{r.assessor}" for r in audits.itertuples()}
wanted = st.session_state.pop("show_audit", None)
chosen = st.selectbox(_("Audit"), ids, format_func=label.get, key="audit-pick",
                      index=ids.index(wanted) if wanted in ids else 0)
a = me.audit(chosen)
card = me.audit_scorecard(a)
ins = me.audit_instrument(a)
st.header(md(a.place_name))
st.caption(_(PERIOD_AUDIT.get(a.period, "{when} · {who}")).format(
    when=when(a.assessed_at), who=md(a.assessor))
    + f" · {md(_(ins.title))} v{md(a.instrument_version)} · {md(a.id)}")
tab_scores, tab_trend, tab_sight, tab_print = st.tabs(
    [_("Scores"), _("Trend and comparison"), _("Sightlines"), _("Print")])
with tab_scores:
    show_scorecard(card, ins.weights_note)
    if a.notes:
        st.subheader(_("Notes"))
        st.text(a.notes)
    pics = me.audit_photos(a.id)
    if pics:
        st.subheader(_("Photos"))
        st.image([d for *_rest, d in pics], width=240,
                 alt=[_("Photo {k} of {n} of the audit of {place}").format(
                     k=k, n=len(pics), place=a.place_name) for k in range(1, len(pics) + 1)])
    if me.may_edit_audit(a):
        if st.button(_("Edit this audit")):
            st.session_state["edit_audit"] = (a.id, a.version)
            st.switch_page("app_pages/assess.py")
        with st.popover(_("Delete this audit")):
            why = st.text_input(_("Why it is deleted (kept in the change log)"), key="del-why")
            if st.button(_("Delete the audit and its photos"), key="del-audit"):
                try:
                    me.delete_audit(a.id, why)
                except CptedError as exc:
                    st.error(md(exc))
                else:
                    st.session_state.pop("audit-pick", None)
                    st.rerun()
    else:
        st.caption(_("Only the person who recorded this audit, or a coordinator or planner, "
                     "may change it."))

with tab_trend:
    trend = me.same_place(a.id)
    if len(trend) < 2:
        st.info(_("This is the only audit of this place so far. Audit it again (say next "
                  "year, or by night) to see a trend.") if a.period == "day" else
                _("This is the only audit of this place so far. Audit it again (say next "
                  "year, or by day) to see a trend."))
    else:
        scores = "; ".join(
            (_("{day} ({period}) {score}") if r.enough_answers and r.overall == r.overall
             else _("{day} ({period}) not rated")).format(
                day=i18n.day(r.assessed_at.tz_convert(zone)), period=value_word(r.period),
                score=rating(r)) for r in trend.itertuples())
        st.image(reports.trend_chart(trend),
                 caption=ngettext("Overall score of the {n} audit within {m} m of this place",
                                  "Overall score of the {n} audits within {m} m of this place",
                                  len(trend)).format(
                     n=i18n.number(len(trend)), m=i18n.number(round(au.SAME_PLACE_RADIUS_M))),
                 alt=_("Line chart of the overall score (0 to 100) of each audit of this "
                       "place, by date: {scores}.").format(scores=scores))
        options = list(trend["id"])
        tlabel = {r.id: f"{when(r.assessed_at)} · {value_word(r.period)} · {rating(r)} · "
                        f"{r.assessor}" for r in trend.itertuples()}
        b1, b2 = st.columns(2)
        before = b1.selectbox(_("Before"), options, index=0, format_func=tlabel.get)
        after = b2.selectbox(_("After"), options, index=len(options) - 1,
                             format_func=tlabel.get)
        table = compared(compare(me.audit_scorecard(me.audit(before)),
                                 me.audit_scorecard(me.audit(after))))
        st.dataframe(table, hide_index=True, width="stretch",
                     column_config={"principle": _("Principle"),
                                    "before": st.column_config.NumberColumn(_("Before"),
                                                                            format="%.0f"),
                                    "after": st.column_config.NumberColumn(_("After"),
                                                                           format="%.0f"),
                                    "change": st.column_config.NumberColumn(_("Change"),
                                                                            format="%+.0f")})
        pair = me.day_and_night(a.id)
        if pair is not None:
            st.subheader(_("Day and night"))
            dn = compared(compare(me.audit_scorecard(pair[0]), me.audit_scorecard(pair[1])))
            st.dataframe(dn, hide_index=True, width="stretch",
                         column_config={"principle": _("Principle"),
                                        "before": st.column_config.NumberColumn(
                                            _("By day"), format="%.0f"),
                                        "after": st.column_config.NumberColumn(
                                            _("By night"), format="%.0f"),
                                        "change": st.column_config.NumberColumn(
                                            _("Night minus day"), format="%+.0f")})

with tab_sight:
    g = a.geometry
    spot = g if g.geom_type == "Point" else g.representative_point() if "Polygon" in \
        g.geom_type else g.interpolate(0.5, normalized=True)
    st.caption(_("The area visible from the place's point within 100 m, given the building "
                 "footprints (an isovist). Openness is the visible share of the full circle."))
    try:
        placed = isovist_at(spot.x, spot.y, layer(Layer.BUILDINGS))
    except IsovistError as exc:
        st.warning(md(exc))
    else:
        m1, m2 = st.columns(2)
        m1.metric(_("Visible area"), _("{area} m²").format(
            area=i18n.number(round(placed.isovist.area_m2))))
        m2.metric(_("Openness"), i18n.percent(placed.isovist.openness))
        smap = build_sightlines_map(spot, placed.polygon_wgs84)
        show_map(smap, height=360, key=f"sight-{a.id}",
                 returned_objects=[])

with tab_print:
    st.write(_("A printable report of this audit: map, scores, recommendations and photos."))
    if st.button(_("Make the report"), key="make-report"):
        with st.spinner(_("Drawing the map and charts…")):
            r = me.audit_report(a.id)
            st.session_state["report-files"] = (a.id, reports.report_pdf(r, tz=zone),
                                                reports.report_html(r, tz=zone))
    files = st.session_state.get("report-files")
    if files and files[0] == a.id:
        d1, d2 = st.columns(2)
        d1.download_button(_("Download PDF"), files[1], file_name=f"audit-{a.id}.pdf",
                           mime="application/pdf")
        d2.download_button(_("Download HTML"), files[2], file_name=f"audit-{a.id}.html",
                           mime="text/html")
    st.divider()
    st.write(_("A neighborhood brief for a meeting: its audits, open concerns and what "
               "changed."))
    if names:
        nid = st.selectbox(_("Neighborhood"), list(names), format_func=names.get, key="brief-hood",
                           index=list(names).index(a.neighborhood_id)
                           if a.neighborhood_id in names else 0)
        since = st.date_input(_("Changes since"), value=pd.Timestamp.now(tz=zone).date()
                              - pd.Timedelta(days=90), key="brief-since")
        if st.button(_("Make the brief")):
            try:
                b = me.neighborhood_brief(
                    nid, since=pd.Timestamp(since, tz=zone).to_pydatetime())
            except UnusableInputError as exc:
                st.error(md(exc))
            else:
                st.download_button(_("Download the brief (PDF)"), reports.brief_pdf(b, tz=zone),
                                   file_name=f"brief-{nid}.pdf", mime="application/pdf")

# -- across audits ------------------------------------------------------------------------------
st.header(_("Across audits"))
everyone = me.audits()
agreement, drivers = across(s.url, s.revision(), role().value)
tab_agree, tab_safe, tab_next = st.tabs(
    [_("Do auditors agree?"), _("What goes with feeling safe"), _("Where to audit next")])
with tab_agree:
    show_agreement(agreement, everyone)
with tab_safe:
    show_drivers(drivers, everyone)
with tab_next:
    show_where_next(everyone, zone)
