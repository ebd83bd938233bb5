from __future__ import annotations

from pathlib import Path

import pytest

from layers.errors import UnusableInputError
from layers.importer import import_file
from layers.schema import Layer
from layers.store import Store


@pytest.fixture
def store(any_store: Store) -> Store:
    """Every test here runs on the embedded store and on PostGIS."""
    return any_store


CSV = ("id,category,created,status,lat,lon\n"
       "a,graffiti,2025-05-01 22:00,open,39.05,-94.57\n"
       "b,graffiti,2025-05-02 09:00,closed,39.051,-94.571\n"
       "c,graffiti,2025-05-03 10:00,open,,\n"
       "d,graffiti,2025-05-03 10:00,open,35.79,-103.89\n")


def csv(tmp_path: Path, text: str = CSV, name: str = "c.csv") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_summary_counts_read_accepted_and_rejected_by_reason(store: Store,
                                                             tmp_path: Path) -> None:
    s = import_file(store, csv(tmp_path), Layer.CONCERNS)
    assert (s.read, s.accepted) == (4, 2)
    assert s.rejected == {"no coordinates": 1, "outside project area": 1}
    assert [r.row for r in s.rejections] == [3, 4]
    assert store.count(Layer.CONCERNS) == 2
    log = store.imports()
    assert list(log["source"]) == ["c.csv"]


def test_dry_run_writes_nothing(store: Store, tmp_path: Path) -> None:
    s = import_file(store, csv(tmp_path), Layer.CONCERNS, dry_run=True)
    assert s.accepted == 2 and s.dry_run
    assert store.count(Layer.CONCERNS) == 0


def test_stored_neighborhoods_define_the_project_area(sample_store: Store,
                                                     tmp_path: Path) -> None:
    # 39.10 is about 6 km north of the sample district: inside 50 km of the import's
    # median, but outside the stored neighborhoods plus the 5 km margin.
    text = ("id,category,created,status,lat,lon\n"
            "x1,graffiti,2025-05-01 22:00,open,39.04,-94.57\n"
            "x2,graffiti,2025-05-01 22:00,open,39.12,-94.57\n")
    s = import_file(sample_store, csv(tmp_path, text), Layer.CONCERNS)
    assert s.accepted == 1
    assert s.rejected == {"outside project area": 1}
    assert "neighborhoods" in s.rejections[0].detail


@pytest.mark.parametrize(("name", "text", "message"), [
    ("empty.csv", "", "empty"),
    ("coords.csv", "id,address\n1,Main St\n", "no coordinate columns"),
    ("proj.csv", "id,category,created,status,lat,lon\n1,g,2025-01-01,open,2771234,1061234\n",
     "projected"),
    ("dups.csv", "id,category,created,status,lat,lon\n1,g,2025-01-01,open,39.05,-94.57\n"
                 "1,g,2025-01-01,open,39.05,-94.57\n", "more than once"),
    ("allbad.csv", "id,category,created,status,lat,lon\n1,,2025-01-01,open,39.05,-94.57\n",
     "no row"),
    # a column taken by its name whose values are not the field's is refused whole
    ("misfit.csv", "id,category,created,status,lat,lon\n1,g,2025-01-01,maybe,39.05,-94.57\n",
     "column 'status' was taken for status by its name"),
])
def test_unusable_input_leaves_the_store_unchanged(sample_store: Store, tmp_path: Path,
                                                   name: str, text: str, message: str) -> None:
    before = sample_store.counts()
    revision = sample_store.revision()
    with pytest.raises(UnusableInputError, match=message):
        import_file(sample_store, csv(tmp_path, text, name), Layer.CONCERNS)
    assert sample_store.counts() == before
    assert sample_store.revision() == revision


def test_ids_already_stored_are_refused_unless_told(store: Store, tmp_path: Path) -> None:
    import_file(store, csv(tmp_path), Layer.CONCERNS)
    with pytest.raises(UnusableInputError, match="already in the concerns layer"):
        import_file(store, csv(tmp_path), Layer.CONCERNS)
    s = import_file(store, csv(tmp_path), Layer.CONCERNS, on_conflict="skip")
    assert s.accepted == 2 and store.count(Layer.CONCERNS) == 2


def test_column_map_and_time_zone(store: Store, tmp_path: Path) -> None:
    text = "ref,kind,opened,state,lat,lon\nz,graffiti,2025-07-04 23:30,open,39.05,-94.57\n"
    import_file(store, csv(tmp_path, text), Layer.CONCERNS, tz="America/New_York",
                column_map={"service_request_id": "ref", "service_code": "kind",
                            "requested_datetime": "opened", "status": "state"})
    got = store.read(Layer.CONCERNS)
    assert got["requested_datetime"].iloc[0].isoformat() == "2025-07-05T03:30:00+00:00"


def test_kc311_mapping_from_a_small_file(store: Store, tmp_path: Path) -> None:
    text = ("\ufeffCASE ID,SOURCE,REQUEST TYPE,CATEGORY,TYPE,CREATION DATE,CREATION TIME,STATUS,"
            "CLOSED DATE,STREET ADDRESS,LATITUDE,LONGITUDE\n"
            "2020002530,PHONE,Pothole-District 3,Streets,Pothole,1/7/20,12:59 PM,RESOL,2/12/20,"
            "4900 E 63rd St,39.014495,-94.527365\n"
            "2020002531,WEB,Pothole-District 3,Streets,Pothole,7/4/20,9:05 AM,OPEN,,"
            "1 Main St,39.02,-94.53\n")
    s = import_file(store, csv(tmp_path, text), Layer.CONCERNS, fmt="kc311")
    assert s.accepted == 2
    got = store.read(Layer.CONCERNS).set_index("service_request_id")
    first = got.loc["2020002530"]
    # 12:59 PM on 7 January 2020 in Kansas City (CST, UTC-6) is 18:59 UTC.
    assert first["requested_datetime"].isoformat() == "2020-01-07T18:59:00+00:00"
    assert (first["status"], first["detailed_status"]) == ("closed", "fixed")
    assert first["service_code"] == "pothole"
    # 9:05 AM on 4 July 2020 (CDT, UTC-5) is 14:05 UTC.
    assert got.loc["2020002531", "requested_datetime"].isoformat() == "2020-07-04T14:05:00+00:00"
    assert got.loc["2020002531", "status"] == "open"


def _bowtie_geojson(tmp_path: Path) -> Path:
    import json

    x, y, d = -94.58, 39.04, 0.001
    ring = [[x, y], [x + d, y + d], [x + d, y], [x, y + d], [x, y]]
    p = tmp_path / "bowtie.geojson"
    p.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"id": "b1", "name": "Bow"},
         "geometry": {"type": "Polygon", "coordinates": [ring]}}]}))
    return p


def test_self_intersecting_polygon_without_repair_is_refused_and_store_unchanged(
        sample_store: Store, tmp_path: Path) -> None:
    before = sample_store.counts()
    with pytest.raises(UnusableInputError, match="Self-intersection"):
        import_file(sample_store, _bowtie_geojson(tmp_path), Layer.NEIGHBORHOODS, repair=False)
    assert sample_store.counts() == before


def test_self_intersecting_polygon_is_repaired_by_default(store: Store, tmp_path: Path) -> None:
    s = import_file(store, _bowtie_geojson(tmp_path), Layer.NEIGHBORHOODS)
    assert s.accepted == 1
    assert any("repaired with make_valid" in n for n in s.notes)
    assert store.read(Layer.NEIGHBORHOODS).geometry.iloc[0].is_valid


def test_unsafe_zip_and_oversized_upload_leave_the_store_unchanged(sample_store: Store,
                                                                   tmp_path: Path) -> None:
    import zipfile

    from layers.settings import Settings

    before = sample_store.counts()
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("../escape.shp", b"x")
    with pytest.raises(UnusableInputError, match="outside the folder"):
        import_file(sample_store, evil, Layer.STREETLIGHTS)
    big = csv(tmp_path, CSV * 50, "big.csv")
    with pytest.raises(UnusableInputError, match="upload limit"):
        import_file(sample_store, big, Layer.CONCERNS, settings=Settings(max_upload_mb=0.001))
    assert sample_store.counts() == before
