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
from app_pages._forecast import show_forecasts, show_top_cells
from app_pages._maps import show_map
from app_pages._state import access, role, store, tz
from app_pages._text import md
from cpted import forecast as fc
from cpted import hotspots as hs
from cpted import network as nw
from cpted import patrol as pt
from cpted.maps import BIN_COLOURS, build_patrol_map, build_visits_map
from cpted.privacy import STAFF
from layers.errors import CptedError, UnusableInputError
from layers.schema import Layer

s = store()
me = access()
st.title("Patrol")
st.caption("Where problems concentrate, how sure we can be, and a bike route per officer "
           "through the places that matter most in one shift.")
acting = role()
if acting not in STAFF:
    st.info("Patrol planning works from exact locations of reports, so it is open to officers "
            "and staff only. Ask your coordinator for access.")
    st.stop()

ZONE = ZoneInfo(tz())


@st.cache_data(show_spinner=False, max_entries=16)
def find_hotspots(url: str, revision: int, sources: tuple[pt.Source, ...],
                  split: pd.Timestamp | None, shape: str, cell: float | None,
                  radius: float | None, permutations: int) -> dict[str, object]:
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


@st.cache_resource(show_spinner="Building the street network…", max_entries=4)
def store_network(url: str, revision: int) -> nw.Network:
    streets = me.layer(Layer.STREETS)
    if streets.empty:
        raise nw.NetworkError("the store holds no streets: import street centrelines, or "
                              "upload a network file below")
    return nw.from_lines(streets, source="the store's streets")


@st.cache_resource(show_spinner="Reading the network file…", max_entries=4)
def file_network(name: str, data: bytes) -> nw.Network:
    with tempfile.TemporaryDirectory(prefix="cpted-net-") as tmp:
        path = Path(tmp) / Path(name).name
        path.write_bytes(data)
        return nw.read_network(path)


def visits_frame() -> gpd.GeoDataFrame:
    return me.visits(since=datetime.now(ZONE) - timedelta(days=30))


# -- 1. what counts ------------------------------------------------------------------

st.subheader("1. What counts")
rng = s.time_range(Layer.CONCERNS, "requested_datetime")
inc_rng = s.time_range(Layer.INCIDENTS, "occurred_datetime")
spans = [r for r in (rng, inc_rng) if r is not None]
first = min(r[0] for r in spans).tz_convert(ZONE).date() if spans else date.today()
last = max(r[1] for r in spans).tz_convert(ZONE).date() if spans else date.today()

DEFAULT_WEIGHTS = {"open concerns": 1.0, "night-time concerns": 2.0, "weak CPTED audits": 3.0,
                   "incidents": 1.0, "vacant parcels": pt.DEFAULT_WEIGHTS["vacant parcels"]}
HELP = {"open concerns": "Reports still open, wherever and whenever they came in.",
        "night-time concerns": "Reports about the night (their day/night answer, or made "
                               "between 19:00 and 07:00).",
        "weak CPTED audits": "Audited places scoring under 60; a place at 0 counts fully, one "
                             "at 59 barely. Audits with fewer than half their items answered "
                             "have no rated score and do not count.",
        "incidents": "Imported incident records (for example police crime data).",
        "vacant parcels": "Vacant lots and vacant buildings from the city's parcel file. "
                          "They stand rather than happen, so no dates or night apply, and "
                          "each counts half a report by default."}
chosen: list[pt.Source] = []
head = st.columns([3, 1.3, 1.6, 1.6, 1.2])
for k, h in enumerate(("Layer", "Weight", "From", "Until", "Night only")):
    head[k].markdown(f"**{h}**")
has_data = {"incidents": inc_rng is not None, "vacant parcels": s.count(Layer.PARCELS) > 0}
for kind in pt.SOURCE_KINDS:
    c = st.columns([3, 1.3, 1.6, 1.6, 1.2])
    standing = kind == "vacant parcels"  # no dates, no night: conditions, not events
    on = c[0].checkbox(kind[0].upper() + kind[1:], value=has_data.get(kind, True),
                       key=f"src-{kind}", help=HELP[kind])
    weight = c[1].number_input("Weight", min_value=0.1, max_value=100.0,
                               value=DEFAULT_WEIGHTS[kind], step=0.5, key=f"w-{kind}",
                               label_visibility="collapsed")
    start = c[2].date_input("From", value=first, key=f"from-{kind}",
                            label_visibility="collapsed", disabled=standing)
    end = c[3].date_input("Until", value=last, key=f"to-{kind}", label_visibility="collapsed",
                          disabled=standing)
    night = c[4].checkbox("Night only", key=f"night-{kind}", label_visibility="collapsed",
                          value=kind == "night-time concerns",
                          disabled=kind == "night-time concerns" or standing)
    if on:
        chosen.append(pt.Source(
            kind, float(weight), pd.Timestamp(start, tz=ZONE),
            pd.Timestamp(end, tz=ZONE) + pd.Timedelta(days=1), bool(night)))

with st.expander("Grid, kernel and significance", expanded=False):
    g1, g2, g3, g4 = st.columns(4)
    shape = g1.radio("Cells", ["square", "hex"], horizontal=True,
                     format_func=lambda x: "Squares" if x == "square" else "Hexagons")
    cell = g2.number_input("Cell size (m, 0 = rule)", min_value=0.0, max_value=2000.0,
                           value=0.0, step=10.0,
                           help="The rule: a cell that would hold one event on average if the "
                                "events were spread at random (twice Clark and Evans' expected "
                                "nearest-neighbour distance), never smaller than the observed "
                                "mean nearest-neighbour distance.")
    radius = g3.number_input("Kernel radius (m, 0 = rule)", min_value=0.0, max_value=10000.0,
                             value=0.0, step=25.0,
                             help="The rule: the mean distance from each event location to its "
                                  "10th nearest other location, and at least 1.5 cells.")
    perms = g4.selectbox("Permutations", [99, 999, 9999], index=1,
                         help="Gi* significance by conditional permutation (esda): each "
                              "cell's statistic against its own permutation distribution. More "
                              "permutations give a steadier reference; 999 is the usual choice.")
    span_days = max(1, (last - first).days)
    split_on = st.checkbox("Hold back a later period to test the hotspots", value=True)
    split_day = st.date_input("Make hotspots from events before", value=first + timedelta(
        days=int(span_days * 0.75)), min_value=first, max_value=last, disabled=not split_on)

if st.button("Find hotspots", type="primary", disabled=not chosen):
    split = pd.Timestamp(split_day, tz=ZONE) if split_on else None
    try:
        with st.spinner("Counting, smoothing and testing every cell…"):
            st.session_state["hot"] = find_hotspots(
                s.url, s.revision(), tuple(chosen), split, shape, cell or None, radius or None,
                int(perms))
            st.session_state["hot_sources"] = "; ".join(md(src.describe()) for src in chosen)
        st.session_state.pop("plan", None)
    except UnusableInputError as exc:
        st.session_state.pop("hot", None)
        st.error(md(exc))
if not chosen:
    st.warning("Tick at least one layer.")

result = st.session_state.get("hot")
if result is not None:
    hot: hs.Hotspots = result["hot"]  # type: ignore[assignment]
    frame: gpd.GeoDataFrame = result["frame"]  # type: ignore[assignment]
    bins = hot.gi.bins
    m = st.columns(5)
    m[0].metric("Events", f"{hot.n_events:,}")
    m[1].metric("Cells", f"{len(hot.grid):,}")
    m[2].metric("Hot spots (99/95/90%)", f"{(bins == 3).sum()}/{(bins == 2).sum()}/"
                                          f"{(bins == 1).sum()}")
    m[3].metric("Cold spots", f"{(bins < 0).sum():,}" if hot.cold.possible
                else "not possible here", help=hot.cold.describe())
    m[4].metric("Kernel radius", f"{hot.radius:g} m")
    st.caption("Counted: " + st.session_state.get("hot_sources", "") + ". "
               + hot.describe() + ". False-discovery-rate cut-offs on the two-sided "
               "p-values: " + ", ".join(f"{c:.0%}: p < {v:.2g}" for c, v in
                                        sorted(hot.gi.thresholds.items())) + ".")
    view = st.radio("Show", ["Gi* hot and cold spots", "Kernel density"], horizontal=True)
    fmap = build_patrol_map(frame, show_density=view == "Kernel density",
                            visits=visits_frame(), plan=st.session_state.get("plan"), tz=ZONE)
    clicked = show_map(fmap, height=520, key="patrol-map",
                       returned_objects=["last_clicked"])
    legend = " ".join(
        f"<span style='background:{c};padding:0 8px;margin-left:6px'>&nbsp;</span> "
        f"{html.escape(hs.BIN_LABELS[b])}" for b, c in BIN_COLOURS.items()
        if c and (b > 0 or hot.cold.possible))
    st.markdown(f"<small>{legend}</small>", unsafe_allow_html=True)
    if clicked and clicked.get("last_clicked"):
        pos = clicked["last_clicked"]
        st.session_state["station_text"] = f"{pos['lng']:.6f}, {pos['lat']:.6f}"

    show_top_cells(hot)
    evaluation: fc.Evaluation | None = result["forecast"]  # type: ignore[assignment]
    if evaluation is not None:
        show_forecasts(evaluation, tz())
    elif result["n_later"] == 0:
        st.caption("No later period held back, so the hotspots are not tested here.")

    # -- emerging hot spots and responsible use (app_pages/_patrol_trends.py) -----------
    trends.emerging_section(me, hot, tuple(chosen), url=s.url, revision=s.revision(),
                            role=str(acting), tz=tz())
    trends.responsible_use_section(me, hot, tuple(chosen), url=s.url, revision=s.revision(),
                                   role=str(acting), tz=tz())

    # -- 2. routes ----------------------------------------------------------------------
    st.subheader("2. Bike routes")
    upload = st.file_uploader(f"Street network (optional, up to {nw.MAX_UPLOAD_MB} MB: an "
                              "OpenStreetMap .osm file or street lines as .geojson or .gpkg; "
                              "default: the store's streets)",
                              type=["osm", "xml", "geojson", "json", "gpkg"],
                              max_upload_size=nw.MAX_UPLOAD_MB)
    try:
        if upload is not None:
            if upload.size > nw.MAX_UPLOAD_MB * 1024 * 1024:
                raise nw.NetworkError(f"{upload.name} is {upload.size / 2**20:.0f} MB; the "
                                      f"limit is {nw.MAX_UPLOAD_MB} MB")
            net = file_network(upload.name, upload.getvalue())
        else:
            net = store_network(s.url, s.revision())
    except UnusableInputError as exc:
        st.error(md(exc))
        st.stop()
    st.caption(f"Network: {md(net.describe())}."
               + (f" Joining the lines: {md(net.noding.describe())}." if net.noding else ""))
    if "station_text" not in st.session_state:
        lon0, lat0 = net.lonlat[net.nearest(net.xy.mean(axis=0)[None, :])[0][0]]
        st.session_state["station_text"] = f"{lon0:.6f}, {lat0:.6f}"
    r1, r2, r3, r4, r5 = st.columns(5)
    station_text = r1.text_input("Station (lon, lat)", key="station_text",
                                 help="Click the map above to set it.")
    shift = r2.number_input("Shift (minutes)", min_value=10, max_value=1440, value=240, step=15)
    speed = r3.number_input("Bike speed (km/h)", min_value=2.0, max_value=40.0, value=12.0,
                            step=1.0)
    dwell = r4.number_input("Minutes at each stop", min_value=0,
                            max_value=int(pt.MAX_DWELL_MIN), value=12,
                            help=f"At most {pt.MAX_DWELL_MIN:g}: the deterrence a stop leaves "
                                 "behind grows with its length up to about 15 minutes and "
                                 "not beyond (Koper 1995); 10 to 15 minutes is the advice.")
    officers = r5.number_input("Officers", min_value=1, max_value=20, value=1)
    q1, q2, q3 = st.columns([1, 1, 3])
    start_day = q1.date_input("Shift date", value=date.today(), key="shift_day")
    start_time = q2.time_input("Shift starts", value=time(20, 0), key="shift_time")
    stop_names = {"forecast": "Best forecast" + (
        f" ({fc.NAMES[evaluation.chosen].lower()})" if evaluation is not None else ""),
        "gi": "Gi* hot spots and strong single cells", "kde": "Highest density cells"}
    stops_from = q3.radio("Candidate stops", [k for k in stop_names
                                              if k != "forecast" or evaluation is not None],
                          horizontal=True, format_func=stop_names.__getitem__,
                          help="Best forecast: the method that caught the most events per "
                               "area on the validation window.")
    places: dict[str, tuple[float, float]] = {}
    for row in me.spots().itertuples():
        places[f"Problem spot: {row.title}"] = (float(row.lon), float(row.lat))
    for row in me.audits().drop_duplicates("place_name").itertuples():
        if row.enough_answers and row.overall == row.overall and row.overall < pt.WEAK_AUDIT:
            places[f"Weak audit: {row.place_name} ({row.overall:.0f})"] = (float(row.lon),
                                                                           float(row.lat))
    must = st.multiselect("Must visit", sorted(places), help="These are always in a route.")
    if dwell < pt.KOPER_MIN_DWELL_MIN:
        st.caption(f"Stops under {pt.KOPER_MIN_DWELL_MIN:g} minutes leave little deterrence "
                   "behind once the officer rides on (Koper 1995).")

    if st.button("Plan routes", type="primary"):
        try:
            parts = [float(x) for x in station_text.replace(";", ",").split(",")]
            if len(parts) != 2:
                raise ValueError
        except ValueError:
            st.error("Give the station as longitude, latitude (for example -94.575, 39.038), "
                     "or click the map.")
            st.stop()
        if stops_from == "forecast" and evaluation is not None:
            candidates = pt.candidates_from(hot, "forecast", forecast=evaluation.expected,
                                            forecast_name=fc.NAMES[evaluation.chosen])
        else:
            candidates = pt.candidates_from(hot, stops_from)  # type: ignore[arg-type]
        candidates += [pt.Candidate(name, *places[name], 0.0, must=True) for name in must]
        when = datetime.combine(start_day, start_time, tzinfo=ZONE)
        try:
            with st.spinner(f"Searching routes through {len(candidates)} candidate stops "
                            "(up to 15 seconds)…"):
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
        st.dataframe(stops.drop(columns=["lon", "lat"]), hide_index=True, width="stretch")
        d1, d2 = st.columns(2)
        d1.download_button("Download GPX for the phone", pt.to_gpx(plan),
                           file_name="patrol.gpx", mime="application/gpx+xml")
        d2.download_button("Download the printable sheet",
                           pt.sheet_html(plan, net=net,
                                         hot_cells=frame[frame["gi_bin"] > 0]),
                           file_name="patrol-sheet.html", mime="text/html")

# -- 3. visit log ---------------------------------------------------------------------

st.subheader("3. Visit log")
plan = st.session_state.get("plan")
options: dict[str, tuple[float, float]] = {}
if plan is not None:
    for r in plan.routes:
        for stop in r.stops:
            options[f"Officer {r.officer}, stop {stop.order}: {stop.place}"] = (stop.lon,
                                                                                stop.lat)
with st.form("visit", clear_on_submit=True):
    v1, v2 = st.columns(2)
    officer = v1.text_input("Officer", max_chars=200)
    place = v2.selectbox("Stop", list(options) or ["(plan routes first, or give a point)"])
    v3, v4, v5 = st.columns(3)
    other = v3.text_input("Or a point (lon, lat)", help="For a place not on the plan.")
    vday = v4.date_input("Date", value=date.today())
    vtime = v5.time_input("Time", value=datetime.now(ZONE).time().replace(second=0,
                                                                          microsecond=0))
    note = st.text_area("Note", max_chars=2000)
    if st.form_submit_button("Log the visit"):
        try:
            if other.strip():
                try:
                    lon_v, lat_v = (float(x) for x in other.split(","))
                except ValueError:
                    raise pt.VisitError("give the point as longitude, latitude") from None
                label = f"Point {lon_v:.5f}, {lat_v:.5f}"
            elif place in options:
                lon_v, lat_v = options[place]
                label = place
            else:
                raise pt.VisitError("choose a stop from the plan or give a point")
            me.log_visit(officer=officer, place=label, lon=lon_v, lat=lat_v,
                         visited_at=datetime.combine(vday, vtime, tzinfo=ZONE), note=note)
            st.success(f"Logged: {md(label)}")
        except CptedError as exc:
            st.error(md(exc))
recent = visits_frame()
if recent.empty:
    st.caption("No visits logged in the last 30 days.")
else:
    if st.session_state.get("hot") is None:  # the hotspot map above draws them otherwise
        vmap = build_visits_map(recent, tz=ZONE)
        show_map(vmap, height=320, key="visits-map",
                 returned_objects=[])
    shown = recent.assign(visited_at=recent["visited_at"].dt.tz_convert(ZONE).dt.strftime(
        "%Y-%m-%d %H:%M"))[["visited_at", "officer", "place", "note"]]
    st.dataframe(shown, hide_index=True, width="stretch")
    st.caption(f"{len(recent)} visit(s) in the last 30 days, drawn on the map as white dots.")
