"""The Patrol page's forecast section: every method on the later window, the chosen one
marked, whether it beats counts in a plain sentence, and the top cells by count beside
their Gi* result."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st
from babel import numbers

from app_pages._text import md
from cpted import forecast as fc
from cpted import hotspots as hs
from cpted import i18n
from cpted.i18n import N_, _

#: The risk terrain model's factors (``cpted.risk_terrain.environment``), for the catalogue.
FACTOR_WORDS: dict[str, str] = {
    "Distance to a vacant parcel (m)": N_("Distance to a vacant parcel (m)"),
    "Vacant parcels nearby": N_("Vacant parcels nearby"),
    "Concerns reported nearby": N_("Concerns reported nearby"),
    "Streetlights out nearby": N_("Streetlights out nearby"),
}


def significant(value: float, digits: int = 2) -> str:
    """``value`` to ``digits`` significant digits, written the language's way
    (``0.0012``; ``0,0012`` in Spanish)."""
    if value != value:
        return "-"
    return numbers.format_decimal(value, format="@" + "#" * (digits - 1),
                                  locale=i18n.current())


def _fixed(digits: int) -> Callable[[float], str]:
    """A cell format: the number with ``digits`` decimals, the language's way."""
    return lambda v: "-" if v != v else i18n.number(v, digits=digits)


def show_top_cells(hot: hs.Hotspots) -> None:
    """The cells with the most events beside their Gi* result, and whether cold spots can
    occur in this study area at all."""
    st.markdown(_("**The busiest cells, beside what Gi\\* says of them**"))
    top = hot.top_by_count(10).drop(columns=["lon", "lat"])
    top["Gi* result"] = [hs.label_words(x) for x in top["Gi* result"]]
    st.dataframe(top.style.format({"Events in the cell": _fixed(0),
                                   "Events in its neighbours": _fixed(0),
                                   "z-score": _fixed(2), "p-value": _fixed(3)}),
                 hide_index=True, width="stretch",
                 column_config={"Cell": _("Cell"), "Events in the cell": _("Events in the cell"),
                                "Events in its neighbours": _("Events in its neighbours"),
                                "Gi* result": _("Gi* result"), "z-score": _("z-score"),
                                "p-value": _("p-value")})
    st.caption(_("Gi\\* asks whether a cell *and its neighbours* hold more than chance; a "
                 "busy cell with quiet neighbours can be \"not significant\" and still be a "
                 "place to go. Patrol stops keep such cells.") + " " + md(hot.cold.describe()))


def show_forecasts(evaluation: fc.Evaluation, tz: str) -> None:
    """All methods' hit rate, PAI, PEI* and RRI on the later window, the chosen one marked."""
    ev = evaluation.stage("evaluation")
    if ev.empty:
        st.caption(_("Patrol stops come from {method}, the method that did best on the "
                     "latest third of the events when forecast from the rest. Hold back a "
                     "later period to see how every method does on it.").format(
                         method=_(fc.NAMES[evaluation.chosen])))
        return
    st.markdown(_("**Which forecast caught the later events best?** Every method was made "
                  "from the earlier events; the one marked was chosen on a validation window "
                  "before the later period, which it never saw."))
    if evaluation.ratio() >= fc.GOAL:
        st.info(evaluation.verdict())
    else:
        st.warning(evaluation.verdict())
    names = [_(n) for n in ev["name"]]
    show = pd.DataFrame({
        "Method": [_("{method} (chosen)").format(method=n) if chosen else n
                   for n, chosen in zip(names, ev["chosen"], strict=True)],
        "Top area": ev["area_share"].map(i18n.percent),
        "Cells": ev["cells"], "Later events in it": ev["events"], "Hit rate": ev["hit_rate"],
        "PAI": ev["pai"], "PEI*": ev["pei_star"], "RRI": ev["rri"]})
    # the whole width: the method's name and its "(chosen)" must show in full
    st.dataframe(show.style.format({
        "Hit rate": lambda v: "-" if v != v else i18n.percent(v, digits=1),
        "PAI": _fixed(2), "PEI*": _fixed(2), "RRI": _fixed(2), "Cells": _fixed(0),
        "Later events in it": _fixed(1)}),
        hide_index=True, width="stretch",
        column_config={"Method": st.column_config.TextColumn(_("Method"), width="large"),
                       "Top area": _("Top area"), "Cells": _("Cells"),
                       "Later events in it": _("Later events in it"),
                       "Hit rate": _("Hit rate")})
    chart = ev.assign(name=names).pivot(index="name", columns="area_share", values="pai")
    chart.columns = [_("top {share}").format(share=i18n.percent(c)) for c in chart.columns]
    st.bar_chart(chart, stack=False, horizontal=True, x_label=_("PAI"), y_label="", height=300,
                 alt=_("Bar chart of the PAI of each method for the top areas; the table "
                       "beside it has the same numbers."))
    st.caption(_("Hit rate: share of later events inside the area. PAI (predictive accuracy "
                 "index) = hit rate ÷ share of area; 1 is no better than chance. PEI* = later "
                 "events caught ÷ the most the same number of cells could have caught (1 is "
                 "perfect). RRI (recapture rate index, Levine 2008) = (later ÷ earlier events "
                 "in the area) ÷ (all later ÷ all earlier). Windows: {windows}. Prospective "
                 "hotspotting: {prospective}.").format(
                     windows=evaluation.windows.describe(tz),
                     prospective=evaluation.prospective.describe()))
    if evaluation.risk is not None:
        st.markdown(_("**Risk factors** (how much each multiplies the expected count, per "
                      "standard deviation)"))
        risks = evaluation.risk.relative_risks()
        risks["Factor"] = [_(FACTOR_WORDS[f]) if f in FACTOR_WORDS else f
                           for f in risks["Factor"]]
        st.dataframe(risks.style.format(
            {"Relative risk per SD": _fixed(2), "One SD is": lambda v: significant(v, 3)}),
            hide_index=True, width="stretch",
            column_config={"Factor": _("Factor"),
                           "Relative risk per SD": _("Relative risk per SD"),
                           "One SD is": _("One SD is")})
    for note in evaluation.notes:
        st.caption(note)
