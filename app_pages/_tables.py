"""Tables several pages show: concerns, each row opening its concern."""

from __future__ import annotations

import geopandas as gpd
import streamlit as st

from app_pages._state import category_names, tz
from app_pages._text import md, value_word
from cpted import i18n
from cpted.i18n import N_, _, ngettext
from cpted.tables import CONCERN_COLUMNS, CONCERN_ID, concern_rows

CONCERN_PAGE = "app_pages/concern.py"
#: The labels of :data:`cpted.tables.CONCERN_COLUMNS`, for the catalogue: a page shows
#: each as ``_(label)`` (a test keeps the two lists the same).
COLUMN_WORDS = [N_("Category"), N_("Status"), N_("Progress"), N_("Reported"),
                N_("Last update"), N_("Time of day"), N_("Address"), N_("Description"),
                N_("Location shown"), N_("Concern id")]
#: The columns holding stored values shown as words (:func:`app_pages._text.value_word`).
VALUE_COLUMNS = [CONCERN_COLUMNS[c] for c in ("status", "detailed_status", "time_of_day",
                                              "location_precision")]


def concern_table(concerns: gpd.GeoDataFrame, *, key: str, limit: int = 2000,
                  total: int | None = None) -> None:
    """Concerns newest first, with plain labels and local times; selecting a row sets
    ``st.session_state["concern_id"]`` and opens the Concern page on it. ``total``: how
    many there are in all, when ``concerns`` holds only the newest of them."""
    total = len(concerns) if total is None else total
    if concerns.empty:
        st.caption(_("No concerns."))
        return
    newest = concerns.sort_values("requested_datetime", ascending=False, kind="stable")
    names = {code: _(name) for code, name in category_names().items()}
    rows = concern_rows(newest, tz=tz(), category_names=names).head(limit)
    shown = rows.copy()
    for column in VALUE_COLUMNS:
        if column in shown.columns:
            shown[column] = shown[column].map(value_word)
    event = st.dataframe(shown, hide_index=True, width="stretch", key=key, on_select="rerun",
                         selection_mode="single-row",
                         column_config={c: _(c) for c in shown.columns})
    listed = min(limit, len(concerns))
    more = (" " + ngettext("The newest {n} of {total} is listed.",
                           "The newest {n} of {total} are listed.", listed).format(
        n=i18n.number(listed), total=i18n.number(total))
        if total > listed else "")
    st.caption(_("Times in {zone}. Select a row (the box at its left) to open that "
                 "concern.").format(zone=md(tz())) + more)
    picked = event.selection.rows if event is not None else []
    if picked:
        st.session_state["concern_id"] = str(rows[CONCERN_ID].iloc[picked[0]])
        st.switch_page(CONCERN_PAGE)
