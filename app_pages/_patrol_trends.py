"""The Patrol page's emerging hot spots and its responsible-use box.

Kept apart from ``patrol.py`` so each part of the page reads on its own: the page calls
:func:`emerging_section` and :func:`responsible_use_section` once hotspots are found.
The analyses live in :mod:`cpted.emerging` and :mod:`cpted.responsible`; records come
through the access layer.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from app_pages._maps import show_map
from app_pages._text import md
from cpted import emerging as em
from cpted import hotspots as hs
from cpted import patrol as pt
from cpted import responsible as rs
from cpted.maps import build_emerging_map
from cpted.trend import smallest_trend_p
from layers.errors import UnusableInputError

SLICE_WORDS = {"month": "Months", "week": "Weeks"}


def _grid_key(grid: hs.Grid) -> tuple[object, ...]:
    """What makes two grids the same (a grid itself is not hashed by the cache)."""
    return (grid.shape, grid.size, grid.origin, len(grid), grid.crs.to_string())


@st.cache_data(show_spinner=False, max_entries=8)
def find_emerging(url: str, revision: int, role: str, sources: tuple[pt.Source, ...],
                  grid_key: tuple[object, ...], _grid: hs.Grid, _me: Any,
                  slice_length: em.SliceLength, tz: str
                  ) -> dict[str, object]:
    """The emerging hot spots of ``sources`` on the hotspots' grid (small results only)."""
    events = _me.patrol_events(list(sources), tz=tz)
    start, end = em.source_period(sources)
    found = em.analyse(events, grid=_grid, slice_length=slice_length, tz=tz, start=start,
                       end=end)
    return {"frame": found.frame(), "counts": found.counts_by_pattern(),
            "describe": found.describe(), "slices": found.slices,
            "slice_length": slice_length}


@st.cache_data(show_spinner=False, max_entries=8)
def find_evidence(url: str, revision: int, role: str, sources: tuple[pt.Source, ...],
                  grid_key: tuple[object, ...], _grid: hs.Grid, _me: Any, tz: str
                  ) -> dict[str, pd.DataFrame]:
    """Where the evidence comes from, and records before and after visits per cell."""
    events = _me.patrol_events(list(sources), tz=tz)
    return {"mix": rs.evidence_mix(events),
            "loop": rs.feedback_loop(events, _me.visits(), _grid)}


# -- emerging hot spots -----------------------------------------------------------------

def emerging_section(me: Any, hot: hs.Hotspots, sources: tuple[pt.Source, ...], *,
                     url: str, revision: int, role: str, tz: str) -> None:
    """Emerging hot spots on the hotspots' grid: a button, a count per class, the map."""
    st.markdown("#### Emerging hot spots")
    st.caption("Which places are heating up, cooling down, newly hot or hot all along: the "
               "hot spot test in each month or week, then a trend test for each cell "
               "(Esri's Emerging Hot Spot Analysis).")
    c1, c2 = st.columns([2, 3])
    length = c1.radio("Slices of time", list(SLICE_WORDS), horizontal=True,
                      format_func=SLICE_WORDS.__getitem__, key="emerging-slice")
    key = (sources, _grid_key(hot.grid), length)
    if c2.button("Find emerging hot spots"):
        try:
            with st.spinner("Testing every cell in every slice of time…"):
                st.session_state["emerging"] = (key, find_emerging(
                    url, revision, role, sources, _grid_key(hot.grid), hot.grid, me,
                    length, tz))  # type: ignore[arg-type]
        except UnusableInputError as exc:
            st.session_state.pop("emerging", None)
            st.error(md(exc))
    stored = st.session_state.get("emerging")
    if stored is None or stored[0] != key:
        return
    found: dict[str, Any] = stored[1]
    words = found["slice_length"]
    counts: pd.DataFrame = found["counts"]
    with_pattern = counts[(counts["cells"] > 0) & (counts["pattern"]
                                                   != em.Pattern.NONE.value)]
    if with_pattern.empty:
        st.info(f"No cell shows a hot or cold spot pattern over these {words}s.")
    else:
        hot_cells = int(with_pattern[with_pattern["pattern"].str.contains("hot")]["cells"].sum())
        st.markdown(f"**{hot_cells:,} cell(s) with a hot spot pattern**, "
                    f"{int(with_pattern['cells'].sum()) - hot_cells:,} with a cold spot "
                    "pattern.")
    show = counts.rename(columns={"pattern": "Pattern", "cells": "Cells",
                                  "meaning": "What it means"})
    chart = with_pattern.set_index("pattern")[["cells"]].rename(columns={"cells": "Cells"})
    if len(chart):
        st.bar_chart(chart, horizontal=True, x_label="Cells", y_label="",
                     height=60 + 34 * len(chart),
                     alt="Bar chart of how many cells fall in each emerging hot spot "
                         "pattern found; the table below has the same numbers.")
    st.dataframe(show, hide_index=True, width="stretch")
    show_map(build_emerging_map(found["frame"], slice_length=words), height=460,
             key="emerging-map", returned_objects=[])
    st.caption(md(found["describe"]) + ".")
    if found["slices"] < em.FEW_SLICES:
        st.caption(f"Only {found['slices']} {words}s: a trend can be no surer than p = "
                   f"{smallest_trend_p(found['slices']):.2f}, so intensifying and "
                   "diminishing spots are hard to find. Choose weeks, or a longer period.")


# -- responsible use ------------------------------------------------------------------

def responsible_use_section(me: Any, hot: hs.Hotspots, sources: tuple[pt.Source, ...], *,
                            url: str, revision: int, role: str, tz: str) -> None:
    """Where the evidence comes from, feedback loops to watch, and how this was made."""
    st.markdown("#### Responsible use")
    found = find_evidence(url, revision, role, sources, _grid_key(hot.grid), hot.grid, me,
                          tz)
    mix, loop = found["mix"], found["loop"]
    with st.container(border=True):
        st.markdown("**Where the evidence comes from**")
        c1, c2 = st.columns([3, 2])
        c1.write(rs.evidence_words(mix))
        police = mix.loc[mix["evidence"] == "Police records", "weight_share"]
        if len(police) and float(police.iloc[0]) > 0.5:
            c1.warning("Most of the weight is police records. They show where police "
                       "already looked as much as where problems are; weigh residents' "
                       "reports too before trusting these hotspots.")
        if len(mix):
            chart = mix.set_index("evidence")[["record_share", "weight_share"]].rename(
                columns={"record_share": "Records", "weight_share": "Weight"})
            c2.bar_chart(chart, horizontal=True, stack=False, height=200, y_label="",
                         x_label="Share of all (1 = all)",
                         alt="Bar chart of the share of records and of weight from each "
                             "kind of evidence; the sentence beside it has the same "
                             "numbers.")

        st.markdown("**Feedback loops**")
        rose = loop[loop["rose"]] if len(loop) else loop
        judged = int(loop["judged"].sum()) if len(loop) else 0
        if len(rose):
            st.warning(
                f"Records rose after patrol visits in {len(rose)} cell(s). Patrol finds and "
                "records more where it goes, and those records pull the next patrol back "
                "(a runaway feedback loop, Ensign et al. 2018): check with residents "
                "whether more is happening there before sending patrols back.")
            st.dataframe(pd.DataFrame({
                "Place": rose["place"].astype(str),
                "First visit": pd.to_datetime(rose["first_visit"], utc=True).dt.tz_convert(
                    tz).dt.strftime("%Y-%m-%d %H:%M"),
                "Visits": rose["visits"], "Days compared each side": rose["days"].round(0),
                "Records before": rose["before"], "Records after": rose["after"],
                "Chance of a rise this large (p)": rose["p"].round(4)}),
                hide_index=True, width="stretch")
        elif len(loop) == 0:
            st.caption("No patrol visits logged yet, so there is no feedback to check.")
        else:
            st.caption(f"{len(loop)} visited cell(s); {judged} with records on both sides "
                       "of the first visit, and in none did records rise beyond chance.")
        if len(loop) and judged < len(loop):
            reasons = loop.loc[~loop["judged"], "reason"].value_counts()
            st.caption("Not judged: " + "; ".join(f"{n} cell(s): {md(r)}"
                                                 for r, n in reasons.items()) + ".")

        st.markdown("**How this was made**")
        stored = st.session_state.get("emerging")
        current = stored is not None and stored[0][:2] == (sources, _grid_key(hot.grid))
        lines = rs.how_made(sources=[s.describe() for s in sources], mix=mix,
                            hotspots=hot.describe(),
                            emerging=stored[1]["describe"] if current else None,
                            dwell_max_min=pt.MAX_DWELL_MIN)
        st.markdown("\n".join("- " + md(line) for line in lines))
