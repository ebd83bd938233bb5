"""Export page: download a stored layer as GeoJSON, GeoPackage, CSV or GeoParquet."""

from __future__ import annotations

import tempfile
from pathlib import Path

import streamlit as st

from app_pages._state import layer as read_layer
from app_pages._state import store
from layers.schema import SCHEMAS, Layer
from layers.writers import MEDIA_TYPES, OutputFormat, write_layer

s = store()
st.title("Export")
counts = s.counts()
c1, c2 = st.columns(2)
layer = Layer(c1.selectbox(
    "Layer", [x.value for x in Layer],
    format_func=lambda v: f"{SCHEMAS[Layer(v)].title} ({counts[Layer(v)]:,})"))
fmt = OutputFormat(c2.selectbox("Format", [f.value for f in OutputFormat],
                                format_func={"geojson": "GeoJSON", "gpkg": "GeoPackage",
                                             "csv": "CSV (points as longitude/latitude)",
                                             "parquet": "GeoParquet"}.get))
gdf = read_layer(layer)
if gdf.empty:
    st.info(f"The {layer.value} layer is empty: nothing to export.")
    st.stop()
st.caption(f"{len(gdf):,} rows, coordinates in WGS84 (EPSG:4326).")
st.dataframe(gdf.drop(columns="geometry").head(20), hide_index=True, width="stretch")


@st.cache_data(show_spinner="Preparing the file...", max_entries=8)
def _file_bytes(url: str, revision: int, layer_name: str, fmt_name: str) -> bytes:
    with tempfile.TemporaryDirectory(prefix="cpted-export-") as tmp:
        path = Path(tmp) / f"{layer_name}.{fmt_name}"
        write_layer(read_layer(Layer(layer_name)), path, OutputFormat(fmt_name),
                    layer_name=layer_name)
        return path.read_bytes()


data = _file_bytes(s.url, s.revision(), layer.value, fmt.value)
st.download_button(f"Download {layer.value}.{fmt.value} ({len(data) / 1024:,.0f} KB)", data,
                   file_name=f"{layer.value}.{fmt.value}", mime=MEDIA_TYPES[fmt], type="primary")
