"""Export page: download a layer; the public get the public rules (no contact, blurred places)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import streamlit as st

from app_pages._state import access, door_for, role, settings, store
from app_pages._state import layer as read_layer
from cpted.exports import EXPORT_FORMATS
from layers.schema import SCHEMAS, Layer
from layers.writers import MEDIA_TYPES, OutputFormat

s = store()
me = access()
acting = role()
public = not me.exact
st.title("Export")
counts = s.counts()
c1, c2 = st.columns(2)
choices = [x.value for x in Layer]
layer = Layer(c1.selectbox(
    "Layer", choices, index=choices.index(Layer.CONCERNS.value),
    format_func=lambda v: f"{SCHEMAS[Layer(v)].title} ({counts[Layer(v)]:,})"))
formats = [f for f in EXPORT_FORMATS if f != "open311" or layer is Layer.CONCERNS]
fmt = c2.selectbox("Format", formats,
                   format_func={"geojson": "GeoJSON", "gpkg": "GeoPackage",
                                "csv": "CSV (points as longitude/latitude)",
                                "parquet": "GeoParquet",
                                "open311": "Open311 GeoReport v2 JSON"}.get)
if layer is Layer.CONCERNS:
    st.caption("Reporter contact is never exported. " + (
        "Public export: concerns in sensitive categories are moved to the centre of a "
        f"{settings().sensitive_grid_m:g} m cell, without description or address."
        if public else f"Staff export ({acting.value}): exact locations."))
preview = read_layer(layer)
if preview.empty:
    st.info(f"The {layer.value} layer is empty: nothing to export.")
    st.stop()
st.caption(f"{len(preview):,} rows, coordinates in WGS84 (EPSG:4326).")
st.dataframe(preview.drop(columns="geometry").head(20), hide_index=True, width="stretch")


@st.cache_data(show_spinner="Preparing the file...", max_entries=8)
def _file_bytes(url: str, revision: int, role_name: str, layer_name: str, fmt_name: str
                ) -> bytes:
    """The file as ``role_name`` may see it (the cache keys on the role, since what is
    exported depends on nothing else of the reader)."""
    door = door_for(url, role_name)
    with tempfile.TemporaryDirectory(prefix="cpted-export-") as tmp:
        suffix = "json" if fmt_name == "open311" else fmt_name
        path = Path(tmp) / f"{layer_name}.{suffix}"
        door.export(Layer(layer_name), path, fmt_name)
        return path.read_bytes()


data = _file_bytes(s.url, s.revision(), acting.value, layer.value, fmt)
suffix = "json" if fmt == "open311" else fmt
mime = "application/json" if fmt == "open311" else MEDIA_TYPES[OutputFormat(fmt)]
st.download_button(f"Download {layer.value}.{suffix} ({len(data) / 1024:,.0f} KB)", data,
                   file_name=f"{layer.value}.{suffix}", mime=mime, type="primary")
