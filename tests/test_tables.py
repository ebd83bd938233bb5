"""Concerns as a table for people: labels, category names, local times, ids last."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
from shapely import Point

from cpted.tables import CONCERN_COLUMNS, CONCERN_ID, concern_rows


def concerns() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({
        "service_request_id": ["c1", "c2", "c3"],
        "service_code": ["dark_area", "graffiti", "mystery"],
        "service_name": ["Old name", "Graffiti", None],
        "description": ["Dark", "Tags", None], "address": ["1 Elm St", None, None],
        "requested_datetime": pd.to_datetime(["2024-07-01 03:30", "2024-01-15 18:05",
                                              "2024-03-10 08:00"], utc=True),
        "updated_datetime": pd.to_datetime(["2024-07-02 12:00", None, "2024-03-10 09:00"],
                                           utc=True),
        "status": ["open", "closed", "open"], "detailed_status": ["submitted", "fixed", None],
        "time_of_day": ["night", "day", "unknown"], "attributes": [None, None, None]},
        geometry=[Point(-94.5, 39.1)] * 3, crs=4326, index=[7, 3, 5])


def test_labels_names_and_local_times() -> None:
    rows = concern_rows(concerns(), tz="America/Chicago",
                        category_names={"dark_area": "Dark area / lighting"})
    # labelled, the category first and the id last; no geometry, attributes or codes
    assert list(rows.columns) == [v for k, v in CONCERN_COLUMNS.items()
                                  if k != "location_precision"]
    assert rows.columns[-1] == CONCERN_ID
    # names from the catalogue first, then the row's own, then the code
    assert list(rows["Category"]) == ["Dark area / lighting", "Graffiti", "mystery"]
    # local time: daylight saving in July (UTC-5), standard time in January (UTC-6)
    assert list(rows["Reported"]) == ["2024-06-30 22:30", "2024-01-15 12:05",
                                      "2024-03-10 03:00"]
    assert list(rows["Last update"]) == ["2024-07-02 07:00", "", "2024-03-10 04:00"]
    # in the input's order, on a fresh index
    assert list(rows[CONCERN_ID]) == ["c1", "c2", "c3"] and list(rows.index) == [0, 1, 2]


def test_the_public_view_says_where_a_location_was_blurred() -> None:
    seen = concerns().assign(location_precision=["exact", "250 m grid", "exact"])
    rows = concern_rows(seen, tz="UTC")
    assert list(rows.columns) == list(CONCERN_COLUMNS.values())
    assert list(rows["Location shown"]) == ["exact", "250 m grid", "exact"]
    assert list(rows["Category"]) == ["Old name", "Graffiti", "mystery"]


def test_no_concerns_give_an_empty_table_with_its_labels() -> None:
    rows = concern_rows(concerns().iloc[0:0], tz="UTC")
    assert rows.empty and "Category" in rows.columns and CONCERN_ID in rows.columns
