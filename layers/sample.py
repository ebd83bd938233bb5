"""A seeded generator for the bundled sample district.

The district is synthetic: a 2.4 x 1.8 km grid of blocks placed south of
downtown Kansas City, MO (so the app opens on a believable map in the
project's default time zone), cut into eight neighborhoods by two arterials
and four collectors, with a curved subdivision of cul-de-sacs in one corner,
alleys in another, a few missing links that leave dead ends, building
footprints along the block faces, streetlights at 30-60 m spacing by street
class with some outages and some unlit stretches, and two years of concern
reports clustered in space and time (dark-area reports gather near outages
and unlit stretches, mostly at night).

The same seed gives byte-identical files: every random draw comes from one
``numpy.random.Generator`` in a fixed order, and coordinates are written
rounded to 1e-6 degrees (about 0.1 m).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pyproj
import shapely
from shapely.geometry import LineString, Point, Polygon, mapping

from layers.schema import OPEN311_STATUS, DetailedStatus

DEFAULT_SEED = 20261121
TIMEZONE = "America/Chicago"
ORIGIN_LONLAT = (-94.5905, 39.0320)  # south-west corner of the district
WIDTH_M, HEIGHT_M = 2400.0, 1800.0
X_STEP, Y_STEP = 100.0, 120.0
ARTERIAL_X, ARTERIAL_Y = (1200.0,), (960.0,)
COLLECTOR_X, COLLECTOR_Y = (600.0, 1800.0), (480.0, 1440.0)
CURVED_CELL = (1800.0, 0.0, 2400.0, 960.0)  # minx, miny, maxx, maxy
ALLEY_CELL = (0.0, 960.0, 600.0, 1800.0)
PERIOD_START = datetime(2024, 11, 1, tzinfo=ZoneInfo(TIMEZONE))
PERIOD_DAYS = 730
N_CONCERNS = 2000

NEIGHBORHOOD_NAMES = [
    "Marlborough Flats", "Cedar Bend", "Holloway Park", "Riverside East",
    "Linden Heights", "Oakgrove", "Santa Fe Commons", "Prospect Ridge",
]
EW_NAMES = ["Alder", "Birch", "Chestnut", "Dogwood", "Elm", "Fir", "Gum", "Hazel", "Ivy",
            "Juniper", "Kapok", "Larch", "Maple", "Nutmeg", "Olive", "Pine"]

#: Categories of the sample's concerns: (service_code, service_name, share, night share).
CATEGORIES = [
    ("dark_area", "Dark area / lighting", 0.20, 0.85),
    ("streetlight_out", "Streetlight out", 0.15, 0.80),
    ("overgrown_vegetation", "Overgrown vegetation blocking sightlines", 0.14, 0.20),
    ("vacant_property", "Vacant or open building", 0.10, 0.30),
    ("illegal_dumping", "Illegal dumping", 0.12, 0.40),
    ("graffiti", "Graffiti", 0.11, 0.35),
    ("abandoned_vehicle", "Abandoned vehicle", 0.08, 0.25),
    ("broken_sidewalk", "Broken sidewalk or trip hazard", 0.10, 0.15),
    ("drug_activity", "Suspected drug activity", 0.03, 0.60),
    ("harassment", "Harassment or threats at a place", 0.02, 0.50),
]
DESCRIPTIONS = {
    "dark_area": ["Very dark stretch, can't see who is ahead", "Alley is pitch black at night",
                  "Bus stop has no light after dusk", "Corner feels unsafe once it's dark"],
    "streetlight_out": ["Light on the pole by the corner is out", "Streetlight flickers then dies",
                        "Two lights out in a row on this block", "Pole light out for a week"],
    "overgrown_vegetation": ["Hedges block the view of the sidewalk",
                             "Tree branches cover the light",
                             "Overgrown lot, can't see the path", "Bushes hide the doorway"],
    "vacant_property": ["House open to the street, door off hinges", "Vacant house, windows broken",
                        "Empty storefront, people going in at night"],
    "illegal_dumping": ["Mattresses and tires dumped in the alley", "Trash piled by the fence",
                        "Construction debris left on the lot"],
    "graffiti": ["Tags on the underpass wall", "Graffiti on the bus shelter",
                 "New tags on the corner store"],
    "abandoned_vehicle": ["Car with flat tires, hasn't moved in weeks",
                          "Van with smashed windows parked for a month"],
    "broken_sidewalk": ["Sidewalk heaved by roots, people trip", "Missing slab by the crosswalk"],
    "drug_activity": ["Cars stop for a minute and leave all night", "Hand-offs by the side door"],
    "harassment": ["People shouted at walking home", "Group blocks the sidewalk and threatens"],
}


@dataclass(frozen=True)
class Street:
    line: LineString
    name: str
    cls: str


def _inside(x: float, y: float, cell: tuple[float, float, float, float]) -> bool:
    return cell[0] < x < cell[2] and cell[1] < y < cell[3]


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _class_x(x: float) -> str:
    return "arterial" if x in ARTERIAL_X else "collector" if x in COLLECTOR_X else "local"


def _class_y(y: float) -> str:
    return "arterial" if y in ARTERIAL_Y else "collector" if y in COLLECTOR_Y else "local"


def _streets(rng: np.random.Generator) -> list[Street]:
    xs = np.arange(0.0, WIDTH_M + 1, X_STEP)
    ys = np.arange(0.0, HEIGHT_M + 1, Y_STEP)
    out: list[Street] = []
    for i, x in enumerate(xs):
        cls = _class_x(x)
        name = "Prospect Ave" if cls == "arterial" else f"{_ordinal(30 + i)} St"
        for y0, y1 in itertools.pairwise(ys):
            if cls == "local" and _inside(x, (y0 + y1) / 2, CURVED_CELL):
                continue
            if cls == "local" and rng.random() < 0.05:
                continue  # a missing link: leaves dead ends
            out.append(Street(LineString([(x, y0), (x, y1)]), name, cls))
    for j, y in enumerate(ys):
        cls = _class_y(y)
        name = "Linwood Blvd" if cls == "arterial" else f"{EW_NAMES[j % len(EW_NAMES)]} Ave"
        for x0, x1 in itertools.pairwise(xs):
            if cls == "local" and _inside((x0 + x1) / 2, y, CURVED_CELL):
                continue
            if cls == "local" and rng.random() < 0.05:
                continue
            out.append(Street(LineString([(x0, y), (x1, y)]), name, cls))
    # Alleys behind the houses in one neighborhood.
    for y in ys[:-1] + Y_STEP / 2:
        if ALLEY_CELL[1] < y < ALLEY_CELL[3]:
            for x0 in np.arange(ALLEY_CELL[0], ALLEY_CELL[2], X_STEP):
                out.append(Street(LineString([(x0, y), (x0 + X_STEP, y)]), "Alley", "alley"))
    # Curved streets and cul-de-sacs in the subdivision.
    minx, miny, maxx, maxy = CURVED_CELL
    names = ["Willow Bend", "Heron Way", "Quail Run", "Fox Hollow"]
    for k, y_base in enumerate(np.linspace(miny + 150, maxy - 200, 4)):
        t = np.linspace(0, 1, 25)
        x = minx + t * (maxx - minx - 90)
        y = y_base + 35 * np.sin(t * np.pi * 2 + k)
        line = LineString(np.column_stack([x, y]))
        # Split into ~100 m pieces so segments are comparable to the grid's.
        for a, b in zip(range(0, 24, 4), range(4, 25, 4), strict=True):
            out.append(Street(LineString(line.coords[a:b + 1]), names[k], "local"))
        stub = LineString([(x[12], y[12]), (x[12] + 10, y[12] - 70)])
        out.append(Street(stub, f"{names[k]} Ct", "local"))
    return out


def _buildings(rng: np.random.Generator, streets: list[Street]) -> list[tuple[Polygon, float]]:
    placed: list[Polygon] = []
    heights: list[float] = []
    lines = [s.line for s in streets]
    tree = shapely.STRtree(lines)
    for s in streets:
        if s.cls in ("alley",):
            continue
        coords = np.asarray(s.line.coords)
        horizontal = abs(coords[-1][1] - coords[0][1]) < 1
        curved = len(coords) > 2
        if not (horizontal or curved):
            continue
        length = s.line.length
        pos = 14.0
        while pos < length - 14:
            width = rng.uniform(9, 15 if s.cls == "local" else 22)
            depth = rng.uniform(10, 16 if s.cls == "local" else 24)
            setback = rng.uniform(7, 11) + (4 if s.cls != "local" else 0)
            vacant_lot = rng.random() < 0.07
            for side in (-1.0, 1.0):
                p = s.line.interpolate(pos)
                q = s.line.interpolate(min(pos + 1, length))
                dx, dy = q.x - p.x, q.y - p.y
                norm = np.hypot(dx, dy) or 1.0
                ux, uy = dx / norm, dy / norm
                nx, ny = -uy * side, ux * side
                cx = p.x + nx * (setback + depth / 2)
                cy = p.y + ny * (setback + depth / 2)
                hw, hd = width / 2, depth / 2
                corners = [(cx + ux * a * hw + nx * b * hd, cy + uy * a * hw + ny * b * hd)
                           for a, b in ((-1, -1), (1, -1), (1, 1), (-1, 1))]
                poly = Polygon(corners)
                if vacant_lot and side > 0:
                    continue
                near = tree.query(poly.buffer(3))
                if len(near):
                    continue
                if any(poly.intersects(o) for o in placed[-40:]):
                    continue
                placed.append(poly)
                heights.append(round(float(rng.choice([4.5, 6.0, 7.5, 9.0, 12.0],
                                                       p=[0.2, 0.35, 0.25, 0.15, 0.05])), 1))
            pos += width + rng.uniform(3, 9)
    return list(zip(placed, heights, strict=True))


LIGHT_SPEC = {
    # class: (spacing_m, lumens, watts, mounting_height_m, fixture_type)
    "arterial": (35.0, 15000.0, 150.0, 10.0, "LED cobra head"),
    "collector": (42.0, 9500.0, 100.0, 9.0, "HPS cobra head"),
    "local": (55.0, 5000.0, 45.0, 7.5, "LED cobra head"),
    "alley": (60.0, 3000.0, 30.0, 6.0, "LED wall pack"),
}


def _lights(
    rng: np.random.Generator, streets: list[Street]
) -> tuple[list[dict[str, Any]], list[Point]]:
    lights: list[dict[str, Any]] = []
    gaps: list[Point] = []
    for s in streets:
        spacing, lumens, watts, height, fixture = LIGHT_SPEC[s.cls]
        if s.cls == "local" and rng.random() < 0.5:
            lumens, watts, fixture = 8000.0, 100.0, "HPS cobra head"
        if s.cls in ("local", "alley") and rng.random() < 0.09:
            gaps.append(s.line.interpolate(0.5, normalized=True))
            continue  # an unlit stretch
        spacing = float(np.clip(spacing * rng.uniform(0.85, 1.15), 30, 60))
        n = max(1, int(s.line.length // spacing))
        offset = rng.uniform(0, spacing / 2)
        for k in range(n):
            pos = min(offset + k * spacing, s.line.length)
            p = s.line.interpolate(pos)
            q = s.line.interpolate(min(pos + 1, s.line.length))
            d = np.array([q.x - p.x, q.y - p.y])
            d = d / (np.hypot(*d) or 1.0)
            side = 1 if k % 2 == 0 else -1
            pt = Point(p.x - d[1] * 6 * side, p.y + d[0] * 6 * side)
            r = rng.random()
            status = "out" if r < 0.07 else "unknown" if r < 0.10 else "working"
            lights.append({"point": pt, "lumens": lumens, "watts": watts,
                           "mounting_height_m": height, "status": status,
                           "fixture_type": fixture})
    return lights, gaps


def _neighborhoods(rng: np.random.Generator) -> list[tuple[Polygon, str, int]]:
    xs = [0.0, 600.0, 1200.0, 1800.0, 2400.0]
    ys = [0.0, 960.0, 1800.0]
    out = []
    k = 0
    for j in range(2):
        for i in range(4):
            poly = shapely.box(xs[i], ys[j], xs[i + 1], ys[j + 1])
            out.append((poly, NEIGHBORHOOD_NAMES[k], int(rng.integers(1800, 5200))))
            k += 1
    return out


def _concerns(rng: np.random.Generator, streets: list[Street], lights: list[dict[str, Any]],
              gaps: list[Point]) -> list[dict[str, Any]]:
    outs = [lt["point"] for lt in lights if lt["status"] == "out"]
    hot = [(rng.uniform(150, WIDTH_M - 150), rng.uniform(150, HEIGHT_M - 150)) for _ in range(12)]
    hot_start = rng.uniform(0, PERIOD_DAYS - 200, size=len(hot))
    hot_len = rng.uniform(60, 240, size=len(hot))
    tree = shapely.STRtree([s.line for s in streets])
    codes = [c[0] for c in CATEGORIES]
    shares = np.array([c[2] for c in CATEGORIES])
    night_share = {c[0]: c[3] for c in CATEGORIES}
    names = {c[0]: c[1] for c in CATEGORIES}
    end = PERIOD_START + timedelta(days=PERIOD_DAYS)
    rows = []
    for _ in range(N_CONCERNS):
        code = str(rng.choice(codes, p=shares / shares.sum()))
        if code in ("dark_area", "streetlight_out") and rng.random() < 0.8:
            anchors = outs if code == "streetlight_out" or not gaps else (
                gaps if rng.random() < 0.6 else outs)
            a = anchors[int(rng.integers(len(anchors)))]
            x, y = a.x + rng.normal(0, 20), a.y + rng.normal(0, 20)
            day = rng.uniform(0, PERIOD_DAYS)
        elif rng.random() < 0.75:
            h = int(rng.integers(len(hot)))
            x, y = hot[h][0] + rng.normal(0, 55), hot[h][1] + rng.normal(0, 55)
            day = hot_start[h] + rng.uniform(0, hot_len[h])
        else:
            x, y = rng.uniform(0, WIDTH_M), rng.uniform(0, HEIGHT_M)
            day = rng.uniform(0, PERIOD_DAYS)
        x, y = float(np.clip(x, 5, WIDTH_M - 5)), float(np.clip(y, 5, HEIGHT_M - 5))
        day = float(np.clip(day, 0, PERIOD_DAYS - 1))
        night = rng.random() < night_share[code]
        hour = int(rng.choice([19, 20, 21, 22, 23, 0, 1, 2, 4])) if night else int(
            rng.integers(7, 19))
        when = (PERIOD_START + timedelta(days=int(day))).replace(
            hour=hour, minute=int(rng.integers(60)))
        age = (end - when).total_seconds() / 86400
        # Most reports close within weeks; some stay in the backlog for good.
        close_after = float(rng.exponential(28)) if rng.random() > 0.15 else float("inf")
        if close_after < age:
            detailed = str(rng.choice(
                ["fixed", "not fixed - no further action", "duplicate", "referred", "closed"],
                p=[0.64, 0.1, 0.08, 0.08, 0.1]))
            updated = when + timedelta(days=close_after)
        else:
            detailed = "submitted" if age < 7 else str(rng.choice(
                ["acknowledged", "in progress", "action scheduled"], p=[0.4, 0.3, 0.3]))
            updated = when + timedelta(days=float(rng.uniform(0, max(age, 0.0))))
        nearest = streets[int(tree.nearest(Point(x, y)))]
        texts = DESCRIPTIONS[code]
        rows.append({
            "point": Point(x, y), "when": when, "updated": updated, "code": code,
            "name": names[code], "detailed": detailed,
            "description": texts[int(rng.integers(len(texts)))],
            "address": f"{int(100 * round(x / 25))} block of {nearest.name}",
            "time_of_day": "night" if night else "day",
        })
    rows.sort(key=lambda r: r["when"])
    return rows


def _to_wgs84() -> _Shifted:
    utm = pyproj.CRS.from_epsg(32615)
    fwd = pyproj.Transformer.from_crs(4326, utm, always_xy=True)
    ox, oy = fwd.transform(*ORIGIN_LONLAT)
    inv = pyproj.Transformer.from_crs(utm, 4326, always_xy=True)
    return _Shifted(inv, ox, oy)


class _Shifted:
    """Local metres (x east, y north from the origin) to WGS84 lon/lat."""

    def __init__(self, inv: pyproj.Transformer, ox: float, oy: float) -> None:
        self.inv, self.ox, self.oy = inv, ox, oy

    def __call__(self, geom: shapely.Geometry) -> shapely.Geometry:
        def f(xy: np.ndarray) -> np.ndarray:
            lon, lat = self.inv.transform(xy[:, 0] + self.ox, xy[:, 1] + self.oy)
            return np.round(np.column_stack([lon, lat]), 6)

        return shapely.transform(geom, f)


def _utc(t: datetime) -> str:
    return t.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%SZ")


def _features(items: Iterable[tuple[shapely.Geometry, dict[str, Any]]]) -> list[dict[str, Any]]:
    return [{"type": "Feature", "properties": props, "geometry": mapping(geom)}
            for geom, props in items]


def generate(seed: int = DEFAULT_SEED) -> dict[str, list[dict[str, Any]]]:
    """The sample district's layers as GeoJSON feature lists (WGS84), keyed by layer name."""
    rng = np.random.default_rng(seed)
    to84 = _to_wgs84()
    streets = _streets(rng)
    buildings = _buildings(rng, streets)
    lights, gaps = _lights(rng, streets)
    hoods = _neighborhoods(rng)
    concerns = _concerns(rng, streets, lights, gaps)
    layers: dict[str, list[dict[str, Any]]] = {}
    layers["neighborhoods"] = _features(
        (to84(p), {"id": f"N{i + 1}", "name": name, "population": pop})
        for i, (p, name, pop) in enumerate(hoods))
    layers["streets"] = _features(
        (to84(s.line), {"id": f"ST-{i + 1:04d}", "name": s.name, "class": s.cls})
        for i, s in enumerate(streets))
    layers["buildings"] = _features(
        (to84(p), {"id": f"B-{i + 1:05d}", "height_m": h}) for i, (p, h) in enumerate(buildings))
    layers["streetlights"] = _features(
        (to84(lt["point"]), {"id": f"SL-{i + 1:05d}", **{k: v for k, v in lt.items()
                                                          if k != "point"}})
        for i, lt in enumerate(lights))
    layers["concerns"] = _features(
        (to84(c["point"]), {
            "service_request_id": f"SD-{c['when'].year}-{i + 1:05d}",
            "service_code": c["code"], "service_name": c["name"],
            "description": c["description"], "address": c["address"],
            "requested_datetime": _utc(c["when"]), "updated_datetime": _utc(c["updated"]),
            "status": OPEN311_STATUS[DetailedStatus(c["detailed"])].value,
            "detailed_status": c["detailed"], "time_of_day": c["time_of_day"],
            "source": "sample",
        })
        for i, c in enumerate(concerns))
    return layers


def write_geojson(features: list[dict[str, Any]], path: Path, *, name: str) -> None:
    """Write features as GeoJSON, one feature per line, deterministically."""
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write('{"type":"FeatureCollection","name":' + json.dumps(name) + ',"features":[\n')
        for k, feat in enumerate(features):
            sep = ",\n" if k < len(features) - 1 else "\n"
            f.write(json.dumps(feat, separators=(",", ":"), ensure_ascii=False) + sep)
        f.write("]}\n")


#: Layers in the order they are loaded (neighborhoods first: they define the project area).
LAYER_ORDER = ("neighborhoods", "streets", "buildings", "streetlights", "concerns")


def write_sample(out_dir: Path, seed: int = DEFAULT_SEED) -> dict[str, Path]:
    """Generate the district and write one GeoJSON file per layer into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, feats in generate(seed).items():
        path = out_dir / f"{name}.geojson"
        write_geojson(feats, path, name=name)
        paths[name] = path
    return paths
