"""Overlay and hotspot grid counts past one machine: dask-geopandas on dask.distributed.

Points are kept as spatially partitioned GeoParquet (:func:`write_partitioned`):
dask-geopandas' ``spatial_shuffle`` sorts the rows along a Hilbert curve over their
extent and cuts that order into partitions, one file each, whose bounding boxes the
GeoParquet metadata records, so a reader knows each partition's extent without reading
its rows (``dask_geopandas.read_parquet`` gives them as ``spatial_partitions``).

The small layer (the neighborhood polygons, or a hotspot :class:`~cpted.hotspots.Grid`)
is scattered to every worker once (``Client.scatter(..., broadcast=True)``); the points
stay on the workers that read them and only per-neighborhood or per-cell sums come back.

The counts are the single-machine path's:

* neighborhoods (:func:`neighborhood_counts`): ``dask_geopandas.sjoin(points, polygons,
  predicate="intersects")``; a point on a shared boundary matches both polygons and is
  kept for the first in the layer's order, the rule of :func:`layers.spatial.assign`. A
  partition whose extent misses the polygons' bounding box is never joined.
* grid cells (:func:`grid_counts`): each partition's points are projected to the grid's
  CRS, kept when inside the study area and placed by :meth:`cpted.hotspots.Grid.locate`,
  as :func:`cpted.hotspots.analyse` does; the per-cell sums are dask's groupby reduction.

dask, distributed and dask-geopandas come with the ``cluster`` extra
(``pip install 'cpted-mapper[cluster]'``); every worker needs the same packages and this
project installed, and the partitions on storage that every worker can read.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from cpted import hotspots as hs
from layers.errors import UnusableInputError

if TYPE_CHECKING:
    from distributed import Client, Future

#: Rows per partition of :func:`write_partitioned` (points take about 220 bytes each in
#: memory, by benchmarks/cluster_bench.py: some 110 MB a partition).
PARTITION_ROWS = 500_000
#: The files dask writes, one per partition; nothing else is replaced in a directory.
_PART_FILE = re.compile(r"part\.\d+\.parquet")
_NEED = "the cluster engine needs dask-geopandas and distributed: pip install " \
        "'cpted-mapper[cluster]'"


class ClusterError(UnusableInputError):
    """The distributed engine cannot do what was asked; the message says why."""


def _dask_geopandas() -> Any:
    try:
        import dask_geopandas
    except ImportError as exc:
        raise ClusterError(_NEED) from exc
    return dask_geopandas


# -- partitions ----------------------------------------------------------------

def _clear(directory: Path) -> None:
    """Make ``directory`` ready for new partitions: create it, or remove the part files
    of an earlier export from it; refuse one holding anything else."""
    if directory.exists() and not directory.is_dir():
        raise ClusterError(f"{directory} is a file; the partitioned export writes a folder")
    directory.mkdir(parents=True, exist_ok=True)
    others = sorted(p.name for p in directory.iterdir() if not _PART_FILE.fullmatch(p.name))
    if others:
        raise ClusterError(f"{directory} holds other files than partitions "
                           f"({', '.join(others[:5])}); choose an empty or new folder")
    for p in directory.iterdir():
        p.unlink()


def shuffle_to_parquet(points: Any, directory: Path | str, *,
                       npartitions: int | None = None) -> None:
    """Write a dask-geopandas frame to ``directory`` as spatially partitioned GeoParquet
    (Hilbert order, ``npartitions`` files; default: as many as ``points`` has).

    Runs on the current dask scheduler (a ``Client``'s cluster when one is active), so
    the rows need never meet in one process. The index is not written.
    """
    directory = Path(directory)
    _clear(directory)
    shuffled = points.spatial_shuffle(by="hilbert", npartitions=npartitions)
    shuffled.to_parquet(directory, write_index=False)


def write_partitioned(gdf: gpd.GeoDataFrame, directory: Path | str, *,
                      rows_per_partition: int = PARTITION_ROWS) -> int:
    """Write ``gdf`` (EPSG:4326 points) to ``directory`` as spatially partitioned
    GeoParquet of at most about ``rows_per_partition`` rows a file; return the rows
    written.

    Raises
    ------
    ClusterError
        ``directory`` is a file or holds other files than earlier partitions, or the
        ``cluster`` extra is not installed.
    """
    dgpd = _dask_geopandas()
    if rows_per_partition < 1:
        raise ClusterError(f"rows_per_partition must be at least 1, got {rows_per_partition}")
    directory = Path(directory)
    frame = gdf.reset_index(drop=True)
    if frame.empty or frame.geometry.is_empty.all():
        _clear(directory)
        frame.to_parquet(directory / "part.0.parquet", index=False)
        return len(frame)
    import dask

    n = max(1, math.ceil(len(frame) / rows_per_partition))
    # the rows are in this process already: shuffling them here beats shipping them to a
    # cluster and back
    with dask.config.set({"scheduler": "threads", "dataframe.shuffle.method": "tasks"}):
        shuffle_to_parquet(dgpd.from_geopandas(frame, npartitions=n), directory,
                           npartitions=n)
    return len(frame)


def read_partitions(directory: Path | str) -> Any:
    """The partitions in ``directory`` as a dask-geopandas frame, with each partition's
    extent (``spatial_partitions``) from the files' metadata.

    Raises
    ------
    ClusterError
        ``directory`` holds no partitions.
    """
    dgpd = _dask_geopandas()
    directory = Path(directory)
    if not directory.is_dir() or not any(_PART_FILE.fullmatch(p.name)
                                         for p in directory.iterdir()):
        raise ClusterError(f"no partitions in {directory}; write them with `cpted export "
                           f"--layer concerns --format parquet --partitioned {directory}`")
    return dgpd.read_parquet(directory)


def select(points: Any, *, where: Mapping[str, Sequence[Any]] | None = None,
           time: tuple[str, pd.Timestamp | None, pd.Timestamp | None] | None = None) -> Any:
    """Rows of ``points`` (a dask-geopandas frame) whose ``where`` columns hold one of
    the values given, and whose ``time`` column is in ``[start, end)``: the filters of
    :meth:`layers.store.Store.read`.

    Raises
    ------
    ClusterError
        A column asked for is not in the partitions.
    """
    asked = [*(where or {}), *([time[0]] if time else [])]
    missing = [c for c in asked if c not in points.columns]
    if missing:
        raise ClusterError(f"the partitions have no column {', '.join(map(repr, missing))}; "
                           f"they have {', '.join(map(str, points.columns))}")
    spatial = points.spatial_partitions
    for col, values in (where or {}).items():
        points = points[points[col].isin(list(values))]
    if time:
        col, start, end = time
        if start is not None:
            points = points[points[col] >= start]
        if end is not None:
            points = points[points[col] < end]
    points.spatial_partitions = spatial  # a row filter keeps each partition's extent
    return points


# -- the cluster ---------------------------------------------------------------

@contextmanager
def connect(scheduler: str | None = None, *, workers: int = 2, threads_per_worker: int = 1,
            memory_limit: str | float = "auto", processes: bool = True) -> Iterator[Client]:
    """A client of the scheduler at ``scheduler`` (``tcp://host:8786``), or of a new
    ``LocalCluster`` of ``workers`` workers (each with ``memory_limit`` bytes, or a
    string such as ``"2GiB"``) on this machine when none is given; closed on leaving.

    Raises
    ------
    ClusterError
        The ``cluster`` extra is not installed.
    """
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise ClusterError(_NEED) from exc
    if scheduler:
        # distributed's constructors carry no annotations
        with Client(scheduler) as client:  # type: ignore[no-untyped-call]
            yield client
        return
    # the scheduler's web server (dashboard, health) on a free port: the default 8787
    # clashes with any other cluster on the machine (None still binds 8787)
    with LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=workers, threads_per_worker=threads_per_worker, processes=processes,
            memory_limit=memory_limit, dashboard_address=":0",
    ) as cluster, Client(cluster) as client:  # type: ignore[no-untyped-call]
        yield client


def _broadcast(client: Client, value: Any) -> Future[Any]:
    """``value`` held by every worker: sent once each, not once per task."""
    fut: Future[Any] = client.scatter(value, broadcast=True)  # type: ignore[no-untyped-call]
    return fut


# -- counts --------------------------------------------------------------------

def _first_polygon(joined: gpd.GeoDataFrame, columns: list[str]) -> pd.DataFrame:
    """Each point of one joined partition once, with the first polygon it intersects
    (``index_right``) and ``columns``."""
    ordered = joined.sort_values("index_right", kind="stable")
    first = ordered[~ordered.index.duplicated(keep="first")]
    return pd.DataFrame(first[["index_right", *columns]])


def neighborhood_counts(points: Any, polygons: gpd.GeoDataFrame, client: Client, *,
                        by: str | None = None) -> pd.DataFrame:
    """Points per polygon by :func:`layers.spatial.assign`'s rule, on ``client``'s cluster.

    Parameters
    ----------
    points : dask_geopandas.GeoDataFrame
        Points in ``polygons``' CRS (as :func:`read_partitions` gives them).
    polygons : geopandas.GeoDataFrame
        The small layer, broadcast to every worker.
    by : str, optional
        A column of ``points``: one count column per value of it.

    Returns
    -------
    pandas.DataFrame
        One row per polygon in its order (index 0..n-1): ``count``, or with ``by`` one
        integer column per value found.

    Raises
    ------
    ClusterError
        The two layers do not share a CRS, or ``by`` is not a column of ``points``.
    """
    dgpd = _dask_geopandas()
    import dask.dataframe as dd

    if points.crs != polygons.crs:
        raise ClusterError(f"points and polygons must share a CRS, got {points.crs} and "
                           f"{polygons.crs}")
    if by is not None and by not in points.columns:
        raise ClusterError(f"the points have no column {by!r}")
    n = len(polygons)
    shapes = gpd.GeoDataFrame(geometry=polygons.geometry.values, crs=polygons.crs)
    right = dd.from_delayed([_broadcast(client, shapes)], meta=shapes.iloc[:0],
                            verify_meta=False)
    right.spatial_partitions = gpd.GeoSeries([shapely.box(*shapes.total_bounds)],
                                             crs=shapes.crs)
    spatial = points.spatial_partitions
    # per-partition positions: each point's id within its partition, for the rule below
    left = points[[points.geometry.name, *([by] if by else [])]].reset_index(drop=True)
    left.spatial_partitions = spatial
    joined = dgpd.sjoin(left, right, predicate="intersects")
    # with one right partition, each joined partition is one partition of points, so a
    # point's every match is in the same joined partition
    meta = pd.DataFrame({"index_right": pd.Series(dtype="int64"),
                         **({by: points._meta[by]} if by else {})})
    first = joined.map_partitions(_first_polygon, [by] if by else [], meta=meta)
    if by is None:
        total = first["index_right"].value_counts().compute()
        table = pd.DataFrame({"count": total})
    else:
        table = first.groupby(["index_right", by]).size().compute().unstack(fill_value=0)
        table.columns = [str(c) for c in table.columns]
    return table.reindex(range(n), fill_value=0).astype(np.int64).rename_axis(None)


def overlay_counts(points: Any, neighborhoods: gpd.GeoDataFrame, client: Client
                   ) -> pd.DataFrame:
    """Concerns per neighborhood on the cluster: :func:`cpted.overlay.rates`' columns
    (``neighborhood_id``, ``name``, ``count``, ``area_km2``, ``per_km2``, ``population``,
    ``per_1000``), then ``open`` and ``closed`` when the points have a ``status``; the
    single-machine overlay's values for these columns. Its medians, target and reopen
    shares are left to the single-machine path."""
    from cpted.overlay import rates

    status = "status" in points.columns
    table = neighborhood_counts(points, neighborhoods, client, by="status" if status else None)
    total = table.sum(axis=1).to_numpy()
    out = rates(neighborhoods, total)
    if status:
        is_open = (table["open"].to_numpy() if "open" in table
                   else np.zeros(len(out), dtype=np.int64))
        out["open"] = is_open
        out["closed"] = total - is_open
    return out


def _cell_weights(part: gpd.GeoDataFrame, grid: hs.Grid, weight_column: str | None
                  ) -> pd.DataFrame:
    """The cell and weight of each event of one partition inside the study area and a
    cell, as :func:`cpted.hotspots.analyse` counts them."""
    xy = hs.events_xy(part, grid.crs)
    w = (part[weight_column].to_numpy(dtype=float)
         if weight_column and weight_column in part else np.ones(len(part)))
    inside = shapely.contains_xy(grid.area, xy[:, 0], xy[:, 1]) if len(xy) else \
        np.zeros(0, dtype=bool)
    cell = grid.locate(xy[inside])
    keep = cell >= 0
    return pd.DataFrame({"cell": cell[keep], "weight": w[inside][keep]})


def grid_counts(points: Any, grid: hs.Grid, client: Client, *,
                weight_column: str | None = "weight") -> NDArray[np.float64]:
    """Weighted events per cell of ``grid`` on ``client``'s cluster, aligned with the
    grid's cells: :func:`cpted.hotspots.analyse`'s ``counts`` (events outside the study
    area or every cell are left out; ``weight_column``, when the points have it, weighs
    each event, else each counts 1)."""
    fut = _broadcast(client, grid)
    meta = pd.DataFrame({"cell": pd.Series(dtype="int64"), "weight": pd.Series(dtype=float)})
    cells = points.map_partitions(_cell_weights, fut, weight_column, meta=meta)
    sums = cells.groupby("cell")["weight"].sum().compute()
    out = np.zeros(len(grid))
    out[sums.index.to_numpy(dtype=np.int64)] = sums.to_numpy(dtype=float)
    return out
