from __future__ import annotations

import hashlib
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from layers.crs import metric_crs
from layers.sample import LAYER_ORDER, PERIOD_DAYS, write_sample
from tests.conftest import ROOT


def digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gen")
    write_sample(out)
    return out


def test_same_seed_gives_identical_files(generated: Path, tmp_path: Path) -> None:
    write_sample(tmp_path)
    assert digest(tmp_path) == digest(generated)


def test_committed_sample_data_is_what_the_generator_makes(generated: Path) -> None:
    committed = ROOT / "sample_data"
    geo = {k: v for k, v in digest(committed).items() if k.endswith(".geojson")}
    assert geo == digest(generated), "sample_data/ is stale: run `make sample`"


def test_another_seed_gives_another_district(generated: Path, tmp_path: Path) -> None:
    write_sample(tmp_path, seed=7)
    assert digest(tmp_path)["concerns.geojson"] != digest(generated)["concerns.geojson"]


def read(generated: Path, name: str) -> gpd.GeoDataFrame:
    return gpd.read_file(generated / f"{name}.geojson")


def test_district_shape(generated: Path) -> None:
    hoods = read(generated, "neighborhoods")
    assert 6 <= len(hoods) <= 10
    assert hoods["name"].is_unique and (hoods["population"] > 0).all()
    streets = read(generated, "streets")
    assert set(streets["class"]) >= {"arterial", "collector", "local", "alley"}
    assert (streets.geometry.apply(lambda g: len(g.coords)) > 2).any()  # curved streets
    total_mb = sum(p.stat().st_size for p in generated.iterdir()) / 2**20
    assert total_mb < 5


def test_street_network_has_dead_ends(generated: Path) -> None:
    streets = read(generated, "streets")
    ends = np.round(np.concatenate([
        shapely.get_coordinates(shapely.get_point(streets.geometry.values, 0)),
        shapely.get_coordinates(shapely.get_point(streets.geometry.values, -1))]), 6)
    _, counts = np.unique(ends, axis=0, return_counts=True)
    assert (counts == 1).sum() >= 5  # endpoints touched by one segment only


def test_streetlight_spacing_is_realistic(generated: Path) -> None:
    lights = read(generated, "streetlights")
    xy = lights.to_crs(metric_crs(lights)).geometry
    tree = shapely.STRtree(xy.values)
    # Distance to the nearest other pole: lights alternate sides of the street, so
    # consecutive poles stand 30-60 m apart along it.
    idx = tree.query_nearest(xy.values, exclusive=True, return_distance=True)
    nearest = idx[1]
    assert 20 <= np.median(nearest) <= 60
    assert set(lights["status"]) == {"working", "out", "unknown"}
    assert 0.03 < (lights["status"] == "out").mean() < 0.15


def test_concerns_span_two_years_cluster_and_favour_night_near_darkness(generated: Path) -> None:
    c = read(generated, "concerns")
    assert 1800 <= len(c) <= 2200
    t = pd.to_datetime(c["requested_datetime"], utc=True)
    assert (t.max() - t.min()).days > PERIOD_DAYS - 30
    assert set(c["status"]) == {"open", "closed"}
    dark = c["service_code"].isin(["dark_area", "streetlight_out"])
    night = c["time_of_day"] == "night"
    assert night[dark].mean() > 0.7 > 0.4 > night[~dark].mean()
    # Clark-Evans ratio: observed mean nearest-neighbour distance over its expectation
    # under complete spatial randomness (0.5 / sqrt(density)); below 1 means clustered.
    pts = c.to_crs(metric_crs(c)).geometry
    hoods = read(generated, "neighborhoods").to_crs(pts.crs)
    area = hoods.union_all().area
    d = shapely.STRtree(pts.values).query_nearest(pts.values, exclusive=True,
                                                  return_distance=True)[1]
    ratio = d.mean() / (0.5 / np.sqrt(len(pts) / area))
    assert ratio < 0.8
    # Dark-area reports lie closer to outages and unlit stretches than other reports.
    lights = read(generated, "streetlights").to_crs(pts.crs)
    out = lights[lights["status"] == "out"].geometry
    dist_out = pts.apply(lambda p: out.distance(p).min())
    assert dist_out[c["service_code"] == "streetlight_out"].median() < dist_out[~dark].median()


def test_every_feature_has_the_layer_fields(generated: Path) -> None:
    for name in LAYER_ORDER:
        data = json.loads((generated / f"{name}.geojson").read_text())
        keys = {tuple(sorted(f["properties"])) for f in data["features"]}
        assert len(keys) == 1, name
