"""Where to audit next: street segments coloured by their CPTED pre-score."""

from __future__ import annotations

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from cpted.maps.common import centred_map, escaped_frame, legend
from cpted.maps.describe import MapTable, MapText, attach, counted
from cpted.prescore import COMPONENTS

#: Pre-score bands (0-100, higher: more reason to audit) and their colours.
PRESCORE_BANDS = ((60.0, "#b2182b", "60 and over: audit soon"),
                  (40.0, "#ef8a62", "40 to 60"),
                  (20.0, "#fddbc7", "20 to 40"),
                  (0.0, "#d1e5f0", "under 20"))
NEXT_COLOR = "#542788"
NO_DATA_COLOR = "#bbbbbb"


def prescore_color(value: float | None) -> str:
    """The band colour of a pre-score (grey for none)."""
    if value is None or np.isnan(value):
        return NO_DATA_COLOR
    return next(color for floor, color, _ in PRESCORE_BANDS if value >= floor)


def build_prescore_map(segments: gpd.GeoDataFrame, todo: pd.DataFrame) -> folium.Map:
    """Street segments coloured by pre-score, the next ones to audit drawn thick.

    Parameters
    ----------
    segments : geopandas.GeoDataFrame
        :attr:`cpted.prescore.Prescore.segments`: WGS84 lines with ``street`` (a name in
        words), ``pre_score`` (0-100 or NaN) and the component columns.
    todo : pandas.DataFrame
        :func:`cpted.prescore.where_to_audit` rows (on ``segments``' index), highest
        first: drawn purple on top, and listed in the text alternative.

    Returns
    -------
    folium.Map
        One GeoJSON layer of every segment (tooltips escaped: street, pre-score and each
        component on 0-100), one
        of the next segments to audit, a key, and a text alternative listing them.
    """
    fmap = centred_map(segments.total_bounds if len(segments) else None)
    shown = segments.assign(pre=segments["pre_score"].round(0))
    shown = shown.assign(color=[prescore_color(v) for v in shown["pre_score"]])
    # each component the segment has, as 0-100, beside its pre-score
    parts = [c for c in COMPONENTS if c in shown.columns and shown[c].notna().any()]
    for c in parts:
        shown[f"part_{c}"] = (shown[c] * 100).round(0)
    fields = ["street", "pre", *(f"part_{c}" for c in parts)]
    aliases = ["Street", "Pre-score", *(COMPONENTS[c] for c in parts)]
    tips = escaped_frame(shown, fields).assign(color=shown["color"].to_numpy())
    folium.GeoJson(
        tips.to_json(), name="Streets by pre-score",
        style_function=lambda f: {"color": f["properties"]["color"], "weight": 4,
                                  "opacity": 0.9},
        tooltip=folium.GeoJsonTooltip(fields=fields, aliases=aliases),
    ).add_to(fmap)
    if len(todo):
        nxt = escaped_frame(shown.loc[todo.index], ["street", "pre"])
        folium.GeoJson(
            nxt.to_json(), name="Where to audit next",
            style_function=lambda _f: {"color": NEXT_COLOR, "weight": 8, "opacity": 1},
            tooltip=folium.GeoJsonTooltip(fields=["street", "pre"],
                                          aliases=["Audit next", "Pre-score"]),
        ).add_to(fmap)
    folium.LayerControl(collapsed=True).add_to(fmap)
    rows = [("line", color, label) for _, color, label in PRESCORE_BANDS]
    rows += [("line", NEXT_COLOR, "next to audit (no recent audit)")]
    fmap.get_root().add_child(legend("Pre-score", rows))
    scored = segments["pre_score"].dropna()
    high = int((scored >= PRESCORE_BANDS[0][0]).sum())
    summary = (f"Map of {counted(len(segments), 'street segment')} coloured by their CPTED "
               f"pre-score (0 to 100, higher means more reason to audit): {high:,} score "
               f"{PRESCORE_BANDS[0][0]:.0f} or more. The {counted(len(todo), 'segment')} with "
               "the highest pre-score and no recent audit are drawn thick in purple.")
    table = pd.DataFrame({
        "Street": todo["street"].astype(str).to_numpy(),
        "Pre-score": todo["pre_score"].round(0).to_numpy(),
        **{COMPONENTS[c]: (todo[c] * 100).round(0).to_numpy() for c in parts},
        "Length (m)": todo["length_m"].round(0).to_numpy()})
    return attach(fmap, MapText(summary, (MapTable("Where to audit next", table),)))
