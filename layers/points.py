"""Point locations as coordinate arrays, for layers too large to hold as shapely geometries.

A million concerns as a GeoDataFrame take seconds to read, pickle and project; as two
columns of doubles they take milliseconds. :meth:`layers.store.Store.read_points` reads
them so, and :mod:`cpted.maps` counts them in cells without making a geometry per row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import geopandas as gpd
import numpy as np
import pyproj
from numpy.typing import NDArray

from layers.crs import WGS84, metric_crs_for_bounds


@dataclass(frozen=True, eq=False)
class Points:
    """Point locations in EPSG:4326, one row per place, in no particular order.

    Attributes
    ----------
    xy : numpy.ndarray
        Shape ``(n, 2)``: x = longitude, y = latitude, in degrees; no NaN (rows without
        a location are left out when read).
    marked : numpy.ndarray
        Shape ``(n,)``, bool: the rows the reader asked to tell apart (see
        :meth:`layers.store.Store.read_points`); all False when none were.
    """

    xy: NDArray[np.float64]
    marked: NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, dtype=bool))

    def __post_init__(self) -> None:
        xy = np.asarray(self.xy, dtype=np.float64).reshape(-1, 2)
        marked = np.asarray(self.marked, dtype=bool)
        if not len(marked):
            marked = np.zeros(len(xy), dtype=bool)
        if marked.shape != (len(xy),):
            raise ValueError(f"marked should hold one flag per point ({len(xy)}), "
                             f"got shape {marked.shape}")
        # read-only, so a cached copy cannot be changed by whoever uses it
        xy.flags.writeable = False
        marked.flags.writeable = False
        object.__setattr__(self, "xy", xy)
        object.__setattr__(self, "marked", marked)

    @property
    def crs(self) -> pyproj.CRS:
        """Always EPSG:4326."""
        return WGS84

    @property
    def x(self) -> NDArray[np.float64]:
        """Longitudes in degrees."""
        return self.xy[:, 0]

    @property
    def y(self) -> NDArray[np.float64]:
        """Latitudes in degrees."""
        return self.xy[:, 1]

    def __len__(self) -> int:
        return len(self.xy)

    @property
    def total_bounds(self) -> NDArray[np.float64]:
        """``(min lon, min lat, max lon, max lat)``, as GeoPandas gives it; NaN when empty."""
        if not len(self.xy):
            return np.full(4, np.nan)
        lo, hi = self.xy.min(axis=0), self.xy.max(axis=0)
        return np.array([lo[0], lo[1], hi[0], hi[1]])

    @cached_property
    def metric(self) -> tuple[pyproj.CRS, NDArray[np.float64]]:
        """The UTM CRS :func:`layers.crs.metric_crs` picks for these points' extent, and
        the points in it, ``(n, 2)`` in metres (x = easting, y = northing): projected
        once, however often asked.

        Raises
        ------
        ValueError
            When there are no points (an empty extent has no UTM zone).
        """
        if not len(self):
            raise ValueError("no points: an empty extent has no UTM zone")
        crs = metric_crs_for_bounds(self.total_bounds)
        fwd = pyproj.Transformer.from_crs(WGS84, crs, always_xy=True)
        ex, ny = fwd.transform(self.x, self.y)
        xy = np.column_stack([ex, ny])
        xy.flags.writeable = False
        return crs, xy

    def geoseries(self) -> gpd.GeoSeries:
        """The points as shapely points (for small sets; costly at a million)."""
        return gpd.GeoSeries(gpd.points_from_xy(self.x, self.y), crs=WGS84)
