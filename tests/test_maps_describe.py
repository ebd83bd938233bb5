"""Each map's text alternative (cpted.maps.describe): what the builders say they drew.

The counts are checked against the input frames, counted here again with pandas.
"""

from __future__ import annotations

import folium
import numpy as np
import pandas as pd
import pytest
import shapely

from cpted.maps import (
    MapLayers,
    build_assess_map,
    build_audits_map,
    build_choropleth,
    build_darkness_map,
    build_gather_map,
    build_map,
    build_patrol_map,
    build_sightlines_map,
    build_spots_map,
    build_survey_map,
    build_visits_map,
)
from cpted.maps.basemap import prepare
from cpted.maps.describe import MapText, attach, text_of
from layers.schema import Layer
from layers.store import Store
from tests import test_maps_lighting as lighting
from tests import test_maps_patrol as patrol
from tests import test_maps_spots as spots


def test_the_layers_map_lists_every_concern_with_names_before_ids(sample_store: Store) -> None:
    concerns = sample_store.read(Layer.CONCERNS)
    lights = sample_store.read(Layer.STREETLIGHTS)
    names = {"graffiti": "Graffiti (tags)"}
    text = text_of(build_map(MapLayers(concerns=concerns, streetlights=lights,
                                       neighborhoods=sample_store.read(Layer.NEIGHBORHOODS)),
                             category_names=names, tz="America/Chicago"))
    assert text is not None
    n_open = int((concerns["status"] == "open").sum())
    assert text.summary.startswith(f"Map of {len(concerns):,} concerns ({n_open:,} open), "
                                   "by category: ")
    per = concerns["service_code"].value_counts()
    assert f"Graffiti (tags) {per['graffiti']:,}" in text.summary
    out = int((lights["status"] == "out").sum())
    assert f"{out:,} out" in text.summary and "8 neighborhood boundaries" in text.summary
    (listed,) = text.tables
    rows = listed.rows
    assert len(rows) == len(concerns)
    assert list(rows.columns) == ["Category", "Status", "Detail", "Reported", "Time of day",
                                  "Address", "Description", "Report"]  # the id last
    assert set(rows["Report"]) == set(concerns["service_request_id"])
    assert (rows["Category"] == "Graffiti (tags)").sum() == per["graffiti"]
    assert rows["Reported"].is_monotonic_decreasing  # newest first
    # times in the app's zone, as in the tooltips
    first = concerns.sort_values("requested_datetime").iloc[-1]
    assert rows["Reported"].iloc[0] == first["requested_datetime"].tz_convert(
        "America/Chicago").strftime("%Y-%m-%d %H:%M")


def test_concerns_counted_in_cells_are_summed_up_not_listed(sample_store: Store) -> None:
    concerns = sample_store.read(Layer.CONCERNS)
    text = text_of(build_map(MapLayers(concerns=concerns), point_limit=100))
    assert text is not None and text.tables == ()
    assert text.summary.startswith(f"Map of {len(concerns):,} concerns counted in ")
    assert "squares of 150 m" in text.summary


def test_a_pin_is_named_in_words() -> None:
    text = text_of(build_map(MapLayers(), pin=shapely.Point(-94.5, 39.1),
                             pin_label="39th St & Main St"))
    assert text is not None
    assert text.summary == "Map with nothing on it yet. A pin marks 39th St & Main St."


def test_the_choropleth_lists_its_neighborhoods_from_most_to_fewest(
        sample_store: Store) -> None:
    hoods = sample_store.read(Layer.NEIGHBORHOODS)
    values = np.arange(len(hoods), dtype=float) * 10
    values[0] = np.nan
    text = text_of(build_choropleth(hoods, values, [20.0, 40.0, 70.0], measure="Concerns"))
    assert text is not None
    rows = text.tables[0].rows
    assert list(rows.columns) == ["Neighborhood", "Concerns", "Class"]
    assert rows["Neighborhood"].iloc[0] == hoods["name"].iloc[-1]  # the most
    assert rows["Class"].iloc[-1] == "no data"
    assert f"the most in {hoods['name'].iloc[-1]} (70)" in text.summary
    assert f"the fewest in {hoods['name'].iloc[1]} (10)" in text.summary


def test_the_other_maps_each_say_what_they_show(sample_store: Store) -> None:
    hoods = sample_store.read(Layer.NEIGHBORHOODS)
    survey = pd.DataFrame({"neighborhood_id": [hoods["id"].iloc[0]], "survey_answers": [7],
                           "safe_mean": [3.4]})
    texts = {
        "survey": text_of(build_survey_map(hoods, survey, scale={k: str(k) for k in
                                                                 range(1, 6)})),
        "assess": text_of(build_assess_map(shapely.Point(-94.58, 39.04))),
        "sightlines": text_of(build_sightlines_map(shapely.Point(-94.58, 39.04),
                                                   shapely.Point(-94.58, 39.04).buffer(1e-3))),
        "visits": text_of(build_visits_map(patrol.visits())),
    }
    assert all(t is not None for t in texts.values()), texts
    assert "1 has enough answers" in texts["survey"].summary  # type: ignore[union-attr]
    assert "a spot, at latitude 39.04000" in texts["assess"].summary  # type: ignore[union-attr]
    assert "latitude 39.04000, longitude -94.58000" in texts["sightlines"].summary  # type: ignore[union-attr]
    visits = texts["visits"].tables[0].rows  # type: ignore[union-attr]
    assert list(visits.columns) == ["Place", "Officer", "Visited"]
    assert visits["Visited"].iloc[0] == "2024-05-02 02:30"


def test_the_patrol_map_lists_hot_spots_stops_and_visits() -> None:
    text = text_of(build_patrol_map(patrol.cells(), visits=patrol.visits(),
                                    plan=patrol.plan()))
    assert text is not None
    assert text.summary.startswith("Map of 3 cells showing Gi* hot and cold spots: 1 hot spot "
                                   "and 1 cold spot.")
    by_title = {t.title: t.rows for t in text.tables}
    assert list(by_title) == ["Hot spots on the map", "Route stops on the map",
                              "Logged visits on the map"]
    hot = by_title["Hot spots on the map"]
    assert list(hot["Confidence"]) == ["Hot spot, 99% confidence"]
    assert hot["Latitude"].iloc[0] == pytest.approx(39.099, abs=1e-5)
    assert hot["Longitude"].iloc[0] == pytest.approx(-94.501, abs=1e-5)
    stops = by_title["Route stops on the map"]
    assert stops.iloc[0].tolist()[:3] == [1, 1, patrol.ATTACK]  # plain text: shown as is


def test_the_spot_and_audit_maps_name_their_places() -> None:
    table = pd.DataFrame({"id": ["PS-1", "PS-2"], "title": ["Dark alley", "Vacant house"],
                          "lon": [-94.5, -94.49], "lat": [39.1, 39.11], "reports": [3, 2],
                          "open": [1, 2]})
    status = pd.Series(["open, no plan under way", "plan overdue"], index=table.index)
    text = text_of(build_spots_map(table, status))
    assert text is not None
    assert text.summary == ("Map of 2 problem spots, coloured by status: 1 open, no plan under "
                            "way and 1 plan overdue.")
    assert list(text.tables[0].rows.columns[:2]) == ["Spot", "Status"]
    gather = text_of(build_gather_map(spots.reports(), gathered=["r2"]))
    assert gather is not None
    rows = gather.tables[0].rows
    assert rows["Gathered"].iloc[0] == "yes" and (rows["Gathered"] == "yes").sum() == 1
    audits = pd.DataFrame({"place_name": ["Corner"], "label": ["Weak"], "overall": [45.0],
                           "period": ["night"],
                           "assessed_at": [pd.Timestamp("2026-05-01", tz="UTC")]})
    import geopandas as gpd

    shown = text_of(build_audits_map(gpd.GeoDataFrame(audits, geometry=[
        shapely.Point(-94.5, 39.1)], crs=4326)))
    assert shown is not None
    assert shown.summary == "Map of 1 audited place, coloured by the latest audit's label: 1 weak."
    assert shown.tables[0].rows.iloc[0].tolist() == ["Corner", "Weak", 45, "night",
                                                      "2026-05-01"]


def test_the_darkness_map_lists_the_streets_short_of_target_and_the_work() -> None:
    seg = lighting.segments()
    text = text_of(build_darkness_map(lighting.streets(), seg, lighting.lux(), lighting.BOX,
                                      lighting.poles()))
    assert text is not None
    short = text.tables[0].rows
    assert len(short) == int(seg["dark"].sum())
    assert f"{int(seg['dark'].sum()):,} fall short of their lighting target" in text.summary


def test_a_text_can_be_replaced_and_is_not_drawn_into_the_map() -> None:
    fmap = folium.Map(tiles=None)
    assert text_of(fmap) is None
    attach(fmap, MapText("first"))
    attach(fmap, MapText("second"))
    assert text_of(fmap) == MapText("second")
    assert "second" not in fmap.get_root().render()
    assert MapText("A map.", ()).listed_elsewhere("Listed below.") == MapText(
        "A map. Listed below.")


def test_shown_maps_keep_their_shapes_out_of_the_tab_order() -> None:
    fmap = build_map(MapLayers(), pin=shapely.Point(-94.5, 39.1))
    page = prepare(fmap, base="../../", sources={}).get_root().render()
    assert "el.setAttribute('tabindex', '-1')" in page
    assert "box.setAttribute('aria-label', label)" in page
    assert '"Map (arrow keys move it, + and - zoom). What it shows is written below it."' in page


def test_show_map_refuses_a_map_that_does_not_say_what_it_shows() -> None:
    from app_pages._maps import show_map

    with pytest.raises(ValueError, match="text alternative"):
        show_map(folium.Map(tiles=None), key="bare", height=100)
