"""The darkness map: modelled lux as a picture, streets against their targets, poles out."""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from cpted.maps.common import bounds_latlon, centred_map, escape_text, legend
from cpted.maps.describe import MapTable, MapText, attach, counted
from layers.crs import latlon

if TYPE_CHECKING:
    from cpted.lighting import Inventory

#: Lux values spread evenly along the colour map, so the dark end gets most of it.
LUX_STOPS = [0.0, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0]
POLE_OUT_COLOR = "#1f78b4"
WORK_COLORS = {"repair": "#2c7bb6", "upgrade": "#fdae61", "new pole": "#7b3294"}


def _lux_rgba(lux: NDArray[np.float64]) -> NDArray[np.float64]:
    """RGBA in 0..1 for each lux value: matplotlib's inferno, spread over :data:`LUX_STOPS`."""
    from matplotlib import colormaps

    level = np.interp(np.nan_to_num(lux, nan=0.0), LUX_STOPS,
                      np.linspace(0, 1, len(LUX_STOPS)))
    rgba: NDArray[np.float64] = colormaps["inferno"](0.05 + 0.9 * level)
    return rgba


def lux_color(lux: float) -> str:
    """The colour the darkness map gives ``lux`` lux, as ``#rrggbb``."""
    from matplotlib.colors import to_hex

    return str(to_hex(_lux_rgba(np.array([lux], dtype=float))[0], keep_alpha=False))


def lux_png(lux: NDArray[np.float64]) -> str:
    """Lux as a PNG data URI for an image overlay.

    Parameters
    ----------
    lux : numpy.ndarray
        Ground illuminance in lux, ``lux[0]`` the northern row; NaN off the streets.

    Returns
    -------
    str
        ``data:image/png;base64,...``: near-black where dark through amber to pale
        yellow where bright (matplotlib's inferno), transparent where NaN.
    """
    from PIL import Image

    rgba = _lux_rgba(lux)
    rgba[..., 3] = np.where(np.isnan(lux), 0.0, 0.85)
    out = io.BytesIO()
    Image.fromarray((rgba * 255).astype(np.uint8), "RGBA").save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def _street_tip(r: pd.Series) -> str:
    dark = f" - short of target: {r['why']}" if r["dark"] else ""
    name = r.get("name")
    named = f"{name} ({r['id']}, {r['class']})" if isinstance(name, str) and name.strip() \
        else f"{r['id']} ({r['class']})"
    vertical = (f"; vertical at 1.5 m at least {r['ev_min_lux']:.1f} (target "
                f"{r['target_ev_min']:.1f})" if "ev_min_lux" in r.index else "")
    return escape_text(f"{named}: average {r['avg_lux']:.1f} lux, minimum "
                       f"{r['min_lux']:.1f} (target {r['target_avg']:.1f} / "
                       f"{r['target_min']:.1f}){vertical}{dark}")


def darkness_legend_rows(*, work_kinds: Sequence[str] = ()) -> list[tuple[str, str, str]]:
    """The darkness map's key: the lux colours, the street colours, poles out, and the
    kinds of work item in ``work_kinds`` (of :data:`WORK_COLORS`), in that order."""
    import matplotlib

    rows: list[tuple[str, str, str]] = [("note", "", "Modelled lux on streets and footways")]
    for lux, label in ((0.0, "under 0.5 lux"), (1.0, "1 lux"), (2.0, "2 lux"),
                       (5.0, "5 lux"), (10.0, "10 lux"), (20.0, "20 lux or more")):
        rows.append(("box", lux_color(lux), label))
    cmap = matplotlib.colormaps["RdYlGn"]
    rows.append(("note", "", "Streets by lux against target (in the layer menu)"))
    for ratio, label in ((0.0, "far below its target average"), (0.5, "half its target"),
                         (1.0, "at or above its target")):
        rows.append(("line", matplotlib.colors.to_hex(cmap(ratio)), label))
    rows.append(("dot", POLE_OUT_COLOR, "Pole that is out"))
    kinds = [k for k in WORK_COLORS if k in set(work_kinds)]
    if kinds:
        rows.append(("note", "", "Work list (large dots)"))
        rows += [("dot", WORK_COLORS[k], k.capitalize()) for k in kinds]
    return rows


def build_darkness_map(streets: gpd.GeoDataFrame, segments: pd.DataFrame,
                       lux: NDArray[np.float64], bounds_lonlat: Sequence[float],
                       poles: Inventory, *, work: gpd.GeoDataFrame | None = None) -> folium.Map:
    """Modelled lux, streets coloured against their target, poles out and a work list.

    Parameters
    ----------
    streets : geopandas.GeoDataFrame
        Street lines in EPSG:4326.
    segments : pandas.DataFrame
        ``lighting.segment_lux(streets, ...)``: one row per street in the same order
        (``id``, ``class``, ``avg_lux``, ``min_lux``, ``target_avg``, ``target_min``,
        ``dark``, ``why``, ``name`` when the streets have names, and ``ev_min_lux``
        and ``target_ev_min`` when vertical illuminance was modelled).
    lux : numpy.ndarray
        ``lighting.lux_image(...)``'s grid, northern row first.
    bounds_lonlat : sequence of four floats
        The grid's ``(west, south, east, north)`` in WGS84 degrees.
    poles : Inventory
        The pole inventory (metric CRS); the poles marked out are drawn blue.
    work : geopandas.GeoDataFrame, optional
        ``Plan.work_list()``: WGS84 points with ``rank``, ``item``, ``kind``
        (``repair``, ``upgrade`` or ``new pole``) and ``cost_usd``.

    Returns
    -------
    folium.Map
        With a layer control and a key (:func:`darkness_legend_rows`); pole ids, street
        names and ids and item names are escaped.

    Raises
    ------
    ValueError
        When ``segments`` does not hold one row per street.
    """
    if len(segments) != len(streets):
        raise ValueError(f"segments should hold one row per street ({len(streets)}), "
                         f"got {len(segments)}")
    fmap = centred_map(bounds_lonlat, zoom_start=15)
    folium.raster_layers.ImageOverlay(
        lux_png(lux), bounds=bounds_latlon(bounds_lonlat), name="Modelled lux",
        opacity=1.0).add_to(fmap)

    import matplotlib  # the colour ramp for streets

    cmap = matplotlib.colormaps["RdYlGn"]
    ratio = (segments["avg_lux"] / segments["target_avg"]).clip(0, 1.5).to_numpy()
    group = folium.FeatureGroup(name="Streets by lux against target", show=False)
    # segment_lux returns its rows in the streets' order, on a fresh index
    for geom, k in zip(streets.geometry.values, range(len(segments)), strict=True):
        color = matplotlib.colors.to_hex(cmap(min(float(ratio[k]), 1.0)))
        tip = _street_tip(segments.iloc[k])
        for line in shapely.get_parts(geom):
            folium.PolyLine(  # type: ignore[no-untyped-call]  # folium has no type hints
                [latlon(c) for c in line.coords], color=color, weight=4,
                tooltip=tip).add_to(group)
    group.add_to(fmap)

    out = folium.FeatureGroup(name="Poles that are out")
    ll = gpd.GeoSeries(gpd.points_from_xy(poles.x, poles.y), crs=poles.crs).to_crs(4326)
    for p, pole_id, is_out in zip(ll.values, poles.ids, poles.out, strict=True):
        if is_out:
            folium.CircleMarker(latlon(p), radius=4, color="#ffffff", weight=1, fill=True,
                                fill_opacity=1, fill_color=POLE_OUT_COLOR,
                                tooltip=escape_text(f"{pole_id} (out)")).add_to(out)
    out.add_to(fmap)

    if work is not None and len(work):
        items = folium.FeatureGroup(name="Work list")
        for geom, rank, item, kind, cost in zip(work.geometry.values, work["rank"], work["item"],
                                                work["kind"], work["cost_usd"], strict=True):
            folium.CircleMarker(latlon(geom), radius=7, color="#ffffff", weight=2, fill=True,
                                fill_opacity=1, fill_color=WORK_COLORS[kind],
                                tooltip=escape_text(f"#{rank} {item} (${cost:,.0f})"),
                                ).add_to(items)
        items.add_to(fmap)
    folium.LayerControl(collapsed=True).add_to(fmap)
    kinds = [] if work is None else work["kind"].astype(str).tolist()
    fmap.get_root().add_child(legend("Key", darkness_legend_rows(work_kinds=kinds)))
    dark = segments[segments["dark"].astype(bool)]
    summary = (f"Map of modelled light on {counted(len(segments), 'street segment')}: "
               f"{len(dark):,} fall short of their lighting target, and "
               f"{counted(int(np.sum(poles.out)), 'pole')} that are out are marked.")
    names = dark["name"] if "name" in dark.columns else pd.Series([""] * len(dark))
    short = pd.DataFrame({
        "Street": [n if isinstance(n, str) and n.strip() else "" for n in names],
        "Class": dark["class"].astype(str).to_numpy(),
        "Average lux": dark["avg_lux"].round(1).to_numpy(),
        "Minimum lux": dark["min_lux"].round(1).to_numpy(),
        "Target average": dark["target_avg"].to_numpy(),
        "Why": dark["why"].astype(str).to_numpy(), "Segment": dark["id"].astype(str).to_numpy(),
    }).sort_values(["Street", "Segment"])
    tables = [MapTable("Streets short of their target", short.reset_index(drop=True))]
    if work is not None and len(work):
        summary += f" The work list's {counted(len(work), 'item')} are large dots."
        tables.insert(0, MapTable("Work list on the map", pd.DataFrame({
            "Rank": work["rank"].to_numpy(), "Item": work["item"].astype(str).to_numpy(),
            "Kind": work["kind"].astype(str).to_numpy(),
            "Cost (USD)": work["cost_usd"].round(0).to_numpy()})))
    return attach(fmap, MapText(summary, tuple(tables)))
