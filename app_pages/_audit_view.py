"""How a scored audit is shown, on the audit form after saving and on the Audits page."""

from __future__ import annotations

import streamlit as st

from app_pages._text import md
from cpted import i18n
from cpted.i18n import _
from cpted.reports import score_chart
from cpted.scoring import Scorecard, label_words


def _of_100(score: float | None) -> str:
    """``"50 / 100"`` with the number written the language's way; ``"–"`` for none."""
    return "–" if score is None else _("{score} / 100").format(score=i18n.number(round(score)))


def show_scorecard(card: Scorecard, weights_note: str) -> None:
    c1, c2, c3 = st.columns(3)
    c1.metric(_("Overall (design)"), _of_100(card.rated_overall),
              help=_("Mean of the design principles' scores; each principle is the mean of "
                     "its answered items on 0-100. Rated only when at least half of the "
                     "items that apply were answered."))
    c1.caption(md(label_words(card.label) if card.enough_answers
                  else _("{label}: {note}.").format(label=label_words(card.label),
                                                    note=card.coverage_note)))
    c2.metric(_("Confidence"), i18n.percent(card.confidence),
              help=_("Share of the items that apply at this time of day that were answered."))
    c2.caption(md(label_words(card.confidence_label)))
    c3.metric(_("Feeling of safety"), _of_100(card.outcome),
              help=_("The outcome items, kept out of the overall score so the two can be "
                     "compared."))
    if not card.enough_answers:
        st.info(_("Too few items were answered for an overall score. The principle scores "
                  "below come from the few answers given; edit the audit to answer more."))
    scores = "; ".join(
        _("{principle} {score}").format(principle=_(p.principle.name),
                                        score=i18n.number(round(p.score)))
        if p.score is not None else
        _("{principle} not answered").format(principle=_(p.principle.name))
        for p in card.principles)
    st.image(score_chart(card),  # it names the principles in the language in use
             caption=_("Scores by principle (0-100)"),
             alt=_("Bar chart of the scores by principle, 0 to 100: {scores}.").format(
                 scores=scores))
    st.caption(md(_(weights_note)))
    st.subheader(_("Recommendations"))
    if not card.recommendations:
        st.write(_("None: no item was answered low."))
    for n, r in enumerate(card.recommendations, 1):
        kind = _(":green[Quick win]") if r.quick_win else _(":orange[Capital]")
        st.markdown(_("{n}. {kind} {text}  \n   <small>{question} Answer: {answer}</small>"
                      ).format(n=n, kind=kind, text=_md(_(r.text)),
                               question=_md(_(r.item.question)),
                               answer=_md(r.item.label(r.answer))),
                    unsafe_allow_html=True)


def _md(text: str) -> str:
    """User or instrument text, escaped for markdown and HTML (see :func:`app_pages._text.md`)."""
    return md(text)
