"""Progress: the measures of success per neighborhood and month, as charts for a meeting."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import streamlit as st
from babel import dates

from app_pages._state import access, door_for, layer, refusal, role, store, tz
from app_pages._text import md
from app_pages._words import CAVEATS, CHARTS, LEVEL, measure
from cpted import i18n, reports
from cpted import progress as pg
from cpted import progress_charts as pc
from cpted.i18n import _, ngettext
from layers.errors import CptedError
from layers.schema import Layer

s = store()
zone = tz()
st.title(_("Progress"))
st.write(_("What changed, month by month, in each neighborhood: reports and how fast they "
           "close, action plans, audit scores, night-time concerns near repaired lights, and "
           "how safe people say they feel. Each chart downloads as a picture for a meeting."))
hoods = layer(Layer.NEIGHBORHOODS)
if hoods.empty:
    st.info(_("No neighborhoods are stored. Import a neighborhoods layer on the Import page."))
    st.stop()
today = datetime.now(UTC).date().isoformat()


def month_label(month: pd.Period) -> str:
    """``Mar 2025`` (``mar 2025``): a month as a meeting reads it, in the language in use."""
    return dates.format_skeleton("yMMM", month.to_timestamp(), locale=i18n.current())


@st.cache_data(show_spinner=False, max_entries=8)
def progress_for(url: str, revision: int, role: str, day: str) -> pg.Progress:
    """The measures as anyone in ``role`` may see them (cached on the store's revision and
    the day, which moves the current month)."""
    return door_for(url, role).progress()


@st.cache_data(show_spinner=False, max_entries=128)
def chart(url: str, revision: int, role: str, day: str, neighborhood_id: str, key: str,
          last: int | None, language: str, _progress: pg.Progress) -> bytes:
    """A chart's picture, whose drawn words are in ``language`` (the one in use)."""
    return pc.chart_png(_progress, neighborhood_id, key, last=last)


acting = role().value
with st.spinner(_("Counting the months...")):
    p = progress_for(s.url, s.revision(), acting, today)
names = p.names
c1, c2 = st.columns([2, 1])
nid = c1.selectbox(_("Neighborhood"), list(names), format_func=names.get, key="progress-hood")
spans = {12: _("12 months"), 24: _("24 months"), 0: _("All months")}
last = c2.radio(_("Months shown"), list(spans), format_func=spans.get, horizontal=True,
                key="progress-span") or None
months = p.of(nid)
if last is not None:
    months = months.iloc[-last:]
st.caption(_("{neighborhood}, {first} to {last}, months in {zone}. The current month is "
             "counted so far.").format(neighborhood=md(names[nid]),
                                       first=month_label(months.index[0]),
                                       last=month_label(months.index[-1]), zone=md(zone)))

if len(months) >= 2:
    full, before = months.iloc[-2], months.iloc[-3] if len(months) >= 3 else None
    st.write(_("**Last full month: {month}**").format(month=month_label(months.index[-2])))
    m1, m2, m3, m4 = st.columns(4)

    def delta(column: str, *, scale: float = 1.0, digits: int = 0,
              points: bool = False) -> str | None:
        """The change from the month before, signed, or None when either month has no
        value."""
        if before is None or pd.isna(full[column]) or pd.isna(before[column]):
            return None
        change = round(float((full[column] - before[column]) * scale), digits) + 0.0
        signed = ("+" if change >= 0 else "-") + i18n.number(abs(change), digits=digits)
        return _("{change} points").format(change=signed) if points else signed

    m1.metric(_("Reports opened"), i18n.number(int(full["opened"])), delta=delta("opened"),
              delta_color="off")
    m2.metric(_("Reports closed"), i18n.number(int(full["closed"])), delta=delta("closed"))
    share = full["closed_within_target"]
    m3.metric(_("Closed within target"), "–" if pd.isna(share) else i18n.percent(share),
              delta=delta("closed_within_target", scale=100, points=True),
              help=_("Of the reports whose category's target time ended in the month, the "
                     "share closed by then"))
    feel = full["safe_mean"]
    m4.metric(_("Feeling safe after dark"),
              "–" if pd.isna(feel) else _("{mean} of 5").format(
                  mean=i18n.number(feel, digits=1)),
              delta=delta("safe_mean", digits=1),
              help=ngettext("Mean survey answer, 1 very unsafe to 5 very safe; {n} answer "
                            "(a mean needs {least})",
                            "Mean survey answer, 1 very unsafe to 5 very safe; {n} answers "
                            "(a mean needs {least})", int(full["survey_answers"])).format(
                  n=i18n.number(int(full["survey_answers"])),
                  least=i18n.number(pg.MIN_SURVEY_ANSWERS)))

for item in pc.CHARTS:
    title, caption = (_(w) for w in CHARTS.get(item.key, (item.title, item.caption)))
    st.subheader(title)
    png = chart(s.url, s.revision(), acting, today, nid, item.key, last, i18n.current(), p)
    st.image(png, caption=caption, width="stretch", alt=title)
    st.download_button(_("Download this chart (PNG)"), png, file_name=f"{nid}-{item.key}.png",
                       mime="image/png", key=f"png-{item.key}", icon=":material/download:")
st.warning(_(CAVEATS))

st.subheader(_("Every month in numbers"))
table = pc.month_table(p, nid, last=last)
# the same table with its month and column labels in the language in use
table["Month"] = [month_label(m) for m in months.index[::-1]]
labels = {"Month": _("Month"), **{v: measure(k, v) for k, v in pg.MEASURES.items()}}
table = table.rename(columns=labels)
whole = {"format": "%d"}
config = {labels[label]: st.column_config.NumberColumn(labels[label], **whole)
          for key, label in pg.MEASURES.items() if key in pg.COUNTS}
config |= {labels[pg.MEASURES[k]]: st.column_config.NumberColumn(labels[pg.MEASURES[k]],
                                                                  format=f)
           for k, f in (("median_days_to_close", "%.1f"), ("closed_within_target", "%.0f%%"),
                        ("audit_score", "%.0f"), ("safe_mean", "%.2f"), ("safe_low", "%.2f"),
                        ("safe_high", "%.2f"), ("knows_contact", "%.0f%%"),
                        ("knows_low", "%.0f%%"), ("knows_high", "%.0f%%"))}
st.dataframe(table, hide_index=True, width="stretch", column_config=config)
st.download_button(_("Download the table (CSV)"), table.to_csv(index=False).encode(),
                   file_name=f"progress-{nid}.csv", mime="text/csv", key="progress-csv")

st.subheader(_("For the meeting"))
st.write(_("The neighborhood brief (PDF) holds these charts and the last six months' "
           "numbers, with the audits and open concerns; made from what the public may see."))
if st.button(_("Make the brief"), key="progress-brief"):
    try:
        with st.spinner(_("Drawing the brief...")):
            b = access().neighborhood_brief(nid)
            pdf = reports.brief_pdf(b, tz=zone)
    except CptedError as exc:
        refusal(exc)
    else:
        st.download_button(_("Download the brief (PDF)"), pdf, file_name=f"brief-{nid}.pdf",
                           mime="application/pdf", key="progress-brief-pdf")
st.caption(_("How these are counted: a report counts in the neighborhood where it is shown; "
             "closed within target judges each report once, in the month its category's "
             "target ended, so reports still open past it count as missed; plans are placed "
             "at their problem spot or first report; audit scores count only audits with "
             "enough answers to rate; the survey's ranges are {level} intervals (t for the "
             "mean feeling, Wilson for the share who know whom to contact).").format(
                 level=i18n.percent(LEVEL)))
