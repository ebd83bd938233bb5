"""Giving a read table the layer's fields, as a mapping plan (and profile) say.

:func:`apply_plan` builds one column per field from the plan's columns, then applies
the profile: ``[values]`` maps, ``[constants]``, ``[date_formats]``, ``[units]``,
``[filters]`` and ``duplicate_ids``. Rows it leaves out (filtered, repeated ids, dates
that fit no format) are not dropped but returned as rejections by record number, so
that every row keeps its number in the validator's report. :func:`conform` is the same
without a profile.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from layers._i18n import _, ngettext, number
from layers.content import to_metres
from layers.dates import parse_with_formats
from layers.mapping import How, MappingPlan, field_values, plan_mapping
from layers.profiles import DuplicateIds, Profile, RowFilter, value_key
from layers.schema import FieldType, LayerSchema
from layers.validate import FILTERED, INVALID_DATE, REPEATED_ID, clean_ids, is_null

Reasons = dict[int, tuple[str, str]]


@dataclass
class Conformed:
    """The table with the layer's fields (same index as the input), what was done, and the
    rows left out before validation (``{0-based record: (reason, detail)}``)."""

    frame: gpd.GeoDataFrame
    notes: list[str] = field(default_factory=list)
    rejections: Reasons = field(default_factory=dict)


def conform(frame: gpd.GeoDataFrame, schema: LayerSchema, *,
            column_map: Mapping[str, str] | None = None,
            id_prefix: str = "row") -> tuple[gpd.GeoDataFrame, list[str]]:
    """Rename ``frame``'s columns to ``schema``'s fields (by ``column_map``, name or alias).

    Raises
    ------
    LayerSchemaError
        Listing every required field with no column, every ``column_map`` entry naming an
        unknown field or column, and every guessed column whose values do not fit.
    """
    plan = plan_mapping(frame, schema, column_map=column_map)
    plan.check()
    done = apply_plan(frame, plan, schema, id_prefix=id_prefix)
    return done.frame, done.notes


def apply_plan(frame: gpd.GeoDataFrame, plan: MappingPlan, schema: LayerSchema, *,
               profile: Profile | None = None, id_prefix: str = "row",
               unreadable: Collection[int] = (), first_row: int = 0) -> Conformed:
    """Build the layer's fields from ``plan`` (checked first with
    :meth:`MappingPlan.check`) and apply ``profile``'s values, dates, units, filters and
    duplicate-id rule. ``unreadable`` rows (0-based; the reader could not place them)
    take no part in ``keep-first``: the first row kept is the first readable one.
    ``first_row`` is the 0-based record number of ``frame``'s first row in its file (a
    chunk of a file read in parts), so that ids made from row numbers stay unique."""
    n = len(frame)
    notes: list[str] = []
    reasons: Reasons = {}
    data: dict[str, object] = {}
    for fp in plan.fields:
        spec = schema.spec(fp.field)
        notes += fp.notes
        if fp.how is How.CONSTANT:
            data[fp.field] = [fp.samples[0]] * n
            continue
        if fp.how is How.MADE:
            data[fp.field] = [f"{id_prefix}-{first_row + i + 1}" for i in range(n)]
            notes.append(_("no id column was found, so ids were made from the source and row "
                           "number ({prefix}-1, {prefix}-2, ...)").format(prefix=id_prefix))
            continue
        if not fp.columns:
            continue
        values = field_values(frame, fp.columns, spec)
        vm = profile.values.get(fp.field) if profile else None
        if vm is not None:
            values = vm.apply(values)
        formats = profile.date_formats.get(fp.field) if profile else None
        if spec.type is FieldType.DATETIME and formats:
            values, bad = parse_with_formats(values, formats)
            raw = field_values(frame, fp.columns, spec)
            for i in np.flatnonzero(bad):
                reasons[int(i)] = (INVALID_DATE, _(
                    "row {row}: {field} {value!r} does not fit the profile's date format(s) "
                    "{formats}").format(
                        row=i + 1, field=fp.field, value=raw.iat[i],
                        formats=", ".join(formats)))
        unit = profile.units.get(fp.field) if profile else None
        if unit is not None:
            values = to_metres(values, unit)
        data[fp.field] = _as_column(values)
    out = gpd.GeoDataFrame(data, geometry=frame.geometry.to_numpy(), crs=frame.crs,
                           index=frame.index)
    if profile is not None:
        reasons.update(_filtered(frame, profile.filters))
    id_field = schema.id_field
    if profile is not None and profile.duplicate_ids is not DuplicateIds.ERROR:
        out[id_field], dup_reasons, note = _repeated_ids(
            out[id_field], profile.duplicate_ids, set(reasons) | set(unreadable))
        reasons.update(dup_reasons)
        if note:
            notes.append(note)
    renamed = [f"{' + '.join(fp.columns)} -> {fp.field}" for fp in plan.fields
               if fp.columns and fp.columns != (fp.field,)]
    if renamed:
        notes.append(_("columns matched: {columns}").format(columns=", ".join(renamed)))
    if plan.unused:
        shown = ", ".join(plan.unused[:12]) + (" ..." if len(plan.unused) > 12 else "")
        notes.append(ngettext(
            "{n} column not part of the {layer} layer was not stored: {columns}",
            "{n} columns not part of the {layer} layer were not stored: {columns}",
            len(plan.unused)).format(n=len(plan.unused), layer=schema.layer.value,
                                     columns=shown))
    ordered = [f for f in schema.field_names if f in out.columns]
    return Conformed(out[[*ordered, "geometry"]], notes, reasons)


def _as_column(values: object) -> object:
    """A field's values as a column: text as read stays in its string array (no copy to
    Python objects and back, a third of a large import's checking time); anything else
    becomes an object array."""
    if isinstance(values, pd.Series) and values.dtype != object \
            and pd.api.types.is_string_dtype(values.dtype):
        return values.array
    return np.asarray(values, dtype=object)


def _filtered(frame: pd.DataFrame, filters: tuple[RowFilter, ...]) -> Reasons:
    """Rows failing a profile filter, each with the value and the filter."""
    out: Reasons = {}
    for flt in filters:
        raw = frame[flt.column]
        text = raw.astype("string").str.strip()
        empty = is_null(raw)
        ok = np.ones(len(frame), dtype=bool)
        keys = text.fillna("").map(value_key)
        if flt.keep is not None:
            ok &= keys.isin({value_key(v) for v in flt.keep}).to_numpy(bool)
        if flt.drop is not None:
            ok &= ~keys.isin({value_key(v) for v in flt.drop}).to_numpy(bool)
        if flt.at_least is not None or flt.at_most is not None:
            num = pd.to_numeric(text, errors="coerce")
            if flt.at_least is not None:
                ok &= (num >= flt.at_least).fillna(False).to_numpy(bool)
            if flt.at_most is not None:
                ok &= (num <= flt.at_most).fillna(False).to_numpy(bool)
        for i in np.flatnonzero(~ok):
            if int(i) in out:
                continue
            got = _("empty") if empty[i] else repr(text.iat[i])
            out[int(i)] = (FILTERED, _("row {row}: {column} is {value}; the profile keeps "
                                       "only rows where {rule}").format(
                                           row=i + 1, column=flt.column, value=got,
                                           rule=flt.describe()))
    return out


def _repeated_ids(ids: pd.Series, rule: DuplicateIds,
                  left_out: set[int]) -> tuple[pd.Series, Reasons, str | None]:
    """Apply ``keep-first`` or ``keep-all`` to ids repeated among the rows not left out."""
    clean = clean_ids(ids)
    pos = np.arange(len(clean))
    live = ~np.isin(pos, list(left_out)) & clean.notna().to_numpy(bool) & (
        clean != "").fillna(False).to_numpy(bool)
    sub = clean[live]
    dup_mask = np.zeros(len(clean), dtype=bool)
    dup_mask[live] = sub.duplicated(keep=False).to_numpy(bool)
    if not dup_mask.any():
        return ids, {}, None
    reasons: Reasons = {}
    where = pos[dup_mask]
    repeated = clean.iloc[where]
    n_ids = repeated.nunique()
    if rule is DuplicateIds.KEEP_FIRST:
        first: dict[str, int] = {}
        for i, v in zip(where, repeated, strict=True):
            if v in first:
                reasons[int(i)] = (REPEATED_ID, _(
                    "row {row}: id {id!r} is also on row {first}, which was kept "
                    "(duplicate_ids = \"keep-first\")").format(row=i + 1, id=v,
                                                               first=first[v] + 1))
            else:
                first[v] = int(i)
        later = ngettext("{n} later row left out", "{n} later rows left out",
                         len(reasons)).format(n=number(len(reasons)))
        return ids, reasons, ngettext(
            "{n} id was on more than one row; the first row of each was kept and {later} "
            "(duplicate_ids = \"keep-first\")",
            "{n} ids were on more than one row; the first row of each was kept and {later} "
            "(duplicate_ids = \"keep-first\")", n_ids).format(n=number(n_ids), later=later)
    taken = set(clean.dropna())
    out = clean.astype(object).copy()
    counter: dict[str, int] = {}
    example = ""
    for i, v in zip(where, repeated, strict=True):
        k = counter.get(v, 0)
        while True:
            k += 1
            new = f"{v}-{k}"
            if new not in taken:
                break
        counter[v] = k
        taken.add(new)
        out.iat[int(i)] = new
        example = example or _("{old!r} became {new!r}, {next!r}, ...").format(
            old=v, new=new, next=f"{v}-2")
    return out, reasons, ngettext(
        "{n} id was on more than one row ({rows} rows); each of those rows was numbered in "
        "file order ({example}) (duplicate_ids = \"keep-all\")",
        "{n} ids were on more than one row ({rows} rows); each of those rows was numbered in "
        "file order ({example}) (duplicate_ids = \"keep-all\")", n_ids).format(
            n=number(n_ids), rows=number(len(where)), example=example)
