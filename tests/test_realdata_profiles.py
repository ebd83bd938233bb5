"""Every real city file in ../shared/data imported with its committed profile (profiles/),
each rejection reason checked against the file itself, the neighborhood overlay checked
against geopandas.sjoin, and `cpted profile suggest` drafts, once their REVIEW lines are
edited, importing the same files.

The files are small (at most 32,283 rows); every row is imported, nothing sampled.
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest

from cpted.cli import main
from cpted.overlay import overlay
from layers.crs import metric_crs
from layers.importer import ImportSummary, import_file
from layers.profiles import load_profile
from layers.schema import SCHEMAS, Layer
from layers.store import Store, open_store
from tests.conftest import ROOT

pytestmark = pytest.mark.realdata

PROFILES = ROOT / "profiles"


@dataclass(frozen=True)
class Case:
    """One file: where it is, its layer and profile, what an import of it should give."""

    path: str              # under the real-data folder
    layer: Layer
    profile: str           # under profiles/, or a shipped profile's name
    read: int
    rejected: dict[str, int] = field(default_factory=dict)
    #: edits to `cpted profile suggest`'s draft: the start of a line marked REVIEW, and
    #: what replaces it
    edits: dict[str, str] = field(default_factory=dict)
    #: rows the edited draft accepts, when not the profile's (it has no filters)
    draft_accepted: int | None = None

    @property
    def accepted(self) -> int:
        return self.read - sum(self.rejected.values())


HOODS = {
    "kansas_city": Case("kansas_city/kcmo_neighborhoods.geojson", Layer.NEIGHBORHOODS,
                        "kansas-city-neighborhoods.toml", 246),
    "chicago": Case("chicago/Boundaries_-_Community_Areas_current.geojson", Layer.NEIGHBORHOODS,
                    "chicago-community-areas.toml", 77),
    "cambridge": Case("cambridge/BOUNDARY_CDDNeighborhoods.geojson", Layer.NEIGHBORHOODS,
                      "cambridge-neighborhoods.toml", 13,
                      edits={'id = "GlobalID"': 'id = "N_HOOD"'}),
    "washington_dc": Case("washington_dc/Neighborhood_Clusters.geojson", Layer.NEIGHBORHOODS,
                          "washington-dc-neighborhood-clusters.toml", 46),
}

FILES = {
    "kansas_city": [
        Case("kansas_city/kcmo_311_potholes_2020JanFeb.csv", Layer.CONCERNS, "kc311", 4493,
             {"outside project area": 42}),
        Case("kansas_city/kcpd_crime_2017.csv", Layer.INCIDENTS,
             "kansas-city-police-incidents.toml", 32283, {"outside project area": 71}),
        Case("kansas_city/kcmo_streetlight_poles_sample.geojson", Layer.STREETLIGHTS,
             "kansas-city-streetlight-poles.toml", 111),
    ],
    "chicago": [
        Case("chicago/chicago_311_data.csv", Layer.CONCERNS, "chicago-311-requests.toml", 5000,
             {"left out by the profile's filters": 2882 + 688, "no coordinates": 4},
             draft_accepted=5000 - 4),
        Case("chicago/311_general.csv", Layer.CONCERNS,
             "chicago-311-lights-out.toml", 1497, {"no coordinates": 1}),
        Case("chicago/311_pot-holes.csv", Layer.CONCERNS,
             "chicago-311-potholes.toml", 999),
        Case("chicago/Crimes_-_2001_to_present.csv", Layer.INCIDENTS,
             "chicago-crimes.toml", 1730, {"no coordinates": 188},
             edits={'category = "Description"': 'category = "Primary Type"'}),
    ],
    "cambridge": [
        Case("cambridge/TRANS_Centerlines.geojson", Layer.STREETS,
             "cambridge-street-centrelines.toml", 2643,
             edits={'name = "Street_Name"': 'name = "Street"'}),
        Case("cambridge/INFRA_StreetLights.geojson", Layer.STREETLIGHTS,
             "cambridge-streetlights.toml", 6117),
        Case("cambridge/INFRA_ParkLights.geojson", Layer.STREETLIGHTS,
             "cambridge-park-lights.toml", 858),
    ],
    "washington_dc": [
        Case("washington_dc/streetlights.csv", Layer.STREETLIGHTS,
             "washington-dc-streetlights.toml", 3963,
             edits={'fixture_type = "FIXTURESTYLE_DESC"': 'fixture_type = "LIGHTTYPE_DESC"'}),
    ],
}

ALL = [(city, case) for city, cases in FILES.items() for case in [HOODS[city], *cases]]


def profile_ref(case: Case) -> str:
    """A project profile's path (``*.toml`` in ``profiles/``), or a shipped one's name."""
    return str(PROFILES / case.profile) if case.profile.endswith(".toml") else case.profile


def file_rows(path: Path) -> list[dict[str, str]]:
    """A CSV's records read with the csv module alone (independent of the importer)."""
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


@dataclass
class City:
    store: Store
    summaries: dict[str, ImportSummary]
    hoods_db: Path


@pytest.fixture(scope="module")
def cities(real_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[
        dict[str, City]]:
    """Each city's store: its neighborhoods, then every other file, with their profiles."""
    out: dict[str, City] = {}
    for city, cases in FILES.items():
        folder = tmp_path_factory.mktemp(city)
        hoods_db = folder / "hoods.gpkg"
        with open_store(hoods_db) as s:
            first = import_file(s, real_data / HOODS[city].path, Layer.NEIGHBORHOODS,
                                profile=profile_ref(HOODS[city]))
        shutil.copy(hoods_db, folder / "city.gpkg")
        store = open_store(folder / "city.gpkg")
        summaries = {HOODS[city].path: first}
        for case in cases:
            summaries[case.path] = import_file(store, real_data / case.path, case.layer,
                                               profile=profile_ref(case))
        out[city] = City(store, summaries, hoods_db)
    yield out
    for c in out.values():
        c.store.close()


@pytest.mark.parametrize(("city", "case"), ALL, ids=[c.path for _, c in ALL])
def test_each_file_imports_with_its_profile(cities: dict[str, City], city: str,
                                            case: Case) -> None:
    s = cities[city].summaries[case.path]
    print("\n" + s.text())
    assert (s.read, s.accepted, s.rejected) == (case.read, case.accepted, case.rejected)
    assert s.profile == load_profile(profile_ref(case)).name
    # every rejection detail names its row, and the count of details matches up to the cap
    for reason, n in s.rejected.items():
        rows = [r for r in s.rejections if r.reason == reason]
        assert len(rows) == min(n, 200)
        assert all(r.detail.startswith(f"row {r.row}:") for r in rows)


def _rows_with_reason(s: ImportSummary, reason: str) -> set[int]:
    assert s.rejected.get(reason, 0) <= 200, "more rows than the details kept"
    return {r.row for r in s.rejections if r.reason == reason}


def _never(_: dict[str, str]) -> bool:
    return False


def _filtered_311(r: dict[str, str]) -> bool:
    return r["sr_short_code"] in ("311IOC", "AVN")


def test_rows_without_coordinates_are_those_with_empty_cells(cities: dict[str, City],
                                                             real_data: Path) -> None:
    checks: list[tuple[str, str, str, Callable[[dict[str, str]], bool]]] = [
        ("chicago/chicago_311_data.csv", "longitude", "latitude", _filtered_311),
        ("chicago/311_general.csv", "X Coordinate", "Y Coordinate", _never),
        ("chicago/Crimes_-_2001_to_present.csv", "X Coordinate", "Y Coordinate", _never)]
    for path, xcol, ycol, left_out in checks:
        rows = file_rows(real_data / path)
        # a row left out by the profile's filter keeps that reason
        empty = {i + 1 for i, r in enumerate(rows)
                 if (not r[xcol].strip() or not r[ycol].strip()) and not left_out(r)}
        s = cities["chicago"].summaries[path]
        assert _rows_with_reason(s, "no coordinates") == empty, path
        assert all("no coordinates" not in r.detail for r in s.rejections)


def test_the_filter_leaves_out_exactly_the_information_calls_and_aircraft_noise(
        cities: dict[str, City], real_data: Path) -> None:
    rows = file_rows(real_data / "chicago/chicago_311_data.csv")
    left_out = sum(r["sr_short_code"] in ("311IOC", "AVN") for r in rows)
    s = cities["chicago"].summaries["chicago/chicago_311_data.csv"]
    assert s.rejected["left out by the profile's filters"] == left_out == 3570
    stored = cities["chicago"].store.read(Layer.CONCERNS)
    assert not stored["service_name"].isin(["311 INFORMATION ONLY CALL",
                                            "Aircraft Noise Complaint"]).any()
    shown = [r.detail for r in s.rejections if r.reason.startswith("left out")][:1]
    assert shown and "sr_short_code is '311IOC'" in shown[0]


def test_rows_outside_the_area_are_far_from_the_neighborhoods(cities: dict[str, City],
                                                              real_data: Path) -> None:
    """The rejected rows, and only they, lie more than 5 km from the hull of the stored
    neighborhoods: recomputed here with geopandas in the UTM zone."""
    kc = cities["kansas_city"]
    hoods = kc.store.read(Layer.NEIGHBORHOODS)
    utm = metric_crs(hoods)
    hull = hoods.to_crs(utm).union_all().convex_hull
    for path, lat_col, lon_col in (("kansas_city/kcmo_311_potholes_2020JanFeb.csv",
                                    "LATITUDE", "LONGITUDE"),
                                   ("kansas_city/kcpd_crime_2017.csv", "Latitude", "Longitude")):
        rows = file_rows(real_data / path)
        pts = gpd.GeoSeries(gpd.points_from_xy([float(r[lon_col]) for r in rows],
                                               [float(r[lat_col]) for r in rows]), crs=4326)
        far = {i + 1 for i in np.flatnonzero(pts.to_crs(utm).distance(hull) > 5000)}
        s = kc.summaries[path]
        assert _rows_with_reason(s, "outside project area") == far, path
        assert all("km outside the project area" in r.detail for r in s.rejections)


def test_state_plane_feet_are_placed_where_the_files_latitude_and_longitude_say(
        cities: dict[str, City], real_data: Path) -> None:
    """X/Y in EPSG:3435 were read through the profile's crs; the file's own
    Latitude/Longitude (which the profile did not use) put each row at the same place."""
    for path, key, idcol in (("chicago/311_general.csv", "service_request_id",
                              "Service Request Number"),
                             ("chicago/Crimes_-_2001_to_present.csv", "id", "ID")):
        layer = Layer.CONCERNS if key == "service_request_id" else Layer.INCIDENTS
        got = cities["chicago"].store.read(layer).set_index(key)
        rows = {r[idcol]: r for r in file_rows(real_data / path) if r["Latitude"].strip()}
        ids = [i for i in got.index if i in rows]
        assert len(ids) > 900
        lon = np.array([float(rows[i]["Longitude"]) for i in ids])
        lat = np.array([float(rows[i]["Latitude"]) for i in ids])
        geod = pyproj.Geod(ellps="WGS84")
        _, _, d = geod.inv(got.loc[ids].geometry.x.to_numpy(), got.loc[ids].geometry.y.to_numpy(),
                           lon, lat)
        assert float(np.max(d)) < 1.0, path  # metres


def test_values_units_and_repeated_ids_as_the_profiles_say(cities: dict[str, City],
                                                           real_data: Path) -> None:
    dc = cities["washington_dc"].store.read(Layer.STREETLIGHTS).set_index("id")
    rows = {r["STREETLIGHTID"]: r for r in file_rows(real_data / "washington_dc/streetlights.csv")}
    thirty = [i for i, r in rows.items() if r["POLEHEIGHT_DESC"] == "30 ft"]
    assert len(thirty) == 1103
    assert np.allclose(dc.loc[thirty, "mounting_height_m"], 9.144)
    assert dc.loc[[i for i, r in rows.items() if r["POLEHEIGHT_DESC"] == "N/A"],
                  "mounting_height_m"].isna().all()
    assert dc["fixture_type"].value_counts().to_dict() == {
        "hps": 3220, "led": 592, "mh": 88, "mv": 43, "INC-Incandescent": 20}
    park = cities["cambridge"].store.read(Layer.STREETLIGHTS)
    assert park["id"].is_unique and len(park) == 6117 + 858
    assert {f"929-P?-{k}" for k in range(1, 63)} <= set(park["id"])
    assert "929-P?" not in set(park["id"])
    streets = cities["cambridge"].store.read(Layer.STREETS).set_index("id")
    assert streets.loc["Cambrid_St_29", "class"] == "collector"
    assert streets["class"].value_counts().to_dict() == {"local": 1726, "collector": 633,
                                                         "arterial": 284}
    kc = cities["kansas_city"].store.read(Layer.NEIGHBORHOODS)
    assert {f"0-{k}" for k in range(1, 7)} <= set(kc["id"]) and kc["id"].is_unique
    chicago = cities["chicago"].store.read(Layer.CONCERNS)
    assert set(chicago["status"]) == {"open", "closed"}
    assert (chicago["service_code"] == "streetlight_out").sum() == 1496 + 83 + 18 + 4


def _sjoin_counts(points: gpd.GeoDataFrame, hoods: gpd.GeoDataFrame) -> pd.Series:
    """Points per neighborhood by geopandas.sjoin; a point on a shared edge counts for the
    first neighborhood in the layer's order, as our overlay's rule says."""
    poly = hoods[["id", "geometry"]].reset_index(drop=True)
    poly["order"] = np.arange(len(poly))
    joined = gpd.sjoin(points[["geometry"]].reset_index(drop=True), poly,
                       predicate="intersects", how="inner")
    first = joined.sort_values("order").groupby(level=0).first()
    return first["id"].value_counts().reindex(poly["id"], fill_value=0)


OVERLAY: dict[str, list[Layer]] = {
    "kansas_city": [Layer.CONCERNS, Layer.INCIDENTS, Layer.STREETLIGHTS],
    "chicago": [Layer.CONCERNS, Layer.INCIDENTS],
    "cambridge": [Layer.STREETLIGHTS],
    "washington_dc": [Layer.STREETLIGHTS],
}


@pytest.mark.parametrize("city", list(OVERLAY))
def test_neighborhood_overlay_matches_geopandas_sjoin(cities: dict[str, City],
                                                      city: str) -> None:
    store = cities[city].store
    hoods = store.read(Layer.NEIGHBORHOODS)
    for layer in OVERLAY[city]:
        points = store.read(layer)
        ref = _sjoin_counts(points, hoods)
        if layer is Layer.CONCERNS:
            table = overlay(points, hoods)
            ours = pd.Series(table["count"].to_numpy(), index=table["neighborhood_id"])
        else:
            ours = pd.Series(store.counts_within(layer, Layer.NEIGHBORHOODS))
        ours = ours.reindex(ref.index)
        print(f"\n{city} {layer.value}: {int(ours.sum()):,} of {len(points):,} in "
              f"{(ours > 0).sum()} of {len(hoods)} neighborhoods; sjoin {int(ref.sum()):,}")
        assert ours.to_dict() == ref.to_dict(), (city, layer)
        assert ref.sum() > 0.5 * len(points)


def test_chicago_crimes_fall_in_the_community_area_the_file_names(
        cities: dict[str, City], real_data: Path) -> None:
    """A reference from the city itself: the file's Community Area column, which 35 rows
    contradict (CITY_SOURCES.md)."""
    store = cities["chicago"].store
    crimes = store.read(Layer.INCIDENTS).set_index("id")
    areas = store.read(Layer.NEIGHBORHOODS)
    theirs = {r["ID"]: r["Community Area"] for r in file_rows(
        real_data / "chicago/Crimes_-_2001_to_present.csv")}
    joined = gpd.sjoin(crimes[["geometry"]].reset_index(names="crime"),
                       areas[["id", "geometry"]].rename(columns={"id": "area"}),
                       predicate="within")
    agree = float((joined["area"] == joined["crime"].map(theirs)).mean())
    print(f"\nChicago crimes: {len(joined):,} in a community area; the file agrees on "
          f"{agree:.1%}")
    assert agree > 0.97


# -- suggest, edit what it marked, import ------------------------------------------------

def apply_review_edits(draft: str, edits: dict[str, str]) -> str:
    """Replace each line starting with an edit's key; each must be a line marked REVIEW."""
    lines = draft.splitlines()
    for start, new in edits.items():
        hits = [i for i, ln in enumerate(lines) if ln.startswith(start)]
        assert len(hits) == 1, (start, hits)
        assert "# REVIEW:" in lines[hits[0]], f"not marked for review: {lines[hits[0]]}"
        lines[hits[0]] = new
    return "\n".join(lines) + "\n"


SUGGEST = [(city, case) for city, case in ALL if case.profile != "kc311"] + [
    ("kansas_city", FILES["kansas_city"][0])]


@pytest.mark.parametrize(("city", "case"), SUGGEST, ids=[c.path for _, c in SUGGEST])
def test_a_suggested_profile_once_reviewed_imports_the_file(
        cities: dict[str, City], real_data: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str], city: str, case: Case) -> None:
    draft_path = tmp_path / "draft.toml"
    code = main(["profile", "suggest", str(real_data / case.path), "--layer",
                 case.layer.value, "-o", str(draft_path)])
    out, err = capsys.readouterr()
    assert code == 0, err
    draft = draft_path.read_text(encoding="utf-8")
    assert draft.count("# REVIEW:") >= 1
    draft_path.write_text(apply_review_edits(draft, case.edits), encoding="utf-8")
    db = tmp_path / "db.gpkg"
    if case.layer is not Layer.NEIGHBORHOODS:
        shutil.copy(cities[city].hoods_db, db)
    code = main(["import", str(real_data / case.path), "--layer", case.layer.value,
                 "--profile", str(draft_path), "--db", str(db)])
    out, err = capsys.readouterr()
    assert code == 0, err
    print("\n" + out)
    want = case.draft_accepted if case.draft_accepted is not None else case.accepted
    with open_store(db) as s:
        assert s.count(case.layer) == want
        if case.edits and case.layer is not Layer.NEIGHBORHOODS:
            field_name, column = _edited_field(case.edits)
            assert field_name in SCHEMAS[case.layer].field_names
            stored = s.read(case.layer)[field_name]
            rows = _source_values(real_data / case.path, column)
            assert set(stored.dropna()) <= rows, field_name


def _edited_field(edits: dict[str, str]) -> tuple[str, str]:
    (new,) = edits.values()
    name, _, col = new.partition(" = ")
    return name.strip(), col.strip().strip('"')


def _source_values(path: Path, column: str) -> set[str]:
    if path.suffix == ".csv":
        return {r[column].strip() for r in file_rows(path)}
    frame: pd.DataFrame = gpd.read_file(path)
    return set(frame[column].dropna().astype(str))

