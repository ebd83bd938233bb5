"""Streetlight illuminance: the pole inventory and a point-by-point model.

Horizontal illuminance at a ground point from a luminaire at mounting height
``h`` is ``E = MF * I(theta, psi) * cos^3(theta) / h^2`` (the inverse-square law
with the cosine of incidence, theta measured from the nadir, psi the horizontal
angle in the luminaire's own type C frame). Vertical illuminance is taken where
ANSI/IES RP-8 measures it, 1.5 m above the pavement, on a plane facing the
luminaire: ``MF * I * cos^2(theta') * sin(theta') / (h - 1.5)^2`` with theta' seen
from that height. Poles that are out contribute nothing. Contributions are summed
out to the distance beyond which under 1% of a street's average is left out
(:meth:`~cpted.photometry.Distribution.reach_heights`, about 8.75 mounting heights
for the default), found through an R-tree, so only nearby pairs are ever computed.

Each pole's distribution comes from its fixture name (:func:`fixture_shape`): a
luminaire shape in the lighting data with an IES LM-63 file (kept asymmetric) or
an IES lateral type (II, III, IV: :meth:`~cpted.photometry.Distribution.ies_type`),
turned so its street side faces the nearest street (:func:`orient_to_streets`);
else an LM-63 file given for the lamp type; else the default, the symmetric IES
Type V :meth:`~cpted.photometry.Distribution.even_field`.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from cpted import i18n
from cpted.i18n import N_, _
from cpted.lighting_data import DEFAULT_DISTRIBUTION as DEFAULT_DISTRIBUTION
from cpted.lighting_data import LIGHTING_DATA as LIGHTING_DATA
from cpted.lighting_data import LightingData as LightingData
from cpted.lighting_data import Luminaire as Luminaire
from cpted.lighting_data import Target as Target
from cpted.lighting_data import load_lighting_data as load_lighting_data
from cpted.lighting_data import normal_words
from cpted.photometry import DEFAULT_PEAK_DEG as DEFAULT_PEAK_DEG
from cpted.photometry import Distribution as Distribution
from cpted.photometry import FloatArray as FloatArray
from cpted.photometry import LightingDataError as LightingDataError
from cpted.photometry import Photometry as Photometry
from cpted.photometry import format_lm63 as format_lm63
from cpted.photometry import lateral_type as lateral_type
from cpted.photometry import parse_lm63 as parse_lm63
from cpted.photometry import read_lm63 as read_lm63
from layers.errors import UnusableInputError

# -- the inventory -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Inventory:
    """Poles ready for the model, in a metric CRS."""

    ids: NDArray[np.object_]
    x: FloatArray
    y: FloatArray
    height_m: FloatArray
    lumens: FloatArray
    fixture: NDArray[np.object_]
    out: NDArray[np.bool_]
    defaulted: NDArray[np.bool_]  # any of lumens, watts, height or fixture was assumed
    crs: object
    #: Luminaire shape per pole (a key of ``LightingData.luminaires``, "" for none).
    shape: NDArray[np.object_] | None = None
    #: Direction each luminaire's street side faces, degrees counter-clockwise from east
    #: (NaN: unknown, so an asymmetric distribution is averaged round the pole).
    front_deg: FloatArray | None = None

    def shapes(self) -> NDArray[np.object_]:
        return self.shape if self.shape is not None else np.full(len(self), "", dtype=object)

    def fronts(self) -> FloatArray:
        return self.front_deg if self.front_deg is not None else np.full(len(self), np.nan)

    def __len__(self) -> int:
        return len(self.ids)

    def warning(self) -> str | None:
        n = int(self.defaulted.sum())
        if not n:
            return None
        return _("{n} of {total} poles lack lumens, wattage, fixture type or mounting height; "
                 "documented defaults were used for them (see the lighting data)").format(
            n=i18n.number(n), total=i18n.number(len(self)))

    def with_changes(self, *, out: NDArray[np.bool_] | None = None,
                     lumens: FloatArray | None = None) -> Inventory:
        return Inventory(self.ids, self.x, self.y, self.height_m,
                         self.lumens if lumens is None else lumens, self.fixture,
                         self.out if out is None else out, self.defaulted, self.crs,
                         self.shape, self.front_deg)

    def facing(self, front_deg: FloatArray) -> Inventory:
        return dataclasses.replace(self, front_deg=np.asarray(front_deg, dtype=float))

    def added(self, x: FloatArray, y: FloatArray, height_m: float, lumens: float,
              fixture: str, ids: Sequence[str]) -> Inventory:
        n = len(x)
        return Inventory(
            np.concatenate([self.ids, np.array(list(ids), dtype=object)]),
            np.concatenate([self.x, x]), np.concatenate([self.y, y]),
            np.concatenate([self.height_m, np.full(n, height_m)]),
            np.concatenate([self.lumens, np.full(n, lumens)]),
            np.concatenate([self.fixture, np.full(n, fixture, dtype=object)]),
            np.concatenate([self.out, np.zeros(n, dtype=bool)]),
            np.concatenate([self.defaulted, np.zeros(n, dtype=bool)]), self.crs,
            np.concatenate([self.shapes(), np.full(n, "", dtype=object)]),
            np.concatenate([self.fronts(), np.full(n, np.nan)]))


def fixture_shape(text: object, data: LightingData) -> str:
    """The luminaire shape named in a fixture name ("LED cobra head" -> "cobra head").

    The first shape of the lighting data's ``[luminaires]`` one of whose words occurs
    in ``text`` (case, hyphens and spacing ignored); "" when none does, and the pole
    gets the default Type V distribution.
    """
    if not isinstance(text, str) or not text.strip():
        return ""
    padded = f" {normal_words(text)} "
    return next((name for name, lum in data.luminaires.items()
                 if any(f" {w} " in padded for w in lum.words)), "")


def orient_to_streets(inv: Inventory, streets: gpd.GeoSeries) -> Inventory:
    """``inv`` with each luminaire's street side (its 90 degree plane) facing the nearest
    street: toward the nearest point of the nearest line of ``streets`` (any CRS).

    A pole standing on a street line faces that line's left normal. With no streets
    the orientation stays unknown.
    """
    lines = streets.to_crs(inv.crs).geometry.values if len(streets) else np.empty(0)
    if len(inv) == 0 or len(lines) == 0:
        return inv
    poles = shapely.points(inv.x, inv.y)
    tree = shapely.STRtree(lines)
    pi, li = tree.query_nearest(poles, all_matches=False)
    front = np.full(len(inv), np.nan)
    line = lines[li]
    near = shapely.line_interpolate_point(line, shapely.line_locate_point(line, poles[pi]))
    c = shapely.get_coordinates(near)
    dx, dy = c[:, 0] - inv.x[pi], c[:, 1] - inv.y[pi]
    on = np.hypot(dx, dy) < 0.1
    if on.any():  # along the line, a step on: its left normal
        at = shapely.line_locate_point(line[on], poles[pi][on])
        ahead = shapely.get_coordinates(shapely.line_interpolate_point(line[on], at + 0.5))
        behind = shapely.get_coordinates(shapely.line_interpolate_point(line[on],
                                                                        np.maximum(at - 0.5, 0)))
        tx, ty = ahead[:, 0] - behind[:, 0], ahead[:, 1] - behind[:, 1]
        dx[on], dy[on] = -ty, tx
    front[pi] = np.degrees(np.arctan2(dy, dx))
    return inv.facing(front)


def fixture_key(text: object, data: LightingData) -> str:
    """The fixture type named in free text ("HPS cobra head" -> "hps"), or "" if none."""
    if not isinstance(text, str) or not text.strip():
        return ""
    low = text.strip().lower()
    if low in data.fixtures:
        return low
    words = re.findall(r"[a-z]+", low)
    return next((w for w in words if w in data.fixtures), low)


def inventory(lights: gpd.GeoDataFrame, data: LightingData, crs: object,
              *, out_ids: Sequence[str] = ()) -> Inventory:
    """Poles of the streetlights layer with lumens, heights and luminaire shapes resolved.

    Lumens given are luminaire lumens. Otherwise watts (or the default) times the
    fixture type's efficacy (or the default type's). The shape comes from the fixture
    name (:func:`fixture_shape`); orientation is unknown until
    :func:`orient_to_streets`. ``out_ids`` are marked out, as are poles whose status
    is ``out``.
    """
    pts = lights.to_crs(crs).geometry
    n = len(lights)

    def col(name: str) -> pd.Series:
        return lights[name] if name in lights.columns else pd.Series([None] * n,
                                                                     index=lights.index)

    lumens = pd.to_numeric(col("lumens"), errors="coerce").to_numpy(dtype=float, copy=True)
    watts = pd.to_numeric(col("watts"), errors="coerce").to_numpy(dtype=float)
    height = pd.to_numeric(col("mounting_height_m"), errors="coerce").to_numpy(dtype=float)
    fixture = np.array([fixture_key(f, data) for f in col("fixture_type")], dtype=object)
    shape = np.array([fixture_shape(f, data) for f in col("fixture_type")], dtype=object)
    defaulted = np.isnan(height) | (np.isnan(lumens) & (np.isnan(watts) | (fixture == "")))
    height = np.where(np.isnan(height) | (height <= 0), data.default_height_m, height)
    known = np.array([f in data.fixtures for f in fixture])
    defaulted |= np.isnan(lumens) & ~known
    fixture = np.where(known, fixture, data.default_fixture).astype(object)
    w = np.where(np.isnan(watts), data.default_watts, watts)
    for k in np.flatnonzero(np.isnan(lumens)):
        lumens[k] = data.fixture_lumens(str(fixture[k]), float(w[k])) or 0.0
    status = col("status").astype(object).to_numpy()
    ids = col("id").astype(str).to_numpy(dtype=object)
    out = (status == "out") | np.isin(ids, np.array(list(out_ids), dtype=object))
    return Inventory(ids, pts.x.to_numpy(), pts.y.to_numpy(), height, lumens, fixture,
                     out, defaulted, crs, shape, np.full(n, np.nan))


def distribution_table(inv: Inventory, data: LightingData) -> pd.DataFrame:
    """How the poles are modelled, in plain words: one row per lamp type and luminaire.

    Columns ``Lamp`` (the lamp type's name), ``Luminaire`` (the shape found in the
    fixture name, or "not named"), ``Modelled as`` and ``Poles``; most poles first.
    """
    rows: dict[tuple[str, str], int] = {}
    for lamp, shape in zip(inv.fixture, inv.shapes(), strict=True):
        rows[(str(lamp), str(shape))] = rows.get((str(lamp), str(shape)), 0) + 1
    out = []
    for (lamp, shape), n in rows.items():
        if shape in data.luminaires:
            how = data.luminaires[shape].modelled_as()
        elif lamp in data.photometry:
            how = (_("from the lamp type's photometric file, the same all round")
                   if data.photometry[lamp].symmetric else
                   _("from the lamp type's photometric file, aimed across the nearest street"))
        else:
            how = _("IES Type V, the same all round (the default, lumens only)")
        out.append({"Lamp": str(data.fixtures.get(lamp, {}).get("name", lamp)),
                    "Luminaire": shape or _("not named"), "Modelled as": how, "Poles": n})
    frame = pd.DataFrame(out, columns=["Lamp", "Luminaire", "Modelled as", "Poles"])
    return frame.sort_values("Poles", ascending=False, kind="stable").reset_index(drop=True)


#: The category of a resident's "this light is out" report, and how near a pole it must
#: be to count against that pole.
OUTAGE_SERVICE_CODE = "streetlight_out"
OUTAGE_RADIUS_M = 30.0
#: What "out" means wherever poles out are counted (:func:`poles_out`).
#: (``POLES_OUT_WORDS`` is the same for the catalogue; a page shows it translated with the
#: radius written the language's way.)
POLES_OUT_WORDS = N_("Status 'out' in the pole inventory, or an open 'streetlight out' "
                     "report within {m} m of the pole (matched to its nearest pole).")
POLES_OUT_MEANING = POLES_OUT_WORDS.format(m=f"{OUTAGE_RADIUS_M:g}")


def open_outage_reports(concerns: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The open "streetlight out" reports among ``concerns`` (any other rows are dropped)."""
    if concerns.empty or "service_code" not in concerns.columns:
        return concerns.iloc[0:0]
    return concerns[(concerns["service_code"] == OUTAGE_SERVICE_CODE)
                    & (concerns["status"] == "open")]


def poles_out(lights: gpd.GeoDataFrame, concerns: gpd.GeoDataFrame, *,
              crs: object | None = None, radius_m: float = OUTAGE_RADIUS_M) -> pd.Series:
    """Whether each pole is out: the one definition every count of poles out uses.

    A pole is out when its status is ``out``, or when an open "streetlight out"
    report lies within ``radius_m`` of it and it is the report's nearest pole.

    Parameters
    ----------
    lights : geopandas.GeoDataFrame
        The streetlights layer (``id``, ``status``), any CRS.
    concerns : geopandas.GeoDataFrame
        Concerns, any CRS; only the open "streetlight out" ones count, so the whole
        layer or just those may be given.
    crs : pyproj CRS or str, optional
        The metric CRS to measure in; by default the lights' UTM zone.
    radius_m : float
        How near a report must be to its pole, in metres.

    Returns
    -------
    pandas.Series
        Boolean, named ``out``, aligned on ``lights.index``.
    """
    status = (lights["status"].astype(object) if "status" in lights.columns
              else pd.Series(None, index=lights.index, dtype=object))
    out = (status == "out").astype(bool)
    reports = open_outage_reports(concerns)
    if len(lights) and len(reports):
        from layers.crs import metric_crs

        matched = match_outages(lights, reports, crs or metric_crs(lights), radius_m=radius_m)
        out |= lights["id"].astype(str).isin(set(matched["pole_id"]))
    return out.rename("out")


def match_outages(lights: gpd.GeoDataFrame, reports: gpd.GeoDataFrame, crs: object, *,
                  radius_m: float = 30.0) -> pd.DataFrame:
    """Each report matched to its nearest pole within ``radius_m``.

    Returns one row per matched report: ``service_request_id``, ``pole_id``,
    ``distance_m``. Reports with no pole that close are left out.
    """
    if reports.empty or lights.empty:
        return pd.DataFrame(columns=["service_request_id", "pole_id", "distance_m"])
    poles = lights.to_crs(crs).geometry.values
    pts = reports.to_crs(crs).geometry.values
    tree = shapely.STRtree(poles)
    (ri, pi), dist = tree.query_nearest(pts, max_distance=radius_m, return_distance=True,
                                        all_matches=False)
    return pd.DataFrame({"service_request_id": reports["service_request_id"].to_numpy()[ri],
                         "pole_id": lights["id"].astype(str).to_numpy()[pi],
                         "distance_m": dist})


# -- the model --------------------------------------------------------------------------------

@dataclass(frozen=True)
class PoleLight:
    """Which distribution lights each pole, and how far its light is summed.

    ``code[k]`` indexes ``distributions`` (each for 1000 lm); ``reach_m[k]`` is pole k's
    mounting height times its distribution's :meth:`Distribution.reach_heights`.
    """

    code: NDArray[np.intp]
    distributions: tuple[Distribution, ...]
    reach_m: FloatArray


def pole_light(inv: Inventory, data: LightingData) -> PoleLight:
    """Each pole's distribution: its shape's, else its lamp type's file, else Type V."""
    keys: dict[tuple[str, str], int] = {}
    dists: list[Distribution] = []
    code = np.empty(len(inv), dtype=np.intp)
    for k, (shape, fixture) in enumerate(zip(inv.shapes(), inv.fixture, strict=True)):
        key = (("shape", str(shape)) if shape in data.luminaires
               else ("lamp", str(fixture)) if fixture in data.photometry else ("", ""))
        if key not in keys:
            keys[key] = len(dists)
            dists.append(data.luminaires[key[1]].distribution if key[0] == "shape"
                         else data.photometry[key[1]] if key[0] == "lamp"
                         else DEFAULT_DISTRIBUTION)
        code[k] = keys[key]
    reach = np.array([d.reach_heights(data.ignored_share) for d in dists])
    return PoleLight(code, tuple(dists), inv.height_m * (reach[code] if len(dists) else 1.0))


def _intensities(inv: Inventory, light: PoleLight, pole: NDArray[np.intp],
                 theta: FloatArray, dx: FloatArray, dy: FloatArray) -> FloatArray:
    """Candela of each (pole, point) pair, each pole aimed by its ``front_deg``."""
    i = np.zeros(len(pole))
    code = light.code[pole]
    front = inv.fronts()[pole]
    for c, dist in enumerate(light.distributions):
        m = code == c
        if not m.any():
            continue
        if dist.symmetric:
            i[m] = dist.intensity(theta[m])
            continue
        aimed = m & ~np.isnan(front)
        psi = 90.0 + np.degrees(np.arctan2(dy[aimed], dx[aimed])) - front[aimed]
        i[aimed] = dist.intensity(theta[aimed], psi)
        blind = m & np.isnan(front)
        i[blind] = dist.averaged().intensity(theta[blind])
    return i


def pair_illuminance(inv: Inventory, data: LightingData, pole: NDArray[np.intp],
                     px: FloatArray, py: FloatArray, *, vertical: bool = False,
                     facing: tuple[FloatArray, FloatArray] | None = None,
                     light: PoleLight | None = None) -> FloatArray:
    """Illuminance at points ``(px, py)`` from poles ``pole`` (one pole per point).

    Horizontal on the ground, or with ``vertical`` on a vertical plane
    ``data.vertical_height_m`` (1.5 m) above the ground: facing the pole, or with
    ``facing`` (unit vectors ``(nx, ny)``, one per point) facing that way, so light
    from behind the plane counts nothing. ``light`` is :func:`pole_light` of ``inv``,
    computed here when not given.
    """
    light = light or pole_light(inv, data)
    h = inv.height_m[pole] - (data.vertical_height_m if vertical else 0.0)
    h = np.maximum(h, 1e-9)
    dx, dy = px - inv.x[pole], py - inv.y[pole]
    d = np.hypot(dx, dy)
    theta = np.degrees(np.arctan2(d, h))
    if len(light.distributions) == 1 and light.distributions[0].symmetric:
        i = light.distributions[0].intensity(theta)
    else:
        i = _intensities(inv, light, pole, theta, dx, dy)
    i = i * (inv.lumens[pole] * (data.maintenance_factor / 1000.0))
    i[inv.out[pole] | (d > light.reach_m[pole])] = 0.0
    r2 = d * d + h * h
    if vertical:  # I cos(incidence) / r^2; facing the luminaire, cos = d / r
        toward = d if facing is None else np.maximum(-(dx * facing[0] + dy * facing[1]), 0.0)
        return np.where(inv.height_m[pole] > data.vertical_height_m, i * toward / r2 ** 1.5,
                        0.0)
    cos = h / np.sqrt(r2)
    out: FloatArray = i * cos * cos * cos / (h * h)
    return out


def illuminance(inv: Inventory, data: LightingData, x: FloatArray, y: FloatArray, *,
                vertical: bool = False, facing: tuple[FloatArray, FloatArray] | None = None,
                chunk_poles: int = 2000) -> FloatArray:
    """Lux at each point ``(x[k], y[k])`` (metric CRS of ``inv``) from every working pole.

    Horizontal illuminance, or with ``vertical`` the sum over poles of the vertical
    illuminance 1.5 m above the ground on a plane facing each pole (so an upper bound
    on what a plane facing any one direction receives), or with ``facing`` (unit
    vectors, one per point) on the plane at each point facing that way.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    total = np.zeros(len(x))
    lit = np.flatnonzero(~inv.out)
    if len(lit) == 0 or len(x) == 0:
        return total
    light = pole_light(inv, data)
    tree = shapely.STRtree(shapely.points(x, y))
    for lo in range(0, len(lit), chunk_poles):
        poles = lit[lo:lo + chunk_poles]
        reach = float(light.reach_m[poles].max())
        centres = shapely.points(inv.x[poles], inv.y[poles])
        pi, pj = tree.query(centres, predicate="dwithin", distance=reach)
        pole = poles[pi]
        face = None if facing is None else (facing[0][pj], facing[1][pj])
        e = pair_illuminance(inv, data, pole, x[pj], y[pj], vertical=vertical, facing=face,
                             light=light)
        total += np.bincount(pj, weights=e, minlength=len(x))
    return total


@dataclass(frozen=True)
class Grid:
    x0: float
    y0: float
    cell_m: float
    nx: int
    ny: int

    def centres(self) -> tuple[FloatArray, FloatArray]:
        xs = self.x0 + (np.arange(self.nx) + 0.5) * self.cell_m
        ys = self.y0 + (np.arange(self.ny) + 0.5) * self.cell_m
        gx, gy = np.meshgrid(xs, ys)
        return gx.ravel(), gy.ravel()


def grid_over(bounds: Sequence[float], cell_m: float, *, max_cells: int = 4_000_000) -> Grid:
    minx, miny, maxx, maxy = bounds
    if cell_m <= 0:
        raise UnusableInputError(f"the grid cell must be positive, got {cell_m}")
    nx = max(1, math.ceil((maxx - minx) / cell_m))
    ny = max(1, math.ceil((maxy - miny) / cell_m))
    if nx * ny > max_cells:
        raise UnusableInputError(f"a {cell_m:g} m grid over this area has {nx * ny:,} cells, "
                                 f"more than {max_cells:,}; choose a larger cell")
    return Grid(minx, miny, cell_m, nx, ny)


def lux_grid(inv: Inventory, data: LightingData, grid: Grid) -> FloatArray:
    """Horizontal lux at every cell centre, as an ``(ny, nx)`` array (row 0 = south)."""
    gx, gy = grid.centres()
    return illuminance(inv, data, gx, gy).reshape(grid.ny, grid.nx)


# -- streets ----------------------------------------------------------------------------------

def sample_streets(streets: gpd.GeoSeries, spacing_m: float) -> tuple[FloatArray, FloatArray,
                                                                      NDArray[np.intp]]:
    """Points every ``spacing_m`` along each line (metric CRS), with the line's position."""
    xs, ys, idx = [], [], []
    for k, g in enumerate(streets.values):
        if g is None or g.is_empty:
            continue
        n = max(2, math.ceil(g.length / spacing_m) + 1)
        pts = shapely.line_interpolate_point(g, np.linspace(0, 1, n), normalized=True)
        c = shapely.get_coordinates(pts)
        xs.append(c[:, 0])
        ys.append(c[:, 1])
        idx.append(np.full(len(c), k))
    if not xs:
        return np.empty(0), np.empty(0), np.empty(0, dtype=np.intp)
    return np.concatenate(xs), np.concatenate(ys), np.concatenate(idx)


def street_directions(x: FloatArray, y: FloatArray,
                      seg: NDArray[np.intp]) -> tuple[FloatArray, FloatArray]:
    """Unit vectors along the street at each sample point (from :func:`sample_streets`:
    points of one street consecutive, in order along it)."""
    tx, ty = np.zeros(len(x)), np.zeros(len(x))
    for s in np.unique(seg):
        on = np.flatnonzero(seg == s)
        if len(on) < 2:
            continue
        tx[on], ty[on] = np.gradient(x[on]), np.gradient(y[on])
    norm = np.hypot(tx, ty)
    norm[norm == 0] = 1.0
    return tx / norm, ty / norm


def segment_lux(streets: gpd.GeoDataFrame, inv: Inventory, data: LightingData,
                *, spacing_m: float | None = None, vertical: bool = False) -> pd.DataFrame:
    """Average, minimum and uniformity of horizontal lux along each street, and its verdict.

    Columns: ``id``, ``name`` (the street's name, ``None`` where it has none),
    ``class``, ``length_m``, ``avg_lux``, ``min_lux``, ``avg_to_min``, ``target_avg``,
    ``target_min``, ``dark`` (bool: any of the three RP-8 tests failed) and ``why``
    (which failed: "average", "minimum", "uniformity"). With ``vertical`` also
    ``ev_min_lux``, the least vertical illuminance 1.5 m above the street facing either
    way along it (as RP-8 measures it for pedestrians), and ``target_ev_min``, its
    class's minimum; shown beside the verdict, not part of it.
    """
    metric = streets.to_crs(inv.crs)
    x, y, seg = sample_streets(metric.geometry, spacing_m or data.sample_spacing_m)
    e = illuminance(inv, data, x, y)
    n = len(streets)
    classes = (streets["class"].astype(object).fillna("local").to_numpy()
               if "class" in streets.columns else np.full(n, "local", dtype=object))
    verdict = judge_streets(e, seg, classes, data)
    if vertical:
        tx, ty = street_directions(x, y, seg)
        ev = np.minimum(illuminance(inv, data, x, y, vertical=True, facing=(tx, ty)),
                        illuminance(inv, data, x, y, vertical=True, facing=(-tx, -ty)))
        verdict["ev_min_lux"] = (pd.Series(ev).groupby(seg).min().reindex(range(n))
                                 .to_numpy())
        verdict["target_ev_min"] = np.array(
            [data.targets.get(str(c), data.targets["local"]).ev_min_lux for c in classes])
    names = (np.array([v if isinstance(v, str) and v.strip() else None
                       for v in streets["name"]], dtype=object)
             if "name" in streets.columns else np.full(n, None, dtype=object))
    return pd.DataFrame({
        "id": streets["id"].astype(str).to_numpy() if "id" in streets.columns else np.arange(n),
        "name": pd.Series(names, dtype=object), "class": classes,
        "length_m": metric.geometry.length.to_numpy(), **verdict})


def judge_streets(lux: FloatArray, seg: NDArray[np.intp], classes: NDArray[np.object_],
                  data: LightingData) -> dict[str, Any]:
    """Each street judged by RP-8's three walkway tests on its sample points' lux.

    ``lux[k]`` is the lux at sample point k of street ``seg[k]``; ``classes`` holds one
    class per street (unknown classes are judged as ``local``). A street passes when
    its average is at least its class's target average, its minimum at least the
    average target divided by the class's largest average:minimum ratio, and its own
    average:minimum ratio at most that ratio (ANSI/IES RP-8 walkway table, in the
    lighting data). Returns columns ``avg_lux``, ``min_lux``, ``avg_to_min``,
    ``target_avg``, ``target_min``, ``dark`` (any test failed) and ``why``.
    """
    n = len(classes)
    g = pd.DataFrame({"seg": seg, "e": lux}).groupby("seg")["e"]
    avg = g.mean().reindex(range(n)).to_numpy()
    mn = g.min().reindex(range(n)).to_numpy()
    targets = [data.targets.get(str(c), data.targets["local"]) for c in classes]
    t_avg = np.array([t.avg_lux for t in targets])
    t_ratio = np.array([t.avg_to_min for t in targets])
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(mn > 0, avg / mn, np.inf)
    why = []  # the failed tests' names, kept in English (cpted.maps.lighting.WHY_WORDS)
    for a, m, r, ta, tr in zip(avg, mn, ratio, t_avg, t_ratio, strict=True):
        reasons = []
        if a < ta:
            reasons.append("average")
        if m < ta / tr:
            reasons.append("minimum")
        if r > tr:
            reasons.append("uniformity")
        why.append(", ".join(reasons))
    return {"avg_lux": avg, "min_lux": mn, "avg_to_min": ratio, "target_avg": t_avg,
            "target_min": t_avg / t_ratio, "dark": np.array([bool(w) for w in why]),
            "why": why}


def lux_image(inv: Inventory, data: LightingData, bounds_lonlat: Sequence[float],
              cell_m: float, *, max_cells: int = 1_500_000,
              near: gpd.GeoSeries | None = None, near_m: float = 15.0,
              ) -> tuple[FloatArray, tuple[float, ...]]:
    """Lux on a grid regular in longitude and latitude (so a web map can overlay it).

    Returns ``(lux, (west, south, east, north))`` with ``lux[0]`` the northern row.
    With ``near`` (lines, any CRS), cells further than ``near_m`` from them are NaN:
    the street and its footways, not the backyards, are what the targets are for.
    """
    import pyproj

    west, south, east, north = bounds_lonlat
    lat0 = (south + north) / 2
    dlat = cell_m / 111_320.0
    dlon = cell_m / (111_320.0 * max(math.cos(math.radians(lat0)), 0.01))
    nx = max(1, math.ceil((east - west) / dlon))
    ny = max(1, math.ceil((north - south) / dlat))
    if nx * ny > max_cells:
        raise UnusableInputError(f"a {cell_m:g} m grid over this area has {nx * ny:,} cells, "
                                 f"more than {max_cells:,}; choose a larger cell")
    lons = west + (np.arange(nx) + 0.5) * dlon
    lats = north - (np.arange(ny) + 0.5) * dlat
    glon, glat = np.meshgrid(lons, lats)
    tf = pyproj.Transformer.from_crs(4326, inv.crs, always_xy=True)
    gx, gy = (np.asarray(a) for a in tf.transform(glon.ravel(), glat.ravel()))
    keep = np.ones(len(gx), dtype=bool)
    if near is not None:
        tree = shapely.STRtree(near.to_crs(inv.crs).geometry.values)
        cells, _ = tree.query(shapely.points(gx, gy), predicate="dwithin", distance=near_m)
        keep = np.zeros(len(gx), dtype=bool)
        keep[cells] = True
    lux = np.full(len(gx), np.nan)
    lux[keep] = illuminance(inv, data, gx[keep], gy[keep])
    return lux.reshape(ny, nx), (west, north - ny * dlat, west + nx * dlon, north)


def below_minimum_km(streets: gpd.GeoDataFrame, inv: Inventory, data: LightingData) -> float:
    """Street length whose modelled lux is under its class's minimum target, in km."""
    metric = streets.to_crs(inv.crs)
    x, y, seg = sample_streets(metric.geometry, data.sample_spacing_m)
    if len(x) == 0:
        return 0.0
    e = illuminance(inv, data, x, y)
    classes = (streets["class"].astype(object).fillna("local").to_numpy()
               if "class" in streets.columns else np.full(len(streets), "local", dtype=object))
    t_min = np.array([data.targets.get(str(c), data.targets["local"]).min_lux
                      for c in classes])[seg]
    per_point = metric.geometry.length.to_numpy()[seg] / np.bincount(seg)[seg]
    return float(per_point[e < t_min].sum() / 1000)
