"""How a scored audit is shown, on the audit form after saving and on the Audits page."""

from __future__ import annotations

import streamlit as st

from app_pages._text import md
from cpted.reports import score_chart
from cpted.scoring import Scorecard


def show_scorecard(card: Scorecard, weights_note: str) -> None:
    c1, c2, c3 = st.columns(3)
    shown = card.rated_overall
    c1.metric("Overall (design)", "–" if shown is None else f"{shown:.0f} / 100",
              help="Mean of the design principles' scores; each principle is the mean of its "
                   "answered items on 0-100. Rated only when at least half of the items "
                   "that apply were answered.")
    c1.caption(md(card.label if card.enough_answers
                  else f"{card.label}: {card.coverage_note}."))
    c2.metric("Confidence", f"{card.confidence:.0%}",
              help="Share of the items that apply at this time of day that were answered.")
    c2.caption(md(card.confidence_label))
    c3.metric("Feeling of safety", "–" if card.outcome is None else f"{card.outcome:.0f} / 100",
              help="The outcome items, kept out of the overall score so the two can be "
                   "compared.")
    if not card.enough_answers:
        st.info("Too few items were answered for an overall score. The principle scores "
                "below come from the few answers given; edit the audit to answer more.")
    st.image(score_chart(card), caption="Scores by principle (0-100)",
             alt="Bar chart of the scores by principle, 0 to 100: " + "; ".join(
                 f"{p.principle.name} {p.score:.0f}" if p.score is not None
                 else f"{p.principle.name} not answered" for p in card.principles) + ".")
    st.caption(md(weights_note))
    st.subheader("Recommendations")
    if not card.recommendations:
        st.write("None: no item was answered low.")
    for n, r in enumerate(card.recommendations, 1):
        kind = ":green[Quick win]" if r.quick_win else ":orange[Capital]"
        st.markdown(f"{n}. {kind} {_md(r.text)}  \n"
                    f"   <small>{_md(r.item.question)} Answer: {_md(r.item.label(r.answer))}"
                    "</small>", unsafe_allow_html=True)


def _md(text: str) -> str:
    """User or instrument text, escaped for markdown and HTML (see :func:`app_pages._text.md`)."""
    return md(text)
