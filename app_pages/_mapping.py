"""The Import page's mapping step: where to start from, the table of fields and their
columns, the value tables of categorical fields, and the rejections of a check.

The rules are in :mod:`layers.mapping_edit`; this module only turns them into widgets.
Every table is plain text (``st.data_editor``, ``st.dataframe``); every other text that
holds a file's value goes through :func:`app_pages._text.md`. An editor's edits are read
from ``st.session_state`` before it is drawn (:func:`edited`), so the table drawn shows
what the edits make.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from layers import profile_catalog as catalog
from layers.errors import ProfileError
from layers.importer import ImportSummary
from layers.mapping import MappingPlan
from layers.mapping_edit import EMPTY, OTHER, Choice, Source, ValueRow, field_problems
from layers.profiles import Profile, load_profile, shipped_profiles
from layers.schema import FieldSpec, Layer, LayerSchema

NONE_LABEL = "(none)"
NO_VALUE = "(no value)"
EMPTY_LABEL = "(empty cell)"
OTHER_LABEL = "(any other value)"
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
    for kind, ref, path, _ in stamp:
        try:
            prof = load_profile(Path(path))
        except (ProfileError, OSError):  # a broken file is not offered, never fatal
            continue
        out.append((kind, ref, prof.name, prof.layer.value))
    return out


def starts(door: Any, layer: Layer) -> dict[str, Start]:
    """What the mapping may start from for ``layer``: nothing (columns matched by name),
    the saved profiles, the shipped ones and the project folder's."""
    out = {NO_START: Start(NO_START, "None: match columns by name", lambda: None)}
    for saved in door.saved_profiles():
        if saved.profile is not None and saved.profile.layer is layer:
            prof = saved.profile
            out[f"saved:{saved.name}"] = Start(f"saved:{saved.name}", f"{saved.name} (saved)",
                                               lambda p=prof: p)
    files = [("shipped", ref, str(p), p.stat().st_mtime) for ref, p in shipped_profiles().items()]
    files += [("project", ref, str(p), p.stat().st_mtime)
              for ref, p in catalog.project_profiles().items()]
    paths = {(kind, ref): path for kind, ref, path, _ in files}
    for kind, ref, name, layer_name in _files(tuple(files)):
        if layer_name != layer.value:
            continue
        where = "shipped" if kind == "shipped" else "project folder"
        path = paths[(kind, ref)]
        out[f"{kind}:{ref}"] = Start(f"{kind}:{ref}", f"{name} ({where}: {ref})",
                                     lambda p=path: load_profile(Path(p)))
    return out


def edited(key: str, column: str) -> dict[int, Any]:
    """The edits made to ``column`` of the data editor ``key``: row position -> value."""
    state = st.session_state.get(key)
    rows = state.get("edited_rows", {}) if isinstance(state, Mapping) else {}
    return {int(i): change[column] for i, change in rows.items()
            if isinstance(change, Mapping) and column in change}


def column_label(columns: Sequence[str]) -> str:
    return " + ".join(columns) if columns else NONE_LABEL


def column_options(headers: Sequence[str], choices: Mapping[str, Choice]) -> dict[str, tuple[
        str, ...]]:
    """Each label a field's column select offers -> the columns it stands for."""
    out: dict[str, tuple[str, ...]] = {NONE_LABEL: ()}
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


def why(choice: Choice) -> str:
    """Why a field has its column, led by how it was chosen (profile, name, alias,
    content check...)."""
    if choice.source in (Source.NONE, Source.MADE, Source.CONSTANT) or \
            choice.why.startswith(choice.source.value):
        return choice.why
    return f"{choice.source.value}: {choice.why}"


def mapping_table(key: str, schema: LayerSchema, first: Mapping[str, Choice],
                  now: Mapping[str, Choice], plan: MappingPlan,
                  options: Mapping[str, tuple[str, ...]]) -> None:
    """The table of fields: the column (editable), why, samples and problems of each."""
    rows = []
    for spec in schema.fields:
        fp, choice = plan.field(spec.name), now[spec.name]
        samples = (f"= {fp.samples[0]}" if fp.samples and not fp.columns
                   else ", ".join(fp.samples[:3]))
        problems = field_problems(choice, fp, spec)
        rows.append({"field": spec.name + (" (required)" if spec.required else ""),
                     "column": column_label(first[spec.name].columns),
                     "why": why(choice),
                     "samples": samples,
                     "problem": ("Needs your decision: " if choice.flagged else "")
                     + " ".join(problems)})
    st.data_editor(
        pd.DataFrame(rows), key=key, hide_index=True, width="stretch", num_rows="fixed",
        disabled=["field", "why", "samples", "problem"],
        column_config={
            "field": st.column_config.TextColumn("Our field", width="small", pinned=True),
            "column": st.column_config.SelectboxColumn(
                "Column of the file", options=list(options), required=True, width="medium",
                help="Which of the file's columns holds this field; (none) for no column"),
            "why": st.column_config.TextColumn("Why", width="medium"),
            "samples": st.column_config.TextColumn("Sample values", width="medium"),
            "problem": st.column_config.TextColumn("Problem", width="large"),
        })


def value_options(spec: FieldSpec) -> list[str]:
    return [*(spec.choices or ()), *(() if spec.required else (NO_VALUE,))]


def _label(target: str | None) -> str | None:
    if target is None:
        return None
    return target or NO_VALUE


def picked_values(key: str, rows: Sequence[ValueRow]) -> dict[str, str | None]:
    """A value table's result: file value -> ours (``""`` none; ``None`` left out)."""
    out = {r.value: r.target for r in rows}
    for i, v in edited(key, "becomes").items():
        if i < len(rows):
            text = None if v is None or (isinstance(v, float) and pd.isna(v)) else str(v)
            out[rows[i].value] = "" if text == NO_VALUE else text or None
    return out


def value_table(key: str, spec: FieldSpec, rows: Sequence[ValueRow]) -> None:
    """A categorical field's table: each file value, its rows, and ours (editable)."""
    shown = {EMPTY: EMPTY_LABEL, OTHER: OTHER_LABEL}
    frame = pd.DataFrame({
        "value": [shown.get(r.value, r.value) for r in rows],
        "rows": pd.array([r.rows for r in rows], dtype="Int64"),
        "becomes": [_label(r.target) for r in rows],
        "how": [r.how for r in rows]})
    st.data_editor(
        frame, key=key, hide_index=True, width="stretch", num_rows="fixed",
        disabled=["value", "rows", "how"],
        column_config={
            "value": st.column_config.TextColumn("Value in the file", width="medium",
                                                 pinned=True),
            "rows": st.column_config.NumberColumn("Rows", format="%d", width="small"),
            "becomes": st.column_config.SelectboxColumn(
                f"Our {spec.name}", options=value_options(spec), width="medium",
                help="Blank: not in the table (the value is then kept as it is)"),
            "how": st.column_config.TextColumn("Why", width="large")})


def rejection_table(summary: ImportSummary) -> pd.DataFrame:
    """Rejected rows by reason, most first, with a few examples of each."""
    return pd.DataFrame(
        [{"reason": reason, "rows": n,
          "examples": "; ".join(r.detail for r in firsts)}
         for reason, n, firsts in summary.reasons(examples=3)],
        columns=["reason", "rows", "examples"])
