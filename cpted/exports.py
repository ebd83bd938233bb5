"""Exports of stored layers, with the privacy rules applied in one place.

Concerns never carry reporter contact (it is not in the concerns table).
What a reader may see is decided by :class:`cpted.access.Access`, which calls
:func:`write_export` with rows already read for that reader.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd

from cpted.concerns import services
from layers import open311
from layers.schema import Layer
from layers.settings import Settings
from layers.store import Store
from layers.writers import OutputFormat, write_layer

EXPORT_FORMATS = [*(f.value for f in OutputFormat), "open311"]


def open311_records(store: Store, gdf: gpd.GeoDataFrame, *, status_notes: dict[str, str],
                    settings: Settings) -> list[dict[str, Any]]:
    """Concerns already read as their reader may see them as GeoReport v2 request objects,
    times in the store's time zone: the records of the ``open311`` export and of the
    Open311 API's answers alike (see :meth:`cpted.access.Access.open311_requests`)."""
    tz = store.get_setting("timezone") or settings.timezone
    catalogue = services(store)
    return open311.requests_json(
        gdf, tz=tz, status_notes=status_notes,
        target_days={c: s.target_days for c, s in catalogue.items()})


def write_export(store: Store, gdf: gpd.GeoDataFrame, layer: Layer, path: Path | str,
                 fmt: str, *, status_notes: dict[str, str], settings: Settings,
                 partitioned: bool = False) -> int:
    """Write rows of ``layer`` already read as their reader may see them (see
    :meth:`cpted.access.Access.export`) to ``path``; return the number written.
    ``partitioned``: ``path`` is a folder of spatially partitioned GeoParquet files
    (:func:`cpted.cluster.write_partitioned`), for the cluster engine.

    Raises
    ------
    UnusableInputError
        ``open311`` asked of another layer than concerns, or ``partitioned`` of another
        format than ``parquet``.
    """
    from layers.errors import UnusableInputError

    if partitioned:
        if fmt != OutputFormat.PARQUET.value:
            raise UnusableInputError(f"a partitioned export is GeoParquet: use --format "
                                     f"parquet, not {fmt!r}")
        from cpted.cluster import write_partitioned

        return write_partitioned(gdf, path)
    if fmt == "open311":
        if layer is not Layer.CONCERNS:
            raise UnusableInputError("the open311 format holds concerns only")
        items = open311_records(store, gdf, status_notes=status_notes, settings=settings)
        open311.write_json(items, path)
    else:
        write_layer(gdf, path, OutputFormat(fmt), layer_name=layer.value)
    return len(gdf)
