"""Neighborhoods: concerns per neighborhood on a choropleth, the trend, and a scorecard."""

from __future__ import annotations

import streamlit as st

from app_pages._maps import show_map
from app_pages._state import access, concern_filters, layer, role, services, store, tz
from app_pages._tables import concern_table
from app_pages._text import md
from cpted.maps import build_choropleth
from cpted.overlay import assign, classify, monthly_trend, overlay
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
table = overlay(concerns, hoods, reopened=access().reopened_ids(),
                target_days={c: v.target_days for c, v in catalogue.items()})
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
    st.line_chart(trend[names] if names else trend.sum(axis=1).rename("All"),
                  x_label="Month reported", y_label="Concerns")

st.subheader("Scorecard")
score = table.rename(columns={
    "name": "Neighborhood", "count": "Concerns", "per_km2": "Per km²",
    "per_1000": "Per 1,000 residents", "open": "Open", "closed": "Closed",
    "median_days_to_close": "Median days to close",
    "closed_within_target": "Closed within target", "reopen_rate": "Reopened"})
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
    })

if clicked_id is not None:
    pos = hoods.index[hoods["id"].astype(str) == str(clicked_id)]
    if len(pos):
        name = hoods.loc[pos[0], "name"]
        which = assign(concerns.geometry, hoods.geometry)
        mine = concerns[which == hoods.index.get_loc(pos[0])]
        st.subheader(f"Concerns in {md(name)} ({len(mine):,})")
        concern_table(mine, key="hood-concerns")
