from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from cpted import concerns as cc
from cpted.concerns import ReportDraft
from layers import open311
from layers.errors import LayerSchemaError, UnusableInputError
from layers.importer import import_file
from layers.schema import Layer
from layers.store import Store, open_store
from tests.helpers import exporter

# The request fields of GeoReport v2 (GET requests), as the specification names them.
SPEC_REQUEST_FIELDS = {
    "service_request_id", "status", "status_notes", "service_name", "service_code",
    "description", "agency_responsible", "service_notice", "requested_datetime",
    "updated_datetime", "expected_datetime", "address", "address_id", "zipcode", "lat",
    "long", "media_url",
}
SPEC_SERVICE_FIELDS = {"service_code", "service_name", "description", "metadata", "type",
                       "keywords", "group"}
ISO_WITH_ZONE = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d([+-]\d\d:\d\d|Z)$"


def test_export_fields_match_the_specification(sample_store: Store, tmp_path: Path) -> None:
    rid = cc.submit_report(sample_store, ReportDraft("graffiti", -94.58, 39.04, "Tags"))
    cc.change_status(sample_store, rid, "acknowledged", "Crew booked", actor="Parks")
    out = tmp_path / "requests.json"
    n = exporter(sample_store, public=True).export(Layer.CONCERNS, out, "open311")
    items = json.loads(out.read_text())
    assert len(items) == n == 2001
    for item in items:
        assert set(item) - {"extended_attributes"} == SPEC_REQUEST_FIELDS
        assert isinstance(item["service_request_id"], str)
        assert item["status"] in ("open", "closed")
        for key in ("requested_datetime", "updated_datetime"):
            assert pd.Series([item[key]]).str.match(ISO_WITH_ZONE).all(), item[key]
        assert -90 <= item["lat"] <= 90 and -180 <= item["long"] <= 180
    mine = next(i for i in items if i["service_request_id"] == rid)
    # a status note is internal unless marked public, and this export is the public one
    assert mine["status_notes"] is None
    assert mine["expected_datetime"] is not None  # open: requested + the category's target


def test_round_trip_through_an_empty_store(sample_store: Store, tmp_path: Path) -> None:
    out = tmp_path / "requests.json"
    exporter(sample_store, public=False).export(Layer.CONCERNS, out, "open311")
    with open_store(tmp_path / "fresh.gpkg") as fresh:
        s = import_file(fresh, out, Layer.CONCERNS)  # .json array: read as Open311
        assert s.format == "open311" and s.accepted == 2000 and s.rejected == {}
        back = fresh.read(Layer.CONCERNS)
    orig = sample_store.read(Layer.CONCERNS)
    cols = ["service_request_id", "service_code", "service_name", "description", "address",
            "requested_datetime", "updated_datetime", "status", "detailed_status",
            "time_of_day", "source"]
    pd.testing.assert_frame_equal(pd.DataFrame(orig[cols]), pd.DataFrame(back[cols]),
                                  check_dtype=False)
    assert orig.geometry.geom_equals_exact(back.geometry, 1e-7).all()


def test_services_json_round_trip(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "services.json"
    open311.write_json(open311.services_json(cc.services(store).values()), path)
    items = json.loads(path.read_text())
    assert all(set(i) == SPEC_SERVICE_FIELDS for i in items)
    assert next(i for i in items if i["service_code"] == "dark_area")["metadata"] is True
    back = {s.service_code: s.service_name for s in open311.read_services(path)}
    assert back == {c: s.service_name for c, s in cc.services(store).items()}


def test_a_citys_services_json_extends_the_list(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "city.json"
    path.write_text(json.dumps([
        {"service_code": "001", "service_name": "Cans left out", "description": "",
         "metadata": False, "type": "realtime", "keywords": "trash,cans", "group": "Sanitation"},
    ]))
    cc.save_services(store, open311.read_services(path))
    got = cc.services(store)["001"]
    assert got.keywords == ("trash", "cans") and got.group == "Sanitation"


def test_broken_services_json_names_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps([{"service_code": "a"}, {"service_name": "B"},
                                {"service_code": "a", "service_name": "again"}]))
    with pytest.raises(LayerSchemaError) as exc:
        open311.read_services(path)
    assert len(exc.value.problems) == 3


def test_not_json_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text("[not json")
    with pytest.raises(UnusableInputError, match="not JSON"):
        open311.read_requests(path)


def test_requests_with_numeric_ids_and_no_location(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_text(json.dumps([
        {"service_request_id": 638344, "status": "open", "service_code": "graffiti",
         "requested_datetime": "2026-04-14T06:37:38-08:00", "lat": 39.04, "long": -94.58},
        {"service_request_id": 638345, "status": "open", "service_code": "graffiti",
         "requested_datetime": "2026-04-14T06:37:38-08:00"},
    ]))
    s = import_file(store, path, Layer.CONCERNS)
    assert s.accepted == 1 and s.rejected == {"no coordinates": 1}
    got = store.read(Layer.CONCERNS).iloc[0]
    assert got["service_request_id"] == "638344"
    assert got["requested_datetime"] == datetime(2026, 4, 14, 14, 37, 38, tzinfo=UTC)


def test_reimporting_a_services_json_never_unmarks_a_sensitive_category(
        store: Store, tmp_path: Path) -> None:
    path = tmp_path / "services.json"
    open311.write_json(open311.services_json(cc.services(store).values()), path)
    assert "sensitive" not in path.read_text()  # Open311 has no such field
    cc.save_services(store, open311.read_services(path))
    got = cc.services(store)
    assert got["drug_activity"].sensitive and got["harassment"].sensitive
    assert got["dark_area"].attributes  # questions kept when the import brings none
    assert got["streetlight_out"].duplicate_radius_m == 30
