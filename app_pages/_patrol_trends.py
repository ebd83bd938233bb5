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
from cpted import i18n
from cpted import patrol as pt
from cpted import responsible as rs
from cpted.i18n import N_, _
from cpted.maps import build_emerging_map
from cpted.trend import smallest_trend_p
from layers.errors import UnusableInputError

SLICE_WORDS = {"month": N_("Months"), "week": N_("Weeks")}


def _grid_key(grid: hs.Grid) -> tuple[object, ...]:
    """What makes two grids the same (a grid itself is not hashed by the cache)."""
    return (grid.shape, grid.size, grid.origin, len(grid), grid.crs.to_string())


@st.cache_data(show_spinner=False, max_entries=8)
def find_emerging(url: str, revision: int, role: str, sources: tuple[pt.Source, ...],
                  grid_key: tuple[object, ...], _grid: hs.Grid, _me: Any,
                  slice_length: em.SliceLength, tz: str, language: str
                  ) -> dict[str, object]:
    """The emerging hot spots of ``sources`` on the hotspots' grid (small results only;
    their words in ``language``)."""
    events = _me.patrol_events(list(sources), tz=tz)
    start, end = em.source_period(sources)
    found = em.analyse(events, grid=_grid, slice_length=slice_length, tz=tz, start=start,
                       end=end)
    return {"frame": found.frame(), "counts": found.counts_by_pattern(),
            "describe": found.describe(), "slices": found.slices,
            "slice_length": slice_length}


@st.cache_data(show_spinner=False, max_entries=8)
def find_evidence(url: str, revision: int, role: str, sources: tuple[pt.Source, ...],
                  grid_key: tuple[object, ...], _grid: hs.Grid, _me: Any, tz: str,
                  language: str) -> dict[str, pd.DataFrame]:
    """Where the evidence comes from, and records before and after visits per cell (the
    reasons a cell is not judged in ``language``)."""
    events = _me.patrol_events(list(sources), tz=tz)
    return {"mix": rs.evidence_mix(events),
            "loop": rs.feedback_loop(events, _me.visits(), _grid)}


# -- emerging hot spots -----------------------------------------------------------------

def emerging_section(me: Any, hot: hs.Hotspots, sources: tuple[pt.Source, ...], *,
                     url: str, revision: int, role: str, tz: str) -> None:
    """Emerging hot spots on the hotspots' grid: a button, a count per class, the map."""
    st.markdown(_("#### Emerging hot spots"))
    st.caption(_("Which places are heating up, cooling down, newly hot or hot all along: the "
                 "hot spot test in each month or week, then a trend test for each cell "
                 "(Esri's Emerging Hot Spot Analysis)."))
    c1, c2 = st.columns([2, 3])
    length = c1.radio(_("Slices of time"), list(SLICE_WORDS), horizontal=True,
                      format_func=lambda k: _(SLICE_WORDS[k]), key="emerging-slice")
    key = (sources, _grid_key(hot.grid), length, i18n.current())
    if c2.button(_("Find emerging hot spots")):
        try:
            with st.spinner(_("Testing every cell in every slice of time…")):
                st.session_state["emerging"] = (key, find_emerging(
                    url, revision, role, sources, _grid_key(hot.grid), hot.grid, me,
                    length, tz, i18n.current()))  # type: ignore[arg-type]
        except UnusableInputError as exc:
            st.session_state.pop("emerging", None)
            st.error(md(exc))
    stored = st.session_state.get("emerging")
    if stored is None or stored[0] != key:
        return
    found: dict[str, Any] = stored[1]
    words = found["slice_length"]
    month = words == "month"
    counts: pd.DataFrame = found["counts"]
    with_pattern = counts[(counts["cells"] > 0) & (counts["pattern"]
                                                   != em.Pattern.NONE.value)]
    if with_pattern.empty:
        st.info(_("No cell shows a hot or cold spot pattern over these months.") if month
                else _("No cell shows a hot or cold spot pattern over these weeks."))
    else:
        hot_cells = int(with_pattern[with_pattern["pattern"].isin(
            [p.value for p in em.HOT_PATTERNS])]["cells"].sum())
        cold_cells = int(with_pattern["cells"].sum()) - hot_cells
        st.markdown(_("**{hot} cell(s) with a hot spot pattern**, {cold} with a cold spot "
                      "pattern.").format(hot=i18n.number(hot_cells),
                                         cold=i18n.number(cold_cells)))
    show = counts.assign(pattern=[_(p) for p in counts["pattern"]])
    chart = with_pattern.assign(pattern=[_(p) for p in with_pattern["pattern"]]).set_index(
        "pattern")[["cells"]].rename(columns={"cells": _("Cells")})
    if len(chart):
        st.bar_chart(chart, horizontal=True, x_label=_("Cells"), y_label="",
                     height=60 + 34 * len(chart),
                     alt=_("Bar chart of how many cells fall in each emerging hot spot "
                           "pattern found; the table below has the same numbers."))
    show = show.rename(columns={"pattern": "Pattern", "cells": "Cells",
                                "meaning": "What it means"})
    st.dataframe(show, hide_index=True, width="stretch",
                 column_config={"Pattern": _("Pattern"), "Cells": _("Cells"),
                                "What it means": _("What it means")})
    show_map(build_emerging_map(found["frame"], slice_length=words), height=460,
             key="emerging-map", returned_objects=[])
    st.caption(md(found["describe"]) + ".")
    if found["slices"] < em.FEW_SLICES:
        st.caption((_("Only {n} months: a trend can be no surer than p = {p}, so "
                      "intensifying and diminishing spots are hard to find. Choose weeks, or "
                      "a longer period.") if month else
                    _("Only {n} weeks: a trend can be no surer than p = {p}, so intensifying "
                      "and diminishing spots are hard to find. Choose a longer period.")
                    ).format(n=i18n.number(found["slices"]),
                             p=i18n.number(smallest_trend_p(found["slices"]), digits=2)))


# -- responsible use ------------------------------------------------------------------

def responsible_use_section(me: Any, hot: hs.Hotspots, sources: tuple[pt.Source, ...], *,
                            url: str, revision: int, role: str, tz: str) -> None:
    """Where the evidence comes from, feedback loops to watch, and how this was made."""
    st.markdown(_("#### Responsible use"))
    found = find_evidence(url, revision, role, sources, _grid_key(hot.grid), hot.grid, me,
                          tz, i18n.current())
    mix, loop = found["mix"], found["loop"]
    with st.container(border=True):
        st.markdown(_("**Where the evidence comes from**"))
        c1, c2 = st.columns([3, 2])
        c1.write(rs.evidence_words(mix))
        police = mix.loc[mix["evidence"] == "Police records", "weight_share"]
        if len(police) and float(police.iloc[0]) > 0.5:
            c1.warning(_("Most of the weight is police records. They show where police "
                         "already looked as much as where problems are; weigh residents' "
                         "reports too before trusting these hotspots."))
        if len(mix):
            labels = [_(e) for e in mix["evidence"]]
            chart = mix.assign(evidence=[w[:1].upper() + w[1:] for w in labels]).set_index(
                "evidence")[["record_share", "weight_share"]].rename(
                columns={"record_share": _("Records"), "weight_share": _("Weight")})
            c2.bar_chart(chart, horizontal=True, stack=False, height=200, y_label="",
                         x_label=_("Share of all (1 = all)"),
                         alt=_("Bar chart of the share of records and of weight from each "
                               "kind of evidence; the sentence beside it has the same "
                               "numbers."))

        st.markdown(_("**Feedback loops**"))
        rose = loop[loop["rose"]] if len(loop) else loop
        judged = int(loop["judged"].sum()) if len(loop) else 0
        if len(rose):
            st.warning(_(
                "Records rose after patrol visits in {n} cell(s). Patrol finds and records "
                "more where it goes, and those records pull the next patrol back (a runaway "
                "feedback loop, Ensign et al. 2018): check with residents whether more is "
                "happening there before sending patrols back.").format(
                    n=i18n.number(len(rose))))
            st.dataframe(pd.DataFrame({
                "Place": rose["place"].astype(str),
                "First visit": pd.to_datetime(rose["first_visit"], utc=True).dt.tz_convert(
                    tz).dt.strftime("%Y-%m-%d %H:%M"),
                "Visits": rose["visits"], "Days compared each side": rose["days"].round(0),
                "Records before": rose["before"], "Records after": rose["after"],
                "Chance of a rise this large (p)": rose["p"].round(4)}),
                hide_index=True, width="stretch",
                column_config={"Place": _("Place"), "First visit": _("First visit"),
                               "Visits": _("Visits"),
                               "Days compared each side": _("Days compared each side"),
                               "Records before": _("Records before"),
                               "Records after": _("Records after"),
                               "Chance of a rise this large (p)": _(
                                   "Chance of a rise this large (p)")})
        elif len(loop) == 0:
            st.caption(_("No patrol visits logged yet, so there is no feedback to check."))
        else:
            st.caption(_("{n} visited cell(s); {judged} with records on both sides of the "
                         "first visit, and in none did records rise beyond chance.").format(
                             n=i18n.number(len(loop)), judged=i18n.number(judged)))
        if len(loop) and judged < len(loop):
            reasons = loop.loc[~loop["judged"], "reason"].value_counts()
            st.caption(_("Not judged: {reasons}.").format(reasons="; ".join(
                _("{n} cell(s): {reason}").format(n=i18n.number(int(n)), reason=md(r))
                for r, n in reasons.items())))

        st.markdown(_("**How this was made**"))
        stored = st.session_state.get("emerging")
        current = stored is not None and stored[0][:2] == (sources, _grid_key(hot.grid)) and \
            stored[0][3] == i18n.current()
        lines = rs.how_made(sources=[s.describe() for s in sources], mix=mix,
                            hotspots=hot.describe(),
                            emerging=stored[1]["describe"] if current else None,
                            dwell_max_min=pt.MAX_DWELL_MIN)
        st.markdown("\n".join("- " + md(line) for line in lines))
