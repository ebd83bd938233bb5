"""Neighborhoods: concerns per neighborhood on a choropleth, the trend, and a scorecard."""

from __future__ import annotations

import json
from datetime import date

import altair as alt
import streamlit as st
from babel import dates

from app_pages._maps import show_map
from app_pages._state import (
    access,
    concern_filters,
    layer,
    refusal,
    role,
    sentence,
    services,
    store,
    tz,
)
from app_pages._tables import concern_table
from app_pages._text import md
from cpted import follows as fl
from cpted import i18n
from cpted.i18n import N_, _, ngettext
from cpted.maps import build_choropleth
from cpted.overlay import VACANT, assign, classify, monthly_trend, overlay
from layers.errors import CptedError
from layers.schema import Layer

#: Every share on the page, as a whole percentage of values held as 0-100.
PERCENT = "%.0f%%"
#: What the map can be shaded by.
MEASURES = {"count": N_("Concerns"), "per_km2": N_("Concerns per km²"),
            "per_1000": N_("Concerns per 1,000 residents"), "open": N_("Open concerns")}
#: The scorecard's columns: the overlay's column -> its label.
SCORE_COLUMNS = {
    "name": N_("Neighborhood"), "count": N_("Concerns"), "per_km2": N_("Per km²"),
    "per_1000": N_("Per 1,000 residents"), "open": N_("Open"), "closed": N_("Closed"),
    "median_days_to_close": N_("Median days to close"),
    "closed_within_target": N_("Closed within target"), "reopen_rate": N_("Reopened"),
    "vacant_lots": N_("Vacant lots"), "vacant_buildings": N_("Vacant buildings")}


def month(value: date) -> str:
    """A month as words in the language in use: ``"December 2026"``, ``"diciembre de
    2026"``."""
    return str(dates.format_skeleton("yMMMM", value, locale=i18n.current()))


s = store()
acting = role()
st.title(_("Neighborhoods"))
hoods = layer(Layer.NEIGHBORHOODS)
if hoods.empty:
    st.info(_("No neighborhoods are stored. Import a neighborhoods layer on the Import page."))
    st.stop()
catalogue = services()

with st.sidebar:
    st.subheader(_("Which concerns"))
    where, window = concern_filters()

concerns = layer(Layer.CONCERNS, where=where, time=window)
vacant = layer(Layer.PARCELS, where={"status": list(VACANT)})
table = overlay(concerns, hoods, reopened=access().reopened_ids(),
                target_days={c: v.target_days for c, v in catalogue.items()},
                parcels=vacant if len(vacant) else None)
measure = st.radio(_("Shade by"), list(MEASURES), format_func=lambda m: _(MEASURES[m]),
                   horizontal=True)
if table[measure].isna().all():
    st.warning(_("{measure} needs data this layer lacks (population?); showing counts "
                 "instead.").format(measure=_(MEASURES[measure])))
    measure = "count"
bins = classify(table[measure], k=5, scheme="FisherJenks")
st.caption(ngettext("{n} concern selected, {inside} inside a neighborhood.",
                    "{n} concerns selected, {inside} inside a neighborhood.",
                    len(concerns)).format(n=i18n.number(len(concerns)),
                                          inside=i18n.number(int(table["count"].sum())))
           + " " + _("Classes by Fisher-Jenks natural breaks (mapclassify). Click a "
                     "neighborhood to list its concerns."))
fmap = build_choropleth(hoods, table[measure].to_numpy(), bins,
                        measure=_(MEASURES[measure]))
out = show_map(fmap, height=480, key="hood-map",
               returned_objects=["last_active_drawing"])
clicked = (out or {}).get("last_active_drawing") or {}
clicked_id = (clicked.get("properties") or {}).get("id")

st.subheader(_("Trend"))
trend = monthly_trend(concerns, hoods, tz=tz())
if trend.empty:
    st.caption(_("No concerns in the selection."))
else:
    names = st.multiselect(_("Neighborhoods on the chart"), list(trend.columns),
                           default=list(trend.sum().nlargest(4).index))
    drawn = trend[names] if names else trend.sum(axis=1).rename(_("All")).to_frame()
    said = _("Line chart of the concerns reported each month, {start} to {end}: {lines}. "
             "The scorecard below has the numbers.").format(
        start=month(drawn.index[0]), end=month(drawn.index[-1]), lines="; ".join(
            _("{name} {total} in all, at most {most} in a month").format(
                name=c, total=i18n.number(int(drawn[c].sum())),
                most=i18n.number(int(drawn[c].max()))) for c in drawn.columns))
    # An Altair chart rather than st.line_chart, whose empty hover layer is an unnamed
    # graphic to a screen reader; each point here names its month and count.
    long = drawn.rename_axis("Month").reset_index().melt(
        id_vars="Month", var_name="Neighborhood", value_name="Concerns")
    long["Month name"] = [month(m) for m in long["Month"]]
    # Vega names months in English whatever the page's language: the axis is given the
    # language's short names (Babel's CLDR data), the tooltip the month in words.
    short = dates.get_month_names("abbreviated", locale=i18n.current())
    names_js = json.dumps([str(short[k]) for k in range(1, 13)], ensure_ascii=False)
    st.altair_chart(
        alt.Chart(long).mark_line(point=True).encode(
            x=alt.X("Month:T", title=_("Month reported"), axis=alt.Axis(
                format="%b %Y",
                labelExpr=f"{names_js}[month(datum.value)] + ' ' + year(datum.value)")),
            y=alt.Y("Concerns:Q", title=_("Concerns")),
            color=alt.Color("Neighborhood:N", title=None),
            tooltip=[alt.Tooltip("Neighborhood:N", title=_("Neighborhood")),
                     alt.Tooltip("Month name:N", title=_("Month")),
                     alt.Tooltip("Concerns:Q", title=_("Concerns"))]),
        width="stretch", alt=said)

st.subheader(_("Scorecard"))
score = table.rename(columns=SCORE_COLUMNS)
# Shares are shown as whole percentages, one format for every share on the page.
for share in ("Closed within target", "Reopened"):
    score[share] = score[share] * 100
score = score.drop(columns=["neighborhood_id", "area_km2", "population"])
# The frame keeps its English labels (what a row is looked up by); the page shows each
# column under its label in the language in use.
st.dataframe(
    score, hide_index=True, width="stretch",
    column_config={
        **{c: _(c) if c in SCORE_COLUMNS.values() else c for c in score.columns},
        "Per km²": st.column_config.NumberColumn(_("Per km²"), format="%.1f"),
        "Per 1,000 residents": st.column_config.NumberColumn(_("Per 1,000 residents"),
                                                             format="%.1f"),
        "Median days to close": st.column_config.NumberColumn(_("Median days to close"),
                                                              format="%.1f"),
        "Closed within target": st.column_config.ProgressColumn(
            _("Closed within target"), format=PERCENT, min_value=0, max_value=100,
            help=_("Share of reports old enough to judge that closed within their "
                   "category's target time")),
        "Reopened": st.column_config.NumberColumn(
            _("Reopened"), format=PERCENT, help=_("Share of closed reports reopened")),
        "Vacant lots": st.column_config.NumberColumn(
            _("Vacant lots"),
            help=_("Parcels the city's file calls vacant lots, counted where each lies (a "
                   "polygon at a point inside it)")),
        "Vacant buildings": st.column_config.NumberColumn(
            _("Vacant buildings"), help=_("Parcels the city's file calls vacant buildings")),
    })

st.subheader(_("Follow this neighborhood"))
hood_names = dict(zip(hoods["id"].astype(str), hoods["name"].astype(str), strict=True))
hood_ids = list(hood_names)
followed = st.selectbox(
    _("Neighborhood"), hood_ids, format_func=hood_names.__getitem__, key="follow-hood",
    index=hood_ids.index(str(clicked_id)) if str(clicked_id) in hood_ids else 0)
feed = access().neighborhood_feed_url(followed)
st.markdown(_("New reports and what was done in **{name}**, by e-mail, or in a feed reader: "
              "[the neighborhood's feed (Atom)]({feed}).").format(
    name=md(hood_names[followed]), feed=feed))
rounds = st.session_state.setdefault("follow_hood_round", 0)
with st.form("follow-neighborhood"):
    address = st.text_input(_("Your e-mail"), placeholder="name@example.org",
                            key=f"follow-hood-email-{rounds}")
    errors = {"email": st.empty()}
    c1, c2 = st.columns(2)
    how = c1.radio(_("How often"), ["weekly", "daily"], horizontal=True,
                   format_func={"daily": _("Once a day"), "weekly": _("Once a week")}.get,
                   help=_("One message with everything new: nothing is sent when nothing "
                          "happened."))
    codes = sorted(catalogue, key=lambda c: _(catalogue[c].service_name))
    only = c2.multiselect(_("Only these categories (optional)"), codes,
                          format_func=lambda c: _(catalogue[c].service_name),
                          help=_("Leave empty to hear of every category."))
    errors["categories"] = st.empty()
    st.caption(_("A message asks you to confirm first; every message has a link to stop "
                 "them. Your address is private, and deleted when you stop following."))
    if st.form_submit_button(_("Follow")):
        try:
            access().follow_area(address, neighborhood_id=followed, categories=only,
                                 frequency=how)
        except fl.FollowError as exc:
            for name, found in exc.fields.items():
                errors.get(name, errors["email"]).error(md(sentence(" ".join(found))))
        except CptedError as exc:  # the rate limit, or the database
            refusal(exc)
        else:
            st.session_state["follow_hood_round"] = rounds + 1
            st.session_state["follow_hood_flash"] = _(
                "Check your inbox: a message with a link to confirm is on its way. Nothing "
                "about {name} is sent until you click it.").format(
                name=md(hood_names[followed]))
            st.rerun()
if flash := st.session_state.pop("follow_hood_flash", None):
    st.success(flash)

if clicked_id is not None:
    pos = hoods.index[hoods["id"].astype(str) == str(clicked_id)]
    if len(pos):
        name = hoods.loc[pos[0], "name"]
        which = assign(concerns.geometry, hoods.geometry)
        mine = concerns[which == hoods.index.get_loc(pos[0])]
        st.subheader(_("Concerns in {name} ({n})").format(name=md(name),
                                                         n=i18n.number(len(mine))))
        concern_table(mine, key="hood-concerns")
