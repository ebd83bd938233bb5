"""Import page: upload a file, map its columns and values onto a layer (from a profile or
from scratch), check every row, see what is accepted and why not, then commit; the
mapping can be saved as a profile or downloaded."""

from __future__ import annotations

import dataclasses
import hashlib
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from app_pages import _mapping as ui
from app_pages._state import access, refusal, settings, store
from app_pages._text import md
from cpted.access import PERMISSIONS, Action, can
from layers import profile_catalog as catalog
from layers.errors import CptedError, ProfileError, UnusableInputError
from layers.importer import prepare_import, read_and_plan
from layers.mapping import How, plan_mapping
from layers.mapping_edit import (
    ValueRow,
    apply_edits,
    edited_profile,
    initial_choices,
    value_rows,
)
from layers.profiles import Profile, slug
from layers.readers import InputFormat
from layers.schema import SCHEMAS, Layer, field_words

s = store()
me = access()
st.title("Import")
if not can(me.actor.role, Action.IMPORT):
    allowed = ", ".join(sorted(r.value for r in PERMISSIONS[Action.IMPORT]))
    st.info(f"Importing data is for these roles: {allowed}. Sign in with such an account "
            "(in the sidebar) to import.")
    st.stop()
st.write("Bring your city's data into the shared map. Choose a file and its layer, check "
         "how its columns and values map onto ours, and see every row checked: nothing is "
         "stored until you press **Import**.")

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
        f"**{field_words(layer, f.name)}**" if f.required else field_words(layer, f.name)
        for f in schema.fields) + " (bold = required)")


def words(name: str) -> str:
    """A field of the chosen layer in plain words."""
    return field_words(layer, name)


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

read = {"fmt": None if fmt.startswith("(") else fmt, "crs": crs or None,
        "lon_col": lon_col or None, "lat_col": lat_col or None, "x_col": x_col or None,
        "y_col": y_col or None, "encoding": encoding or None}
options = {**read, "repair": repair}


def upload_path(tmp: str) -> Path:
    assert upload is not None
    path = Path(tmp) / Path(upload.name).name
    path.write_bytes(upload.getbuffer())
    return path


# -- 1. the mapping ----------------------------------------------------------------------
st.subheader("1. Columns")
begin = ui.starts(me, layer)
start = st.selectbox(
    "Start from a saved profile", list(begin), format_func=lambda k: begin[k].label,
    key=f"start-{layer.value}",
    help="A profile says how one kind of file maps onto this layer: the profiles saved "
         "here, those shipped with the program and those in the project's profiles "
         "folder. Start from one, change what is wrong, then check the rows.")
key = hashlib.sha256(repr((upload.file_id, layer.value, sorted(options.items()), start))
                     .encode()).hexdigest()[:16]
if st.session_state.get("mapping_key") != key:
    st.session_state.pop("mapping", None)
    with st.status(f"Reading {md(upload.name)}...", expanded=False) as status:
        try:
            base = begin[start].load()
            with tempfile.TemporaryDirectory(prefix="cpted-upload-") as tmp:
                status.update(label=f"Reading {md(upload.name)} and matching its columns...")
                st.session_state["mapping"] = read_and_plan(
                    upload_path(tmp), layer, profile=base, settings=settings(), **read)
            status.update(label=f"Read {md(upload.name)}", state="complete")
        except UnusableInputError as exc:
            st.session_state["mapping"] = exc
            status.update(label=f"{md(upload.name)} cannot be read", state="error")
    st.session_state["mapping_key"] = key
planned = st.session_state["mapping"]
if isinstance(planned, Exception):
    refusal(planned)
    st.stop()
raw, plan0, base = planned.raw, planned.plan, planned.profile
for note in planned.notes:
    st.info(md(note))

first = initial_choices(raw.frame, schema, plan0, profile=base,
                        coordinates=raw.coordinates or ())
labels = ui.column_options(plan0.present, first)
fields = [f.name for f in schema.fields]
map_key = f"map-{key}"
picked = ui.picked_columns(map_key, fields, labels)
flagged = [f for f, c in first.items() if c.flagged and picked.get(f, c.columns) == c.columns]
confirmed = {f for f in flagged if st.session_state.get(f"confirm-{key}-{f}")}
now = apply_edits(first, picked, confirmed)

default_name = (base.name if start.startswith("saved:") and base is not None
                else " ".join(Path(upload.name).stem.replace("_", " ").split())[:60])
name_key = f"name-{key}"
typed = st.session_state.get(name_key, default_name)
try:
    name = catalog.check_name(typed)
    name_problem = ""
except ProfileError as exc:
    name, name_problem = "", str(exc)
coords = ((x_col, y_col) if x_col and y_col else (lon_col, lat_col) if lon_col and lat_col
          else raw.coordinates)
comment = (f"Import profile for {layer.value}, made on the Import page from {upload.name}."
           "\nCheck it against a file with: cpted profile check PROFILE.toml FILE")


def make(tables: dict[str, dict[str, str | None]]) -> tuple[str, Profile]:
    return edited_profile(base, schema, now, tables, name=name or "mapped on the Import page",
                          crs=read["crs"], encoding=read["encoding"], fmt=read["fmt"],
                          coordinates=coords, comment=comment)


try:
    # the values each categorical field's column holds, then the person's tables for them
    _, unmapped = make({})
    plan_a = plan_mapping(raw.frame, schema, profile=unmapped, coordinates=raw.coordinates)
    tables: dict[str, dict[str, str | None]] = {}
    value_keys: dict[str, tuple[str, list[ValueRow]]] = {}
    for spec in schema.fields:
        cols = now[spec.name].columns
        if not spec.choices or not cols:
            continue
        vkey = f"values-{key}-{spec.name}-{ui.column_label(cols)}"
        rows = value_rows(plan_a.field(spec.name), spec, schema, rows=plan0.rows,
                          value_map=base.values.get(spec.name) if base else None)
        value_keys[spec.name] = (vkey, rows)
        tables[spec.name] = ui.picked_values(vkey, rows)
    text, prof = make(tables)
except ProfileError as exc:
    refusal(exc)
    st.stop()
plan = plan_mapping(raw.frame, schema, profile=prof, coordinates=raw.coordinates)

place = (f"Rows are placed by the columns {md(raw.coordinates[0])} and "
         f"{md(raw.coordinates[1])}." if raw.coordinates else
         f"Rows are placed by the file's own geometry ({raw.format.value}).")
st.caption(f"{plan0.rows:,} rows. {place} Choose a column for any field that is wrong or "
           "missing; the table shows why each was chosen, a few of its values, and what "
           "does not fit.")
ui.mapping_table(map_key, schema, first, now, plan, labels)
for line in ui.problem_lines(schema, now, plan):
    st.caption(md(line))
if plan.unused:
    st.caption("Columns not used: " + md(", ".join(plan.unused)))
for f in flagged:
    fp = plan0.field(f)
    col = ui.column_label(fp.columns)
    with st.container(border=True):
        st.warning(md(f"Column '{col}' was taken for {words(f)} by its name, but "
                      f"{'; '.join(fp.problems)}. Confirm it (and map its values below), "
                      "or choose another column for it in the table."))
        st.checkbox(md(f"Use column '{col}' for {words(f)}"), key=f"confirm-{key}-{f}")

if value_keys:
    st.subheader("2. Values")
    st.caption("Each value the file holds for a field that takes a fixed list, with its "
               "rows and the value of ours it becomes. (leave out) keeps the value out of "
               "the table: it then becomes what (any other value) says, or stays as it is, "
               "and a row whose value is not one of ours is rejected.")
    for f, (vkey, rows) in value_keys.items():
        cols = now[f].columns
        later = " (used once you confirm the column above)" if f in flagged and \
            f not in confirmed else ""
        st.markdown(f"**{md(words(f))}** from column {md(ui.column_label(cols))}{later}")
        ui.value_table(vkey, schema.spec(f), rows)

# -- 3. the check ------------------------------------------------------------------------
st.subheader("3. Validation report")
missing = [f.field for f in plan.fields if f.required and f.how is How.NONE]
blockers = [*(p for p in plan.problems if not p.startswith("required field")),
            *(f"{words(f)} is required: choose the column that holds it" for f in missing),
            *(f"confirm the column for {words(f)}, or choose another" for f in flagged
              if f not in confirmed)]
if blockers:
    st.warning("Before the rows can be checked:\n\n"
               + "\n".join(f"- {md(b)}" for b in blockers))
    st.stop()
check_key = (key, text)
if st.session_state.get("preview_key") != check_key:
    st.session_state.pop("preview", None)
    with (st.status(f"Checking every row of {md(upload.name)}...", expanded=False) as status,
          tempfile.TemporaryDirectory(prefix="cpted-upload-") as tmp):
        try:
            st.session_state["preview"] = prepare_import(
                s, upload_path(tmp), layer, profile=prof, settings=settings(),
                source_name=upload.name, **options)
            status.update(label="Every row checked", state="complete")
        except UnusableInputError as exc:
            st.session_state["preview"] = exc
            status.update(label="The file cannot be imported as mapped", state="error")
    st.session_state["preview_key"] = check_key
prepared = st.session_state["preview"]
if isinstance(prepared, Exception):
    refusal(prepared)
    st.stop()
summary = prepared.summary
m1, m2, m3 = st.columns(3)
m1.metric("Rows read", f"{summary.read:,}")
m2.metric("Would be accepted", f"{summary.accepted:,}")
m3.metric("Rejected", f"{summary.rejected_total:,}")
for note in summary.notes:
    st.info(md(note))
if summary.rejected:
    st.markdown("**Why rows are rejected**")
    if len(summary.rejected) > 1:  # one reason: its row below says it all
        st.bar_chart(
            pd.Series(summary.rejected, name="rows").rename_axis("reason"), horizontal=True,
            height=min(60 + 40 * len(summary.rejected), 300),
            alt="Bar chart of the rows refused, by reason: " + "; ".join(
                f"{why} {n:,}" for why, n in summary.rejected.items()) + ".")
    st.dataframe(ui.rejection_table(summary), hide_index=True, width="stretch",
                 column_config={
                     "reason": st.column_config.TextColumn("Reason", width="medium"),
                     "rows": st.column_config.NumberColumn("Rows", format="%d",
                                                           width="small"),
                     "examples": st.column_config.TextColumn("Examples", width="large")})
    with st.expander(f"Every rejected row ({summary.rejected_total:,})"):
        st.dataframe(pd.DataFrame([r.__dict__ for r in summary.rejections]),
                     hide_index=True, width="stretch",
                     column_config={
                         "row": st.column_config.NumberColumn("Row", format="%d"),
                         "reason": st.column_config.TextColumn("Reason", width="small"),
                         "detail": st.column_config.TextColumn("Detail", width="large")})
with st.expander("Preview of accepted rows"):
    preview = prepared.accepted.drop(columns="geometry").head(50).copy()
    preview["geometry"] = prepared.accepted.geometry.head(50).to_wkt(rounding_precision=6)
    st.dataframe(preview, hide_index=True, width="stretch")

# -- 4. keep the mapping ----------------------------------------------------------------
st.subheader("4. Keep this mapping")
st.caption("Save it as a profile to import next month's file the same way, here (start "
           "from it above) or with the command line (cpted import FILE --layer "
           f"{layer.value} --profile NAME).")
st.text_input("Profile name", value=default_name, key=name_key, max_chars=catalog.MAX_NAME_CHARS)
if name_problem:
    st.error(md(name_problem))
just_saved = st.session_state.pop("profile_saved", None)
if just_saved:
    st.success(f"Saved the profile {md(just_saved)}: choose it under Start from a saved "
               "profile, or give its name to cpted import --profile.")
k1, k2 = st.columns(2)
k1.download_button("Download profile (TOML)", data=text,
                   file_name=f"{slug(name or 'profile') or 'profile'}.toml",
                   mime="application/toml", disabled=not name)
if can(me.actor.role, Action.SAVE_PROFILE):
    held = {p.name.casefold(): p for p in me.saved_profiles()}
    same = held.get(name.casefold()) if name else None
    replace = False
    if same is not None and same.profile is not None and \
            dataclasses.replace(same.profile, source="") == dataclasses.replace(prof, source=""):
        k2.caption(f"This mapping is saved as {md(same.name)}.")
    else:
        if same is not None:
            replace = k2.checkbox(md(f"Replace the saved profile '{same.name}'"))
        if k2.button("Save profile", disabled=not name or (same is not None and not replace)):
            try:
                me.save_profile(text, replace=replace)
            except CptedError as exc:
                refusal(exc)
            else:
                st.session_state["profile_saved"] = name
                st.rerun()
else:
    allowed = ", ".join(sorted(r.value for r in PERMISSIONS[Action.SAVE_PROFILE]))
    k2.caption(f"Saving profiles for everyone is for: {allowed}. You can download it.")

# -- 5. import ---------------------------------------------------------------------------
st.subheader("5. Import")
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
        st.session_state.pop("preview_key", None)

log = s.imports()
if len(log):
    with st.expander("Import history"):
        st.dataframe(log[["imported_at", "layer", "source"]], hide_index=True,
                     width="stretch")
