"""Problem spot maps: gathering reports into a spot, and the spots by status.

:func:`build_gather_map` shows the reports a coordinator may gather, the ones gathered
so far ringed, and the drawing tools (polygon and rectangle) to gather an area at once;
:func:`build_spots_map` shows the existing spots coloured by where they stand.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

import branca.element
import folium
import geopandas as gpd
import pandas as pd
from folium.plugins import Draw

from cpted import i18n
from cpted.i18n import N_, _, ngettext
from cpted.maps.common import (
    category_word,
    centred_map,
    escape_text,
    escaped_frame,
    legend,
    snapped,
    value_word,
    value_words,
)
from cpted.maps.concerns import PALETTE, aggregate_points, category_colors, cell_size_for
from cpted.maps.describe import MapTable, MapText, attach, listing, local_times, table
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
_TIP_ALIASES = [N_("Report"), N_("Reported"), N_("Description"), N_("Address"), N_("Status"),
                N_("Id")]


class DrawWords(branca.element.MacroElement):
    """The drawing tools' buttons and hints (leaflet-draw's ``L.drawLocal``) in the
    language in use; add it before the :class:`folium.plugins.Draw` control, which reads
    them when it is made."""

    _template = branca.element.Template(  # type: ignore[attr-defined]  # branca has no type hints
        "{% macro script(this, kwargs) %}"
        "(function (w) {"
        "  if (!window.L || !L.drawLocal) { return; }"
        "  var d = L.drawLocal.draw;"
        "  d.toolbar.actions.title = w.cancelTitle; d.toolbar.actions.text = w.cancel;"
        "  d.toolbar.finish.title = w.finishTitle; d.toolbar.finish.text = w.finish;"
        "  d.toolbar.undo.title = w.undoTitle; d.toolbar.undo.text = w.undo;"
        "  d.toolbar.buttons.polygon = w.polygon; d.toolbar.buttons.rectangle = w.rectangle;"
        "  d.handlers.polygon.tooltip.start = w.start;"
        "  d.handlers.polygon.tooltip.cont = w.cont;"
        "  d.handlers.polygon.tooltip.end = w.end;"
        "  d.handlers.rectangle.tooltip.start = w.drag;"
        "  d.handlers.simpleshape.tooltip.end = w.release;"
        "})({{ this.words|tojson }});"
        "{% endmacro %}")

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # branca has no type hints
        self._name = "DrawWords"
        self.words = {
            "cancelTitle": _("Cancel drawing"), "cancel": _("Cancel"),
            "finishTitle": _("Finish drawing"), "finish": _("Finish"),
            "undoTitle": _("Delete last point drawn"), "undo": _("Delete last point"),
            "polygon": _("Draw an area to gather its reports"),
            "rectangle": _("Draw a rectangle to gather its reports"),
            "start": _("Click to start drawing the area."),
            "cont": _("Click to continue drawing the area."),
            "end": _("Click the first point to close the area."),
            "drag": _("Click and drag to draw a rectangle."),
            "release": _("Release the mouse to finish drawing."),
        }


def _tip_frame(reports: gpd.GeoDataFrame, names: Mapping[str, str], tz: str,
               colors: Mapping[str, str], shapes: Mapping[str, str]) -> gpd.GeoDataFrame:
    out = reports.copy()
    codes = out["service_code"].astype(str)
    out["category"] = [category_word(names.get(c) or (n if isinstance(n, str) else c))
                       for c, n in zip(codes, out["service_name"], strict=True)]
    out["status"] = value_words(out["status"])
    out["reported"] = pd.to_datetime(out["requested_datetime"], utc=True).dt.tz_convert(tz)
    out["color"] = [colors[c] for c in codes]
    out["shape"] = [shapes[c] for c in codes]
    return snapped(escaped_frame(out, [*_TIP_FIELDS, "color", "shape"]))


def _report_layer(frame: gpd.GeoDataFrame, name: str, *, gathered: bool) -> folium.FeatureGroup:
    group = folium.FeatureGroup(name=escape_text(name), show=True)
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
            tooltip=folium.GeoJsonTooltip(fields=_TIP_FIELDS,
                                          aliases=[escape_text(_(a)) for a in _TIP_ALIASES]),
        ).add_to(group)
    return group


def _cells_layer(reports: gpd.GeoDataFrame, *, cell_m: float, max_cells: int
                 ) -> tuple[folium.FeatureGroup, float]:
    size = cell_size_for(reports, cell_m=cell_m, max_cells=max_cells)
    cells = snapped(aggregate_points(reports, cell_m=size))
    top = float(cells["count"].max())
    group = folium.FeatureGroup(name=escape_text(_("Reports ({n}, per {size} m cell)").format(
        n=i18n.number(len(reports)), size=i18n.number(size))))
    folium.GeoJson(
        cells.to_json(),
        style_function=lambda f, top=top: {
            "color": "#555555", "weight": 0.3, "fillColor": "#56B4E9",
            "fillOpacity": 0.15 + 0.7 * f["properties"]["count"] / top},
        tooltip=folium.GeoJsonTooltip(fields=["count"],
                                      aliases=[escape_text(_("Reports in cell"))]),
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
            rows.append(("box", "#56B4E9", _("Reports per {size} m cell (darker = more): draw "
                                             "an area to gather them").format(
                size=i18n.number(size))))
        elif len(rest):
            _report_layer(_tip_frame(rest, names, tz, colors, shapes),
                          _("Reports ({n})").format(n=i18n.number(len(rest))),
                          gathered=False).add_to(fmap)
        if len(chosen):
            _report_layer(_tip_frame(chosen, names, tz, colors, shapes),
                          _("Gathered ({n})").format(n=i18n.number(len(chosen))),
                          gathered=True).add_to(fmap)
        shown = reports.drop_duplicates("service_code")
        for code, name in zip(shown["service_code"].astype(str), shown["service_name"],
                              strict=True):
            rows.append((f"marker:{shapes[code]}", colors[code],
                         category_word(names.get(code) or str(name or code))))
        rows.append(("note", "", _("Thick black ring: gathered")))
    fmap.add_child(DrawWords())
    Draw(export=False, position="topleft",  # type: ignore[no-untyped-call]  # folium has no type hints
         draw_options={"polygon": {"shapeOptions": {"color": DRAW_COLOR}},
                       "rectangle": {"shapeOptions": {"color": DRAW_COLOR}},
                       "polyline": False, "marker": False, "circlemarker": False,
                       "circle": False},
         edit_options={"edit": False, "remove": False}).add_to(fmap)
    folium.LayerControl(collapsed=True).add_to(fmap)
    if rows:
        fmap.get_root().add_child(legend(_("Reports"), rows, open_=False))
    return attach(fmap, _gather_text(reports, gathered, category_names or {}, tz,
                                     drawn_one_by_one=len(reports) - len(set(gathered))
                                     <= point_limit))


def _gather_text(reports: gpd.GeoDataFrame, gathered: Collection[str],
                 names: Mapping[str, str], tz: str, *, drawn_one_by_one: bool) -> MapText:
    picked = reports["service_request_id"].astype(str).isin(set(gathered)) if len(reports) \
        else pd.Series([], dtype=bool)
    summary = ngettext(
        "Map for gathering reports into a problem spot: {n} report, {gathered} gathered so "
        "far (ringed in black). Draw an area with the polygon or rectangle tool, or click a "
        "report, to gather; or use the list.",
        "Map for gathering reports into a problem spot: {n} reports, {gathered} gathered so "
        "far (ringed in black). Draw an area with the polygon or rectangle tool, or click a "
        "report, to gather; or use the list.", len(reports)).format(
        n=i18n.number(len(reports)), gathered=i18n.number(int(picked.sum())))
    if not drawn_one_by_one:
        summary += " " + _("Past the limit drawn one by one, reports are counted in squares.")
    if not len(reports):
        return MapText(summary)
    frame = pd.DataFrame(reports.drop(columns=reports.geometry.name))
    frame["category"] = [category_word(names.get(c) or (n if isinstance(n, str) else c))
                         for c, n in zip(frame["service_code"].astype(str),
                                         frame["service_name"], strict=True)]
    yes = _("yes")
    frame["gathered"] = [yes if g else "" for g in picked]
    frame["reported"] = local_times(frame["requested_datetime"], tz)
    frame["status"] = value_words(frame["status"])
    gathered_, reported = _("Gathered"), _("Reported")
    rows = table(frame, {"category": _("Category"), "gathered": gathered_,
                         "reported": reported, "status": _("Status"),
                         "address": _("Address"), "description": _("Description"),
                         "service_request_id": _("Report")},
                 sort=[gathered_, reported], ascending=[False, False])
    return MapText(summary, (MapTable(_("Reports on the map"), rows),))


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
    group = folium.FeatureGroup(name=escape_text(_("Problem spots ({n})").format(
        n=i18n.number(len(spots)))), show=True)
    for row, status in zip(spots.itertuples(), statuses.reindex(spots.index), strict=True):
        color = STATUS_COLORS.get(str(status), "#9E9E9E")
        tip = escape_text(ngettext("{spot}: {status}, {n} report ({open} open) · {id}",
                                   "{spot}: {status}, {n} reports ({open} open) · {id}",
                                   int(row.reports)).format(
            spot=row.title, status=value_word(status), n=i18n.number(int(row.reports)),
            open=i18n.number(int(row.open)), id=row.id))
        folium.CircleMarker(latlon((float(row.lon), float(row.lat))), radius=10,
                            color="#222222", weight=1.5, fill=True, fill_color=color,
                            fill_opacity=0.9, tooltip=tip).add_to(group)
    group.add_to(fmap)
    fmap.get_root().add_child(legend(_("Problem spots"), [
        ("dot", c, value_word(s)) for s, c in STATUS_COLORS.items()]))
    by = statuses.reindex(spots.index).astype(str)
    summary = ngettext("Map of {n} problem spot, coloured by status: {statuses}.",
                       "Map of {n} problem spots, coloured by status: {statuses}.",
                       len(spots)).format(
        n=i18n.number(len(spots)),
        statuses=listing(_("{n} {status}").format(n=i18n.number(int((by == s).sum())),
                                                   status=value_word(s))
                         for s in STATUS_COLORS if (by == s).any()))
    rows = pd.DataFrame({_("Spot"): spots["title"].astype(str).to_numpy(),
                         _("Status"): value_words(by).to_numpy(),
                         _("Reports"): spots["reports"].to_numpy(),
                         _("Open"): spots["open"].to_numpy(), _("Id"): spots["id"].to_numpy()})
    return attach(fmap, MapText(summary, (MapTable(_("Problem spots on the map"), rows),)))
