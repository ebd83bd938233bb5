"""Problem spot maps: gathering reports into a spot, and the spots by status.

:func:`build_gather_map` shows the reports a coordinator may gather, the ones gathered
so far ringed, and the drawing tools (polygon and rectangle) to gather an area at once;
:func:`build_spots_map` shows the existing spots coloured by where they stand.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

import folium
import geopandas as gpd
import pandas as pd
from folium.plugins import Draw

from cpted.maps.common import centred_map, escape_text, escaped_frame, legend, snapped
from cpted.maps.concerns import PALETTE, aggregate_points, category_colors, cell_size_for
from cpted.maps.describe import MapTable, MapText, attach, counted, listing, local_times, table
from cpted.maps.shapes import ShapeMarker, category_shapes, use_shapes
from cpted.spots import SpotStatus
from layers.crs import latlon

#: The ring drawn round a gathered report, and the drawing tools' colour.
GATHERED_COLOR = "#000000"
DRAW_COLOR = "#0072B2"
#: Colour per :class:`cpted.spots.SpotStatus` (Okabe-Ito, colour-blind-safe).
STATUS_COLORS = {
    SpotStatus.NO_PLAN.value: "#E69F00",
    SpotStatus.OVERDUE.value: "#D55E00",
    SpotStatus.UNDER_WAY.value: "#0072B2",
    SpotStatus.CLOSED.value: "#009E73",
}
_TIP_FIELDS = ["category", "reported", "description", "address", "status",
               "service_request_id"]
_TIP_ALIASES = ["Report", "Reported", "Description", "Address", "Status", "Id"]


def _tip_frame(reports: gpd.GeoDataFrame, names: Mapping[str, str], tz: str,
               colors: Mapping[str, str], shapes: Mapping[str, str]) -> gpd.GeoDataFrame:
    out = reports.copy()
    codes = out["service_code"].astype(str)
    out["category"] = [names.get(c) or (n if isinstance(n, str) else c)
                       for c, n in zip(codes, out["service_name"], strict=True)]
    out["reported"] = pd.to_datetime(out["requested_datetime"], utc=True).dt.tz_convert(tz)
    out["color"] = [colors[c] for c in codes]
    out["shape"] = [shapes[c] for c in codes]
    return snapped(escaped_frame(out, [*_TIP_FIELDS, "color", "shape"]))


def _report_layer(frame: gpd.GeoDataFrame, name: str, *, gathered: bool) -> folium.FeatureGroup:
    group = folium.FeatureGroup(name=name, show=True)
    radius = 7 if gathered else 5
    for shape in dict.fromkeys(frame["shape"]):  # one layer per category's shape
        folium.GeoJson(
            frame[frame["shape"] == shape].to_json(),
            marker=ShapeMarker(shape, radius=radius, weight=1, fill_opacity=0.85),
            style_function=(
                (lambda f: {"fill": True, "fillColor": f["properties"]["color"],
                            "color": GATHERED_COLOR, "weight": 3, "fillOpacity": 0.95})
                if gathered else
                (lambda f: {"fill": True, "fillColor": f["properties"]["color"],
                            "color": "#333333", "weight": 0.5, "fillOpacity": 0.7})),
            tooltip=folium.GeoJsonTooltip(fields=_TIP_FIELDS, aliases=_TIP_ALIASES),
        ).add_to(group)
    return group


def _cells_layer(reports: gpd.GeoDataFrame, *, cell_m: float, max_cells: int
                 ) -> tuple[folium.FeatureGroup, float]:
    size = cell_size_for(reports, cell_m=cell_m, max_cells=max_cells)
    cells = snapped(aggregate_points(reports, cell_m=size))
    top = float(cells["count"].max())
    group = folium.FeatureGroup(name=f"Reports ({len(reports):,}, per {size:g} m cell)")
    folium.GeoJson(
        cells.to_json(),
        style_function=lambda f, top=top: {
            "color": "#555555", "weight": 0.3, "fillColor": "#56B4E9",
            "fillOpacity": 0.15 + 0.7 * f["properties"]["count"] / top},
        tooltip=folium.GeoJsonTooltip(fields=["count"], aliases=["Reports in cell"]),
    ).add_to(group)
    return group, size


def build_gather_map(reports: gpd.GeoDataFrame, *, gathered: Collection[str] = (),
                     category_names: Mapping[str, str] | None = None, tz: str = "UTC",
                     point_limit: int = 3000, cell_m: float = 100.0, max_cells: int = 3000,
                     tiles: str | None = None) -> folium.Map:
    """The map reports are gathered on: every report, the gathered ones ringed.

    Up to ``point_limit`` reports are drawn one marker each (to be clicked); past it they
    are counted in square cells, so the page stays small for a whole city, and are
    gathered by drawing an area. Gathered reports are always drawn one by one.

    Parameters
    ----------
    reports : geopandas.GeoDataFrame
        The reports that may be gathered, as the viewer sees them: EPSG:4326 points with
        ``service_request_id``, ``service_code``, ``service_name``, ``requested_datetime``
        (timezone-aware), ``description``, ``address`` and ``status``.
    gathered : collection of str
        The ``service_request_id`` of the reports gathered so far, drawn with a thick
        black ring in a layer of their own.
    category_names : mapping of str to str, optional
        Display name per ``service_code``; else the report's ``service_name``.
    tz : str
        The time zone the tooltips' dates are written in (the app's).
    point_limit : int
        Most reports drawn one by one.
    cell_m, max_cells : float, int
        Cell side in metres past ``point_limit``, grown to keep within ``max_cells``.
    tiles : str or None
        The basemap; ``None`` for none.

    Returns
    -------
    folium.Map
        Fitted to the reports, with the Draw control offering only a polygon and a
        rectangle (no editing); every tooltip text is escaped.
    """
    fmap = centred_map(reports.total_bounds if len(reports) else None, tiles=tiles)
    rows: list[tuple[str, str, str]] = []
    if len(reports):
        colors = category_colors(reports["service_code"].astype(str).tolist())
        shapes = category_shapes(list(colors), colours=len(PALETTE))
        use_shapes(fmap)
        names = dict(category_names or {})
        picked = reports["service_request_id"].astype(str).isin(set(gathered)).to_numpy()
        rest, chosen = reports[~picked], reports[picked]
        if len(rest) > point_limit:
            cells, size = _cells_layer(rest, cell_m=cell_m, max_cells=max_cells)
            cells.add_to(fmap)
            rows.append(("box", "#56B4E9", f"Reports per {size:g} m cell (darker = more): "
                                           "draw an area to gather them"))
        elif len(rest):
            _report_layer(_tip_frame(rest, names, tz, colors, shapes),
                          f"Reports ({len(rest)})", gathered=False).add_to(fmap)
        if len(chosen):
            _report_layer(_tip_frame(chosen, names, tz, colors, shapes),
                          f"Gathered ({len(chosen)})", gathered=True).add_to(fmap)
        shown = reports.drop_duplicates("service_code")
        for code, name in zip(shown["service_code"].astype(str), shown["service_name"],
                              strict=True):
            rows.append((f"marker:{shapes[code]}", colors[code],
                         names.get(code) or str(name or code)))
        rows.append(("note", "", "Thick black ring: gathered"))
    Draw(export=False, position="topleft",  # type: ignore[no-untyped-call]  # folium has no type hints
         draw_options={"polygon": {"shapeOptions": {"color": DRAW_COLOR}},
                       "rectangle": {"shapeOptions": {"color": DRAW_COLOR}},
                       "polyline": False, "marker": False, "circlemarker": False,
                       "circle": False},
         edit_options={"edit": False, "remove": False}).add_to(fmap)
    folium.LayerControl(collapsed=True).add_to(fmap)
    if rows:
        fmap.get_root().add_child(legend("Reports", rows, open_=False))
    return attach(fmap, _gather_text(reports, gathered, category_names or {}, tz,
                                     drawn_one_by_one=len(reports) - len(set(gathered))
                                     <= point_limit))


def _gather_text(reports: gpd.GeoDataFrame, gathered: Collection[str],
                 names: Mapping[str, str], tz: str, *, drawn_one_by_one: bool) -> MapText:
    picked = reports["service_request_id"].astype(str).isin(set(gathered)) if len(reports) \
        else pd.Series([], dtype=bool)
    summary = (f"Map for gathering reports into a problem spot: {counted(len(reports), 'report')}"
               f", {int(picked.sum()):,} gathered so far (ringed in black). Draw an area with "
               "the polygon or rectangle tool, or click a report, to gather; or use the list.")
    if not drawn_one_by_one:
        summary += " Past the limit drawn one by one, reports are counted in squares."
    if not len(reports):
        return MapText(summary)
    frame = pd.DataFrame(reports.drop(columns=reports.geometry.name))
    frame["category"] = [names.get(c) or (n if isinstance(n, str) else c) for c, n in
                         zip(frame["service_code"].astype(str), frame["service_name"],
                             strict=True)]
    frame["gathered"] = ["yes" if g else "" for g in picked]
    frame["reported"] = local_times(frame["requested_datetime"], tz)
    rows = table(frame, {"category": "Category", "gathered": "Gathered",
                         "reported": "Reported", "status": "Status", "address": "Address",
                         "description": "Description", "service_request_id": "Report"},
                 sort=["Gathered", "Reported"], ascending=[False, False])
    return MapText(summary, (MapTable("Reports on the map", rows),))


def build_spots_map(spots: pd.DataFrame, statuses: pd.Series, *,
                    tiles: str | None = None) -> folium.Map:
    """Problem spots as dots coloured by status, each named in its tooltip.

    Parameters
    ----------
    spots : pandas.DataFrame
        :func:`cpted.spots.spots` rows: ``id``, ``title``, ``lon``, ``lat`` (WGS84
        degrees), ``reports`` and ``open``.
    statuses : pandas.Series
        A :class:`cpted.spots.SpotStatus` value per spot, aligned on ``spots``' index
        (:func:`cpted.spots.spot_statuses`).
    tiles : str or None
        The basemap; ``None`` for none.

    Returns
    -------
    folium.Map
        Fitted to the spots; a tooltip reads "title: status, N reports (M open) · id",
        escaped; a legend names each status colour.
    """
    if len(spots):
        bounds = (spots["lon"].min(), spots["lat"].min(), spots["lon"].max(),
                  spots["lat"].max())
        fmap = centred_map(bounds, zoom_start=16, tiles=tiles)
    else:
        fmap = centred_map(None, tiles=tiles)
    group = folium.FeatureGroup(name=f"Problem spots ({len(spots)})", show=True)
    for row, status in zip(spots.itertuples(), statuses.reindex(spots.index), strict=True):
        color = STATUS_COLORS.get(str(status), "#9E9E9E")
        tip = escape_text(f"{row.title}: {status}, {int(row.reports)} report(s) "
                          f"({int(row.open)} open) · {row.id}")
        folium.CircleMarker(latlon((float(row.lon), float(row.lat))), radius=10,
                            color="#222222", weight=1.5, fill=True, fill_color=color,
                            fill_opacity=0.9, tooltip=tip).add_to(group)
    group.add_to(fmap)
    fmap.get_root().add_child(legend("Problem spots", [
        ("dot", c, s) for s, c in STATUS_COLORS.items()]))
    by = statuses.reindex(spots.index).astype(str)
    summary = (f"Map of {counted(len(spots), 'problem spot')}, coloured by status: "
               + listing(f"{int((by == s).sum()):,} {s}" for s in STATUS_COLORS
                         if (by == s).any()) + ".")
    rows = pd.DataFrame({"Spot": spots["title"].astype(str).to_numpy(),
                         "Status": by.to_numpy(), "Reports": spots["reports"].to_numpy(),
                         "Open": spots["open"].to_numpy(), "Id": spots["id"].to_numpy()})
    return attach(fmap, MapText(summary, (MapTable("Problem spots on the map", rows),)))
