"""Map page: every layer on one map, with toggles, filters and a legend."""

from __future__ import annotations

import shapely
import streamlit as st

from app_pages._maps import show_map
from app_pages._state import (
    access,
    category_names,
    concern_counts,
    concern_filters,
    concern_points,
    layer,
    refusal,
    role,
    sentence,
    services,
    settings,
    store,
)
from app_pages._tables import concern_table
from app_pages._text import md
from cpted import follows as fl
from cpted import i18n
from cpted import lighting as lt
from cpted.i18n import _
from cpted.maps import MapLayers, build_map
from layers.errors import CptedError
from layers.schema import Layer

#: The concerns' columns this page shows (on the map and in its table).
SHOWN = ["service_request_id", "service_code", "service_name", "description", "address",
         "requested_datetime", "updated_datetime", "status", "detailed_status", "time_of_day"]
#: Rows in the table under the map, newest first.
TABLE_ROWS = 2000

s = store()
st.title(_("Map"))
counts = s.counts()
if sum(counts.values()) == 0:
    st.info(_("The store is empty. Load the bundled sample district, or import your own "
              "city's files on the Import page."))
    if st.button(_("Load the sample district"), type="primary"):
        try:
            with st.spinner(_("Loading the sample district...")):
                access().load_sample()
        except CptedError as exc:
            refusal(exc)
        else:
            st.rerun()
    st.stop()

tz = s.get_setting("timezone") or settings().timezone
acting = role()
vacant = (layer(Layer.PARCELS, where={"status": ["vacant_lot", "vacant_building"]})
          if counts[Layer.PARCELS] else None)
with st.sidebar:
    st.subheader(_("Layers"))
    show = {
        Layer.CONCERNS: st.checkbox(_("Concerns ({n})").format(
            n=i18n.number(counts[Layer.CONCERNS])), value=True),
        Layer.NEIGHBORHOODS: st.checkbox(_("Neighborhoods ({n})").format(
            n=i18n.number(counts[Layer.NEIGHBORHOODS])), value=True),
        Layer.STREETS: st.checkbox(_("Streets ({n})").format(
            n=i18n.number(counts[Layer.STREETS])), value=True),
        Layer.STREETLIGHTS: st.checkbox(_("Streetlights ({n})").format(
            n=i18n.number(counts[Layer.STREETLIGHTS])), value=True),
        Layer.BUILDINGS: st.checkbox(_("Buildings ({n})").format(
            n=i18n.number(counts[Layer.BUILDINGS])), value=False),
    }
    if vacant is not None:
        show[Layer.PARCELS] = st.checkbox(
            _("Vacant parcels ({n})").format(n=i18n.number(len(vacant))), value=True,
            help=_("Vacant lots and vacant buildings from the city's parcel file"))
    st.subheader(_("Concern filters"))
    where, window = concern_filters()
    st.caption(_("Store: {store} · times in {zone}").format(store=md(s.label), zone=md(tz)))

# Counted in the database; past the point limit the map gets only where the concerns
# are (coordinate arrays, counted in cells) and the table the newest rows.
n_shown, of_them = concern_counts(where=where, time=window, among={
    "open": {"status": ["open"]}, "night": {"time_of_day": ["night"]}})
n_open, n_night = of_them["open"], of_them["night"]
c1, c2, c3, c4 = st.columns(4)
c1.metric(_("Concerns shown"), i18n.number(n_shown))
c2.metric(_("Open"), i18n.number(n_open))
c3.metric(_("Reported at night"), i18n.percent(n_night / max(n_shown, 1)))
lights = layer(Layer.STREETLIGHTS)
out_reports = layer(Layer.CONCERNS, where={"service_code": [lt.OUTAGE_SERVICE_CODE],
                                           "status": ["open"]},
                    columns=["service_request_id", "status"])
c4.metric(_("Streetlights out"), i18n.number(int(lt.poles_out(lights, out_reports).sum())),
          help=lt.POLES_OUT_MEANING)
limit = settings().map_point_limit
if n_shown > limit:
    st.caption(_("{n} concerns are more than the map draws one by one ({limit}); they are "
                 "counted in square cells (size in the legend).").format(
        n=i18n.number(n_shown), limit=i18n.number(limit)))

drawn = concern_points(where=where, time=window) if n_shown > limit else None
if drawn is None or len(drawn) <= limit:  # few enough to draw (and list) one by one
    drawn = layer(Layer.CONCERNS, where=where, time=window, columns=SHOWN)
    listed = drawn
else:
    listed = layer(Layer.CONCERNS, where=where, time=window, columns=SHOWN,
                   newest="requested_datetime", limit=TABLE_ROWS)

layers = MapLayers(
    concerns=drawn if show[Layer.CONCERNS] else None,
    neighborhoods=layer(Layer.NEIGHBORHOODS) if show[Layer.NEIGHBORHOODS] else None,
    streets=layer(Layer.STREETS) if show[Layer.STREETS] else None,
    streetlights=lights if show[Layer.STREETLIGHTS] else None,
    buildings=layer(Layer.BUILDINGS) if show[Layer.BUILDINGS] else None,
    parcels=vacant if show.get(Layer.PARCELS) else None,
)
fmap = build_map(layers, point_limit=limit, category_names=category_names(), tz=tz)
show_map(fmap, height=620, returned_objects=[], key="main-map",
         listed_elsewhere=_("The concerns are listed under “Concerns in view” below."))

with st.expander(_("Concerns in view ({n})").format(n=i18n.number(n_shown))):
    concern_table(listed, key="map-concerns", limit=TABLE_ROWS, total=n_shown)

if st.toggle(_("Follow an area by e-mail"), key="follow-area-on",
             help=_("A daily or weekly message with the new reports and changes around a "
                    "place of your choice.")):
    st.write(_("Click the map at the middle of the area, then choose how far around it."))
    centre = st.session_state.get("follow_centre")  # (lat, lon), as the map reports a click
    pick = build_map(MapLayers(neighborhoods=layer(Layer.NEIGHBORHOODS),
                               streets=layer(Layer.STREETS)), tz=tz, legend_open=False,
                     pin=None if centre is None else shapely.Point(centre[1], centre[0]),
                     pin_label=_("The middle of the area"))
    got = show_map(pick, height=380, key="follow-area-map", returned_objects=["last_clicked"])
    if got and got.get("last_clicked"):
        new = (got["last_clicked"]["lat"], got["last_clicked"]["lng"])
        if new != centre:
            st.session_state["follow_centre"] = new
            st.rerun()
    catalogue = services()
    rounds = st.session_state.setdefault("follow_area_round", 0)
    with st.form("follow-area"):
        radius = st.slider(_("How far around it (m)"), int(fl.MIN_RADIUS_M) * 4, 2000, 400,
                           step=50)
        area_error = st.empty()
        address = st.text_input(_("Your e-mail"), placeholder="name@example.org",
                                key=f"follow-area-email-{rounds}")
        email_error = st.empty()
        how = st.radio(_("How often"), ["weekly", "daily"], horizontal=True,
                       format_func={"daily": _("Once a day"), "weekly": _("Once a week")}.get)
        codes = sorted(catalogue, key=lambda c: _(catalogue[c].service_name))
        only = st.multiselect(_("Only these categories (optional)"), codes,
                              format_func=lambda c: _(catalogue[c].service_name))
        st.caption(_("A message asks you to confirm first; every message has a link to stop "
                     "them. Your address is private, and deleted when you stop following."))
        if st.form_submit_button(_("Follow this area")):
            try:
                if centre is None:
                    raise fl.FollowError(_("nothing was followed"), fields={
                        "area": [_("click the map at the middle of the area first")]})
                access().follow_area(address, area=fl.circle(centre[1], centre[0], radius),
                                     categories=only, frequency=how)
            except fl.FollowError as exc:
                for name, found in exc.fields.items():
                    where = area_error if name == "area" else email_error
                    where.error(md(sentence(" ".join(found))))
            except CptedError as exc:
                refusal(exc)
            else:
                st.session_state["follow_area_round"] = rounds + 1
                st.session_state["follow_area_flash"] = _(
                    "Check your inbox: a message with a link to confirm is on its way.")
                st.rerun()
    if flash := st.session_state.pop("follow_area_flash", None):
        st.success(flash)
