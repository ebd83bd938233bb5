"""Tables several pages show: concerns, each row opening its concern."""

from __future__ import annotations

import geopandas as gpd
import streamlit as st

from app_pages._state import category_names, tz
from app_pages._text import md
from cpted.tables import CONCERN_ID, concern_rows

CONCERN_PAGE = "app_pages/concern.py"


def concern_table(concerns: gpd.GeoDataFrame, *, key: str, limit: int = 2000) -> None:
    """Concerns newest first, with plain labels and local times; selecting a row sets
    ``st.session_state["concern_id"]`` and opens the Concern page on it."""
    if concerns.empty:
        st.caption("No concerns.")
        return
    newest = concerns.sort_values("requested_datetime", ascending=False, kind="stable")
    rows = concern_rows(newest, tz=tz(), category_names=category_names()).head(limit)
    event = st.dataframe(rows, hide_index=True, width="stretch", key=key, on_select="rerun",
                         selection_mode="single-row")
    more = (f" The newest {limit:,} of {len(concerns):,} are listed."
            if len(concerns) > limit else "")
    st.caption(f"Times in {md(tz())}. Select a row (the box at its left) to open that concern."
               + more)
    picked = event.selection.rows if event is not None else []
    if picked:
        st.session_state["concern_id"] = str(rows[CONCERN_ID].iloc[picked[0]])
        st.switch_page(CONCERN_PAGE)
