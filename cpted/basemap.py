"""A base map made from the store's own layers, as vector tiles the app serves itself.

Every map is drawn over the neighborhoods (outlines, with their names), the streets
(the main ones when a whole city is in view, all of them by class closer in, named at
the closest zooms) and, at the closest zooms, the buildings: an officer
can tell where a hot-spot cell is without any tile server. The layers are cut into
Mapbox Vector Tiles by GDAL's MBTiles driver (through pyogrio), one tile set a layer,
each only at the zooms where it is drawn, so a first view of a whole city sends a few
hundred kilobytes rather than every line (``benchmarks/page_bench.py`` measures it).

A tile set is named by a digest of what it holds, so it is built once per content, can
be cached by browsers for good, and a changed layer gets new tiles. Only the base layers
and only the columns named in :data:`BASE_LAYERS` go into it: never a concern, never a
note.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import shutil
import sqlite3
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from layers.crs import WGS84
from layers.errors import CptedError


@dataclass(frozen=True)
class BaseLayer:
    """One tile set: what it draws and from which zoom to which."""

    name: str
    minzoom: int
    maxzoom: int
    columns: tuple[str, ...]


#: The tile sets, in drawing order. Zooms are web-map zooms: 11 shows a city, 14 a
#: neighborhood, 16 a block. Past ``maxzoom`` the client draws the last tiles larger.
BASE_LAYERS = (
    BaseLayer("areas", 9, 15, ("name",)),
    BaseLayer("area_labels", 9, 15, ("name",)),
    BaseLayer("major_streets", 9, 12, ("name", "class")),
    BaseLayer("streets", 13, 16, ("name", "class")),
    BaseLayer("buildings", 15, 16, ()),
)
#: The street classes drawn when a whole city is in view (``major_streets``).
MAJOR_CLASSES = ("arterial", "collector")
#: The most any tile set is cut to; the client overzooms beyond it.
MAX_DATA_ZOOM = 16

_KEY = re.compile(r"[0-9a-f]{16}")
_LOCK = threading.Lock()


class BasemapError(CptedError, RuntimeError):
    """The base map's tiles could not be built."""


def valid_key(key: str) -> bool:
    """Whether ``key`` has the shape :func:`basemap_key` gives (16 hexadecimal digits)."""
    return _KEY.fullmatch(key) is not None


def default_dir() -> Path:
    """Where tile sets are kept when ``CPTED_BASEMAP_DIR`` is not set: the user's cache."""
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "cpted-mapper" / "basemap"


def base_frames(neighborhoods: gpd.GeoDataFrame | None, streets: gpd.GeoDataFrame | None,
                buildings: gpd.GeoDataFrame | None) -> dict[str, gpd.GeoDataFrame]:
    """The tile sets' contents from the three store layers (any may be ``None`` or empty).

    Only the columns of :data:`BASE_LAYERS` are kept. Neighborhood names are also placed
    once each (``area_labels``), at the area's centre or, when that lies outside it, at a
    point inside, so a label is not repeated on every tile an area touches.
    """
    out: dict[str, gpd.GeoDataFrame] = {}

    def keep(frame: gpd.GeoDataFrame | None, columns: tuple[str, ...]) -> gpd.GeoDataFrame | None:
        if frame is None or frame.empty:
            return None
        frame = frame.to_crs(WGS84) if frame.crs is not None else frame.set_crs(WGS84)
        data = {c: frame[c].astype("string").fillna("").to_numpy(dtype=object)
                if c in frame else np.full(len(frame), "", dtype=object) for c in columns}
        return gpd.GeoDataFrame(data, geometry=frame.geometry.values, crs=WGS84)

    areas = keep(neighborhoods, ("name",))
    if areas is not None:
        out["areas"] = areas
        shapes = np.asarray(areas.geometry.values)
        centres = shapely.centroid(shapes)
        inside = shapely.contains(shapes, centres)  # an L-shaped area's centre may lie outside
        out["area_labels"] = gpd.GeoDataFrame(
            {"name": areas["name"].to_numpy()},
            geometry=np.where(inside, centres, shapely.point_on_surface(shapes)), crs=WGS84)
    for name, frame in (("streets", streets), ("buildings", buildings)):
        spec = next(b for b in BASE_LAYERS if b.name == name)
        kept = keep(frame, spec.columns)
        if kept is not None:
            out[name] = kept
    if "streets" in out:  # a city's view draws its main streets only, from fewer tiles
        major = out["streets"][out["streets"]["class"].isin(MAJOR_CLASSES)]
        if len(major):
            out["major_streets"] = major.reset_index(drop=True)
    return out


def basemap_key(frames: Mapping[str, gpd.GeoDataFrame]) -> str:
    """A digest of the tile sets' contents and zooms: the same content, the same key."""
    h = hashlib.sha256()
    for spec in BASE_LAYERS:
        h.update(f"{spec.name}:{spec.minzoom}:{spec.maxzoom}:{spec.columns};".encode())
        frame = frames.get(spec.name)
        if frame is None:
            continue
        h.update(str(len(frame)).encode())
        for wkb in shapely.to_wkb(np.asarray(frame.geometry.values), hex=False):
            h.update(wkb)
        for c in spec.columns:
            h.update("\x1f".join(map(str, frame[c].tolist())).encode())
    return h.hexdigest()[:16]


def ensure_basemap(frames: Mapping[str, gpd.GeoDataFrame], root: Path) -> tuple[str, list[str]]:
    """Build the tile sets for ``frames`` under ``root`` unless they are there already.

    Returns
    -------
    (key, names)
        The tile sets' key (their folder under ``root``) and the names of those built,
        in drawing order.

    Raises
    ------
    BasemapError
        GDAL could not write them; the message says why.
    """
    key = basemap_key(frames)
    names = [b.name for b in BASE_LAYERS if b.name in frames]
    folder = root / key
    if folder.is_dir():
        return key, names
    with _LOCK:  # two pages opening at once build one tile set
        if folder.is_dir():
            return key, names
        root.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=root))
        try:
            for spec in BASE_LAYERS:
                if spec.name not in frames:
                    continue
                pyogrio.write_dataframe(
                    frames[spec.name], work / f"{spec.name}.mbtiles", driver="MBTiles",
                    layer=spec.name,
                    dataset_options={"MINZOOM": str(spec.minzoom), "MAXZOOM": str(spec.maxzoom),
                                     "NAME": spec.name})
            work.rename(folder)  # whole or not at all: a half-built set is never served
        except Exception as exc:
            shutil.rmtree(work, ignore_errors=True)
            raise BasemapError(f"the base map could not be built: {exc}") from exc
    return key, names


def read_tile(root: Path, key: str, name: str, z: int, x: int, y: int) -> bytes | None:
    """One tile's uncompressed Mapbox Vector Tile bytes, or ``None`` when there is none.

    ``key`` and ``name`` come from a URL, so both are checked against what this module
    writes before any file is opened; coordinates are query parameters.
    """
    if not valid_key(key) or name not in {b.name for b in BASE_LAYERS}:
        return None
    path = root / key / f"{name}.mbtiles"
    if not path.is_file() or not (0 <= z <= 24 and 0 <= x < 2 ** z and 0 <= y < 2 ** z):
        return None
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        row = conn.execute(
            "SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?",
            (z, x, 2 ** z - 1 - y)).fetchone()  # MBTiles counts rows from the south
    if row is None:
        return None
    data = bytes(row[0])
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


def layer_frames(root: Path, key: str) -> dict[str, pd.DataFrame]:
    """What each built tile set holds, read back by GDAL (for tests and checks)."""
    out: dict[str, pd.DataFrame] = {}
    for spec in BASE_LAYERS:
        path = root / key / f"{spec.name}.mbtiles"
        if path.is_file():
            out[spec.name] = pyogrio.read_dataframe(path)
    return out
