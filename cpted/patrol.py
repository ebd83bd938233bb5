"""Patrol planning: what counts, hotspots to stops, routes on streets, GPX, sheets, visits.

The pieces live in :mod:`cpted.hotspots` (grids and statistics),
:mod:`cpted.network` (streets) and :mod:`cpted.routing` (the optimisation);
this module joins them to the store and to what an officer takes out.
"""

from __future__ import annotations

import base64
import html
import io
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from cpted import hotspots as hs
from cpted import i18n
from cpted.i18n import N_, _, ngettext
from cpted.network import Network, NetworkError, path_nodes
from cpted.routing import Problem, RoutingError, solve
from layers.clock import now_iso
from layers.crs import WGS84
from layers.errors import UnusableInputError
from layers.repos import visits as visit_repo
from layers.schema import Layer
from layers.store import Store

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

SourceKind = Literal["open concerns", "night-time concerns", "weak CPTED audits", "incidents",
                     "vacant parcels"]
SOURCE_KINDS: tuple[SourceKind, ...] = ("open concerns", "night-time concerns",
                                        "weak CPTED audits", "incidents", "vacant parcels")
#: Each kind as words, kept in English (the stored kind) and shown as ``_(SOURCE_WORDS[k])``.
SOURCE_WORDS: dict[str, str] = {
    "open concerns": N_("open concerns"), "night-time concerns": N_("night-time concerns"),
    "weak CPTED audits": N_("weak CPTED audits"), "incidents": N_("incidents"),
    "vacant parcels": N_("vacant parcels")}
#: Each kind's weight when none is given. A vacant lot or building is a standing
#: condition rather than something that happened, so it counts half a report (our
#: choice): remediating vacant lots has been found to cut gun violence around them
#: (Branas et al. 2018, PNAS 115(12):2946-2951), so they are evidence where to look,
#: but not of how much goes on there.
DEFAULT_WEIGHTS: dict[SourceKind, float] = {"vacant parcels": 0.5}
#: The parcel statuses that count as vacant.
VACANT_STATUSES = ("vacant_lot", "vacant_building")
#: Night for timestamps with no day/night tag: 19:00 to 07:00 local time (our choice).
NIGHT_HOURS = (19, 7)
#: An audit counts as weak below this overall score (the "Adequate" band starts at 60).
WEAK_AUDIT = 60.0
#: Default bike speed, km/h: an unhurried patrol pace with stops at junctions (our assumption).
BIKE_KMH = 12.0
DWELL_MIN = 12.0
#: The longest stop we plan, minutes: Koper (1995, "Just enough police presence: reducing
#: crime and disorderly behavior by optimizing patrol time in crime hot spots", Justice
#: Quarterly 12(4):649-672) found that the time crime stays away after police leave a hot
#: spot grows with the length of their stop up to about 15 minutes, and falls beyond;
#: 10-15 minutes is the advice drawn from it. Longer stops spend shift time for nothing.
MAX_DWELL_MIN = 15.0
#: The shortest stop Koper's curve recommends; shorter ones are allowed (a pass-through),
#: and the page says what they leave behind.
KOPER_MIN_DWELL_MIN = 10.0
MAX_SNAP_M = 250.0


@dataclass(frozen=True)
class Source:
    """One layer that counts toward hotspots, with a weight and a time window."""

    kind: SourceKind
    weight: float = 1.0
    start: pd.Timestamp | None = None
    end: pd.Timestamp | None = None
    night_only: bool = False

    def describe(self) -> str:
        """The layer, its weight, night only and its window, in the language in use."""
        said = _("{kind} x{weight}").format(kind=_(SOURCE_WORDS.get(self.kind, self.kind)),
                                            weight=i18n.number(self.weight))
        if self.kind == "vacant parcels":  # standing conditions: no window, no night
            return said
        if self.night_only:
            said += _(" (night only)")
        if self.start is not None or self.end is not None:
            a = self.start.date().isoformat() if self.start is not None else _("the start")
            b = self.end.date().isoformat() if self.end is not None else _("now")
            said += _(", {start} to {end}").format(start=a, end=b)
        return said


SOURCE_NAMES: dict[str, SourceKind] = {
    "concerns": "open concerns", "open": "open concerns", "open-concerns": "open concerns",
    "open concerns": "open concerns", "night": "night-time concerns",
    "night-time concerns": "night-time concerns", "audits": "weak CPTED audits",
    "weak CPTED audits": "weak CPTED audits", "incidents": "incidents",
    "parcels": "vacant parcels", "vacant": "vacant parcels", "vacant-parcels": "vacant parcels",
    "vacant parcels": "vacant parcels",
}


def parse_sources(specs: Sequence[str], *, start: pd.Timestamp | None = None,
                  end: pd.Timestamp | None = None, night_only: bool = False) -> list[Source]:
    """Sources from ``KIND[:WEIGHT]`` strings (every kind when empty); a kind without a
    weight takes its :data:`DEFAULT_WEIGHTS` one (1 but for vacant parcels, 0.5)."""
    if not specs:
        return [Source(k, DEFAULT_WEIGHTS.get(k, 1.0), start, end, night_only)
                for k in SOURCE_KINDS]
    out = []
    for spec in specs:
        name, _, weight = spec.partition(":")
        kind = SOURCE_NAMES.get(name.strip().lower()) or SOURCE_NAMES.get(name.strip())
        if kind is None:
            raise hs.HotspotError(f"unknown source {name!r}; use concerns, night, audits, "
                                  "incidents or parcels")
        try:
            w = float(weight) if weight else DEFAULT_WEIGHTS.get(kind, 1.0)
        except ValueError:
            raise hs.HotspotError(f"the weight in {spec!r} is not a number") from None
        out.append(Source(kind, w, start, end, night_only))
    return out


def _utc(ts: object) -> pd.Timestamp:
    t = pd.Timestamp(ts)
    return t.tz_localize("UTC") if t.tzinfo is None else t


def _window(frame: pd.DataFrame, column: str, source: Source) -> pd.Series:
    keep = pd.Series(True, index=frame.index)
    if source.start is not None:
        keep &= frame[column] >= _utc(source.start)
    if source.end is not None:
        keep &= frame[column] < _utc(source.end)
    return keep


def _is_night(when: pd.Series, tz: str) -> pd.Series:
    hour = when.dt.tz_convert(tz).dt.hour
    start, end = NIGHT_HOURS
    return (hour >= start) | (hour < end)


def gather_events(store: Store, sources: Sequence[Source], *, tz: str | None = None
                  ) -> gpd.GeoDataFrame:
    """Events from the chosen layers as WGS84 points with ``source``, ``weight`` and ``when``.

    Weak audits count with weight x (60 - overall) / 60, so a place scoring 0 counts fully
    and one at 59 barely; an audit with not enough answers to rate it (fewer than
    :data:`cpted.scoring.MIN_COVERAGE` of its items) is no evidence and is left out.
    Night is the concern's day/night answer, or 19:00-07:00 local. Vacant parcels
    (vacant lots and vacant buildings) count each at its weight, at
    :func:`cpted.overlay.parcel_points`; they are standing conditions, so they have no
    ``when`` (NaT), no time window applies to them and they count by night as by day.
    """
    from cpted.assessments import list_assessments

    tz = tz or store.get_setting("timezone") or "UTC"
    parts: list[gpd.GeoDataFrame] = []
    for src in sources:
        if not src.weight > 0:
            raise hs.HotspotError(f"the weight of {src.kind} must be positive")
        if src.kind in ("open concerns", "night-time concerns"):
            frame = store.read(Layer.CONCERNS)
            if frame.empty:
                continue
            keep = _window(frame, "requested_datetime", src)
            if src.kind == "open concerns":
                keep &= frame["status"] == "open"
            night = (frame["time_of_day"] == "night") | (
                frame["time_of_day"].isna() & _is_night(frame["requested_datetime"], tz))
            if src.kind == "night-time concerns" or src.night_only:
                keep &= night
            sel = frame[keep]
            part = gpd.GeoDataFrame({"source": src.kind, "weight": src.weight,
                                     "when": sel["requested_datetime"],
                                     "ref": sel["service_request_id"]},
                                    geometry=sel.geometry.values, crs=WGS84)
        elif src.kind == "incidents":
            frame = store.read(Layer.INCIDENTS)
            if frame.empty:
                continue
            keep = _window(frame, "occurred_datetime", src)
            if src.night_only:
                keep &= _is_night(frame["occurred_datetime"], tz)
            sel = frame[keep]
            part = gpd.GeoDataFrame({"source": src.kind, "weight": src.weight,
                                     "when": sel["occurred_datetime"], "ref": sel["id"]},
                                    geometry=sel.geometry.values, crs=WGS84)
        elif src.kind == "vacant parcels":
            from cpted.overlay import parcel_points

            sel = store.read(Layer.PARCELS, where={"status": list(VACANT_STATUSES)})
            if sel.empty:
                continue
            part = gpd.GeoDataFrame(
                {"source": src.kind, "weight": src.weight,
                 "when": pd.Series(pd.NaT, index=sel.index, dtype="datetime64[ns, UTC]"),
                 "ref": sel["id"]},
                geometry=parcel_points(sel).values, crs=WGS84)
        elif src.kind == "weak CPTED audits":
            audits = list_assessments(store)
            if audits.empty:
                continue
            keep = (_window(audits, "assessed_at", src) & audits["enough_answers"]
                    & (audits["overall"] < WEAK_AUDIT))
            if src.night_only:
                keep &= audits["period"] == "night"
            sel = audits[keep]
            pts = sel.geometry.representative_point()
            part = gpd.GeoDataFrame(
                {"source": src.kind,
                 "weight": src.weight * (WEAK_AUDIT - sel["overall"].to_numpy()) / WEAK_AUDIT,
                 "when": sel["assessed_at"], "ref": sel["id"]},
                geometry=pts.values, crs=WGS84)
        else:
            raise hs.HotspotError(f"unknown layer {src.kind!r}; expected one of: "
                                  + ", ".join(SOURCE_KINDS))
        parts.append(part)
    parts = [p for p in parts if len(p)]
    if not parts:
        return gpd.GeoDataFrame({"source": [], "weight": [], "when": [], "ref": []},
                                geometry=gpd.GeoSeries([], crs=WGS84))
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=WGS84)


def split_events(events: gpd.GeoDataFrame, at: pd.Timestamp
                 ) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Events before ``at`` (to find hotspots with) and from ``at`` on (to test them).

    Standing conditions (vacant parcels, with no ``when``) stay with the earlier part:
    they are there throughout, and a later period tests what happened, not what stands.
    """
    later = (events["when"] >= at).fillna(False).to_numpy(dtype=bool)
    return events[~later], events[later]


# -- stops ---------------------------------------------------------------------

@dataclass(frozen=True)
class Candidate:
    label: str
    lon: float
    lat: float
    prize: float
    must: bool = False


def candidates_from(hot: hs.Hotspots, method: Literal["gi", "kde", "counts", "forecast"] = "gi",
                    limit: int = 200, *, forecast: NDArray[np.float64] | None = None,
                    forecast_name: str = "forecast") -> list[Candidate]:
    """Stops at the centres of hotspot cells.

    ``forecast``: the cells ranked highest by ``forecast`` (scores on ``hot``'s grid, as
    :class:`cpted.forecast.Evaluation` gives the chosen method's); ``gi``: the Gi* hot
    cells (any confidence) and every cell with at least as many events as the weakest
    of them, so a strong cell whose neighbours are quiet is never dropped for lack of
    neighbours; ``kde``/``counts``: the cells with the highest density or count. Each
    stop's prize is the smoothed number of weighted events in its cell (density x cell
    area), or the cell's own count when that is more, so neighbouring evidence counts a
    little and a lone strong cell counts in full.
    """
    if method == "forecast" and forecast is None:
        raise hs.HotspotError("candidates from a forecast need the forecast's scores")
    score = {"gi": hot.gi.z, "kde": hot.density, "counts": hot.counts,
             "forecast": forecast if forecast is not None else hot.counts}[method]
    prize = np.maximum(hot.density * hot.grid.cell_area / 1e6, hot.counts)
    alone = np.zeros(len(score), dtype=bool)
    if method == "gi":
        hot_cells = hot.gi.bins > 0
        floor = hot.counts[hot_cells].min() if hot_cells.any() else np.inf
        alone = ~hot_cells & (hot.counts >= max(floor, 1.0))
        eligible = hot_cells | alone
        # hot cells by z, then the strong lone cells by their count
        score = np.where(alone, hot.gi.z.max() + hot.counts, score)
    else:
        eligible = score > 0
    idx = np.flatnonzero(eligible & (prize > 0))
    idx = idx[np.lexsort((idx, -score[idx]))][:limit]
    centres = hot.grid.to_frame().geometry.iloc[idx].representative_point()
    out = []
    for rank, (i, pt) in enumerate(zip(idx, centres, strict=True), start=1):
        said = {"cell": int(i), "n": i18n.number(float(f"{hot.counts[i]:g}")),
                "method": forecast_name, "rank": i18n.number(rank)}
        if method == "gi" and alone[i]:
            label = _("Cell {cell}: {n} weighted events, strong on its own (neighbours "
                      "quiet)").format(**said)
        elif method == "gi":
            label = _("Cell {cell}: {result}").format(
                cell=int(i), result=hs.bin_label(int(hot.gi.bins[i])).lower())
        elif method == "forecast":
            label = _("Cell {cell}: {method} rank {rank}, {n} weighted events").format(**said)
        else:
            label = _("Cell {cell}: {n} weighted events").format(**said)
        out.append(Candidate(label, float(pt.x), float(pt.y), float(prize[i])))
    return out


# -- plans ---------------------------------------------------------------------

@dataclass(frozen=True)
class PatrolSettings:
    station: tuple[float, float]  # lon, lat
    shift_min: float = 240.0
    speed_kmh: float = BIKE_KMH
    dwell_min: float = DWELL_MIN
    officers: int = 1
    start: datetime | None = None

    def check(self) -> None:
        lon, lat = self.station
        problems = []
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            problems.append(_("the station ({lon}, {lat}) is not a longitude, latitude "
                              "pair").format(lon=lon, lat=lat))
        if not 10 <= self.shift_min <= 24 * 60:
            problems.append(_("the shift must be between 10 minutes and 24 hours"))
        if not 2 <= self.speed_kmh <= 40:
            problems.append(_("the bike speed must be between 2 and 40 km/h"))
        if not 0 <= self.dwell_min <= MAX_DWELL_MIN:
            problems.append(_("the time at each stop must be between 0 and {most} minutes: "
                              "deterrence stops growing after about 15 minutes (Koper "
                              "1995)").format(most=i18n.number(MAX_DWELL_MIN)))
        if not 1 <= self.officers <= 20:
            problems.append(_("plan for 1 to 20 officers"))
        if problems:
            raise RoutingError("; ".join(problems))


@dataclass
class PlannedStop:
    officer: int
    order: int
    place: str  # the junction's street names
    label: str  # why the stop is there
    lon: float
    lat: float
    prize: float
    arrive_min: float
    leave_min: float
    must: bool


@dataclass
class PlannedRoute:
    officer: int
    stops: list[PlannedStop]
    path: NDArray[np.float64]  # lon, lat along the streets, station to station
    nodes: list[int]
    travel_min: float
    total_min: float
    km: float


@dataclass
class PatrolPlan:
    settings: PatrolSettings
    routes: list[PlannedRoute]
    prize: float
    prize_available: float
    unvisited: list[Candidate]
    too_far: list[Candidate]
    station_node: int
    network: str
    notes: list[str] = field(default_factory=list)

    def stops_frame(self) -> pd.DataFrame:
        rows = []
        for r in self.routes:
            for s in r.stops:
                rows.append({"officer": s.officer, "stop": s.order, "place": s.place,
                             "why": s.label,
                             "arrive": self.clock(s.arrive_min),
                             "leave": self.clock(s.leave_min), "must_visit": s.must,
                             "prize": round(s.prize, 2), "lon": s.lon, "lat": s.lat})
        return pd.DataFrame(rows, columns=["officer", "stop", "place", "why", "arrive", "leave",
                                           "must_visit", "prize", "lon", "lat"])

    def clock(self, minutes: float) -> str:
        if self.settings.start is None:
            return _("+{n} min").format(n=i18n.number(round(minutes)))
        return (self.settings.start + timedelta(minutes=minutes)).strftime("%H:%M")

    def summary(self) -> str:
        n = sum(len(r.stops) for r in self.routes)
        share = self.prize / self.prize_available if self.prize_available else 0.0
        km = sum(r.km for r in self.routes)
        return _("{officers} officer(s) visit {stops} stop(s) holding {share} of the hotspot "
                 "weight on offer, riding {km} km; every route is back at the station "
                 "within the {shift}-minute shift.").format(
            officers=i18n.number(len(self.routes)), stops=i18n.number(n),
            share=i18n.percent(share), km=i18n.number(km, digits=1),
            shift=i18n.number(self.settings.shift_min))


def plan_patrol(net: Network, candidates: Sequence[Candidate], settings: PatrolSettings, *,
                max_snap_m: float = MAX_SNAP_M, time_limit: float = 20.0,
                seed: int = 0) -> PatrolPlan:
    """Routes for each officer from the station through the best stops within the shift."""
    settings.check()
    (station,), (sdist,) = net.nearest_lonlat([settings.station[0]], [settings.station[1]])
    if sdist > max_snap_m:
        raise RoutingError(_("the station is {m} m from the nearest street of the network (at "
                             "most {most} m): pick a point on the streets").format(
            m=i18n.number(round(sdist)), most=i18n.number(max_snap_m)))
    if not candidates:
        raise RoutingError(_("there are no candidate stops: no hotspots and no must-visits"))
    nodes, dists = net.nearest_lonlat([c.lon for c in candidates], [c.lat for c in candidates])
    too_far = [c for c, d in zip(candidates, dists, strict=True) if d > max_snap_m]
    far_musts = [c.label for c in too_far if c.must]
    if far_musts:
        raise RoutingError(_("must-visit place(s) more than {most} m from any street: "
                             "{places}").format(most=i18n.number(max_snap_m),
                                                places=", ".join(far_musts)))
    # one stop per junction: candidates at the same node are merged
    merged: dict[int, list[Candidate]] = {}
    for c, node, d in zip(candidates, nodes, dists, strict=True):
        if d <= max_snap_m and int(node) != int(station):
            merged.setdefault(int(node), []).append(c)
    at_station = [c for c, node, d in zip(candidates, nodes, dists, strict=True)
                  if d <= max_snap_m and int(node) == int(station)]
    stop_nodes = list(merged)
    groups = [merged[n] for n in stop_nodes]
    prize = np.array([sum(c.prize for c in g) for g in groups])
    must = frozenset(i for i, g in enumerate(groups) if any(c.must for c in g))
    sources = [int(station), *stop_nodes]
    dist, pred = net.shortest(sources, settings.speed_kmh)
    minutes = dist[:, sources]
    unreachable = ~np.isfinite(minutes)
    if unreachable.any():
        raise NetworkError(_("some stops cannot be reached on the network"))
    problem = Problem(minutes, prize, np.full(len(groups), settings.dwell_min),
                      settings.shift_min, settings.officers, must)
    sol = solve(problem, time_limit=time_limit, seed=seed)
    edges = net.edge_index()
    routes = []
    for k, order in enumerate(sol.routes, start=1):
        seq = [0, *(s + 1 for s in order), 0]
        path_n: list[int] = [int(station)]
        clock = 0.0
        stops: list[PlannedStop] = []
        for a, b in itertools.pairwise(seq):
            leg = path_nodes(pred[a], sources[a], sources[b])
            path_n.extend(leg[1:])
            clock += minutes[a, b]
            if b != 0:
                g = groups[b - 1]
                node_lon, node_lat = net.lonlat[sources[b]]
                stops.append(PlannedStop(k, len(stops) + 1, net.place_name(sources[b]),
                                         _why(g), float(node_lon), float(node_lat),
                                         float(prize[b - 1]), clock,
                                         clock + settings.dwell_min, any(c.must for c in g)))
                clock += settings.dwell_min
        line = net.path_line(path_n, edges)
        km = float(np.hypot(*np.diff(line, axis=0).T).sum() / 1000) if len(line) > 1 else 0.0
        travel = float(sum(minutes[a, b] for a, b in itertools.pairwise(seq)))
        routes.append(PlannedRoute(k, stops, net.to_lonlat(line), path_n, travel,
                                   travel + settings.dwell_min * len(order), km))
    notes = []
    if too_far:
        notes.append(_("{n} hotspot(s) lie more than {most} m from the network's streets "
                       "and were left out").format(n=i18n.number(len(too_far)),
                                                   most=i18n.number(max_snap_m)))
    if at_station:
        notes.append(_("{n} hotspot(s) at the station itself need no trip").format(
            n=i18n.number(len(at_station))))
    unvisited = [c for s in sol.unvisited for c in groups[s]]
    return PatrolPlan(settings, routes, float(sol.prize), float(prize.sum()), unvisited,
                      too_far, int(station), net.describe(), notes)


def _why(group: Sequence[Candidate]) -> str:
    musts = [c.label for c in group if c.must]
    cells = [c for c in group if not c.must]
    parts = list(musts)
    if cells:
        parts.append(cells[0].label if len(cells) == 1 else
                     _("{n} hotspot cells; strongest: {strongest}").format(
                         n=i18n.number(len(cells)),
                         strongest=cells[0].label.split(": ", 1)[-1]))
    return "; ".join(parts)


# -- outputs -------------------------------------------------------------------

def to_gpx(plan: PatrolPlan, *, name: str | None = None) -> str:
    """GPX 1.1: the station and stops as waypoints, each officer's path as a track; the
    names a phone shows are in the language in use."""
    import gpxpy.gpx

    gpx = gpxpy.gpx.GPX()
    gpx.name = name or _("Patrol plan")
    gpx.creator = "cpted-mapper"
    start = plan.settings.start
    lon, lat = plan.settings.station
    gpx.waypoints.append(gpxpy.gpx.GPXWaypoint(lat, lon, name=_("Station"), symbol="Flag"))
    for r in plan.routes:
        for s in r.stops:
            when = (start + timedelta(seconds=round(s.arrive_min * 60))
                    if start is not None else None)
            gpx.waypoints.append(gpxpy.gpx.GPXWaypoint(
                s.lat, s.lon, time=when,
                name=_("Officer {officer} stop {order}").format(officer=r.officer,
                                                                order=s.order),
                description=_("{place}: {label}. Arrive {arrive}, leave {leave}.").format(
                    place=s.place, label=s.label, arrive=plan.clock(s.arrive_min),
                    leave=plan.clock(s.leave_min)),
                symbol="Flag" if s.must else "Waypoint"))
        track = gpxpy.gpx.GPXTrack(name=_("Officer {officer}").format(officer=r.officer))
        seg = gpxpy.gpx.GPXTrackSegment(
            [gpxpy.gpx.GPXTrackPoint(float(y), float(x)) for x, y in r.path])
        track.segments.append(seg)
        gpx.tracks.append(track)
    return gpx.to_xml(version="1.1")


def _route_png(plan: PatrolPlan, net: Network | None, hot_cells: gpd.GeoDataFrame | None
               ) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 6.0), dpi=110)
    if net is not None:
        e = net.edges_frame()
        e.plot(ax=ax, color="#bbbbbb", linewidth=0.6)
    if hot_cells is not None and len(hot_cells):
        hot_cells.plot(ax=ax, color="#d7301f", alpha=0.25, linewidth=0)
    colours = plt.get_cmap("tab10")
    for r in plan.routes:
        c = colours((r.officer - 1) % 10)
        ax.plot(r.path[:, 0], r.path[:, 1], color=c, linewidth=2.2,
                label=_("Officer {officer}").format(officer=r.officer))
        for s in r.stops:
            ax.scatter([s.lon], [s.lat], s=110, color="white", edgecolor=c, zorder=3)
            ax.annotate(str(s.order), (s.lon, s.lat), ha="center", va="center", fontsize=7,
                        zorder=4)
    lon, lat = plan.settings.station
    ax.scatter([lon], [lat], marker="*", s=220, color="black", zorder=5, label=_("Station"))
    ax.set_xlabel(_("longitude"))
    ax.set_ylabel(_("latitude"))
    ax.set_aspect(1 / math.cos(math.radians(lat)))
    ax.legend(loc="best", fontsize=8)
    ax.ticklabel_format(useOffset=False)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def sheet_html(plan: PatrolPlan, *, net: Network | None = None,
               hot_cells: gpd.GeoDataFrame | None = None, title: str | None = None) -> str:
    """A printable sheet: the map, then each officer's stops with times and space to tick;
    in the language in use."""
    e = html.escape
    title = title or _("Patrol sheet")
    png = base64.b64encode(_route_png(plan, net, hot_cells)).decode()
    s = plan.settings
    start = i18n.when(s.start) if s.start else _("not set (times are minutes from the start)")
    parts = [
        f"<!doctype html><html lang='{e(i18n.current())}'><head><meta charset='utf-8'>",
        f"<title>{e(title)}</title><style>",
        "body{font-family:sans-serif;margin:1.5em;color:#222}table{border-collapse:collapse;"
        "width:100%;margin-bottom:1.5em}td,th{border:1px solid #999;padding:4px 6px;"
        "text-align:left;font-size:12px}th{background:#eee}.route{page-break-before:always}"
        "img{max-width:100%}@media print{.route{page-break-before:always}}",
        "</style></head><body>",
        f"<h1>{e(title)}</h1>",
        f"<p>{e(plan.summary())}</p>",
        "<p>" + e(ngettext(
            "Start: {start}. Shift {shift} min, bike {speed} km/h, {dwell} min at each stop, "
            "{n} officer. Network: {network}.",
            "Start: {start}. Shift {shift} min, bike {speed} km/h, {dwell} min at each stop, "
            "{n} officers. Network: {network}.", s.officers).format(
            start=start, shift=i18n.number(s.shift_min), speed=i18n.number(s.speed_kmh),
            dwell=i18n.number(s.dwell_min), n=s.officers, network=plan.network)) + "</p>",
    ]
    parts += [f"<p><em>{e(n)}</em></p>" for n in plan.notes]
    alt = _("Map of the routes")
    parts.append(f"<img alt='{e(alt)}' src='data:image/png;base64,{png}'>")
    heads = (_("Place"), _("Arrive"), _("Leave"), _("Visited (time)"), _("Notes"))
    for r in plan.routes:
        officer = _("Officer {officer}").format(officer=r.officer)
        said = ngettext("{n} stop, {km} km, back after {minutes} min.",
                        "{n} stops, {km} km, back after {minutes} min.", len(r.stops)).format(
            n=len(r.stops), km=i18n.number(r.km, digits=1),
            minutes=i18n.number(r.total_min, digits=0))
        parts.append(f"<div class='route'><h2>{e(officer)}</h2><p>{e(said)}</p>")
        parts.append("<table><tr><th>#</th>" + "".join(f"<th>{e(h)}</th>" for h in heads)
                     + "</tr>")
        for st in r.stops:
            must = " <strong>({})</strong>".format(e(_("must visit"))) if st.must else ""
            parts.append(f"<tr><td>{st.order}</td><td>{e(st.place)}{must}<br><small>"
                         f"{e(st.label)}</small></td>"
                         f"<td>{e(plan.clock(st.arrive_min))}</td>"
                         f"<td>{e(plan.clock(st.leave_min))}</td><td></td><td></td></tr>")
        parts.append("</table></div>")
    if plan.unvisited:
        parts.append("<p>" + e(ngettext(
            "{n} candidate stop did not fit in the shift.",
            "{n} candidate stops did not fit in the shift.", len(plan.unvisited)).format(
            n=len(plan.unvisited))) + "</p>")
    parts.append("</body></html>")
    return "\n".join(parts)


# -- visit log -------------------------------------------------------------------

class VisitError(UnusableInputError):
    """A visit cannot be logged; the message says why."""


def log_visit(store: Store, *, officer: str, place: str, lon: float, lat: float,
              visited_at: datetime | None = None, note: str = "",
              conn: Connection | None = None) -> int:
    """Record that ``officer`` visited ``place``.

    Parameters
    ----------
    store
        The store.
    officer
        Who visited (at most 200 characters).
    place
        What was visited (at most 500 characters).
    lon, lat
        Where, in WGS84 degrees (longitude first).
    visited_at
        When (a naive time is taken as local); now by default.
    note
        What was seen or done (at most 2,000 characters).
    conn
        Run inside this transaction (the caller commits) instead of a new one.

    Returns
    -------
    int
        The visit's id.

    Raises
    ------
    VisitError
        Naming every problem with the input; nothing is stored.
    """
    officer, place, note = officer.strip(), place.strip(), note.strip()
    problems = []
    if not officer:
        problems.append(_("say who made the visit"))
    if not place:
        problems.append(_("say which place was visited"))
    if len(officer) > 200 or len(place) > 500 or len(note) > 2000:
        problems.append(_("names are limited to 200 characters, places to 500 and notes to "
                          "2,000"))
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180
            and -90 <= lat <= 90):
        problems.append(_("({lon}, {lat}) is not a longitude, latitude pair").format(
            lon=lon, lat=lat))
    if problems:
        raise VisitError("; ".join(problems))
    at = (visited_at or datetime.now().astimezone()).isoformat(timespec="seconds")
    with store.transaction(conn) as c:
        visit_id = visit_repo.insert(c, officer=officer, place=place, lon=float(lon),
                                     lat=float(lat), visited_at=at, note=note or None,
                                     recorded_at=now_iso())
        store.bump(c)
    return visit_id


def visits(store: Store, *, since: datetime | None = None) -> gpd.GeoDataFrame:
    """Logged visits as WGS84 points, newest first; only those at or after ``since``
    when given (a naive time is taken as UTC)."""
    with store.engine.connect() as conn:
        frame = visit_repo.list_rows(conn)
    if since is not None:
        frame = frame[frame["visited_at"] >= _utc(since)]
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame["lon"], frame["lat"]),
                            crs=WGS84)
