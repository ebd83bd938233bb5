"""The layers map: concerns, neighborhoods, streets, streetlights, buildings and vacant
parcels.

Used by the Map page and, with a pin for the chosen spot, by the report form.
Past ``point_limit`` concerns are counted in square cells so the page stays small.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cpted import i18n
from cpted.i18n import N_, _, ngettext
from cpted.maps.common import (
    DEFAULT_CENTRE_LONLAT,
    LIGHT_WORDS,
    STREET_WORDS,
    TIME_WORDS,
    bounds_latlon,
    category_word,
    escape_text,
    escaped_frame,
    legend,
    pin_icon,
    snapped,
    value_words,
)
from cpted.maps.describe import MapTable, MapText, attach, listing, local_times, table
from cpted.maps.shapes import ShapeMarker, category_shapes, use_shapes
from layers.crs import latlon, metric_crs
from layers.points import Points

#: Category colours, assigned in order: Paul Tol's "muted" qualitative scheme, its nine
#: colours and then its pale grey, in the order of his tol_colors.py (P. Tol, "Colour
#: Schemes", SRON technical note SRON/EPS/TN/09-002,
#: https://personal.sron.nl/~pault/data/colourschemes.pdf). Tol keeps the grey for missing
#: data; we give it to a tenth category so that the ten categories the app ships with
#: are all told apart. Every pair stays at least 10 CIEDE2000 apart under protanopia,
#: deuteranopia and tritanopia as Machado et al. (2009) simulate them (tests/test_maps.py).
#: Past ten categories colours repeat: the legend and each point's tooltip still name the
#: category.
PALETTE = ["#CC6677", "#332288", "#DDCC77", "#117733", "#88CCEE", "#882255", "#44AA99",
           "#999933", "#AA4499", "#DDDDDD"]
LIGHT_COLORS = {"working": "#F5C400", "out": "#222222", "unknown": "#9E9E9E"}
STREET_WEIGHTS = {"arterial": 5, "collector": 3.5, "local": 2, "alley": 1.2, "path": 1}
#: Vacant parcels, light so that they sit under the reports: (fill, edge, dash, label).
#: A lot is pale green with a dashed edge, a building pale orange with a solid one (the
#: two differ in lightness as well as hue, and by their edges).
PARCEL_STYLES = {
    "vacant_lot": ("#d9f0d3", "#5aae61", "4 3", N_("Vacant lot")),
    "vacant_building": ("#fdd0a2", "#d9712b", None, N_("Vacant building")),
}
OWNER_NAMES = {"public": N_("public"), "land_bank": N_("land bank"), "private": N_("private"),
               "unknown": N_("unknown")}


def _parcel_words(status: str, n: int) -> tuple[str, str]:
    """How many vacant parcels of ``status`` there are, in a sentence and as a layer's name."""
    count = i18n.number(n)
    if status == "vacant_lot":
        return (ngettext("{n} vacant lot", "{n} vacant lots", n).format(n=count),
                _("Vacant lots ({n})").format(n=count))
    return (ngettext("{n} vacant building", "{n} vacant buildings", n).format(n=count),
            _("Vacant buildings ({n})").format(n=count))


def _light_words(status: str, n: int) -> str:
    """How many streetlights of ``status`` there are."""
    count = i18n.number(n)
    if status == "working":
        return ngettext("{n} working", "{n} working", n).format(n=count)
    if status == "out":
        return ngettext("{n} out", "{n} out", n).format(n=count)
    return ngettext("{n} unknown", "{n} unknown", n).format(n=count)


def _legend_light(status: str) -> str:
    return {"working": _("Streetlight: working"), "out": _("Streetlight: out")}.get(
        status, _("Streetlight: unknown"))


@dataclass(frozen=True)
class MapLayers:
    """What to draw; ``None`` leaves a layer off the map."""

    #: The rows themselves, or past ``point_limit`` only where they are (coordinate
    #: arrays, counted in cells).
    concerns: gpd.GeoDataFrame | Points | None = None
    neighborhoods: gpd.GeoDataFrame | None = None
    streets: gpd.GeoDataFrame | None = None
    streetlights: gpd.GeoDataFrame | None = None
    buildings: gpd.GeoDataFrame | None = None
    #: The parcels layer; only vacant lots and vacant buildings are drawn.
    parcels: gpd.GeoDataFrame | None = None


def category_colors(codes: Sequence[str]) -> dict[str, str]:
    """A stable colour per category code.

    Parameters
    ----------
    codes : sequence of str
        Category codes, repeats allowed.

    Returns
    -------
    dict of str to str
        A :data:`PALETTE` colour per distinct code, assigned in sorted order so
        that filtering rows never recolours a category.
    """
    return {c: PALETTE[i % len(PALETTE)] for i, c in enumerate(sorted(set(codes)))}


def _bounds(layers: MapLayers) -> list[list[float]] | None:
    frames = [g for g in (layers.neighborhoods, layers.concerns, layers.streets,
                          layers.streetlights) if g is not None and len(g)]
    if not frames:
        return None
    b = np.array([f.total_bounds for f in frames])
    return bounds_latlon((np.nanmin(b[:, 0]), np.nanmin(b[:, 1]),
                          np.nanmax(b[:, 2]), np.nanmax(b[:, 3])))


def _around(point: shapely.Point, *, radius_m: float) -> tuple[float, float, float, float]:
    """The WGS84 ``(west, south, east, north)`` of the square ``radius_m`` around
    ``point`` (x = lon, y = lat), measured in its UTM zone."""
    here = gpd.GeoSeries([point], crs="EPSG:4326")
    square = here.to_crs(metric_crs(here)).buffer(radius_m).envelope.to_crs("EPSG:4326")
    west, south, east, north = (float(v) for v in square.total_bounds)
    return west, south, east, north


def cell_size_for(points: gpd.GeoDataFrame | Points, *, cell_m: float, max_cells: int
                  ) -> float:
    """A cell size for :func:`aggregate_points` that keeps the cell count bounded.

    Parameters
    ----------
    points : geopandas.GeoDataFrame or layers.points.Points
        Points with a CRS (any; measured in their UTM zone); coordinate arrays are
        projected once for this and :func:`aggregate_points` together.
    cell_m : float
        The wanted cell side in metres.
    max_cells : int
        How many cells the extent may hold at most.

    Returns
    -------
    float
        ``cell_m``, or a larger round size (a multiple of 50 m, or of 250 m past 1 km).
    """
    if isinstance(points, Points):
        xy = points.metric[1]
        (minx, miny), (maxx, maxy) = xy.min(axis=0), xy.max(axis=0)
    else:
        minx, miny, maxx, maxy = points.geometry.to_crs(metric_crs(points)).total_bounds
    needed = float(np.sqrt(max((maxx - minx) * (maxy - miny), 1.0) / max_cells))
    if needed <= cell_m:
        return cell_m
    step = 50.0 if needed < 1000 else 250.0
    return float(np.ceil(needed / step) * step)


def aggregate_points(points: gpd.GeoDataFrame | Points, *, cell_m: float
                     ) -> gpd.GeoDataFrame:
    """Count points in square cells of ``cell_m`` metres.

    Parameters
    ----------
    points : geopandas.GeoDataFrame or layers.points.Points
        Points with a CRS; cells are laid out in their UTM zone.
    cell_m : float
        The cell side in metres.

    Returns
    -------
    geopandas.GeoDataFrame
        One square per non-empty cell with its ``count``, in the points' CRS.
    """
    if isinstance(points, Points):
        return _aggregate_arrays(points, cell_m=cell_m)
    crs = metric_crs(points)
    xy = points.geometry.to_crs(crs)
    ix = np.floor(xy.x.to_numpy() / cell_m).astype(np.int64)
    iy = np.floor(xy.y.to_numpy() / cell_m).astype(np.int64)
    cells = pd.DataFrame({"ix": ix, "iy": iy}).value_counts().reset_index(name="count")
    boxes = shapely.box(cells.ix * cell_m, cells.iy * cell_m,
                        (cells.ix + 1) * cell_m, (cells.iy + 1) * cell_m)
    out = gpd.GeoDataFrame({"count": cells["count"].to_numpy()}, geometry=boxes, crs=crs)
    return out.to_crs(points.crs)


def _aggregate_arrays(points: Points, *, cell_m: float) -> gpd.GeoDataFrame:
    """:func:`aggregate_points` on coordinate arrays: counted with numpy on the points as
    projected once (:attr:`layers.points.Points.metric`), most crowded cells first."""
    if not len(points):
        return gpd.GeoDataFrame({"count": np.zeros(0, dtype=np.int64)}, geometry=[],
                                crs=points.crs)
    crs, xy = points.metric
    ix = np.floor(xy[:, 0] / cell_m).astype(np.int64)
    iy = np.floor(xy[:, 1] / cell_m).astype(np.int64)
    x0, y0 = ix.min(), iy.min()
    rows = int(iy.max() - y0) + 1
    key = (ix - x0) * rows + (iy - y0)
    if int(key.max()) < max(4 * len(key), 1_000_000):  # a dense grid: count in one pass
        tally = np.bincount(key)
        cells = np.flatnonzero(tally)
        counts = tally[cells]
    else:
        cells, counts = np.unique(key, return_counts=True)
    order = np.lexsort((cells, -counts))
    cells, counts = cells[order], counts[order]
    cx, cy = cells // rows + x0, cells % rows + y0
    boxes = shapely.box(cx * cell_m, cy * cell_m, (cx + 1) * cell_m, (cy + 1) * cell_m)
    out = gpd.GeoDataFrame({"count": counts.astype(np.int64)}, geometry=boxes, crs=crs)
    return out.to_crs(points.crs)


def build_map(
    layers: MapLayers,
    *,
    point_limit: int = 5000,
    cell_m: float = 150.0,
    max_cells: int = 3000,
    category_names: Mapping[str, str] | None = None,
    tiles: str | None = None,
    legend_open: bool = True,
    pin: shapely.Point | None = None,
    pin_label: str | None = None,
    zoom_to_pin: bool = False,
    tz: str = "UTC",
) -> folium.Map:
    """A folium map of ``layers`` with a toggle per layer and a legend.

    Concerns are drawn one circle each up to ``point_limit``; past it they
    are counted in square cells of ``cell_m`` metres (larger when the extent
    would need more than ``max_cells``) and drawn as shaded squares, so what
    is sent to the browser stays small whatever the number of rows.

    Parameters
    ----------
    layers : MapLayers
        The layers to draw, all in EPSG:4326; ``None`` or empty ones are left off.
    point_limit : int
        Most concerns drawn one by one.
    cell_m : float
        Cell side in metres when concerns are counted in cells.
    max_cells : int
        Most cells drawn (the cell grows to keep within it).
    category_names : mapping of str to str, optional
        Display name per ``service_code``; else the rows' ``service_name``.
    tiles : str or None
        The basemap; ``None`` for none.
    legend_open : bool
        Whether the legend starts expanded.
    pin : shapely.Point, optional
        A WGS84 point (x = lon, y = lat) marked with a red pin, such as the spot
        chosen on the report form.
    pin_label : str, optional
        The pin's tooltip (escaped); "Your report" in the language in use when None.
    zoom_to_pin : bool
        Open on the 300 m around ``pin`` (a place found by typing) instead of the
        whole of ``layers``.
    tz : str
        The IANA time zone the tooltips give report times in (the app's own).

    Returns
    -------
    folium.Map
        Every text from a record is escaped in its tooltip.
    """
    if pin_label is None:
        pin_label = _("Your report")
    bounds = _bounds(layers)
    if pin is not None and zoom_to_pin:
        bounds = bounds_latlon(_around(pin, radius_m=150.0))
    m = folium.Map(tiles=tiles, control_scale=True,
                   location=latlon(DEFAULT_CENTRE_LONLAT) if bounds is None else None,
                   zoom_start=14)
    if bounds is not None:
        m.fit_bounds(bounds)
    rows: list[tuple[str, str, str]] = []
    words: list[str] = []  # what the map shows, for its text alternative
    tables: list[MapTable] = []
    if isinstance(layers.concerns, Points) and 0 < len(layers.concerns) <= point_limit:
        raise ValueError(f"{len(layers.concerns)} concerns as coordinates alone: within "
                         f"point_limit ({point_limit}) the map draws each one with its "
                         "details, so give the rows themselves")

    if layers.neighborhoods is not None and len(layers.neighborhoods):
        words.append(ngettext("{n} neighborhood boundary", "{n} neighborhood boundaries",
                              len(layers.neighborhoods)).format(
            n=i18n.number(len(layers.neighborhoods))))
        fg = folium.FeatureGroup(name=escape_text(_("Neighborhoods")), show=True)
        folium.GeoJson(
            snapped(escaped_frame(layers.neighborhoods, ["id", "name"])).to_json(),
            style_function=lambda _f: {"color": "#4B0082", "weight": 2, "fill": True,
                                       "fillOpacity": 0.03, "dashArray": "6 4"},
            tooltip=folium.GeoJsonTooltip(fields=["name"],
                                          aliases=[escape_text(_("Neighborhood"))]),
        ).add_to(fg)
        fg.add_to(m)
        rows.append(("line", "#4B0082", _("Neighborhood boundary")))

    if layers.buildings is not None and len(layers.buildings):
        fg = folium.FeatureGroup(name=escape_text(_("Buildings")), show=True)
        folium.GeoJson(
            escaped_frame(layers.buildings, []).to_json(),
            style_function=lambda _f: {"color": "#8d8d8d", "weight": 0.5, "fillColor": "#bdbdbd",
                                       "fillOpacity": 0.6},
        ).add_to(fg)
        fg.add_to(m)
        rows.append(("box", "#bdbdbd", _("Building")))
        words.append(ngettext("{n} building", "{n} buildings", len(layers.buildings)).format(
            n=i18n.number(len(layers.buildings))))

    if layers.parcels is not None and len(layers.parcels):
        rows += _add_parcels(m, layers.parcels, point_limit=point_limit, cell_m=cell_m,
                             max_cells=max_cells)
        kinds = layers.parcels["status"].astype(str).value_counts()
        vacant = [_parcel_words(k, int(kinds.get(k, 0)))[0]
                  for k in PARCEL_STYLES if kinds.get(k, 0)]
        if vacant:
            words.append(listing(vacant))

    if layers.streets is not None and len(layers.streets):
        fg = folium.FeatureGroup(name=escape_text(_("Streets")), show=True)
        folium.GeoJson(
            escaped_frame(layers.streets.assign(kind=value_words(layers.streets["class"],
                                                                 STREET_WORDS)),
                          ["name", "class", "kind"]).to_json(),
            style_function=lambda f: {"color": "#6b6b6b",
                                      "weight": STREET_WEIGHTS.get(f["properties"]["class"], 2)},
            tooltip=folium.GeoJsonTooltip(fields=["name", "kind"], aliases=[
                escape_text(_("Street")), escape_text(_("Class"))]),
        ).add_to(fg)
        fg.add_to(m)
        rows.append(("line", "#6b6b6b", _("Street (width by class)")))
        words.append(ngettext("{n} street segment", "{n} street segments",
                              len(layers.streets)).format(n=i18n.number(len(layers.streets))))

    if layers.streetlights is not None and len(layers.streetlights):
        fg = folium.FeatureGroup(name=escape_text(_("Streetlights")), show=True)
        lights = escaped_frame(layers.streetlights.assign(
            condition=value_words(layers.streetlights["status"], LIGHT_WORDS)),
            ["id", "status", "condition", "fixture_type", "lumens"])
        folium.GeoJson(
            lights.to_json(),
            marker=folium.CircleMarker(radius=3, weight=1, fill_opacity=1),
            style_function=lambda f: {"color": "#333", "fill": True, "fillOpacity": 1,
                                      "fillColor": LIGHT_COLORS.get(f["properties"]["status"],
                                                                    "#9E9E9E")},
            tooltip=folium.GeoJsonTooltip(
                fields=["id", "condition", "fixture_type", "lumens"],
                aliases=[escape_text(_(w)) for w in (N_("Pole"), N_("Status"), N_("Fixture"),
                                                     N_("Lumens"))]),
        ).add_to(fg)
        fg.add_to(m)
        for status, color in LIGHT_COLORS.items():
            rows.append(("dot", color, _legend_light(status)))
        by_status = layers.streetlights["status"].astype(str).value_counts()
        words.append(ngettext("{n} streetlight ({states})", "{n} streetlights ({states})",
                              len(layers.streetlights)).format(
            n=i18n.number(len(layers.streetlights)), states=listing(
                _light_words(k, int(by_status.get(k, 0))) for k in LIGHT_COLORS
                if by_status.get(k, 0))))

    concerns = layers.concerns
    if concerns is not None and len(concerns):
        if len(concerns) > point_limit:
            cell_m = cell_size_for(concerns, cell_m=cell_m, max_cells=max_cells)
            cells = snapped(aggregate_points(concerns, cell_m=cell_m))
            top = float(cells["count"].max())
            fg = folium.FeatureGroup(name=escape_text(_("Concerns ({n}, per {size} m cell)").format(
                n=i18n.number(len(concerns)), size=i18n.number(cell_m))))
            folium.GeoJson(
                cells.to_json(),
                style_function=lambda f, top=top: {
                    "color": "#b30000", "weight": 0.3, "fillColor": "#e34a33",
                    "fillOpacity": 0.15 + 0.7 * f["properties"]["count"] / top},
                tooltip=folium.GeoJsonTooltip(fields=["count"],
                                              aliases=[escape_text(_("Concerns in cell"))]),
            ).add_to(fg)
            fg.add_to(m)
            rows.append(("box", "#e34a33", _("Concerns per {size} m cell (darker = more)").format(
                size=i18n.number(cell_m))))
            words.insert(0, ngettext(
                "{n} concern counted in {cells} squares of {size} m (at most {top} in one)",
                "{n} concerns counted in {cells} squares of {size} m (at most {top} in one)",
                len(concerns)).format(n=i18n.number(len(concerns)),
                                      cells=i18n.number(len(cells)), size=i18n.number(cell_m),
                                      top=i18n.number(int(top))))
        else:
            assert isinstance(concerns, gpd.GeoDataFrame)  # coordinates alone were refused
            colors = category_colors(concerns["service_code"].astype(str).tolist())
            shapes = category_shapes(list(colors), colours=len(PALETTE))
            use_shapes(m)
            names = dict(category_names or {})
            shown_names: dict[str, str] = {}
            for code, color in colors.items():
                part = concerns[concerns["service_code"].astype(str) == code]
                label = category_word(names.get(code) or str(
                    part["service_name"].dropna().iloc[0]
                    if part["service_name"].notna().any() else code))
                fg = folium.FeatureGroup(name=escape_text(_("{category} ({n})").format(
                    category=label, n=i18n.number(len(part)))), show=True)
                fields = ["service_name", "status", "detailed_status", "requested_datetime",
                          "time_of_day", "description", "address"]
                shown = part.assign(requested_datetime=pd.to_datetime(
                    part["requested_datetime"], utc=True).dt.tz_convert(tz),
                    service_name=label, status=value_words(part["status"]),
                    detailed_status=value_words(part["detailed_status"]),
                    time_of_day=value_words(part["time_of_day"], TIME_WORDS))
                open_word = escape_text(_("open"))
                folium.GeoJson(
                    escaped_frame(shown, fields).to_json(),
                    marker=ShapeMarker(shapes[code], radius=5, weight=1, fill_opacity=0.85),
                    style_function=lambda f, c=color, o=open_word: {
                        "fill": True, "fillColor": c,
                        **({"color": "#000000", "weight": 1.5, "fillOpacity": 0.95}
                           if f["properties"]["status"] == o
                           else {"color": c, "weight": 0.5, "fillOpacity": 0.35})},
                    tooltip=folium.GeoJsonTooltip(
                        fields=fields,
                        aliases=[escape_text(_(w)) for w in (
                            N_("Concern"), N_("Status"), N_("Detail"), N_("Reported"),
                            N_("Time of day"), N_("Description"), N_("Address"))]),
                ).add_to(fg)
                fg.add_to(m)
                rows.append((f"marker:{shapes[code]}", color, _("{category} ({n})").format(
                    category=label, n=i18n.number(len(part)))))
                shown_names[code] = label
            rows.append(("note", "", _("Solid with dark edge = open; faded = closed")))
            words.insert(0, _concern_words(concerns, shown_names))
            tables.append(MapTable(_("Concerns on the map"),
                                   _concern_rows(concerns, shown_names, tz)))
    if pin is not None:
        folium.Marker(latlon(pin), tooltip=escape_text(pin_label), icon=pin_icon()).add_to(m)
    folium.LayerControl(collapsed=True).add_to(m)
    m.get_root().add_child(legend(_("Legend"), rows, open_=legend_open))
    if not words:
        summary = _("Map with nothing on it yet.")
    elif concerns is not None and len(concerns):
        summary = _("Map of {what}.").format(what=words[0]) + (
            " " + _("Also drawn: {what}.").format(what=listing(words[1:]))
            if words[1:] else "")
    else:
        summary = _("Map of {what}.").format(what=listing(words))
    if pin is not None:
        summary += " " + _("A pin marks {place}.").format(place=pin_label)
    return attach(m, MapText(summary, tuple(tables)))


def _concern_words(concerns: gpd.GeoDataFrame, names: Mapping[str, str]) -> str:
    """"2,000 concerns (300 open): Graffiti 500, Dark area 400, ...", most first."""
    codes = concerns["service_code"].astype(str)
    per = codes.value_counts()
    n_open = int((concerns["status"].astype(str) == "open").sum())
    kinds = ", ".join(f"{names.get(c, c)} {i18n.number(int(k))}" for c, k in per.items())
    return ngettext("{n} concern ({open} open), by category: {kinds}",
                    "{n} concerns ({open} open), by category: {kinds}", len(concerns)).format(
        n=i18n.number(len(concerns)), open=i18n.number(n_open), kinds=kinds)


def _concern_rows(concerns: gpd.GeoDataFrame, names: Mapping[str, str], tz: str
                  ) -> pd.DataFrame:
    """The concerns drawn, as their tooltips give them, newest first."""
    frame = pd.DataFrame(concerns.drop(columns=concerns.geometry.name))
    frame["category"] = frame["service_code"].astype(str).map(dict(names))
    order = pd.to_datetime(frame["requested_datetime"], utc=True)
    frame = frame.assign(reported=local_times(frame["requested_datetime"], tz),
                         _order=order).sort_values("_order", ascending=False)
    for column, words in (("status", None), ("detailed_status", None),
                          ("time_of_day", TIME_WORDS)):
        if column in frame.columns:
            frame[column] = value_words(frame[column], words)
    return table(frame, {"category": _("Category"), "status": _("Status"),
                         "detailed_status": _("Detail"), "reported": _("Reported"),
                         "time_of_day": _("Time of day"), "address": _("Address"),
                         "description": _("Description"), "service_request_id": _("Report")})


def _add_parcels(m: folium.Map, parcels: gpd.GeoDataFrame, *, point_limit: int,
                 cell_m: float, max_cells: int) -> list[tuple[str, str, str]]:
    """Vacant lots and vacant buildings, one group each; past ``point_limit`` of them
    counted in cells (at their :func:`cpted.overlay.parcel_points`). The legend's rows."""
    from cpted.overlay import parcel_points

    vacant = parcels[parcels["status"].isin(list(PARCEL_STYLES))]
    if vacant.empty:
        return []
    if len(vacant) > point_limit:
        pts = gpd.GeoDataFrame(geometry=parcel_points(vacant), crs=vacant.crs)
        size = cell_size_for(pts, cell_m=cell_m, max_cells=max_cells)
        cells = snapped(aggregate_points(pts, cell_m=size))
        top = float(cells["count"].max())
        fg = folium.FeatureGroup(name=escape_text(
            _("Vacant parcels ({n}, per {size} m cell)").format(n=i18n.number(len(vacant)),
                                                                 size=i18n.number(size))))
        folium.GeoJson(
            cells.to_json(),
            style_function=lambda f, top=top: {
                "color": "#5aae61", "weight": 0.3, "fillColor": "#a6dba0",
                "fillOpacity": 0.1 + 0.4 * f["properties"]["count"] / top},
            tooltip=folium.GeoJsonTooltip(fields=["count"],
                                          aliases=[escape_text(_("Vacant parcels in cell"))]),
        ).add_to(fg)
        fg.add_to(m)
        return [("box", "#a6dba0", _("Vacant parcels per {size} m cell (darker = more)").format(
            size=i18n.number(size)))]
    rows = []
    for status, (fill, edge, dash, label) in PARCEL_STYLES.items():
        part = vacant[vacant["status"] == status]
        if part.empty:
            continue
        shown = part.assign(what=_(label), owner=value_words(part["owner_type"], OWNER_NAMES))
        fg = folium.FeatureGroup(name=escape_text(_parcel_words(status, len(part))[1]),
                                 show=True)
        folium.GeoJson(
            snapped(escaped_frame(shown, ["what", "owner"])).to_json(),
            marker=folium.CircleMarker(radius=4, weight=1, fill_opacity=0.7),
            style_function=lambda _f, fill=fill, edge=edge, dash=dash: {
                "color": edge, "weight": 1, "fill": True, "fillColor": fill,
                "fillOpacity": 0.55, **({"dashArray": dash} if dash else {})},
            tooltip=folium.GeoJsonTooltip(fields=["what", "owner"], aliases=[
                escape_text(_("Parcel")), escape_text(_("Kind of owner"))]),
        ).add_to(fg)
        fg.add_to(m)
        rows.append(("box", fill, _(label)))
    return rows
