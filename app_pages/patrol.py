"""Patrol: hotspots an analyst can check, and bike routes through them on real streets."""

from __future__ import annotations

import html
import tempfile
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import geopandas as gpd
import pandas as pd
import streamlit as st

from app_pages import _patrol_trends as trends
from app_pages._forecast import show_forecasts, show_top_cells, significant
from app_pages._maps import show_map
from app_pages._state import access, role, store, tz
from app_pages._text import md
from cpted import forecast as fc
from cpted import hotspots as hs
from cpted import i18n
from cpted import network as nw
from cpted import patrol as pt
from cpted.i18n import N_, _, ngettext
from cpted.maps import BIN_COLOURS, build_patrol_map, build_visits_map
from cpted.privacy import STAFF
from layers.errors import CptedError, UnusableInputError
from layers.schema import Layer

s = store()
me = access()
st.title(_("Patrol"))
st.caption(_("Where problems concentrate, how sure we can be, and a bike route per officer "
             "through the places that matter most in one shift."))
acting = role()
if acting not in STAFF:
    st.info(_("Patrol planning works from exact locations of reports, so it is open to "
              "officers and staff only. Ask your coordinator for access."))
    st.stop()

ZONE = ZoneInfo(tz())


@st.cache_data(show_spinner=False, max_entries=16)
def find_hotspots(url: str, revision: int, sources: tuple[pt.Source, ...],
                  split: pd.Timestamp | None, shape: str, cell: float | None,
                  radius: float | None, permutations: int, language: str
                  ) -> dict[str, object]:
    """The hotspots and forecasts (``language``: the forecast's notes are written in it)."""
    every = me.patrol_events(list(sources), tz=tz())
    events, later = every, None
    if split is not None:
        events, later = pt.split_events(every, split)
    hot = hs.analyse(events, boundary=me.layer(Layer.NEIGHBORHOODS), cell_size=cell,
                     shape=shape, radius=radius, permutations=permutations)  # type: ignore[arg-type]
    # -- forecasts, chosen on a validation window (cpted.forecast) --
    held = split if later is not None and len(later) else None
    try:
        evaluation: fc.Evaluation | None = fc.evaluate_methods(
            every, hot.grid, held, factors_at=fc.factors_from(
                hot.grid, parcels=me.layer(Layer.PARCELS), concerns=me.layer(Layer.CONCERNS),
                streetlights=me.layer(Layer.STREETLIGHTS)))
    except fc.ForecastError:
        evaluation = None
    return {"hot": hot, "frame": hot.frame(), "forecast": evaluation,
            "n_later": 0 if later is None else len(later)}


@st.cache_resource(show_spinner=_("Building the street network…"), max_entries=4)
def store_network(url: str, revision: int) -> nw.Network:
    streets = me.layer(Layer.STREETS)
    if streets.empty:
        raise nw.NetworkError(_("the store holds no streets: import street centrelines, or "
                                "upload a network file below"))
    return nw.from_lines(streets, source=_("the store's streets"))


@st.cache_resource(show_spinner=_("Reading the network file…"), max_entries=4)
def file_network(name: str, data: bytes) -> nw.Network:
    with tempfile.TemporaryDirectory(prefix="cpted-net-") as tmp:
        path = Path(tmp) / Path(name).name
        path.write_bytes(data)
        return nw.read_network(path)


def visits_frame() -> gpd.GeoDataFrame:
    return me.visits(since=datetime.now(ZONE) - timedelta(days=30))


# -- 1. what counts ------------------------------------------------------------------

st.subheader(_("1. What counts"))
rng = s.time_range(Layer.CONCERNS, "requested_datetime")
inc_rng = s.time_range(Layer.INCIDENTS, "occurred_datetime")
spans = [r for r in (rng, inc_rng) if r is not None]
first = min(r[0] for r in spans).tz_convert(ZONE).date() if spans else date.today()
last = max(r[1] for r in spans).tz_convert(ZONE).date() if spans else date.today()

DEFAULT_WEIGHTS = {"open concerns": 1.0, "night-time concerns": 2.0, "weak CPTED audits": 3.0,
                   "incidents": 1.0, "vacant parcels": pt.DEFAULT_WEIGHTS["vacant parcels"]}
#: Each layer's name as the list of layers shows it.
SOURCE_LABELS = {"open concerns": N_("Open concerns"),
                 "night-time concerns": N_("Night-time concerns"),
                 "weak CPTED audits": N_("Weak CPTED audits"), "incidents": N_("Incidents"),
                 "vacant parcels": N_("Vacant parcels")}
HELP = {"open concerns": N_("Reports still open, wherever and whenever they came in."),
        "night-time concerns": N_("Reports about the night (their day/night answer, or made "
                                  "between 19:00 and 07:00)."),
        "weak CPTED audits": N_("Audited places scoring under 60; a place at 0 counts fully, "
                                "one at 59 barely. Audits with fewer than half their items "
                                "answered have no rated score and do not count."),
        "incidents": N_("Imported incident records (for example police crime data)."),
        "vacant parcels": N_("Vacant lots and vacant buildings from the city's parcel file. "
                             "They stand rather than happen, so no dates or night apply, and "
                             "each counts half a report by default.")}
chosen: list[pt.Source] = []
head = st.columns([3, 1.3, 1.6, 1.6, 1.2])
for k, h in enumerate((_("Layer"), _("Weight"), _("From"), _("Until"), _("Night only"))):
    head[k].markdown(f"**{h}**")
has_data = {"incidents": inc_rng is not None, "vacant parcels": s.count(Layer.PARCELS) > 0}
for kind in pt.SOURCE_KINDS:
    c = st.columns([3, 1.3, 1.6, 1.6, 1.2])
    standing = kind == "vacant parcels"  # no dates, no night: conditions, not events
    on = c[0].checkbox(_(SOURCE_LABELS[kind]), value=has_data.get(kind, True),
                       key=f"src-{kind}", help=_(HELP[kind]))
    weight = c[1].number_input(_("Weight"), min_value=0.1, max_value=100.0,
                               value=DEFAULT_WEIGHTS[kind], step=0.5, key=f"w-{kind}",
                               format="%g",  # "2", not "2.00": no decimal point to misread
                               label_visibility="collapsed")
    start = c[2].date_input(_("From"), value=first, key=f"from-{kind}",
                            label_visibility="collapsed", disabled=standing)
    end = c[3].date_input(_("Until"), value=last, key=f"to-{kind}", label_visibility="collapsed",
                          disabled=standing)
    night = c[4].checkbox(_("Night only"), key=f"night-{kind}", label_visibility="collapsed",
                          value=kind == "night-time concerns",
                          disabled=kind == "night-time concerns" or standing)
    if on:
        chosen.append(pt.Source(
            kind, float(weight), pd.Timestamp(start, tz=ZONE),
            pd.Timestamp(end, tz=ZONE) + pd.Timedelta(days=1), bool(night)))

with st.expander(_("Grid, kernel and significance"), expanded=False):
    g1, g2, g3, g4 = st.columns(4)
    shape = g1.radio(_("Cells"), ["square", "hex"], horizontal=True,
                     format_func=lambda x: _("Squares") if x == "square" else _("Hexagons"))
    cell = g2.number_input(_("Cell size (m, 0 = rule)"), min_value=0.0, max_value=2000.0,
                           value=0.0, step=10.0,
                           help=_("The rule: a cell that would hold one event on average if "
                                  "the events were spread at random (twice Clark and Evans' "
                                  "expected nearest-neighbour distance), never smaller than the "
                                  "observed mean nearest-neighbour distance."))
    radius = g3.number_input(_("Kernel radius (m, 0 = rule)"), min_value=0.0,
                             max_value=10000.0, value=0.0, step=25.0,
                             help=_("The rule: the mean distance from each event location to "
                                    "its 10th nearest other location, and at least 1.5 "
                                    "cells."))
    perms = g4.selectbox(_("Permutations"), [99, 999, 9999], index=1,
                         format_func=i18n.number,
                         help=_("Gi* significance by conditional permutation (esda): each "
                                "cell's statistic against its own permutation distribution. "
                                "More permutations give a steadier reference; 999 is the usual "
                                "choice."))
    span_days = max(1, (last - first).days)
    split_on = st.checkbox(_("Hold back a later period to test the hotspots"), value=True)
    split_day = st.date_input(_("Make hotspots from events before"), value=first + timedelta(
        days=int(span_days * 0.75)), min_value=first, max_value=last, disabled=not split_on)

if st.button(_("Find hotspots"), type="primary", disabled=not chosen):
    split = pd.Timestamp(split_day, tz=ZONE) if split_on else None
    try:
        with st.spinner(_("Counting, smoothing and testing every cell…")):
            st.session_state["hot"] = find_hotspots(
                s.url, s.revision(), tuple(chosen), split, shape, cell or None, radius or None,
                int(perms), i18n.current())
            st.session_state["hot_sources"] = tuple(chosen)
        st.session_state.pop("plan", None)
    except UnusableInputError as exc:
        st.session_state.pop("hot", None)
        st.error(md(exc))
if not chosen:
    st.warning(_("Tick at least one layer."))

result = st.session_state.get("hot")
if result is not None:
    hot: hs.Hotspots = result["hot"]  # type: ignore[assignment]
    frame: gpd.GeoDataFrame = result["frame"]  # type: ignore[assignment]
    bins = hot.gi.bins
    m = st.columns(5)
    m[0].metric(_("Events"), i18n.number(hot.n_events))
    m[1].metric(_("Cells"), i18n.number(len(hot.grid)))
    m[2].metric(_("Hot spots (99/95/90%)"), "/".join(
        i18n.number(int((bins == b).sum())) for b in (3, 2, 1)))
    m[3].metric(_("Cold spots"), i18n.number(int((bins < 0).sum())) if hot.cold.possible
                else _("not possible here"), help=hot.cold.describe())
    m[4].metric(_("Kernel radius"), f"{i18n.number(hot.radius)} m")
    counted = st.session_state.get("hot_sources", ())
    st.caption(_("Counted: {sources}. {hotspots}. False-discovery-rate cut-offs on the "
                 "two-sided p-values: {cuts}.").format(
        sources="; ".join(md(src.describe()) for src in counted), hotspots=hot.describe(),
        cuts=", ".join(f"{i18n.percent(c)}: p < {significant(v)}"
                       for c, v in sorted(hot.gi.thresholds.items()))))
    views = {"gi": _("Gi* hot and cold spots"), "kde": _("Kernel density")}
    view = st.radio(_("Show"), list(views), horizontal=True, format_func=views.__getitem__)
    fmap = build_patrol_map(frame, show_density=view == "kde",
                            visits=visits_frame(), plan=st.session_state.get("plan"), tz=ZONE)
    clicked = show_map(fmap, height=520, key="patrol-map",
                       returned_objects=["last_clicked"])
    legend = " ".join(
        f"<span style='background:{c};padding:0 8px;margin-left:6px'>&nbsp;</span> "
        f"{html.escape(hs.bin_label(b))}" for b, c in BIN_COLOURS.items()
        if c and (b > 0 or hot.cold.possible))
    st.caption(legend, unsafe_allow_html=True)
    if clicked and clicked.get("last_clicked"):
        pos = clicked["last_clicked"]
        st.session_state["station_text"] = f"{pos['lng']:.6f}, {pos['lat']:.6f}"

    show_top_cells(hot)
    evaluation: fc.Evaluation | None = result["forecast"]  # type: ignore[assignment]
    if evaluation is not None:
        show_forecasts(evaluation, tz())
    elif result["n_later"] == 0:
        st.caption(_("No later period held back, so the hotspots are not tested here."))

    # -- emerging hot spots and responsible use (app_pages/_patrol_trends.py) -----------
    trends.emerging_section(me, hot, tuple(chosen), url=s.url, revision=s.revision(),
                            role=str(acting), tz=tz())
    trends.responsible_use_section(me, hot, tuple(chosen), url=s.url, revision=s.revision(),
                                   role=str(acting), tz=tz())

    # -- 2. routes ----------------------------------------------------------------------
    st.subheader(_("2. Bike routes"))
    upload = st.file_uploader(_("Street network (optional, up to {mb} MB: an OpenStreetMap "
                                ".osm file or street lines as .geojson or .gpkg; default: the "
                                "store's streets)").format(mb=i18n.number(nw.MAX_UPLOAD_MB)),
                              type=["osm", "xml", "geojson", "json", "gpkg"],
                              max_upload_size=nw.MAX_UPLOAD_MB)
    try:
        if upload is not None:
            if upload.size > nw.MAX_UPLOAD_MB * 1024 * 1024:
                raise nw.NetworkError(_("{name} is {mb} MB; the limit is {limit} MB").format(
                    name=upload.name, mb=i18n.number(round(upload.size / 2**20)),
                    limit=i18n.number(nw.MAX_UPLOAD_MB)))
            net = file_network(upload.name, upload.getvalue())
        else:
            net = store_network(s.url, s.revision())
    except UnusableInputError as exc:
        st.error(md(exc))
        st.stop()
    st.caption(_("Network: {network}.").format(network=md(net.describe()))
               + (" " + _("Joining the lines: {joined}.").format(
                   joined=md(net.noding.describe())) if net.noding else ""))
    if "station_text" not in st.session_state:
        lon0, lat0 = net.lonlat[net.nearest(net.xy.mean(axis=0)[None, :])[0][0]]
        st.session_state["station_text"] = f"{lon0:.6f}, {lat0:.6f}"
    r1, r2, r3, r4, r5 = st.columns(5)
    station_text = r1.text_input(_("Station (lon, lat)"), key="station_text",
                                 help=_("Click the map above to set it."))
    shift = r2.number_input(_("Shift (minutes)"), min_value=10, max_value=1440, value=240,
                            step=15)
    speed = r3.number_input(_("Bike speed (km/h)"), min_value=2.0, max_value=40.0, value=12.0,
                            step=1.0, format="%g")
    dwell = r4.number_input(_("Minutes at each stop"), min_value=0,
                            max_value=int(pt.MAX_DWELL_MIN), value=12,
                            help=_("At most {most}: the deterrence a stop leaves behind grows "
                                   "with its length up to about 15 minutes and not beyond "
                                   "(Koper 1995); 10 to 15 minutes is the advice.").format(
                                       most=i18n.number(pt.MAX_DWELL_MIN)))
    officers = r5.number_input(_("Officers"), min_value=1, max_value=20, value=1)
    q1, q2, q3 = st.columns([1, 1, 3])
    start_day = q1.date_input(_("Shift date"), value=date.today(), key="shift_day")
    start_time = q2.time_input(_("Shift starts"), value=time(20, 0), key="shift_time")
    stop_names = {
        "forecast": _("Best forecast ({method})").format(
            method=_(fc.NAMES[evaluation.chosen]).lower()) if evaluation is not None
        else _("Best forecast"),
        "gi": _("Gi* hot spots and strong single cells"), "kde": _("Highest density cells")}
    stops_from = q3.radio(_("Candidate stops"), [k for k in stop_names
                                                 if k != "forecast" or evaluation is not None],
                          horizontal=True, format_func=stop_names.__getitem__,
                          help=_("Best forecast: the method that caught the most events per "
                                 "area on the validation window."))
    places: dict[str, tuple[float, float]] = {}
    for row in me.spots().itertuples():
        places[_("Problem spot: {title}").format(title=row.title)] = (float(row.lon),
                                                                      float(row.lat))
    for row in me.audits().drop_duplicates("place_name").itertuples():
        if row.enough_answers and row.overall == row.overall and row.overall < pt.WEAK_AUDIT:
            places[_("Weak audit: {place} ({score})").format(
                place=row.place_name, score=i18n.number(round(row.overall)))] = (
                float(row.lon), float(row.lat))
    must = st.multiselect(_("Must visit"), sorted(places), placeholder=_("Choose places"),
                          help=_("These are always in a route."))
    if dwell < pt.KOPER_MIN_DWELL_MIN:
        st.caption(_("Stops under {least} minutes leave little deterrence behind once the "
                     "officer rides on (Koper 1995).").format(
                         least=i18n.number(pt.KOPER_MIN_DWELL_MIN)))

    if st.button(_("Plan routes"), type="primary"):
        try:
            parts = [float(x) for x in station_text.replace(";", ",").split(",")]
            if len(parts) != 2:
                raise ValueError
        except ValueError:
            st.error(_("Give the station as longitude, latitude (for example -94.575, "
                       "39.038), or click the map."))
            st.stop()
        if stops_from == "forecast" and evaluation is not None:
            candidates = pt.candidates_from(hot, "forecast", forecast=evaluation.expected,
                                            forecast_name=_(fc.NAMES[evaluation.chosen]))
        else:
            candidates = pt.candidates_from(hot, stops_from)  # type: ignore[arg-type]
        candidates += [pt.Candidate(name, *places[name], 0.0, must=True) for name in must]
        when = datetime.combine(start_day, start_time, tzinfo=ZONE)
        try:
            with st.spinner(ngettext(
                    "Searching routes through {n} candidate stop (up to 15 seconds)…",
                    "Searching routes through {n} candidate stops (up to 15 seconds)…",
                    len(candidates)).format(n=i18n.number(len(candidates)))):
                st.session_state["plan"] = pt.plan_patrol(
                    net, candidates, pt.PatrolSettings(
                        (parts[0], parts[1]), shift_min=float(shift), speed_kmh=float(speed),
                        dwell_min=float(dwell), officers=int(officers), start=when),
                    time_limit=15.0)
            st.rerun()
        except UnusableInputError as exc:
            st.session_state.pop("plan", None)
            st.error(md(exc))

    plan = st.session_state.get("plan")
    if plan is not None:
        st.success(plan.summary())
        for note in plan.notes:
            st.caption(note)
        stops = plan.stops_frame()
        st.dataframe(stops.drop(columns=["lon", "lat"]), hide_index=True, width="stretch",
                     column_config={
                         "officer": st.column_config.NumberColumn(_("Officer")),
                         "stop": st.column_config.NumberColumn(_("Stop")),
                         "place": _("Place"), "why": _("Why it is a stop"),
                         "arrive": _("Arrive"), "leave": _("Leave"),
                         "must_visit": st.column_config.CheckboxColumn(_("Must visit")),
                         "prize": st.column_config.NumberColumn(
                             _("Weight collected"), help=_("The weighted events the stop "
                                                           "collects for the route."))})
        d1, d2 = st.columns(2)
        d1.download_button(_("Download GPX for the phone"), pt.to_gpx(plan),
                           file_name="patrol.gpx", mime="application/gpx+xml")
        d2.download_button(_("Download the printable sheet"),
                           pt.sheet_html(plan, net=net,
                                         hot_cells=frame[frame["gi_bin"] > 0]),
                           file_name="patrol-sheet.html", mime="text/html")

# -- 3. visit log ---------------------------------------------------------------------

st.subheader(_("3. Visit log"))
plan = st.session_state.get("plan")
options: dict[str, tuple[float, float]] = {}
if plan is not None:
    for r in plan.routes:
        for stop in r.stops:
            options[_("Officer {officer}, stop {stop}: {place}").format(
                officer=r.officer, stop=stop.order, place=stop.place)] = (stop.lon, stop.lat)
with st.form("visit", clear_on_submit=True):
    v1, v2 = st.columns(2)
    officer = v1.text_input(_("Officer"), max_chars=200)
    place = v2.selectbox(_("Stop"), list(options) or [_("(plan routes first, or give a "
                                                        "point)")])
    v3, v4, v5 = st.columns(3)
    other = v3.text_input(_("Or a point (lon, lat)"), help=_("For a place not on the plan."))
    vday = v4.date_input(_("Date"), value=date.today())
    vtime = v5.time_input(_("Time"), value=datetime.now(ZONE).time().replace(second=0,
                                                                             microsecond=0))
    note = st.text_area(_("Note"), max_chars=2000)
    if st.form_submit_button(_("Log the visit")):
        try:
            if other.strip():
                try:
                    lon_v, lat_v = (float(x) for x in other.split(","))
                except ValueError:
                    raise pt.VisitError(_("give the point as longitude, latitude")) from None
                label = _("Point {lon}, {lat}").format(lon=f"{lon_v:.5f}", lat=f"{lat_v:.5f}")
            elif place in options:
                lon_v, lat_v = options[place]
                label = place
            else:
                raise pt.VisitError(_("choose a stop from the plan or give a point"))
            me.log_visit(officer=officer, place=label, lon=lon_v, lat=lat_v,
                         visited_at=datetime.combine(vday, vtime, tzinfo=ZONE), note=note)
            st.success(_("Logged: {place}").format(place=md(label)))
        except CptedError as exc:
            st.error(md(exc))
recent = visits_frame()
if recent.empty:
    st.caption(_("No visits logged in the last 30 days."))
else:
    if st.session_state.get("hot") is None:  # the hotspot map above draws them otherwise
        vmap = build_visits_map(recent, tz=ZONE)
        show_map(vmap, height=320, key="visits-map",
                 returned_objects=[])
    shown = recent.assign(visited_at=[i18n.when(t, tz=tz()) for t in recent["visited_at"]])[
        ["visited_at", "officer", "place", "note"]]
    st.dataframe(shown, hide_index=True, width="stretch",
                 column_config={"visited_at": _("Visited"), "officer": _("Officer"),
                                "place": _("Place"), "note": _("Note")})
    st.caption(ngettext("{n} visit in the last 30 days, drawn on the map as a white dot.",
                        "{n} visits in the last 30 days, drawn on the map as white dots.",
                        len(recent)).format(n=i18n.number(len(recent))))
