"""The Audits page's analyses across audits: agreement between auditors, what goes with
feeling safe, and where to audit next (the street pre-score)."""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from app_pages._maps import show_map
from app_pages._state import door_for, role, store
from app_pages._text import md
from cpted import agreement as ag
from cpted import prescore as ps
from cpted.agreement_charts import drivers_chart, kappa_chart
from cpted.assessments import SAME_PLACE_RADIUS_M
from cpted.maps import build_prescore_map
from cpted.scoring import MIN_COVERAGE
from layers.errors import UnusableInputError


@st.cache_data(show_spinner="Scoring every street segment…", max_entries=4)
def prescored(url: str, revision: int, acting: str, day: str) -> ps.Prescore:
    """The pre-score as ``acting`` may see the layers (cached on the store's revision and
    the day, which moves the incidents' window)."""
    return door_for(url, acting).prescore()


@st.cache_data(show_spinner=False, max_entries=8)
def across(url: str, revision: int, acting: str) -> tuple[ag.Agreement, list[ag.Driver]]:
    door = door_for(url, acting)
    return door.audit_agreement(), door.safety_drivers()


def _left_out(audits: pd.DataFrame) -> str:
    few = int((~audits["enough_answers"].astype(bool)).sum())
    if not few:
        return (f"Every audit has enough answers to count (at least {MIN_COVERAGE:.0%} of "
                "the items that apply).")
    return (f"{few:,} audit{'s' if few != 1 else ''} with fewer than {MIN_COVERAGE:.0%} of "
            "the items answered (\"not enough answers\") "
            f"{'are' if few != 1 else 'is'} left out.")


def show_agreement(agreement: ag.Agreement, audits: pd.DataFrame) -> None:
    if not agreement.any:
        st.info("No place has been audited by two or more auditors on the same walk yet "
                f"(audits within {SAME_PLACE_RADIUS_M:.0f} m of each other, at the same time "
                f"of day, within {ag.SAME_WALK_DAYS} days). Ask two groups to audit the same "
                "place on the same evening to see whether they agree.")
        st.caption(_left_out(audits))
        return
    mean = agreement.overall()
    c1, c2 = st.columns(2)
    c1.metric("Places audited by several auditors", f"{len(agreement.places):,}")
    c2.metric("Mean agreement beyond chance", "–" if mean is None else f"{mean:.2f}",
              help="Fleiss' kappa per checklist item, averaged over the items: 0 is what "
                   "chance would give, 1 is every auditor always answering the same.")
    if mean is not None:
        st.write(f"On {len(agreement.places):,} places audited by several auditors on the "
                 f"same walk, their answers agreed {ag.kappa_words(mean)}ly beyond chance "
                 f"on average (Fleiss' kappa {mean:.2f} over {len(agreement.items):,} items; "
                 "words after Landis and Koch, 1977)." if not ag.kappa_words(mean).startswith(
                     "poor") else
                 f"On {len(agreement.places):,} places audited by several auditors on the "
                 "same walk, their answers agreed less often than chance would make them "
                 f"(Fleiss' kappa {mean:.2f} over {len(agreement.items):,} items): the "
                 "checklist's questions may need clearer wording or training.")
    items = agreement.items
    weakest = items.dropna(subset=["kappa"]).sort_values("kappa").head(3)
    if len(weakest):
        st.write("Least agreement: " + "; ".join(
            f"{md(q)} ({k:.2f})" for q, k in zip(weakest["question"], weakest["kappa"],
                                                 strict=True)) + ".")
    st.image(kappa_chart(items), caption="Agreement beyond chance per checklist item",
             alt="Bar chart of Fleiss' kappa per checklist item, from -1 to 1: " + "; ".join(
                 f"{q} {k:.2f}" for q, k in zip(items["question"], items["kappa"],
                                                strict=True) if k is not None) + ".")
    st.dataframe(pd.DataFrame({
        "principle": items["principle"], "question": items["question"],
        "places": items["places"], "agreement": (items["agreement"] * 100).round(0),
        "kappa": items["kappa"].astype(float), "words": items["words"]}),
        hide_index=True, width="stretch",
        column_config={"principle": "Principle", "question": "Item", "places": "Places",
                       "agreement": st.column_config.NumberColumn(
                           "Pairs agreeing", format="%d%%",
                           help="The share of pairs of auditors at a place who gave the "
                                "same answer."),
                       "kappa": st.column_config.NumberColumn("Kappa", format="%.2f"),
                       "words": "In words"})
    places = agreement.places
    st.dataframe(pd.DataFrame({"place": places["place_name"],
                               "period": places["period"].str.capitalize(),
                               "auditors": places["auditors"], "audits": places["audits"]}),
                 hide_index=True, width="stretch",
                 column_config={"place": "Place", "period": "Day or night",
                                "auditors": "Audited by", "audits": "Audits"})
    st.caption(_left_out(audits) + " Each auditor counts once per walk (their latest audit); "
               "N/A and blank answers are not ratings.")


def show_drivers(drivers: list[ag.Driver], audits: pd.DataFrame) -> None:
    known = [d for d in drivers if d.rho is not None]
    if not known:
        st.info(f"Too few audits with both a principle and the feeling of safety answered: "
                f"{ag.MIN_AUDITS} are needed.")
        st.caption(_left_out(audits))
        return
    st.markdown("\n".join(f"- {md(d.words)}" for d in drivers))
    st.image(drivers_chart(drivers),
             caption="Rank correlation of each principle's score with feeling safe",
             alt="Dot chart of each principle's rank correlation with the feeling of safety, "
                 "from -1 to 1, with its 95% interval: " + "; ".join(
                     f"{d.principle} {d.rho:+.2f} ({d.low:+.2f} to {d.high:+.2f})"
                     for d in known) + ".")
    st.caption(_left_out(audits) + " Spearman's rank correlation over the audits, with a 95% "
               "interval (Fisher's z). It shows what goes together across audits, not what "
               "causes what, and audits of one place are not independent of each other.")


def show_where_next(audits: pd.DataFrame, zone: str) -> None:
    s = store()
    acting = role().value
    try:
        result = prescored(s.url, s.revision(), acting, pd.Timestamp.now(tz=zone).date()
                           .isoformat())
    except UnusableInputError as exc:
        st.info(md(exc))
        return
    now = pd.Timestamp.now(tz="UTC").to_pydatetime()
    todo = ps.where_to_audit(result, audits, now=now, top=10)
    st.write("Every street segment gets a pre-score from 0 to 100 from the data the app "
             "has: the higher, the more reason to walk it for an audit. "
             + " ".join(f"{md(ps.COMPONENTS[c])}." for c in result.used))
    for name, why in result.missing.items():
        st.caption(f"{md(ps.COMPONENTS[name])}: left out, {md(why)}.")
    st.caption("Each counts equally (no study gives weights); counts near a street are "
               f"within {ps.PrescoreSettings().near_m:.0f} m, per 100 m of street, ranked "
               "against the other streets. A guide to where to look, not an audit.")
    show_map(build_prescore_map(result.segments, todo), height=420, key="prescore-map",
             returned_objects=[], listed_elsewhere="the list below the map")
    st.subheader("Where to audit next")
    if todo.empty:
        st.write("Every street segment has a recent audit.")
    else:
        table: dict[str, Any] = {"street": todo["street"], "pre": todo["pre_score"].round(0)}
        labels = {"street": "Street", "pre": st.column_config.ProgressColumn(
            "Pre-score", min_value=0, max_value=100, format="%d")}
        for c in result.used:
            table[c] = (todo[c] * 100).round(0)
            labels[c] = st.column_config.NumberColumn(ps.COMPONENTS[c], format="%d",
                                                      help="0 to 100 for this component.")
        st.dataframe(pd.DataFrame(table), hide_index=True, width="stretch",
                     column_config=labels)
        st.caption("The segments with the highest pre-score and no audit with enough answers "
                   f"within {ps.PrescoreSettings().audit_radius_m:.0f} m in the last "
                   f"{ps.PrescoreSettings().recent_audit_days} days.")
    check = ps.check_against_audits(result, audits)
    st.subheader("Does the pre-score match what auditors found?")
    if check.rho is None:
        st.write(f"Not yet: {check.n} audited place(s) lie on a street segment; at least 3 are "
                 "needed for a rank correlation.")
        return
    agree = ("the pre-score pointed to the weaker places" if check.rho < 0 and
             (check.p_value or 1) < 0.05 else
             "the pre-score pointed the wrong way" if check.rho > 0 and
             (check.p_value or 1) < 0.05 else "no clear agreement yet")
    st.write(f"Over {check.n} audited places, the rank correlation between the pre-score and "
             f"the overall audit score is {check.rho:+.2f} (Spearman; p = "
             f"{check.p_value:.2f}): {agree}. A high pre-score means more reason to audit "
             "and a high audit score a better place, so agreement shows as a negative "
             "correlation.")
    pairs = check.pairs.rename(columns={"place_name": "Place", "street": "Street",
                                        "pre_score": "Pre-score", "overall": "Audit score"})
    said = ("Scatter chart of the audited places, the street pre-score (0 to 100) across and "
            "the latest overall audit score (0 to 100) up: " + "; ".join(
                f"{p} {a:.0f} against {b:.0f}" for p, a, b in zip(
                    pairs["Place"], pairs["Pre-score"], pairs["Audit score"], strict=True))
            + ".")
    # Altair rather than st.scatter_chart, so each dot names its place to a screen reader
    st.altair_chart(
        alt.Chart(pairs).mark_point(filled=True, size=60).encode(
            x=alt.X("Pre-score:Q", scale=alt.Scale(domain=[0, 100]),
                    title="Pre-score (higher: more reason to audit)"),
            y=alt.Y("Audit score:Q", scale=alt.Scale(domain=[0, 100]),
                    title="Overall audit score"),
            tooltip=[alt.Tooltip("Place:N"), alt.Tooltip("Street:N"),
                     alt.Tooltip("Pre-score:Q", format=".0f"),
                     alt.Tooltip("Audit score:Q", format=".0f")]),
        width="stretch", alt=said)
    st.caption("One dot per audited place: its latest audit with enough answers against the "
               "pre-score of the street segment it lies on.")
