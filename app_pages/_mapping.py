"""The Import page's mapping step: where to start from, the table of fields and their
columns, the value tables of categorical fields, and the rejections of a check.

The rules are in :mod:`layers.mapping_edit`; this module only turns them into widgets.
Every table is plain text (``st.data_editor``, ``st.dataframe``); every other text that
holds a file's value goes through :func:`app_pages._text.md`. An editor's edits are read
from ``st.session_state`` before it is drawn (:func:`edited`), so the table drawn shows
what the edits make.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from app_pages._words import word
from cpted.i18n import N_, _
from layers import profile_catalog as catalog
from layers.errors import ProfileError
from layers.importer import ImportSummary
from layers.mapping import MappingPlan
from layers.mapping_edit import EMPTY, OTHER, Choice, Source, ValueRow, field_problems
from layers.profiles import Profile, load_profile, shipped_profiles
from layers.schema import FieldSpec, Layer, LayerSchema, field_words

#: The words a table shows for no column, no value and the like, translated where shown
#: (and read back in the language in use, or in English from before a change of language).
NONE_LABEL = N_("(none)")
NO_VALUE = N_("(no value)")
LEAVE_OUT = N_("(leave out)")
EMPTY_LABEL = N_("(empty cell)")
OTHER_LABEL = N_("(any other value)")
NO_START = "none"


@dataclass(frozen=True)
class Start:
    """A profile the mapping may start from."""

    key: str
    label: str
    load: Callable[[], Profile | None]


@st.cache_data(show_spinner=False)
def _files(stamp: tuple[tuple[str, str, float], ...]) -> list[tuple[str, str, str, str]]:
    """(kind, ref, name, layer) of each profile file in ``stamp`` (kind, ref, path,
    mtime); a file with problems is left out (``cpted profile check`` names them)."""
    out = []
    for kind, ref, path, _stamp in stamp:
        try:
            prof = load_profile(Path(path))
        except (ProfileError, OSError):  # a broken file is not offered, never fatal
            continue
        out.append((kind, ref, prof.name, prof.layer.value))
    return out


def starts(door: Any, layer: Layer) -> dict[str, Start]:
    """What the mapping may start from for ``layer``: nothing (columns matched by name),
    the saved profiles, the shipped ones and the project folder's."""
    out = {NO_START: Start(NO_START, _("None: match columns by name"), lambda: None)}
    for saved in door.saved_profiles():
        if saved.profile is not None and saved.profile.layer is layer:
            prof = saved.profile
            out[f"saved:{saved.name}"] = Start(f"saved:{saved.name}",
                                               _("{name} (saved)").format(name=saved.name),
                                               lambda p=prof: p)
    files = [("shipped", ref, str(p), p.stat().st_mtime) for ref, p in shipped_profiles().items()]
    files += [("project", ref, str(p), p.stat().st_mtime)
              for ref, p in catalog.project_profiles().items()]
    paths = {(kind, ref): path for kind, ref, path, _stamp in files}
    for kind, ref, name, layer_name in _files(tuple(files)):
        if layer_name != layer.value:
            continue
        label = (_("{name} (shipped: {ref})") if kind == "shipped"
                 else _("{name} (project folder: {ref})")).format(name=name, ref=ref)
        path = paths[(kind, ref)]
        out[f"{kind}:{ref}"] = Start(f"{kind}:{ref}", label,
                                     lambda p=path: load_profile(Path(p)))
    return out


def edited(key: str, column: str) -> dict[int, Any]:
    """The edits made to ``column`` of the data editor ``key``: row position -> value."""
    state = st.session_state.get(key)
    rows = state.get("edited_rows", {}) if isinstance(state, Mapping) else {}
    return {int(i): change[column] for i, change in rows.items()
            if isinstance(change, Mapping) and column in change}


def column_label(columns: Sequence[str]) -> str:
    return " + ".join(columns) if columns else _(NONE_LABEL)


def column_options(headers: Sequence[str], choices: Mapping[str, Choice]) -> dict[str, tuple[
        str, ...]]:
    """Each label a field's column select offers -> the columns it stands for."""
    out: dict[str, tuple[str, ...]] = {_(NONE_LABEL): ()}
    out.update({h: (h,) for h in headers})
    for c in choices.values():
        if len(c.columns) > 1:
            out[column_label(c.columns)] = c.columns
    return out


def picked_columns(key: str, fields: Sequence[str],
                   options: Mapping[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """The columns chosen in the field table ``key`` (field -> columns)."""
    return {fields[i]: options.get(str(v), ()) if v is not None else ()
            for i, v in edited(key, "column").items() if i < len(fields)}


def _short(text: str) -> str:
    """A reason or problem without its examples (the table shows samples beside it)."""
    return re.sub(r" \(e\.g\. .*?\)(?=;|$|\.)", "", text).split("; check ")[0]


def why(choice: Choice) -> str:
    """Why a field has its column, in a few words led by how it was chosen (profile,
    name, alias, content check, you)."""
    time = re.search(r"; with '.*' as its time of day$", choice.why)
    extra = (" " + time.group(0)[2:]) if time else ""
    match choice.source:
        case Source.PROFILE:
            return _("profile") + extra
        case Source.NAME:
            return _("name") + extra
        case Source.ALIAS:
            alias = re.search(r"\(([^)]*)\)(?:;|$)", choice.why)
            return (_("alias ({alias})").format(alias=alias.group(1)) if alias
                    else _("alias")) + extra
        case Source.CONTENT:
            return _short(choice.why)
        case Source.CONSTANT:
            return _("profile: one value for every row")
        case Source.MADE:
            return _("none: ids made from the file name and row number")
        case Source.NONE:
            return (_("profile: no column") if choice.why.startswith("the profile")
                    else _("none found"))
        case _:
            return choice.source.value


def mapping_table(key: str, schema: LayerSchema, first: Mapping[str, Choice],
                  now: Mapping[str, Choice], plan: MappingPlan,
                  options: Mapping[str, tuple[str, ...]]) -> None:
    """The table of fields: the column (editable), why, samples and problems of each."""
    rows = []
    for spec in schema.fields:
        fp, choice = plan.field(spec.name), now[spec.name]
        samples = (f"= {fp.samples[0]}" if fp.samples and not fp.columns
                   else ", ".join(fp.samples[:3]))
        problems = [_short(p) for p in field_problems(choice, fp, spec)]
        words = word(field_words(schema.layer, spec.name))
        rows.append({"field": _("{field} (required)").format(field=words) if spec.required
                     else words,
                     "name": spec.name,
                     "column": column_label(first[spec.name].columns),
                     "problem": _("Needs your decision: {problems}").format(
                         problems=" ".join(problems)) if choice.flagged
                     else " ".join(problems),
                     "why": why(choice),
                     "samples": samples})
    st.data_editor(
        pd.DataFrame(rows), key=key, hide_index=True, width="stretch", num_rows="fixed",
        height=_height(len(rows)), disabled=["field", "name", "why", "samples", "problem"],
        column_config={
            "field": st.column_config.TextColumn(_("Our field"), width="medium"),
            "name": st.column_config.TextColumn(
                _("In a profile"), width="small",
                help=_("The field's name in an import profile (a TOML file)")),
            "column": st.column_config.SelectboxColumn(
                _("Column of the file"), options=list(options), required=True, width="medium",
                help=_("Which of the file's columns holds this field; {none} for no "
                       "column").format(none=_(NONE_LABEL))),
            "why": st.column_config.TextColumn(_("Why"), width="medium"),
            "samples": st.column_config.TextColumn(_("Sample values"), width="medium"),
            "problem": st.column_config.TextColumn(_("Problem"), width="medium"),
        })


def _height(rows: int) -> int:
    """Pixels that show a table's every row and its header (35 px each), no inner
    scrolling."""
    return 35 * (rows + 1) + 3


def problem_lines(schema: LayerSchema, now: Mapping[str, Choice], plan: MappingPlan) -> list[str]:
    """Each field's problems in full, one line a field, for those not flagged (a flagged
    one has its own question)."""
    out = []
    for spec in schema.fields:
        choice = now[spec.name]
        found = field_problems(choice, plan.field(spec.name), spec)
        if found and not choice.flagged:
            out.append(f"{word(field_words(schema.layer, spec.name))} – {'; '.join(found)}")
    return out


def value_options(spec: FieldSpec) -> list[str]:
    return [*(spec.choices or ()), *(() if spec.required else (_(NO_VALUE),)), _(LEAVE_OUT)]


def _label(target: str | None) -> str:
    if target is None:
        return _(LEAVE_OUT)
    return target or _(NO_VALUE)


def picked_values(key: str, rows: Sequence[ValueRow]) -> dict[str, str | None]:
    """A value table's result: file value -> ours (``""`` none; ``None`` left out)."""
    out = {r.value: r.target for r in rows}
    for i, v in edited(key, "becomes").items():
        if i < len(rows):
            text = None if v is None or (isinstance(v, float) and pd.isna(v)) else str(v)
            out[rows[i].value] = ("" if text in (NO_VALUE, _(NO_VALUE)) else None
                                  if text in (None, LEAVE_OUT, _(LEAVE_OUT)) else text)
    return out


def value_table(key: str, spec: FieldSpec, rows: Sequence[ValueRow]) -> None:
    """A categorical field's table: each file value, its rows, and ours (editable)."""
    shown = {EMPTY: _(EMPTY_LABEL), OTHER: _(OTHER_LABEL)}
    mine = edited(key, "becomes")
    frame = pd.DataFrame({
        "value": [shown.get(r.value, r.value) for r in rows],
        "becomes": [_label(r.target) for r in rows],
        "rows": pd.array([r.rows for r in rows], dtype="Int64"),
        "how": [_("chosen by you") if i in mine else r.how for i, r in enumerate(rows)]})
    st.data_editor(
        frame, key=key, hide_index=True, width="stretch", num_rows="fixed",
        height=_height(len(frame)), placeholder="", disabled=["value", "rows", "how"],
        column_config={
            "value": st.column_config.TextColumn(_("Value in the file"), width="medium"),
            "rows": st.column_config.NumberColumn(_("Rows"), format="%d", width="small"),
            "becomes": st.column_config.SelectboxColumn(
                _("Our {field}").format(field=spec.name), options=value_options(spec),
                width="medium", required=True,
                help=_("{leave_out}: not in the table (the value then becomes what {other} "
                       "says, else stays as it is)").format(leave_out=_(LEAVE_OUT),
                                                            other=_(OTHER_LABEL))),
            "how": st.column_config.TextColumn(_("Why"), width="large")})


def rejection_table(summary: ImportSummary) -> pd.DataFrame:
    """Rejected rows by reason, most first, with a few examples of each."""
    return pd.DataFrame(
        [{"reason": reason, "rows": n,
          "examples": "; ".join(r.detail for r in firsts)}
         for reason, n, firsts in summary.reasons(examples=3)],
        columns=["reason", "rows", "examples"])
