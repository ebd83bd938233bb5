"""Street networks: OpenStreetMap offline, centrelines joined at their ends, paths on edges."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from cpted import network as nw
from tests.conftest import need

# A square block of residential streets (nodes 1-4), a motorway, a no-bicycles path,
# a private service road, a one-way street with a contraflow lane for bikes, and a
# one-way street without one. Spacing about 100 m near Kansas City.
OSM = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6" generator="test">
  <node id="1" lat="39.0400" lon="-94.5800"/>
  <node id="2" lat="39.0400" lon="-94.5788"/>
  <node id="3" lat="39.0409" lon="-94.5788"/>
  <node id="4" lat="39.0409" lon="-94.5800"/>
  <node id="5" lat="39.0418" lon="-94.5800"/>
  <node id="6" lat="39.0418" lon="-94.5788"/>
  <node id="7" lat="39.0391" lon="-94.5800"/>
  <node id="8" lat="39.0391" lon="-94.5788"/>
  <way id="10"><nd ref="1"/><nd ref="2"/><tag k="highway" v="residential"/>
    <tag k="name" v="Oak Street"/><tag k="lit" v="yes"/></way>
  <way id="11"><nd ref="2"/><nd ref="3"/><tag k="highway" v="residential"/>
    <tag k="name" v="Elm Street"/><tag k="lit" v="no"/></way>
  <way id="12"><nd ref="3"/><nd ref="4"/><tag k="highway" v="residential"/>
    <tag k="name" v="Pine Street"/></way>
  <way id="13"><nd ref="4"/><nd ref="1"/><tag k="highway" v="residential"/>
    <tag k="name" v="Ash Street"/><tag k="oneway" v="yes"/>
    <tag k="oneway:bicycle" v="no"/></way>
  <way id="14"><nd ref="4"/><nd ref="5"/><nd ref="6"/><nd ref="3"/>
    <tag k="highway" v="tertiary"/><tag k="name" v="Loop Road"/><tag k="oneway" v="yes"/></way>
  <way id="15"><nd ref="1"/><nd ref="7"/><nd ref="8"/><nd ref="2"/>
    <tag k="highway" v="motorway"/><tag k="name" v="Freeway"/></way>
  <way id="16"><nd ref="7"/><nd ref="8"/><tag k="highway" v="path"/>
    <tag k="bicycle" v="no"/></way>
  <way id="17"><nd ref="5"/><nd ref="6"/><tag k="highway" v="service"/>
    <tag k="access" v="private"/></way>
</osm>
"""


def test_osm_keeps_bike_ways_and_the_lit_tag(tmp_path: Path) -> None:
    path = tmp_path / "block.osm"
    path.write_text(OSM)
    net = nw.from_osm_xml(path)
    frame = net.edges_frame()
    names = set(frame["name"])
    assert "Freeway" not in names  # no motorway
    assert {"Oak Street", "Elm Street", "Pine Street", "Ash Street", "Loop Road"} <= names
    # the block's four corners; the motorway's and the path's own nodes are left out, and
    # Loop Road's bends (nodes 5 and 6, with the private road gone) are simplified into
    # its one edge's line
    assert net.n_nodes == 4
    loop = frame[frame["name"] == "Loop Road"].to_crs(32615)
    assert loop.length.iloc[0] == pytest.approx(3 * 100, rel=0.1)
    lit = dict(zip(frame["name"], frame["lit"], strict=True))
    assert lit["Oak Street"] == "yes" and lit["Elm Street"] == "no"
    # Ash Street is one-way for cars but two-way for bikes; Loop Road is one-way
    assert (frame["name"] == "Ash Street").sum() == 2
    assert (frame["name"] == "Loop Road").sum() == 1
    assert (frame["name"] == "Oak Street").sum() == 2
    # every node reaches every other
    dist, _ = net.shortest(list(range(net.n_nodes)), 12.0)
    assert np.isfinite(dist).all()


def test_bike_access_rules() -> None:
    assert nw.bike_allowed({"highway": "residential"})
    assert nw.bike_allowed({"highway": "footway", "access": "private", "bicycle": "yes"})
    assert not nw.bike_allowed({"highway": "motorway"})
    assert not nw.bike_allowed({"highway": "steps"})
    assert not nw.bike_allowed({"highway": "cycleway", "bicycle": "no"})
    assert not nw.bike_allowed({"highway": "service", "access": "private"})
    assert not nw.bike_allowed({"highway": "pedestrian", "area": "yes"})
    assert not nw.bike_allowed({})


def test_west_oakland_extract_builds_offline(real_data: Path) -> None:
    path = real_data / "osm_west_oakland" / "West-Oakland.osm"
    assert path.exists(), f"{path} is missing"
    env = {k: os.environ.pop(k) for k in ("HTTP_PROXY", "HTTPS_PROXY") if k in os.environ}
    try:
        net = nw.from_osm_xml(path)
    finally:
        os.environ.update(env)
    assert net.n_nodes > 20 and net.n_edges > 40
    assert {"Wood Street", "7th Street", "8th Street"} <= set(net.name)
    dist, pred = net.shortest([0], 12.0)
    assert np.isfinite(dist).all()
    far = int(np.argmax(dist[0]))
    nodes = nw.path_nodes(pred[0], 0, far)
    index = net.edge_index()
    assert all((a, b) in index for a, b in itertools.pairwise(nodes))
    line = net.path_line(nodes)
    length = float(np.hypot(*np.diff(line, axis=0).T).sum())
    assert length == pytest.approx(dist[0, far] * 12_000 / 60, rel=1e-6)
    print(f"\nWest Oakland: {net.describe()}")


def lines_frame(tolerance_gap: float) -> gpd.GeoDataFrame:
    """Three streets in a T: the stem's end is ``tolerance_gap`` metres from the bar's
    junction; a fourth line crosses the bar without sharing an end, one level up (a
    bridge)."""
    x0, y0 = 500_000.0, 4_300_000.0
    geoms = [
        shapely.LineString([(x0, y0), (x0 + 100, y0)]),
        shapely.LineString([(x0 + 100, y0), (x0 + 200, y0)]),
        shapely.LineString([(x0 + 100, y0 + tolerance_gap), (x0 + 100, y0 + 100)]),
        shapely.LineString([(x0 + 150, y0 - 50), (x0 + 150, y0 + 50)]),
        shapely.LineString([(x0 + 150, y0 + 50), (x0 + 100, y0 + 100)]),
    ]
    return gpd.GeoDataFrame({"name": ["A", "A", "B", "Bridge", "C"],
                             "oneway": ["no", "no", "no", "yes", "no"],
                             "level": [0, 0, 0, 1, 0]},
                            geometry=geoms, crs=32615)


def test_centrelines_join_within_the_tolerance_only() -> None:
    joined = nw.from_lines(lines_frame(0.6), tolerance_m=1.0)
    apart = nw.from_lines(lines_frame(0.6), tolerance_m=0.1)
    # joined: A-A-B meet at one node; the bridge reaches B's top through C but nothing
    # comes back to the bridge's start (one-way), so its start is not strongly connected
    assert joined.n_nodes == 5
    assert joined.dropped_nodes == 1
    # apart: the stem is its own piece; the largest piece is kept
    assert apart.n_nodes < joined.n_nodes
    assert apart.dropped_nodes > joined.dropped_nodes
    # the bridge crosses A without a junction: no node at the crossing
    crossing = np.array([500_150.0, 4_300_000.0])
    assert np.min(np.hypot(*(joined.xy - crossing).T)) > 40


@pytest.mark.parametrize("suffix", [".geojson", ".gpkg", ".parquet"])
def test_network_files_are_read_by_type(tmp_path: Path, suffix: str) -> None:
    frame = lines_frame(0.0).to_crs(4326)
    path = tmp_path / f"streets{suffix}"
    if suffix == ".parquet":
        frame.to_parquet(path)
    else:
        frame.to_file(path)
    net = nw.read_network(path)
    assert net.n_nodes == 5
    with pytest.raises(nw.NetworkError, match="use an OpenStreetMap"):
        nw.read_network(tmp_path.joinpath("x.txt").resolve() if (tmp_path / "x.txt")
                        .write_text("x") else path)
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy([0], [0]), crs=4326)
    with pytest.raises(nw.NetworkError, match="needs lines"):
        nw.from_lines(points)


def test_sample_streets_are_mostly_one_connected_network(sample_store: object) -> None:
    from layers.schema import Layer

    streets = sample_store.read(Layer.STREETS)  # type: ignore[attr-defined]
    net = nw.from_lines(streets)
    need(net.n_nodes > 0, "sample streets missing")
    assert net.n_nodes > 0.8 * (net.n_nodes + net.dropped_nodes)
    assert net.place_name(0)
