"""Import page: upload a file, check every row, see what is accepted and why not, then commit."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from app_pages._state import access, settings, store
from app_pages._text import md
from cpted.access import PERMISSIONS, Action, can
from layers.errors import CptedError, UnusableInputError
from layers.importer import prepare_import
from layers.readers import InputFormat
from layers.schema import SCHEMAS, Layer

s = store()
me = access()
st.title("Import")
if not can(me.actor.role, Action.IMPORT):
    allowed = ", ".join(sorted(r.value for r in PERMISSIONS[Action.IMPORT]))
    st.info(f"Importing data is for these roles: {allowed}. Sign in with such an account "
            "(in the sidebar) to import.")
    st.stop()
st.write("Bring your city's data into the shared map. Files are checked row by row before "
         "anything is stored; nothing is written until you press **Import**.")

left, right = st.columns([2, 1])
with left:
    upload = st.file_uploader(
        "File", type=["csv", "txt", "geojson", "json", "gpkg", "zip", "parquet"],
        max_upload_size=settings().max_upload_widget_mb,
        help="CSV with coordinate columns, GeoJSON, GeoPackage, zipped Shapefile or GeoParquet. "
             f"At most {settings().max_upload_mb:g} MB and "
             f"{settings().max_import_rows:,} rows.")
with right:
    choices = [x.value for x in Layer]
    layer = Layer(st.selectbox("Layer", choices, index=choices.index(Layer.CONCERNS.value),
                               format_func=lambda v: SCHEMAS[Layer(v)].title))
    schema = SCHEMAS[layer]
    st.caption("Fields: " + ", ".join(
        f"**{f.name}**" if f.required else f.name for f in schema.fields)
        + " (bold = required)")

with st.expander("Reading options"):
    o1, o2, o3 = st.columns(3)
    fmt = o1.selectbox("Format", ["(from the file ending)", *[f.value for f in InputFormat]])
    crs = o1.text_input("Source CRS", placeholder="e.g. EPSG:2817",
                        help="For x/y columns in projected units, or a file that declares none.")
    lon_col = o2.text_input("Longitude column", placeholder="detected")
    lat_col = o2.text_input("Latitude column", placeholder="detected")
    x_col = o3.text_input("X column (projected)")
    y_col = o3.text_input("Y column (projected)")
    encoding = o1.text_input("Text encoding", placeholder="UTF-8, else latin-1")
    on_conflict = o2.selectbox("Ids already stored", ["error", "skip", "replace"],
                               format_func={"error": "refuse the import",
                                            "skip": "keep stored rows",
                                            "replace": "overwrite stored rows"}.get)
    repair = o3.checkbox("Repair invalid polygons", value=True)

if upload is None:
    st.stop()
if upload.size > settings().max_upload_bytes:
    st.error(f"{md(upload.name)} is {upload.size / 2**20:.1f} MB; the upload limit is "
             f"{settings().max_upload_mb:g} MB.")
    st.stop()

options = {"fmt": None if fmt.startswith("(") else fmt, "crs": crs or None,
               "lon_col": lon_col or None, "lat_col": lat_col or None, "x_col": x_col or None,
               "y_col": y_col or None, "encoding": encoding or None, "repair": repair}
key = (upload.file_id, layer.value, tuple(sorted(options.items())))
if st.session_state.get("prepared_key") != key:
    st.session_state.pop("prepared", None)
    st.session_state.pop("import_error", None)
    with tempfile.TemporaryDirectory(prefix="cpted-upload-") as tmp:
        path = Path(tmp) / Path(upload.name).name
        path.write_bytes(upload.getbuffer())
        try:
            with st.spinner(f"Checking {md(upload.name)}..."):
                st.session_state["prepared"] = prepare_import(
                    s, path, layer, settings=settings(), source_name=upload.name, **options)
        except UnusableInputError as exc:
            st.session_state["import_error"] = exc
    st.session_state["prepared_key"] = key

error = st.session_state.get("import_error")
if error is not None:
    st.error(md(str(error).split("\n")[0]))
    if error.problems:
        st.markdown("\n".join(f"- {md(p)}" for p in error.problems[:50]))
    st.stop()

prepared = st.session_state["prepared"]
summary = prepared.summary
st.subheader("Validation report")
m1, m2, m3 = st.columns(3)
m1.metric("Rows read", f"{summary.read:,}")
m2.metric("Would be accepted", f"{summary.accepted:,}")
m3.metric("Rejected", f"{summary.rejected_total:,}")
for note in summary.notes:
    st.info(note)
if summary.rejected:
    st.bar_chart(pd.Series(summary.rejected, name="rows").rename_axis("reason"), horizontal=True,
                 height=min(60 + 40 * len(summary.rejected), 300),
                 alt="Bar chart of the rows refused, by reason: " + "; ".join(
                     f"{why} {n:,}" for why, n in summary.rejected.items()) + ".")
    st.dataframe(pd.DataFrame([r.__dict__ for r in summary.rejections]),
                 hide_index=True, width="stretch",
                 column_config={"row": st.column_config.NumberColumn("Row", format="%d"),
                                "reason": st.column_config.TextColumn("Reason", width="small"),
                                "detail": st.column_config.TextColumn("Detail", width="large")})
st.markdown("**Preview of accepted rows**")
preview = prepared.accepted.drop(columns="geometry").head(50).copy()
preview["geometry"] = prepared.accepted.geometry.head(50).to_wkt(rounding_precision=6)
st.dataframe(preview, hide_index=True, width="stretch")

if st.button(f"Import {summary.accepted:,} rows into {layer.value}", type="primary"):
    bar = st.progress(0.0, text="Writing...")

    def progress(done: int, total: int) -> None:
        bar.progress(done / max(total, 1), text=f"Writing {done:,} of {total:,} rows")

    try:
        written = me.commit_import(prepared, on_conflict=on_conflict, progress=progress)
    except CptedError as exc:  # refused rows, the rate limit, or a database that went away
        bar.empty()
        st.error(md(exc))
    else:
        bar.empty()
        st.success(f"Imported {written:,} rows into {layer.value} from {md(summary.source)}.")
        st.session_state.pop("prepared_key", None)

log = s.imports()
if len(log):
    with st.expander("Import history"):
        st.dataframe(log[["imported_at", "layer", "source"]], hide_index=True,
                     width="stretch")
