"""The Audits page's analyses across audits: agreement between auditors, what goes with
feeling safe, and where to audit next (the street pre-score)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from app_pages._maps import show_map
from app_pages._state import door_for, role, store
from app_pages._text import md, value_word
from cpted import agreement as ag
from cpted import i18n
from cpted import prescore as ps
from cpted.agreement_charts import drivers_chart, kappa_chart, kappa_said
from cpted.assessments import SAME_PLACE_RADIUS_M
from cpted.i18n import N_, _, ngettext
from cpted.maps import build_prescore_map
from cpted.maps.prescore import component_words
from cpted.scoring import MIN_COVERAGE
from layers.errors import UnusableInputError

#: Why ``cpted.prescore`` leaves a component out (:attr:`~cpted.prescore.Prescore.missing`).
LEFT_OUT: frozenset[str] = frozenset({
    N_("there is no streetlight inventory to model the light from"),
    N_("there are no building footprints to see sightlines among"),
    N_("there are no parcels in the store"), N_("there are no concerns in the store"),
    N_("there are no incidents in the store")})


def said(text: str, known: frozenset[str] | set[str]) -> str:
    """``text`` in the language in use when it is one of ``known``, else as it is."""
    return _(text) if text in known else text


def driver_words(d: ag.Driver) -> str:
    """:attr:`cpted.agreement.Driver.words` in the language in use."""
    name = _(d.principle)
    if d.rho is None or d.low is None or d.high is None:
        return _("{principle}: too few audits ({n}) with both it and the feeling of safety "
                 "answered; {needed} are needed.").format(
            principle=name, n=i18n.number(d.n), needed=i18n.number(ag.MIN_AUDITS))
    figures = _("rank correlation {rho}, {level} interval {low} to {high}, {n} audits").format(
        rho=_signed(d.rho), level=i18n.percent(0.95), low=_signed(d.low),
        high=_signed(d.high), n=i18n.number(d.n))
    if d.low > 0:
        return _("Where {principle} scored higher, auditors felt safer ({figures}).").format(
            principle=name.lower(), figures=figures)
    if d.high < 0:
        return _("Where {principle} scored higher, auditors felt less safe ({figures})."
                 ).format(principle=name.lower(), figures=figures)
    return _("{principle}: no clear link with feeling safe; the interval includes no link "
             "at all ({figures}).").format(principle=name, figures=figures)


def _two(x: float) -> str:
    """A kappa or a correlation with two decimals, the language's way."""
    return i18n.number(x, digits=2)


def _signed(x: float) -> str:
    """``x`` with two decimals and its sign always written: ``"+0.45"``, ``"-0.12"``."""
    return ("-" if f"{x:+.2f}".startswith("-") else "+") + _two(abs(x))


@st.cache_data(show_spinner=False, max_entries=4)
def prescored(url: str, revision: int, acting: str, day: str) -> ps.Prescore:
    """The pre-score as ``acting`` may see the layers (cached on the store's revision and
    the day, which moves the incidents' window; the caller shows the spinner, in the
    page's language)."""
    return door_for(url, acting).prescore()


@st.cache_data(show_spinner=False, max_entries=8)
def across(url: str, revision: int, acting: str) -> tuple[ag.Agreement, list[ag.Driver]]:
    door = door_for(url, acting)
    return door.audit_agreement(), door.safety_drivers()


def _left_out(audits: pd.DataFrame) -> str:
    few = int((~audits["enough_answers"].astype(bool)).sum())
    share = i18n.percent(MIN_COVERAGE)
    if not few:
        return _("Every audit has enough answers to count (at least {share} of the items "
                 "that apply).").format(share=share)
    return ngettext("{n} audit with fewer than {share} of the items answered (\"not enough "
                    "answers\") is left out.",
                    "{n} audits with fewer than {share} of the items answered (\"not enough "
                    "answers\") are left out.", few).format(n=i18n.number(few), share=share)


def show_agreement(agreement: ag.Agreement, audits: pd.DataFrame) -> None:
    if not agreement.any:
        st.info(_("No place has been audited by two or more auditors on the same walk yet "
                  "(audits within {m} m of each other, at the same time of day, within "
                  "{days} days). Ask two groups to audit the same place on the same evening "
                  "to see whether they agree.").format(m=i18n.number(round(SAME_PLACE_RADIUS_M)),
                                                       days=i18n.number(ag.SAME_WALK_DAYS)))
        st.caption(_left_out(audits))
        return
    mean = agreement.overall()
    c1, c2 = st.columns(2)
    places_n, items_n = i18n.number(len(agreement.places)), i18n.number(len(agreement.items))
    c1.metric(_("Places audited by several auditors"), places_n)
    c2.metric(_("Mean agreement beyond chance"), "–" if mean is None else _two(mean),
              help=_("Fleiss' kappa per checklist item, averaged over the items: 0 is what "
                     "chance would give, 1 is every auditor always answering the same."))
    if mean is not None:
        word = ag.kappa_words(mean)
        st.write((_("On {places} places audited by several auditors on the same walk, their "
                    "answers agreed less often than chance would make them (Fleiss' kappa "
                    "{kappa} over {items} items): the checklist's questions may need clearer "
                    "wording or training.") if word.startswith("poor") else
                 _("On {places} places audited by several auditors on the same walk, the "
                   "agreement of their answers beyond chance was {word} on average (Fleiss' "
                   "kappa {kappa} over {items} items; words after Landis and Koch, 1977)."
                   )).format(places=places_n, word=kappa_said(word), kappa=_two(mean),
                            items=items_n))
    items = agreement.items
    weakest = items.dropna(subset=["kappa"]).sort_values("kappa").head(3)
    if len(weakest):
        st.write(_("Least agreement: {items}.").format(items="; ".join(
            f"{md(_(q))} ({_two(k)})" for q, k in zip(weakest["question"], weakest["kappa"],
                                                      strict=True))))
    st.image(kappa_chart(items.assign(principle=items["principle"].map(_),
                                      question=items["question"].map(_))),
             caption=_("Agreement beyond chance per checklist item"),
             alt=_("Bar chart of Fleiss' kappa per checklist item, from -1 to 1: {items}."
                   ).format(items="; ".join(
                       f"{_(q)} {_two(k)}" for q, k in zip(items["question"], items["kappa"],
                                                           strict=True) if k is not None)))
    st.dataframe(pd.DataFrame({
        "principle": items["principle"].map(_), "question": items["question"].map(_),
        "places": items["places"], "agreement": (items["agreement"] * 100).round(0),
        "kappa": items["kappa"].astype(float),
        "words": [kappa_said(w) for w in items["words"]]}),
        hide_index=True, width="stretch",
        column_config={"principle": _("Principle"), "question": _("Item"),
                       "places": _("Places"),
                       "agreement": st.column_config.NumberColumn(
                           _("Pairs agreeing"), format="%d%%",
                           help=_("The share of pairs of auditors at a place who gave the "
                                  "same answer.")),
                       "kappa": st.column_config.NumberColumn(_("Kappa"), format="%.2f"),
                       "words": _("In words")})
    places = agreement.places
    st.dataframe(pd.DataFrame({"place": places["place_name"],
                               "period": places["period"].map(value_word),
                               "auditors": places["auditors"], "audits": places["audits"]}),
                 hide_index=True, width="stretch",
                 column_config={"place": _("Place"), "period": _("Day or night"),
                                "auditors": _("Audited by"), "audits": _("Audits")})
    st.caption(_("{left_out} Each auditor counts once per walk (their latest audit); N/A and "
                 "blank answers are not ratings.").format(left_out=_left_out(audits)))


def show_drivers(drivers: list[ag.Driver], audits: pd.DataFrame) -> None:
    known = [d for d in drivers if d.rho is not None]
    if not known:
        st.info(_("Too few audits with both a principle and the feeling of safety answered: "
                  "{n} are needed.").format(n=i18n.number(ag.MIN_AUDITS)))
        st.caption(_left_out(audits))
        return
    st.markdown("\n".join(f"- {md(driver_words(d))}" for d in drivers))
    st.image(drivers_chart([replace(d, principle=_(d.principle)) for d in drivers]),
             caption=_("Rank correlation of each principle's score with feeling safe"),
             alt=_("Dot chart of each principle's rank correlation with the feeling of "
                   "safety, from -1 to 1, with its {level} interval: {principles}.").format(
                 level=i18n.percent(0.95),
                 principles="; ".join(
                     _("{principle} {rho} ({low} to {high})").format(
                         principle=_(d.principle), rho=_signed(d.rho), low=_signed(d.low),
                         high=_signed(d.high))
                     for d in known if d.rho is not None and d.low is not None
                     and d.high is not None)))
    st.caption(_("{left_out} Spearman's rank correlation over the audits, with a {level} "
                 "interval (Fisher's z). It shows what goes together across audits, not what "
                 "causes what, and audits of one place are not independent of each other."
                 ).format(left_out=_left_out(audits), level=i18n.percent(0.95)))


def show_where_next(audits: pd.DataFrame, zone: str) -> None:
    s = store()
    acting = role().value
    try:
        with st.spinner(_("Scoring every street segment…")):
            result = prescored(s.url, s.revision(), acting, pd.Timestamp.now(tz=zone).date()
                               .isoformat())
    except UnusableInputError as exc:
        st.info(md(exc))
        return
    now = pd.Timestamp.now(tz="UTC").to_pydatetime()
    todo = ps.where_to_audit(result, audits, now=now, top=10)
    settings = ps.PrescoreSettings()
    st.write(_("Every street segment gets a pre-score from 0 to 100 from the data the app "
               "has: the higher, the more reason to walk it for an audit. {components}"
               ).format(components=" ".join(f"{md(component_words(c))}." for c in result.used)))
    for name, why in result.missing.items():
        st.caption(_("{component}: left out, {why}.").format(component=md(component_words(name)),
                                                             why=md(said(why, LEFT_OUT))))
    st.caption(_("Each counts equally (no study gives weights); counts near a street are "
                 "within {m} m, per 100 m of street, ranked against the other streets. A "
                 "guide to where to look, not an audit.").format(
        m=i18n.number(round(settings.near_m))))
    show_map(build_prescore_map(result.segments, todo), height=420, key="prescore-map",
             returned_objects=[],
             listed_elsewhere=_("The same segments are listed below the map."))
    st.subheader(_("Where to audit next"))
    if todo.empty:
        st.write(_("Every street segment has a recent audit."))
    else:
        table: dict[str, Any] = {"street": todo["street"], "pre": todo["pre_score"].round(0)}
        labels = {"street": _("Street"), "pre": st.column_config.ProgressColumn(
            _("Pre-score"), min_value=0, max_value=100, format="%d")}
        for c in result.used:
            table[c] = (todo[c] * 100).round(0)
            labels[c] = st.column_config.NumberColumn(component_words(c), format="%d",
                                                      help=_("0 to 100 for this component."))
        st.dataframe(pd.DataFrame(table), hide_index=True, width="stretch",
                     column_config=labels)
        st.caption(_("The segments with the highest pre-score and no audit with enough "
                     "answers within {m} m in the last {days} days.").format(
            m=i18n.number(round(settings.audit_radius_m)),
            days=i18n.number(settings.recent_audit_days)))
    check = ps.check_against_audits(result, audits)
    st.subheader(_("Does the pre-score match what auditors found?"))
    if check.rho is None:
        st.write(ngettext("Not yet: {n} audited place lies on a street segment; at least 3 "
                          "are needed for a rank correlation.",
                          "Not yet: {n} audited places lie on a street segment; at least 3 "
                          "are needed for a rank correlation.", check.n).format(
            n=i18n.number(check.n)))
        return
    agree = (_("the pre-score pointed to the weaker places") if check.rho < 0 and
             (check.p_value or 1) < 0.05 else
             _("the pre-score pointed the wrong way") if check.rho > 0 and
             (check.p_value or 1) < 0.05 else _("no clear agreement yet"))
    st.write(_("Over {n} audited places, the rank correlation between the pre-score and the "
               "overall audit score is {rho} (Spearman; p = {p}): {agree}. A high pre-score "
               "means more reason to audit and a high audit score a better place, so "
               "agreement shows as a negative correlation.").format(
        n=i18n.number(check.n), rho=_signed(check.rho), p=_two(check.p_value or 0.0),
        agree=agree))
    # the frame's columns are the chart's fields and tooltip's names: in the page's words
    place, street, pre, score = _("Place"), _("Street"), _("Pre-score"), _("Audit score")
    pairs = check.pairs.rename(columns={"place_name": place, "street": street,
                                        "pre_score": pre, "overall": score})
    alt_text = _("Scatter chart of the audited places, the street pre-score (0 to 100) across "
                 "and the latest overall audit score (0 to 100) up: {places}.").format(
        places="; ".join(_("{place} {pre} against {score}").format(
            place=p, pre=i18n.number(round(a)), score=i18n.number(round(b)))
            for p, a, b in zip(pairs[place], pairs[pre], pairs[score], strict=True)))
    # Altair rather than st.scatter_chart, so each dot names its place to a screen reader
    st.altair_chart(
        alt.Chart(pairs).mark_point(filled=True, size=60).encode(
            x=alt.X(f"{pre}:Q", scale=alt.Scale(domain=[0, 100]),
                    title=_("Pre-score (higher: more reason to audit)")),
            y=alt.Y(f"{score}:Q", scale=alt.Scale(domain=[0, 100]),
                    title=_("Overall audit score")),
            tooltip=[alt.Tooltip(f"{place}:N"), alt.Tooltip(f"{street}:N"),
                     alt.Tooltip(f"{pre}:Q", format=".0f"),
                     alt.Tooltip(f"{score}:Q", format=".0f")]),
        width="stretch", alt=alt_text)
    st.caption(_("One dot per audited place: its latest audit with enough answers against "
                 "the pre-score of the street segment it lies on."))
