"""Progress: the measures of success per neighborhood and month, as charts for a meeting."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import streamlit as st

from app_pages._state import access, door_for, layer, refusal, role, store, tz
from app_pages._text import md
from cpted import progress as pg
from cpted import progress_charts as pc
from cpted import reports
from cpted.outcomes import CAVEATS
from layers.errors import CptedError
from layers.schema import Layer

s = store()
zone = tz()
st.title("Progress")
st.write("What changed, month by month, in each neighborhood: reports and how fast they "
         "close, action plans, audit scores, night-time concerns near repaired lights, and "
         "how safe people say they feel. Each chart downloads as a picture for a meeting.")
hoods = layer(Layer.NEIGHBORHOODS)
if hoods.empty:
    st.info("No neighborhoods are stored. Import a neighborhoods layer on the Import page.")
    st.stop()
today = datetime.now(UTC).date().isoformat()


@st.cache_data(show_spinner="Counting the months...", max_entries=8)
def progress_for(url: str, revision: int, role: str, day: str) -> pg.Progress:
    """The measures as anyone in ``role`` may see them (cached on the store's revision and
    the day, which moves the current month)."""
    return door_for(url, role).progress()


@st.cache_data(show_spinner=False, max_entries=128)
def chart(url: str, revision: int, role: str, day: str, neighborhood_id: str, key: str,
          last: int | None, _progress: pg.Progress) -> bytes:
    return pc.chart_png(_progress, neighborhood_id, key, last=last)


acting = role().value
p = progress_for(s.url, s.revision(), acting, today)
names = p.names
c1, c2 = st.columns([2, 1])
nid = c1.selectbox("Neighborhood", list(names), format_func=names.get, key="progress-hood")
spans = {12: "12 months", 24: "24 months", 0: "All months"}
last = c2.radio("Months shown", list(spans), format_func=spans.get, horizontal=True,
                key="progress-span") or None
months = p.of(nid)
if last is not None:
    months = months.iloc[-last:]
st.caption(f"{md(names[nid])}, {pc.month_label(months.index[0])} to "
           f"{pc.month_label(months.index[-1])}, months in {md(zone)}. The current month is "
           "counted so far.")

if len(months) >= 2:
    full, before = months.iloc[-2], months.iloc[-3] if len(months) >= 3 else None
    st.write(f"**Last full month: {pc.month_label(months.index[-2])}**")
    m1, m2, m3, m4 = st.columns(4)

    def delta(column: str, *, scale: float = 1.0, fmt: str = "{:+,.0f}") -> str | None:
        """The change from the month before, or None when either month has no value."""
        if before is None or pd.isna(full[column]) or pd.isna(before[column]):
            return None
        return fmt.format((full[column] - before[column]) * scale)

    m1.metric("Reports opened", f"{int(full['opened']):,}", delta=delta("opened"),
              delta_color="off")
    m2.metric("Reports closed", f"{int(full['closed']):,}", delta=delta("closed"))
    share = full["closed_within_target"]
    m3.metric("Closed within target", "–" if pd.isna(share) else f"{share:.0%}",
              delta=delta("closed_within_target", scale=100, fmt="{:+.0f} points"),
              help="Of the reports whose category's target time ended in the month, the share "
                   "closed by then")
    feel = full["safe_mean"]
    m4.metric("Feeling safe after dark", "–" if pd.isna(feel) else f"{feel:.1f} of 5",
              delta=delta("safe_mean", fmt="{:+.1f}"),
              help=f"Mean survey answer, 1 very unsafe to 5 very safe; "
                   f"{int(full['survey_answers']):,} answers (a mean needs "
                   f"{pg.MIN_SURVEY_ANSWERS})")

for item in pc.CHARTS:
    st.subheader(item.title)
    png = chart(s.url, s.revision(), acting, today, nid, item.key, last, p)
    st.image(png, caption=item.caption, width="stretch", alt=item.title)
    st.download_button("Download this chart (PNG)", png, file_name=f"{nid}-{item.key}.png",
                       mime="image/png", key=f"png-{item.key}", icon=":material/download:")
st.warning(CAVEATS)

st.subheader("Every month in numbers")
table = pc.month_table(p, nid, last=last)
whole = {"format": "%d"}
config = {label: st.column_config.NumberColumn(label, **whole)
          for key, label in pg.MEASURES.items() if key in pg.COUNTS}
config |= {pg.MEASURES[k]: st.column_config.NumberColumn(pg.MEASURES[k], format=f)
           for k, f in (("median_days_to_close", "%.1f"), ("closed_within_target", "%.0f%%"),
                        ("audit_score", "%.0f"), ("safe_mean", "%.2f"), ("safe_low", "%.2f"),
                        ("safe_high", "%.2f"), ("knows_contact", "%.0f%%"),
                        ("knows_low", "%.0f%%"), ("knows_high", "%.0f%%"))}
st.dataframe(table, hide_index=True, width="stretch", column_config=config)
st.download_button("Download the table (CSV)", table.to_csv(index=False).encode(),
                   file_name=f"progress-{nid}.csv", mime="text/csv", key="progress-csv")

st.subheader("For the meeting")
st.write("The neighborhood brief (PDF) holds these charts and the last six months' numbers, "
         "with the audits and open concerns; made from what the public may see.")
if st.button("Make the brief", key="progress-brief"):
    try:
        with st.spinner("Drawing the brief..."):
            b = access().neighborhood_brief(nid)
            pdf = reports.brief_pdf(b, tz=zone)
    except CptedError as exc:
        refusal(exc)
    else:
        st.download_button("Download the brief (PDF)", pdf, file_name=f"brief-{nid}.pdf",
                           mime="application/pdf", key="progress-brief-pdf")
st.caption("How these are counted: a report counts in the neighborhood where it is shown; "
           "closed within target judges each report once, in the month its category's target "
           "ended, so reports still open past it count as missed; plans are placed at their "
           "problem spot or first report; audit scores count only audits with enough answers "
           "to rate; the survey's ranges are 95% intervals (t for the mean feeling, Wilson for "
           "the share who know whom to contact).")
