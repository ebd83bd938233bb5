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
from app_pages._words import ROLES, layer_title, layer_word, word
from cpted import i18n
from cpted.access import PERMISSIONS, Action, can
from cpted.i18n import _, ngettext
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
st.title(_("Import"))


def roles_for(action: Action) -> str:
    """The roles allowed ``action``, in words, in alphabetical order of their values."""
    return ", ".join(word(ROLES.get(r.value, r.value))
                     for r in sorted(PERMISSIONS[action], key=lambda r: r.value))


if not can(me.actor.role, Action.IMPORT):
    st.info(_("Importing data is for these roles: {roles}. Sign in with such an account "
              "(in the sidebar) to import.").format(roles=roles_for(Action.IMPORT)))
    st.stop()
st.write(_("Bring your city's data into the shared map. Choose a file and its layer, check "
           "how its columns and values map onto ours, and see every row checked: nothing is "
           "stored until you press **Import**."))

left, right = st.columns([2, 1])
with left:
    upload = st.file_uploader(
        _("File"), type=["csv", "txt", "geojson", "json", "gpkg", "zip", "parquet"],
        max_upload_size=settings().max_upload_widget_mb,
        help=_("CSV with coordinate columns, GeoJSON, GeoPackage, zipped Shapefile or "
               "GeoParquet. At most {mb} MB and {rows} rows.").format(
                   mb=i18n.number(settings().max_upload_mb),
                   rows=i18n.number(settings().max_import_rows)))
with right:
    choices = [x.value for x in Layer]
    layer = Layer(st.selectbox(_("Layer"), choices, index=choices.index(Layer.CONCERNS.value),
                               format_func=layer_title))
    schema = SCHEMAS[layer]


def words(name: str) -> str:
    """A field of the chosen layer in plain words, in the language in use."""
    return word(field_words(layer, name))


with right:
    st.caption(_("Fields: {fields} (bold = required)").format(fields=", ".join(
        f"**{words(f.name)}**" if f.required else words(f.name) for f in schema.fields)))


with st.expander(_("Reading options")):
    o1, o2, o3 = st.columns(3)
    fmt = o1.selectbox(_("Format"), ["", *[f.value for f in InputFormat]],
                       format_func=lambda v: v or _("(from the file ending)"))
    crs = o1.text_input(_("Source CRS"), placeholder=_("e.g. {example}").format(
                            example="EPSG:2817"),
                        help=_("For x/y columns in projected units, or a file that declares "
                               "none."))
    lon_col = o2.text_input(_("Longitude column"), placeholder=_("detected"))
    lat_col = o2.text_input(_("Latitude column"), placeholder=_("detected"))
    x_col = o3.text_input(_("X column (projected)"))
    y_col = o3.text_input(_("Y column (projected)"))
    encoding = o1.text_input(_("Text encoding"), placeholder=_("UTF-8, else latin-1"))
    on_conflict = o2.selectbox(_("Ids already stored"), ["error", "skip", "replace"],
                               format_func={"error": _("refuse the import"),
                                            "skip": _("keep stored rows"),
                                            "replace": _("overwrite stored rows")}.get)
    repair = o3.checkbox(_("Repair invalid polygons"), value=True)

if upload is None:
    st.stop()
if upload.size > settings().max_upload_bytes:
    st.error(_("{file} is {size} MB; the upload limit is {mb} MB.").format(
        file=md(upload.name), size=i18n.number(upload.size / 2**20, digits=1),
        mb=i18n.number(settings().max_upload_mb)))
    st.stop()

read = {"fmt": fmt or None, "crs": crs or None,
        "lon_col": lon_col or None, "lat_col": lat_col or None, "x_col": x_col or None,
        "y_col": y_col or None, "encoding": encoding or None}
options = {**read, "repair": repair}


def upload_path(tmp: str) -> Path:
    assert upload is not None
    path = Path(tmp) / Path(upload.name).name
    path.write_bytes(upload.getbuffer())
    return path


# -- 1. the mapping ----------------------------------------------------------------------
st.subheader(_("1. Columns"))
begin = ui.starts(me, layer)
start = st.selectbox(
    _("Start from a saved profile"), list(begin), format_func=lambda k: begin[k].label,
    key=f"start-{layer.value}",
    help=_("A profile says how one kind of file maps onto this layer: the profiles saved "
           "here, those shipped with the program and those in the project's profiles "
           "folder. Start from one, change what is wrong, then check the rows."))
key = hashlib.sha256(repr((upload.file_id, layer.value, sorted(options.items()), start))
                     .encode()).hexdigest()[:16]
if st.session_state.get("mapping_key") != key:
    st.session_state.pop("mapping", None)
    with st.status(_("Reading {file}...").format(file=md(upload.name)),
                   expanded=False) as status:
        try:
            base = begin[start].load()
            with tempfile.TemporaryDirectory(prefix="cpted-upload-") as tmp:
                status.update(label=_("Reading {file} and matching its columns...").format(
                    file=md(upload.name)))
                st.session_state["mapping"] = read_and_plan(
                    upload_path(tmp), layer, profile=base, settings=settings(), **read)
            status.update(label=_("Read {file}").format(file=md(upload.name)),
                          state="complete")
        except UnusableInputError as exc:
            st.session_state["mapping"] = exc
            status.update(label=_("{file} cannot be read").format(file=md(upload.name)),
                          state="error")
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
    _unused, unmapped = make({})
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

place = (_("Rows are placed by the columns {x} and {y}.").format(
    x=md(raw.coordinates[0]), y=md(raw.coordinates[1])) if raw.coordinates else
    _("Rows are placed by the file's own geometry ({format}).").format(
        format=raw.format.value))
st.caption(" ".join([
    ngettext("{n} row.", "{n} rows.", plan0.rows).format(n=i18n.number(plan0.rows)), place,
    _("Choose a column for any field that is wrong or missing; the table shows why each "
      "was chosen, a few of its values, and what does not fit.")]))
ui.mapping_table(map_key, schema, first, now, plan, labels)
for line in ui.problem_lines(schema, now, plan):
    st.caption(md(line))
if plan.unused:
    st.caption(_("Columns not used: {columns}").format(columns=md(", ".join(plan.unused))))
for f in flagged:
    fp = plan0.field(f)
    col = ui.column_label(fp.columns)
    with st.container(border=True):
        st.warning(md(_("Column '{column}' was taken for {field} by its name, but "
                        "{problems}. Confirm it (and map its values below), or choose "
                        "another column for it in the table.").format(
            column=col, field=words(f), problems="; ".join(fp.problems))))
        st.checkbox(md(_("Use column '{column}' for {field}").format(column=col,
                                                                     field=words(f))),
                    key=f"confirm-{key}-{f}")

if value_keys:
    st.subheader(_("2. Values"))
    st.caption(_("Each value the file holds for a field that takes a fixed list, with its "
                 "rows and the value of ours it becomes. {leave_out} keeps the value out of "
                 "the table: it then becomes what {other} says, or stays as it is, and a row "
                 "whose value is not one of ours is rejected.").format(
        leave_out=_(ui.LEAVE_OUT), other=_(ui.OTHER_LABEL)))
    for f, (vkey, rows) in value_keys.items():
        cols = now[f].columns
        if f in flagged and f not in confirmed:
            head = _("**{field}** from column {column} (used once you confirm the column "
                     "above)")
        else:
            head = _("**{field}** from column {column}")
        st.markdown(head.format(field=md(words(f)), column=md(ui.column_label(cols))))
        ui.value_table(vkey, schema.spec(f), rows)

# -- 3. the check ------------------------------------------------------------------------
st.subheader(_("3. Validation report"))
missing = [f.field for f in plan.fields if f.required and f.how is How.NONE]
blockers = [*(p for p in plan.problems if not p.startswith("required field")),
            *(_("{field} is required: choose the column that holds it").format(field=words(f))
              for f in missing),
            *(_("confirm the column for {field}, or choose another").format(field=words(f))
              for f in flagged if f not in confirmed)]
if blockers:
    st.warning(_("Before the rows can be checked:") + "\n\n"
               + "\n".join(f"- {md(b)}" for b in blockers))
    st.stop()
check_key = (key, text)
if st.session_state.get("preview_key") != check_key:
    st.session_state.pop("preview", None)
    with (st.status(_("Checking every row of {file}...").format(file=md(upload.name)),
                    expanded=False) as status,
          tempfile.TemporaryDirectory(prefix="cpted-upload-") as tmp):
        try:
            st.session_state["preview"] = prepare_import(
                s, upload_path(tmp), layer, profile=prof, settings=settings(),
                source_name=upload.name, **options)
            status.update(label=_("Every row checked"), state="complete")
        except UnusableInputError as exc:
            st.session_state["preview"] = exc
            status.update(label=_("The file cannot be imported as mapped"), state="error")
    st.session_state["preview_key"] = check_key
prepared = st.session_state["preview"]
if isinstance(prepared, Exception):
    refusal(prepared)
    st.stop()
summary = prepared.summary
m1, m2, m3 = st.columns(3)
m1.metric(_("Rows read"), i18n.number(summary.read))
m2.metric(_("Would be accepted"), i18n.number(summary.accepted))
m3.metric(_("Rejected"), i18n.number(summary.rejected_total))
for note in summary.notes:
    st.info(md(note))
if summary.rejected:
    st.markdown(_("**Why rows are rejected**"))
    if len(summary.rejected) > 1:  # one reason: its row below says it all
        st.bar_chart(
            pd.Series(summary.rejected, name=_("rows")).rename_axis(_("reason")),
            horizontal=True, height=min(60 + 40 * len(summary.rejected), 300),
            alt=_("Bar chart of the rows refused, by reason: {reasons}.").format(
                reasons="; ".join(f"{why} {i18n.number(n)}"
                                  for why, n in summary.rejected.items())))
    st.dataframe(ui.rejection_table(summary), hide_index=True, width="stretch",
                 column_config={
                     "reason": st.column_config.TextColumn(_("Reason"), width="medium"),
                     "rows": st.column_config.NumberColumn(_("Rows"), format="%d",
                                                           width="small"),
                     "examples": st.column_config.TextColumn(_("Examples"), width="large")})
    with st.expander(_("Every rejected row ({n})").format(
            n=i18n.number(summary.rejected_total))):
        st.dataframe(pd.DataFrame([r.__dict__ for r in summary.rejections]),
                     hide_index=True, width="stretch",
                     column_config={
                         "row": st.column_config.NumberColumn(_("Row"), format="%d"),
                         "reason": st.column_config.TextColumn(_("Reason"), width="small"),
                         "detail": st.column_config.TextColumn(_("Detail"), width="large")})
with st.expander(_("Preview of accepted rows")):
    preview = prepared.accepted.drop(columns="geometry").head(50).copy()
    preview["geometry"] = prepared.accepted.geometry.head(50).to_wkt(rounding_precision=6)
    st.dataframe(preview, hide_index=True, width="stretch")

# -- 4. keep the mapping ----------------------------------------------------------------
st.subheader(_("4. Keep this mapping"))
st.caption(_("Save it as a profile to import next month's file the same way, here (start "
             "from it above) or with the command line ({command}).").format(
    command=f"cpted import FILE --layer {layer.value} --profile NAME"))
st.text_input(_("Profile name"), value=default_name, key=name_key, max_chars=catalog.MAX_NAME_CHARS)
if name_problem:
    st.error(md(name_problem))
just_saved = st.session_state.pop("profile_saved", None)
if just_saved:
    st.success(_("Saved the profile {name}: choose it under {start}, or give its name to "
                 "{command}.").format(name=md(just_saved),
                                      start=_("Start from a saved profile"),
                                      command="cpted import --profile"))
k1, k2 = st.columns(2)
k1.download_button(_("Download profile (TOML)"), data=text,
                   file_name=f"{slug(name or 'profile') or 'profile'}.toml",
                   mime="application/toml", disabled=not name)
if can(me.actor.role, Action.SAVE_PROFILE):
    held = {p.name.casefold(): p for p in me.saved_profiles()}
    same = held.get(name.casefold()) if name else None
    replace = False
    if same is not None and same.profile is not None and \
            dataclasses.replace(same.profile, source="") == dataclasses.replace(prof, source=""):
        k2.caption(_("This mapping is saved as {name}.").format(name=md(same.name)))
    else:
        if same is not None:
            replace = k2.checkbox(md(_("Replace the saved profile '{name}'").format(
                name=same.name)))
        if k2.button(_("Save profile"), disabled=not name or (same is not None and not replace)):
            try:
                me.save_profile(text, replace=replace)
            except CptedError as exc:
                refusal(exc)
            else:
                st.session_state["profile_saved"] = name
                st.rerun()
else:
    k2.caption(_("Saving profiles for everyone is for: {roles}. You can download it.").format(
        roles=roles_for(Action.SAVE_PROFILE)))

# -- 5. import ---------------------------------------------------------------------------
st.subheader(_("5. Import"))
if st.button(ngettext("Import {n} row into {layer}", "Import {n} rows into {layer}",
                      summary.accepted).format(n=i18n.number(summary.accepted),
                                               layer=layer_word(layer.value)), type="primary"):
    bar = st.progress(0.0, text=_("Writing..."))

    def progress(done: int, total: int) -> None:
        bar.progress(done / max(total, 1), text=ngettext(
            "Writing {done} of {total} row", "Writing {done} of {total} rows", total).format(
                done=i18n.number(done), total=i18n.number(total)))

    try:
        written = me.commit_import(prepared, on_conflict=on_conflict, progress=progress)
    except CptedError as exc:  # refused rows, the rate limit, or a database that went away
        bar.empty()
        st.error(md(exc))
    else:
        bar.empty()
        st.success(ngettext("Imported {n} row into {layer} from {source}.",
                            "Imported {n} rows into {layer} from {source}.", written).format(
            n=i18n.number(written), layer=layer_word(layer.value), source=md(summary.source)))
        st.session_state.pop("preview_key", None)

log = s.imports()
if len(log):
    with st.expander(_("Import history")):
        st.dataframe(log[["imported_at", "layer", "source"]], hide_index=True,
                     width="stretch",
                     column_config={"imported_at": _("Imported on"), "layer": _("Layer"),
                                    "source": _("From")})
