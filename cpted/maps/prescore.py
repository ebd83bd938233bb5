"""Where to audit next: street segments coloured by their CPTED pre-score."""

from __future__ import annotations

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from cpted import i18n
from cpted.i18n import N_, _, ngettext
from cpted.maps.common import centred_map, escaped_frame, legend
from cpted.maps.describe import MapTable, MapText, attach
from cpted.prescore import COMPONENTS

#: Pre-score bands (0-100, higher: more reason to audit), their colours and words.
PRESCORE_BANDS = ((60.0, "#b2182b", N_("60 and over: audit soon")),
                  (40.0, "#ef8a62", N_("40 to 60")),
                  (20.0, "#fddbc7", N_("20 to 40")),
                  (0.0, "#d1e5f0", N_("under 20")))
#: :data:`cpted.prescore.COMPONENTS` for the catalogue (the two are held equal by a test).
COMPONENT_WORDS: dict[str, str] = {
    "darkness": N_("Darkness (modelled light short of its target)"),
    "enclosure": N_("Closed-in (little can be seen from the street)"),
    "vacant": N_("Vacant parcels near"),
    "maintenance": N_("Open maintenance concerns near"),
    "incidents": N_("Incidents near (last year)"),
}


def component_words(key: str) -> str:
    """A pre-score component's name (:data:`cpted.prescore.COMPONENTS`) in the language in
    use; one the catalogue does not know as the domain writes it."""
    return _(COMPONENT_WORDS[key]) if key in COMPONENT_WORDS else COMPONENTS.get(key, key)
NEXT_COLOR = "#542788"
NO_DATA_COLOR = "#bbbbbb"


def prescore_color(value: float | None) -> str:
    """The band colour of a pre-score (grey for none)."""
    if value is None or np.isnan(value):
        return NO_DATA_COLOR
    return next(color for floor, color, _label in PRESCORE_BANDS if value >= floor)


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
    aliases = [_("Street"), _("Pre-score"), *(component_words(c) for c in parts)]
    tips = escaped_frame(shown, fields).assign(color=shown["color"].to_numpy())
    folium.GeoJson(
        tips.to_json(), name=_("Streets by pre-score"),
        style_function=lambda f: {"color": f["properties"]["color"], "weight": 4,
                                  "opacity": 0.9},
        tooltip=folium.GeoJsonTooltip(fields=fields, aliases=aliases),
    ).add_to(fmap)
    if len(todo):
        nxt = escaped_frame(shown.loc[todo.index], ["street", "pre"])
        folium.GeoJson(
            nxt.to_json(), name=_("Where to audit next"),
            style_function=lambda _f: {"color": NEXT_COLOR, "weight": 8, "opacity": 1},
            tooltip=folium.GeoJsonTooltip(fields=["street", "pre"],
                                          aliases=[_("Audit next"), _("Pre-score")]),
        ).add_to(fmap)
    folium.LayerControl(collapsed=True).add_to(fmap)
    rows = [("line", color, _(label)) for _floor, color, label in PRESCORE_BANDS]
    rows += [("line", NEXT_COLOR, _("next to audit (no recent audit)"))]
    fmap.get_root().add_child(legend(_("Pre-score"), rows))
    scored = segments["pre_score"].dropna()
    high = int((scored >= PRESCORE_BANDS[0][0]).sum())
    shown_segments = ngettext(
        "Map of {n} street segment coloured by its CPTED pre-score (0 to 100, higher means "
        "more reason to audit): {high} scores {floor} or more.",
        "Map of {n} street segments coloured by their CPTED pre-score (0 to 100, higher "
        "means more reason to audit): {high} score {floor} or more.", len(segments)).format(
        n=i18n.number(len(segments)), high=i18n.number(high),
        floor=i18n.number(round(PRESCORE_BANDS[0][0])))
    drawn = ngettext(
        "The {n} segment with the highest pre-score and no recent audit is drawn thick in "
        "purple.",
        "The {n} segments with the highest pre-score and no recent audit are drawn thick in "
        "purple.", len(todo)).format(n=i18n.number(len(todo)))
    table = pd.DataFrame({
        _("Street"): todo["street"].astype(str).to_numpy(),
        _("Pre-score"): todo["pre_score"].round(0).to_numpy(),
        **{component_words(c): (todo[c] * 100).round(0).to_numpy() for c in parts},
        _("Length (m)"): todo["length_m"].round(0).to_numpy()})
    return attach(fmap, MapText(f"{shown_segments} {drawn}",
                                (MapTable(_("Where to audit next"), table),)))
