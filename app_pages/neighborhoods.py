"""Neighborhoods: concerns per neighborhood on a choropleth, the trend, and a scorecard."""

from __future__ import annotations

import altair as alt
import streamlit as st

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
from cpted.maps import build_choropleth
from cpted.overlay import VACANT, assign, classify, monthly_trend, overlay
from layers.errors import CptedError
from layers.schema import Layer

#: Every share on the page, as a whole percentage of values held as 0-100.
PERCENT = "%.0f%%"
s = store()
acting = role()
st.title("Neighborhoods")
hoods = layer(Layer.NEIGHBORHOODS)
if hoods.empty:
    st.info("No neighborhoods are stored. Import a neighborhoods layer on the Import page.")
    st.stop()
catalogue = services()

with st.sidebar:
    st.subheader("Which concerns")
    where, window = concern_filters()

concerns = layer(Layer.CONCERNS, where=where, time=window)
vacant = layer(Layer.PARCELS, where={"status": list(VACANT)})
table = overlay(concerns, hoods, reopened=access().reopened_ids(),
                target_days={c: v.target_days for c, v in catalogue.items()},
                parcels=vacant if len(vacant) else None)
measures = {"count": "Concerns", "per_km2": "Concerns per km²",
            "per_1000": "Concerns per 1,000 residents", "open": "Open concerns"}
measure = st.radio("Shade by", list(measures), format_func=measures.get, horizontal=True)
if table[measure].isna().all():
    st.warning(f"{measures[measure]} needs data this layer lacks (population?); "
               "showing counts instead.")
    measure = "count"
bins = classify(table[measure], k=5, scheme="FisherJenks")
st.caption(f"{len(concerns):,} concerns selected, {int(table['count'].sum()):,} inside "
           "a neighborhood. Classes by Fisher-Jenks natural breaks (mapclassify). "
           "Click a neighborhood to list its concerns.")
fmap = build_choropleth(hoods, table[measure].to_numpy(), bins, measure=measures[measure])
out = show_map(fmap, height=480, key="hood-map",
               returned_objects=["last_active_drawing"])
clicked = (out or {}).get("last_active_drawing") or {}
clicked_id = (clicked.get("properties") or {}).get("id")

st.subheader("Trend")
trend = monthly_trend(concerns, hoods, tz=tz())
if trend.empty:
    st.caption("No concerns in the selection.")
else:
    names = st.multiselect("Neighborhoods on the chart", list(trend.columns),
                           default=list(trend.sum().nlargest(4).index))
    drawn = trend[names] if names else trend.sum(axis=1).rename("All").to_frame()
    said = (f"Line chart of the concerns reported each month, {drawn.index[0]:%B %Y} to "
            f"{drawn.index[-1]:%B %Y}: " + "; ".join(
                f"{c} {int(drawn[c].sum()):,} in all, at most {int(drawn[c].max()):,} in a "
                "month" for c in drawn.columns) + ". The scorecard below has the numbers.")
    # An Altair chart rather than st.line_chart, whose empty hover layer is an unnamed
    # graphic to a screen reader; each point here names its month and count.
    long = drawn.rename_axis("Month").reset_index().melt(
        id_vars="Month", var_name="Neighborhood", value_name="Concerns")
    st.altair_chart(
        alt.Chart(long, description=said).mark_line(point=True).encode(
            x=alt.X("Month:T", title="Month reported", axis=alt.Axis(format="%b %Y")),
            y=alt.Y("Concerns:Q"),
            color=alt.Color("Neighborhood:N", title=None),
            tooltip=[alt.Tooltip("Neighborhood:N"), alt.Tooltip("Month:T", format="%B %Y"),
                     alt.Tooltip("Concerns:Q")]),
        width="stretch", alt=said)

st.subheader("Scorecard")
score = table.rename(columns={
    "name": "Neighborhood", "count": "Concerns", "per_km2": "Per km²",
    "per_1000": "Per 1,000 residents", "open": "Open", "closed": "Closed",
    "median_days_to_close": "Median days to close",
    "closed_within_target": "Closed within target", "reopen_rate": "Reopened",
    "vacant_lots": "Vacant lots", "vacant_buildings": "Vacant buildings"})
# Shares are shown as whole percentages, one format for every share on the page.
for share in ("Closed within target", "Reopened"):
    score[share] = score[share] * 100
st.dataframe(
    score.drop(columns=["neighborhood_id", "area_km2", "population"]), hide_index=True,
    width="stretch",
    column_config={
        "Per km²": st.column_config.NumberColumn(format="%.1f"),
        "Per 1,000 residents": st.column_config.NumberColumn(format="%.1f"),
        "Median days to close": st.column_config.NumberColumn(format="%.1f"),
        "Closed within target": st.column_config.ProgressColumn(
            format=PERCENT, min_value=0, max_value=100,
            help="Share of reports old enough to judge that closed within their category's "
                 "target time"),
        "Reopened": st.column_config.NumberColumn(format=PERCENT,
                                                  help="Share of closed reports reopened"),
        "Vacant lots": st.column_config.NumberColumn(
            help="Parcels the city's file calls vacant lots, counted where each lies (a "
                 "polygon at a point inside it)"),
        "Vacant buildings": st.column_config.NumberColumn(
            help="Parcels the city's file calls vacant buildings"),
    })

st.subheader("Follow this neighborhood")
hood_names = dict(zip(hoods["id"].astype(str), hoods["name"].astype(str), strict=True))
hood_ids = list(hood_names)
followed = st.selectbox(
    "Neighborhood", hood_ids, format_func=hood_names.__getitem__, key="follow-hood",
    index=hood_ids.index(str(clicked_id)) if str(clicked_id) in hood_ids else 0)
feed = access().neighborhood_feed_url(followed)
st.markdown(f"New reports and what was done in **{md(hood_names[followed])}**, by e-mail, or "
            f"in a feed reader: [the neighborhood's feed (Atom)]({feed}).")
rounds = st.session_state.setdefault("follow_hood_round", 0)
with st.form("follow-neighborhood"):
    address = st.text_input("Your e-mail", placeholder="name@example.org",
                            key=f"follow-hood-email-{rounds}")
    errors = {"email": st.empty()}
    c1, c2 = st.columns(2)
    how = c1.radio("How often", ["weekly", "daily"], horizontal=True,
                   format_func={"daily": "Once a day", "weekly": "Once a week"}.get,
                   help="One message with everything new: nothing is sent when nothing "
                        "happened.")
    codes = sorted(catalogue, key=lambda c: catalogue[c].service_name)
    only = c2.multiselect("Only these categories (optional)", codes,
                          format_func=lambda c: catalogue[c].service_name,
                          help="Leave empty to hear of every category.")
    errors["categories"] = st.empty()
    st.caption("A message asks you to confirm first; every message has a link to stop them. "
               "Your address is private, and deleted when you stop following.")
    if st.form_submit_button("Follow"):
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
            st.session_state["follow_hood_flash"] = (
                f"Check your inbox: a message with a link to confirm is on its way. Nothing "
                f"about {md(hood_names[followed])} is sent until you click it.")
            st.rerun()
if flash := st.session_state.pop("follow_hood_flash", None):
    st.success(flash)

if clicked_id is not None:
    pos = hoods.index[hoods["id"].astype(str) == str(clicked_id)]
    if len(pos):
        name = hoods.loc[pos[0], "name"]
        which = assign(concerns.geometry, hoods.geometry)
        mine = concerns[which == hoods.index.get_loc(pos[0])]
        st.subheader(f"Concerns in {md(name)} ({len(mine):,})")
        concern_table(mine, key="hood-concerns")
