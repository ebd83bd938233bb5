"""The mapping plan: which of a file's columns feeds each field of a layer, and why.

:func:`plan_mapping` decides, for every field of the layer, the column (or columns, or
constant) it comes from and how that was decided: named by the profile, given on the
command line, the field's own name, one of its aliases, or none. It then looks at the
values (:mod:`layers.content`): a date column whose values are not dates, codes
(``0486``, ``A31``) or numbers where a name is expected, values outside the field's
list, text in a number field.

Nothing is guessed silently: a column taken by its name or an alias whose values
mostly do not fit (:data:`layers.content.MISFIT_LIMIT`) is not used;
:meth:`MappingPlan.check` refuses the import with the column, what is wrong and the
profile line that would confirm it.
A page can show the same plan (each field, why, samples, confidence, problems, and
for categorical fields every source value with its count and the value it maps to)
before anything is imported.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

import geopandas as gpd
import pandas as pd

from layers._i18n import _, ngettext, number
from layers.content import MISFIT_LIMIT, Check, ValueCount, check_values, distinct_values
from layers.errors import LayerSchemaError
from layers.profiles import Profile
from layers.readers import fold
from layers.schema import FieldSpec, FieldType, Layer, LayerSchema
from layers.validate import clean_ids, is_null


class How(StrEnum):
    """Why a field gets its column."""

    PROFILE = "profile"    # the profile's [columns] names it
    GIVEN = "given"        # given on the command line (--map FIELD=COLUMN)
    NAME = "name"          # the column has the field's name
    ALIAS = "alias"        # the column has one of the field's other names
    CONSTANT = "constant"  # the profile's [constants] gives every row one value
    MADE = "made"          # ids made from the file name and row number
    NONE = "none"          # no column


#: How a field's column was chosen when it was a guess.
GUESSES = (How.NAME, How.ALIAS)


class Confidence(StrEnum):
    HIGH = "high"      # the profile or the command line said so, and the values fit
    MEDIUM = "medium"  # taken by name or alias, and the values fit
    LOW = "low"        # values that do not fit, or nothing to go on


@dataclass(frozen=True)
class FieldPlan:
    """Where one field's values come from, and what they look like. ``why`` stays in
    English: the Import page reads it (app_pages/_mapping.py) and says it in words of its
    own; problems and notes are in the language in use."""

    field: str
    required: bool
    columns: tuple[str, ...]
    how: How
    why: str
    samples: tuple[str, ...] = ()
    filled: int = 0             # rows with a value
    misfit: float = 0.0         # share of those values that do not fit the field
    problems: tuple[str, ...] = ()
    values: tuple[ValueCount, ...] = ()
    more_values: int = 0        # distinct values not listed in ``values``
    alternatives: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()  # what the import log says about this choice

    @property
    def needs_confirmation(self) -> bool:
        """A guessed column whose values mostly do not fit: not used until confirmed."""
        return self.how in GUESSES and self.misfit > MISFIT_LIMIT

    @property
    def confidence(self) -> Confidence:
        if self.misfit > MISFIT_LIMIT or (self.how is How.NONE and self.required):
            return Confidence.LOW
        if self.how in GUESSES:
            return Confidence.MEDIUM
        return Confidence.HIGH

    @property
    def profile_line(self) -> str:
        """The ``[columns]`` line that names this field's column(s), e.g.
        ``category = "Primary Type"``."""
        return columns_line(self.field, self.columns)


@dataclass(frozen=True)
class MappingPlan:
    """Every field of ``layer`` with its source, plus what stops the import."""

    layer: Layer
    rows: int
    fields: tuple[FieldPlan, ...]
    unused: tuple[str, ...] = ()
    coordinates: tuple[str, str] | None = None
    profile: str | None = None
    problems: tuple[str, ...] = ()   # missing columns and fields, before any content check
    present: tuple[str, ...] = ()    # the file's columns

    def field(self, name: str) -> FieldPlan:
        for f in self.fields:
            if f.field == name:
                return f
        raise KeyError(name)

    @property
    def refusals(self) -> list[str]:
        """Every reason the import cannot go ahead, each naming the fix."""
        return [*self.problems, *(_refusal(f) for f in self.fields if f.needs_confirmation)]

    def text(self) -> str:
        """The plan as lines of plain text, one field a line (``cpted profile check``)."""
        head = (_("{layer}: {n} rows, profile {profile!r}") if self.profile
                else _("{layer}: {n} rows"))
        lines = [head.format(layer=self.layer.value, n=number(self.rows), profile=self.profile)]
        if self.coordinates:
            lines.append(_("  coordinates: {x}, {y}").format(x=self.coordinates[0],
                                                             y=self.coordinates[1]))
        for f in self.fields:
            src = (" + ".join(f.columns) if f.columns else
                   f"= {f.samples[0]!r}" if f.how is How.CONSTANT else f"({f.how.value})")
            line = f"  {f.field:<20} <- {src}  [{f.how.value}, {f.confidence.value}]"
            if f.samples and f.how is not How.CONSTANT:
                line += _("  e.g. {samples}").format(
                    samples=", ".join(repr(v) for v in f.samples[:3]))
            lines.append(line)
            for v in f.values[:12]:
                value = f"      {v.value!r} x {number(v.count)} -> {v.mapped!r}"
                lines.append(value if v.fits else _("{value}  (not one of ours)").format(
                    value=value))
            if len(f.values) > 12 or f.more_values:
                more = len(f.values) - 12 + f.more_values
                lines.append(ngettext("      ... {n} more value", "      ... {n} more values",
                                      more).format(n=number(more)))
            lines += [_("      problem: {problem}").format(problem=p) for p in f.problems]
        if self.unused:
            lines.append(_("  not used: {columns}").format(columns=", ".join(self.unused)))
        return "\n".join(lines)

    def check(self) -> None:
        """Raise :class:`~layers.errors.LayerSchemaError` listing every refusal."""
        if self.refusals:
            raise LayerSchemaError(
                _("this table cannot be imported as {layer}; columns present: {columns}"
                  ).format(layer=self.layer.value, columns=", ".join(self.present)),
                self.refusals,
            )


def toml_text(text: str) -> str:
    """``text`` as a TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(text, ensure_ascii=False)


def columns_line(field: str, columns: Sequence[str]) -> str:
    if len(columns) == 1:
        return f"{field} = {toml_text(columns[0])}"
    return f"{field} = [{', '.join(toml_text(c) for c in columns)}]"


def _refusal(f: FieldPlan) -> str:
    col = " + ".join(f.columns)
    fix = _("to use it anyway write  {line}  under [columns] in the profile "
            "(or --map {field}={column})").format(line=f.profile_line, field=f.field,
                                                  column=f.columns[0])
    bad = [v for v in f.values if not v.fits]
    if bad:
        fix = _("{fix} and map its values under [values.{field}], e.g. {value} = \"...\""
                ).format(fix=fix, field=f.field, value=toml_text(bad[0].value))
    said = (_("column {column!r} was taken for {field} by its name, but {problems}; {fix}; "
              "otherwise name the right column") if f.how is How.NAME else
            _("column {column!r} was taken for {field} by an alias of the field's name, but "
              "{problems}; {fix}; otherwise name the right column"))
    return said.format(column=col, field=f.field, problems="; ".join(f.problems), fix=fix)


# -- the plan ------------------------------------------------------------------------

def _unique(s: pd.Series) -> bool:
    return bool(s.notna().all() and not clean_ids(s).duplicated().any())


def _close(col: str, present: Sequence[str]) -> str:
    near = [c for c in present if fold(c) == fold(col)]
    return _("; did you mean {column!r}?").format(column=near[0]) if near else ""


def plan_mapping(
    frame: pd.DataFrame,
    schema: LayerSchema,
    *,
    profile: Profile | None = None,
    column_map: Mapping[str, str] | None = None,
    coordinates: tuple[str, str] | None = None,
) -> MappingPlan:
    """Decide every field's column for ``frame`` as ``schema``'s layer, and check them.

    Parameters
    ----------
    frame
        The file's rows as read (:attr:`layers.readers.RawTable.frame`); a geometry
        column, if any, is left out.
    profile
        Its ``[columns]`` and ``[constants]`` decide first; fields it does not name are
        matched by name or alias, and checked.
    column_map
        ``{field: column}`` given on the command line; wins over the profile.
    coordinates
        The columns the reader placed the rows by, to show in the plan.

    Returns
    -------
    MappingPlan
        Never raises for what it finds: see :meth:`MappingPlan.check`.
    """
    geom = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
    present = [str(c) for c in frame.columns if c != geom]
    folded: dict[str, str] = {}
    for c in present:
        folded.setdefault(fold(c), c)
    problems: list[str] = []
    chosen: dict[str, tuple[tuple[str, ...], How, str]] = {}
    field_notes: dict[str, list[str]] = {}
    used: set[str] = set()
    for fname, col in (column_map or {}).items():
        if fname not in schema.field_names:
            problems.append(_("--map names field {field!r}, which layer {layer} does not have "
                              "(fields: {fields})").format(
                                  field=fname, layer=schema.layer.value,
                                  fields=", ".join(schema.field_names)))
        elif col not in present:
            problems.append(_("--map {field}={column}: there is no column {column!r}{close}"
                              ).format(field=fname, column=col, close=_close(col, present)))
        else:
            chosen[fname] = ((col,), How.GIVEN, "given on the command line")
            used.add(col)
    constants = dict(profile.constants) if profile else {}
    if profile is not None:
        for fname, cols in profile.columns.items():
            if fname in chosen:
                continue
            if not cols:
                chosen[fname] = ((), How.NONE, "the profile gives it no column")
                continue
            missing = [c for c in cols if c not in present]
            for c in missing:
                problems.append(_("the profile names column {column!r} for {field}, but the "
                                  "file has no such column{close}").format(
                                      column=c, field=fname, close=_close(c, present)))
            if not missing:
                chosen[fname] = (cols, How.PROFILE, "named in the profile")
                used.update(cols)
        for flt in profile.filters:
            if flt.column not in present:
                problems.append(_("the profile filters on column {column!r}, but the file "
                                  "has no such column{close}").format(
                                      column=flt.column, close=_close(flt.column, present)))
    for fname in constants:
        chosen.pop(fname, None)
    guessed_alternatives: dict[str, list[str]] = {}
    for spec in schema.fields:
        if spec.name in chosen or spec.name in constants:
            continue
        names = (spec.name, *spec.aliases)
        cands = [c for c in dict.fromkeys(folded.get(fold(n)) for n in names)
                 if c is not None and c not in used]
        if not cands:
            continue
        col = cands[0]
        if spec.name == schema.id_field and len(cands) > 1 and not _unique(frame[col]):
            unique = [c for c in cands[1:] if _unique(frame[c])]
            if unique:
                repeated = frame[col][frame[col].duplicated()].iloc[0]
                field_notes.setdefault(spec.name, []).append(
                    _("column {column!r} repeats values (e.g. '{value}'), so the unique "
                      "column {unique!r} was used as the id").format(
                          column=col, value=repeated, unique=unique[0]))
                col = unique[0]
        how = How.NAME if fold(col) == fold(spec.name) else How.ALIAS
        alias = next(n for n in names if fold(n) == fold(col))
        why = ("the column has the field's name" if how is How.NAME
               else f"the column's name is an alias of {spec.name} ({alias})")
        chosen[spec.name] = ((col,), how, why)
        guessed_alternatives[spec.name] = [c for c in cands if c != col]
        used.add(col)
    _add_time_part(chosen, schema, folded, used, field_notes)
    fields: list[FieldPlan] = []
    for spec in schema.fields:
        fields.append(_field_plan(frame, schema, spec, chosen.get(spec.name), constants,
                                  profile, guessed_alternatives.get(spec.name, []),
                                  tuple(field_notes.get(spec.name, ()))))
        if spec.required and spec.name != schema.id_field and fields[-1].how is How.NONE:
            accepted = ", ".join((spec.name, *spec.aliases))
            problems.append(_("required field {field!r} has no column (accepted names: "
                              "{names}; or name it under [columns] in a profile)").format(
                                  field=spec.name, names=accepted))
    coords = set(coordinates or ())
    unused = tuple(c for c in present if c not in used and c not in coords)
    return MappingPlan(schema.layer, len(frame), tuple(fields), unused, coordinates,
                       profile.name if profile else None, tuple(problems), tuple(present))


def _add_time_part(chosen: dict[str, tuple[tuple[str, ...], How, str]], schema: LayerSchema,
                   folded: Mapping[str, str], used: set[str],
                   notes: dict[str, list[str]]) -> None:
    """A date matched by name, alias or --map takes a column named ``hour`` or ``time``
    as its time of day (Kansas City's crime file: Date and Hour)."""
    part = next((folded[k] for k in ("hour", "time") if k in folded and folded[k] not in used),
                None)
    if part is None:
        return
    for spec in schema.fields:
        got = chosen.get(spec.name)
        if spec.type is FieldType.DATETIME and got is not None and got[1] in (
                How.GIVEN, *GUESSES) and len(got[0]) == 1:
            chosen[spec.name] = ((got[0][0], part), got[1],
                                 got[2] + f"; with {part!r} as its time of day")
            notes.setdefault(spec.name, []).append(
                _("{field} combines {column!r} with {part!r}").format(
                    field=spec.name, column=got[0][0], part=part))
            used.add(part)
            return


def field_values(frame: pd.DataFrame, columns: Sequence[str], spec: FieldSpec) -> pd.Series:
    """One field's raw values from its column(s): a date with an hour or clock-time column
    is joined as a date and time; other columns are joined with a space."""
    if len(columns) == 1:
        return frame[columns[0]]
    if spec.type is FieldType.DATETIME and len(columns) == 2:
        return with_time(frame[columns[0]], frame[columns[1]])
    parts = [frame[c].astype("string").str.strip().fillna("") for c in columns]
    joined = parts[0].str.cat(parts[1:], sep=" ").str.replace(r"\s+", " ", regex=True)
    return joined.str.strip().replace("", pd.NA).astype(object)


def with_time(date: pd.Series, time: pd.Series) -> pd.Series:
    """Join a date column with an hour (0-23) or clock-time column into one text column."""
    d = date.astype("string").str.strip()
    t = time.astype("string").str.strip()
    hours = pd.to_numeric(t, errors="coerce")
    is_hour = hours.notna() & hours.between(0, 23) & (hours == hours.round())
    clock = t.where(~is_hour, hours.astype("Int64").astype("string").str.zfill(2) + ":00")
    return (d + " " + clock.fillna("")).str.strip().astype(object)


def _field_plan(frame: pd.DataFrame, schema: LayerSchema, spec: FieldSpec,
                got: tuple[tuple[str, ...], How, str] | None, constants: Mapping[str, str],
                profile: Profile | None, alternatives: list[str],
                notes: tuple[str, ...] = ()) -> FieldPlan:
    if spec.name in constants:
        return FieldPlan(spec.name, spec.required, (), How.CONSTANT,
                         "the profile's [constants] gives every row this value",
                         samples=(constants[spec.name],), filled=len(frame))
    if got is None or not got[0]:
        if spec.name == schema.id_field:
            return FieldPlan(spec.name, True, (), How.MADE,
                             "no id column: ids are made from the file name and row number")
        why = got[2] if got else "no column has the field's name or an alias of it"
        return FieldPlan(spec.name, spec.required, (), How.NONE, why)
    cols, how, why = got
    values = field_values(frame, cols, spec)
    problems: list[str] = []
    if spec.name == schema.id_field:
        counts = distinct_values(values)
        check = Check(int(counts.sum()), tuple(str(v) for v in counts.index[:5]), 0.0, ())
        repeated = clean_ids(values[~is_null(values)]).duplicated(keep=False)
        if repeated.any():
            shared = clean_ids(values[~is_null(values)])[repeated].nunique()
            problems.append(ngettext("{rows} rows share {n} id (see duplicate_ids)",
                                     "{rows} rows share {n} ids (see duplicate_ids)",
                                     shared).format(rows=number(int(repeated.sum())),
                                                    n=number(shared)))
    else:
        vm = profile.values.get(spec.name) if profile else None
        formats = profile.date_formats.get(spec.name, ()) if profile else ()
        unit = profile.units.get(spec.name) if profile else None
        check = check_values(values, spec, schema.layer, value_map=vm, formats=formats,
                             unit=unit)
        problems += check.problems
    return FieldPlan(spec.name, spec.required, cols, how, why, check.samples, check.filled,
                     check.misfit, tuple(problems), check.values, check.more_values,
                     tuple(alternatives), notes)
