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

from cpted import i18n
from cpted.i18n import N_, _, ngettext
from cpted.maps.common import bounds_latlon, centred_map, escape_text, legend
from cpted.maps.describe import MapTable, MapText, attach
from layers.crs import latlon

if TYPE_CHECKING:
    from cpted.lighting import Inventory

#: Lux values spread evenly along the colour map, so the dark end gets most of it.
LUX_STOPS = [0.0, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0]
POLE_OUT_COLOR = "#1f78b4"
WORK_COLORS = {"repair": "#2c7bb6", "upgrade": "#fdae61", "new pole": "#7b3294"}
#: Each kind of work item in the key, as the page names it.
WORK_WORDS = {"repair": N_("Repair"), "upgrade": N_("Upgrade"), "new pole": N_("New pole")}
#: The RP-8 tests a street can fail (``segment_lux``'s ``why``).
WHY_WORDS = {"average": N_("average"), "minimum": N_("minimum"),
             "uniformity": N_("uniformity")}


def _why(why: object) -> str:
    """``"average, minimum"`` in the language in use."""
    return ", ".join(_(WHY_WORDS[w]) if w in WHY_WORDS else w
                     for w in str(why).split(", ") if w)


def _lux(value: float) -> str:
    """One decimal, rounded as Python rounds (``0.15`` -> ``0.1``), the language's way."""
    return i18n.number(round(float(value), 1), digits=1)


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
    dark = _(" - short of target: {why}").format(why=_why(r["why"])) if r["dark"] else ""
    name = r.get("name")
    named = f"{name} ({r['id']}, {r['class']})" if isinstance(name, str) and name.strip() \
        else f"{r['id']} ({r['class']})"
    vertical = (_("; vertical at 1.5 m at least {lux} (target {target})").format(
        lux=_lux(r["ev_min_lux"]), target=_lux(r["target_ev_min"]))
        if "ev_min_lux" in r.index else "")
    return escape_text(_("{street}: average {avg} lux, minimum {min} (target {target_avg} / "
                         "{target_min}){vertical}{dark}").format(
        street=named, avg=_lux(r["avg_lux"]), min=_lux(r["min_lux"]),
        target_avg=_lux(r["target_avg"]), target_min=_lux(r["target_min"]),
        vertical=vertical, dark=dark))


def darkness_legend_rows(*, work_kinds: Sequence[str] = ()) -> list[tuple[str, str, str]]:
    """The darkness map's key: the lux colours, the street colours, poles out, and the
    kinds of work item in ``work_kinds`` (of :data:`WORK_COLORS`), in that order."""
    import matplotlib

    rows: list[tuple[str, str, str]] = [("note", "", _("Modelled lux on streets and "
                                                        "footways"))]
    for lux, label in ((0.0, _("under {n} lux").format(n=i18n.number(0.5))),
                       *((v, _("{n} lux").format(n=i18n.number(v))) for v in (1, 2, 5, 10)),
                       (20.0, _("{n} lux or more").format(n=i18n.number(20)))):
        rows.append(("box", lux_color(lux), label))
    cmap = matplotlib.colormaps["RdYlGn"]
    rows.append(("note", "", _("Streets by lux against target (in the layer menu)")))
    for ratio, label in ((0.0, _("far below its target average")), (0.5, _("half its target")),
                         (1.0, _("at or above its target"))):
        rows.append(("line", matplotlib.colors.to_hex(cmap(ratio)), label))
    rows.append(("dot", POLE_OUT_COLOR, _("Pole that is out")))
    kinds = [k for k in WORK_COLORS if k in set(work_kinds)]
    if kinds:
        rows.append(("note", "", _("Work list (large dots)")))
        rows += [("dot", WORK_COLORS[k], _(WORK_WORDS[k])) for k in kinds]
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
        lux_png(lux), bounds=bounds_latlon(bounds_lonlat), name=_("Modelled lux"),
        opacity=1.0).add_to(fmap)

    import matplotlib  # the colour ramp for streets

    cmap = matplotlib.colormaps["RdYlGn"]
    ratio = (segments["avg_lux"] / segments["target_avg"]).clip(0, 1.5).to_numpy()
    group = folium.FeatureGroup(name=_("Streets by lux against target"), show=False)
    # segment_lux returns its rows in the streets' order, on a fresh index
    for geom, k in zip(streets.geometry.values, range(len(segments)), strict=True):
        color = matplotlib.colors.to_hex(cmap(min(float(ratio[k]), 1.0)))
        tip = _street_tip(segments.iloc[k])
        for line in shapely.get_parts(geom):
            folium.PolyLine(  # type: ignore[no-untyped-call]  # folium has no type hints
                [latlon(c) for c in line.coords], color=color, weight=4,
                tooltip=tip).add_to(group)
    group.add_to(fmap)

    out = folium.FeatureGroup(name=_("Poles that are out"))
    ll = gpd.GeoSeries(gpd.points_from_xy(poles.x, poles.y), crs=poles.crs).to_crs(4326)
    for p, pole_id, is_out in zip(ll.values, poles.ids, poles.out, strict=True):
        if is_out:
            folium.CircleMarker(latlon(p), radius=4, color="#ffffff", weight=1, fill=True,
                                fill_opacity=1, fill_color=POLE_OUT_COLOR,
                                tooltip=escape_text(_("{pole} (out)").format(pole=pole_id)),
                                ).add_to(out)
    out.add_to(fmap)

    if work is not None and len(work):
        items = folium.FeatureGroup(name=_("Work list"))
        for geom, rank, item, kind, cost in zip(work.geometry.values, work["rank"], work["item"],
                                                work["kind"], work["cost_usd"], strict=True):
            folium.CircleMarker(latlon(geom), radius=7, color="#ffffff", weight=2, fill=True,
                                fill_opacity=1, fill_color=WORK_COLORS[kind],
                                tooltip=escape_text(_("#{rank} {item} ({cost})").format(
                                    rank=rank, item=item,
                                    cost=i18n.money(cost, cents=False))),
                                ).add_to(items)
        items.add_to(fmap)
    folium.LayerControl(collapsed=True).add_to(fmap)
    kinds = [] if work is None else work["kind"].astype(str).tolist()
    fmap.get_root().add_child(legend(_("Key"), darkness_legend_rows(work_kinds=kinds)))
    dark = segments[segments["dark"].astype(bool)]
    out_n = int(np.sum(poles.out))
    summary = _("Map of modelled light on {segments}: {dark} fall short of their lighting "
                "target, and {poles} that are out are marked.").format(
        segments=ngettext("{n} street segment", "{n} street segments", len(segments)).format(
            n=i18n.number(len(segments))),
        dark=i18n.number(len(dark)),
        poles=ngettext("{n} pole", "{n} poles", out_n).format(n=i18n.number(out_n)))
    names = dark["name"] if "name" in dark.columns else pd.Series([""] * len(dark))
    street, segment = _("Street"), _("Segment")
    short = pd.DataFrame({
        street: [n if isinstance(n, str) and n.strip() else "" for n in names],
        _("Class"): dark["class"].astype(str).to_numpy(),
        _("Average lux"): dark["avg_lux"].round(1).to_numpy(),
        _("Minimum lux"): dark["min_lux"].round(1).to_numpy(),
        _("Target average"): dark["target_avg"].to_numpy(),
        _("Why"): [_why(w) for w in dark["why"]],
        segment: dark["id"].astype(str).to_numpy(),
    }).sort_values([street, segment])
    tables = [MapTable(_("Streets short of their target"), short.reset_index(drop=True))]
    if work is not None and len(work):
        summary += " " + ngettext("The work list's {n} item is a large dot.",
                                  "The work list's {n} items are large dots.",
                                  len(work)).format(n=i18n.number(len(work)))
        tables.insert(0, MapTable(_("Work list on the map"), pd.DataFrame({
            _("Rank"): work["rank"].to_numpy(), _("Item"): work["item"].astype(str).to_numpy(),
            _("Kind"): [_(WORK_WORDS[k]) if k in WORK_WORDS else str(k)
                        for k in work["kind"]],
            _("Cost (USD)"): work["cost_usd"].round(0).to_numpy()})))
    return attach(fmap, MapText(summary, tuple(tables)))
