"""Export page: download a layer; the public get the public rules (no contact, blurred places)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import streamlit as st

from app_pages._state import access, door_for, role, settings, store
from app_pages._state import layer as read_layer
from app_pages._words import ROLES, layer_title, layer_word, word
from cpted import i18n
from cpted.exports import EXPORT_FORMATS
from cpted.i18n import N_, _, ngettext
from layers.schema import SCHEMAS, Layer, field_words
from layers.writers import MEDIA_TYPES, OutputFormat

s = store()
me = access()
acting = role()
public = not me.exact
st.title(_("Export"))
counts = s.counts()
c1, c2 = st.columns(2)
choices = [x.value for x in Layer]
layer = Layer(c1.selectbox(
    _("Layer"), choices, index=choices.index(Layer.CONCERNS.value),
    format_func=lambda v: _("{layer} ({n})").format(layer=layer_title(v),
                                                     n=i18n.number(counts[Layer(v)]))))
#: Each export format by name (the file formats' own names stay as they are).
FORMAT_WORDS = {"geojson": N_("GeoJSON"), "gpkg": N_("GeoPackage"),
                "csv": N_("CSV (points as longitude/latitude)"), "parquet": N_("GeoParquet"),
                "open311": N_("Open311 GeoReport v2 JSON")}
formats = [f for f in EXPORT_FORMATS if f != "open311" or layer is Layer.CONCERNS]
fmt = c2.selectbox(_("Format"), formats, format_func=lambda f: _(FORMAT_WORDS[f]))
if layer is Layer.CONCERNS:
    st.caption(_("Reporter contact is never exported. Public export: concerns in sensitive "
                 "categories are moved to the centre of a {m} m cell, without description "
                 "or address.").format(m=i18n.number(settings().sensitive_grid_m))
               if public else
               _("Reporter contact is never exported. Staff export ({role}): exact "
                 "locations.").format(role=word(ROLES.get(acting.value, acting.value))))
preview = read_layer(layer)
if preview.empty:
    st.info(_("The {layer} layer is empty: nothing to export.").format(
        layer=layer_word(layer.value)))
    st.stop()
st.caption(ngettext("{n} row, coordinates in WGS84 (EPSG:4326).",
                    "{n} rows, coordinates in WGS84 (EPSG:4326).", len(preview)).format(
    n=i18n.number(len(preview))))
st.dataframe(preview.drop(columns="geometry").head(20), hide_index=True, width="stretch",
             column_config={f.name: word(field_words(layer, f.name))
                            for f in SCHEMAS[layer].fields})


@st.cache_data(show_spinner=False, max_entries=8)
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


with st.spinner(_("Preparing the file...")):
    data = _file_bytes(s.url, s.revision(), acting.value, layer.value, fmt)
suffix = "json" if fmt == "open311" else fmt
mime = "application/json" if fmt == "open311" else MEDIA_TYPES[OutputFormat(fmt)]
st.download_button(_("Download {file} ({kb} KB)").format(
    file=f"{layer.value}.{suffix}", kb=i18n.number(round(len(data) / 1024))), data,
                   file_name=f"{layer.value}.{suffix}", mime=mime, type="primary")
