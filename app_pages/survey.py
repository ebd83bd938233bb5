"""How safe does it feel? Two questions answered on the map; the answers shown as totals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import shapely
import streamlit as st

from app_pages._maps import show_map
from app_pages._state import access, door_for, layer, refusal, role, store
from app_pages._text import md
from app_pages._words import LEVEL, word
from cpted import i18n
from cpted import progress as pg
from cpted.i18n import _
from cpted.maps import build_survey_map
from layers.errors import CptedError
from layers.schema import Layer

s = store()
st.title(_("How safe does it feel?"))
st.write(_("Two questions about a place in your neighborhood, for the block association and "
           "the city to see how things change. No name, no text: only your two answers and "
           "the neighborhood count, and nobody is shown where you clicked."))
hoods = layer(Layer.NEIGHBORHOODS)
if hoods.empty:
    st.info(_("No neighborhoods are stored yet, so there is nowhere to answer for. Import a "
              "neighborhoods layer on the Import page."))
    st.stop()


@st.cache_data(show_spinner=False, max_entries=16)
def summary(url: str, revision: int, role: str, day: str) -> pd.DataFrame:
    """The last twelve months' answers per neighborhood (aggregates), as anyone in ``role``
    sees them; ``day`` keeps the window current."""
    return door_for(url, role).survey_summary(since=datetime.now(UTC) - timedelta(days=365))


totals = summary(s.url, s.revision(), role().value, datetime.now(UTC).date().isoformat())
thanks = st.container()
st.write(_("**1. Click the map where you mean.** Your street, a corner, a path you walk."))
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
    st.info(_("No place chosen yet: click the map."))
else:
    inside = hoods[hoods.intersects(shapely.Point(point[1], point[0]))]
    st.caption(_("Chosen place: in **{neighborhood}**.").format(
        neighborhood=md(inside["name"].iloc[0])) if len(inside)
        else _("Chosen place: outside every neighborhood on the map."))

st.write(_("**2. Answer two questions.**"))
safe = st.radio(word(pg.SAFETY_QUESTION), list(pg.SAFETY_SCALE), index=None, horizontal=True,
                format_func=lambda k: _("{n}: {answer}").format(
                    n=i18n.number(k), answer=word(pg.SAFETY_SCALE[k])),
                key="survey-safe")
knows = st.radio(word(pg.CONTACT_QUESTION), ["Yes", "No"], index=None, horizontal=True,
                 format_func={"Yes": _("Yes"), "No": _("No")}.get, key="survey-knows")
if st.button(_("Send my answers"), type="primary"):
    missing = [text for text, gone in ((_("click the map where you mean"), point is None),
                                       (_("say how safe it feels"), safe is None),
                                       (_("say whether you know whom to contact"),
                                        knows is None))
               if gone]
    if missing:
        st.warning(_("Before sending: {steps}.").format(steps="; ".join(missing)))
    elif point is not None and safe is not None:
        try:
            name = access().answer_survey(point[1], point[0], int(safe), knows == "Yes")
        except CptedError as exc:
            refusal(exc)
        else:
            st.session_state["survey_flash"] = _(
                "Thank you: your answers count for {neighborhood}. The totals below and the "
                "Progress page include them.").format(neighborhood=md(name))
            for key in ("survey_point", "survey-safe", "survey-knows"):
                st.session_state.pop(key, None)
            st.rerun()

st.subheader(_("What people have said (last 12 months)"))
st.caption(_("Totals only. A neighborhood with fewer than {n} answers shows its count alone. "
             "Answers come from whoever chose to answer, not a random sample; the ranges are "
             "{level} intervals (t for the mean, Wilson for the share).").format(
                 n=i18n.number(pg.MIN_SURVEY_ANSWERS), level=i18n.percent(LEVEL)))
level = i18n.percent(LEVEL)
table = totals.assign(
    knows_contact=lambda f: f["knows_contact"] * 100, knows_low=lambda f: f["knows_low"] * 100,
    knows_high=lambda f: f["knows_high"] * 100)
st.dataframe(
    table[["name", "survey_answers", "safe_mean", "safe_low", "safe_high", "knows_contact",
           "knows_low", "knows_high"]],
    hide_index=True, width="stretch",
    column_config={
        "name": st.column_config.TextColumn(_("Neighborhood")),
        "survey_answers": st.column_config.NumberColumn(_("Answers"), format="%d"),
        "safe_mean": st.column_config.NumberColumn(
            _("Feeling safe after dark (1-5)"), format="%.1f",
            help=_("1 very unsafe, 2 unsafe, 3 neither, 4 safe, 5 very safe")),
        "safe_low": st.column_config.NumberColumn(
            _("Feeling: low ({level})").format(level=level), format="%.1f"),
        "safe_high": st.column_config.NumberColumn(
            _("Feeling: high ({level})").format(level=level), format="%.1f"),
        "knows_contact": st.column_config.NumberColumn(_("Know whom to contact"),
                                                       format="%.0f%%"),
        "knows_low": st.column_config.NumberColumn(
            _("Know: low ({level})").format(level=level), format="%.0f%%"),
        "knows_high": st.column_config.NumberColumn(
            _("Know: high ({level})").format(level=level), format="%.0f%%"),
    })
st.page_link("app_pages/progress.py", label=_("The trend month by month: Progress"),
             icon=":material/trending_up:")
