"""The patrol maps, read from their rendered HTML."""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely import Point, box

from cpted.maps import BIN_COLOURS, ROUTE_COLOURS, build_patrol_map, build_visits_map
from cpted.patrol import PatrolPlan, PatrolSettings, PlannedRoute, PlannedStop

ATTACK = "<img src=http://attacker.invalid/p.png>"
STATION = (-94.5, 39.1)  # lon, lat


def points(page: str, call: str) -> list[tuple[float, float]]:
    return [(float(a), float(b)) for a, b in re.findall(
        rf"L\.{call}\(\s*\[([-\d.]+), ([-\d.]+)\]", page)]


def cells() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"cell": [0, 1, 2], "count": [9.0, 0.0, 1.0], "density": [3.0, 0.0, 1.0],
         "gi_z": [3.4, -3.1, 0.2], "gi_p": [0.001, 0.002, 0.8], "gi_bin": [3, -3, 0],
         "gi_label": ["Hot spot, 99% confidence", "Cold spot, 99% confidence",
                      "Not significant"]},
        geometry=[box(-94.502, 39.098, -94.5, 39.1), box(-94.5, 39.098, -94.498, 39.1),
                  box(-94.498, 39.098, -94.496, 39.1)], crs=4326)


def visits() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"officer": [ATTACK], "place": ["Alley {{ 'pw' ~ 'ned' }}"],
         "visited_at": [pd.Timestamp("2024-05-02 02:30", tz="UTC")]},
        geometry=[Point(-94.4991, 39.0993)], crs=4326)


def plan() -> PatrolPlan:
    stop = PlannedStop(officer=1, order=1, place=ATTACK, label="Gi* hot spot",
                       lon=-94.501, lat=39.099, prize=3.0, arrive_min=10.0, leave_min=22.0,
                       must=False)
    route = PlannedRoute(officer=1, stops=[stop],
                         path=np.array([STATION, (-94.501, 39.099), STATION]), nodes=[0, 1, 0],
                         travel_min=20.0, total_min=32.0, km=2.0)
    return PatrolPlan(settings=PatrolSettings(STATION), routes=[route], prize=3.0,
                      prize_available=4.0, unvisited=[], too_far=[], station_node=0,
                      network="test")


def test_hotspot_layers_are_named_coloured_and_fitted_in_lat_lon() -> None:
    page = build_patrol_map(cells()).get_root().render()
    assert '"Gi* hot and cold spots"' in page and '"Kernel density"' in page
    assert BIN_COLOURS[3] in page and BIN_COLOURS[-3] in page
    assert "Not significant" not in page  # bin 0 is left off
    m = re.search(r"fitBounds\(\s*\[\[([-\d.]+), ([-\d.]+)\], \[([-\d.]+), ([-\d.]+)\]\]", page)
    assert m is not None and tuple(map(float, m.groups())) == (39.098, -94.502, 39.1, -94.496)
    assert "L.control.layers" in page


def test_visits_and_routes_are_drawn_lat_first_with_escaped_text() -> None:
    page = build_patrol_map(cells(), visits=visits(), plan=plan(),
                            tz="America/Chicago").get_root().render()
    # visit dot (white) and the station (gold), each at [lat, lon]
    assert (39.0993, -94.4991) in points(page, "circleMarker")
    assert (39.1, -94.5) in points(page, "circleMarker") and "#ffd700" in page
    # the numbered stop and the route line through it
    assert points(page, "marker") == [(39.099, -94.501)]
    assert "[[39.1, -94.5], [39.099, -94.501], [39.1, -94.5]]" in page
    assert ROUTE_COLOURS[0] in page and '"Officer 1"' in page
    assert '"Logged visits (30 days)"' in page
    # times in the page's zone: 02:30 UTC is 21:30 the evening before in Kansas City
    assert "Visited 2024-05-01 21:30 by &lt;img src=http://attacker.invalid/p.png&gt;" in page
    assert "<img src=http://attacker.invalid" not in page
    assert "pwned" not in page and "Alley &#123;&#123;" in page


def shown_layers(page: str) -> list[str]:
    """Names of the overlays added to the map at load (hidden ones are only in the control)."""
    names = {var: name for name, var in re.findall(r'"([^"]+)" : (feature_group_\w+)', page)}
    return [names[var] for var in re.findall(r"(feature_group_\w+)\.addTo\(map_", page)]


def test_the_density_view_opens_with_the_kernel_layer_shown() -> None:
    assert shown_layers(build_patrol_map(cells()).get_root().render()) == [
        "Gi* hot and cold spots"]
    assert shown_layers(build_patrol_map(cells(), show_density=True).get_root().render()) == [
        "Kernel density"]


def test_a_single_visit_keeps_street_zoom_at_its_lat_lon() -> None:
    page = build_visits_map(visits(), tz="UTC").get_root().render()
    assert "center: [39.0993, -94.4991]" in page
    assert "fitBounds" not in page
    assert "Visited 2024-05-02 02:30" in page
