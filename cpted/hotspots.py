"""Hotspots: event grids, kernel density, Getis-Ord Gi* and how well hotspots predict.

Everything is computed in a metric CRS (the UTM zone of the data) on a grid of
square or hexagonal cells of equal area.

Rules this module states rather than hides:

* **Cell size** (:func:`cell_size_rule`): ``sqrt(A / n)``, the side of a cell
  that holds one event on average if the ``n`` events were spread at random over
  the study area ``A``. This is twice Clark and Evans' (1954) expected mean
  nearest-neighbour distance under complete spatial randomness, ``0.5 sqrt(A/n)``.
  It is never smaller than the observed mean nearest-neighbour distance between
  distinct event locations, it is rounded up to 5 m and it is enlarged when the
  area would need more than ``MAX_CELLS`` cells.
* **KDE bandwidth** (:func:`bandwidth_rule`): the quartic kernel's radius is the
  mean distance from each distinct event location to its 10th nearest other
  location (a k-th nearest-neighbour rule; k = 10 is our choice), and at least
  1.5 cells so each cell's surface reaches its neighbours.
* **Gi\\*** uses binary contiguity with the cell itself (queen's case, 8
  neighbours, for squares; 6 for hexagons). z-scores are the analytic ones
  (Getis and Ord 1992; Ord and Getis 1995); significance comes from esda's
  conditional permutation test: where the cell's statistic falls in its own
  permutation distribution (esda's ``p_z_sim``; see :func:`gi_star` for why not
  the rank pseudo p-value). :func:`cold_spot_check` says whether the grid can show a
  cold spot at all: on a sparse grid it cannot. esda's p-values are one-tailed in the
  direction of the observed value, so they are doubled for a two-sided test. The
  Benjamini-Hochberg false-discovery-rate threshold is found at each confidence
  level (90, 95, 99 %) and cells are binned like ArcGIS's Gi_Bin: +-3, +-2, +-1
  and 0.
* **Evaluation** (:func:`evaluate`): the top k % of cells by a method's score
  (ties broken by cell order) form the hotspot area ``a`` of the study area
  ``A``. Hit rate = n / N, the share of the later period's events inside it;
  PAI = (n / N) / (a / A) (Chainey, Tompson and Uhlig 2008); the recapture rate
  index RRI = (n2 / n1) / (N2 / N1), Levine's (2008) definition, with ``1`` the
  period that made the hotspots and ``2`` the later one; PEI* = n / n*, with n* the
  later events in the same number of cells that had the most of them (Hunt 2016, as
  the NIJ Real-Time Crime Forecasting Challenge scored it; White, Hunt and Green 2023).
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import scipy.sparse as sp
import shapely
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from cpted import i18n
from cpted.i18n import N_, _, ngettext
from layers.crs import WGS84, metric_crs
from layers.errors import UnusableInputError

Shape = Literal["square", "hex"]
MAX_CELLS = 250_000
#: Confidence levels and their Gi_Bin magnitudes, as ArcGIS bins them.
LEVELS: tuple[tuple[float, int], ...] = ((0.99, 3), (0.95, 2), (0.90, 1))
BIN_LABELS = {3: "Hot spot, 99% confidence", 2: "Hot spot, 95% confidence",
              1: "Hot spot, 90% confidence", 0: "Not significant",
              -1: "Cold spot, 90% confidence", -2: "Cold spot, 95% confidence",
              -3: "Cold spot, 99% confidence"}
#: The same labels for the catalogue, ``{level}`` the confidence (:func:`bin_label`).
BIN_WORDS = {3: N_("Hot spot, {level} confidence"), 2: N_("Hot spot, {level} confidence"),
             1: N_("Hot spot, {level} confidence"), 0: N_("Not significant"),
             -1: N_("Cold spot, {level} confidence"), -2: N_("Cold spot, {level} confidence"),
             -3: N_("Cold spot, {level} confidence")}
#: Each label's bin, to read a stored label back (``Hotspots.frame()``'s ``gi_label``).
LABEL_BINS = {label: b for b, label in BIN_LABELS.items()}
KNN_K = 10


def bin_label(gi_bin: int) -> str:
    """:data:`BIN_LABELS` of ``gi_bin`` in the language in use (the confidence written its
    way: ``"Punto caliente, 99 % de confianza"``)."""
    level = {conf for conf, magnitude in LEVELS if magnitude == abs(gi_bin)}
    words = _(BIN_WORDS[gi_bin])
    return words.format(level=i18n.percent(level.pop())) if level else words


def label_words(label: str) -> str:
    """A stored :data:`BIN_LABELS` label in the language in use; any other text as it is."""
    return bin_label(LABEL_BINS[label]) if label in LABEL_BINS else label


class HotspotError(UnusableInputError):
    """Hotspots cannot be computed from what was given; the message says why."""


# -- events ------------------------------------------------------------------

def events_xy(events: gpd.GeoDataFrame, crs: pyproj.CRS) -> NDArray[np.float64]:
    """Point coordinates of ``events`` in ``crs`` as an (n, 2) array."""
    if len(events) == 0:
        return np.empty((0, 2))
    if events.crs is None:
        events.to_crs(crs)  # refuses, as for any layer without a CRS
    xy: NDArray[np.float64] = shapely.get_coordinates(events.geometry.values)
    if pyproj.CRS(events.crs) == crs:
        return xy
    x, y = _transformer(pyproj.CRS(events.crs).to_wkt(), crs.to_wkt()).transform(
        xy[:, 0], xy[:, 1])
    return np.column_stack([x, y])


@functools.lru_cache(maxsize=16)
def _transformer(source: str, target: str) -> pyproj.Transformer:
    """One transformer per pair of CRSs (making one takes far longer than using it)."""
    return pyproj.Transformer.from_crs(source, target, always_xy=True)


# -- grid --------------------------------------------------------------------

_HEX_K = math.sqrt(3 * math.sqrt(3) / 2)  # hexagon side = size / _HEX_K has area size**2


@dataclass
class Grid:
    """Equal-area cells over a study area, in a metric CRS.

    ``size`` is the side of a square cell; a hexagonal cell has the same area,
    ``size ** 2``. Cells are kept only where their centre lies in the study
    area. ``row``/``col`` are the cells' places in the full lattice.
    """

    shape: Shape
    size: float
    crs: pyproj.CRS
    origin: tuple[float, float]
    nrows: int
    ncols: int
    row: NDArray[np.int64]
    col: NDArray[np.int64]
    area: shapely.Geometry  # study area, metric
    _index: NDArray[np.int64] = field(default_factory=lambda: np.empty((0, 0), np.int64),
                                      repr=False)

    def __post_init__(self) -> None:
        self._index = np.full((self.nrows, self.ncols), -1, dtype=np.int64)
        self._index[self.row, self.col] = np.arange(len(self.row))

    def __len__(self) -> int:
        return len(self.row)

    @property
    def cell_area(self) -> float:
        return self.size ** 2

    @property
    def side(self) -> float:
        """Hexagon side length (metres); for squares, the cell size."""
        return self.size / _HEX_K if self.shape == "hex" else self.size

    def _centre(self, row: NDArray[np.int64], col: NDArray[np.int64]) -> NDArray[np.float64]:
        x0, y0 = self.origin
        if self.shape == "square":
            return np.column_stack([x0 + (col + 0.5) * self.size, y0 + (row + 0.5) * self.size])
        s = self.side
        w = math.sqrt(3) * s  # pointy-top hexagons, odd rows shifted right by w / 2
        return np.column_stack([x0 + col * w + (row & 1) * w / 2, y0 + row * 1.5 * s])

    @property
    def centres(self) -> NDArray[np.float64]:
        return self._centre(self.row, self.col)

    def locate(self, xy: NDArray[np.float64]) -> NDArray[np.int64]:
        """The cell index of each point, or -1 outside the grid's cells."""
        xy = np.asarray(xy, dtype=float).reshape(-1, 2)
        x0, y0 = self.origin
        if self.shape == "square":
            col = np.floor((xy[:, 0] - x0) / self.size).astype(np.int64)
            row = np.floor((xy[:, 1] - y0) / self.size).astype(np.int64)
        else:
            s = self.side
            px, py = xy[:, 0] - x0, xy[:, 1] - y0
            # axial coordinates of pointy-top hexagons, then cube rounding
            q = (math.sqrt(3) / 3 * px - py / 3) / s
            r = (2 / 3 * py) / s
            cx, cz = q, r
            cy = -cx - cz
            rx, ry, rz = np.round(cx), np.round(cy), np.round(cz)
            dx, dy, dz = np.abs(rx - cx), np.abs(ry - cy), np.abs(rz - cz)
            fix_x = (dx > dy) & (dx > dz)
            fix_y = ~fix_x & (dy > dz)
            rx = np.where(fix_x, -ry - rz, rx)
            ry = np.where(fix_y, -rx - rz, ry)
            rz = np.where(~fix_x & ~fix_y, -rx - ry, rz)
            row = rz.astype(np.int64)
            col = (rx + (row - (row & 1)) // 2).astype(np.int64)
        return self._find(row, col)

    def polygons(self) -> gpd.GeoSeries:
        """The cells as polygons in the grid's CRS."""
        c = self.centres
        if self.shape == "square":
            h = self.size / 2
            boxes = shapely.box(c[:, 0] - h, c[:, 1] - h, c[:, 0] + h, c[:, 1] + h)
            return gpd.GeoSeries(boxes, crs=self.crs)
        s = self.side
        ang = np.radians(np.arange(6) * 60 + 30)
        ring = np.stack([c[:, None, 0] + s * np.cos(ang), c[:, None, 1] + s * np.sin(ang)],
                        axis=-1)
        return gpd.GeoSeries(shapely.polygons(ring), crs=self.crs)

    def neighbours(self) -> sp.csr_matrix:
        """Binary contiguity (no self weight): 8 neighbours for squares, 6 for hexagons."""
        rows, cols = [], []
        r, c = self.row, self.col
        if self.shape == "square":
            offsets = [(dr, dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1) if (dr, dc) != (0, 0)]
            for dr, dc in offsets:
                rows.append(np.arange(len(r)))
                cols.append(self._find(r + dr, c + dc))
        else:
            for parity in (0, 1):
                sel = np.flatnonzero((r & 1) == parity)
                # odd-r offset neighbours
                offs = ([(0, -1), (0, 1), (-1, -1), (-1, 0), (1, -1), (1, 0)] if parity == 0
                        else [(0, -1), (0, 1), (-1, 0), (-1, 1), (1, 0), (1, 1)])
                for dr, dc in offs:
                    rows.append(sel)
                    cols.append(self._find(r[sel] + dr, c[sel] + dc))
        i = np.concatenate(rows)
        j = np.concatenate(cols)
        ok = j >= 0
        n = len(self)
        return sp.csr_matrix((np.ones(ok.sum()), (i[ok], j[ok])), shape=(n, n))

    def _find(self, row: NDArray[np.int64], col: NDArray[np.int64]) -> NDArray[np.int64]:
        ok = (row >= 0) & (row < self.nrows) & (col >= 0) & (col < self.ncols)
        out = np.full(len(row), -1, dtype=np.int64)
        out[ok] = self._index[row[ok], col[ok]]
        return out

    def to_frame(
        self, **columns: Sequence[float] | Sequence[str] | NDArray[np.generic]
    ) -> gpd.GeoDataFrame:
        """The cells as WGS84 polygons with the given per-cell columns."""
        frame = gpd.GeoDataFrame({"cell": np.arange(len(self)), **columns},
                                 geometry=self.polygons())
        return frame.to_crs(WGS84)


def make_grid(area: shapely.Geometry, crs: pyproj.CRS, size: float,
              shape: Shape = "square") -> Grid:
    """Cells of ``size`` metres whose centres lie in ``area`` (a metric polygon)."""
    if shape not in ("square", "hex"):
        raise HotspotError(f"unknown cell shape {shape!r}; use 'square' or 'hex'")
    if not size > 0 or not math.isfinite(size):
        raise HotspotError(f"the cell size must be a positive number of metres, got {size}")
    if area.is_empty or area.area <= 0:
        raise HotspotError("the study area is empty")
    minx, miny, maxx, maxy = area.bounds
    if shape == "square":
        ncols = max(1, math.ceil((maxx - minx) / size))
        nrows = max(1, math.ceil((maxy - miny) / size))
        origin = (minx, miny)
    else:
        s = size / _HEX_K
        ncols = max(1, math.ceil((maxx - minx) / (math.sqrt(3) * s)) + 1)
        nrows = max(1, math.ceil((maxy - miny) / (1.5 * s)) + 1)
        origin = (minx, miny)
    if nrows * ncols > 4 * MAX_CELLS:
        raise HotspotError(
            f"a {size:g} m grid over this area needs {nrows * ncols:,} cells; "
            f"choose cells of at least {math.sqrt(area.area / MAX_CELLS):.0f} m")
    rr, cc = np.meshgrid(np.arange(nrows), np.arange(ncols), indexing="ij")
    row, col = rr.ravel(), cc.ravel()
    probe = Grid(shape, float(size), crs, origin, nrows, ncols, row, col, area)
    centres = probe.centres
    inside = shapely.contains_xy(area, centres[:, 0], centres[:, 1])
    if not inside.any():
        raise HotspotError(f"no {size:g} m cell centre falls inside the study area; "
                           "choose smaller cells")
    return Grid(shape, float(size), crs, origin, nrows, ncols, row[inside], col[inside], area)


def study_area(events: gpd.GeoDataFrame, crs: pyproj.CRS,
               boundary: gpd.GeoDataFrame | None = None, margin_m: float = 200.0
               ) -> shapely.Geometry:
    """The union of ``boundary`` polygons, or the events' convex hull grown by ``margin_m``."""
    if boundary is not None and len(boundary):
        geom = shapely.union_all(boundary.to_crs(crs).geometry.values)
        return shapely.make_valid(geom)
    xy = events_xy(events, crs)
    if len(xy) == 0:
        raise HotspotError("no events and no boundary: nothing to draw a grid over")
    return shapely.convex_hull(shapely.multipoints(xy)).buffer(margin_m)


def _distinct(xy: NDArray[np.float64]) -> NDArray[np.float64]:
    """The distinct locations (to the millimetre), sorted by x then y, as
    ``np.unique(..., axis=0)`` gives them, by one sort instead of its row views."""
    if not len(xy):
        return xy
    r = np.round(xy, 3)
    r = r[np.lexsort((r[:, 1], r[:, 0]))]
    keep = np.ones(len(r), dtype=bool)
    keep[1:] = np.any(r[1:] != r[:-1], axis=1)
    out: NDArray[np.float64] = r[keep]
    return out


def mean_nn_distance(xy: NDArray[np.float64], k: int = 1, *, distinct: bool = False) -> float:
    """Mean distance from each distinct location to its k-th nearest other location
    (``distinct``: ``xy`` already holds each location once)."""
    pts = xy if distinct else _distinct(xy)
    if len(pts) <= k:
        return float("nan")
    d, _ = cKDTree(pts).query(pts, k=k + 1)
    return float(np.mean(d[:, k]))


def cell_size_rule(xy: NDArray[np.float64], area_m2: float) -> float:
    """The default cell size (metres); see the module's notes."""
    n = len(xy)
    if n == 0:
        raise HotspotError("no events: the cell size rule needs at least one event")
    size = math.sqrt(area_m2 / n)
    nn = mean_nn_distance(xy)
    if math.isfinite(nn):
        size = max(size, nn)
    size = max(size, math.sqrt(area_m2 / MAX_CELLS))
    return float(math.ceil(size / 5.0) * 5.0)


def bandwidth_rule(xy: NDArray[np.float64], cell_size: float) -> float:
    """The default quartic-kernel radius (metres); see the module's notes."""
    pts = _distinct(xy)
    k = min(KNN_K, len(pts) - 1)
    knn = mean_nn_distance(pts, k, distinct=True) if k >= 1 else float("nan")
    radius = 1.5 * cell_size if not math.isfinite(knn) else max(knn, 1.5 * cell_size)
    return float(math.ceil(radius / 5.0) * 5.0)


# -- surfaces -----------------------------------------------------------------

def cell_counts(grid: Grid, xy: NDArray[np.float64],
                weights: NDArray[np.float64] | None = None) -> NDArray[np.float64]:
    """Weighted count of events in each cell; events outside every cell are left out."""
    idx = grid.locate(xy)
    w = np.ones(len(idx)) if weights is None else np.asarray(weights, dtype=float)
    keep = idx >= 0
    return np.bincount(idx[keep], weights=w[keep], minlength=len(grid)).astype(float)


def quartic(d: NDArray[np.float64], radius: float) -> NDArray[np.float64]:
    """The quartic (biweight) kernel in two dimensions, per square metre:
    ``3 / (pi r^2) * (1 - d^2 / r^2)^2`` for ``d < r`` and 0 beyond; it integrates to 1."""
    u = np.asarray(d, dtype=float) / radius
    return np.where(u < 1, 3.0 / (math.pi * radius ** 2) * (1 - u ** 2) ** 2, 0.0)


def kde(points: NDArray[np.float64], xy: NDArray[np.float64], radius: float,
        weights: NDArray[np.float64] | None = None) -> NDArray[np.float64]:
    """Kernel density at ``points`` of events at ``xy``: weighted events per km²."""
    points = np.asarray(points, dtype=float).reshape(-1, 2)
    if not radius > 0:
        raise HotspotError(f"the bandwidth must be positive, got {radius}")
    w = np.ones(len(xy)) if weights is None else np.asarray(weights, dtype=float)
    out = np.zeros(len(points))
    if len(xy) == 0 or len(points) == 0:
        return out
    tree_p = cKDTree(points)
    tree_e = cKDTree(xy)
    pairs = tree_p.sparse_distance_matrix(tree_e, radius, output_type="coo_matrix")
    vals = quartic(pairs.data, radius) * w[pairs.col]
    # with float weights bincount gives float64 (its stubs say int); asarray is a no-op
    out = np.asarray(np.bincount(pairs.row, weights=vals, minlength=len(points)), dtype=np.float64)
    return out * 1e6


# -- Gi* -----------------------------------------------------------------------

def gi_star_z(y: NDArray[np.float64], w: sp.csr_matrix) -> NDArray[np.float64]:
    """Analytic Gi* z-scores for values ``y`` and binary weights ``w`` with the
    diagonal set (Ord and Getis 1995, eq. 14, written as esda writes it)."""
    y = np.asarray(y, dtype=float)
    n = len(y)
    total = y.sum()
    if total <= 0:
        raise HotspotError("Gi* needs some events in the study area; every cell is empty")
    g = (w @ y) / total
    mean = total / n
    var = (y ** 2).sum() / n - mean ** 2
    if var <= 0:
        raise HotspotError("Gi* needs the counts to vary between cells; they are all equal")
    k = np.asarray(w.sum(axis=1)).ravel()
    expected = k / n
    variance = k * (n - k) / (n - 1) / n ** 2 * var / mean ** 2
    z: NDArray[np.float64] = (g - expected) / np.sqrt(variance)
    return z


def fdr_threshold(p: NDArray[np.float64], alpha: float) -> float:
    """The Benjamini-Hochberg cut-off: p-values strictly below it are discoveries.

    When no p-value passes, the Bonferroni bound ``alpha / n`` is returned, as
    esda's ``fdr`` does, so a rejection rule ``p < threshold`` is the same.
    """
    p = np.sort(np.asarray(p, dtype=float))
    n = len(p)
    if n == 0:
        return alpha
    line = np.arange(1, n + 1) * alpha / n
    passed = np.flatnonzero(p < line)
    return float(line[passed[-1]]) if len(passed) else alpha / n


@dataclass
class GiResult:
    z: NDArray[np.float64]          # analytic Gi* z-scores
    p: NDArray[np.float64]          # two-sided p-values used for the bins
    bins: NDArray[np.int64]         # -3..3
    thresholds: dict[float, float]  # confidence -> FDR p cut-off used
    permutations: int
    fdr: bool


def gi_star(y: NDArray[np.float64], w: sp.csr_matrix, *, permutations: int = 999,
            fdr: bool = True, seed: int = 12345) -> GiResult:
    """Gi* with esda's conditional permutation inference and BH-FDR bins.

    ``w`` is binary contiguity without the diagonal; the cell itself is added.

    Each cell's p-value is read from where its statistic falls in the mean and spread
    of its own permutation distribution (esda's ``z_sim``/``p_z_sim``, doubled for two
    sides). The rank pseudo p-value (esda's ``p_sim``) is not offered: it cannot go
    below ``2 / (permutations + 1)``, which under FDR control over thousands of cells
    hides real hotspots, and on sparse grids a cell whose neighbourhood is empty ties
    with most of its permutations, which the rank count scores as an extreme low, so
    thousands of empty cells came out as 99% cold spots.
    """
    import esda
    import libpysal

    y = np.asarray(y, dtype=float)
    if permutations < 99:
        raise HotspotError("use at least 99 permutations; 999 is the usual choice")
    z = gi_star_z(y, w + sp.identity(len(y), format="csr"))
    graph = libpysal.graph.Graph.from_sparse(w.tocsr())
    with warnings.catch_warnings():
        # esda warns that its default alternative (the direction of the observed
        # value) will change; we use that default and double it below.
        warnings.filterwarnings("ignore", message="The alternative hypothesis",
                                category=DeprecationWarning)
        # constant permutation rows (a cell whose neighbours are all empty) have no spread
        warnings.filterwarnings("ignore", message="invalid value encountered in divide",
                                category=RuntimeWarning)
        g = esda.G_Local(y, graph, transform="B", star=True, permutations=permutations,
                         keep_simulations=True, n_jobs=1, seed=seed)
    p = np.minimum(1.0, 2.0 * np.nan_to_num(np.asarray(g.p_z_sim, dtype=float), nan=0.5))
    bins = np.zeros(len(y), dtype=np.int64)
    thresholds: dict[float, float] = {}
    for conf, magnitude in sorted(LEVELS):  # 90, 95, then 99: the strictest wins
        alpha = 1 - conf
        cut = fdr_threshold(p, alpha) if fdr else alpha
        thresholds[conf] = cut
        sig = p < cut if fdr else p <= cut
        bins = np.where(sig, np.sign(z).astype(np.int64) * magnitude, bins)
    return GiResult(z, p, bins, thresholds, permutations, fdr)


@dataclass(frozen=True)
class ColdSpotCheck:
    """Whether the grid can show a cold spot at all, and why (in :meth:`describe`)."""

    possible: bool
    lowest_z: float     # Gi* z of a cell whose whole neighbourhood is empty (the lowest)
    needed_z: float     # the z a cold spot needs at 90% confidence, two-sided, unadjusted
    cells: int
    empty_share: float
    mean_count: float
    neighbours: int     # the usual neighbourhood size, the cell included

    def describe(self) -> str:
        """Why cold spots can or cannot occur here, in the language in use."""
        area = _("The study area has {cells} cells; {empty} of them are empty and a cell "
                 "holds {mean} events on average.").format(
            cells=i18n.number(self.cells), empty=i18n.percent(self.empty_share),
            mean=i18n.number(self.mean_count, digits=1))
        z = {"area": area, "n": i18n.number(self.neighbours), "level": i18n.percent(0.90),
             "lowest": i18n.number(self.lowest_z, digits=2),
             "needed": i18n.number(self.needed_z, digits=2)}
        if self.possible:
            return _("{area} A cell whose neighbourhood ({n} cells) is empty would score "
                     "z = {lowest}, past the {needed} a cold spot needs at {level} confidence, "
                     "so cold spots can occur here.").format(**z)
        return _("{area} Even a cell whose whole neighbourhood ({n} cells) is empty scores "
                 "only z = {lowest}, short of the {needed} a cold spot needs at {level} "
                 "confidence, so this study area cannot show cold spots: few events here "
                 "is ordinary, not significantly low.").format(**z)


def cold_spot_check(y: NDArray[np.float64], w: sp.csr_matrix) -> ColdSpotCheck:
    """Can any cell be a Gi* cold spot? ``w`` as for :func:`gi_star` (no diagonal).

    The lowest z a cell can reach is the one of an empty neighbourhood,
    ``-E[G] / sd[G]`` in :func:`gi_star_z`'s terms; if even that does not pass the
    unadjusted two-sided 90% level, no cell can be a cold spot at any level (FDR
    control only makes the bar higher).
    """
    from scipy.stats import norm

    y = np.asarray(y, dtype=float)
    wi = w + sp.identity(len(y), format="csr")
    n = len(y)
    total = y.sum()
    if n == 0 or total <= 0:
        return ColdSpotCheck(False, 0.0, float(norm.ppf(0.05)), n, 1.0, 0.0, 0)
    mean = total / n
    var = (y ** 2).sum() / n - mean ** 2
    k = np.asarray(wi.sum(axis=1)).ravel()
    sd = np.sqrt(k * (n - k) / (n - 1) / n ** 2 * var / mean ** 2) if var > 0 else np.inf
    lowest = float(np.min(-(k / n) / sd)) if n else 0.0
    needed = float(norm.ppf(0.05))
    usual = int(np.median(k)) if n else 0
    return ColdSpotCheck(lowest < needed, lowest, needed, n, float((y == 0).mean()),
                         float(mean), usual)


# -- evaluation ----------------------------------------------------------------

def top_cells(scores: NDArray[np.float64], share: float) -> NDArray[np.int64]:
    """Indices of the top ``share`` of cells by score (at least one), ties by cell order."""
    n = len(scores)
    k = max(1, round(share * n))
    order = np.lexsort((np.arange(n), -np.asarray(scores, dtype=float)))
    return order[:k]


def evaluate(scores: NDArray[np.float64], before: NDArray[np.float64],
             after: NDArray[np.float64], share: float) -> dict[str, float]:
    """Hit rate, PAI, PEI* and RRI of the top ``share`` of cells (see the module's notes)."""
    chosen = top_cells(scores, share)
    n_cells = len(scores)
    big_n2 = float(np.sum(after))
    big_n1 = float(np.sum(before))
    n2 = float(np.sum(after[chosen]))
    n1 = float(np.sum(before[chosen]))
    area_share = len(chosen) / n_cells
    hit = n2 / big_n2 if big_n2 else float("nan")
    rri = ((n2 / n1) / (big_n2 / big_n1)) if n1 and big_n1 and big_n2 else float("nan")
    best = float(np.sort(np.asarray(after, dtype=float))[::-1][:len(chosen)].sum())
    return {"area_share": area_share, "cells": float(len(chosen)), "events": n2,
            "hit_rate": hit, "pai": hit / area_share if big_n2 else float("nan"),
            "pei_star": n2 / best if best else float("nan"), "rri": rri}


# -- the whole analysis --------------------------------------------------------

@dataclass
class Hotspots:
    grid: Grid
    counts: NDArray[np.float64]
    density: NDArray[np.float64]  # weighted events per km²
    gi: GiResult
    radius: float
    cell_size_rule: bool
    bandwidth_rule: bool
    n_events: int
    n_outside: int
    cold: ColdSpotCheck

    def frame(self) -> gpd.GeoDataFrame:
        """One row per cell (WGS84 polygons): count, density, z, p, bin and its label."""
        return self.grid.to_frame(count=self.counts, density=self.density, gi_z=self.gi.z,
                                  gi_p=self.gi.p, gi_bin=self.gi.bins,
                                  gi_label=[BIN_LABELS[int(b)] for b in self.gi.bins])

    def top_by_count(self, n: int = 10) -> pd.DataFrame:
        """The ``n`` cells with the most events, each beside its Gi* result: a strong
        cell with quiet neighbours is shown even when Gi* finds it "not significant"."""
        top = top_cells(self.counts, n / len(self.counts))[:n]
        around = np.asarray(self.grid.neighbours() @ self.counts).ravel()
        centres = self.grid.to_frame().geometry.iloc[top].representative_point()
        return pd.DataFrame({
            "Cell": [int(i) for i in top],
            "Events in the cell": self.counts[top],
            "Events in its neighbours": around[top],
            "Gi* result": [BIN_LABELS[int(self.gi.bins[i])] for i in top],
            "z-score": self.gi.z[top], "p-value": self.gi.p[top],
            "lon": centres.x.to_numpy(), "lat": centres.y.to_numpy()})

    def scores(self) -> dict[str, NDArray[np.float64]]:
        return {"counts": self.counts, "kde": self.density, "gi": self.gi.z}

    def describe(self) -> str:
        """The grid, kernel and test in one line, in the language in use."""
        cells = (ngettext("{n} square cell", "{n} square cells", len(self.grid))
                 if self.grid.shape == "square" else
                 ngettext("{n} hexagonal cell", "{n} hexagonal cells", len(self.grid)))
        out = _("{cells} of {ha} ha ({size} m{rule}); quartic kernel radius {radius} "
                "m{brule}; Gi* with {perms} permutations{fdr}; {events} events").format(
            cells=cells.format(n=i18n.number(len(self.grid))),
            ha=i18n.number(self.grid.cell_area / 1e4, digits=2),
            size=i18n.number(self.grid.size),
            rule=_(" (cell size rule)") if self.cell_size_rule else "",
            radius=i18n.number(self.radius),
            brule=_(" (bandwidth rule)") if self.bandwidth_rule else "",
            perms=i18n.number(self.gi.permutations),
            fdr=_(" and FDR control") if self.gi.fdr else "",
            events=i18n.number(self.n_events))
        if self.n_outside:
            out += _(", {n} outside the study area left out").format(
                n=i18n.number(self.n_outside))
        return out


def analyse(events: gpd.GeoDataFrame, *, boundary: gpd.GeoDataFrame | None = None,
            weight_column: str | None = "weight", cell_size: float | None = None,
            shape: Shape = "square", radius: float | None = None,
            permutations: int = 999, fdr: bool = True, seed: int = 12345,
            crs: pyproj.CRS | None = None) -> Hotspots:
    """Counts, KDE and Gi* of ``events`` (WGS84 points) on a grid over the study area."""
    if len(events) == 0:
        raise HotspotError("no events match the chosen layers and time windows")
    crs = crs or metric_crs(boundary if boundary is not None and len(boundary) else events)
    area = study_area(events, crs, boundary)
    xy = events_xy(events, crs)
    w = (events[weight_column].to_numpy(dtype=float)
         if weight_column and weight_column in events else np.ones(len(events)))
    inside = shapely.contains_xy(area, xy[:, 0], xy[:, 1])
    if not inside.any():
        raise HotspotError("none of the events lies inside the study area")
    size = cell_size or cell_size_rule(xy[inside], area.area)
    grid = make_grid(area, crs, size, shape)
    counts = cell_counts(grid, xy[inside], w[inside])
    r = radius or bandwidth_rule(xy[inside], grid.size)
    density = kde(grid.centres, xy[inside], r, w[inside])
    w_grid = grid.neighbours()
    gi = gi_star(counts, w_grid, permutations=permutations, fdr=fdr, seed=seed)
    return Hotspots(grid, counts, density, gi, r, cell_size is None, radius is None,
                    int(inside.sum()), int((~inside).sum()), cold_spot_check(counts, w_grid))


def comparison(hot: Hotspots, later: gpd.GeoDataFrame,
               shares: Sequence[float] = (0.01, 0.05),
               weight_column: str | None = "weight") -> pd.DataFrame:
    """How well each method's top cells caught ``later`` events: one row per method and share."""
    xy = events_xy(later, hot.grid.crs)
    w = (later[weight_column].to_numpy(dtype=float)
         if weight_column and weight_column in later else np.ones(len(later)))
    after = cell_counts(hot.grid, xy, w)
    rows = []
    names = {"counts": "Counts", "kde": "Kernel density", "gi": "Gi* z-score"}
    for key, scores in hot.scores().items():
        for share in shares:
            r = evaluate(scores, hot.counts, after, share)
            rows.append({"method": names[key], "top_area": share, **r})
    return pd.DataFrame(rows)
