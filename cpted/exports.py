"""Exports of stored layers, with the privacy rules applied in one place.

Concerns never carry reporter contact (it is not in the concerns table).
With ``public=True`` sensitive categories are blurred (see :mod:`cpted.privacy`).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd

from cpted.concerns import services
from cpted.privacy import Role, concerns_for
from layers import open311
from layers.repos import notes
from layers.schema import Layer
from layers.services import sensitive_codes
from layers.settings import Settings
from layers.store import Store
from layers.writers import OutputFormat, write_layer

EXPORT_FORMATS = [*(f.value for f in OutputFormat), "open311"]


def latest_status_notes(store: Store, *, public: bool = False) -> dict[str, str]:
    """Each concern's most recent status note (Open311 ``status_notes``).

    Parameters
    ----------
    store
        The store.
    public
        For a public export: only notes marked public count (a concern's latest public
        note is given even when an internal one followed it).

    Returns
    -------
    dict
        ``service_request_id`` to its note; concerns without one are left out.
    """
    with store.engine.connect() as conn:
        return notes.latest_status_notes(conn, public_only=public)


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
            gdf, tz=tz, status_notes=latest_status_notes(store, public=public),
            target_days={c: s.target_days for c, s in catalogue.items()})
        open311.write_json(items, path)
    else:
        write_layer(gdf, path, OutputFormat(fmt), layer_name=layer.value)
    return len(gdf)
