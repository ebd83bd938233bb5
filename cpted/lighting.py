"""Streetlight illuminance: photometry, the pole inventory, and a point-by-point model.

Horizontal illuminance at a ground point from a luminaire at mounting height
``h`` is ``E = MF * I(theta) * cos^3(theta) / h^2`` (the inverse-square law
with the cosine of incidence, theta measured from the nadir); on a vertical
plane facing the luminaire it is ``MF * I(theta) * cos^2(theta) * sin(theta) /
h^2``. Poles that are out contribute nothing. Contributions are summed out to
``reach_heights`` mounting heights from each pole, found through an R-tree, so
only nearby pairs are ever computed.

Intensity comes from an IES LM-63 photometric file when one is given for the
fixture type; the inventory carries no pole orientation, so the distribution is
averaged over horizontal angles. With no file, the documented default
(:meth:`Distribution.even_field`) lights level ground evenly out to 70 degrees from
the nadir and sends nothing upward.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from layers.errors import UnusableInputError

LIGHTING_DATA = Path(__file__).with_name("data") / "lighting.toml"
FloatArray = NDArray[np.float64]
#: Where the default distribution peaks (degrees from the nadir).
DEFAULT_PEAK_DEG = 70.0


class LightingDataError(UnusableInputError):
    """A photometric file or lighting data table that cannot be used."""


# -- intensity distributions -----------------------------------------------------------

@dataclass(frozen=True)
class Distribution:
    """Candela by vertical angle (degrees from the nadir), the same in every direction."""

    angles_deg: FloatArray
    candela: FloatArray

    def __post_init__(self) -> None:
        a = np.asarray(self.angles_deg, dtype=float)
        if a.ndim != 1 or len(a) < 2 or np.any(np.diff(a) < 0) or a[0] < 0 or a[-1] > 180:
            raise LightingDataError("vertical angles must increase within 0-180 degrees")
        if len(np.asarray(self.candela)) != len(a):
            raise LightingDataError("one candela value is needed per vertical angle")

    def intensity(self, theta_deg: FloatArray) -> FloatArray:
        """Candela at ``theta_deg`` (linear between angles; 0 beyond the last one)."""
        return np.interp(theta_deg, self.angles_deg, self.candela, right=0.0)

    def lumens(self) -> float:
        """Total flux: 2 pi times the integral of I(theta) sin(theta) d theta."""
        t = np.radians(np.linspace(0, 180, 3601))
        return float(2 * np.pi * np.trapezoid(self.intensity(np.degrees(t)) * np.sin(t), t))

    def scaled(self, factor: float) -> Distribution:
        return Distribution(self.angles_deg, self.candela * factor)

    @classmethod
    def uniform(cls, candela: float) -> Distribution:
        """The same intensity in every direction (an isotropic source)."""
        return cls(np.array([0.0, 180.0]), np.array([candela, candela]))

    @classmethod
    def lower_hemisphere(cls, lumens: float) -> Distribution:
        """``lumens`` spread evenly below the horizontal (I = lumens / 2 pi)."""
        cd = lumens / (2 * np.pi)
        return cls(np.array([0.0, 90.0, 90.0, 180.0]), np.array([cd, cd, 0.0, 0.0]))

    @classmethod
    def even_field(cls, lumens: float, *, peak_deg: float = DEFAULT_PEAK_DEG) -> Distribution:
        """The default: an idealised wide street-light distribution.

        Intensity grows as 1/cos^3(theta) out to ``peak_deg`` from the nadir, which
        lights level ground evenly out to ``h * tan(peak_deg)`` (2.7 mounting heights
        at 70 degrees), then falls linearly to nothing at the horizontal; no light
        goes up. A stand-in for the wide (IES type II/III) distributions of street
        luminaires when no photometric file is given; scaled to ``lumens``.
        """
        inner = np.linspace(0.0, peak_deg, 141)
        outer = np.linspace(peak_deg, 90.0, 41)[1:]
        i_peak = 1 / np.cos(np.radians(peak_deg)) ** 3
        cd = np.concatenate([1 / np.cos(np.radians(inner)) ** 3,
                             i_peak * (90.0 - outer) / (90.0 - peak_deg), [0.0]])
        base = cls(np.concatenate([inner, outer, [180.0]]), cd)
        return base.scaled(lumens / base.lumens())


# -- IES LM-63 ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Photometry:
    """The content of an IES LM-63 file (type C photometry)."""

    keywords: Mapping[str, str]
    lamps: int
    lumens_per_lamp: float  # -1: absolute photometry
    multiplier: float
    vertical_deg: FloatArray
    horizontal_deg: FloatArray
    candela: FloatArray  # (horizontal, vertical)
    ballast_factor: float = 1.0
    input_watts: float = 0.0

    def distribution(self) -> Distribution:
        """Candela by vertical angle, averaged over the horizontal angles given.

        The horizontal angles cover the file's symmetry (one angle: symmetric about
        the nadir; 0-90, 0-180 or 0-360), so their trapezoidal mean over that span is
        the mean around the whole circle.
        """
        cd = self.candela * self.multiplier * self.ballast_factor
        h = self.horizontal_deg
        mean = cd[0] if len(h) == 1 else np.trapezoid(cd, h, axis=0) / (h[-1] - h[0])
        return Distribution(self.vertical_deg.astype(float), np.asarray(mean, dtype=float))


def _numbers(tokens: Sequence[str], n: int, what: str, pos: int) -> tuple[FloatArray, int]:
    if pos + n > len(tokens):
        raise LightingDataError(f"the LM-63 file ends early: expected {n} value(s) for {what}")
    try:
        return np.array([float(t) for t in tokens[pos:pos + n]]), pos + n
    except ValueError as exc:
        raise LightingDataError(f"the LM-63 file has a non-number among the {what}: "
                                f"{exc}") from None


def parse_lm63(text: str) -> Photometry:
    """A :class:`Photometry` from the text of an IES LM-63 (1991, 1995, 2002, 2019) file."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    keywords: dict[str, str] = {}
    i = 0
    if lines and lines[0].strip().upper().startswith("IESNA"):
        i = 1
    while i < len(lines) and not lines[i].strip().upper().startswith("TILT"):
        m = re.match(r"\s*\[([^\]]+)\]\s*(.*)", lines[i])
        if m:
            keywords[m.group(1).strip().upper()] = m.group(2).strip()
        i += 1
    if i == len(lines):
        raise LightingDataError("not an IES LM-63 file: no TILT= line found")
    tilt = lines[i].split("=", 1)[1].strip().upper() if "=" in lines[i] else ""
    tokens = " ".join(lines[i + 1:]).replace(",", " ").split()
    pos = 0
    if tilt == "INCLUDE":
        (_geometry, n_tilt), pos = _numbers(tokens, 2, "tilt header", pos)
        _, pos = _numbers(tokens, 2 * int(n_tilt), "tilt angles and factors", pos)
    elif tilt != "NONE":
        raise LightingDataError(f"TILT={tilt} (a separate tilt file) is not supported; "
                                "use TILT=NONE or TILT=INCLUDE")
    head, pos = _numbers(tokens, 13, "header numbers", pos)
    lamps, lumens, mult, n_v, n_h, ptype = head[:6]
    ballast, _future, watts = head[10:13]
    if int(ptype) != 1:
        raise LightingDataError(f"photometric type {int(ptype)} is not supported (only type C, "
                                "used for street and area lighting)")
    n_v, n_h = int(n_v), int(n_h)
    if n_v < 2 or n_h < 1:
        raise LightingDataError(f"the file gives {n_v} vertical and {n_h} horizontal angles")
    v, pos = _numbers(tokens, n_v, "vertical angles", pos)
    h, pos = _numbers(tokens, n_h, "horizontal angles", pos)
    cd, pos = _numbers(tokens, n_v * n_h, "candela values", pos)
    if np.any(np.diff(v) <= 0) or v[0] < 0 or v[-1] > 180:
        raise LightingDataError("vertical angles must increase within 0-180 degrees")
    if n_h > 1 and (np.any(np.diff(h) <= 0) or h[0] != 0 or h[-1] not in (90, 180, 360)):
        raise LightingDataError("horizontal angles must increase from 0 to 90, 180 or 360")
    if np.any(cd < 0):
        raise LightingDataError("candela values cannot be negative")
    return Photometry(keywords=keywords, lamps=int(lamps), lumens_per_lamp=float(lumens),
                      multiplier=float(mult), vertical_deg=v, horizontal_deg=h,
                      candela=cd.reshape(n_h, n_v), ballast_factor=float(ballast),
                      input_watts=float(watts))


def read_lm63(path: str | Path) -> Photometry:
    try:
        text = Path(path).read_text(encoding="latin-1")
    except OSError as exc:
        raise LightingDataError(f"cannot read {path}: {exc}") from None
    return parse_lm63(text)


def format_lm63(p: Photometry) -> str:
    """LM-63-2002 text for ``p`` (what :func:`parse_lm63` reads back)."""
    out = ["IESNA:LM-63-2002", *(f"[{k}] {v}" for k, v in p.keywords.items()), "TILT=NONE"]
    out.append(f"{p.lamps} {p.lumens_per_lamp:g} {p.multiplier:g} {len(p.vertical_deg)} "
               f"{len(p.horizontal_deg)} 1 2 0 0 0")
    out.append(f"{p.ballast_factor:g} 1 {p.input_watts:g}")
    out.append(" ".join(f"{a:g}" for a in p.vertical_deg))
    out.append(" ".join(f"{a:g}" for a in p.horizontal_deg))
    out += [" ".join(f"{c:.6g}" for c in row) for row in p.candela]
    return "\n".join(out) + "\n"


# -- lighting data: defaults and targets -----------------------------------------------------

@dataclass(frozen=True)
class Target:
    street_class: str
    category: str
    avg_lux: float
    ev_min_lux: float
    avg_to_min: float
    source: str

    @property
    def min_lux(self) -> float:
        return self.avg_lux / self.avg_to_min


@dataclass(frozen=True)
class LightingData:
    maintenance_factor: float
    reach_heights: float
    light_output_ratio: float
    sample_spacing_m: float
    default_height_m: float
    default_watts: float
    default_fixture: str
    fixtures: Mapping[str, Mapping[str, Any]]  # TOML tables
    targets: Mapping[str, Target]
    sources: Mapping[str, str]
    photometry: Mapping[str, Distribution] = field(default_factory=dict)  # per 1000 lm

    def fixture_lumens(self, fixture: str, watts: float) -> float | None:
        """Luminaire lumens for ``watts`` of ``fixture`` (None when the type is unknown)."""
        f = self.fixtures.get(fixture)
        if f is None:
            return None
        if "lumens_by_watts" in f:
            table = {float(k): float(v) for k, v in f["lumens_by_watts"].items()}
            nearest = min(table, key=lambda w: abs(w - watts))
            lumens = table[nearest] * watts / nearest
        else:
            lumens = float(f["lumens_per_watt"]) * watts
        return lumens * (self.light_output_ratio if f.get("lamp_lumens") else 1.0)


def load_lighting_data(path: str | Path | None = None) -> LightingData:
    """Defaults, model constants and targets (default: ``cpted/data/lighting.toml``)."""
    p = Path(path) if path else LIGHTING_DATA
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise LightingDataError(f"cannot read the lighting data {p}: {exc}") from None
    problems = []
    sources = raw.get("sources", {})
    targets = {}
    for cls, t in raw.get("targets", {}).items():
        try:
            targets[cls] = Target(cls, str(t["category"]), float(t["avg_lux"]),
                                  float(t["ev_min_lux"]), float(t["avg_to_min"]),
                                  str(t["source"]))
        except (KeyError, TypeError, ValueError) as exc:
            problems.append(f"target {cls}: {exc!r} (need category, avg_lux, ev_min_lux, "
                            "avg_to_min, source)")
            continue
        if t["source"] not in sources:
            problems.append(f"target {cls}: source {t['source']!r} is not under [sources]")
        if not (targets[cls].avg_lux > 0 and targets[cls].avg_to_min >= 1):
            problems.append(f"target {cls}: avg_lux must be positive and avg_to_min >= 1")
    for name, f in raw.get("fixtures", {}).items():
        if "lumens_by_watts" not in f and "lumens_per_watt" not in f:
            problems.append(f"fixture {name}: give lumens_by_watts or lumens_per_watt")
    photometry = {}
    for name, f in raw.get("fixtures", {}).items():
        if "ies_file" in f:  # relative to the data file
            try:
                dist = read_lm63(p.parent / str(f["ies_file"])).distribution()
                photometry[name] = dist.scaled(1000.0 / dist.lumens())
            except LightingDataError as exc:
                problems.append(f"fixture {name}: {exc}")
    model, defaults = raw.get("model", {}), raw.get("defaults", {})
    if defaults.get("fixture_type") not in raw.get("fixtures", {}):
        problems.append("defaults.fixture_type must name one of the [fixtures]")
    if problems:
        raise LightingDataError(f"{p.name} has {len(problems)} problem(s)", problems)
    return LightingData(
        maintenance_factor=float(model.get("maintenance_factor", 0.8)),
        reach_heights=float(model.get("reach_heights", 5.0)),
        light_output_ratio=float(model.get("light_output_ratio", 0.75)),
        sample_spacing_m=float(model.get("sample_spacing_m", 5.0)),
        default_height_m=float(defaults.get("mounting_height_m", 9.0)),
        default_watts=float(defaults.get("watts", 150)),
        default_fixture=str(defaults["fixture_type"]),
        fixtures=raw.get("fixtures", {}), targets=targets, sources=sources,
        photometry=photometry)


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

    def __len__(self) -> int:
        return len(self.ids)

    def warning(self) -> str | None:
        n = int(self.defaulted.sum())
        if not n:
            return None
        return (f"{n:,} of {len(self):,} poles lack lumens, wattage, fixture type or mounting "
                "height; documented defaults were used for them (see the lighting data)")

    def with_changes(self, *, out: NDArray[np.bool_] | None = None,
                     lumens: FloatArray | None = None) -> Inventory:
        return Inventory(self.ids, self.x, self.y, self.height_m,
                         self.lumens if lumens is None else lumens, self.fixture,
                         self.out if out is None else out, self.defaulted, self.crs)

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
            np.concatenate([self.defaulted, np.zeros(n, dtype=bool)]), self.crs)


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
    """Poles of the streetlights layer with lumens and heights resolved.

    Lumens given are luminaire lumens. Otherwise watts (or the default) times the
    fixture type's efficacy (or the default type's). ``out_ids`` are marked out, as are
    poles whose status is ``out``.
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
                     out, defaulted, crs)


#: The category of a resident's "this light is out" report, and how near a pole it must
#: be to count against that pole.
OUTAGE_SERVICE_CODE = "streetlight_out"
OUTAGE_RADIUS_M = 30.0
#: What "out" means wherever poles out are counted (:func:`poles_out`).
POLES_OUT_MEANING = (f"Status 'out' in the pole inventory, or an open 'streetlight out' "
                     f"report within {OUTAGE_RADIUS_M:g} m of the pole (matched to its "
                     "nearest pole).")


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

def _intensity(inv: Inventory, data: LightingData, pole: NDArray[np.intp],
               theta_deg: FloatArray) -> FloatArray:
    """Candela of each (pole, angle) pair, from the pole's fixture photometry or the default."""
    out = np.empty_like(theta_deg)
    fixtures = inv.fixture[pole]
    done = np.zeros(len(pole), dtype=bool)
    for name, dist in data.photometry.items():
        m = fixtures == name
        if m.any():
            out[m] = dist.intensity(theta_deg[m]) * inv.lumens[pole[m]] / 1000.0
            done |= m
    rest = ~done
    if rest.any():
        out[rest] = _DEFAULT.intensity(theta_deg[rest]) * inv.lumens[pole[rest]] / 1000.0
    return out


#: The default distribution for 1000 lm (see :meth:`Distribution.even_field`).
_DEFAULT = Distribution.even_field(1000.0)


def pair_illuminance(inv: Inventory, data: LightingData, pole: NDArray[np.intp],
                     px: FloatArray, py: FloatArray, *, vertical: bool = False) -> FloatArray:
    """Illuminance at points ``(px, py)`` from poles ``pole`` (one pole per point)."""
    h = inv.height_m[pole]
    d = np.hypot(px - inv.x[pole], py - inv.y[pole])
    theta = np.degrees(np.arctan2(d, h))
    r2 = d * d + h * h
    cos = h / np.sqrt(r2)
    i = _intensity(inv, data, pole, theta) * data.maintenance_factor
    i = np.where(inv.out[pole] | (d > data.reach_heights * h), 0.0, i)
    if vertical:
        return i * cos * cos * (d / np.sqrt(r2)) / (h * h)
    return i * cos**3 / (h * h)


def illuminance(inv: Inventory, data: LightingData, x: FloatArray, y: FloatArray, *,
                vertical: bool = False, chunk_poles: int = 2000) -> FloatArray:
    """Lux at each point ``(x[k], y[k])`` (metric CRS of ``inv``) from every working pole.

    Horizontal illuminance, or with ``vertical`` the sum over poles of the vertical
    illuminance on a plane facing each pole.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    total = np.zeros(len(x))
    lit = np.flatnonzero(~inv.out)
    if len(lit) == 0 or len(x) == 0:
        return total
    tree = shapely.STRtree(shapely.points(x, y))
    for lo in range(0, len(lit), chunk_poles):
        poles = lit[lo:lo + chunk_poles]
        reach = float(inv.height_m[poles].max() * data.reach_heights)
        centres = shapely.points(inv.x[poles], inv.y[poles])
        pi, pj = tree.query(centres, predicate="dwithin", distance=reach)
        pole = poles[pi]
        e = pair_illuminance(inv, data, pole, x[pj], y[pj], vertical=vertical)
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


def segment_lux(streets: gpd.GeoDataFrame, inv: Inventory, data: LightingData,
                *, spacing_m: float | None = None) -> pd.DataFrame:
    """Average, minimum and uniformity of horizontal lux along each street, and its verdict.

    Columns: ``id``, ``name`` (the street's name, ``None`` where it has none),
    ``class``, ``length_m``, ``avg_lux``, ``min_lux``, ``avg_to_min``, ``target_avg``,
    ``target_min``, ``dark`` (bool: any of the three RP-8 tests failed) and ``why``
    (which failed: "average", "minimum", "uniformity").
    """
    metric = streets.to_crs(inv.crs)
    x, y, seg = sample_streets(metric.geometry, spacing_m or data.sample_spacing_m)
    e = illuminance(inv, data, x, y)
    frame = pd.DataFrame({"seg": seg, "e": e})
    g = frame.groupby("seg")["e"]
    n = len(streets)
    avg = g.mean().reindex(range(n)).to_numpy()
    mn = g.min().reindex(range(n)).to_numpy()
    classes = (streets["class"].astype(object).fillna("local").to_numpy()
               if "class" in streets.columns else np.full(n, "local", dtype=object))
    t_avg = np.array([data.targets.get(str(c), data.targets["local"]).avg_lux for c in classes])
    t_ratio = np.array([data.targets.get(str(c), data.targets["local"]).avg_to_min
                        for c in classes])
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(mn > 0, avg / mn, np.inf)
    why = []
    for a, m, r, ta, tr in zip(avg, mn, ratio, t_avg, t_ratio, strict=True):
        reasons = []
        if a < ta:
            reasons.append("average")
        if m < ta / tr:
            reasons.append("minimum")
        if r > tr:
            reasons.append("uniformity")
        why.append(", ".join(reasons))
    names = (np.array([v if isinstance(v, str) and v.strip() else None
                       for v in streets["name"]], dtype=object)
             if "name" in streets.columns else np.full(n, None, dtype=object))
    return pd.DataFrame({
        "id": streets["id"].astype(str).to_numpy() if "id" in streets.columns else np.arange(n),
        "name": pd.Series(names, dtype=object), "class": classes,
        "length_m": metric.geometry.length.to_numpy(),
        "avg_lux": avg, "min_lux": mn, "avg_to_min": ratio, "target_avg": t_avg,
        "target_min": t_avg / t_ratio,
        "dark": np.array([bool(w) for w in why]), "why": why})


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
