"""Exports of stored layers, with the privacy rules applied in one place.

Concerns never carry reporter contact (it is not in the concerns table).
With ``public=True`` sensitive categories are blurred (see :mod:`cpted.privacy`).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import sqlalchemy as sa

from cpted.concerns import services
from cpted.privacy import Role, concerns_for
from layers import open311
from layers import tables as wt
from layers.schema import Layer
from layers.services import sensitive_codes
from layers.settings import Settings
from layers.store import Store
from layers.writers import OutputFormat, write_layer

EXPORT_FORMATS = [*(f.value for f in OutputFormat), "open311"]


def latest_status_notes(store: Store) -> dict[str, str]:
    """Each concern's most recent status note (Open311 ``status_notes``)."""
    e = wt.concern_events
    latest = (sa.select(e.c.service_request_id, sa.func.max(e.c.id).label("id"))
              .where(e.c.kind.in_(["status", "reopened"])).group_by(e.c.service_request_id)
              .subquery())
    q = sa.select(e.c.service_request_id, e.c.note).join(latest, latest.c.id == e.c.id)
    with store.engine.connect() as conn:
        return {r[0]: r[1] for r in conn.execute(q)}


def layer_for_export(store: Store, layer: Layer, *, public: bool,
                     settings: Settings) -> gpd.GeoDataFrame:
    gdf = store.read(layer)
    if layer is Layer.CONCERNS:
        role = Role.PUBLIC if public else Role.ADMIN
        gdf = concerns_for(role, gdf, sensitive_codes(services(store).values()),
                           grid_m=settings.sensitive_grid_m)
        if not public:
            gdf = gdf.drop(columns="location_precision")
    return gdf


def export_layer(store: Store, layer: Layer, path: Path | str, fmt: str, *, public: bool,
                 settings: Settings) -> int:
    """Write ``layer`` to ``path``; return the number of rows written."""
    gdf = layer_for_export(store, layer, public=public, settings=settings)
    if fmt == "open311":
        if layer is not Layer.CONCERNS:
            raise ValueError("the open311 format holds concerns only")
        tz = store.get_setting("timezone") or settings.timezone
        catalogue = services(store)
        items = open311.requests_json(
            gdf, tz=tz, status_notes=latest_status_notes(store),
            target_days={c: s.target_days for c, s in catalogue.items()})
        open311.write_json(items, path)
    else:
        write_layer(gdf, path, OutputFormat(fmt), layer_name=layer.value)
    return len(gdf)
