"""Neighborhoods shaded by a measure, one click-able feature each."""

from __future__ import annotations

from collections.abc import Sequence

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from cpted import i18n
from cpted.i18n import _, ngettext
from cpted.maps.common import bounds_latlon, escape_text, escaped_frame, legend
from cpted.maps.describe import MapTable, MapText, attach

#: Sequential, colour-blind-safe (ColorBrewer YlOrRd, 5 classes).
CHOROPLETH = ["#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"]
NO_DATA_COLOR = "#dddddd"


def class_labels(values: Sequence[float] | NDArray[np.float64],
                 classes: Sequence[int] | NDArray[np.int_], *,
                 fmt: str | None = None, digits: int = 0) -> list[tuple[int, str]]:
    """A legend label for each class that holds a value, from the values it holds.

    A class reads "lowest to highest" of its own values, or the one value when they
    are all equal ("116", never "116 to 116"); classes that hold no value are left
    out, so two equal bounds (as Fisher-Jenks gives with few distinct values) never
    show as an empty class. Labels never overlap, unlike upper bounds written "a to
    b, b to c", which leave unsaid where b goes.

    Parameters
    ----------
    values : sequence of float
        One value per feature; NaN ("no data") is left out.
    classes : sequence of int
        The class of each value, as drawn (negative for no data).
    fmt : str, optional
        A :meth:`str.format` pattern for one value; by default a value is written the
        way of the language in use with ``digits`` decimals (``"1,234"``, ``"1.234"``).
    digits : int
        The decimals shown when ``fmt`` is not given.

    Returns
    -------
    list of (int, str)
        ``(class, label)`` in ascending class order.
    """
    vals = np.asarray(values, dtype=float)
    klass = np.asarray(classes, dtype=int)
    if vals.shape != klass.shape:
        raise ValueError(f"values and classes should be as long as each other, got "
                         f"{len(vals)} and {len(klass)}")
    out = []
    for k in sorted(set(klass[(klass >= 0) & ~np.isnan(vals)].tolist())):
        held = vals[(klass == k) & ~np.isnan(vals)]
        lo, hi = (fmt.format(float(v)) if fmt is not None else i18n.number(float(v),
                                                                          digits=digits)
                  for v in (held.min(), held.max()))
        out.append((k, lo if lo == hi else _("{low} to {high}").format(low=lo, high=hi)))
    return out


def build_choropleth(neighborhoods: gpd.GeoDataFrame, values: Sequence[float],
                     bins: Sequence[float], *, measure: str,
                     tiles: str | None = None) -> folium.Map:
    """Neighborhoods shaded by ``values`` in classes with upper bounds ``bins``.

    Parameters
    ----------
    neighborhoods : geopandas.GeoDataFrame
        Polygons in EPSG:4326 with ``id`` and ``name``.
    values : sequence of float
        One value per neighborhood, in row order; NaN is shown as "no data".
    bins : sequence of float
        Upper bounds of the classes, ascending (at most five).
    measure : str
        What the values are, for the tooltip and the legend title (escaped).
    tiles : str or None
        The basemap; ``None`` for none.

    Returns
    -------
    folium.Map
        Each feature carries its ``id`` so a click can be mapped back to it.
    """
    gdf = escaped_frame(neighborhoods, ["id", "name"])
    vals = np.asarray(values, dtype=float)
    classes = np.searchsorted(np.asarray(bins, dtype=float), vals, side="left")
    palette = CHOROPLETH[-len(bins):] if len(bins) else CHOROPLETH
    whole = bool(np.all(np.isnan(vals) | (vals == np.round(vals))))
    digits = 0 if whole else 1

    def write(v: float) -> str:
        return i18n.number(float(v), digits=digits)

    no_data = _("no data")
    gdf["value"] = [escape_text(no_data) if np.isnan(v) else write(v) for v in vals]
    gdf["klass"] = [-1 if np.isnan(v) else int(min(c, len(palette) - 1))
                    for v, c in zip(vals, classes, strict=True)]
    m = folium.Map(tiles=tiles, control_scale=True)
    m.fit_bounds(bounds_latlon(gdf.total_bounds))
    folium.GeoJson(
        gdf.to_json(),
        style_function=lambda f: {
            "color": "#444", "weight": 1, "fillOpacity": 0.75,
            "fillColor": NO_DATA_COLOR if f["properties"]["klass"] < 0
            else palette[f["properties"]["klass"]]},
        highlight_function=lambda _f: {"weight": 3, "color": "#000"},
        tooltip=folium.GeoJsonTooltip(fields=["name", "value"],
                                      aliases=[escape_text(_("Neighborhood")),
                                               escape_text(measure)]),
    ).add_to(m)
    rows = [("box", palette[k], label) for k, label in class_labels(
        vals, np.asarray(gdf["klass"].to_numpy(), dtype=int), digits=digits)]
    if np.isnan(vals).any():
        rows.append(("box", NO_DATA_COLOR, no_data))
    m.get_root().add_child(legend(measure, rows))
    names = neighborhoods["name"].astype(str).tolist()
    labels = dict(class_labels(vals, np.asarray(gdf["klass"].to_numpy(), dtype=int),
                               digits=digits))
    k = [int(c) for c in gdf["klass"]]
    hood, klass = _("Neighborhood"), _("Class")
    rows_ = pd.DataFrame({
        hood: names, measure: vals,
        klass: [_("{k} of {n}: {values}").format(k=i18n.number(c + 1),
                                                 n=i18n.number(len(palette)),
                                                 values=labels[c])
                if c >= 0 else no_data
                for c in k]}).sort_values(measure, ascending=False, na_position="last")
    shaded = ngettext("{n} neighborhood", "{n} neighborhoods", len(names)).format(
        n=i18n.number(len(names)))
    classes_ = ngettext("{n} class", "{n} classes", len(labels)).format(
        n=i18n.number(len(labels)))
    known = rows_.dropna(subset=[measure])
    if len(known):
        top, low = known.iloc[0], known.iloc[-1]
        summary = _("Map of {neighborhoods} shaded by {measure} in {classes}, darker for "
                    "more: the most in {top} ({top_value}), the fewest in {low} "
                    "({low_value}).").format(
            neighborhoods=shaded, measure=measure.lower(), classes=classes_,
            top=top[hood], top_value=write(top[measure]), low=low[hood],
            low_value=write(low[measure]))
    else:
        summary = _("Map of {neighborhoods} shaded by {measure} in {classes}, darker for "
                    "more.").format(neighborhoods=shaded, measure=measure.lower(),
                                    classes=classes_)
    return attach(m, MapText(summary, (MapTable(_("Neighborhoods on the map"),
                                                rows_.reset_index(drop=True)),)))
