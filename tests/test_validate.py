from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from layers.conform import conform
from layers.crs import ProjectArea
from layers.errors import LayerSchemaError
from layers.schema import SCHEMAS, Layer
from layers.validate import clean_ids, parse_datetimes, validate
from tests import geometries as G

TZ = "America/Chicago"


def points(rows: list[dict], xy: list[tuple[float, float] | None]) -> gpd.GeoDataFrame:
    geoms = [None if p is None else shapely.Point(p) for p in xy]
    return gpd.GeoDataFrame(pd.DataFrame(rows), geometry=geoms, crs=4326)


def concern(i: int, **kw: object) -> dict:
    row = {"id": f"r{i}", "category": "graffiti", "created": "2025-06-01 21:15",
           "status": "open"}
    row.update(kw)
    return row


def test_conform_matches_aliases_and_reports_what_it_dropped() -> None:
    f = points([concern(1, Extra="x")], [(G.X, G.Y)])
    out, notes = conform(f, SCHEMAS[Layer.CONCERNS])
    assert list(out["service_request_id"]) == ["r1"]
    assert list(out["service_code"]) == ["graffiti"]
    assert any("Extra" in n for n in notes)


def test_conform_names_every_missing_required_field_at_once() -> None:
    f = points([{"id": "1", "foo": "bar"}], [(G.X, G.Y)])
    with pytest.raises(LayerSchemaError) as exc:
        conform(f, SCHEMAS[Layer.CONCERNS])
    text = str(exc.value)
    for field in ("service_code", "requested_datetime", "status"):
        assert field in text
    assert "foo" in text  # what arrived
    assert len(exc.value.problems) == 3


def test_conform_rejects_a_map_to_unknown_columns_and_fields() -> None:
    f = points([concern(1)], [(G.X, G.Y)])
    with pytest.raises(LayerSchemaError) as exc:
        conform(f, SCHEMAS[Layer.CONCERNS], column_map={"nope": "id", "status": "missing"})
    assert len(exc.value.problems) == 2


def test_conform_prefers_a_unique_id_column_when_the_first_repeats() -> None:
    f = points([{"NBHID": 0, "OBJECTID": 1, "name": "a"}, {"NBHID": 0, "OBJECTID": 2,
                                                          "name": "b"}],
               [(G.X, G.Y), (G.X, G.Y)])
    out, notes = conform(f, SCHEMAS[Layer.NEIGHBORHOODS])
    assert list(out["id"]) == [1, 2]
    assert any("NBHID" in n and "OBJECTID" in n for n in notes)


def test_validation_rejects_each_bad_row_with_its_row_number_and_reason() -> None:
    rows = [concern(1), concern(2, status="pending"), concern(3, category=""),
            concern(4, created="not a date"), concern(5)]
    f = points(rows, [(G.X, G.Y)] * 4 + [None])
    conformed, _ = conform(f, SCHEMAS[Layer.CONCERNS])
    v = validate(conformed, SCHEMAS[Layer.CONCERNS], tz=TZ)
    assert list(v.accepted["service_request_id"]) == ["r1"]
    assert v.rejected_counts == {"invalid value": 1, "missing required value": 1,
                                 "invalid date": 1, "no coordinates": 1}
    by_row = {r.row: r for r in v.rejections}
    assert "'pending' is not one of: open, closed" in by_row[2].detail
    assert by_row[3].detail == "row 3: service_code is empty"
    assert "'not a date'" in by_row[4].detail
    assert by_row[5].reason == "no coordinates"


def test_duplicate_ids_fail_the_whole_input_listing_every_one() -> None:
    rows = [concern(1), concern(2), concern(1), concern(3), concern(2)]
    rows[2]["id"] = "r1"
    f = points(rows, [(G.X, G.Y)] * 5)
    conformed, _ = conform(f, SCHEMAS[Layer.CONCERNS])
    with pytest.raises(LayerSchemaError, match="2 id") as exc:
        validate(conformed, SCHEMAS[Layer.CONCERNS], tz=TZ)
    assert exc.value.problems == ["id 'r1' on rows 1, 3", "id 'r2' on rows 2, 5"]


def test_numeric_ids_stored_as_floats_become_whole_numbers() -> None:
    assert list(clean_ids(pd.Series([12.0, 7.0, 3.5]))) == ["12", "7", "3.5"]
    assert list(clean_ids(pd.Series(["12.0", " 8 ", "A1"]))) == ["12", "8", "A1"]


def test_times_without_zone_are_read_in_the_project_zone() -> None:
    s = pd.Series(["2025-06-01 21:15", "2025-06-01T21:15:00Z", "2025-01-15T08:00:00-05:00", "x"])
    out = parse_datetimes(s, TZ)
    assert out.iloc[0] == pd.Timestamp("2025-06-02 02:15", tz="UTC")  # CDT is UTC-5
    assert out.iloc[1] == pd.Timestamp("2025-06-01 21:15", tz="UTC")
    assert out.iloc[2] == pd.Timestamp("2025-01-15 13:00", tz="UTC")
    assert pd.isna(out.iloc[3])


def test_points_outside_the_area_are_rejected_with_distance() -> None:
    area = ProjectArea(center=(G.X, G.Y), radius_km=50)
    f = points([concern(1), concern(2)], [(G.X, G.Y), (-103.89, 35.80)])
    conformed, _ = conform(f, SCHEMAS[Layer.CONCERNS])
    v = validate(conformed, SCHEMAS[Layer.CONCERNS], tz=TZ, area=area)
    assert list(v.accepted["service_request_id"]) == ["r1"]
    assert v.rejected_counts == {"outside project area": 1}
    # Haversine from (-94.58, 39.04) to (-103.89, 35.80), less the 50 km radius.
    km = float(v.rejections[0].detail.split("lies ")[1].split(" km")[0].replace(",", ""))
    assert 800 < km < 900


def hood_frame(geom: shapely.Geometry | None) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"id": ["n1"], "name": ["One"]}, geometry=[geom], crs=4326)


@pytest.mark.parametrize(("name", "geom", "reason"), G.POLYGON_CASES,
                         ids=[c[0] for c in G.POLYGON_CASES])
def test_polygon_edge_cases(name: str, geom: shapely.Geometry | None,
                            reason: str | None) -> None:
    v = validate(hood_frame(geom), SCHEMAS[Layer.NEIGHBORHOODS], tz=TZ)
    if reason is None:
        assert len(v.accepted) == 1
        out = v.accepted.geometry.iloc[0]
        assert out.geom_type == "MultiPolygon" and out.is_valid
        assert out.area == pytest.approx(shapely.make_valid(geom).area)
    else:
        assert len(v.accepted) == 0
        assert v.rejected_counts == {reason: 1}


def test_self_intersecting_polygon_is_repaired_and_said() -> None:
    v = validate(hood_frame(G.BOWTIE), SCHEMAS[Layer.NEIGHBORHOODS], tz=TZ)
    assert any("repaired with make_valid" in n and "Self-intersection" in n for n in v.notes)


def test_self_intersecting_polygon_without_repair_is_rejected() -> None:
    v = validate(hood_frame(G.BOWTIE), SCHEMAS[Layer.NEIGHBORHOODS], tz=TZ, repair=False)
    assert len(v.accepted) == 0
    assert v.rejected_counts == {"invalid geometry": 1}
    assert "Self-intersection" in v.rejections[0].detail


def test_numbers_are_checked_against_their_range() -> None:
    f = gpd.GeoDataFrame({"id": ["a", "b", "c"], "mounting_height_m": ["8", "-2", "tall"]},
                         geometry=[shapely.Point(G.X, G.Y)] * 3, crs=4326)
    v = validate(f, SCHEMAS[Layer.STREETLIGHTS], tz=TZ)
    assert list(v.accepted["id"]) == ["a"]
    assert v.accepted["mounting_height_m"].iloc[0] == 8.0
    assert v.rejected_counts == {"invalid value": 2}


def test_empty_names_are_filled_and_said() -> None:
    f = gpd.GeoDataFrame({"id": ["7"], "name": [""]}, geometry=[G.SQUARE], crs=4326)
    v = validate(f, SCHEMAS[Layer.NEIGHBORHOODS], tz=TZ)
    assert v.accepted["name"].iloc[0] == "Unnamed area 7"
    assert any("had no name" in n for n in v.notes)


def test_validation_keeps_index_alignment() -> None:
    f = points([concern(i) for i in range(4)], [(G.X, G.Y)] * 4)
    conformed, _ = conform(f, SCHEMAS[Layer.CONCERNS])
    conformed.loc[2, "status"] = "bogus"
    v = validate(conformed, SCHEMAS[Layer.CONCERNS], tz=TZ)
    assert list(v.accepted.index) == [0, 1, 3]
    np.testing.assert_array_equal(v.accepted["service_request_id"], ["r0", "r1", "r3"])
