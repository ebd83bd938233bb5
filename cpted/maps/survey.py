"""The perception survey's map: neighborhoods shaded by how safe people say they feel,
and a pin where the person answering clicked."""

from __future__ import annotations

import math

import folium
import geopandas as gpd
import pandas as pd
import shapely

from cpted import i18n
from cpted.i18n import _, ngettext
from cpted.maps.common import bounds_latlon, centred_map, escaped_frame, legend, pin_icon
from cpted.maps.describe import MapTable, MapText, attach
from layers.crs import latlon

#: Very unsafe (1) to very safe (5): ColorBrewer RdYlBu, colour-blind safe.
FEELING_COLORS = {1: "#d7191c", 2: "#fdae61", 3: "#ffffbf", 4: "#abd9e9", 5: "#2c7bb6"}
NO_ANSWERS_COLOR = "#dddddd"


def build_survey_map(neighborhoods: gpd.GeoDataFrame, summary: pd.DataFrame, *,
                     pin: shapely.Point | None = None, scale: dict[int, str],
                     tiles: str | None = None) -> folium.Map:
    """Neighborhoods shaded by their mean feeling of safety after dark, for a click.

    Parameters
    ----------
    neighborhoods : geopandas.GeoDataFrame
        Polygons in EPSG:4326 with ``id`` and ``name``.
    summary : pandas.DataFrame
        :func:`cpted.progress.survey_summary` rows (``neighborhood_id``,
        ``survey_answers``, ``safe_mean``): aggregates only, never an answer's place.
    pin : shapely.Point, optional
        The place chosen so far (WGS84), drawn as a pin.
    scale : dict of int to str
        The answers' words, 1 to 5, for the legend, in the language in use (the map's
        other words are translated here).
    tiles : str or None
        The basemap; ``None`` for none.

    Returns
    -------
    folium.Map
    """
    gdf = escaped_frame(neighborhoods, ["id", "name"])
    by_id = summary.set_index(summary["neighborhood_id"].astype(str)) if len(summary) \
        else summary
    means, labels = [], []
    for nid in neighborhoods["id"].astype(str):
        row = by_id.loc[nid] if nid in by_id.index else None
        n = int(row["survey_answers"]) if row is not None else 0
        mean = float(row["safe_mean"]) if row is not None else math.nan
        means.append(mean)
        labels.append(ngettext("{mean} of 5 ({n} answer)", "{mean} of 5 ({n} answers)", n).format(
            mean=i18n.number(mean, digits=1), n=i18n.number(n)) if not math.isnan(mean)
            else _("too few answers ({n})").format(n=i18n.number(n)))
    gdf["feeling"] = labels
    gdf["klass"] = [0 if math.isnan(m) else min(5, max(1, round(m))) for m in means]
    if len(gdf):
        fmap = folium.Map(tiles=tiles, control_scale=True)
        fmap.fit_bounds(bounds_latlon(gdf.total_bounds))
    else:
        fmap = centred_map(None, tiles=tiles)
    folium.GeoJson(
        gdf[["name", "feeling", "klass", "geometry"]].to_json(), name=_("Neighborhoods"),
        style_function=lambda f: {
            "color": "#444", "weight": 1, "fillOpacity": 0.45,
            "fillColor": FEELING_COLORS.get(f["properties"]["klass"], NO_ANSWERS_COLOR)},
        highlight_function=lambda _f: {"weight": 3, "color": "#000"},
        tooltip=folium.GeoJsonTooltip(fields=["name", "feeling"],
                                      aliases=[_("Neighborhood"), _("Feeling safe after dark")]),
    ).add_to(fmap)
    if pin is not None:
        folium.Marker(latlon(pin), icon=pin_icon(),
                      tooltip=_("Your answer's place")).add_to(fmap)
    rows = [("box", FEELING_COLORS[k], f"{k} {scale[k].lower()}") for k in sorted(scale)]
    rows.append(("box", NO_ANSWERS_COLOR, _("too few answers")))
    rows.append(("note", "", _("Mean answer of the last 12 months")))
    fmap.get_root().add_child(legend(_("How safe it feels after dark"), rows))
    hood = _("Neighborhood")
    listed = pd.DataFrame({hood: neighborhoods["name"].astype(str).to_numpy(),
                           _("Feeling safe after dark (1 to 5)"): means,
                           _("Answers"): labels}).sort_values(hood)
    rated = sum(not math.isnan(m) for m in means)
    summary = " ".join((
        ngettext("Map of {n} neighborhood shaded by how safe people say they feel walking "
                 "there after dark (the mean answer of the last 12 months, 1 very unsafe to 5 "
                 "very safe).",
                 "Map of {n} neighborhoods shaded by how safe people say they feel walking "
                 "there after dark (the mean answer of the last 12 months, 1 very unsafe to 5 "
                 "very safe).", len(gdf)).format(n=i18n.number(len(gdf))),
        ngettext("{n} has enough answers to show.", "{n} have enough answers to show.",
                 rated).format(n=i18n.number(rated))))
    if pin is not None:
        summary += " " + _("A pin marks your answer's place.")
    return attach(fmap, MapText(summary, (MapTable(_("Neighborhoods on the map"),
                                                   listed.reset_index(drop=True)),)))
