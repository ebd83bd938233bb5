"""Street networks for bike patrols.

A :class:`Network` is a directed graph in a metric CRS: nodes with coordinates,
edges with a length, a line and the OpenStreetMap ``lit`` value when known.
It is built from

* an OpenStreetMap XML extract, read offline by osmnx (:func:`from_osm_xml`),
  keeping the ways a bicycle may use; or
* a city centreline file or the store's streets layer (:func:`from_lines`):
  lines joined where their ends meet within a snapping tolerance.

Only the largest strongly connected component is kept, so every node can reach
every other. Shortest paths come from scipy's sparse-graph Dijkstra.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import scipy.sparse as sp
import shapely
from numpy.typing import NDArray
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

from cpted import i18n
from cpted.i18n import _
from layers.crs import WGS84, metric_crs
from layers.errors import UnusableInputError

#: Ways a bicycle may not use (OSM ``highway`` values).
#: Largest street-network file the Patrol page takes, in MB (of 1024 x 1024 bytes).
MAX_UPLOAD_MB = 50
NO_BIKE_HIGHWAYS = frozenset({
    "motorway", "motorway_link", "trunk", "trunk_link", "steps", "construction", "proposed",
    "raceway", "bus_guideway", "escape", "abandoned", "platform", "corridor", "elevator",
    "bridleway", "via_ferrata", "planned", "razed",
})
NO_ACCESS = frozenset({"no", "private"})
OSM_TAGS = ("highway", "name", "oneway", "lit", "bicycle", "access", "oneway:bicycle",
            "cycleway", "service", "area")


class NetworkError(UnusableInputError):
    """A street network cannot be built from what was given; the message says why."""


@dataclass
class Network:
    crs: pyproj.CRS
    xy: NDArray[np.float64]          # node coordinates, metric
    u: NDArray[np.int64]             # edge tails
    v: NDArray[np.int64]             # edge heads
    length: NDArray[np.float64]      # metres
    lines: list[NDArray[np.float64]]  # each edge's coordinates from u to v, metric
    lit: list[str]                   # OSM lit value or ""
    name: list[str]
    dropped_nodes: int = 0
    source: str = ""
    #: What joining centrelines did (:func:`from_lines`); ``None`` for OpenStreetMap.
    noding: Noding | None = None

    def __post_init__(self) -> None:
        self._tree = cKDTree(self.xy) if len(self.xy) else None
        self._lonlat: NDArray[np.float64] | None = None

    @property
    def n_nodes(self) -> int:
        return len(self.xy)

    @property
    def n_edges(self) -> int:
        return len(self.u)

    @property
    def lonlat(self) -> NDArray[np.float64]:
        if self._lonlat is None:
            t = pyproj.Transformer.from_crs(self.crs, WGS84, always_xy=True)
            lon, lat = t.transform(self.xy[:, 0], self.xy[:, 1])
            self._lonlat = np.column_stack([lon, lat])
        return self._lonlat

    def describe(self) -> str:
        km = self.length.sum() / 1000
        lit = sum(1 for x in self.lit if x == "yes")
        said = _("{nodes} junctions and {edges} one-way links ({km} km)").format(
            nodes=i18n.number(self.n_nodes), edges=i18n.number(self.n_edges),
            km=i18n.number(km, digits=1))
        if lit:
            said += _(", {n} links tagged lit").format(n=i18n.number(lit))
        if self.dropped_nodes:
            said += _("; {n} junction(s) outside the largest connected part were left "
                      "out").format(n=i18n.number(self.dropped_nodes))
        return said

    def matrix(self, speed_kmh: float) -> sp.csr_matrix:
        """Travel minutes along each edge at ``speed_kmh``; parallel edges keep the fastest."""
        if not speed_kmh > 0:
            raise NetworkError(f"the speed must be positive, got {speed_kmh} km/h")
        minutes = self.length / (speed_kmh * 1000 / 60)
        order = np.lexsort((minutes, self.v, self.u))
        u, v, m = self.u[order], self.v[order], minutes[order]
        first = np.ones(len(u), dtype=bool)
        first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
        # zero-length edges would vanish from a sparse matrix; give them a tiny cost
        m = np.maximum(m[first], 1e-9)
        return sp.csr_matrix((m, (u[first], v[first])), shape=(self.n_nodes, self.n_nodes))

    def nearest(self, xy: NDArray[np.float64]) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """Nearest node to each metric point, and its distance in metres."""
        if self._tree is None:
            raise NetworkError("the network is empty")
        d, i = self._tree.query(np.asarray(xy, dtype=float).reshape(-1, 2))
        return np.asarray(i, dtype=np.int64), np.asarray(d, dtype=float)

    def nearest_lonlat(self, lon: Sequence[float], lat: Sequence[float]
                       ) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        t = pyproj.Transformer.from_crs(WGS84, self.crs, always_xy=True)
        x, y = t.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
        return self.nearest(np.column_stack([x, y]))

    def shortest(self, sources: Sequence[int], speed_kmh: float
                 ) -> tuple[NDArray[np.float64], NDArray[np.int32]]:
        """Travel minutes and predecessors from each source to every node."""
        dist, pred = dijkstra(self.matrix(speed_kmh), directed=True,
                              indices=np.asarray(sources, dtype=np.int64),
                              return_predecessors=True)
        return np.atleast_2d(dist), np.atleast_2d(pred)

    def place_name(self, node: int) -> str:
        """A name for a junction from the streets meeting there ("Oak St & 5th St")."""
        if not hasattr(self, "_names"):
            names: dict[int, list[str]] = {}
            for a, b, nm in zip(self.u.tolist(), self.v.tolist(), self.name, strict=True):
                if nm:
                    for n in (a, b):
                        if nm not in names.setdefault(n, []):
                            names[n].append(nm)
            self._names = names
        found = self._names.get(int(node), [])
        if not found:
            lon, lat = self.lonlat[int(node)]
            return _("Junction at {lon}, {lat}").format(lon=f"{lon:.5f}", lat=f"{lat:.5f}")
        return " & ".join(sorted(found)[:2]) if len(found) > 1 else f"{found[0]}"

    def edge_index(self) -> dict[tuple[int, int], int]:
        """The shortest edge for each (u, v) pair."""
        best: dict[tuple[int, int], int] = {}
        for k in np.argsort(-self.length, kind="stable"):
            best[(int(self.u[k]), int(self.v[k]))] = int(k)
        return best

    def path_line(self, nodes: Sequence[int], edges: dict[tuple[int, int], int] | None = None
                  ) -> NDArray[np.float64]:
        """Metric coordinates along the edges joining consecutive ``nodes``."""
        edges = edges if edges is not None else self.edge_index()
        if len(nodes) == 0:
            return np.empty((0, 2))
        parts = [self.xy[[nodes[0]]]]
        for a, b in itertools.pairwise(nodes):
            if a == b:
                continue
            k = edges.get((int(a), int(b)))
            if k is None:
                raise NetworkError(f"no edge from node {a} to node {b}")
            parts.append(self.lines[k][1:])
        return np.vstack(parts)

    def to_lonlat(self, xy: NDArray[np.float64]) -> NDArray[np.float64]:
        t = pyproj.Transformer.from_crs(self.crs, WGS84, always_xy=True)
        lon, lat = t.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    def edges_frame(self) -> gpd.GeoDataFrame:
        """Edges as WGS84 lines (for maps and checks)."""
        return gpd.GeoDataFrame(
            {"u": self.u, "v": self.v, "length_m": self.length, "lit": self.lit,
             "name": self.name},
            geometry=gpd.GeoSeries([shapely.LineString(c) for c in self.lines],
                                   crs=self.crs)).to_crs(WGS84)


def path_nodes(pred: NDArray[np.int32], source: int, target: int) -> list[int]:
    """Nodes from ``source`` to ``target`` read back from a Dijkstra predecessor row."""
    if source == target:
        return [source]
    out = [target]
    node = target
    while node != source:
        node = int(pred[node])
        if node < 0:
            raise NetworkError(f"node {target} cannot be reached from node {source}")
        out.append(node)
    return out[::-1]


def _largest_strong(n: int, u: NDArray[np.int64], v: NDArray[np.int64]) -> NDArray[np.bool_]:
    if n == 0:
        return np.zeros(0, dtype=bool)
    adj = sp.csr_matrix((np.ones(len(u)), (u, v)), shape=(n, n))
    _, labels = connected_components(adj, directed=True, connection="strong")
    biggest = np.bincount(labels).argmax()
    strong: NDArray[np.bool_] = labels == biggest
    return strong


def assemble(crs: pyproj.CRS, xy: NDArray[np.float64], u: Iterable[int], v: Iterable[int],
              lines: list[NDArray[np.float64]], lit: list[str], name: list[str],
              source: str) -> Network:
    """A network from node coordinates and edge lists, keeping the largest strongly
    connected part and renumbering its nodes."""
    u_arr = np.asarray(list(u), dtype=np.int64)
    v_arr = np.asarray(list(v), dtype=np.int64)
    if len(u_arr) == 0:
        raise NetworkError(f"{source}: no street a bicycle may use was found")
    keep_node = _largest_strong(len(xy), u_arr, v_arr)
    new_id = np.full(len(xy), -1, dtype=np.int64)
    new_id[keep_node] = np.arange(keep_node.sum())
    keep_edge = keep_node[u_arr] & keep_node[v_arr]
    ke = np.flatnonzero(keep_edge)
    length = np.array([shapely.length(shapely.linestrings(lines[k])) for k in ke], dtype=float)
    return Network(crs, xy[keep_node], new_id[u_arr[ke]], new_id[v_arr[ke]], length,
                   [lines[k] for k in ke], [lit[k] for k in ke], [name[k] for k in ke],
                   dropped_nodes=int((~keep_node).sum()), source=source)


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, list):
        return ";".join(str(x) for x in value)
    return str(value)


def bike_allowed(tags: dict[str, object]) -> bool:
    """Whether a way with these OSM tags is open to bicycles."""
    highways = set(_text(tags.get("highway")).split(";")) - {""}
    if not highways or highways & NO_BIKE_HIGHWAYS:
        return False
    bicycle = _text(tags.get("bicycle"))
    if bicycle in ("no", "dismount", "use_sidepath"):
        return False
    access = _text(tags.get("access"))
    if access in NO_ACCESS and bicycle not in ("yes", "designated", "permissive"):
        return False
    return _text(tags.get("area")) != "yes"


def from_osm_xml(path: str | Path) -> Network:
    """A bike network from an OpenStreetMap XML file (read offline by osmnx).

    One-way streets stay one-way unless ``oneway:bicycle=no``; the ``lit`` tag is
    kept on every edge.
    """
    import osmnx as ox

    path = Path(path)
    if not path.is_file():
        raise NetworkError(f"{path}: no such file")
    tags = list(dict.fromkeys([*ox.settings.useful_tags_way, *OSM_TAGS]))
    old = ox.settings.useful_tags_way
    ox.settings.useful_tags_way = tags
    try:
        g = ox.graph_from_xml(path, bidirectional=False, simplify=True, retain_all=True)
    except Exception as exc:  # osmnx raises plain errors for unreadable XML
        raise NetworkError(f"{path.name}: not a readable OpenStreetMap XML file ({exc})") from exc
    finally:
        ox.settings.useful_tags_way = old
    if g.number_of_nodes() == 0:
        raise NetworkError(f"{path.name}: no streets in this extract")
    nodes = list(g.nodes)
    lon = np.array([g.nodes[n]["x"] for n in nodes], dtype=float)
    lat = np.array([g.nodes[n]["y"] for n in nodes], dtype=float)
    pts = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs=WGS84)
    crs = metric_crs(pts)
    fwd = pyproj.Transformer.from_crs(WGS84, crs, always_xy=True)
    x, y = fwd.transform(lon, lat)
    xy = np.column_stack([x, y])
    index = {n: i for i, n in enumerate(nodes)}
    u, v, lines, lit, name = [], [], [], [], []
    seen: set[tuple[int, int, tuple[float, ...]]] = set()

    def add(a: int, b: int, line: NDArray[np.float64], data: dict[str, object]) -> None:
        key = (a, b, tuple(np.round(line.ravel(), 2)))
        if key in seen:
            return
        seen.add(key)
        u.append(a)
        v.append(b)
        lines.append(line)
        lit.append(_text(data.get("lit")))
        name.append(_text(data.get("name")))

    for a_id, b_id, data in g.edges(data=True):
        if not bike_allowed(data):
            continue
        a, b = index[a_id], index[b_id]
        if "geometry" in data:
            gx, gy = fwd.transform(*np.asarray(data["geometry"].coords).T)
            line = np.column_stack([gx, gy])
        else:
            line = xy[[a, b]]
        add(a, b, line, data)
        contraflow = _text(data.get("oneway:bicycle")) == "no"
        if contraflow:
            add(b, a, line[::-1], data)
    return assemble(crs, xy, u, v, lines, lit, name, f"OpenStreetMap extract {path.name}")


#: One-way codes read from a centreline file's ``oneway`` column (the store's own are
#: yes, no and reverse; OpenStreetMap writes -1 for "against the line's direction").
ONEWAY_FORWARD = frozenset({"yes", "true", "1", "y", "t"})
ONEWAY_REVERSE = frozenset({"reverse", "-1", "r"})


@dataclass(frozen=True)
class Noding:
    """What joining the centrelines did, beyond their shared ends.

    ``split_junctions``: junctions made where a line met another's middle with no shared
    point (a T, or two lines crossing), the other line, or both, split there.
    ``crossings_joined``: how many of those are two lines crossing, which in a file
    otherwise split at its junctions may be a bridge the file does not mark.
    ``apart_crossings``: places where two lines on different levels met or crossed
    away from their ends (a bridge over a street, a street over a tunnel), left unjoined.
    """

    split_junctions: int = 0
    crossings_joined: int = 0
    apart_crossings: int = 0

    def describe(self) -> str:
        """The counts in a sentence for people (the Patrol page, ``cpted route``)."""
        if self.split_junctions:
            joined = _("{n} junction(s) added where a street meets another's middle with no "
                       "shared point (the street split there)").format(
                n=i18n.number(self.split_junctions))
            if self.crossings_joined:
                joined += _(", {n} of them where two streets cross: if one passes over the "
                            "other, give the streets a level").format(
                    n=i18n.number(self.crossings_joined))
        else:
            joined = _("no junction needed adding: the streets meet only at their ends")
        apart = (_("; {n} crossing(s) left unjoined because the streets are on different "
                   "levels (a bridge, underpass or tunnel)").format(
            n=i18n.number(self.apart_crossings)) if self.apart_crossings else "")
        return joined + apart


#: How a line is cut: where another's end meets it (a T), or where another crosses it.
_TEE, _CROSS = 1, 2


def _clusters(points: NDArray[np.float64], tol: float) -> NDArray[np.int64]:
    """A label per point: points within ``tol`` of each other (transitively) share one."""
    m = len(points)
    if m == 0:
        return np.zeros(0, dtype=np.int64)
    pairs = cKDTree(points).query_pairs(max(tol, 1e-6), output_type="ndarray")
    adj = sp.coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])) if len(pairs)
                        else (np.zeros(0), (np.zeros(0, int), np.zeros(0, int))), shape=(m, m))
    _, label = connected_components(adj, directed=False)
    return np.asarray(label, dtype=np.int64)


def _split_points(geoms: NDArray[np.object_], level: NDArray[np.int64], tol: float
                  ) -> tuple[list[list[tuple[float, int]]], int]:
    """Where each line must be split to join the lines meeting its middle, as (distance
    along it, :data:`_TEE` or :data:`_CROSS`), and how many meetings were left apart
    for their levels.

    A line's end within ``tol`` of another line's middle (more than ``tol`` along it
    from both of that line's ends) splits the other line at the nearest point; two lines
    crossing away from their ends split each other at the crossing. Either only when the
    two are on the same level.
    """
    n = len(geoms)
    at: list[list[tuple[float, int]]] = [[] for _ in range(n)]
    length = shapely.length(geoms)
    tree = shapely.STRtree(geoms)
    ends = np.concatenate([shapely.get_point(geoms, 0), shapely.get_point(geoms, -1)])
    owner = np.concatenate([np.arange(n), np.arange(n)])
    apart: list[NDArray[np.float64]] = []
    # a line's end on another's middle (a T, or an alley stopping at a street)
    qe, ql = tree.query(ends, predicate="dwithin", distance=tol)
    keep = owner[qe] != ql
    qe, ql = qe[keep], ql[keep]
    d = shapely.line_locate_point(geoms[ql], ends[qe])
    middle = (d > tol) & (d < length[ql] - tol)
    qe, ql, d = qe[middle], ql[middle], d[middle]
    same = level[owner[qe]] == level[ql]
    for line, dist in zip(ql[same].tolist(), d[same].tolist(), strict=True):
        at[line].append((dist, _TEE))
    if (~same).any():
        apart.append(shapely.get_coordinates(ends[qe[~same]]))
    # crossings away from both lines' ends (an X with no shared point)
    a, b = tree.query(geoms, predicate="crosses")
    keep = a < b
    a, b = a[keep], b[keep]
    if len(a):
        parts, which = shapely.get_parts(shapely.intersection(geoms[a], geoms[b]),
                                         return_index=True)
        point = shapely.get_type_id(parts) == 0
        parts, which = parts[point], which[point]
        pa, pb = a[which], b[which]
        near_end = np.zeros(len(parts), dtype=bool)
        for line in (pa, pb):
            for k in (0, n):
                near_end |= shapely.distance(parts, ends[line + k]) <= tol
        parts, pa, pb = parts[~near_end], pa[~near_end], pb[~near_end]
        same = level[pa] == level[pb]
        for line_a, line_b, pt in zip(pa[same].tolist(), pb[same].tolist(), parts[same],
                                      strict=True):
            at[line_a].append((float(shapely.line_locate_point(geoms[line_a], pt)), _CROSS))
            at[line_b].append((float(shapely.line_locate_point(geoms[line_b], pt)), _CROSS))
        if (~same).any():
            apart.append(shapely.get_coordinates(parts[~same]))
    pts = np.vstack(apart) if apart else np.zeros((0, 2))
    return at, len(np.unique(_clusters(pts, tol))) if len(pts) else 0


def _cut(c: NDArray[np.float64], at: Sequence[tuple[float, int]], tol: float
         ) -> list[tuple[NDArray[np.float64], int, int]]:
    """``c`` (a line's coordinates) cut at ``at`` (distances along it, with how each cut
    was made); each piece with how its start and its end were made (0: the line's own
    end). Cuts closer than ``tol`` are one; a crossing among them makes it a crossing."""
    if not at:
        return [(c, 0, 0)]
    cum = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(c, axis=0).T))])
    total = cum[-1]
    cuts: list[list[float]] = []  # [distance, kind]
    for x, kind in sorted(at):
        if not tol < x < total - tol:
            continue
        if cuts and x - cuts[-1][0] <= tol:
            cuts[-1][1] = max(cuts[-1][1], kind)
        else:
            cuts.append([x, kind])
    if not cuts:
        return [(c, 0, 0)]

    def point(x: float) -> NDArray[np.float64]:
        k = int(np.clip(np.searchsorted(cum, x, side="right") - 1, 0, len(c) - 2))
        span = cum[k + 1] - cum[k]
        t = 0.0 if span <= 0 else (x - cum[k]) / span
        return np.asarray(c[k] + t * (c[k + 1] - c[k]), dtype=float)

    out = []
    bounds = [(0.0, 0), *((x, int(kind)) for x, kind in cuts), (float(total), 0)]
    for (lo, k_lo), (hi, k_hi) in itertools.pairwise(bounds):
        inner = c[(cum > lo) & (cum < hi)]
        piece = np.vstack([point(lo) if k_lo else c[:1], inner,
                           point(hi) if k_hi else c[-1:]])
        out.append((piece, k_lo, k_hi))
    return out


def _codes(frame: pd.DataFrame, column: str | None) -> pd.Series:
    if not column or column not in frame:
        return pd.Series("", index=frame.index)
    return frame[column].map(_text).str.strip().str.lower()


def from_lines(lines: gpd.GeoDataFrame, *, tolerance_m: float = 1.0, source: str = "streets",
               oneway_column: str | None = "oneway", level_column: str | None = "level",
               split: bool = True) -> Network:
    """A network from street centrelines, joined where they meet within ``tolerance_m``.

    Lines join where their ends meet, and where a line's end meets another line's middle
    or two lines cross without a shared point (the other line, or both, split there), so
    an alley stopping at the side of a street, or a city file not split at every
    junction, still makes one network. Lines on different levels (``level_column``:
    an integer, empty for 0; above 0 a bridge, below 0 a tunnel) join only where they
    share an end, so a bridge does not meet the street it passes over.
    :attr:`Network.noding` says how many junctions splitting added and how many
    crossings were left apart. ``split=False`` joins lines at their ends only (for a
    file known to be split at every junction already, or to compare).

    ``oneway_column`` holds the one-way code: ``yes`` (also true, 1) only from the
    line's first point to its last, ``reverse`` (also -1) only from its last to its
    first, anything else both ways.

    Raises
    ------
    NetworkError
        The frame has no CRS, holds no lines, or the tolerance is negative.
    """
    if lines.crs is None:
        raise NetworkError(f"{source}: the lines have no coordinate reference system")
    geoms = lines.geometry
    kinds = set(geoms.geom_type.dropna())
    if not kinds or not kinds <= {"LineString", "MultiLineString"}:
        raise NetworkError(f"{source}: a street network needs lines, found "
                           f"{', '.join(sorted(kinds)) or 'no geometry'}")
    if not tolerance_m >= 0:
        raise NetworkError(f"the snapping tolerance must be zero or more, got {tolerance_m}")
    tol = max(tolerance_m, 1e-6)
    crs = metric_crs(lines) if lines.crs.is_geographic else pyproj.CRS(lines.crs)
    frame = lines.to_crs(crs)
    frame = frame[~frame.geometry.is_empty & frame.geometry.notna()]
    code = _codes(frame, oneway_column)
    direction = np.where(code.isin(ONEWAY_FORWARD), 1, np.where(code.isin(ONEWAY_REVERSE),
                                                                 -1, 0))
    levels = (pd.to_numeric(frame[level_column], errors="coerce").fillna(0).round()
              .astype(np.int64) if level_column and level_column in frame
              else pd.Series(0, index=frame.index, dtype=np.int64))
    names = (frame["name"] if "name" in frame else pd.Series("", frame.index)).map(_text)
    lit_col = (frame["lit"] if "lit" in frame else pd.Series("", frame.index)).map(_text)
    parts = frame.assign(_dir=direction, _level=levels.to_numpy(), _name=names,
                         _lit=lit_col).explode(index_parts=False)
    coords = [np.asarray(g.coords, dtype=float)[:, :2] for g in parts.geometry.values]
    usable = [k for k, c in enumerate(coords) if len(c) >= 2]
    if not usable:
        raise NetworkError(f"{source}: no usable lines")
    part_geoms = np.array([shapely.LineString(coords[k]) for k in usable], dtype=object)
    if split:
        at, apart = _split_points(part_geoms,
                                  parts["_level"].to_numpy(dtype=np.int64)[usable], tol)
    else:
        at, apart = [[] for _ in usable], 0
    pieces: list[tuple[int, NDArray[np.float64], int, int]] = []
    for j, k in enumerate(usable):
        pieces.extend((k, *piece) for piece in _cut(coords[k], at[j], tol))
    ends = np.vstack([np.vstack([c[0], c[-1]]) for _, c, _, _ in pieces])
    # snap: ends within the tolerance share a node (union of close pairs)
    label = _clusters(ends, tol)
    n_nodes = int(label.max()) + 1
    xy = np.zeros((n_nodes, 2))
    np.add.at(xy, label, ends)
    xy /= np.bincount(label, minlength=n_nodes)[:, None]
    cut = np.array([kind for _, _, k0, k1 in pieces for kind in (k0, k1)], dtype=np.int64)
    noding = Noding(split_junctions=len(np.unique(label[cut > 0])),
                    crossings_joined=len(np.unique(label[cut == _CROSS])),
                    apart_crossings=apart)
    u, v, out_lines, lit, name = [], [], [], [], []
    flags = parts["_dir"].to_numpy()
    pnames = parts["_name"].to_list()
    plits = parts["_lit"].to_list()
    for i, (k, c, _name, _lit) in enumerate(pieces):
        a, b = int(label[2 * i]), int(label[2 * i + 1])
        if a == b and shapely.length(shapely.linestrings(c)) < tol:
            continue
        line = c.copy()
        line[0], line[-1] = xy[a], xy[b]
        one = int(flags[k])
        if one >= 0:  # with the line's direction
            u.append(a)
            v.append(b)
            out_lines.append(line)
            lit.append(plits[k])
            name.append(pnames[k])
        if one <= 0:  # against it
            u.append(b)
            v.append(a)
            out_lines.append(line[::-1].copy())
            lit.append(plits[k])
            name.append(pnames[k])
    net = assemble(crs, xy, u, v, out_lines, lit, name, source)
    net.noding = noding
    return net


def read_network(path: str | Path, *, tolerance_m: float = 1.0) -> Network:
    """A network from a file: OSM XML (.osm, .xml) or lines (.geojson, .gpkg, .parquet)."""
    path = Path(path)
    if not path.is_file():
        raise NetworkError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix in (".osm", ".xml"):
        return from_osm_xml(path)
    if suffix in (".parquet", ".geoparquet"):
        frame = gpd.read_parquet(path)
    elif suffix in (".geojson", ".json", ".gpkg"):
        frame = gpd.read_file(path, engine="pyogrio")
    else:
        raise NetworkError(f"{path.name}: use an OpenStreetMap .osm file or street lines as "
                           ".geojson, .gpkg or .parquet")
    return from_lines(frame, tolerance_m=tolerance_m, source=path.name)
