"""The parcels layer: a city's vacant-property file imported with a profile, counted per
neighborhood, drawn on the Map page, weighed in patrol plans, and never a building.

The test files are made here in code, in the shape of a city's vacant-property export
(no such file is in the shared real-data folder). References: geopandas ``sjoin`` for the
counts per neighborhood; the isovist without the parcels for the sightlines.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from streamlit.testing.v1 import AppTest

from cpted import patrol as pt
from cpted import reports
from cpted.cli import main
from cpted.maps import MapLayers, build_map
from cpted.overlay import overlay, parcel_points, vacancy
from layers.errors import UnusableInputError
from layers.importer import import_file
from layers.schema import Layer
from layers.store import Store, open_store
from tests.conftest import ROOT, frame_with

OWNER = "Ophelia Parcel-Owner"  # a person's name in the file: never stored


def hood_points(store: Store, per_hood: int, seed: int = 0) -> list[tuple[float, float, str]]:
    """Random (lon, lat, neighborhood id) well inside each sample neighborhood."""
    rng = np.random.default_rng(seed)
    hoods = store.read(Layer.NEIGHBORHOODS)
    out = []
    for nid, shape in zip(hoods["id"], hoods.geometry, strict=True):
        inner = shape.buffer(-0.001)
        minx, miny, maxx, maxy = inner.bounds
        got = 0
        while got < per_hood:
            x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
            if inner.contains(shapely.Point(x, y)):
                out.append((x, y, str(nid)))
                got += 1
    return out


def vacant_csv(path: Path, places: list[tuple[float, float, str]]) -> Path:
    """A vacant-property export: its own headers and words, an owner's name column."""
    statuses = ["Vacant Lot", "VACANT STRUCTURE", "Occupied", "Not surveyed"]
    owners = ["City of Kansas City", "Land Bank", "Individual", ""]
    rows = [{"PARCEL NUMBER": f"KC-{k:04d}", "Property Status": statuses[k % 4],
             "Owner Class": owners[k % 4], "OWNER NAME": OWNER,
             "LATITUDE": f"{lat:.6f}", "LONGITUDE": f"{lon:.6f}"}
            for k, (lon, lat, _) in enumerate(places)]
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


PROFILE = """
[profile]
name = "Vacant property survey (test)"
layer = "parcels"

[columns]
id = "PARCEL NUMBER"
status = "Property Status"
owner_type = "Owner Class"
lat = "LATITUDE"
lon = "LONGITUDE"

[values.status]
"vacant lot" = "vacant_lot"
"vacant structure" = "vacant_building"
"occupied" = "occupied"
"*" = "unknown"

[values.owner_type]
"city of kansas city" = "public"
"land bank" = "land_bank"
"individual" = "private"
"" = "unknown"

[constants]
source = "vacant property survey"
"""


@pytest.fixture
def with_parcels(sample_db: Path, tmp_path: Path) -> Iterator[tuple[Path, Store]]:
    """The sample district with 8 point parcels in each neighborhood (2 vacant lots and
    2 vacant buildings among them) and one vacant-lot polygon, imported by the CLI."""
    with open_store(sample_db) as s:
        places = hood_points(s, 8)
    csv_path = vacant_csv(tmp_path / "vacant.csv", places)
    profile = tmp_path / "vacant.toml"
    profile.write_text(PROFILE)
    assert main(["import", str(csv_path), "--layer", "parcels", "--profile", str(profile),
                 "--db", str(sample_db)]) == 0
    with open_store(sample_db) as s:
        yield sample_db, s


def test_a_vacant_property_file_imports_with_a_profile(with_parcels: tuple[Path, Store]
                                                       ) -> None:
    _, store = with_parcels
    got = store.read(Layer.PARCELS)
    n_hoods = store.count(Layer.NEIGHBORHOODS)
    assert len(got) == 8 * n_hoods
    assert got["status"].value_counts().to_dict() == {
        "vacant_lot": 2 * n_hoods, "vacant_building": 2 * n_hoods,
        "occupied": 2 * n_hoods, "unknown": 2 * n_hoods}
    by_id = got.set_index("id")
    assert by_id.loc["KC-0000", "owner_type"] == "public"
    assert by_id.loc["KC-0001", "owner_type"] == "land_bank"
    assert by_id.loc["KC-0003", "owner_type"] == "unknown"
    assert set(got["source"]) == {"vacant property survey"}
    # only the layer's fields are kept: the owner's name is nowhere in the store
    assert set(got.columns) == {"id", "status", "owner_type", "source", "geometry"}
    assert OWNER not in got.drop(columns="geometry").to_json()


@pytest.mark.usefixtures("fresh_streamlit_caches")
def test_the_import_page_offers_the_parcels_layer(sample_db: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CPTED_DB_URL", str(sample_db))
    monkeypatch.setenv("CPTED_STAFF_MODE", "true")
    monkeypatch.chdir(ROOT)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.switch_page("app_pages/import_data.py").run()
    assert not at.exception
    layer = next(s for s in at.selectbox if s.label == "Layer")
    assert "Parcels" in layer.options


def test_polygons_points_and_wrong_values_without_a_profile(store: Store,
                                                            tmp_path: Path) -> None:
    path = tmp_path / "parcels.geojson"
    lot = shapely.box(-94.5801, 39.0401, -94.5799, 39.0403)
    two = shapely.MultiPolygon([shapely.box(-94.57, 39.04, -94.5699, 39.0401),
                                shapely.box(-94.5697, 39.04, -94.5696, 39.0401)])
    gpd.GeoDataFrame({"parcel_id": ["A", "B", "C", "D"],
                      "status": ["vacant_lot", "Vacant_Building", "occupied", "for sale"],
                      "owner_type": ["land_bank", None, "private", "private"]},
                     geometry=[lot, two, shapely.Point(-94.575, 39.045),
                               shapely.Point(-94.576, 39.045)], crs=4326).to_file(path)
    s = import_file(store, path, Layer.PARCELS)
    assert (s.read, s.accepted) == (4, 3)
    [bad] = s.rejections
    assert bad.row == 4 and "'for sale' is not one of: vacant_lot, vacant_building" in bad.detail
    got = store.read(Layer.PARCELS).set_index("id")
    assert got.geometry.geom_type.to_dict() == {"A": "Polygon", "B": "MultiPolygon",
                                                "C": "Point"}
    assert got.loc["B", "status"] == "vacant_building"
    with pytest.raises(UnusableInputError, match="parcels"):
        import_file(store, path, Layer.PARCELS, on_conflict="error")


# -- counted per neighborhood --------------------------------------------------------

def test_vacancy_per_neighborhood_agrees_with_sjoin(sample_store: Store) -> None:
    hoods = sample_store.read(Layer.NEIGHBORHOODS)
    rng = np.random.default_rng(3)
    places = hood_points(sample_store, 12, seed=3)
    geoms: list[shapely.Geometry] = []
    for k, (x, y, _) in enumerate(places):  # every other parcel a lot-sized polygon
        geoms.append(shapely.Point(x, y) if k % 2 else
                     shapely.box(x, y, x + rng.uniform(1e-4, 3e-3), y + 1e-4))
    status = rng.choice(["vacant_lot", "vacant_building", "occupied"], len(geoms))
    parcels = gpd.GeoDataFrame({"id": [f"P{k}" for k in range(len(geoms))],
                                "status": status}, geometry=geoms, crs=4326)
    got = vacancy(parcels, hoods)
    assert list(got.index) == list(hoods.index)
    # reference: each parcel's point (shapely's point_on_surface for polygons) joined by
    # geopandas; some wide lots reach into the next neighborhood, and count once
    ref_pts = gpd.GeoDataFrame(
        {"status": status},
        geometry=[g if g.geom_type == "Point" else shapely.point_on_surface(g) for g in geoms],
        crs=4326)
    joined = gpd.sjoin(ref_pts, hoods[["geometry"]], predicate="within")
    for value, col in (("vacant_lot", "vacant_lots"), ("vacant_building", "vacant_buildings")):
        want = (joined[joined["status"] == value].groupby("index_right").size()
                .reindex(hoods.index, fill_value=0))
        np.testing.assert_array_equal(got[col].to_numpy(), want.to_numpy())
    straddling = [g for g in geoms if g.geom_type == "Polygon"
                  and int(hoods.intersects(g).sum()) > 1]
    assert straddling, "no lot reaches into two neighborhoods: the case is not tested"
    assert int(got.to_numpy().sum()) == int(np.isin(status, ["vacant_lot",
                                                             "vacant_building"]).sum())
    pts = parcel_points(parcels)
    assert (pts.geom_type == "Point").all() and pts.index.equals(parcels.index)
    assert all(g.contains(p) or g.equals(p) for g, p in zip(geoms, pts, strict=True))
    with pytest.raises(ValueError, match="share a CRS"):
        vacancy(parcels.to_crs(3857), hoods)


def test_the_scorecard_counts_vacant_parcels_only_when_given(
        with_parcels: tuple[Path, Store]) -> None:
    _, store = with_parcels
    hoods = store.read(Layer.NEIGHBORHOODS)
    concerns = store.read(Layer.CONCERNS)
    plain = overlay(concerns, hoods)
    assert "vacant_lots" not in plain
    table = overlay(concerns, hoods, parcels=store.read(Layer.PARCELS))
    assert (table["vacant_lots"] == 2).all() and (table["vacant_buildings"] == 2).all()
    pd.testing.assert_frame_equal(table[plain.columns], plain)


def test_the_brief_counts_the_neighborhoods_vacant_parcels(
        with_parcels: tuple[Path, Store]) -> None:
    _, store = with_parcels
    nid = str(store.read(Layer.NEIGHBORHOODS)["id"].iloc[0])
    b = reports.neighborhood_brief(store, nid, concerns=store.read(Layer.CONCERNS))
    assert (b.vacant_lots, b.vacant_buildings) == (2, 2)
    line = "Vacant parcels: 2 vacant lots and 2 vacant buildings."
    assert line in reports.brief_html(b)


def test_a_brief_without_parcels_says_nothing_of_them(sample_store: Store) -> None:
    nid = str(sample_store.read(Layer.NEIGHBORHOODS)["id"].iloc[0])
    bare = reports.neighborhood_brief(sample_store, nid,
                                      concerns=sample_store.read(Layer.CONCERNS))
    assert bare.vacant_lots is None and "Vacant parcels" not in reports.brief_html(bare)


# -- on the map ------------------------------------------------------------------------

def parcels_frame() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"id": ["L1", "B1", "OCC-1", "L2"],
         "status": ["vacant_lot", "vacant_building", "occupied", "vacant_lot"],
         "owner_type": ["land_bank", "private", "public", None],
         "source": ["Survey <b>2026</b>"] * 4},
        geometry=[shapely.box(-94.5801, 39.0401, -94.5799, 39.0403),
                  shapely.box(-94.5791, 39.0401, -94.5789, 39.0403),
                  shapely.box(-94.5661, 39.0401, -94.5659, 39.0403),
                  shapely.Point(-94.5771, 39.0402)], crs=4326)


def geojson_layers(html: str) -> list[dict[str, Any]]:
    """The GeoJSON feature collections a folium page holds."""
    out = []
    decoder = json.JSONDecoder()
    at = html.find('_add({"features"')
    while at >= 0:
        obj, end = decoder.raw_decode(html, at + len("_add("))
        out.append(obj)
        at = html.find('_add({"features"', end)
    return out


def test_vacant_lots_and_buildings_are_drawn_apart_with_a_legend() -> None:
    html = build_map(MapLayers(parcels=parcels_frame())).get_root().render()
    assert "Vacant lots (2)" in html and "Vacant buildings (1)" in html
    assert "Vacant lot</div>" in html and "Vacant building</div>" in html  # legend rows
    assert '"dashArray": "4 3"' in html  # lots dashed, buildings not
    assert "#d9f0d3" in html and "#fdd0a2" in html
    drawn = [f for layer in geojson_layers(html) for f in layer["features"]]
    assert sorted(f["properties"]["what"] for f in drawn) == ["Vacant building",
                                                              "Vacant lot", "Vacant lot"]
    assert {f["properties"]["owner"] for f in drawn} == {"land bank", "private", ""}
    # only what the tooltip says is sent: no id, no source, nothing of the occupied parcel
    assert all(set(f["properties"]) == {"what", "owner"} for f in drawn)
    assert "Survey" not in html and "OCC-1" not in html and "-94.566" not in html


def test_many_vacant_parcels_are_counted_in_cells() -> None:
    many = gpd.GeoDataFrame({"id": [f"P{k}" for k in range(60)], "status": "vacant_lot",
                             "owner_type": "private"},
                            geometry=gpd.points_from_xy(np.linspace(-94.60, -94.55, 60),
                                                        np.full(60, 39.05)), crs=4326)
    html = build_map(MapLayers(parcels=many), point_limit=50).get_root().render()
    assert "Vacant parcels (60, per 150 m cell)" in html
    cells = [f for layer in geojson_layers(html) for f in layer["features"]]
    assert sum(f["properties"]["count"] for f in cells) == 60
    assert len(cells) < 60


@pytest.fixture
def drawn_maps(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every map a page hands to ``st_folium``, as rendered HTML."""
    import streamlit_folium

    maps: list[str] = []

    def record(fig: Any, **kwargs: Any) -> dict[str, Any]:
        maps.append(fig.get_root().render())
        return {}

    monkeypatch.setattr(streamlit_folium, "st_folium", record)
    return maps


@pytest.mark.usefixtures("fresh_streamlit_caches")
def test_the_map_page_draws_vacant_parcels(with_parcels: tuple[Path, Store],
                                           monkeypatch: pytest.MonkeyPatch,
                                           drawn_maps: list[str]) -> None:
    db, store = with_parcels
    monkeypatch.setenv("CPTED_DB_URL", str(db))
    monkeypatch.chdir(ROOT)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    n = 4 * store.count(Layer.NEIGHBORHOODS)
    box = next(c for c in at.sidebar.checkbox if c.label.startswith("Vacant parcels"))
    assert box.label == f"Vacant parcels ({n:,})" and box.value
    assert f"Vacant lots ({n // 2})" in drawn_maps[0]
    drawn_maps.clear()
    box.uncheck().run()
    assert "Vacant lot" not in drawn_maps[0]


@pytest.mark.usefixtures("fresh_streamlit_caches")
def test_the_neighborhood_scorecard_lists_vacant_parcels(
        with_parcels: tuple[Path, Store], monkeypatch: pytest.MonkeyPatch,
        drawn_maps: list[str]) -> None:
    db, _ = with_parcels
    monkeypatch.setenv("CPTED_DB_URL", str(db))
    monkeypatch.chdir(ROOT)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.switch_page("app_pages/neighborhoods.py").run()
    assert not at.exception
    card = frame_with(at, "Vacant lots").value
    assert (card["Vacant lots"] == 2).all() and (card["Vacant buildings"] == 2).all()


# -- patrol evidence ---------------------------------------------------------------------

def test_vacant_parcels_are_patrol_evidence_with_a_modest_weight(
        with_parcels: tuple[Path, Store]) -> None:
    _, store = with_parcels
    [src] = pt.parse_sources(["parcels"])
    assert (src.kind, src.weight) == ("vacant parcels", 0.5)
    assert src.describe() == "vacant parcels x0.5"
    defaults = {s.kind: s.weight for s in pt.parse_sources([])}
    assert defaults["vacant parcels"] == 0.5 and defaults["open concerns"] == 1.0
    start = pd.Timestamp("2030-01-01", tz="UTC")  # a window no parcel has a date in
    events = pt.gather_events(store, [pt.Source("vacant parcels", 0.5, start=start,
                                                night_only=True)])
    vacant = store.read(Layer.PARCELS, where={"status": ["vacant_lot", "vacant_building"]})
    assert len(events) == len(vacant) == 4 * store.count(Layer.NEIGHBORHOODS)
    assert (events["weight"] == 0.5).all() and events["when"].isna().all()
    assert set(events["ref"]) == set(vacant["id"])
    # with a later period held back to test the hotspots, standing conditions stay in
    # the earlier one
    both = pt.gather_events(store, [pt.Source("open concerns"), src])
    cut = both["when"].dropna().median()
    earlier, later = pt.split_events(both, cut)
    assert len(earlier) + len(later) == len(both)
    assert (later["source"] == "open concerns").all()
    assert (earlier["source"] == "vacant parcels").sum() == len(vacant)


# -- not buildings ---------------------------------------------------------------------

def test_vacant_parcels_never_block_a_sightline(sample_store: Store) -> None:
    from cpted import assessments as au

    audits = au.list_assessments(sample_store)
    point = audits[audits.geometry.geom_type == "Point"].iloc[0]
    before = reports.assessment_report(sample_store, point["id"]).sightline
    assert before is not None
    x, y = point.geometry.x, point.geometry.y
    # a ring of vacant lots and buildings 10-20 m round the audited spot
    ring = [shapely.box(x + dx, y + dy, x + dx + 1.5e-4, y + dy + 1.5e-4)
            for dx in (-2.5e-4, 1e-4) for dy in (-2.5e-4, 1e-4)]
    lots = gpd.GeoDataFrame({"id": [f"R{k}" for k in range(4)],
                             "status": ["vacant_lot", "vacant_building"] * 2},
                            geometry=ring, crs=4326)
    sample_store.add(Layer.PARCELS, lots)
    assert reports.assessment_report(sample_store, point["id"]).sightline == before
    # the same shapes as buildings would block it: the check above can fail
    sample_store.add(Layer.BUILDINGS, gpd.GeoDataFrame({"id": [f"R{k}" for k in range(4)]},
                                                       geometry=ring, crs=4326))
    after = reports.assessment_report(sample_store, point["id"]).sightline
    assert after is not None and after[0] < before[0]
