"""Map page: every layer on one map, with toggles, filters and a legend."""

from __future__ import annotations

import streamlit as st

from app_pages._maps import show_map
from app_pages._state import access, concern_filters, layer, refusal, role, settings, store
from app_pages._tables import concern_table
from app_pages._text import md
from cpted import lighting as lt
from cpted.maps import MapLayers, build_map
from layers.errors import CptedError
from layers.schema import Layer

s = store()
st.title("Map")
counts = s.counts()
if sum(counts.values()) == 0:
    st.info("The store is empty. Load the bundled sample district, or import your own "
            "city's files on the Import page.")
    if st.button("Load the sample district", type="primary"):
        try:
            with st.spinner("Loading the sample district..."):
                access().load_sample()
        except CptedError as exc:
            refusal(exc)
        else:
            st.rerun()
    st.stop()

tz = s.get_setting("timezone") or settings().timezone
acting = role()
with st.sidebar:
    st.subheader("Layers")
    show = {
        Layer.CONCERNS: st.checkbox(f"Concerns ({counts[Layer.CONCERNS]:,})", value=True),
        Layer.NEIGHBORHOODS: st.checkbox(
            f"Neighborhoods ({counts[Layer.NEIGHBORHOODS]:,})", value=True),
        Layer.STREETS: st.checkbox(f"Streets ({counts[Layer.STREETS]:,})", value=True),
        Layer.STREETLIGHTS: st.checkbox(
            f"Streetlights ({counts[Layer.STREETLIGHTS]:,})", value=True),
        Layer.BUILDINGS: st.checkbox(f"Buildings ({counts[Layer.BUILDINGS]:,})", value=False),
    }
    st.subheader("Concern filters")
    where, window = concern_filters()
    st.caption(f"Store: {md(s.label)} · times in {md(tz)}")

concerns = layer(Layer.CONCERNS, where=where, time=window)
n_open = int((concerns["status"] == "open").sum()) if len(concerns) else 0
n_night = int((concerns["time_of_day"] == "night").sum()) if len(concerns) else 0
c1, c2, c3, c4 = st.columns(4)
c1.metric("Concerns shown", f"{len(concerns):,}")
c2.metric("Open", f"{n_open:,}")
c3.metric("Reported at night", f"{n_night / max(len(concerns), 1):.0%}")
lights = layer(Layer.STREETLIGHTS)
out_reports = layer(Layer.CONCERNS, where={"service_code": [lt.OUTAGE_SERVICE_CODE],
                                           "status": ["open"]})
c4.metric("Streetlights out", f"{int(lt.poles_out(lights, out_reports).sum()):,}",
          help=lt.POLES_OUT_MEANING)
if len(concerns) > settings().map_point_limit:
    st.caption(f"{len(concerns):,} concerns are more than the map draws one by one "
               f"({settings().map_point_limit:,}); they are counted in square cells (size "
               "in the legend).")

layers = MapLayers(
    concerns=concerns if show[Layer.CONCERNS] else None,
    neighborhoods=layer(Layer.NEIGHBORHOODS) if show[Layer.NEIGHBORHOODS] else None,
    streets=layer(Layer.STREETS) if show[Layer.STREETS] else None,
    streetlights=lights if show[Layer.STREETLIGHTS] else None,
    buildings=layer(Layer.BUILDINGS) if show[Layer.BUILDINGS] else None,
)
fmap = build_map(layers, point_limit=settings().map_point_limit, tz=tz)
show_map(fmap, height=620, returned_objects=[], key="main-map")

with st.expander(f"Concerns in view ({len(concerns):,})"):
    concern_table(concerns, key="map-concerns")
