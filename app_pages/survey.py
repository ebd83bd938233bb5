"""How safe does it feel? Two questions answered on the map; the answers shown as totals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import shapely
import streamlit as st

from app_pages._maps import show_map
from app_pages._state import access, door_for, layer, refusal, role, store
from app_pages._text import md
from cpted import progress as pg
from cpted.maps import build_survey_map
from layers.errors import CptedError
from layers.schema import Layer

s = store()
st.title("How safe does it feel?")
st.write("Two questions about a place in your neighborhood, for the block association and "
         "the city to see how things change. No name, no text: only your two answers and "
         "the neighborhood count, and nobody is shown where you clicked.")
hoods = layer(Layer.NEIGHBORHOODS)
if hoods.empty:
    st.info("No neighborhoods are stored yet, so there is nowhere to answer for. Import a "
            "neighborhoods layer on the Import page.")
    st.stop()


@st.cache_data(show_spinner=False, max_entries=16)
def summary(url: str, revision: int, role: str, day: str) -> pd.DataFrame:
    """The last twelve months' answers per neighborhood (aggregates), as anyone in ``role``
    sees them; ``day`` keeps the window current."""
    return door_for(url, role).survey_summary(since=datetime.now(UTC) - timedelta(days=365))


totals = summary(s.url, s.revision(), role().value, datetime.now(UTC).date().isoformat())
thanks = st.container()
st.write("**1. Click the map where you mean.** Your street, a corner, a path you walk.")
point = st.session_state.get("survey_point")  # (lat, lon), as the map reports a click
fmap = build_survey_map(hoods, totals, scale=pg.SAFETY_SCALE,
                        pin=None if point is None else shapely.Point(point[1], point[0]))
clicked = show_map(fmap, height=440, key="survey-map", returned_objects=["last_clicked"])
if clicked and clicked.get("last_clicked"):
    new = (clicked["last_clicked"]["lat"], clicked["last_clicked"]["lng"])
    if new != point:
        st.session_state["survey_point"] = new
        st.rerun()
if flash := st.session_state.pop("survey_flash", None):
    thanks.success(flash)
if point is None:
    st.info("No place chosen yet: click the map.")
else:
    inside = hoods[hoods.intersects(shapely.Point(point[1], point[0]))]
    where = (f"in **{md(inside['name'].iloc[0])}**" if len(inside)
             else "outside every neighborhood on the map")
    st.caption(f"Chosen place: {where}.")

st.write("**2. Answer two questions.**")
safe = st.radio(pg.SAFETY_QUESTION, list(pg.SAFETY_SCALE), index=None, horizontal=True,
                format_func=lambda k: f"{k}: {pg.SAFETY_SCALE[k]}", key="survey-safe")
knows = st.radio(pg.CONTACT_QUESTION, ["Yes", "No"], index=None, horizontal=True,
                 key="survey-knows")
if st.button("Send my answers", type="primary"):
    missing = [text for text, gone in (("click the map where you mean", point is None),
                                       ("say how safe it feels", safe is None),
                                       ("say whether you know whom to contact", knows is None))
               if gone]
    if missing:
        st.warning("Before sending: " + "; ".join(missing) + ".")
    elif point is not None and safe is not None:
        try:
            name = access().answer_survey(point[1], point[0], int(safe), knows == "Yes")
        except CptedError as exc:
            refusal(exc)
        else:
            st.session_state["survey_flash"] = (
                f"Thank you: your answers count for {md(name)}. The totals below and the "
                "Progress page include them.")
            for key in ("survey_point", "survey-safe", "survey-knows"):
                st.session_state.pop(key, None)
            st.rerun()

st.subheader("What people have said (last 12 months)")
st.caption(f"Totals only. A neighborhood with fewer than {pg.MIN_SURVEY_ANSWERS} answers shows "
           "its count alone. Answers come from whoever chose to answer, not a random sample; "
           "the ranges are 95% intervals (t for the mean, Wilson for the share).")
table = totals.assign(
    knows_contact=lambda f: f["knows_contact"] * 100, knows_low=lambda f: f["knows_low"] * 100,
    knows_high=lambda f: f["knows_high"] * 100)
st.dataframe(
    table[["name", "survey_answers", "safe_mean", "safe_low", "safe_high", "knows_contact",
           "knows_low", "knows_high"]],
    hide_index=True, width="stretch",
    column_config={
        "name": st.column_config.TextColumn("Neighborhood"),
        "survey_answers": st.column_config.NumberColumn("Answers", format="%d"),
        "safe_mean": st.column_config.NumberColumn(
            "Feeling safe after dark (1-5)", format="%.1f",
            help="1 very unsafe, 2 unsafe, 3 neither, 4 safe, 5 very safe"),
        "safe_low": st.column_config.NumberColumn("Feeling: low (95%)", format="%.1f"),
        "safe_high": st.column_config.NumberColumn("Feeling: high (95%)", format="%.1f"),
        "knows_contact": st.column_config.NumberColumn("Know whom to contact",
                                                       format="%.0f%%"),
        "knows_low": st.column_config.NumberColumn("Know: low (95%)", format="%.0f%%"),
        "knows_high": st.column_config.NumberColumn("Know: high (95%)", format="%.0f%%"),
    })
st.page_link("app_pages/progress.py", label="The trend month by month: Progress",
             icon=":material/trending_up:")
