"""One concern: what was reported, its support, photos, and every status change with its reason."""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import date
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
from app_pages._text import md, value_word
from cpted import concerns as cc
from cpted import fixed as fx
from cpted import follows as fl
from cpted import i18n
from cpted.access import Action, can
from cpted.i18n import N_, _, ngettext
from layers.errors import ConflictError, CptedError
from layers.schema import DetailedStatus, Layer

s = store()
me = access()
acting = me.actor.role
staff = can(acting, Action.CHANGE_STATUS)
zone = tz()
names = category_names()
st.title(_("Concern"))

#: What each kind of event in a report's history is called on the page.
EVENT_WORDS = {"created": N_("Reported"), "support": N_("Me too"),
               "status": N_("Status changed"), "reopened": N_("Reopened"),
               "linked": N_("Linked"), "plan": N_("Action plan")}
#: Who is recorded for a report, a "me too" or a "not fixed" made without an account.
ACTOR_WORDS = {"resident": N_("A resident"), fx.FOLLOWER: N_("A follower (by e-mail)")}
#: When the problem is, as reported.
WHEN_WORDS = {"day": N_("a daytime problem"), "night": N_("a night-time problem")}
#: Who may read a note in the history.
SEEN_BY_WORDS = {"public": N_("everyone"), "internal": N_("staff only")}


def status_word(value: object) -> str:
    """A status as a word for the page: ``"action scheduled"`` -> ``"Action scheduled"``
    (``"Acción programada"`` in Spanish)."""
    word = value_word(value) if isinstance(value, str) and value else ""
    return word[:1].upper() + word[1:]


def local_time(value: object) -> str:
    """A stored time (UTC, a timestamp or ISO text) as a date and time in the app's zone,
    written the language's way (:func:`cpted.i18n.when`); ``""`` when there is none, the
    text itself when it is not a time."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    try:
        t = pd.Timestamp(value)
    except (TypeError, ValueError):
        return str(value)
    if pd.isna(t):
        return ""
    return i18n.when((t.tz_localize("UTC") if t.tzinfo is None else t).to_pydatetime(),
                     tz=zone)


def answer_text(value: Any, offered: Collection[str] = ()) -> str:
    """An answer to a category question in words (yes/no, lists joined); an answer the
    question ``offered`` is in the language in use, one a person typed as typed."""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list | tuple):
        return ", ".join(answer_text(v, offered) for v in value)
    if isinstance(value, float):
        return i18n.number(value)
    return _(value) if isinstance(value, str) and value in offered else str(value)


def text(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


#: How many reports the picker lists at once (newest first); a search narrows the rest.
SHOWN = 100


@st.cache_resource(show_spinner=False, max_entries=8)
def report_index(url: str, revision: int, role: str, zone: str) -> pd.DataFrame:
    """Every report as ``role`` sees it, newest first, with what its picker label is made
    of (its category's name, ``""`` for none, and the local day it was reported: words
    are put to them on the page, in the language in use) and the text a search looks in
    (id, category, address): built once per store revision, and never changed by a page
    (it is shared, not copied)."""
    seen = door_for(url, role).layer(Layer.CONCERNS)
    seen = seen.sort_values("requested_datetime", ascending=False)
    names = category_names()
    category = [names.get(c) or n or ""
                for c, n in zip(seen["service_code"], seen["service_name"], strict=True)]
    day = seen["requested_datetime"].dt.tz_convert(zone).dt.date
    ids = seen["service_request_id"].astype(str)
    address = seen["address"].where(seen["address"].notna(), "").astype(str)
    empty = seen.geometry.isna() | seen.geometry.is_empty
    return pd.DataFrame({
        "id": ids.to_numpy(),
        "category": category,
        "day": day.to_numpy(),
        "text": (ids + " " + pd.Series(category, index=seen.index) + " " + address)
        .str.lower().to_numpy(),
        "lon": seen.geometry.x.where(~empty).to_numpy(),
        "lat": seen.geometry.y.where(~empty).to_numpy(),
    })


index = report_index(s.url, s.revision(), acting.value, zone)
if index.empty:
    st.info(_("No concerns are stored yet."))
    st.stop()
positions = {request_id: at for at, request_id in enumerate(index["id"])}


def category_word(name: str) -> str:
    """A category's name on the page: a shipped one in the language in use."""
    return _(name) if name else _("Concern")


def label(request_id: str) -> str:
    """A report as the picker lists it: ``"CR-1 · Graffiti · reported Dec 1, 2026"``."""
    at = positions[request_id]
    day = index["day"].iat[at]
    return _("{id} · {category} · reported {day}").format(
        id=request_id, category=category_word(index["category"].iat[at]),
        day=i18n.day(day) if isinstance(day, date) and not pd.isna(day) else "")


# a link in a message or a feed names the report: /concern?report=CR-...
if (linked := st.query_params.get("report")) is not None:
    if linked in positions:
        st.session_state["concern_id"] = linked
    del st.query_params["report"]
# The search box and the list go here, at the top, but are drawn after the report's map:
# a page draws its parts in the order they are sent, and these two wait for scripts of
# their own, so sent first they would hold the map back. What they chose is known
# before they are drawn: the box's words and the pick are in the session already.
picker = st.container()
default = st.session_state.get("concern_id")
find = str(st.session_state.get("concern_find", ""))
words = find.strip().lower()
if words:
    hits = index["text"].str.contains(words, regex=False)
    # a category is found by its name in the language in use too
    named = [c for c in index["category"].unique() if words in category_word(c).lower()]
    matches = index[hits | index["category"].isin(named)]
else:
    matches = index
ids = matches["id"].head(SHOWN).tolist()
if default in positions and default not in ids:
    ids.insert(0, default)  # the report open now stays in the list
if not ids:
    ids = index["id"].head(SHOWN).tolist()
picked = default if default in ids else ids[0]
st.session_state["concern_id"] = picked


def _picked() -> None:
    st.session_state["concern_id"] = st.session_state["concern_pick"]


def draw_picker() -> None:
    with picker:
        st.text_input(
            _("Find a report"), key="concern_find", placeholder=_("Its id, category or address"),
            help=ngettext("The list below shows the newest {n} report that matches.",
                          "The list below shows the newest {n} reports that match.",
                          SHOWN).format(n=i18n.number(SHOWN)))
        if words and matches.empty:
            st.caption(_("No report matches “{words}”.").format(words=md(find.strip())))
        st.session_state["concern_pick"] = picked
        st.selectbox(
            _("Concern"), ids, key="concern_pick", on_change=_picked, format_func=label,
            help=(ngettext(
                "Newest first; {n} of {total} report matches, the newest {shown} listed.",
                "Newest first; {n} of {total} reports match, the newest {shown} listed.",
                len(index)) if len(matches) > SHOWN else
                ngettext("Newest first; {n} of {total} report matches.",
                         "Newest first; {n} of {total} reports match.", len(index))).format(
                n=i18n.number(len(matches)), total=i18n.number(len(index)),
                shown=i18n.number(SHOWN)))


row = me.concern(picked)
# The version this person has seen: a status change is saved only over that version, so a
# change someone else made meanwhile is never overwritten unseen.
seen_versions = st.session_state.setdefault("seen_versions", {})
seen_versions.setdefault(picked, row["version"])
category = category_word(names.get(row["service_code"]) or row["service_name"] or "")
# The access layer decided what this viewer sees: the place (moved to its grid cell for the
# public on a sensitive category) and which texts are blank.
approximate = row["location_precision"] != "exact"

h = me.history(picked)
support = int((h["kind"] == "support").sum())

when = (_(WHEN_WORDS[row["time_of_day"]]) if row["time_of_day"] in WHEN_WORDS
        else _("time of day not known"))
# A line of words, not metric tiles: the map below waits for every element above it to
# draw, and tiles would hold it back by their own scripts.
st.markdown(" · ".join([
    f"**{md(category)}**",
    _("reported {when}").format(when=local_time(row["requested_datetime"])), when]))
open_word = value_word("open" if row["status"] == "open" else "closed")
st.markdown(" · ".join([
    _("Status: **{status}** ({state})").format(
        status=md(status_word(row["detailed_status"] or row["status"])), state=open_word),
    ngettext("{n} supporter", "{n} supporters", support).format(n=i18n.number(support))
    + " " + _("(people who said \"me too\")"),
    _("every change is listed below under \"What was done, and why\"")]))
if can(acting, Action.SEE_INTERNAL_NOTES):
    answered = me.fixed_answer_counts(picked)
    if answered.yes or answered.no:
        counts = {"question": fx.QUESTION, "yes": i18n.number(answered.latest_yes),
                  "no": i18n.number(answered.latest_no), "all_yes": i18n.number(answered.yes),
                  "all_no": i18n.number(answered.no)}
        if (answered.yes, answered.no) != (answered.latest_yes, answered.latest_no):
            st.caption(_("“{question}” asked of its followers when it was marked fixed: "
                         "{yes} yes, {no} no after the latest fix ({all_yes} yes, {all_no} "
                         "no in all). Staff only; who answered is never shown.").format(
                **counts))
        else:
            st.caption(_("“{question}” asked of its followers when it was marked fixed: "
                         "{yes} yes, {no} no after the latest fix. Staff only; who answered "
                         "is never shown.").format(**counts))

point = row.get("geometry")
left_map, right_text = st.columns([1, 1])
with left_map:
    if point is None or point.is_empty:
        st.caption(_("No place was recorded for this report."))
    else:
        show_place((point.x, point.y), what=category,
                   approximate_m=settings().sensitive_grid_m if approximate else None)
        st.caption(_("Shown only as an approximate area, to protect the people involved: "
                     "the report lies somewhere inside the circle.") if approximate
                   else _("The marker is where the problem was reported."))
with right_text:
    if approximate:
        st.caption(_("The description, address, answers, photos and notes of this kind of "
                     "report are seen by staff only."))
    else:
        st.text(text(row["description"]) or _("(no description)"))
    if text(row["address"]):
        st.caption(_("Address: {address}").format(address=md(row["address"])))
    if text(row["attributes"]):
        service = services().get(row["service_code"])
        # a shipped question in the language in use, a deployment's own as written
        attributes = {a.code: a for a in (service.attributes if service else ())}
        questions = {code: _(a.description) if a.description else code
                     for code, a in attributes.items()}
        for code, answer in json.loads(row["attributes"]).items():
            if answer in (None, "", []):
                continue
            if code == "observed_at":
                st.caption(_("Seen on: {when}").format(when=local_time(answer)))
                continue
            question = questions.get(code, code.replace("_", " ").capitalize())
            offered = attributes[code].values if code in attributes else ()
            st.caption(f"{md(question)}: {md(answer_text(answer, offered))}")
draw_picker()
for _media_type, data in me.photos(picked):
    st.image(data, caption=_("Photo (location and camera details removed)"), width=360,
             alt=_("Photo sent with this {category} report").format(
                 category=category.lower()))
if can(acting, Action.SEE_CONTACT):
    contact = me.contact(picked) or {}
    with st.expander(_("Reporter contact (staff only)")):
        given = [f"{field}: {contact[key]}" for key, field in
                 (("name", _("Name")), ("email", _("E-mail")), ("phone", _("Phone")))
                 if contact.get(key)]
        st.text("\n".join(given) if given else _("Anonymous report."))

st.subheader(_("What was done, and why"))
if h.empty:
    st.caption(_("No history recorded (imported report)."))
else:
    shown = pd.DataFrame({
        "at": h["at"].dt.tz_convert(zone).dt.strftime("%Y-%m-%d %H:%M"),
        "kind": [_(EVENT_WORDS[k]) if k in EVENT_WORDS else status_word(k)
                 for k in h["kind"]],
        # who is recorded for a report or a "me too" without an account
        "actor": [_(ACTOR_WORDS[a]) if a in ACTOR_WORDS else a or "" for a in h["actor"]],
        "change": [(f"{status_word(a)} → {status_word(b)}" if a else status_word(b))
                   if b else "" for a, b in zip(h["from_status"], h["to_status"], strict=True)],
        "note": [n if isinstance(n, str) else "" for n in h["note"]],
    })
    shown["visibility"] = [_(SEEN_BY_WORDS["public" if v == "public" else "internal"])
                           if n else ""
                           for v, n in zip(h["visibility"], shown["note"], strict=True)]
    # who acted is shown to staff only: for others the column would be empty
    columns = ["at", "kind", *(["actor"] if any(shown["actor"]) else []), "change", "note",
               *(["visibility"] if staff else [])]
    st.dataframe(shown[columns], hide_index=True,
                 width="stretch",
                 column_config={"at": _("When ({zone})").format(zone=zone), "kind": _("What"),
                                "actor": _("Who"), "visibility": _("Note seen by"),
                                "change": _("Status"), "note": st.column_config.TextColumn(
                                    _("Note"), width="large")})

# Widget keys carry the report and a count of saves, so that after a save the forms start
# afresh: the status on the one just saved, the note and the comment empty.
saves = st.session_state.setdefault("concern_saves", 0)
left, right = st.columns(2)
#: What the page says once a follow is asked for (the same whether or not the address
#: followed this already, so the page never tells).
CHECK_INBOX = N_("Check your inbox: a message with a link to confirm is on its way. Nothing "
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
    st.markdown(_("**Me too**: this affects me as well."))
    note = st.text_input(_("Comment (optional)"), max_chars=cc.MAX_NOTE_CHARS,
                         key=f"support-note-{picked}-{saves}")
    if row["sensitive"]:
        st.caption(_("Comments on this kind of report are seen by staff only."))
    else:
        st.caption(_("Your comment is shown publicly with this report."))
    also = st.text_input(_("E-mail me when its status changes (optional)"),
                         key=f"support-follow-{picked}-{saves}", placeholder="name@example.org")
    also_error = st.empty()
    if st.form_submit_button(_("Add my support")):
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
                    ngettext("Thank you: this report now has {n} supporter.",
                             "Thank you: this report now has {n} supporters.", n).format(
                        n=i18n.number(n))
                    + (" " + _(CHECK_INBOX) if followed else ""))
                if not also.strip() or followed:
                    st.rerun()
with right:
    if not staff:
        st.caption(_("Status changes are made by coordinators and city staff."))
    else:
        with st.form("status"):
            st.markdown(_("**Change the status**: every change needs a note saying what was "
                          "done and why."))
            current = row["detailed_status"]
            statuses = [x.value for x in DetailedStatus]
            new = st.selectbox(
                _("New status"), statuses,
                index=statuses.index(current) if current in statuses else 0,
                format_func=lambda v: _("{status} (current)").format(status=status_word(v))
                if v == current else status_word(v),
                key=f"status-new-{picked}-{saves}")
            why = st.text_area(_("Note (required)"), max_chars=cc.MAX_NOTE_CHARS,
                               key=f"status-note-{picked}-{saves}")
            visibility = st.radio(
                _("Who may read the note"), ["internal", "public"],
                index=0 if row["sensitive"] else 1, horizontal=True,
                format_func={"internal": _("Staff only"), "public": _("Everyone")}.get,
                key=f"status-visibility-{picked}-{saves}",
                help=_("Staff-only notes never reach public pages, exports or messages. On a "
                       "sensitive category the public never sees any note."))
            st.caption(_("Recorded as {name}.").format(name=md(me.actor.name)))
            if st.form_submit_button(_("Save status"), type="primary"):
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
                    st.session_state["status_flash"] = _(
                        "Saved: {id} is now “{status}”.").format(id=md(picked),
                                                                 status=status_word(new))
                    st.rerun()
        if st.session_state.get("stale") == picked and st.button(_("Reload the latest version")):
            seen_versions.pop(picked, None)
            st.session_state.pop("stale", None)
            st.rerun()
if flash := st.session_state.pop("status_flash", None):
    st.success(flash)

with st.form("follow"):
    st.markdown(_("**Follow this report**: get an e-mail each time its status changes, with "
                  "the public note saying what was done."))
    address = st.text_input(_("Your e-mail"), key=f"follow-email-{picked}-{saves}",
                            placeholder="name@example.org")
    address_error = st.empty()
    st.caption(_("Your address is private: it is never shown, and it is deleted when you "
                 "stop following."))
    if st.form_submit_button(_("Follow")) and follow(address, address_error):
        st.session_state["concern_saves"] = saves + 1
        st.session_state["follow_flash"] = _(CHECK_INBOX)
        st.rerun()
if flash := st.session_state.pop("follow_flash", None):
    st.success(flash)

if can(acting, Action.ASSIGN):
    with st.expander(_("Assignment (staff)")):
        assigned = me.assignee(picked)
        people = me.assignable_staff()
        if assigned is not None:
            people.setdefault(*assigned)
        options: list[str | None] = [None, *people]
        st.caption(_("Assigned to {name}.").format(name=md(assigned[1])) if assigned
                   else _("Assigned to no one."))
        if not people:
            st.caption(_("There are no staff accounts to assign it to: an administrator adds "
                         "them on the Accounts page."))
        else:
            with st.form("assign"):
                who = st.selectbox(
                    _("Assign to"), options,
                    index=options.index(assigned[0]) if assigned else 0,
                    format_func=lambda u: _("No one") if u is None else people.get(u, u),
                    key=f"assign-{picked}-{saves}")
                if st.form_submit_button(_("Save assignment")):
                    try:
                        me.assign(picked, who)
                    except CptedError as exc:
                        refusal(exc)
                    else:
                        st.session_state["concern_saves"] = saves + 1
                        st.session_state["status_flash"] = (
                            _("{id} is assigned to {name}.").format(
                                id=md(picked), name=md(people.get(who, who))) if who
                            else _("{id} is assigned to no one.").format(id=md(picked)))
                        st.rerun()
        if can(acting, Action.FOLLOW_ASSIGNED):
            following = me.follows_assigned()
            wanted = (_("Stop the e-mails about what is assigned to me") if following
                      else _("Follow what is assigned to me"))
            if st.button(wanted, key=f"follow-assigned-{picked}-{saves}"):
                try:
                    now_following = me.follow_assigned(not following)
                except CptedError as exc:
                    refusal(exc)
                else:
                    st.session_state["concern_saves"] = saves + 1
                    st.session_state["status_flash"] = (
                        _("You will get an e-mail, at your account's address, at each status "
                          "change of a report assigned to you, and when one is assigned to "
                          "you.") if now_following else
                        _("You will no longer get e-mails about what is assigned to you."))
                    st.rerun()
            st.caption(_("E-mails go to your account's address, which is never shown to "
                         "others; each has a link to stop them."))


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
    _forward, _back, metres = GEOD.inv(np.full(len(near), lon0), np.full(len(near), lat0),
                            near["lon"].to_numpy(), near["lat"].to_numpy())
    found = pd.Series(metres, index=near["id"].to_numpy())
    return found[found <= MERGE_RADIUS_M].sort_values()


if can(acting, Action.MERGE) or can(acting, Action.DELETE):
    with st.expander(_("Merge duplicates or delete (coordinators)")):
        near = nearby(index, picked)
        with st.form("merge"):
            dups = st.multiselect(
                _("Reports within {m} m that are the same problem as this one").format(
                    m=i18n.number(MERGE_RADIUS_M)),
                near.index.tolist(),
                format_func=lambda i: label(i) + " · " + _("{m} m away").format(
                    m=i18n.number(near[i], digits=0)),
                help=_("Nearest first. Each is closed as a duplicate; its supporters and its "
                       "reporter count as support here."))
            why = st.text_input(_("Why they are the same (kept in the change log)"))
            if st.form_submit_button(_("Merge into this report"), disabled=not can(
                    acting, Action.MERGE)):
                try:
                    merged = me.merge(picked, dups, why)
                except CptedError as exc:
                    st.error(md(exc))
                else:
                    st.session_state["status_flash"] = ngettext(
                        "Merged {n} report into {id}.", "Merged {n} reports into {id}.",
                        len(merged)).format(n=i18n.number(len(merged)), id=md(picked))
                    st.rerun()
        with st.form("delete"):
            reason = st.text_input(
                _("Reason for deleting this report (kept in the change log)"))
            sure = st.checkbox(_("Delete {id} with its photos, contact and history").format(
                id=md(picked)))
            if st.form_submit_button(_("Delete"), disabled=not can(acting, Action.DELETE)):
                if not sure:
                    st.error(_("Tick the box to confirm the deletion."))
                else:
                    try:
                        me.delete_concern(picked, reason)
                    except CptedError as exc:
                        st.error(md(exc))
                    else:
                        st.session_state.pop("concern_id", None)
                        st.session_state["status_flash"] = _("{id} was deleted.").format(
                            id=md(picked))
                        st.rerun()
