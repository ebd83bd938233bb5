"""Patrol maps: Gi* hot and cold spots, kernel density, logged visits and bike routes."""

from __future__ import annotations

from datetime import tzinfo
from typing import TYPE_CHECKING

import folium
import geopandas as gpd
import pandas as pd

from cpted.maps.common import centred_map, escape_text, escaped_frame
from cpted.maps.describe import MapTable, MapText, attach, counted, listing
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
VISIT_LAYER = "Logged visits (30 days)"


def _add_hotspots(fmap: folium.Map, cells: gpd.GeoDataFrame, *, show_density: bool) -> None:
    gi = folium.FeatureGroup(name="Gi* hot and cold spots", show=not show_density)
    fields = ["gi_label", "count", "gi_z", "gi_p"]
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
                                          aliases=["", "Weighted events", "z", "p (2-sided)"]),
        ).add_to(gi)
    gi.add_to(fmap)
    dens = cells[cells["density"] > 0]
    if len(dens):
        import matplotlib  # only this layer needs a colour map

        kde = folium.FeatureGroup(name="Kernel density", show=show_density)
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
    group = folium.FeatureGroup(name=VISIT_LAYER)
    when = visits["visited_at"].dt.tz_convert(tz).dt.strftime("%Y-%m-%d %H:%M")
    for geom, at, officer, place in zip(visits.geometry.values, when, visits["officer"],
                                        visits["place"], strict=True):
        folium.CircleMarker(latlon(geom), radius=5, color="#111", weight=2,
                            fill=True, fill_color="#ffffff", fill_opacity=1.0,
                            tooltip=escape_text(f"Visited {at} by {officer}: {place}"),
                            ).add_to(group)
    group.add_to(fmap)


def _add_routes(fmap: folium.Map, plan: PatrolPlan) -> None:
    for r in plan.routes:
        colour = ROUTE_COLOURS[(r.officer - 1) % len(ROUTE_COLOURS)]
        group = folium.FeatureGroup(name=f"Officer {r.officer}")
        folium.PolyLine(  # type: ignore[no-untyped-call]  # folium has no type hints
            [latlon(p) for p in r.path], color=colour, weight=4,
            opacity=0.85, tooltip=f"Officer {r.officer}").add_to(group)
        for stop in r.stops:
            label = escape_text(f"Officer {r.officer}, stop {stop.order}: {stop.place} - "
                                f"{stop.label} (arrive {plan.clock(stop.arrive_min)})")
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
                        tooltip="Station").add_to(fmap)


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
    shown = "kernel density" if show_density else "Gi* hot and cold spots"
    summary = (f"Map of {counted(len(cells), 'cell')} showing {shown}: "
               f"{counted(len(hot), 'hot spot')} and {counted(cold, 'cold spot')}.")
    tables = []
    if len(hot):
        centre = hot.geometry.centroid if hot.crs is None or not hot.crs.is_geographic else \
            hot.geometry.to_crs(hot.estimate_utm_crs()).centroid.to_crs(hot.crs)
        tables.append(MapTable("Hot spots on the map", pd.DataFrame({
            "Confidence": hot["gi_label"].astype(str).to_numpy(),
            "Weighted events": hot["count"].to_numpy(),
            "z": hot["gi_z"].round(2).to_numpy(), "p (2-sided)": hot["gi_p"].to_numpy(),
            "Latitude": centre.y.round(5).to_numpy(),
            "Longitude": centre.x.round(5).to_numpy()}).sort_values(
                "z", ascending=False).reset_index(drop=True)))
    if plan is not None:
        stops = [(r.officer, s.order, s.place, s.label, plan.clock(s.arrive_min))
                 for r in plan.routes for s in r.stops]
        summary += (f" {counted(len(plan.routes), 'route')} with "
                    f"{counted(len(stops), 'stop')}, numbered in order, from the station.")
        tables.append(MapTable("Route stops on the map", pd.DataFrame(
            stops, columns=["Officer", "Stop", "Place", "What", "Arrive"])))
    if visits is not None and len(visits):
        summary += f" {counted(len(visits), 'logged visit')} (white dots)."
        tables.append(MapTable("Logged visits on the map", _visit_rows(visits, tz)))
    return MapText(summary, tuple(tables))


def _visit_rows(visits: gpd.GeoDataFrame, tz: str | tzinfo) -> pd.DataFrame:
    when = visits["visited_at"].dt.tz_convert(tz)
    return pd.DataFrame({"Place": visits["place"].astype(str).to_numpy(),
                         "Officer": visits["officer"].astype(str).to_numpy(),
                         "Visited": when.dt.strftime("%Y-%m-%d %H:%M").to_numpy(),
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
    summary = (f"Map of {counted(len(visits), 'logged patrol visit')} of the last 30 days"
               + (f", by {listing(officers)}." if officers else "."))
    return attach(fmap, MapText(summary, (MapTable("Logged visits on the map",
                                                   _visit_rows(visits, tz)),)
                                if len(visits) else ()))
