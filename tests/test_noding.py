"""Street networks from un-noded centrelines: lines split where others meet their middle,
levels kept apart, one-way codes honoured.

References: distances worked out by hand on small drawings, and networkx's Dijkstra on a
directed graph built here, by hand, from the same streets cut at their junctions.
"""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely

from cpted import network as nw

X0, Y0 = 500_000.0, 4_300_000.0  # UTM zone 15N, near Kansas City
#: At 60 km/h a minute is a kilometre, so minutes x 1000 are metres.
KMH = 60.0


def frame(lines: list[list[tuple[float, float]]], **columns: list[object]) -> gpd.GeoDataFrame:
    """Lines given in metres from (X0, Y0), in EPSG:32615."""
    geoms = [shapely.LineString([(X0 + x, Y0 + y) for x, y in c]) for c in lines]
    return gpd.GeoDataFrame(columns, geometry=geoms, crs=32615)


def node_at(net: nw.Network, x: float, y: float, *, within_m: float = 0.5) -> int | None:
    d = np.hypot(net.xy[:, 0] - (X0 + x), net.xy[:, 1] - (Y0 + y))
    k = int(np.argmin(d))
    return k if d[k] <= within_m else None


def metres(net: nw.Network, a: tuple[float, float], b: tuple[float, float]) -> float:
    na, nb = node_at(net, *a), node_at(net, *b)
    assert na is not None and nb is not None, (a, b)
    dist, _ = net.shortest([na], KMH)
    return float(dist[0, nb] * 1000)


# -- an alley meeting a street's middle -----------------------------------------------

def alley_t(gap_m: float) -> gpd.GeoDataFrame:
    """A street from (0, 0) to (200, 0), and an alley from (100, 80) stopping ``gap_m``
    short of the street's side: no vertex of the street lies there."""
    return frame([[(0, 0), (200, 0)], [(100, 80), (100, gap_m)]],
                 name=["Main Street", ""], **{"class": ["local", "alley"]})


def test_an_alley_meeting_a_streets_middle_is_joined_and_routable() -> None:
    net = nw.from_lines(alley_t(0.4), tolerance_m=1.0)
    assert net.noding == nw.Noding(split_junctions=1, apart_crossings=0)
    assert net.n_nodes == 4 and net.dropped_nodes == 0
    assert node_at(net, 100, 0, within_m=0.5) is not None  # the new junction
    # from the alley's far end to either end of the street: 79.6 m of alley and 100 m
    assert metres(net, (100, 80), (0, 0)) == pytest.approx(80 - 0.4 + 100, abs=0.5)
    assert metres(net, (200, 0), (100, 80)) == pytest.approx(100 + 80 - 0.4, abs=0.5)
    # the street's length is kept, in two pieces
    assert net.length.sum() == pytest.approx(2 * (200 + 79.6), abs=1.0)


def test_without_splitting_the_alley_is_left_out() -> None:
    ends_only = nw.from_lines(alley_t(0.4), tolerance_m=1.0, split=False)
    assert ends_only.noding == nw.Noding()
    assert ends_only.n_nodes == 2 and ends_only.dropped_nodes == 2
    # beyond the tolerance nothing is joined either way
    far = nw.from_lines(alley_t(3.0), tolerance_m=1.0)
    assert far.noding == nw.Noding() and far.dropped_nodes == 2


# -- crossings: at grade joined, across levels apart -----------------------------------

def crossing(level: int) -> gpd.GeoDataFrame:
    """Street A from (0, 0) to (200, 0) and street B from (100, -100) to (100, 100)
    crossing it with no shared point; ramps join B's ends to A's ends, so either way
    the network is one piece."""
    return frame([[(0, 0), (200, 0)], [(100, -100), (100, 100)],
                  [(100, 100), (0, 0)], [(100, -100), (200, 0)]],
                 name=["A", "B", "Ramp 1", "Ramp 2"], level=[0, level, 0, 0])


def test_a_bridge_crossing_stays_apart_and_an_at_grade_crossing_is_joined() -> None:
    ramp = float(np.hypot(100, 100))
    bridge = nw.from_lines(crossing(level=1))
    assert bridge.noding == nw.Noding(split_junctions=0, apart_crossings=1)
    assert node_at(bridge, 100, 0, within_m=5) is None
    # from under the bridge's south end to (0, 0): round by a ramp and A, not down onto A
    assert metres(bridge, (100, -100), (0, 0)) == pytest.approx(ramp + 200, abs=0.01)
    at_grade = nw.from_lines(crossing(level=0))
    assert at_grade.noding == nw.Noding(split_junctions=1, crossings_joined=1)
    assert node_at(at_grade, 100, 0) is not None
    assert metres(at_grade, (100, -100), (0, 0)) == pytest.approx(100 + 100, abs=0.01)
    # an empty level is level 0
    unset = nw.from_lines(crossing(level=0).assign(level=[None, None, None, None]))
    assert unset.noding == at_grade.noding


def test_lines_on_different_levels_still_join_at_a_shared_end() -> None:
    # a bridge coming down to a street's end: its end is shared, so they join
    streets = frame([[(0, 0), (100, 0)], [(100, 0), (200, 0)]], level=[1, 0])
    net = nw.from_lines(streets)
    assert net.noding == nw.Noding()
    assert net.n_nodes == 3 and net.dropped_nodes == 0
    # but a bridge's end over a street's middle does not come down onto it
    over = frame([[(0, 0), (200, 0)], [(100, 0.3), (100, 100)]], level=[0, 1])
    net = nw.from_lines(over)
    assert net.noding == nw.Noding(split_junctions=0, apart_crossings=1)
    assert net.n_nodes == 2 and net.dropped_nodes == 2


def test_the_counts_are_said_in_plain_words() -> None:
    text = nw.Noding(split_junctions=3, crossings_joined=1, apart_crossings=2).describe()
    assert text.startswith("3 junction(s) added where a street meets another's middle")
    assert "1 of them where two streets cross: if one passes over the other" in text
    assert "2 crossing(s) left unjoined because the streets are on different levels" in text
    assert "bridge" in text
    assert "of them" not in nw.Noding(split_junctions=2).describe()
    assert nw.Noding().describe() == ("no junction needed adding: the streets meet only at "
                                      "their ends")


# -- one-way streets --------------------------------------------------------------------

def test_a_shortest_path_goes_around_a_one_way_street_against_its_direction() -> None:
    # a 100 m square: the south side drawn west to east and one-way that way; the east
    # side drawn north to south with "reverse" (so travel is south to north only)
    square = frame([[(0, 0), (100, 0)], [(100, 100), (100, 0)], [(100, 100), (0, 100)],
                    [(0, 100), (0, 0)]], oneway=["yes", "reverse", "no", None])
    net = nw.from_lines(square)
    assert metres(net, (0, 0), (100, 0)) == pytest.approx(100)   # with the one-way
    assert metres(net, (100, 0), (0, 0)) == pytest.approx(300)   # round the block
    assert metres(net, (100, 0), (100, 100)) == pytest.approx(100)  # "reverse" allows this
    assert metres(net, (100, 100), (100, 0)) == pytest.approx(300)  # and not this
    both = nw.from_lines(square.assign(oneway="no"))
    assert metres(both, (100, 0), (0, 0)) == pytest.approx(100)


def test_the_stores_streets_keep_their_one_way_codes_and_levels(store: object) -> None:
    from layers.schema import Layer
    from layers.store import Store

    assert isinstance(store, Store)
    square = frame([[(0, 0), (100, 0)], [(100, 100), (100, 0)], [(100, 100), (0, 100)],
                    [(0, 100), (0, 0)], [(50, -50), (50, 50)]],
                   id=["s", "e", "n", "w", "bridge"],
                   oneway=["yes", "reverse", "no", None, "no"], level=[0, 0, 0, None, 1])
    store.add(Layer.STREETS, square.to_crs(4326))
    stored = store.read(Layer.STREETS)
    assert stored["oneway"].tolist() == ["yes", "reverse", "no", None, "no"]
    net = nw.from_lines(stored)
    assert net.noding == nw.Noding(apart_crossings=1)  # the bridge over the south side
    assert metres(net, (100, 0), (0, 0)) == pytest.approx(300, abs=0.5)
    assert metres(net, (100, 100), (100, 0)) == pytest.approx(300, abs=0.5)


def grid(seed: int) -> tuple[gpd.GeoDataFrame, nx.DiGraph]:
    """A 4 x 4 grid of 100 m blocks drawn as whole rows and columns (not split at the
    junctions), each line drawn one way or the other with a random one-way code; and
    the reference: a networkx graph of the same streets block by block, its arcs put in
    here by hand from what the codes mean."""
    rng = np.random.default_rng(seed)
    lines, codes, ref = [], [], nx.DiGraph()
    for k, horizontal in itertools.product(range(4), (True, False)):
        pts = [(x * 100.0, k * 100.0) if horizontal else (k * 100.0, x * 100.0)
               for x in range(4)]
        if rng.random() < 0.5:
            pts = pts[::-1]
        code = rng.choice(["no", "no", "yes", "reverse"])
        lines.append(pts)
        codes.append(code)
        for a, b in itertools.pairwise(pts):
            if code in ("no", "yes"):
                ref.add_edge(a, b, weight=100.0)
            if code in ("no", "reverse"):
                ref.add_edge(b, a, weight=100.0)
    return frame(lines, oneway=codes), ref


@pytest.mark.parametrize("seed", range(8))
def test_one_way_codes_on_unnoded_lines_agree_with_networkx(seed: int) -> None:
    streets, ref = grid(seed)
    net = nw.from_lines(streets)
    # every junction but the corners was made by splitting whole rows and columns: 8 Ts
    # on the sides, 4 crossings inside
    assert net.noding == nw.Noding(split_junctions=12, crossings_joined=4)
    biggest = max(nx.strongly_connected_components(ref), key=len)
    assert net.n_nodes == len(biggest)
    lengths = dict(nx.all_pairs_dijkstra_path_length(ref.subgraph(biggest)))
    pts = sorted(biggest)
    index = [node_at(net, x, y) for x, y in pts]
    assert None not in index
    dist, _ = net.shortest(index, KMH)
    got = dist[:, index] * 1000
    want = np.array([[lengths[a][b] for b in pts] for a in pts])
    np.testing.assert_allclose(got, want, atol=1e-6)


# -- real data ---------------------------------------------------------------------------

def osm_ways_as_lines(path: Path) -> gpd.GeoDataFrame:
    """Each OpenStreetMap way a bicycle may use as one line, as a city export of OSM
    ways gives them: a way runs on through the junctions it shares with other ways (at
    its inner nodes), so only noding can join them. Read here with the standard
    library, independently of osmnx."""
    root = ET.parse(path).getroot()
    where = {n.get("id"): (float(n.get("lon", "nan")), float(n.get("lat", "nan")))
             for n in root.iter("node")}
    rows = []
    for way in root.iter("way"):
        tags = {t.get("k", ""): t.get("v", "") for t in way.iter("tag")}
        pts = [where[nd.get("ref")] for nd in way.iter("nd") if nd.get("ref") in where]
        if not nw.bike_allowed(dict(tags)) or len(pts) < 2:
            continue
        rows.append({"name": tags.get("name", ""), "highway": tags["highway"],
                     "oneway": {"yes": "yes", "-1": "reverse"}.get(tags.get("oneway", ""),
                                                                   "no"),
                     "level": int(tags.get("layer", "0")), "geometry": shapely.LineString(pts)})
    return gpd.GeoDataFrame(rows, crs=4326)


def share_in_network(net: nw.Network, lines: gpd.GeoSeries) -> float:
    """The share of ``lines``' length lying on the network's edges (within 0.5 m)."""
    edges = gpd.GeoSeries([shapely.LineString(c) for c in net.lines], crs=net.crs)
    cover = edges.buffer(0.5).union_all()
    lines = lines.to_crs(net.crs)
    return float(lines.intersection(cover).length.sum() / lines.length.sum())


@pytest.mark.realdata
def test_west_oakland_ways_join_as_osmnx_joins_them(real_data: Path) -> None:
    """The OSM extract's 30 bicycle ways, each one line through its junctions.

    Joined at their ends only, the largest strongly connected part holds 14% of their
    length and none of the service ways (the alley and parking aisles); noded, 84% and
    22% (the rest are one-way aisles and dead ends at the extract's edge, which no one
    can drive out of and back). osmnx, joining the same ways by their shared node ids,
    keeps the same shares: the reference."""
    path = real_data / "osm_west_oakland" / "West-Oakland.osm"
    assert path.exists(), f"{path} is missing"
    ways = osm_ways_as_lines(path)
    assert len(ways) == 30
    service = ways.geometry[ways["highway"] == "service"]
    ends_only = nw.from_lines(ways, split=False)
    noded = nw.from_lines(ways)
    reference = nw.from_osm_xml(path)
    before, after = share_in_network(ends_only, ways.geometry), share_in_network(noded,
                                                                                   ways.geometry)
    assert before == pytest.approx(0.139, abs=0.01)
    assert after == pytest.approx(0.84, abs=0.01)
    assert after == pytest.approx(share_in_network(reference, ways.geometry), abs=0.01)
    assert share_in_network(ends_only, service) == 0.0
    assert share_in_network(noded, service) == pytest.approx(0.216, abs=0.01)
    assert share_in_network(noded, service) == pytest.approx(
        share_in_network(reference, service), abs=0.01)
    assert noded.noding is not None and noded.noding.split_junctions == 31
    print(f"\nWest Oakland ways: {noded.noding.describe()}; in the network "
          f"{before:.0%} -> {after:.0%} of the length")


@pytest.mark.realdata
def test_cambridge_centrelines_are_nearly_noded_already(real_data: Path) -> None:
    """Cambridge's file is split at its junctions but for a few places: noding adds 8
    junctions. Five are ends on another street's middle (Boardman Pl on Boardman St,
    Elmwood Ave on itself, the ends of the Longfellow and Gilmore bridges); three are
    crossings with no shared point (Memorial Drive with itself near Massachusetts
    Avenue, and with Brookline St by the BU Bridge), which the file, having no level,
    cannot mark as passing over or under: the description says to check them.
    Splitting keeps the length, but for the ends moved onto their junctions (under the
    1 m tolerance each)."""
    path = real_data / "cambridge" / "TRANS_Centerlines.geojson"
    assert path.exists(), f"{path} is missing"
    lines = gpd.read_file(path)
    net = nw.from_lines(lines)
    ends_only = nw.from_lines(lines, split=False)
    assert net.noding == nw.Noding(split_junctions=8, crossings_joined=3)
    assert "3 of them where two streets cross" in net.noding.describe()
    # a T adds no junction (the street's end becomes it); a crossing adds one
    assert net.n_nodes == ends_only.n_nodes + 3
    assert abs(net.length.sum() - ends_only.length.sum()) < 8 * 2 * 1.0
