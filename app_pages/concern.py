"""One concern: what was reported, its support, photos, and every status change with its reason."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st
from pyproj import Geod

from app_pages._maps import show_place
from app_pages._state import (
    access,
    category_names,
    door_for,
    refusal,
    sentence,
    services,
    settings,
    store,
    tz,
)
from app_pages._text import md
from cpted import concerns as cc
from cpted import fixed as fx
from cpted import follows as fl
from cpted.access import Action, can
from layers.errors import ConflictError, CptedError
from layers.schema import DetailedStatus, Layer

s = store()
me = access()
acting = me.actor.role
staff = can(acting, Action.CHANGE_STATUS)
zone = tz()
names = category_names()
st.title("Concern")

#: What each kind of event in a report's history is called on the page.
EVENT_WORDS = {"created": "Reported", "support": "Me too", "status": "Status changed",
               "reopened": "Reopened", "linked": "Linked", "plan": "Action plan"}
#: Who is recorded for a report, a "me too" or a "not fixed" made without an account.
ACTOR_WORDS = {"resident": "A resident", fx.FOLLOWER: "A follower (by e-mail)"}


def status_word(value: object) -> str:
    """A status as a word for the page: ``"action scheduled"`` -> ``"Action scheduled"``."""
    return str(value).capitalize() if isinstance(value, str) and value else ""


def local_time(value: object) -> str:
    """A stored time (UTC, a timestamp or ISO text) as ``YYYY-MM-DD HH:MM`` in the app's
    zone; ``""`` when there is none, the text itself when it is not a time."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    try:
        t = pd.Timestamp(value)
    except (TypeError, ValueError):
        return str(value)
    if pd.isna(t):
        return ""
    return (t.tz_localize("UTC") if t.tzinfo is None else t).tz_convert(zone).strftime(
        "%Y-%m-%d %H:%M")


def answer_text(value: Any) -> str:
    """An answer to a category question in words (yes/no, lists joined)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def text(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


#: How many reports the picker lists at once (newest first); a search narrows the rest.
SHOWN = 100


@st.cache_resource(show_spinner=False, max_entries=8)
def report_index(url: str, revision: int, role: str, zone: str) -> pd.DataFrame:
    """Every report as ``role`` sees it, newest first, with its picker label and the
    text a search looks in (id, category, address): built once per store revision, and
    never changed by a page (it is shared, not copied)."""
    seen = door_for(url, role).layer(Layer.CONCERNS)
    seen = seen.sort_values("requested_datetime", ascending=False)
    names = category_names()
    category = [names.get(c) or n or "Concern"
                for c, n in zip(seen["service_code"], seen["service_name"], strict=True)]
    day = seen["requested_datetime"].dt.tz_convert(zone).dt.strftime("%Y-%m-%d")
    ids = seen["service_request_id"].astype(str)
    address = seen["address"].where(seen["address"].notna(), "").astype(str)
    empty = seen.geometry.isna() | seen.geometry.is_empty
    return pd.DataFrame({
        "id": ids.to_numpy(),
        "label": [f"{i} · {c} · reported {d}" for i, c, d in zip(ids, category, day,
                                                                  strict=True)],
        "text": (ids + " " + pd.Series(category, index=seen.index) + " " + address)
        .str.lower().to_numpy(),
        "lon": seen.geometry.x.where(~empty).to_numpy(),
        "lat": seen.geometry.y.where(~empty).to_numpy(),
    })


index = report_index(s.url, s.revision(), acting.value, zone)
if index.empty:
    st.info("No concerns are stored yet.")
    st.stop()
labels = dict(zip(index["id"], index["label"], strict=True))
# a link in a message or a feed names the report: /concern?report=CR-...
if (linked := st.query_params.get("report")) is not None:
    if linked in labels:
        st.session_state["concern_id"] = linked
    del st.query_params["report"]
default = st.session_state.get("concern_id")
find = st.text_input(
    "Find a report", key="concern_find", placeholder="Its id, category or address",
    help=f"The list below shows the newest {SHOWN} reports that match.")
words = find.strip().lower()
matches = index[index["text"].str.contains(words, regex=False)] if words else index
ids = matches["id"].head(SHOWN).tolist()
if words and not ids:
    st.caption(f"No report matches “{md(find.strip())}”.")
if default in labels and default not in ids:
    ids.insert(0, default)  # the report open now stays in the list
if not ids:
    ids = index["id"].head(SHOWN).tolist()
picked = st.selectbox(
    "Concern", ids, index=ids.index(default) if default in ids else 0,
    format_func=labels.__getitem__,
    help=f"Newest first; {len(matches):,} of {len(index):,} reports match"
         + (f", the newest {SHOWN} listed." if len(matches) > SHOWN else "."))
st.session_state["concern_id"] = picked
row = me.concern(picked)
# The version this person has seen: a status change is saved only over that version, so a
# change someone else made meanwhile is never overwritten unseen.
seen_versions = st.session_state.setdefault("seen_versions", {})
seen_versions.setdefault(picked, row["version"])
category = names.get(row["service_code"]) or row["service_name"] or "Concern"
# The access layer decided what this viewer sees: the place (moved to its grid cell for the
# public on a sensitive category) and which texts are blank.
approximate = row["location_precision"] != "exact"

h = me.history(picked)
support = int((h["kind"] == "support").sum())

when = {"day": "a daytime problem", "night": "a night-time problem"}.get(
    row["time_of_day"], "time of day not known")
# A line of words, not metric tiles: the map below waits for every element above it to
# draw, and tiles would hold it back by their own scripts.
st.markdown(f"**{md(category)}** · reported {local_time(row['requested_datetime'])} · {when}")
open_word = "open" if row["status"] == "open" else "closed"
st.markdown(f"Status: **{md(status_word(row['detailed_status'] or row['status']))}** "
            f"({open_word}) · {support} {'supporter' if support == 1 else 'supporters'} "
            "(people who said \"me too\") · every change is listed below under "
            "\"What was done, and why\"")
if can(acting, Action.SEE_INTERNAL_NOTES):
    answered = me.fixed_answer_counts(picked)
    if answered.yes or answered.no:
        st.caption(f"“{fx.QUESTION}” asked of its followers when it was marked fixed: "
                   f"{answered.latest_yes} yes, {answered.latest_no} no after the latest fix"
                   + (f" ({answered.yes} yes, {answered.no} no in all)"
                      if (answered.yes, answered.no) != (answered.latest_yes,
                                                         answered.latest_no) else "")
                   + ". Staff only; who answered is never shown.")

point = row.get("geometry")
left_map, right_text = st.columns([1, 1])
with left_map:
    if point is None or point.is_empty:
        st.caption("No place was recorded for this report.")
    else:
        show_place((point.x, point.y), what=category,
                   approximate_m=settings().sensitive_grid_m if approximate else None)
        st.caption("Shown only as an approximate area, to protect the people involved: the "
                   "report lies somewhere inside the circle." if approximate
                   else "The marker is where the problem was reported.")
with right_text:
    if approximate:
        st.caption("The description, address, answers, photos and notes of this kind of "
                   "report are seen by staff only.")
    else:
        st.text(text(row["description"]) or "(no description)")
    if text(row["address"]):
        st.caption(f"Address: {md(row['address'])}")
    if text(row["attributes"]):
        service = services().get(row["service_code"])
        questions = {a.code: a.description or a.code
                     for a in (service.attributes if service else ())}
        for code, answer in json.loads(row["attributes"]).items():
            if answer in (None, "", []):
                continue
            if code == "observed_at":
                st.caption(f"Seen on: {local_time(answer)}")
                continue
            label = questions.get(code, code.replace("_", " ").capitalize())
            st.caption(f"{md(label)}: {md(answer_text(answer))}")
for _media_type, data in me.photos(picked):
    st.image(data, caption="Photo (location and camera details removed)", width=360,
             alt=f"Photo sent with this {category.lower()} report")
if can(acting, Action.SEE_CONTACT):
    contact = me.contact(picked) or {}
    with st.expander("Reporter contact (staff only)"):
        given = [f"{label}: {contact[key]}" for key, label in
                 (("name", "Name"), ("email", "E-mail"), ("phone", "Phone")) if contact.get(key)]
        st.text("\n".join(given) if given else "Anonymous report.")

st.subheader("What was done, and why")
if h.empty:
    st.caption("No history recorded (imported report).")
else:
    shown = pd.DataFrame({
        "at": h["at"].dt.tz_convert(zone).dt.strftime("%Y-%m-%d %H:%M"),
        "kind": [EVENT_WORDS.get(k, status_word(k)) for k in h["kind"]],
        # who is recorded for a report or a "me too" without an account
        "actor": [ACTOR_WORDS.get(a, a or "") for a in h["actor"]],
        "change": [(f"{status_word(a)} → {status_word(b)}" if a else status_word(b))
                   if b else "" for a, b in zip(h["from_status"], h["to_status"], strict=True)],
        "note": [n if isinstance(n, str) else "" for n in h["note"]],
    })
    shown["visibility"] = [("everyone" if v == "public" else "staff only") if n else ""
                           for v, n in zip(h["visibility"], shown["note"], strict=True)]
    # who acted is shown to staff only: for others the column would be empty
    columns = ["at", "kind", *(["actor"] if any(shown["actor"]) else []), "change", "note",
               *(["visibility"] if staff else [])]
    st.dataframe(shown[columns], hide_index=True,
                 width="stretch",
                 column_config={"at": f"When ({zone})", "kind": "What", "actor": "Who",
                                "visibility": "Note seen by",
                                "change": "Status", "note": st.column_config.TextColumn(
                                    "Note", width="large")})

# Widget keys carry the report and a count of saves, so that after a save the forms start
# afresh: the status on the one just saved, the note and the comment empty.
saves = st.session_state.setdefault("concern_saves", 0)
left, right = st.columns(2)
#: What the page says once a follow is asked for (the same whether or not the address
#: followed this already, so the page never tells).
CHECK_INBOX = ("Check your inbox: a message with a link to confirm is on its way. Nothing "
               "is sent until you click it, and every message has a link to stop them.")


def follow(address: str, where: Any) -> bool:
    """Follow this report for ``address``; a refusal is shown at ``where``, beside the
    e-mail field. Whether it was asked for."""
    try:
        me.follow_report(picked, address)
    except fl.FollowError as exc:
        where.error(md(sentence(" ".join(exc.fields.get("email", [])) or str(exc))))
        return False
    except CptedError as exc:
        where.error(md(sentence(str(exc))))
        return False
    return True


with left, st.form("support"):
    st.markdown("**Me too**: this affects me as well.")
    note = st.text_input("Comment (optional)", max_chars=cc.MAX_NOTE_CHARS,
                         key=f"support-note-{picked}-{saves}")
    if row["sensitive"]:
        st.caption("Comments on this kind of report are seen by staff only.")
    else:
        st.caption("Your comment is shown publicly with this report.")
    also = st.text_input("E-mail me when its status changes (optional)",
                         key=f"support-follow-{picked}-{saves}", placeholder="name@example.org")
    also_error = st.empty()
    if st.form_submit_button("Add my support"):
        problems = fl.email_problems(also) if also.strip() else []
        if problems:  # checked first, so that a typo does not count a support without it
            also_error.error(md(sentence(problems[0])))
        else:
            try:
                n = me.support(picked, note or None)
            except CptedError as exc:
                st.error(md(exc))
            else:
                followed = bool(also.strip()) and follow(also, also_error)
                st.session_state["concern_saves"] = saves + 1
                st.session_state["status_flash"] = (
                    f"Thank you: this report now has {n} supporter{'s' if n != 1 else ''}."
                    + (f" {CHECK_INBOX}" if followed else ""))
                if not also.strip() or followed:
                    st.rerun()
with right:
    if not staff:
        st.caption("Status changes are made by coordinators and city staff.")
    else:
        with st.form("status"):
            st.markdown("**Change the status**: every change needs a note saying what was "
                        "done and why.")
            current = row["detailed_status"]
            statuses = [x.value for x in DetailedStatus]
            new = st.selectbox(
                "New status", statuses,
                index=statuses.index(current) if current in statuses else 0,
                format_func=lambda v: status_word(v) + (" (current)" if v == current else ""),
                key=f"status-new-{picked}-{saves}")
            why = st.text_area("Note (required)", max_chars=cc.MAX_NOTE_CHARS,
                               key=f"status-note-{picked}-{saves}")
            visibility = st.radio(
                "Who may read the note", ["internal", "public"],
                index=0 if row["sensitive"] else 1, horizontal=True,
                format_func={"internal": "Staff only", "public": "Everyone"}.get,
                key=f"status-visibility-{picked}-{saves}",
                help="Staff-only notes never reach public pages, exports or messages. On a "
                     "sensitive category the public never sees any note.")
            st.caption(f"Recorded as {md(me.actor.name)}.")
            if st.form_submit_button("Save status", type="primary"):
                try:
                    version = me.change_status(picked, new, why, visibility=visibility,
                                               expected_version=seen_versions[picked])
                except ConflictError as exc:
                    st.error(md(exc))
                    st.session_state["stale"] = picked
                except CptedError as exc:
                    refusal(exc)
                else:
                    seen_versions[picked] = version
                    st.session_state["concern_saves"] = saves + 1
                    st.session_state["status_flash"] = (
                        f"Saved: {md(picked)} is now “{status_word(new)}”.")
                    st.rerun()
        if st.session_state.get("stale") == picked and st.button("Reload the latest version"):
            seen_versions.pop(picked, None)
            st.session_state.pop("stale", None)
            st.rerun()
if flash := st.session_state.pop("status_flash", None):
    st.success(flash)

with st.form("follow"):
    st.markdown("**Follow this report**: get an e-mail each time its status changes, with "
                "the public note saying what was done.")
    address = st.text_input("Your e-mail", key=f"follow-email-{picked}-{saves}",
                            placeholder="name@example.org")
    address_error = st.empty()
    st.caption("Your address is private: it is never shown, and it is deleted when you stop "
               "following.")
    if st.form_submit_button("Follow") and follow(address, address_error):
        st.session_state["concern_saves"] = saves + 1
        st.session_state["follow_flash"] = CHECK_INBOX
        st.rerun()
if flash := st.session_state.pop("follow_flash", None):
    st.success(flash)

if can(acting, Action.ASSIGN):
    with st.expander("Assignment (staff)"):
        assigned = me.assignee(picked)
        people = me.assignable_staff()
        if assigned is not None:
            people.setdefault(*assigned)
        options: list[str | None] = [None, *people]
        st.caption(f"Assigned to {md(assigned[1])}." if assigned else "Assigned to no one.")
        if not people:
            st.caption("There are no staff accounts to assign it to: an administrator adds "
                       "them on the Accounts page.")
        else:
            with st.form("assign"):
                who = st.selectbox(
                    "Assign to", options,
                    index=options.index(assigned[0]) if assigned else 0,
                    format_func=lambda u: "No one" if u is None else people.get(u, u),
                    key=f"assign-{picked}-{saves}")
                if st.form_submit_button("Save assignment"):
                    try:
                        me.assign(picked, who)
                    except CptedError as exc:
                        refusal(exc)
                    else:
                        st.session_state["concern_saves"] = saves + 1
                        st.session_state["status_flash"] = (
                            f"{md(picked)} is assigned to "
                            f"{md(people.get(who, who)) if who else 'no one'}.")
                        st.rerun()
        if can(acting, Action.FOLLOW_ASSIGNED):
            following = me.follows_assigned()
            label = ("Stop the e-mails about what is assigned to me" if following
                     else "Follow what is assigned to me")
            if st.button(label, key=f"follow-assigned-{picked}-{saves}"):
                try:
                    now_following = me.follow_assigned(not following)
                except CptedError as exc:
                    refusal(exc)
                else:
                    st.session_state["concern_saves"] = saves + 1
                    st.session_state["status_flash"] = (
                        "You will get an e-mail, at your account's address, at each status "
                        "change of a report assigned to you, and when one is assigned to "
                        "you." if now_following else
                        "You will no longer get e-mails about what is assigned to you.")
                    st.rerun()
            st.caption("E-mails go to your account's address, which is never shown to "
                       "others; each has a link to stop them.")


GEOD = Geod(ellps="WGS84")
#: How far apart two reports may be and still be offered for merging.
MERGE_RADIUS_M = 300


def nearby(index: pd.DataFrame, request_id: str) -> pd.Series:
    """Metres (geodesic, WGS 84) from ``request_id`` to each other report within
    :data:`MERGE_RADIUS_M`, nearest first."""
    here = index[index["id"] == request_id]
    if here.empty or pd.isna(here["lon"].iloc[0]):
        return pd.Series(dtype=float)
    lon0, lat0 = float(here["lon"].iloc[0]), float(here["lat"].iloc[0])
    box = 2 * MERGE_RADIUS_M / 100_000  # degrees: a box safely larger than the radius
    near = index[((index["lon"] - lon0).abs() < box / np.cos(np.radians(lat0)))
                 & ((index["lat"] - lat0).abs() < box) & (index["id"] != request_id)]
    _, _, metres = GEOD.inv(np.full(len(near), lon0), np.full(len(near), lat0),
                            near["lon"].to_numpy(), near["lat"].to_numpy())
    found = pd.Series(metres, index=near["id"].to_numpy())
    return found[found <= MERGE_RADIUS_M].sort_values()


if can(acting, Action.MERGE) or can(acting, Action.DELETE):
    with st.expander("Merge duplicates or delete (coordinators)"):
        near = nearby(index, picked)
        with st.form("merge"):
            dups = st.multiselect(
                f"Reports within {MERGE_RADIUS_M} m that are the same problem as this one",
                near.index.tolist(),
                format_func=lambda i: f"{labels[i]} · {near[i]:,.0f} m away",
                help="Nearest first. Each is closed as a duplicate; its supporters and its "
                     "reporter count as support here.")
            why = st.text_input("Why they are the same (kept in the change log)")
            if st.form_submit_button("Merge into this report", disabled=not can(
                    acting, Action.MERGE)):
                try:
                    merged = me.merge(picked, dups, why)
                except CptedError as exc:
                    st.error(md(exc))
                else:
                    st.session_state["status_flash"] = (
                        f"Merged {len(merged)} report(s) into {md(picked)}.")
                    st.rerun()
        with st.form("delete"):
            reason = st.text_input("Reason for deleting this report (kept in the change log)")
            sure = st.checkbox(f"Delete {md(picked)} with its photos, contact and history")
            if st.form_submit_button("Delete", disabled=not can(acting, Action.DELETE)):
                if not sure:
                    st.error("Tick the box to confirm the deletion.")
                else:
                    try:
                        me.delete_concern(picked, reason)
                    except CptedError as exc:
                        st.error(md(exc))
                    else:
                        st.session_state.pop("concern_id", None)
                        st.session_state["status_flash"] = f"{md(picked)} was deleted."
                        st.rerun()
