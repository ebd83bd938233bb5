"""Change log: who changed what and when (statuses, merges, deletions, roles, imports)."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from app_pages._state import access, tz
from app_pages._text import md
from app_pages._words import ROLES, word
from cpted import i18n
from cpted.access import PermissionDeniedError
from cpted.i18n import _
from layers.csvsafe import csv_text

me = access()
st.title(_("Change log"))
try:
    trail = me.audit_trail(limit=5000)
except PermissionDeniedError as exc:
    st.info(_("The change log is for coordinators and administrators ({why}).").format(
        why=md(exc)))
    st.stop()
st.caption(_("Every status change, merge, deletion, import, category or instrument edit, and "
             "account or role change, with who made it. Entries are written in the same "
             "transaction as the change itself and are never edited."))
if trail.empty:
    st.info(_("Nothing has been changed yet."))
    st.stop()

left, mid, right = st.columns(3)
actions = sorted(trail["action"].unique())
chosen = left.multiselect(_("What"), actions, default=actions)
people = sorted(trail["actor"].unique())
who = mid.multiselect(_("Who"), people, default=people)
target = right.text_input(_("Record (id contains)"),
                          placeholder=_("e.g. {example}").format(example="CR-2026"))
shown = trail[trail["action"].isin(chosen) & trail["actor"].isin(who)]
if target.strip():
    shown = shown[shown["target_id"].str.contains(target.strip(), case=False, regex=False)]


def summary(detail: str | None) -> str:
    """The detail as "key: value" pairs, for reading rather than parsing."""
    if not detail:
        return ""
    items = json.loads(detail)
    parts = []
    if "from" in items and "to" in items:
        parts.append(f"{items.pop('from')} → {items.pop('to')}")
    if "note" in items:
        parts.append(f"“{items.pop('note')}”")
    parts += [f"{k}: {', '.join(map(str, v)) if isinstance(v, list) else v}"
              for k, v in items.items()]
    return "; ".join(parts)


st.metric(_("Changes shown"), i18n.number(len(shown)))
by_day = (shown.assign(day=shown["at"].dt.tz_convert(tz()).dt.date)
          .groupby(["day", "action"]).size().unstack(fill_value=0))
if len(by_day) > 1:
    st.bar_chart(by_day, height=220, x_label=_("day"), y_label=_("changes"),
                 alt=_("Bar chart of the changes per day, {first} to {last}, by kind; they "
                       "are listed in the table below.").format(
                     first=i18n.day(by_day.index[0]), last=i18n.day(by_day.index[-1])))
table = pd.DataFrame({
    "When": shown["at"].dt.tz_convert(tz()).dt.strftime("%Y-%m-%d %H:%M:%S"),
    "Who": shown["actor"], "Role": [word(ROLES.get(r, r)) for r in shown["actor_role"]],
    "What": shown["action"],
    "Record": shown["target_kind"] + " " + shown["target_id"],
    "Details": [summary(d) for d in shown["detail"]],
})
labels = {"When": _("When"), "Who": _("Who"), "Role": _("Role"), "What": _("What"),
          "Record": _("Record"), "Details": _("Details")}
st.dataframe(table, hide_index=True, width="stretch",
             column_config={**labels,
                            "Details": st.column_config.TextColumn(labels["Details"],
                                                                   width="large")})
st.download_button(_("Download as CSV"), csv_text(table.rename(columns=labels)).encode(),
                   file_name="change-log.csv", mime="text/csv")
