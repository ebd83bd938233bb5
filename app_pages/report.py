"""Report a concern: type the place or click the map, fill in a short form; nearby duplicates
are offered first."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import shapely
import streamlit as st

from app_pages._maps import show_map
from app_pages._state import access, layer, role, services, settings, store, tz
from app_pages._text import md
from cpted import concerns as cc
from cpted import follows as fl
from cpted import geocode as geo
from cpted import i18n
from cpted.i18n import _, ngettext
from cpted.maps import MapLayers, build_map
from cpted.photos import MAX_PHOTO_MB
from layers.errors import CptedError
from layers.schema import Layer, TimeOfDay
from layers.services import Datatype

s = store()
acting = role()
st.title(_("Report a concern"))
catalogue = services()
#: Marks a question that needs an answer. An asterisk with a space before it and nothing
#: or a space after it is plain text in Markdown, never emphasis.
REQUIRED = " *"


def sentence(text: object) -> str:
    """A message of ours as a sentence: a capital first letter and a full stop."""
    out = str(text).strip()
    if not out:
        return out
    out = out[0].upper() + out[1:]
    return out if out.endswith((".", "?", "!", "”")) else out + "."


# The thanks for a report (or a "me too") goes here, at the top; it is written once the map
# has had its say, as a click it reports again may rerun the page first.
thanks = st.container()

st.write(_("**1. Where is the problem?** Type a cross street or an address, or click the "
           "map. Zoom in for a precise spot."))


def _place(found: geo.Place, *, keep_choices: bool = False) -> None:
    """Set the report's place to one found by typing, as a map click would (a place
    chosen from a list keeps the list, so the arrow keys can go on through it)."""
    st.session_state["report_point"] = (found.lat, found.lon)
    st.session_state["report_place"] = found
    if not keep_choices:
        st.session_state.pop("report_choices", None)
    st.session_state.pop("pending", None)


def _chosen() -> None:
    """The radio of places to choose from changed: use the one chosen."""
    choices: geo.Lookup | None = st.session_state.get("report_choices")
    label = st.session_state.get("r-where-choice")
    if choices is not None and label is not None:
        _place(next(p for p in choices.places if p.label == label), keep_choices=True)


with st.form("find-place", border=False, enter_to_submit=True):
    left, right = st.columns([5, 1], vertical_alignment="bottom")
    typed = left.text_input(
        _("Type the place"), key="r-where", max_chars=200,
        placeholder=_("A cross street (39th & Main), a street or an address"),
        help=_("Found in this city's own streets layer; nothing is sent anywhere. A street "
               "or an address without a cross street is placed at the street's middle."))
    if right.form_submit_button(_("Find"), width="stretch"):
        looked = geo.find_place(typed, layer(Layer.STREETS))
        if looked.found is not None:
            _place(looked.found)
        else:
            st.session_state["report_choices"] = looked
            st.session_state.pop("r-where-choice", None)
looked = st.session_state.get("report_choices")
if looked is not None:
    if looked.places:
        st.radio(md(looked.message), [p.label for p in looked.places], index=None,
                 key="r-where-choice", on_change=_chosen)
    else:
        st.warning(md(looked.message))

point = st.session_state.get("report_point")  # (lat, lon), as the map reports a click
typed_place: geo.Place | None = st.session_state.get("report_place")
open_concerns = layer(Layer.CONCERNS, where={"status": ["open"]})
fmap = build_map(MapLayers(concerns=open_concerns, neighborhoods=layer(Layer.NEIGHBORHOODS),
                           streets=layer(Layer.STREETS)),
                 point_limit=settings().map_point_limit, legend_open=False, tz=tz(),
                 category_names={c: v.service_name for c, v in catalogue.items()},
                 pin=None if point is None else shapely.Point(point[1], point[0]),
                 pin_label=_("Your report") if typed_place is None else typed_place.label,
                 zoom_to_pin=typed_place is not None)
clicked = show_map(fmap, height=460, key="report-map",
                   returned_objects=["last_clicked"])
if clicked and clicked.get("last_clicked"):
    new = (clicked["last_clicked"]["lat"], clicked["last_clicked"]["lng"])
    # The map keeps reporting its last click on every rerun: only a new one moves the
    # place (not one from before a place was typed, or before the last report was filed).
    if new != st.session_state.get("report_click"):
        st.session_state["report_click"] = new
        if new != point:
            st.session_state["report_point"] = new
            for key in ("pending", "report_place", "report_choices"):
                st.session_state.pop(key, None)
            st.rerun()
if flash := st.session_state.pop("flash", None):
    thanks.success(flash)
    if link := st.session_state.pop("flash_link", None):
        thanks.page_link("app_pages/concern.py", label=link, icon=":material/history:")
if point is None:
    st.info(_("No place chosen yet: type it above, or click the map."))
elif typed_place is not None:
    st.caption(_("Chosen place: {place} ({lat}, {lon}, latitude, longitude), marked on the "
                 "map.").format(place=md(typed_place.label), lat=i18n.number(point[0], digits=5),
                                lon=i18n.number(point[1], digits=5)))
    if not typed_place.exact:
        st.info(md(_("Approximate.") + " " + typed_place.note))
else:
    st.caption(_("Chosen place: {lat}, {lon} (latitude, longitude)").format(
        lat=i18n.number(point[0], digits=5), lon=i18n.number(point[1], digits=5)))
# Where each problem of a refused report is shown, by field (see cpted.concerns.ReportError).
beside: dict[str, Any] = {"location": st.empty()}

st.write(_("**2. Tell us what is wrong.**"))
# A refused report's summary is shown here, at the top of the form.
refused_top = st.container()
codes = list(catalogue)
code = st.selectbox(_("Category"), codes, format_func=lambda c: _(catalogue[c].service_name),
                    index=codes.index("dark_area") if "dark_area" in codes else 0)
beside["service_code"] = st.empty()
service = catalogue[code]
st.caption(md(_(service.description)) + (
    " " + _("Shown publicly only as an approximate area.")
    if service.sensitive and "publicly" not in service.description else ""))
answers: dict[str, object] = {}
for a in service.attributes:
    label = md(_(a.description) if a.description else a.code) + (
        REQUIRED if a.required else "")
    key = f"attr-{code}-{a.code}"
    if a.datatype is Datatype.SINGLE:
        answers[a.code] = st.selectbox(label, ["", *a.values], key=key, format_func=_) or None
    elif a.datatype is Datatype.MULTI:
        answers[a.code] = st.multiselect(label, list(a.values), key=key, format_func=_)
    elif a.datatype is Datatype.BOOLEAN:
        choice = st.radio(label, ["yes", "no"], horizontal=True, key=key, index=None,
                          format_func={"yes": _("yes"), "no": _("no")}.get)
        answers[a.code] = None if choice is None else choice == "yes"
    elif a.datatype is Datatype.NUMBER:
        answers[a.code] = st.number_input(label, value=None, key=key)
    else:
        answers[a.code] = st.text_input(label, key=key) or None
    beside[a.code] = st.empty()
if any(a.required for a in service.attributes):
    st.caption(_("Questions marked{mark} need an answer.").format(mark=REQUIRED))
answers = {k: v for k, v in answers.items() if v not in (None, "", [])}
description = st.text_area(_("Description"), max_chars=cc.MAX_DESCRIPTION_CHARS, key="r-desc",
                           placeholder=_("What makes this place feel unsafe or neglected?"))
beside["description"] = st.empty()
c1, c2, c3 = st.columns(3)
times = [t.value for t in TimeOfDay]
time_of_day = c1.radio(_("When is it a problem?"), times, horizontal=True,
                       index=times.index(TimeOfDay.UNKNOWN.value),
                       format_func={"day": _("Day"), "night": _("Night"),
                                    "unknown": _("Not sure")}.get)
local_now = datetime.now(ZoneInfo(tz()))
seen_date = c2.date_input(_("Seen on"), value=local_now.date(), max_value=local_now.date(),
                          format=_("YYYY/MM/DD"))
seen_time = c3.time_input(_("at"), value=local_now.time().replace(second=0, microsecond=0))
beside["observed_at"] = st.empty()
photo = st.file_uploader(_("Photo (optional)"), type=["jpg", "jpeg", "png", "webp"],
                         key=f"r-photo-{st.session_state.get('r-round', 0)}",
                         max_upload_size=MAX_PHOTO_MB,
                         help=_("At most {mb} MB. Location and camera details are removed "
                                "before it is stored.").format(mb=MAX_PHOTO_MB))
beside["photo"] = st.empty()
with st.expander(_("Contact details (optional, private)")):
    st.caption(_("Only coordinators and city staff see these, to ask you about this report. "
                 "Leave them blank to stay anonymous."))
    name = st.text_input(_("Name"), key="r-name")
    email = st.text_input(_("E-mail"), key="r-email")
    beside["contact_email"] = st.empty()
    phone = st.text_input(_("Phone"), key="r-phone")
follow_it = st.checkbox(_("E-mail me when its status changes"), key="r-follow",
                        help=_("After you file it, a message asks you to confirm; every "
                               "message has a link to stop them."))
follow_email = ""
if follow_it:
    follow_email = st.text_input(_("E-mail for the updates"), key="r-follow-email",
                                 placeholder="name@example.org",
                                 help=_("Leave it blank to use the contact e-mail above. It "
                                        "is private, and deleted when you stop following."))
beside["follow_email"] = st.empty()


def draft() -> cc.ReportDraft:
    assert point is not None
    return cc.ReportDraft(
        service_code=code, lat=point[0], lon=point[1], description=description,
        time_of_day=TimeOfDay(time_of_day),
        observed_at=datetime.combine(seen_date, seen_time, tzinfo=ZoneInfo(tz())),
        answers=answers, photo=photo.getvalue() if photo else None,
        contact_name=name or None, contact_email=email or None, contact_phone=phone or None)


def refuse(exc: CptedError) -> None:
    """Show a refusal at the top of the form, and each problem also next to its field."""
    problems = getattr(exc, "problems", None) or []
    fields: dict[str, list[str]] = getattr(exc, "fields", None) or {}
    head = sentence(str(exc).split("\n")[0] if problems else exc)
    if fields:
        head += " " + _("Please correct what is marked.")
    refused_top.error("\n\n".join([md(head), *(f"- {md(sentence(p))}" for p in problems)]))
    for field, found in fields.items():
        if field in beside:
            beside[field].error(md(" ".join(sentence(p) for p in found)))


def follow_address() -> str | None:
    """The address to follow the report with (None: not asked for); a malformed one is
    shown beside its field and raises ``ValueError``, before anything is filed."""
    if not follow_it:
        return None
    address = (follow_email or email or "").strip()
    problems = fl.email_problems(address)
    if problems:
        beside["follow_email"].error(md(sentence(problems[0])))
        raise ValueError(problems[0])
    return address


def followed(rid: str, address: str | None) -> str:
    """Follow ``rid`` when asked; what to add to the thanks."""
    if address is None:
        return ""
    try:
        access().follow_report(rid, address)
    except CptedError as exc:  # the rate limit, or too many confirmations to the address
        why = (getattr(exc, "problems", None) or [str(exc)])[0]
        return " " + _("It could not be followed: {why}").format(why=md(sentence(why)))
    return " " + _("Check your inbox: a message with a link to confirm the updates is on "
                   "its way.")


def save(d: cc.ReportDraft, address: str | None) -> None:
    try:
        rid = access().submit_report(d)
    except CptedError as exc:  # a refusal, the rate limit, or the database
        refuse(exc)
        return
    then = followed(rid, address)
    for key in ("pending", "pending_follow", "report_point", "report_place", "report_choices",
                "r-where", "r-where-choice", "r-desc", "r-name", "r-email", "r-phone", "r-follow",
                "r-follow-email"):
        st.session_state.pop(key, None)
    st.session_state["r-round"] = st.session_state.get("r-round", 0) + 1  # a fresh uploader
    st.session_state["flash"] = _("Thank you. Your report {id} is on the map.").format(
        id=md(rid)) + then
    st.session_state["flash_link"] = _("Open your report")
    st.session_state["concern_id"] = rid  # the Concern page opens on it
    st.rerun()


if st.button(_("Submit report"), type="primary", disabled=point is None):
    d = draft()
    try:
        wanted = follow_address()
    except ValueError:
        pass
    else:
        dups = access().duplicates(d.service_code, d.lon, d.lat)
        if dups.empty:
            save(d, wanted)
        else:
            st.session_state["pending"] = d
            st.session_state["pending_follow"] = wanted

pending = st.session_state.get("pending")
if pending is not None:
    me = access()
    dups = me.duplicates(pending.service_code, pending.lon, pending.lat)
    exact = "distance_m" in dups.columns
    where = (_("within {m} m").format(m=i18n.number(
        catalogue[pending.service_code].duplicate_radius_m)) if exact
        else _("near the place you chose"))
    st.warning(ngettext("{n} open report of the same kind is already {where}.",
                        "{n} open reports of the same kind are already {where}.",
                        len(dups)).format(n=len(dups), where=where)
               + " " + _("If one of them is your problem, add your support instead: it "
                         "counts, and it keeps the list clear."))
    for _i, row in dups.head(5).iterrows():
        with st.container(border=True):
            left, right = st.columns([4, 1])
            facts = [f"**{md(row['service_request_id'])}**", md(_(row["service_name"]))]
            if exact:
                facts.append(_("{m} m away").format(m=i18n.number(row["distance_m"], digits=0)))
            facts += [md(_(row["detailed_status"])),
                      ngettext("{n} supporter", "{n} supporters", int(row["support"])).format(
                          n=int(row["support"]))]
            left.markdown(" · ".join(facts))
            if exact:
                left.text(row["description"] or _("(no description)"))
            elif row["location_precision"] != "exact":
                left.caption(_("Its place is shown only as an approximate area, like yours "
                               "will be."))
            if right.button(_("Me too"), key=f"metoo-{row['service_request_id']}"):
                try:
                    n = me.support(row["service_request_id"])
                except CptedError as exc:
                    st.error(md(sentence(exc)))
                    st.stop()
                then = followed(row["service_request_id"],
                                st.session_state.get("pending_follow"))
                for key in ("pending", "pending_follow", "report_point", "report_place",
                            "report_choices", "r-where", "r-where-choice", "r-desc", "r-follow",
                            "r-follow-email"):
                    st.session_state.pop(key, None)
                st.session_state["flash"] = ngettext(
                    "Thank you. You support {id}, now with {n} supporter.",
                    "Thank you. You support {id}, now with {n} supporters.", n).format(
                        id=md(row["service_request_id"]), n=n) + then
                st.session_state["flash_link"] = _("Open the report you support")
                st.session_state["concern_id"] = row["service_request_id"]
                st.rerun()
    if st.button(_("None of these: submit mine as a new report")):
        save(pending, st.session_state.get("pending_follow"))
