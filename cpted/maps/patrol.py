"""Patrol maps: Gi* hot and cold spots, kernel density, logged visits and bike routes."""

from __future__ import annotations

from datetime import tzinfo
from typing import TYPE_CHECKING

import folium
import geopandas as gpd
import pandas as pd

from cpted import i18n
from cpted.hotspots import label_words
from cpted.i18n import N_, _, ngettext
from cpted.maps.common import centred_map, escape_text, escaped_frame
from cpted.maps.describe import MapTable, MapText, attach
from layers.crs import latlon

if TYPE_CHECKING:  # the planner pulls in the routing solver; a map only reads its result
    from cpted.patrol import PatrolPlan

#: Gi* bin (-3 cold 99% .. 3 hot 99%) to fill colour; 0 (not significant) is not drawn.
BIN_COLOURS: dict[int, str | None] = {3: "#b2182b", 2: "#ef8a62", 1: "#fddbc7", 0: None,
                                      -1: "#d1e5f0", -2: "#67a9cf", -3: "#2166ac"}
#: One colour per officer's route, in officer order (ColorBrewer Dark2).
ROUTE_COLOURS = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02",
                 "#a6761d", "#666666"]
STATION_COLOUR = "#ffd700"
VISIT_LAYER = N_("Logged visits (30 days)")


def _n(text: str, n: int) -> str:
    """``text`` (an ``ngettext`` form for ``n``) with ``n`` written the language's way."""
    return text.format(n=i18n.number(n))


def _listing(parts: list[str]) -> str:
    """``"a, b and c"`` in the language in use."""
    if len(parts) <= 1:
        return "".join(parts)
    return _("{first} and {last}").format(first=", ".join(parts[:-1]), last=parts[-1])


def _add_hotspots(fmap: folium.Map, cells: gpd.GeoDataFrame, *, show_density: bool) -> None:
    gi = folium.FeatureGroup(name=_("Gi* hot and cold spots"), show=not show_density)
    fields = ["gi_label", "count", "gi_z", "gi_p"]
    cells = cells.assign(gi_label=[label_words(str(x)) for x in cells["gi_label"]])
    for b, colour in BIN_COLOURS.items():
        if colour is None:
            continue
        part = cells[cells["gi_bin"] == b]
        if part.empty:
            continue
        folium.GeoJson(
            escaped_frame(part, fields).to_json(),
            style_function=lambda _f, c=colour: {"fillColor": c, "color": c, "weight": 0.3,
                                                 "fillOpacity": 0.6},
            tooltip=folium.GeoJsonTooltip(fields,
                                          aliases=["", _("Weighted events"), "z",
                                                   _("p (2-sided)")]),
        ).add_to(gi)
    gi.add_to(fmap)
    dens = cells[cells["density"] > 0]
    if len(dens):
        import matplotlib  # only this layer needs a colour map

        kde = folium.FeatureGroup(name=_("Kernel density"), show=show_density)
        top = float(dens["density"].quantile(0.99)) or float(dens["density"].max())
        cmap = matplotlib.colormaps["YlOrRd"]
        for geom, density in zip(dens.geometry.values, dens["density"], strict=True):
            colour = matplotlib.colors.to_hex(cmap(min(float(density) / top, 1.0)))
            folium.GeoJson(geom.__geo_interface__,
                           style_function=lambda _f, c=colour: {"fillColor": c, "color": c,
                                                                "weight": 0,
                                                                "fillOpacity": 0.55},
                           ).add_to(kde)
        kde.add_to(fmap)


def _add_visits(fmap: folium.Map, visits: gpd.GeoDataFrame, *, tz: str | tzinfo) -> None:
    if visits.empty:
        return
    group = folium.FeatureGroup(name=_(VISIT_LAYER))
    when = visits["visited_at"].dt.tz_convert(tz).dt.strftime("%Y-%m-%d %H:%M")
    for geom, at, officer, place in zip(visits.geometry.values, when, visits["officer"],
                                        visits["place"], strict=True):
        folium.CircleMarker(latlon(geom), radius=5, color="#111", weight=2,
                            fill=True, fill_color="#ffffff", fill_opacity=1.0,
                            tooltip=escape_text(_("Visited {at} by {officer}: {place}").format(
                                at=at, officer=officer, place=place)),
                            ).add_to(group)
    group.add_to(fmap)


def _add_routes(fmap: folium.Map, plan: PatrolPlan) -> None:
    for r in plan.routes:
        colour = ROUTE_COLOURS[(r.officer - 1) % len(ROUTE_COLOURS)]
        officer = _("Officer {n}").format(n=r.officer)
        group = folium.FeatureGroup(name=officer)
        folium.PolyLine(  # type: ignore[no-untyped-call]  # folium has no type hints
            [latlon(p) for p in r.path], color=colour, weight=4,
            opacity=0.85, tooltip=officer).add_to(group)
        for stop in r.stops:
            label = escape_text(_("Officer {officer}, stop {stop}: {place} - {why} (arrive "
                                  "{at})").format(officer=r.officer, stop=stop.order,
                                                  place=stop.place, why=stop.label,
                                                  at=plan.clock(stop.arrive_min)))
            folium.Marker(
                latlon((stop.lon, stop.lat)), tooltip=label,
                icon=folium.DivIcon(
                    icon_size=(22, 22), icon_anchor=(11, 11),
                    html=(f"<div style='background:{colour};color:#fff;border-radius:11px;"
                          "width:22px;height:22px;line-height:22px;text-align:center;"
                          f"font:bold 11px sans-serif;border:2px solid #fff'>"
                          f"{int(stop.order)}</div>"),
                )).add_to(group)
        group.add_to(fmap)
    folium.CircleMarker(latlon(plan.settings.station), radius=9, color="#000", weight=3,
                        fill=True, fill_color=STATION_COLOUR, fill_opacity=1,
                        tooltip=_("Station")).add_to(fmap)


def build_patrol_map(cells: gpd.GeoDataFrame, *, show_density: bool = False,
                     visits: gpd.GeoDataFrame | None = None, plan: PatrolPlan | None = None,
                     tz: str | tzinfo = "UTC") -> folium.Map:
    """Hotspot cells, with logged visits and planned routes on top, and a layer control.

    Parameters
    ----------
    cells : geopandas.GeoDataFrame
        ``Hotspots.frame()``: WGS84 cell polygons with ``count``, ``density``,
        ``gi_z``, ``gi_p``, ``gi_bin`` and ``gi_label``.
    show_density : bool
        Open with the kernel-density layer shown instead of the Gi* layer.
    visits : geopandas.GeoDataFrame, optional
        ``patrol.visits(...)``: WGS84 points with ``visited_at`` (UTC), ``officer``
        and ``place``, drawn as white dots.
    plan : PatrolPlan, optional
        Routes drawn one layer per officer, numbered stops and the station.
    tz : str or tzinfo
        The zone visit times are shown in.

    Returns
    -------
    folium.Map
        Fitted to the cells; officer names, places and stop labels are escaped.
    """
    fmap = centred_map(cells.total_bounds if len(cells) else None, zoom_start=16)
    _add_hotspots(fmap, cells, show_density=show_density)
    if visits is not None:
        _add_visits(fmap, visits, tz=tz)
    if plan is not None:
        _add_routes(fmap, plan)
    folium.LayerControl(collapsed=True).add_to(fmap)
    return attach(fmap, _patrol_text(cells, show_density=show_density, visits=visits,
                                     plan=plan, tz=tz))


def _patrol_text(cells: gpd.GeoDataFrame, *, show_density: bool,
                 visits: gpd.GeoDataFrame | None, plan: PatrolPlan | None,
                 tz: str | tzinfo) -> MapText:
    hot = cells[cells["gi_bin"] > 0] if len(cells) else cells
    cold = int((cells["gi_bin"] < 0).sum()) if len(cells) else 0
    summary = (_("Map of {cells} showing kernel density: {hot} and {cold}.") if show_density
               else _("Map of {cells} showing Gi* hot and cold spots: {hot} and {cold}.")
               ).format(cells=_n(ngettext("{n} cell", "{n} cells", len(cells)), len(cells)),
                        hot=_n(ngettext("{n} hot spot", "{n} hot spots", len(hot)), len(hot)),
                        cold=_n(ngettext("{n} cold spot", "{n} cold spots", cold), cold))
    tables = []
    if len(hot):
        centre = hot.geometry.centroid if hot.crs is None or not hot.crs.is_geographic else \
            hot.geometry.to_crs(hot.estimate_utm_crs()).centroid.to_crs(hot.crs)
        tables.append(MapTable(_("Hot spots on the map"), pd.DataFrame({
            _("Confidence"): [label_words(str(x)) for x in hot["gi_label"]],
            _("Weighted events"): hot["count"].to_numpy(),
            "z": hot["gi_z"].round(2).to_numpy(), _("p (2-sided)"): hot["gi_p"].to_numpy(),
            _("Latitude"): centre.y.round(5).to_numpy(),
            _("Longitude"): centre.x.round(5).to_numpy()}).sort_values(
                "z", ascending=False).reset_index(drop=True)))
    if plan is not None:
        stops = [(r.officer, s.order, s.place, s.label, plan.clock(s.arrive_min))
                 for r in plan.routes for s in r.stops]
        summary += " " + _("{routes} with {stops}, numbered in order, from the station.").format(
            routes=_n(ngettext("{n} route", "{n} routes", len(plan.routes)),
                      len(plan.routes)),
            stops=_n(ngettext("{n} stop", "{n} stops", len(stops)), len(stops)))
        tables.append(MapTable(_("Route stops on the map"), pd.DataFrame(
            stops, columns=[_("Officer"), _("Stop"), _("Place"), _("What"), _("Arrive")])))
    if visits is not None and len(visits):
        summary += " " + _n(ngettext("{n} logged visit (white dots).",
                                     "{n} logged visits (white dots).", len(visits)),
                            len(visits))
        tables.append(MapTable(_("Logged visits on the map"), _visit_rows(visits, tz)))
    return MapText(summary, tuple(tables))


def _visit_rows(visits: gpd.GeoDataFrame, tz: str | tzinfo) -> pd.DataFrame:
    when = visits["visited_at"].dt.tz_convert(tz)
    return pd.DataFrame({_("Place"): visits["place"].astype(str).to_numpy(),
                         _("Officer"): visits["officer"].astype(str).to_numpy(),
                         _("Visited"): when.dt.strftime("%Y-%m-%d %H:%M").to_numpy(),
                         "_at": when.to_numpy()}).sort_values(
        "_at", ascending=False).drop(columns="_at").reset_index(drop=True)


def build_visits_map(visits: gpd.GeoDataFrame, *, tz: str | tzinfo = "UTC") -> folium.Map:
    """Logged visits alone, for when no hotspots have been computed.

    Parameters
    ----------
    visits : geopandas.GeoDataFrame
        ``patrol.visits(...)``: WGS84 points with ``visited_at`` (UTC), ``officer``
        and ``place``.
    tz : str or tzinfo
        The zone visit times are shown in.

    Returns
    -------
    folium.Map
        Fitted to the visits (a single visit keeps a street-level zoom).
    """
    fmap = centred_map(visits.total_bounds if len(visits) else None, zoom_start=16)
    _add_visits(fmap, visits, tz=tz)
    officers = sorted(visits["officer"].astype(str).unique()) if len(visits) else []
    visited = _n(ngettext("{n} logged patrol visit", "{n} logged patrol visits",
                          len(visits)), len(visits))
    summary = (_("Map of {visits} of the last 30 days, by {officers}.").format(
        visits=visited, officers=_listing(officers)) if officers else
        _("Map of {visits} of the last 30 days.").format(visits=visited))
    return attach(fmap, MapText(summary, (MapTable(_("Logged visits on the map"),
                                                   _visit_rows(visits, tz)),)
                                if len(visits) else ()))
