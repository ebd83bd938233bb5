"""The Patrol page's forecast section: every method on the later window, the chosen one
marked, whether it beats counts in a plain sentence, and the top cells by count beside
their Gi* result."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages._text import md
from cpted import forecast as fc
from cpted import hotspots as hs


def show_top_cells(hot: hs.Hotspots) -> None:
    """The cells with the most events beside their Gi* result, and whether cold spots can
    occur in this study area at all."""
    st.markdown("**The busiest cells, beside what Gi\\* says of them**")
    top = hot.top_by_count(10).drop(columns=["lon", "lat"])
    st.dataframe(top.style.format({"Events in the cell": "{:.0f}",
                                   "Events in its neighbours": "{:.0f}",
                                   "z-score": "{:.2f}", "p-value": "{:.3f}"}),
                 hide_index=True, width="stretch")
    st.caption("Gi\\* asks whether a cell *and its neighbours* hold more than chance; a busy "
               "cell with quiet neighbours can be \"not significant\" and still be a place "
               "to go. Patrol stops keep such cells. " + md(hot.cold.describe()))


def show_forecasts(evaluation: fc.Evaluation, tz: str) -> None:
    """All methods' hit rate, PAI, PEI* and RRI on the later window, the chosen one marked."""
    ev = evaluation.stage("evaluation")
    if ev.empty:
        st.caption("Patrol stops come from " + fc.NAMES[evaluation.chosen] + ", the method "
                   "that did best on the latest third of the events when forecast from the "
                   "rest. Hold back a later period to see how every method does on it.")
        return
    st.markdown("**Which forecast caught the later events best?** Every method was made "
                "from the earlier events; the one marked was chosen on a validation window "
                "before the later period, which it never saw.")
    if evaluation.ratio() >= fc.GOAL:
        st.info(evaluation.verdict())
    else:
        st.warning(evaluation.verdict())
    show = pd.DataFrame({
        "Method": ev["name"] + ev["chosen"].map({True: " (chosen)", False: ""}),
        "Top area": ev["area_share"].map(lambda x: f"{x:.0%}"),
        "Cells": ev["cells"], "Later events in it": ev["events"], "Hit rate": ev["hit_rate"],
        "PAI": ev["pai"], "PEI*": ev["pei_star"], "RRI": ev["rri"]})
    # the whole width: the method's name and its "(chosen)" must show in full
    st.dataframe(show.style.format({"Hit rate": "{:.1%}", "PAI": "{:.2f}", "PEI*": "{:.2f}",
                                    "RRI": "{:.2f}", "Cells": "{:.0f}",
                                    "Later events in it": "{:.1f}"}),
                 hide_index=True, width="stretch",
                 column_config={"Method": st.column_config.TextColumn(width="large")})
    chart = ev.pivot(index="name", columns="area_share", values="pai")
    chart.columns = [f"top {c:.0%}" for c in chart.columns]
    st.bar_chart(chart, stack=False, horizontal=True, x_label="PAI", y_label="", height=300,
                 alt="Bar chart of the PAI of each method for the top areas; the table "
                     "beside it has the same numbers.")
    st.caption("Hit rate: share of later events inside the area. PAI (predictive accuracy "
               "index) = hit rate ÷ share of area; 1 is no better than chance. PEI* = later "
               "events caught ÷ the most the same number of cells could have caught (1 is "
               "perfect). RRI (recapture rate index, Levine 2008) = (later ÷ earlier events "
               "in the area) ÷ (all later ÷ all earlier). Windows: "
               + evaluation.windows.describe(tz) + ". Prospective hotspotting: "
               + evaluation.prospective.describe() + ".")
    if evaluation.risk is not None:
        st.markdown("**Risk factors** (how much each multiplies the expected count, per "
                    "standard deviation)")
        st.dataframe(evaluation.risk.relative_risks().style.format(
            {"Relative risk per SD": "{:.2f}", "One SD is": "{:.3g}"}),
            hide_index=True, width="stretch")
    for note in evaluation.notes:
        st.caption(note)
