"""The emerging hot spot map: each cell coloured by its class, with a legend and its text."""

from __future__ import annotations

import folium
import geopandas as gpd
import pandas as pd

from cpted.emerging import Pattern
from cpted.maps.common import centred_map, escaped_frame, legend
from cpted.maps.describe import MapTable, MapText, attach, counted, listing

#: Fill colour per class: yellow to dark red for hot spots (darkest where hottest now),
#: blues for cold spots, purple where a cell swapped between the two, grey for a past
#: pattern.
PATTERN_COLOURS: dict[Pattern, str] = {
    Pattern.NEW_HOT: "#fed976", Pattern.CONSECUTIVE_HOT: "#fd8d3c",
    Pattern.INTENSIFYING_HOT: "#a50f15", Pattern.PERSISTENT_HOT: "#de2d26",
    Pattern.DIMINISHING_HOT: "#fc9272", Pattern.SPORADIC_HOT: "#fcbba1",
    Pattern.OSCILLATING_HOT: "#c51b7d", Pattern.HISTORICAL_HOT: "#bdbdbd",
    Pattern.NEW_COLD: "#9ecae1", Pattern.CONSECUTIVE_COLD: "#6baed6",
    Pattern.INTENSIFYING_COLD: "#08519c", Pattern.PERSISTENT_COLD: "#3182bd",
    Pattern.DIMINISHING_COLD: "#c6dbef", Pattern.SPORADIC_COLD: "#deebf7",
    Pattern.OSCILLATING_COLD: "#762a83", Pattern.HISTORICAL_COLD: "#969696",
}
LAYER = "Emerging hot and cold spots"


def build_emerging_map(cells: gpd.GeoDataFrame, *, slice_length: str = "month"
                       ) -> folium.Map:
    """Cells coloured by emerging hot spot class; cells with no pattern are not drawn.

    Parameters
    ----------
    cells : geopandas.GeoDataFrame
        ``Emerging.frame()``: WGS84 cell polygons with ``pattern``, ``meaning``,
        ``events``, ``latest`` and ``trend``.
    slice_length : str
        "month" or "week", for the words.

    Returns
    -------
    folium.Map
        Fitted to the cells, with a legend of the classes drawn and a text alternative
        (a count per class and the cells with a pattern, hottest classes first).
    """
    fmap = centred_map(cells.total_bounds if len(cells) else None, zoom_start=15)
    group = folium.FeatureGroup(name=LAYER)
    fields = ["pattern", "meaning", "events", "latest", "trend"]
    drawn = []
    for pattern, colour in PATTERN_COLOURS.items():
        part = cells[cells["pattern"] == pattern.value]
        if part.empty:
            continue
        drawn.append(("box", colour, f"{pattern.value} ({len(part):,})"))
        folium.GeoJson(
            escaped_frame(part.round({"events": 1, "latest": 1}), fields).to_json(),
            style_function=lambda _f, c=colour: {"fillColor": c, "color": c, "weight": 0.4,
                                                 "fillOpacity": 0.65},
            tooltip=folium.GeoJsonTooltip(
                fields, aliases=["", "", "Weighted records in the cell",
                                 f"... in its latest {slice_length}", "Trend"]),
        ).add_to(group)
    group.add_to(fmap)
    if drawn:
        fmap.get_root().add_child(legend("Emerging hot spots", drawn))
    folium.LayerControl(collapsed=True).add_to(fmap)
    return attach(fmap, _text(cells, slice_length))


def _text(cells: gpd.GeoDataFrame, slice_length: str) -> MapText:
    found = cells["pattern"].value_counts() if len(cells) else pd.Series(dtype=int)
    parts = [counted(int(found[p.value]), p.value.lower().replace(" spot", " spot cell"))
             for p in PATTERN_COLOURS if p.value in found]
    summary = (f"Map of {counted(len(cells), 'cell')} coloured by how their hot or cold spot "
               f"status changed {slice_length} by {slice_length}: "
               + (listing(parts) if parts else "no cell has a pattern") + ". Cells with no "
               "pattern are not coloured.")
    shown = cells[cells["pattern"] != Pattern.NONE.value] if len(cells) else cells
    if shown.empty:
        return MapText(summary)
    order = {p.value: k for k, p in enumerate(PATTERN_COLOURS)}
    centre = shown.geometry.to_crs(shown.estimate_utm_crs()).centroid.to_crs(shown.crs)
    rows = pd.DataFrame({
        "Pattern": shown["pattern"].astype(str).to_numpy(),
        "What it means": shown["meaning"].astype(str).to_numpy(),
        "Weighted records": shown["events"].round(1).to_numpy(),
        f"In the latest {slice_length}": shown["latest"].round(1).to_numpy(),
        "Trend": shown["trend"].astype(str).to_numpy(),
        "Latitude": centre.y.round(5).to_numpy(), "Longitude": centre.x.round(5).to_numpy(),
        "_order": shown["pattern"].map(order).to_numpy()})
    rows = rows.sort_values(["_order", "Weighted records"], ascending=[True, False])
    return MapText(summary, (MapTable("Cells with a pattern",
                                      rows.drop(columns="_order").reset_index(drop=True)),))
