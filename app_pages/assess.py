"""Audit a place: draw it, answer the checklist, save, see the scores."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import shapely
import streamlit as st
import streamlit.components.v1
from shapely.geometry import shape

from app_pages._audit_view import _md, show_scorecard
from app_pages._maps import show_map
from app_pages._state import access, instrument, layer, store, tz
from app_pages._text import md, value_word
from cpted import assessments as au
from cpted import i18n
from cpted.i18n import N_, _
from cpted.instrument import NA
from cpted.isovist import IsovistError, isovist_at
from cpted.maps import build_assess_map
from cpted.photos import MAX_PHOTO_MB
from layers.errors import ConflictError, CptedError, UnusableInputError
from layers.schema import Layer

s = store()
me = access()
ins = instrument()
zone = ZoneInfo(tz())
st.title(_("Audit a place"))

#: An audit by day or by night, inside a sentence.
PERIOD_AUDIT = {"day": N_("day audit"), "night": N_("night audit")}
#: A drawn place's kind, inside a sentence.
KINDS = {"Point": N_("a spot"), "LineString": N_("a street segment"), "Polygon": N_("an area")}

# An edit is pinned to the version that was opened: if someone else saves in the
# meantime, this save is refused rather than silently overwriting theirs.
editing: au.Assessment | None = None
opened_version = 0
if edit := st.session_state.get("edit_audit"):
    try:
        editing = me.audit(edit[0])
        opened_version = int(edit[1])
    except UnusableInputError:
        st.session_state.pop("edit_audit", None)
    if editing is not None and not me.may_edit_audit(editing):
        st.warning(_("Only the person who recorded this audit, or a coordinator or planner, "
                     "may change it; this form records a new audit instead."))
        editing = None
        st.session_state.pop("edit_audit", None)
round_ = st.session_state.get("audit_round", 0)
prefix = f"{editing.id}-v{opened_version}" if editing else f"new-{round_}"

if saved := st.session_state.get("audit_saved"):
    # The result replaces the form, so on a phone it is what the auditor sees next.
    a = me.audit(saved)
    # back to the top, where the result starts (the form left the page scrolled down)
    st.components.v1.html(
        "<script>for (const el of window.parent.document.querySelectorAll("
        "'[data-testid=\"stMain\"], [data-testid=\"stAppViewContainer\"], section.main')) "
        "el.scrollTo(0, 0); window.parent.scrollTo(0, 0);</script>", height=0)
    st.success(_("Saved: {place} ({period}, {id}). Its scores:").format(
        place=md(a.place_name), period=_(PERIOD_AUDIT.get(a.period, a.period)), id=md(a.id)))
    show_scorecard(me.audit_scorecard(a), ins.weights_note)
    c1, c2 = st.columns(2)
    if c1.button(_("Audit another place"), type="primary"):
        st.session_state.pop("audit_saved", None)
        st.rerun()
    if c2.button(_("Open it on the Audits page")):
        st.session_state.pop("audit_saved", None)
        st.session_state["show_audit"] = a.id
        st.switch_page("app_pages/audits.py")
    st.stop()

if editing is not None:
    st.info(_("Editing {place} ({id}, version {version}). Photos already saved stay unless "
              "you remove them below.").format(place=md(editing.place_name), id=md(editing.id),
                                               version=i18n.number(opened_version)))
    if st.button(_("Stop editing; start a new audit")):
        st.session_state.pop("edit_audit", None)
        st.rerun()

with st.expander(_("How this audit works"), expanded=False):
    st.write(md(_(ins.description)))
    st.caption(_("{weights} Items are answered on their own scale; higher is better. N/A "
                 "leaves an item out of the score; a blank lowers only the confidence."
                 ).format(weights=_(ins.weights_note)))

# -- 1. the place ------------------------------------------------------------------------
st.subheader(_("1. The place"))
st.caption(_("Use the drawing tools on the map: the dot for a spot, the line for a street "
             "segment (double-tap to finish), the polygon for an area. Zoom in first."))
place_key = f"place-{prefix}"
if place_key not in st.session_state and editing is not None:
    st.session_state[place_key] = editing.geometry
place: shapely.Geometry | None = st.session_state.get(place_key)

iso_key = f"isovist-{prefix}"
iso = st.session_state.get(iso_key) if place is not None else None
fmap = build_assess_map(place, neighborhoods=layer(Layer.NEIGHBORHOODS),
                        streets=layer(Layer.STREETS),
                        sightlines=None if iso is None else iso.polygon_wgs84)
drawn = show_map(fmap, height=420, key=f"audit-map-{prefix}",
                 returned_objects=["last_active_drawing"])
feature = (drawn or {}).get("last_active_drawing")
if feature and feature.get("geometry"):
    try:
        new = shape(feature["geometry"])
    except (ValueError, TypeError, KeyError, AttributeError):
        new = None
        st.error(_("That drawing could not be read; draw the place again."))
    if new is not None and (place is None or not new.equals(place)):
        st.session_state[place_key] = new
        st.session_state.pop(iso_key, None)
        st.rerun()
if place is None:
    st.info(_("No place drawn yet."))
else:
    kind = _(KINDS[place.geom_type]) if place.geom_type in KINDS else place.geom_type
    st.caption(_("Place: {kind} at {lat}, {lon}.").format(
        kind=kind, lat=i18n.number(place.centroid.y, digits=5),
        lon=i18n.number(place.centroid.x, digits=5)))
    if place.geom_type == "Point":
        if st.button(_("Show sightlines from this spot"),
                     help=_("The area visible from the spot within 100 m, given the buildings "
                            "around it (an isovist): an objective check beside the natural "
                            "surveillance items.")):
            try:
                st.session_state[iso_key] = isovist_at(place.x, place.y,
                                                       layer(Layer.BUILDINGS))
                st.rerun()
            except IsovistError as exc:
                st.warning(md(exc))
        if (iso := st.session_state.get(iso_key)) is not None:
            st.caption(_("Sightlines: {area} m² visible within {radius} m; openness "
                         "{openness} (shaded blue on the map).").format(
                area=i18n.number(round(iso.isovist.area_m2)),
                radius=i18n.number(round(iso.isovist.radius_m)),
                openness=i18n.percent(iso.isovist.openness)))

# -- 2. the visit --------------------------------------------------------------------------
st.subheader(_("2. The visit"))
base = editing.draft() if editing else None
now = datetime.now(zone)
c1, c2 = st.columns(2)
place_name = c1.text_input(_("Place name"), value=base.place_name if base else "",
                           max_chars=au.MAX_NAME_CHARS, key=f"name-{prefix}",
                           placeholder=_("e.g. Alley behind 5th & Main"))
assessor = c2.text_input(_("Audited by"), value=base.assessor if base else "",
                         max_chars=au.MAX_NAME_CHARS, key=f"assessor-{prefix}",
                         placeholder=_("Your name or group"), help=_("Shown with the audit."))
when = base.assessed_at.astimezone(zone) if base else now
c3, c4, c5 = st.columns(3)
day = c3.date_input(_("Date"), value=when.date(), max_value=now.date(), key=f"date-{prefix}")
at = c4.time_input(_("Time"), value=when.time().replace(second=0, microsecond=0),
                   key=f"time-{prefix}")
periods = list(au.PERIODS)
period = c5.radio(_("Day or night"), periods, horizontal=True, key=f"period-{prefix}",
                  index=periods.index(base.period) if base else
                  (1 if now.hour >= 19 or now.hour < 6 else 0),
                  format_func=value_word,
                  help=_("Night-only items (most lighting items) are asked only at night."))

# -- 3. the checklist -------------------------------------------------------------------------
st.subheader(_("3. The checklist"))
st.caption(_("Higher is better on every item. Choose N/A where an item does not fit this "
             "place; leave it blank if you could not judge."))
answers: dict[str, int | str | None] = {}
with st.form(f"audit-form-{prefix}"):
    for p in ins.principles:
        items = ins.items_of(p.id, period)
        if not items:
            continue
        with st.expander(_("{principle} ({n})").format(principle=_(p.name),
                                                       n=i18n.number(len(items))),
                         expanded=False):
            st.caption(_(p.description))
            for item in items:
                options: list[int | str] = [*item.scale.values, *([NA] if item.allow_na else [])]
                old = base.answers.get(item.id) if base else None
                answers[item.id] = st.radio(
                    _(item.question), options, horizontal=True,
                    key=f"q-{prefix}-{item.id}",
                    index=options.index(old) if old in options else None,
                    format_func=lambda v, it=item: _("N/A") if v == NA else it.label(int(v)),
                    help=_(item.help) if item.help else None)
    notes = st.text_area(_("Notes"), value=base.notes if base else "",
                         max_chars=au.MAX_NOTES_CHARS, key=f"notes-{prefix}")
    new_photos = st.file_uploader(_("Photos"), type=["jpg", "jpeg", "png", "webp"],
                                  accept_multiple_files=True, key=f"photos-{prefix}",
                                  max_upload_size=MAX_PHOTO_MB,
                                  help=_("At most {mb} MB each and {n} in all. Location and "
                                         "camera details are removed.").format(
                                      mb=MAX_PHOTO_MB, n=au.MAX_PHOTOS))
    remove: list[int] = []
    if editing is not None:
        kept = me.audit_photos(editing.id)
        if kept:
            remove = st.multiselect(_("Remove saved photos"), [pid for pid, *_rest in kept],
                                    format_func=lambda pid: _("photo {n}").format(n=pid))
    if place is None:
        st.caption(_("Saving is off until the place is drawn on the map in step 1."))
    submitted = st.form_submit_button(_("Save audit"), type="primary", disabled=place is None)

if submitted:
    draft = au.AssessmentDraft(
        place_name=place_name, geometry=place, assessor=assessor,
        assessed_at=datetime.combine(day, at, tzinfo=zone), period=period, answers=answers,
        notes=notes, photos=[f.getvalue() for f in new_photos or []])
    try:
        if editing is None:
            aid = me.save_audit(draft, ins)
            st.session_state["audit_round"] = round_ + 1
        else:
            me.update_audit(editing.id, draft, ins, expected_version=opened_version,
                            remove_photos=remove)
            aid = editing.id
            st.session_state.pop("edit_audit", None)
    except ConflictError as exc:
        st.error(_("Not saved: {why}. Your answers are still in the form above; note them, "
                   "then reload the audit from the Audits page.").format(why=md(exc)))
    except UnusableInputError as exc:
        st.error(_("Not saved: {why}.").format(why=_md(str(exc).splitlines()[0])))
        for problem in exc.problems:
            st.markdown(f"- {_md(problem)}")
    except CptedError as exc:  # not allowed, the rate limit, or the database
        st.error(_("Not saved: {why}").format(why=md(exc)))
    else:
        st.session_state["audit_saved"] = aid
        st.rerun()
