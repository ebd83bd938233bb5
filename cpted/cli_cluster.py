"""``cpted overlay --engine dask`` and ``cpted hotspots --engine dask``: the counts on a
dask.distributed cluster (:mod:`cpted.cluster`), over the partitions that ``cpted export
--format parquet --partitioned DIR`` writes.

Records are read through the access layer as the operator, as the other commands read
them: the neighborhoods always, the concerns when no ``--partitions`` are given.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from cpted.i18n import _, ngettext, number, percent
from layers.errors import UsageError
from layers.schema import Layer

if TYPE_CHECKING:
    import geopandas as gpd

    from cpted.access import Access
    from layers.settings import Settings


def add_engine_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--engine", choices=("single", "dask"), default="single",
                   help=_("dask: count on a dask.distributed cluster (default: this process)"))
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help=_("the dask scheduler, e.g. tcp://10.0.0.5:8786 (default: a local "
                          "cluster of 2 workers)"))
    p.add_argument("--partitions", metavar="DIR",
                   help=_("partitioned GeoParquet written by `cpted export --partitioned` "
                          "(default: the store's concerns, sent to the cluster)"))


def wants_dask(args: argparse.Namespace) -> bool:
    """Whether the command runs on the cluster; ``--scheduler`` or ``--partitions``
    without ``--engine dask`` is refused rather than ignored."""
    if args.engine == "dask":
        return True
    given = [f for f, v in (("--scheduler", args.scheduler), ("--partitions", args.partitions))
             if v]
    if given:
        raise UsageError(_("{options} go with --engine dask").format(
            options=" and ".join(given)))
    return False


def _where(args: argparse.Namespace, tz: str) -> tuple[dict[str, list[str]], Any]:
    import pandas as pd

    where: dict[str, list[str]] = {}
    if getattr(args, "category", None):
        where["service_code"] = args.category
    if getattr(args, "status", None):
        where["status"] = [args.status]
    if getattr(args, "time_of_day", None):
        where["time_of_day"] = [args.time_of_day]
    start = pd.Timestamp(args.since, tz=tz) if args.since else None
    end = pd.Timestamp(args.until, tz=tz) if args.until else None
    return where, (("requested_datetime", start, end) if start or end else None)


def _neighborhoods(door: Access) -> gpd.GeoDataFrame:
    hoods = door.layer(Layer.NEIGHBORHOODS)
    if hoods.empty:
        raise UsageError(_("the store holds no neighborhoods; import some first"))
    return hoods


def _where_from(args: argparse.Namespace, client: Any) -> str:
    if args.scheduler:
        return _("the cluster at {address}").format(address=args.scheduler)
    workers = len(client.scheduler_info()["workers"])
    return ngettext("a local cluster of {n} worker", "a local cluster of {n} workers",
                    workers).format(n=workers)


def overlay(door: Access, args: argparse.Namespace, settings: Settings) -> None:
    """Concerns per neighborhood (count, rates, open, closed) counted on the cluster."""
    import geopandas as gpd

    from cpted import cluster
    from layers.csvsafe import write_csv

    tz = door.store.get_setting("timezone") or settings.timezone
    where, time = _where(args, tz)
    hoods = _neighborhoods(door)
    suffix = args.out.suffix.lower()
    if suffix not in (".csv", ".geojson", ".json"):
        raise UsageError(_("--out should end in .csv or .geojson, got {name!r}").format(
            name=args.out.name))
    with cluster.connect(args.scheduler) as client:
        if args.partitions:
            points = cluster.select(cluster.read_partitions(args.partitions), where=where,
                                    time=time)
        else:
            import dask_geopandas

            rows = door.concerns(where=where, time=time)
            parts = max(1, -(-len(rows) // cluster.PARTITION_ROWS))
            points = dask_geopandas.from_geopandas(rows.reset_index(drop=True),
                                                   npartitions=parts)
        table = cluster.overlay_counts(points, hoods, client)
        by = _where_from(args, client)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        write_csv(table, args.out)
    else:
        gpd.GeoDataFrame(table, geometry=hoods.geometry.values, crs=hoods.crs).to_file(
            args.out, driver="GeoJSON")
    print(_("wrote {n} neighborhoods ({inside} concerns inside them, counted on {parts} "
            "partition(s) by {by}) to {out}").format(
                n=len(table), inside=number(int(table["count"].sum())),
                parts=points.npartitions, by=by, out=args.out))


def hotspots(door: Access, args: argparse.Namespace, settings: Settings) -> None:
    """Events per grid cell counted on the cluster, then Gi* on those counts here."""
    import numpy as np

    from cpted import cluster
    from cpted import hotspots as hs
    from cpted.cli import _write_table
    from layers.crs import metric_crs

    refused = [flag for flag, given in (
        ("--method kde", args.method == "kde"), ("--evaluate-after", args.evaluate_after),
        ("--source", args.source), ("--night-only", args.night_only),
        ("--bandwidth", args.bandwidth is not None)) if given]
    if refused:
        raise UsageError(_("--engine dask counts the partitions' rows per cell (--method "
                           "counts or gi); it does not take {options}").format(
                               options=", ".join(refused)))
    if not args.partitions:
        raise UsageError(_("--engine dask reads --partitions DIR; write them with `cpted "
                           "export --layer concerns --format parquet --partitioned DIR`"))
    if args.cell_size is None:
        raise UsageError(_("--engine dask needs --cell-size (metres): the cell size rule "
                           "measures nearest-neighbour distances over every event at once"))
    tz = door.store.get_setting("timezone") or settings.timezone
    _where_rows, time = _where(args, tz)
    hoods = _neighborhoods(door)
    crs = metric_crs(hoods)
    grid = hs.make_grid(hs.study_area(hoods, crs, hoods), crs, args.cell_size, args.shape)
    with cluster.connect(args.scheduler) as client:
        points = cluster.read_partitions(args.partitions)
        if time and "requested_datetime" in points.columns:
            points = cluster.select(points, time=time)
        counts = cluster.grid_counts(points, grid, client)
        by = _where_from(args, client)
    said = (_("{n} square cells of {size:g} m; {events} events counted on {parts} "
              "partition(s) by {by}") if grid.shape == "square" else
            _("{n} hexagonal cells of {size:g} m; {events} events counted on {parts} "
              "partition(s) by {by}"))
    print(said.format(n=number(len(grid)), size=grid.size, events=number(int(counts.sum())),
                      parts=points.npartitions, by=by))
    gi = hs.gi_star(counts, grid.neighbours(), permutations=args.permutations)
    frame = grid.to_frame(count=counts, gi_z=gi.z, gi_p=gi.p, gi_bin=gi.bins,
                          gi_label=[hs.BIN_LABELS[int(b)] for b in gi.bins])
    if args.method == "counts":
        frame = frame[frame["count"] > 0][["cell", "count", "geometry"]]
    _write_table(frame, args.out)
    print(_("Gi*: {hot} hot and {cold} cold cell(s) at {share} confidence or more").format(
        hot=number(int(np.sum(gi.bins > 0))), cold=number(int(np.sum(gi.bins < 0))),
        share=percent(0.9)))
    print(_("wrote {n} cell(s) to {out}").format(n=number(len(frame)), out=args.out))
