"""Folium maps built as pure functions of data.

Nothing here talks to Streamlit or the store: a page reads layers, calls one of
these functions, and hands the :class:`folium.Map` to ``st_folium``. Tests read
the generated HTML. Positions go through :func:`layers.crs.latlon` (the one
``[lat, lon]`` helper) and text from records through
:func:`cpted.maps.common.escape_text`, because Leaflet renders tooltips as HTML.

Modules: :mod:`~cpted.maps.common` (escaping, bounds, legend),
:mod:`~cpted.maps.concerns` (the layers map), :mod:`~cpted.maps.choropleth`,
:mod:`~cpted.maps.patrol`, :mod:`~cpted.maps.emerging` (emerging hot spots),
:mod:`~cpted.maps.lighting`, :mod:`~cpted.maps.audits`,
:mod:`~cpted.maps.spots` (gathering reports into problem spots, spots by status),
:mod:`~cpted.maps.survey` (the perception survey), :mod:`~cpted.maps.prescore` (where to
audit next).
"""

from __future__ import annotations

from cpted.maps.audits import build_assess_map, build_audits_map, build_sightlines_map
from cpted.maps.choropleth import CHOROPLETH, build_choropleth
from cpted.maps.common import escape_text, escaped_frame
from cpted.maps.concerns import (
    LIGHT_COLORS,
    PALETTE,
    STREET_WEIGHTS,
    MapLayers,
    aggregate_points,
    build_map,
    category_colors,
    cell_size_for,
)
from cpted.maps.emerging import PATTERN_COLOURS, build_emerging_map
from cpted.maps.lighting import build_darkness_map, lux_png
from cpted.maps.patrol import BIN_COLOURS, ROUTE_COLOURS, build_patrol_map, build_visits_map
from cpted.maps.prescore import build_prescore_map
from cpted.maps.spots import STATUS_COLORS, build_gather_map, build_spots_map
from cpted.maps.survey import build_survey_map

__all__ = [
    "BIN_COLOURS",
    "CHOROPLETH",
    "LIGHT_COLORS",
    "PALETTE",
    "PATTERN_COLOURS",
    "ROUTE_COLOURS",
    "STATUS_COLORS",
    "STREET_WEIGHTS",
    "MapLayers",
    "aggregate_points",
    "build_assess_map",
    "build_audits_map",
    "build_choropleth",
    "build_darkness_map",
    "build_emerging_map",
    "build_gather_map",
    "build_map",
    "build_patrol_map",
    "build_prescore_map",
    "build_sightlines_map",
    "build_spots_map",
    "build_survey_map",
    "build_visits_map",
    "category_colors",
    "cell_size_for",
    "escape_text",
    "escaped_frame",
    "lux_png",
]
