"""Folium maps built as pure functions of data.

Nothing here talks to Streamlit or the store: a page reads layers, calls
:func:`build_map`, and hands the result to ``st_folium``. Tests read the
generated HTML. All text that came from users is HTML-escaped before it is
placed in a tooltip, because Leaflet renders tooltips as HTML.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import branca.element
import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from layers.crs import metric_crs

#: Category colours, assigned in order; colour-blind-safe (Okabe-Ito, then Tol's muted).
PALETTE = ["#E69F00", "#56B4E9", "#009E73", "#D55E00", "#CC79A7", "#0072B2", "#882255",
           "#44AA99", "#999933", "#AA4499", "#332288", "#117733"]
LIGHT_COLORS = {"working": "#F5C400", "out": "#222222", "unknown": "#9E9E9E"}
STREET_WEIGHTS = {"arterial": 5, "collector": 3.5, "local": 2, "alley": 1.2, "path": 1}


@dataclass(frozen=True)
class MapLayers:
    """What to draw; ``None`` leaves a layer off the map."""

    concerns: gpd.GeoDataFrame | None = None
    neighborhoods: gpd.GeoDataFrame | None = None
    streets: gpd.GeoDataFrame | None = None
    streetlights: gpd.GeoDataFrame | None = None
    buildings: gpd.GeoDataFrame | None = None


def category_colors(codes: Sequence[str]) -> dict[str, str]:
    """A stable colour per category code (sorted, so adding a filter never recolours)."""
    return {c: PALETTE[i % len(PALETTE)] for i, c in enumerate(sorted(set(codes)))}


def _escaped(gdf: gpd.GeoDataFrame, columns: Sequence[str]) -> gpd.GeoDataFrame:
    """Only ``columns`` and the geometry, every value as escaped text (datetimes as local ISO)."""
    out = gpd.GeoDataFrame(geometry=gdf.geometry.values, crs=gdf.crs)
    for c in columns:
        col = gdf[c]
        if isinstance(col.dtype, pd.DatetimeTZDtype):
            text = col.dt.strftime("%Y-%m-%d %H:%M")
            vals = text.where(col.notna(), "").tolist()
        else:
            vals = ["" if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA
                    else str(v) for v in col]
        out[c] = [html.escape(v) for v in vals]
    return out


def _bounds(layers: MapLayers) -> list[list[float]] | None:
    frames = [g for g in (layers.neighborhoods, layers.concerns, layers.streets,
                          layers.streetlights) if g is not None and len(g)]
    if not frames:
        return None
    b = np.array([f.total_bounds for f in frames])
    minx, miny = np.nanmin(b[:, 0]), np.nanmin(b[:, 1])
    maxx, maxy = np.nanmax(b[:, 2]), np.nanmax(b[:, 3])
    return [[float(miny), float(minx)], [float(maxy), float(maxx)]]


def cell_size_for(points: gpd.GeoDataFrame, *, cell_m: float, max_cells: int) -> float:
    """``cell_m``, or a larger round size so the extent holds at most ``max_cells`` cells."""
    minx, miny, maxx, maxy = points.geometry.to_crs(metric_crs(points)).total_bounds
    needed = float(np.sqrt(max((maxx - minx) * (maxy - miny), 1.0) / max_cells))
    if needed <= cell_m:
        return cell_m
    step = 50.0 if needed < 1000 else 250.0
    return float(np.ceil(needed / step) * step)


def _light(gdf: gpd.GeoDataFrame, grid: float = 1e-5) -> gpd.GeoDataFrame:
    """Coordinates snapped to ``grid`` degrees (about 1 m) so the page's JSON stays small."""
    out = gdf.copy()
    out["geometry"] = shapely.set_precision(np.asarray(gdf.geometry.values), grid)
    return out


def aggregate_points(points: gpd.GeoDataFrame, *, cell_m: float) -> gpd.GeoDataFrame:
    """Count points in square cells of ``cell_m`` metres; one polygon (WGS84) per non-empty cell."""
    crs = metric_crs(points)
    xy = points.geometry.to_crs(crs)
    ix = np.floor(xy.x.to_numpy() / cell_m).astype(np.int64)
    iy = np.floor(xy.y.to_numpy() / cell_m).astype(np.int64)
    cells = pd.DataFrame({"ix": ix, "iy": iy}).value_counts().reset_index(name="count")
    boxes = shapely.box(cells.ix * cell_m, cells.iy * cell_m,
                        (cells.ix + 1) * cell_m, (cells.iy + 1) * cell_m)
    out = gpd.GeoDataFrame({"count": cells["count"].to_numpy()}, geometry=boxes, crs=crs)
    return out.to_crs(points.crs)


def _legend(title: str, rows: Sequence[tuple[str, str, str]], *,
            open_: bool = True) -> branca.element.MacroElement:
    """A fixed, collapsible legend; rows are (shape, colour, label), shape 'dot', 'line',
    'box' or 'note'."""
    items = []
    for shape, color, label in rows:
        if shape == "note":
            items.append(f'<div style="margin-top:4px;color:#555">{html.escape(label)}</div>')
            continue
        style = {
            "dot": f"display:inline-block;width:11px;height:11px;border-radius:50%;"
                   f"background:{color};border:1px solid #333",
            "line": f"display:inline-block;width:18px;height:0;border-top:3px solid {color}",
            "box": f"display:inline-block;width:14px;height:11px;background:{color};"
                   "border:1px solid #555",
        }[shape]
        items.append(f'<div style="margin:2px 0"><span style="{style}"></span>&nbsp;'
                     f"{html.escape(label)}</div>")
    body = (
        '<div id="cpted-legend" style="position:absolute;bottom:24px;left:10px;z-index:9999;'
        "background:rgba(255,255,255,0.93);padding:8px 10px;border-radius:6px;"
        'font:12px/1.35 sans-serif;box-shadow:0 1px 4px rgba(0,0,0,.3);max-width:260px">'
        f"<details{' open' if open_ else ''}><summary style=\"cursor:pointer\">"
        f"<b>{html.escape(title)}</b></summary>{''.join(items)}</details></div>"
    )
    el = branca.element.MacroElement()
    el._template = branca.element.Template(
        "{% macro html(this, kwargs) %}" + body + "{% endmacro %}")
    return el


def build_map(
    layers: MapLayers,
    *,
    point_limit: int = 5000,
    cell_m: float = 150.0,
    max_cells: int = 3000,
    category_names: Mapping[str, str] | None = None,
    tiles: str | None = "OpenStreetMap",
    legend_open: bool = True,
) -> folium.Map:
    """A folium map of ``layers`` (all in EPSG:4326) with toggles and a legend.

    Concerns are drawn one circle each up to ``point_limit``; past it they
    are counted in square cells of ``cell_m`` metres (larger when the extent
    would need more than ``max_cells``) and drawn as shaded squares, so what
    is sent to the browser stays small whatever the number of rows.
    """
    bounds = _bounds(layers)
    m = folium.Map(tiles=tiles, control_scale=True,
                   location=[39.05, -94.57] if bounds is None else None, zoom_start=14)
    if bounds is not None:
        m.fit_bounds(bounds)
    legend: list[tuple[str, str, str]] = []

    if layers.neighborhoods is not None and len(layers.neighborhoods):
        fg = folium.FeatureGroup(name="Neighborhoods", show=True)
        folium.GeoJson(
            _light(_escaped(layers.neighborhoods, ["id", "name"])).to_json(),
            style_function=lambda _f: {"color": "#4B0082", "weight": 2, "fill": True,
                                       "fillOpacity": 0.03, "dashArray": "6 4"},
            tooltip=folium.GeoJsonTooltip(fields=["name"], aliases=["Neighborhood"]),
        ).add_to(fg)
        fg.add_to(m)
        legend.append(("line", "#4B0082", "Neighborhood boundary"))

    if layers.buildings is not None and len(layers.buildings):
        fg = folium.FeatureGroup(name="Buildings", show=True)
        folium.GeoJson(
            _escaped(layers.buildings, []).to_json(),
            style_function=lambda _f: {"color": "#8d8d8d", "weight": 0.5, "fillColor": "#bdbdbd",
                                       "fillOpacity": 0.6},
        ).add_to(fg)
        fg.add_to(m)
        legend.append(("box", "#bdbdbd", "Building"))

    if layers.streets is not None and len(layers.streets):
        fg = folium.FeatureGroup(name="Streets", show=True)
        folium.GeoJson(
            _escaped(layers.streets, ["name", "class"]).to_json(),
            style_function=lambda f: {"color": "#6b6b6b",
                                      "weight": STREET_WEIGHTS.get(f["properties"]["class"], 2)},
            tooltip=folium.GeoJsonTooltip(fields=["name", "class"], aliases=["Street", "Class"]),
        ).add_to(fg)
        fg.add_to(m)
        legend.append(("line", "#6b6b6b", "Street (width by class)"))

    if layers.streetlights is not None and len(layers.streetlights):
        fg = folium.FeatureGroup(name="Streetlights", show=True)
        lights = _escaped(layers.streetlights, ["id", "status", "fixture_type", "lumens"])
        folium.GeoJson(
            lights.to_json(),
            marker=folium.CircleMarker(radius=3, weight=1, fill_opacity=1),
            style_function=lambda f: {"color": "#333", "fill": True, "fillOpacity": 1,
                                      "fillColor": LIGHT_COLORS.get(f["properties"]["status"],
                                                                    "#9E9E9E")},
            tooltip=folium.GeoJsonTooltip(fields=["id", "status", "fixture_type", "lumens"],
                                          aliases=["Pole", "Status", "Fixture", "Lumens"]),
        ).add_to(fg)
        fg.add_to(m)
        for status, color in LIGHT_COLORS.items():
            legend.append(("dot", color, f"Streetlight: {status}"))

    concerns = layers.concerns
    if concerns is not None and len(concerns):
        if len(concerns) > point_limit:
            cell_m = cell_size_for(concerns, cell_m=cell_m, max_cells=max_cells)
            cells = _light(aggregate_points(concerns, cell_m=cell_m))
            top = float(cells["count"].max())
            fg = folium.FeatureGroup(name=f"Concerns ({len(concerns):,}, per {cell_m:g} m cell)")
            folium.GeoJson(
                cells.to_json(),
                style_function=lambda f, top=top: {
                    "color": "#b30000", "weight": 0.3, "fillColor": "#e34a33",
                    "fillOpacity": 0.15 + 0.7 * f["properties"]["count"] / top},
                tooltip=folium.GeoJsonTooltip(fields=["count"], aliases=["Concerns in cell"]),
            ).add_to(fg)
            fg.add_to(m)
            legend.append(("box", "#e34a33", f"Concerns per {cell_m:g} m cell (darker = more)"))
        else:
            colors = category_colors(concerns["service_code"].astype(str).tolist())
            names = dict(category_names or {})
            for code, color in colors.items():
                part = concerns[concerns["service_code"].astype(str) == code]
                label = names.get(code) or str(part["service_name"].dropna().iloc[0]
                                               if part["service_name"].notna().any() else code)
                fg = folium.FeatureGroup(name=f"{html.escape(label)} ({len(part)})", show=True)
                fields = ["service_name", "status", "detailed_status", "requested_datetime",
                          "time_of_day", "description", "address"]
                folium.GeoJson(
                    _escaped(part, fields).to_json(),
                    marker=folium.CircleMarker(radius=5, weight=1, fill_opacity=0.85),
                    style_function=lambda f, c=color: {
                        "fill": True, "fillColor": c,
                        **({"color": "#000000", "weight": 1.5, "fillOpacity": 0.95}
                           if f["properties"]["status"] == "open"
                           else {"color": c, "weight": 0.5, "fillOpacity": 0.35})},
                    tooltip=folium.GeoJsonTooltip(
                        fields=fields,
                        aliases=["Concern", "Status", "Detail", "Reported (UTC)", "Time of day",
                                 "Description", "Address"]),
                ).add_to(fg)
                fg.add_to(m)
                legend.append(("dot", color, f"{label} ({len(part)})"))
            legend.append(("note", "", "Solid with dark edge = open; faded = closed"))
    folium.LayerControl(collapsed=True).add_to(m)
    m.get_root().add_child(_legend("Legend", legend, open_=legend_open))
    return m


#: Sequential, colour-blind-safe (ColorBrewer YlOrRd, 5 classes).
CHOROPLETH = ["#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"]


def build_choropleth(neighborhoods: gpd.GeoDataFrame, values: Sequence[float],
                     bins: Sequence[float], *, measure: str,
                     tiles: str | None = "OpenStreetMap") -> folium.Map:
    """Neighborhoods shaded by ``values`` in classes with upper bounds ``bins``.

    Each feature carries its ``id`` so a click can be mapped back to it.
    """
    gdf = _escaped(neighborhoods, ["id", "name"])
    vals = np.asarray(values, dtype=float)
    classes = np.searchsorted(np.asarray(bins, dtype=float), vals, side="left")
    palette = CHOROPLETH[-len(bins):] if len(bins) else CHOROPLETH
    whole = bool(np.all(np.isnan(vals) | (vals == np.round(vals))))
    fmt = "{:,.0f}" if whole else "{:,.1f}"
    gdf["value"] = ["no data" if np.isnan(v) else fmt.format(v) for v in vals]
    gdf["klass"] = [-1 if np.isnan(v) else int(min(c, len(palette) - 1))
                    for v, c in zip(vals, classes, strict=True)]
    b = gdf.total_bounds
    m = folium.Map(tiles=tiles, control_scale=True)
    m.fit_bounds([[b[1], b[0]], [b[3], b[2]]])
    folium.GeoJson(
        gdf.to_json(),
        style_function=lambda f: {
            "color": "#444", "weight": 1, "fillOpacity": 0.75,
            "fillColor": "#dddddd" if f["properties"]["klass"] < 0
            else palette[f["properties"]["klass"]]},
        highlight_function=lambda _f: {"weight": 3, "color": "#000"},
        tooltip=folium.GeoJsonTooltip(fields=["name", "value"],
                                      aliases=["Neighborhood", html.escape(measure)]),
    ).add_to(m)
    lower = [float(np.nanmin(vals)), *list(bins[:-1])] if len(bins) else []
    rows = [("box", palette[i], f"{fmt.format(lo)} to {fmt.format(hi)}")
            for i, (lo, hi) in enumerate(zip(lower, bins, strict=True))]
    if np.isnan(vals).any():
        rows.append(("box", "#dddddd", "no data"))
    m.get_root().add_child(_legend(measure, rows))
    return m
