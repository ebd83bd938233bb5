"""The emerging hot spot map: each cell coloured by its class, with a legend and its text."""

from __future__ import annotations

from collections.abc import Callable

import folium
import geopandas as gpd
import pandas as pd

from cpted import i18n
from cpted.emerging import Pattern
from cpted.i18n import N_, _, ngettext
from cpted.maps.common import centred_map, escaped_frame, legend
from cpted.maps.describe import MapTable, MapText, attach

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
LAYER = N_("Emerging hot and cold spots")
#: Each class's cells counted in a sentence ("3 new hot spot cells"), for the summary.
CELLS_OF: dict[Pattern, Callable[[int], str]] = {
    Pattern.NEW_HOT: lambda n: ngettext("{n} new hot spot cell", "{n} new hot spot cells", n),
    Pattern.CONSECUTIVE_HOT: lambda n: ngettext("{n} consecutive hot spot cell",
                                                "{n} consecutive hot spot cells", n),
    Pattern.INTENSIFYING_HOT: lambda n: ngettext("{n} intensifying hot spot cell",
                                                 "{n} intensifying hot spot cells", n),
    Pattern.PERSISTENT_HOT: lambda n: ngettext("{n} persistent hot spot cell",
                                               "{n} persistent hot spot cells", n),
    Pattern.DIMINISHING_HOT: lambda n: ngettext("{n} diminishing hot spot cell",
                                                "{n} diminishing hot spot cells", n),
    Pattern.SPORADIC_HOT: lambda n: ngettext("{n} sporadic hot spot cell",
                                             "{n} sporadic hot spot cells", n),
    Pattern.OSCILLATING_HOT: lambda n: ngettext("{n} oscillating hot spot cell",
                                                "{n} oscillating hot spot cells", n),
    Pattern.HISTORICAL_HOT: lambda n: ngettext("{n} historical hot spot cell",
                                               "{n} historical hot spot cells", n),
    Pattern.NEW_COLD: lambda n: ngettext("{n} new cold spot cell", "{n} new cold spot cells", n),
    Pattern.CONSECUTIVE_COLD: lambda n: ngettext("{n} consecutive cold spot cell",
                                                 "{n} consecutive cold spot cells", n),
    Pattern.INTENSIFYING_COLD: lambda n: ngettext("{n} intensifying cold spot cell",
                                                  "{n} intensifying cold spot cells", n),
    Pattern.PERSISTENT_COLD: lambda n: ngettext("{n} persistent cold spot cell",
                                                "{n} persistent cold spot cells", n),
    Pattern.DIMINISHING_COLD: lambda n: ngettext("{n} diminishing cold spot cell",
                                                 "{n} diminishing cold spot cells", n),
    Pattern.SPORADIC_COLD: lambda n: ngettext("{n} sporadic cold spot cell",
                                              "{n} sporadic cold spot cells", n),
    Pattern.OSCILLATING_COLD: lambda n: ngettext("{n} oscillating cold spot cell",
                                                 "{n} oscillating cold spot cells", n),
    Pattern.HISTORICAL_COLD: lambda n: ngettext("{n} historical cold spot cell",
                                                "{n} historical cold spot cells", n),
}


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
    group = folium.FeatureGroup(name=_(LAYER))
    fields = ["pattern", "meaning", "events", "latest", "trend"]
    month = slice_length == "month"
    drawn = []
    for pattern, colour in PATTERN_COLOURS.items():
        part = cells[cells["pattern"] == pattern.value]
        if part.empty:
            continue
        drawn.append(("box", colour, f"{_(pattern.value)} ({i18n.number(len(part))})"))
        part = part.assign(pattern=_(pattern.value))
        folium.GeoJson(
            escaped_frame(part.round({"events": 1, "latest": 1}), fields).to_json(),
            style_function=lambda _f, c=colour: {"fillColor": c, "color": c, "weight": 0.4,
                                                 "fillOpacity": 0.65},
            tooltip=folium.GeoJsonTooltip(
                fields, aliases=["", "", _("Weighted records in the cell"),
                                 _("... in its latest month") if month else
                                 _("... in its latest week"), _("Trend")]),
        ).add_to(group)
    group.add_to(fmap)
    if drawn:
        fmap.get_root().add_child(legend(_("Emerging hot spots"), drawn))
    folium.LayerControl(collapsed=True).add_to(fmap)
    return attach(fmap, _text(cells, slice_length))


def _text(cells: gpd.GeoDataFrame, slice_length: str) -> MapText:
    found = cells["pattern"].value_counts() if len(cells) else pd.Series(dtype=int)
    parts = [CELLS_OF[p](int(found[p.value])).format(
        n=i18n.number(int(found[p.value]))) for p in PATTERN_COLOURS if p.value in found]
    listed = (_("no cell has a pattern") if not parts else parts[0] if len(parts) == 1 else
              _("{first} and {last}").format(first=", ".join(parts[:-1]), last=parts[-1]))
    month = slice_length == "month"
    cells_n = ngettext("{n} cell", "{n} cells", len(cells)).format(n=i18n.number(len(cells)))
    summary = (_("Map of {cells} coloured by how their hot or cold spot status changed month "
                 "by month: {found}. Cells with no pattern are not coloured.") if month else
               _("Map of {cells} coloured by how their hot or cold spot status changed week "
                 "by week: {found}. Cells with no pattern are not coloured.")).format(
        cells=cells_n, found=listed)
    shown = cells[cells["pattern"] != Pattern.NONE.value] if len(cells) else cells
    if shown.empty:
        return MapText(summary)
    order = {p.value: k for k, p in enumerate(PATTERN_COLOURS)}
    centre = shown.geometry.to_crs(shown.estimate_utm_crs()).centroid.to_crs(shown.crs)
    records = _("Weighted records")
    rows = pd.DataFrame({
        _("Pattern"): [_(str(p)) for p in shown["pattern"]],
        _("What it means"): shown["meaning"].astype(str).to_numpy(),
        records: shown["events"].round(1).to_numpy(),
        _("In the latest month") if month else _("In the latest week"):
            shown["latest"].round(1).to_numpy(),
        _("Trend"): shown["trend"].astype(str).to_numpy(),
        _("Latitude"): centre.y.round(5).to_numpy(),
        _("Longitude"): centre.x.round(5).to_numpy(),
        "_order": shown["pattern"].map(order).to_numpy()})
    rows = rows.sort_values(["_order", records], ascending=[True, False])
    return MapText(summary, (MapTable(_("Cells with a pattern"),
                                      rows.drop(columns="_order").reset_index(drop=True)),))
