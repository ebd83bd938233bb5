"""Import profiles, the mapping plan and the rejections that say what happened."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pyproj
import pytest

from cpted.cli import main
from layers.errors import ProfileError, UnusableInputError
from layers.importer import import_file, read_and_plan
from layers.mapping import Confidence, How
from layers.profiles import load_profile, parse_profile
from layers.schema import Layer
from layers.store import Store, open_store

CONCERN_HEAD = "ref,kind,opened,state,lat,lon\n"
PLACE = "39.05,-94.57"


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def profile(tmp_path: Path, text: str, name: str = "p.toml") -> Path:
    return write(tmp_path, name, text)


CONCERN_PROFILE = """
[profile]
name = "Test city 311"
layer = "concerns"
timezone = "America/Chicago"
{extra}
[columns]
service_request_id = "ref"
service_code = "kind"
requested_datetime = "opened"
status = "state"
lon = "lon"
lat = "lat"
{columns}
"""


def concern_profile(tmp_path: Path, extra: str = "", columns: str = "", tail: str = "") -> Path:
    return profile(tmp_path, CONCERN_PROFILE.format(extra=extra, columns=columns) + tail)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


# -- profile validation ---------------------------------------------------------------

def test_every_problem_of_a_profile_is_listed_at_once() -> None:
    text = """
[profile]
name = "Bad"
layer = "concerns"
crs = "EPSG:999999"
timezone = "Mars/Olympus"
encoding = "klingon"
duplicate_ids = "keep-some"
colour = "blue"

[columns]
service_request_id = "ref"
colour = "c"

[values.status]
"done" = "finished"

[values.flavour]
"a" = "b"

[extras]
x = 1
"""
    with pytest.raises(ProfileError) as exc:
        parse_profile(text, source="bad.toml")
    problems = exc.value.problems
    joined = "\n".join(problems)
    assert "unknown key 'extras'" in joined                              # unknown table
    assert "[profile]: unknown key 'colour'" in joined                   # unknown key
    assert "unknown field 'colour'" in joined and "unknown field 'flavour'" in joined
    assert "'finished' is not one of our status values: open, closed" in joined
    assert "duplicate_ids 'keep-some' is not one of: error, keep-first, keep-all" in joined
    assert "crs 'EPSG:999999'" in joined
    assert "timezone 'Mars/Olympus'" in joined
    assert "encoding 'klingon'" in joined
    assert len(problems) == 9
    assert str(exc.value).startswith("the profile bad.toml has 9 problem(s)")


@pytest.mark.parametrize(("body", "message"), [
    ('[profile]\nname = "x"\nlayer = "potholes"\n', "layer 'potholes' is not one of:"),
    ('[profile]\nlayer = "concerns"\n[columns]\nstatus = ""\n', "name is missing"),
    ('[profile]\nname = "x"\nlayer = "concerns"\n[columns]\nstatus = ""\n',
     "status is required, so it cannot be left without a column"),
    ('[profile]\nname = "x"\nlayer = "concerns"\n[columns]\nx = "X"\ny = "Y"\n',
     "x and y need the coordinates' CRS"),
    ('[profile]\nname = "x"\nlayer = "concerns"\n[columns]\nlon = "X"\n',
     "give both lon and lat"),
    ('[profile]\nname = "x"\nlayer = "concerns"\n[values.status]\n"*" = "{slug}"\n',
     "a placeholder could give any value"),
    ('[profile]\nname = "x"\nlayer = "streetlights"\n[units]\nwatts = "ft"\n',
     "only lengths in metres"),
    ('[profile]\nname = "x"\nlayer = "streetlights"\n[units]\nmounting_height_m = "yd"\n',
     "unit 'yd' is not one of"),
    ('[profile]\nname = "x"\nlayer = "concerns"\n[filters.n]\nabove = 1\n',
     "unknown key 'above'"),
    ('[profile]\nname = "x"\nlayer = "concerns"\n[values.status]\n"A" = "open"\n"a " = "closed"\n',
     "the same value as 'A'"),
    ('[profile]\nname = "x"\nlayer = "concerns"\n[date_formats]\nstatus = "%Y"\n',
     "not a date field"),
    ('[profile]\nname = "x"\nlayer = "concerns"\n[constants]\nstatus = "maybe"\n',
     "'maybe' is not one of our status values"),
    ('[profile\nname = "x"\n', "is not valid TOML"),
])
def test_profile_mistakes_are_named(body: str, message: str) -> None:
    with pytest.raises(ProfileError, match=None) as exc:
        parse_profile(body, source="p.toml")
    assert message in str(exc.value), str(exc.value)


def test_the_shipped_kc311_profile_is_found_by_name_and_valid() -> None:
    prof = load_profile("kc311")
    assert prof.layer is Layer.CONCERNS and prof.name == "Kansas City 311 export"
    assert prof.columns["requested_datetime"] == ("CREATION DATE", "CREATION TIME")
    with pytest.raises(ProfileError, match=r"no shipped profile of that name \(shipped: kc311\)"):
        load_profile("kc312")


def test_every_committed_city_profile_is_valid() -> None:
    from tests.conftest import ROOT

    found = sorted((ROOT / "profiles").rglob("*.toml"))
    assert len(found) >= 14
    for path in found:
        prof = load_profile(path)
        assert prof.name and prof.layer in Layer, path


# -- mapping values, duplicates, filters, units, dates -----------------------------------

def test_value_map_is_trimmed_case_insensitive_with_a_default(store: Store,
                                                              tmp_path: Path) -> None:
    rows = ["a,graffiti,2025-05-01 10:00,Done", "b,graffiti,2025-05-01 10:00,  DONE ",
            "c,graffiti,2025-05-01 10:00,new", "d,graffiti,2025-05-01 10:00,on hold",
            "e,graffiti,2025-05-01 10:00,"]
    src = write(tmp_path, "c.csv", CONCERN_HEAD + "".join(f"{r},{PLACE}\n" for r in rows))
    tail = '\n[values.status]\n"done" = "closed"\n"*" = "open"\n'
    s = import_file(store, src, Layer.CONCERNS, profile=concern_profile(tmp_path, tail=tail))
    got = store.read(Layer.CONCERNS).set_index("service_request_id")["status"].to_dict()
    assert got == {"a": "closed", "b": "closed", "c": "open", "d": "open"}
    # "*" is every other value, not an empty cell: e has no status and is rejected
    assert s.rejected == {"missing required value": 1}
    assert s.rejections[0].row == 5
    assert s.profile == "Test city 311" and "profile: Test city 311" in s.text()


def test_value_map_without_default_keeps_other_values_for_the_validator(
        store: Store, tmp_path: Path) -> None:
    rows = ["a,pothole,2025-05-01 10:00,OPEN", "b,pothole,2025-05-01 10:00,WAIT"]
    src = write(tmp_path, "c.csv", CONCERN_HEAD + "".join(f"{r},{PLACE}\n" for r in rows))
    tail = ('\n[values.status]\n"OPEN" = "open"\n[values.service_code]\n'
            '"*" = "city:{slug}"\n')
    s = import_file(store, src, Layer.CONCERNS, profile=concern_profile(tmp_path, tail=tail))
    assert s.accepted == 1
    assert "'wait' is not one of: open, closed" in s.rejections[0].detail
    assert store.read(Layer.CONCERNS)["service_code"].tolist() == ["city:pothole"]


@pytest.mark.parametrize(("rule", "accepted", "ids"), [
    ("keep-first", 3, ["a", "a-1", "b"]),
    ("keep-all", 5, ["a-1-1", "a-1-2", "a-2", "a-3", "b"]),
])
def test_repeated_ids_keep_first_or_keep_all(store: Store, tmp_path: Path, rule: str,
                                             accepted: int, ids: list[str]) -> None:
    # 'a' repeats; 'a-1' is also in the file, so keep-all must not make a second one
    names = ["a", "a", "a-1", "b", "a-1"]
    src = write(tmp_path, "c.csv", CONCERN_HEAD + "".join(
        f"{n},graffiti,2025-05-0{i + 1} 10:00,open,{PLACE}\n" for i, n in enumerate(names)))
    s = import_file(store, src, Layer.CONCERNS, profile=concern_profile(
        tmp_path, extra=f'duplicate_ids = "{rule}"'))
    assert s.accepted == accepted
    assert sorted(store.read(Layer.CONCERNS)["service_request_id"]) == ids
    if rule == "keep-first":
        assert s.rejected == {"repeated id": 2}
        assert [r.row for r in s.rejections] == [2, 5]
        assert "is also on row 1, which was kept" in s.rejections[0].detail
    else:
        assert s.rejected == {}
        assert any("numbered in file order" in n for n in s.notes)
        # in file order; 'a' skips a-1, an id the file already holds (itself repeated)
        by_day = store.read(Layer.CONCERNS).set_index("service_request_id")[
            "requested_datetime"].dt.day.to_dict()
        assert by_day == {"a-2": 1, "a-3": 2, "a-1-1": 3, "b": 4, "a-1-2": 5}


def test_repeated_ids_are_refused_by_default_naming_the_profile_option(
        store: Store, tmp_path: Path) -> None:
    src = write(tmp_path, "c.csv", CONCERN_HEAD + f"a,g,2025-05-01,open,{PLACE}\n" * 2)
    with pytest.raises(UnusableInputError, match="duplicate_ids") as exc:
        import_file(store, src, Layer.CONCERNS, profile=concern_profile(tmp_path))
    assert exc.value.problems == ["id 'a' on rows 1, 2"]
    assert store.count(Layer.CONCERNS) == 0


def test_filters_leave_rows_out_with_the_value_and_the_rule(store: Store,
                                                           tmp_path: Path) -> None:
    text = ("ref,kind,opened,state,filled,lat,lon\n"
            f"a,pothole,2025-05-01,open,2,{PLACE}\n"
            f"b,pothole,2025-05-01,open,0,{PLACE}\n"
            f"c,pothole,2025-05-01,open,,{PLACE}\n"
            f"d,info call,2025-05-01,open,3,{PLACE}\n"
            f"e,POTHOLE,2025-05-01,open,1,{PLACE}\n")
    src = write(tmp_path, "c.csv", text)
    tail = ('\n[filters.filled]\nat_least = 1\n'
            '[filters.kind]\nnot_in = ["Info Call"]\n')
    s = import_file(store, src, Layer.CONCERNS, profile=concern_profile(tmp_path, tail=tail))
    assert sorted(store.read(Layer.CONCERNS)["service_request_id"]) == ["a", "e"]
    assert s.rejected == {"left out by the profile's filters": 3}
    details = {r.row: r.detail for r in s.rejections}
    assert details[2] == ("row 2: filled is '0'; the profile keeps only rows where 'filled' "
                          "must be a number of at least 1")
    assert "filled is empty" in details[3]
    assert "kind is 'info call'" in details[4] and "not one of 'Info Call'" in details[4]


def test_units_date_formats_and_constants(store: Store, tmp_path: Path) -> None:
    text = ("POLE,HEIGHT,LAMP,lat,lon\n"
            f"p1,30 ft,HPS,{PLACE}\n"
            f"p2,9 m,LED,{PLACE}\n"
            f"p3,N/A,LED,{PLACE}\n"
            f"p4,tall,LED,{PLACE}\n")
    src = write(tmp_path, "l.csv", text)
    prof = profile(tmp_path, """
[profile]
name = "Poles"
layer = "streetlights"
[columns]
id = "POLE"
mounting_height_m = "HEIGHT"
fixture_type = "LAMP"
lon = "lon"
lat = "lat"
[units]
mounting_height_m = "ft"
[values.mounting_height_m]
"9 m" = "29.5276"
[constants]
status = "working"
""")
    s = import_file(store, src, Layer.STREETLIGHTS, profile=prof)
    got = store.read(Layer.STREETLIGHTS).set_index("id")
    assert got.loc["p1", "mounting_height_m"] == pytest.approx(9.144)
    assert got.loc["p2", "mounting_height_m"] == pytest.approx(9.0, abs=0.001)
    assert got.loc["p3", "mounting_height_m"] != got.loc["p3", "mounting_height_m"]  # NaN
    assert set(got["status"]) == {"working"}
    assert s.rejected == {"invalid value": 1}
    assert "mounting_height_m should be a number, got 'tall'" in s.rejections[0].detail


def test_a_date_that_fits_no_format_of_the_profile_is_rejected_not_guessed(
        store: Store, tmp_path: Path) -> None:
    src = write(tmp_path, "c.csv", CONCERN_HEAD + f"a,g,7/4/20 9:05 AM,open,{PLACE}\n"
                                                  f"b,g,2020-07-04 09:05,open,{PLACE}\n")
    tail = '\n[date_formats]\nrequested_datetime = "%m/%d/%y %I:%M %p"\n'
    s = import_file(store, src, Layer.CONCERNS, profile=concern_profile(tmp_path, tail=tail))
    got = store.read(Layer.CONCERNS)
    # 9:05 AM on 4 July 2020 in Kansas City (CDT, UTC-5) is 14:05 UTC
    assert got["requested_datetime"].iloc[0].isoformat() == "2020-07-04T14:05:00+00:00"
    assert s.rejected == {"invalid date": 1}
    assert "does not fit the profile's date format(s) %m/%d/%y %I:%M %p" in s.rejections[0].detail


def test_dates_far_outside_the_files_period_are_named(store: Store, tmp_path: Path) -> None:
    rows = [f"r{d},g,2021-01-{d:02d} 10:00,open" for d in range(1, 29)]
    rows += ["old,g,1900-01-01 00:00,open", "typo,g,2102-01-05 10:00,open"]
    src = write(tmp_path, "c.csv", CONCERN_HEAD + "".join(f"{r},{PLACE}\n" for r in rows))
    s = import_file(store, src, Layer.CONCERNS, profile=concern_profile(tmp_path))
    assert s.accepted == 30  # named, not rejected
    (note,) = [n for n in s.notes if "far outside the file's period" in n]
    assert "2 row(s) have requested_datetime" in note
    assert "rows 29 (1900-01-01), 30 (2102-01-05)" in note


# -- rejections that say what happened -----------------------------------------------------

def test_zero_zero_in_a_projected_crs_is_no_location(store: Store, tmp_path: Path) -> None:
    fwd = pyproj.Transformer.from_crs(4326, 3435, always_xy=True)
    x, y = fwd.transform(-87.65, 41.85)
    text = ("ref,kind,opened,state,X,Y\n"
            f"a,g,2025-05-01,open,{x:.2f},{y:.2f}\n"
            "b,g,2025-05-01,open,0,0\n"
            "c,g,2025-05-01,open,0.0,0.000\n")
    src = write(tmp_path, "c.csv", text)
    prof = profile(tmp_path, CONCERN_PROFILE.format(extra='crs = "EPSG:3435"', columns="")
                   .replace('lon = "lon"\nlat = "lat"', 'x = "X"\ny = "Y"'))
    s = import_file(store, src, Layer.CONCERNS, profile=prof)
    assert s.accepted == 1
    assert s.rejected == {"no location (0,0 in the file)": 2}
    assert s.rejections[0].detail == ("row 2: X=0, Y=0: 0,0 in the file stands for no "
                                      "location")
    assert not any("outside" in r.detail for r in s.rejections)
    got = store.read(Layer.CONCERNS).geometry.iloc[0]
    assert (round(got.x, 6), round(got.y, 6)) == (-87.65, 41.85)


def test_zero_zero_in_a_projected_geojson_is_no_location(store: Store, tmp_path: Path) -> None:
    fwd = pyproj.Transformer.from_crs(4326, 3435, always_xy=True)
    x, y = fwd.transform(-87.65, 41.85)
    features = [{"type": "Feature", "properties": {"id": pid},
                 "geometry": {"type": "Point", "coordinates": xy}}
                for pid, xy in (("p1", [x, y]), ("p2", [0, 0]))]
    src = write(tmp_path, "poles.geojson", json.dumps({
        "type": "FeatureCollection", "features": features,
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3435"}}}))
    s = import_file(store, src, Layer.STREETLIGHTS)
    assert (s.accepted, s.rejected) == (1, {"no location (0,0 in the file)": 1})
    assert s.rejections[0].row == 2


def test_zero_zero_in_degrees_is_no_location_too(store: Store, tmp_path: Path) -> None:
    src = write(tmp_path, "c.csv", "id,category,created,status,lat,lon\n"
                                   "a,g,2025-05-01,open,39.05,-94.57\n"
                                   "b,g,2025-05-01,open,0,0\n")
    s = import_file(store, src, Layer.CONCERNS)
    assert s.rejected == {"no location (0,0 in the file)": 1}


def test_a_given_encoding_is_named_as_given_and_nothing_claims_not_utf8(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = write(tmp_path, "ascii.csv", "id,category,created,status,lat,lon\n"
                                       "a,graffiti,2025-05-01 22:00,open,39.05,-94.57\n")
    db = str(tmp_path / "db.gpkg")
    code, out, err = run(capsys, "import", str(src), "--layer", "concerns", "--encoding",
                         "latin-1", "--db", db, "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["accepted"] == 1
    assert not any("UTF-8" in n or "utf-8" in n for n in summary["notes"]), summary["notes"]
    # a profile's encoding that does not fit is named as the profile wrote it
    accented = tmp_path / "accented.csv"
    accented.write_bytes("ref,kind,opened,state,lat,lon\n"
                         f"a,Caf\u00e9,2025-05-01,open,{PLACE}\n".encode())
    prof = concern_profile(tmp_path, extra='encoding = "ASCII"')
    code, out, err = run(capsys, "import", str(accented), "--layer", "concerns", "--profile",
                         str(prof), "--db", db)
    assert code == 1
    assert "could not be decoded as ASCII (the encoding given)" in err
    assert "UTF-8" not in err


def test_a_shapefiles_encoding_is_used_and_named_as_given(tmp_path: Path) -> None:
    import zipfile

    import geopandas as gpd
    import pyogrio
    import shapely

    from layers.readers import read_table

    lights = gpd.GeoDataFrame({"id": ["a"], "fixture": ["Caf\u00e9 lamp"]},
                              geometry=[shapely.Point(-94.57, 39.05)], crs=4326)
    pyogrio.write_dataframe(lights, tmp_path / "poles.shp", encoding="cp1252")
    src = tmp_path / "poles.zip"
    with zipfile.ZipFile(src, "w") as zf:
        for part in ("shp", "shx", "dbf", "prj"):  # no .cpg: nothing names the encoding
            zf.write(tmp_path / f"poles.{part}", f"poles.{part}")
    # "latin-1" is Python's name, not GDAL's: it must still be the one used
    assert read_table(src, encoding="latin-1").frame["fixture"].tolist() == ["Caf\u00e9 lamp"]
    with pytest.raises(UnusableInputError, match=r"as utf-8 \(the encoding given\)") as exc:
        read_table(src, encoding="utf-8")
    assert "UTF-8" not in str(exc.value)


# -- no silent guesses ---------------------------------------------------------------------

def test_a_code_column_is_not_taken_silently_for_a_category(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = ("report_no,offense,occurred,lat,lon\n"
            + "".join(f"r{i},{code},2016-01-0{i % 3 + 1} 10:00,{PLACE}\n"
                      for i, code in enumerate(["0486", "0820", "08B", "031A", "0486", "1320"])))
    src = write(tmp_path, "crimes.csv", text)
    db = tmp_path / "db.gpkg"
    code, out, err = run(capsys, "import", str(src), "--layer", "incidents", "--db", str(db))
    assert code == 1 and out == ""
    assert "column 'offense' was taken for category by an alias of the field's name" in err
    assert "look like codes or numbers, not names" in err and "'0486'" in err
    assert 'write  category = "offense"  under [columns] in the profile' in err
    assert "--map category=offense" in err
    with open_store(db) as s:
        assert s.count(Layer.INCIDENTS) == 0
    # confirmed, the same column is used
    code, out, err = run(capsys, "import", str(src), "--layer", "incidents", "--db", str(db),
                         "--map", "category=offense")
    assert code == 0, err
    with open_store(db) as s:
        assert sorted(set(s.read(Layer.INCIDENTS)["category"])) == [
            "031A", "0486", "0820", "08B", "1320"]


@pytest.mark.parametrize(("layer", "header", "values", "expect"), [
    ("streets", "fclass", ["A31", "A41", "A41", "A63"], "are not one of arterial"),
    ("neighborhoods", "nhood", ["4", "9", "11", "12"], "look like codes or numbers"),
    ("concerns", "created_at", ["soon", "N/A", "later", "TBD"], "are not dates and times"),
])
def test_guessed_columns_that_do_not_fit_are_refused(store: Store, tmp_path: Path, layer: str,
                                                     header: str, values: list[str],
                                                     expect: str) -> None:
    lyr = Layer(layer)
    base = {"streets": "id,name", "neighborhoods": "id", "concerns": "id,category,status"}
    cells = {"streets": "s{i},Main St", "neighborhoods": "n{i}",
             "concerns": "c{i},graffiti,open"}
    if lyr is Layer.CONCERNS:
        src = write(tmp_path, "x.csv", f"{base[layer]},{header},lat,lon\n" + "".join(
            f"{cells[layer].format(i=i)},{v},{PLACE}\n" for i, v in enumerate(values)))
    else:
        geom = ({"type": "LineString", "coordinates": [[-94.57, 39.05], [-94.56, 39.05]]}
                if lyr is Layer.STREETS else
                {"type": "Polygon", "coordinates": [[[-94.57, 39.05], [-94.56, 39.05],
                                                     [-94.56, 39.06], [-94.57, 39.05]]]})
        props = [dict(zip([*base[layer].split(","), header],
                          [*cells[layer].format(i=i).split(","), v], strict=True))
                 for i, v in enumerate(values)]
        src = write(tmp_path, "x.geojson", json.dumps({"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": p, "geometry": geom} for p in props]}))
    with pytest.raises(UnusableInputError) as exc:
        import_file(store, src, lyr)
    (problem,) = [p for p in exc.value.problems if header in p]
    assert expect in problem and f"= \"{header}\"  under [columns]" in problem
    assert store.count(lyr) == 0


def test_the_mapping_plan_says_where_each_field_comes_from(tmp_path: Path) -> None:
    text = ("Case Number,Kind,created,Status,Note,lat,lon\n"
            f"1,graffiti,2025-05-01,Completed,x,{PLACE}\n"
            f"2,graffiti,2025-05-02,Completed,y,{PLACE}\n"
            f"3,pothole,2025-05-03,Open,z,{PLACE}\n")
    src = write(tmp_path, "c.csv", text)
    plan = read_and_plan(src, Layer.CONCERNS).plan
    rid = plan.field("service_request_id")
    assert (rid.columns, rid.how, rid.confidence) == (("Case Number",), How.ALIAS,
                                                       Confidence.MEDIUM)
    assert "alias of service_request_id (case_number)" in rid.why
    assert sorted(rid.samples) == ["1", "2", "3"]
    status = plan.field("status")
    assert status.how is How.NAME and status.needs_confirmation
    assert status.confidence is Confidence.LOW
    assert [(v.value, v.count, v.mapped, v.fits) for v in status.values] == [
        ("Completed", 2, "completed", False), ("Open", 1, "open", True)]
    assert plan.field("service_code").how is How.NONE  # "Kind" is no alias
    assert plan.coordinates == ("lon", "lat")
    assert set(plan.unused) == {"Kind", "Note"}
    assert len(plan.refusals) == 2  # status does not fit; service_code has no column
    # a profile confirms and maps: every field high, nothing refused
    prof = profile(tmp_path, """
[profile]
name = "Mine"
layer = "concerns"
[columns]
service_code = "Kind"
[values.status]
"Completed" = "closed"
""")
    plan = read_and_plan(src, Layer.CONCERNS, profile=prof).plan
    assert plan.refusals == []
    assert plan.field("service_code").how is How.PROFILE
    assert [(v.value, v.mapped, v.fits) for v in plan.field("status").values] == [
        ("Completed", "closed", True), ("Open", "open", True)]
    assert [(v.value, v.count) for v in plan.field("service_code").values] == [
        ("graffiti", 2), ("pothole", 1)]


def test_profile_names_a_column_the_file_lacks(store: Store, tmp_path: Path) -> None:
    src = write(tmp_path, "c.csv", CONCERN_HEAD.replace("ref", "Ref")
                + f"a,g,2025-05-01,open,{PLACE}\n")
    with pytest.raises(UnusableInputError) as exc:
        import_file(store, src, Layer.CONCERNS, profile=concern_profile(tmp_path))
    assert ("the profile names column 'ref' for service_request_id, but the file has no such "
            "column; did you mean 'Ref'?") in exc.value.problems


def test_a_profile_for_another_layer_is_refused(store: Store, tmp_path: Path) -> None:
    src = write(tmp_path, "c.csv", CONCERN_HEAD + f"a,g,2025-05-01,open,{PLACE}\n")
    with pytest.raises(ProfileError, match="is for the concerns layer, not streetlights"):
        import_file(store, src, Layer.STREETLIGHTS, profile=concern_profile(tmp_path))


# -- the command line ----------------------------------------------------------------------

KC_SMALL = ("\ufeffCASE ID,SOURCE,REQUEST TYPE,CATEGORY,TYPE,CREATION DATE,CREATION TIME,STATUS,"
            "CLOSED DATE,STREET ADDRESS,LATITUDE,LONGITUDE\n"
            "2020002530,PHONE,Pothole-District 3,Streets,Pothole,1/7/20,12:59 PM,RESOL,2/12/20,"
            "4900 E 63rd St,39.014495,-94.527365\n"
            "2020002531,,Pothole-District 3,Streets,Pothole,7/4/20,9:05 AM,OPEN,,"
            "1 Main St,39.02,-94.53\n")


@pytest.mark.parametrize("how", [["--format", "kc311"], ["--profile", "kc311"], []])
def test_kc311_is_a_shipped_profile_and_format_kc311_its_alias(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], how: list[str]) -> None:
    src = write(tmp_path, "kc.csv", KC_SMALL)
    db = tmp_path / "db.gpkg"
    code, out, err = run(capsys, "import", str(src), "--layer", "concerns", "--db", str(db),
                         *how)
    assert code == 0, err
    assert "profile: Kansas City 311 export" in out
    with open_store(db) as s:
        got = s.read(Layer.CONCERNS).set_index("service_request_id")
    assert got.loc["2020002530", "source"] == "kc311:phone"
    assert got.loc["2020002531", "source"] == "kc311:unknown"
    assert got.loc["2020002531", "detailed_status"] == "acknowledged"


def test_command_line_options_win_over_the_profile(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    src = write(tmp_path, "kc.csv", KC_SMALL)
    db = tmp_path / "db.gpkg"
    code, _, err = run(capsys, "import", str(src), "--layer", "concerns", "--db", str(db),
                       "--profile", "kc311", "--tz", "UTC")
    assert code == 0, err
    with open_store(db) as s:
        first = s.read(Layer.CONCERNS).set_index("service_request_id").loc["2020002530"]
    assert first["requested_datetime"].isoformat() == "2020-01-07T12:59:00+00:00"


def test_profile_check_prints_the_plan_and_fails_on_refusals(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = write(tmp_path, "kc.csv", KC_SMALL)
    code, out, err = run(capsys, "profile", "check", "kc311", str(src))
    assert code == 0, err
    assert "no problems" in out
    assert f"{'status':<20} <- STATUS  [profile, high]" in out
    assert "'RESOL' x 1 -> 'closed'" in out
    bad = write(tmp_path, "bad.csv", "id,category,created,status,lat,lon\n"
                                     f"1,g,2025-01-01,maybe,{PLACE}\n")
    prof = profile(tmp_path, '[profile]\nname = "x"\nlayer = "concerns"\n')
    code, out, err = run(capsys, "profile", "check", str(prof), str(bad))
    assert code == 1 and "column 'status' was taken for status by its name" in err
    code, out, _ = run(capsys, "profile", "list")
    assert code == 0 and "kc311: Kansas City 311 export (layer concerns)" in out


def test_suggest_writes_a_draft_whose_guesses_are_marked_for_review(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = ("Request No,Problem Type,Opened On,Closed On,Request Status,Street Address,"
            "YCOORD,XCOORD\n"
            + "".join(f"R{i},{kind},{m}/{d}/2021 {h}:15 PM,,{st},1{i} Main St,"
                      f"39.0{i % 10}1,-94.5{i % 10}2\n"
                      for i, (kind, m, d, h, st) in enumerate([
                          ("Graffiti", 1, 13, 3, "Resolved"), ("Pothole", 2, 14, 4, "Open"),
                          ("Graffiti", 3, 15, 5, "Resolved"), ("Graffiti", 1, 16, 6, "New"),
                          ("Pothole", 2, 17, 7, "Duplicate"), ("Pothole", 3, 18, 8, "Open"),
                          ("Graffiti", 1, 19, 9, "Weird")])))
    src = write(tmp_path, "city.csv", text)
    out_path = tmp_path / "draft.toml"
    code, out, err = run(capsys, "profile", "suggest", str(src), "--layer", "concerns",
                         "-o", str(out_path))
    assert code == 0, err
    assert "marked # REVIEW" in out
    draft = out_path.read_text()
    lines: dict[str, str] = {}
    for ln in draft.splitlines():
        if " = " in ln:
            lines.setdefault(ln.split("=")[0].strip(), ln)  # [columns] comes first
    assert lines["service_request_id"].startswith('service_request_id = "Request No"')
    assert "# REVIEW: content check: unique on every row" in lines["service_request_id"]
    assert lines["requested_datetime"].startswith('requested_datetime = "Opened On"')
    assert 'requested_datetime = "%m/%d/%Y %I:%M %p"' in draft
    assert lines["lon"].startswith('lon = "XCOORD"') and "content check" in lines["lon"]
    assert '"Resolved" = "closed"' in draft and "guessed from the word 'resolved'" in draft
    assert '# "Weird" = ""' in draft  # no rule: left out, its row will be rejected
    parsed = tomllib.loads(draft)
    assert parsed["profile"]["layer"] == "concerns"
    # every line that sets something is a guess marked for review, but the layer, the
    # title and values that are ours already
    assert all("# REVIEW" in ln or "# the same as ours" in ln for ln in draft.splitlines()
               if " = " in ln and not ln.startswith(("#", "name =", "layer =")))
    code, out, err = run(capsys, "import", str(src), "--layer", "concerns", "--profile",
                         str(out_path), "--db", str(tmp_path / "db.gpkg"))
    assert code == 0, err
    assert "accepted 6" in out and "rejected, invalid value: 1" in out  # the "Weird" row
    code, _, err = run(capsys, "profile", "suggest", str(src), "--layer", "concerns",
                       "-o", str(out_path))
    assert code == 1 and "exists; give --force" in err
