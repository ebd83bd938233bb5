"""CPTED audit maps: audited places by score, the drawing map, sightlines from a spot."""

from __future__ import annotations

import math

import folium
import geopandas as gpd
import pandas as pd
import shapely
from folium.plugins import Draw

from cpted import i18n
from cpted.i18n import N_, _, ngettext
from cpted.maps.common import (
    DEFAULT_CENTRE_LONLAT,
    bounds_latlon,
    centred_map,
    escape_text,
    escaped_frame,
)
from cpted.maps.describe import MapTable, MapText, attach
from cpted.scoring import SCORE_BANDS, label_words
from layers.crs import latlon

PLACE_COLOR = "#d73027"
SIGHTLINE_COLOR = "#4575b4"
AUDIT_LAYER = N_("CPTED audits")
BANDS = frozenset(label for _floor, label in SCORE_BANDS)
#: An audit's stored period as a word.
PERIODS = {"day": N_("day"), "night": N_("night")}
#: A drawn place's kind, inside a sentence.
SHAPES = {"Point": N_("a spot"), "LineString": N_("a street segment")}


def _period(value: object) -> str:
    return _(PERIODS[str(value)]) if str(value) in PERIODS else str(value)


def _listing(parts: list[str]) -> str:
    """``"a, b and c"`` in the language in use."""
    if len(parts) <= 1:
        return "".join(parts)
    return _("{items} and {last}").format(items=", ".join(parts[:-1]), last=parts[-1])


def _band_color(label: str) -> str:
    from cpted.reports import BAND_COLORS  # reports pulls in matplotlib's pyplot

    return BAND_COLORS.get(label, BAND_COLORS["Not scored"])


def _audit_tip(place_name: object, label: object, overall: float | None, period: object,
               assessed_at: object) -> str:
    score = "" if overall is None else f" ({overall:.0f})"
    day = f"{assessed_at:%Y-%m-%d}" if hasattr(assessed_at, "strftime") else str(assessed_at)
    return escape_text(_("{place}: {label}{score}, {period} {day}").format(
        place=place_name, label=label_words(str(label)), score=score, period=_period(period),
        day=day))


def _add_audits(fmap: folium.Map, audits: gpd.GeoDataFrame) -> None:
    group = folium.FeatureGroup(name=_(AUDIT_LAYER), show=True)
    for row in audits.itertuples():
        overall = None if row.overall is None or math.isnan(row.overall) else float(row.overall)
        if row.label not in BANDS:  # not scored, or not enough answers: no number to show
            overall = None
        tip = _audit_tip(row.place_name, row.label, overall, row.period, row.assessed_at)
        color = _band_color(str(row.label))
        g = row.geometry
        if g.geom_type == "Point":
            folium.CircleMarker(latlon(g), radius=9, color="#222", weight=1, fill=True,
                                fill_color=color, fill_opacity=0.9,
                                tooltip=tip).add_to(group)
        else:
            folium.GeoJson(g.__geo_interface__, tooltip=tip,
                           style_function=lambda _f, c=color: {
                               "color": c, "weight": 6, "fillColor": c,
                               "fillOpacity": 0.35}).add_to(group)
    group.add_to(fmap)


def build_audits_map(audits: gpd.GeoDataFrame, *,
                     neighborhoods: gpd.GeoDataFrame | None = None) -> folium.Map:
    """Audited places coloured by their label, over the neighborhood outlines.

    Parameters
    ----------
    audits : geopandas.GeoDataFrame
        ``assessments.list_assessments(...)`` rows (WGS84 points, lines or polygons)
        with ``place_name``, ``label``, ``overall`` (0-100 or NaN), ``period`` and
        ``assessed_at``. Points are drawn as dots, other shapes as outlines. The colour
        follows ``label`` (:data:`cpted.reports.BAND_COLORS`), so an audit with "Not
        enough answers" is grey and its tooltip shows no score.
    neighborhoods : geopandas.GeoDataFrame, optional
        WGS84 polygons with ``name``, drawn as thin grey outlines.

    Returns
    -------
    folium.Map
        Fitted to the audits; each tooltip (place name, label, score, period, day)
        is escaped.
    """
    if len(audits):
        fmap = folium.Map(control_scale=True, tiles=None)
        fmap.fit_bounds(bounds_latlon(audits.total_bounds))
    else:
        fmap = centred_map(None)
    if neighborhoods is not None and len(neighborhoods):
        folium.GeoJson(escaped_frame(neighborhoods, ["name"]).to_json(),
                       name=_("Neighborhoods"),
                       style_function=lambda _f: {"color": "#555", "weight": 1,
                                                  "fillOpacity": 0}).add_to(fmap)
    _add_audits(fmap, audits)
    if not len(audits):
        return attach(fmap, MapText(_("Map of 0 audited places.")))
    per = audits["label"].astype(str).value_counts()
    summary = ngettext(
        "Map of {n} audited place, coloured by the latest audit's label: {labels}.",
        "Map of {n} audited places, coloured by the latest audit's label: {labels}.",
        len(audits)).format(n=i18n.number(len(audits)), labels=_listing(
            [f"{i18n.number(int(k))} {label_words(str(lab)).lower()}" for lab, k in per.items()]))
    overall = [None if o is None or math.isnan(o) or lab not in BANDS else round(float(o))
               for o, lab in zip(audits["overall"], audits["label"], strict=True)]
    rows = pd.DataFrame({
        _("Place"): audits["place_name"].astype(str).to_numpy(),
        _("Label"): [label_words(str(lab)) for lab in audits["label"]],
        _("Overall (0-100)"): pd.array(overall, dtype="Int64"),
        _("Time of day"): [_period(p) for p in audits["period"]],
        _("Audited"): [f"{a:%Y-%m-%d}" if hasattr(a, "strftime") else str(a)
                       for a in audits["assessed_at"]]})
    return attach(fmap, MapText(summary, (MapTable(_("Audited places on the map"), rows),)))


def build_assess_map(place: shapely.Geometry | None, *,
                     neighborhoods: gpd.GeoDataFrame | None = None,
                     streets: gpd.GeoDataFrame | None = None,
                     sightlines: shapely.Geometry | None = None) -> folium.Map:
    """The map an auditor draws the place on (Leaflet.draw: dot, line or polygon).

    Parameters
    ----------
    place : shapely.Geometry or None
        The place drawn so far (WGS84); the map centres on it at street zoom.
        Without it the map centres on the neighborhoods, else on the demo district.
    neighborhoods : geopandas.GeoDataFrame, optional
        WGS84 polygons, only used to centre the map when no place is drawn.
    streets : geopandas.GeoDataFrame, optional
        WGS84 street lines drawn in grey as a guide.
    sightlines : shapely.Geometry, optional
        The visible area from the place (WGS84 polygon), shaded blue.

    Returns
    -------
    folium.Map
        With the Draw control (no markers, rectangles or circles; no editing).
    """
    if place is not None and not place.is_empty:
        centre, zoom = place.centroid, 17
    elif neighborhoods is not None and len(neighborhoods):
        centre, zoom = neighborhoods.union_all().centroid, 15
    else:
        centre, zoom = shapely.Point(DEFAULT_CENTRE_LONLAT), 15
    fmap = folium.Map(location=latlon(centre), zoom_start=zoom, control_scale=True, tiles=None)
    if streets is not None and len(streets):
        folium.GeoJson(streets[["geometry"]].to_json(), name=_("Streets"),
                       style_function=lambda _f: {"color": "#888", "weight": 2}).add_to(fmap)
    Draw(export=False, position="topleft",  # type: ignore[no-untyped-call]  # folium has no type hints
         draw_options={"polyline": {"shapeOptions": {"color": PLACE_COLOR, "weight": 6}},
                       "polygon": {"shapeOptions": {"color": PLACE_COLOR}}, "marker": False,
                       "circlemarker": {"color": PLACE_COLOR, "radius": 10},
                       "rectangle": False, "circle": False},
         edit_options={"edit": False, "remove": False}).add_to(fmap)
    if place is not None and not place.is_empty:
        folium.GeoJson(place.__geo_interface__, name=_("Audited place"),
                       style_function=lambda _f: {"color": PLACE_COLOR,
                                                  "weight": 6}).add_to(fmap)
        if place.geom_type == "Point":
            folium.CircleMarker(latlon(place), radius=10, color="#ffffff", weight=2,
                                fill=True, fill_color=PLACE_COLOR, fill_opacity=1,
                                tooltip=_("Audited place")).add_to(fmap)
        if sightlines is not None:
            folium.GeoJson(sightlines.__geo_interface__, name=_("Sightlines"),
                           style_function=lambda _f: {"color": SIGHTLINE_COLOR,
                                                      "fillOpacity": 0.25,
                                                      "weight": 1}).add_to(fmap)
    if place is None or place.is_empty:
        said = _("No place is drawn yet.")
    else:
        where = {"shape": _(SHAPES.get(place.geom_type, N_("an area"))),
                 "lat": i18n.number(place.centroid.y, digits=5),
                 "lon": i18n.number(place.centroid.x, digits=5)}
        said = (_("The place drawn is {shape}, at latitude {lat}, longitude {lon}, with its "
                  "sightlines shaded.") if sightlines is not None else
                _("The place drawn is {shape}, at latitude {lat}, longitude {lon}.")
                ).format(**where)
    return attach(fmap, MapText(_(
        "Map to draw the place to audit on, with the streets as a guide: the drawing tools "
        "(a dot, a line or an area) are at the top left. {said}").format(said=said)))


def build_sightlines_map(viewpoint: shapely.Point, visible: shapely.Geometry, *,
                         zoom_start: int = 17) -> folium.Map:
    """The area visible from a viewpoint (an isovist), shaded, with the viewpoint.

    Parameters
    ----------
    viewpoint : shapely.Point
        WGS84 (x = lon, y = lat); the map centres on it.
    visible : shapely.Geometry
        The visible area as a WGS84 polygon.
    zoom_start : int
        The opening zoom.

    Returns
    -------
    folium.Map
    """
    fmap = folium.Map(location=latlon(viewpoint), zoom_start=zoom_start, control_scale=True,
                      tiles=None)
    folium.GeoJson(visible.__geo_interface__, name=_("Visible area"),
                   style_function=lambda _f: {"color": SIGHTLINE_COLOR,
                                              "fillOpacity": 0.3}).add_to(fmap)
    folium.CircleMarker(latlon(viewpoint), radius=8, color="#ffffff", weight=2, fill=True,
                        fill_color=PLACE_COLOR, fill_opacity=1,
                        tooltip=_("Viewpoint")).add_to(fmap)
    return attach(fmap, MapText(_(
        "Map of the area visible from the place's point (shaded blue), given the building "
        "footprints; the point is at latitude {lat}, longitude {lon}.").format(
        lat=i18n.number(viewpoint.y, digits=5), lon=i18n.number(viewpoint.x, digits=5))))
