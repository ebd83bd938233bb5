"""A mapping plan edited by a person, and the import profile it makes.

The Import page reads a file with a starting profile (or none) and plans its mapping
(:func:`layers.importer.read_and_plan`); :func:`initial_choices` then proposes, for
each field the plan left without a column, the column a content check finds
(:func:`layers.suggest.content_pick`). The person may change any field's column
(:func:`apply_edits`) and the value table of every categorical field
(:func:`value_rows`); :func:`edited_profile` turns it all into a profile, written as
TOML and read back through :func:`layers.profiles.parse_profile`, that the import (and
a saved profile) uses.

Nothing is guessed silently: a column taken by its name or an alias whose values do not
fit (:attr:`layers.mapping.FieldPlan.needs_confirmation`) is *flagged* and left out of
the profile until the person confirms it or picks another, so until then the importer
refuses it exactly as it would without the page.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import geopandas as gpd
import pandas as pd
import pyproj

from layers._i18n import _, ngettext, number
from layers.mapping import FieldPlan, How, MappingPlan
from layers.profile_writer import profile_document, profile_toml
from layers.profiles import FORMATS, Profile, ValueMap, value_key
from layers.schema import FieldSpec, LayerSchema
from layers.suggest import REVIEW, content_pick
from layers.suggest_rules import rule_target


class Source(StrEnum):
    """Why a field has the column it has on the page."""

    PROFILE = "profile"           # the starting profile names it
    NAME = "name"                 # the column has the field's name
    ALIAS = "alias"               # the column has one of the field's other names
    CONTENT = "content check"     # its values fit, and its name points at the field
    CONSTANT = "constant"         # the profile gives every row one value
    MADE = "made"                 # ids made from the file name and row number
    NONE = "none"                 # no column
    CHOSEN = "chosen by you"      # changed on the page
    CONFIRMED = "confirmed by you"  # a flagged guess the person said to use


_FROM_HOW = {How.PROFILE: Source.PROFILE, How.GIVEN: Source.CHOSEN, How.NAME: Source.NAME,
             How.ALIAS: Source.ALIAS, How.CONSTANT: Source.CONSTANT, How.MADE: Source.MADE,
             How.NONE: Source.NONE}


@dataclass(frozen=True)
class Choice:
    """One field's column (several are joined; none: ``()``), and why."""

    field: str
    columns: tuple[str, ...]
    source: Source
    why: str
    #: A guess by name or alias whose values do not fit: not used until confirmed.
    flagged: bool = False


def _why(text: str) -> str:
    """A draft's ``# REVIEW: ...`` comment as a reason in plain words."""
    return text.removeprefix(REVIEW).removeprefix("#").strip()


def initial_choices(frame: pd.DataFrame, schema: LayerSchema, plan: MappingPlan, *,
                    profile: Profile | None = None,
                    coordinates: Collection[str] = ()) -> dict[str, Choice]:
    """Each field's column as ``plan`` chose it (``profile`` is the profile it was made
    with), and for a field it left without one that the profile does not leave out on
    purpose, the column a content check proposes.

    Parameters
    ----------
    frame
        The file's rows as read; its geometry and ``coordinates`` columns are never
        proposed for a field.
    """
    geom = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
    skip = {geom, *coordinates}
    attrs = pd.DataFrame(frame[[c for c in frame.columns if c not in skip]])
    used = {c for fp in plan.fields for c in fp.columns} | set(coordinates)
    out: dict[str, Choice] = {}
    for fp in plan.fields:
        spec = schema.spec(fp.field)
        left_out = profile is not None and profile.columns.get(fp.field) == ()
        if (not fp.columns and fp.how in (How.NONE, How.MADE) and not left_out
                and spec.name != "attributes"):
            pick = content_pick(attrs, schema, spec, used)
            if pick is not None:
                used.update(pick.columns)
                out[fp.field] = Choice(fp.field, tuple(pick.columns), Source.CONTENT,
                                       _why(pick.comment))
                continue
        out[fp.field] = Choice(fp.field, fp.columns, _FROM_HOW[fp.how], fp.why,
                               flagged=fp.needs_confirmation)
    return out


def apply_edits(initial: Mapping[str, Choice], picked: Mapping[str, tuple[str, ...]],
                confirmed: Collection[str] = ()) -> dict[str, Choice]:
    """The choices after the person's: ``picked`` columns (field -> columns, ``()`` for
    none) where they differ from the initial ones, and the flagged guesses they
    ``confirmed``."""
    out: dict[str, Choice] = {}
    for name, first in initial.items():
        cols = picked.get(name, first.columns)
        if cols != first.columns:
            why = "chosen by you" if cols else "no column: chosen by you"
            out[name] = Choice(name, cols, Source.CHOSEN, why)
        elif first.flagged and name in confirmed:
            out[name] = Choice(name, cols, Source.CONFIRMED,
                               f"confirmed by you, though its values do not all fit "
                               f"({first.why})")
        else:
            out[name] = first
    return out


def field_problems(choice: Choice, fp: FieldPlan, spec: FieldSpec) -> list[str]:
    """What is wrong with one field's choice, in plain words (``fp``: the field in the
    plan made with the edited profile)."""
    if choice.flagged:
        return [_("{problems}. Not used until you confirm it or choose another column"
                  ).format(problems="; ".join(fp.problems))]
    out = list(fp.problems)
    if spec.required and not fp.columns and fp.how not in (How.MADE, How.CONSTANT):
        out.insert(0, _("required: choose the column that holds it"))
    return out


# -- value tables --------------------------------------------------------------------

#: Keys of a value table's two special rows: an empty cell, and every other value.
EMPTY, OTHER = "", "*"


@dataclass(frozen=True)
class ValueRow:
    """One row of a categorical field's value table: a value of the file (or
    :data:`EMPTY`, :data:`OTHER`), how many rows hold it, the value of ours it starts as
    (``None``: not listed; ``""``: no value) and why."""

    value: str
    rows: int | None
    target: str | None
    how: str


def value_rows(fp: FieldPlan, spec: FieldSpec, schema: LayerSchema, *, rows: int,
               value_map: ValueMap | None = None) -> list[ValueRow]:
    """The value table of categorical field ``spec`` for the values ``fp`` lists
    (``rows``: the file's row count; ``value_map``: the starting profile's table): each
    value as the profile maps it, else ours when it is one of ours, else the value a
    word rule gives (``cpted profile suggest``'s), else not listed."""
    choices = spec.choices or ()
    out: list[ValueRow] = []
    for vc in fp.values:
        key = value_key(vc.value)
        if value_map is not None and key in value_map.entries:
            target: str | None = value_map.entries[key]
            how = _("from the profile")
        elif vc.value.strip().lower() in choices:
            target, how = vc.value.strip().lower(), _("already one of ours")
        elif value_map is not None and value_map.default is not None:
            target, how = None, _("not listed: takes the value for any other value")
        else:
            guess, word = rule_target(schema.layer, spec, vc.value)
            target = guess
            how = (_("guessed from {word}").format(word=word) if guess is not None
                   else _("no rule matched: choose one, or its rows are rejected"))
        out.append(ValueRow(vc.value, vc.count, target, how))
    empty = rows - fp.filled
    if empty > 0:
        target = value_map.entries.get(EMPTY) if value_map is not None else None
        out.append(ValueRow(EMPTY, empty, target,
                            _("from the profile") if target is not None
                            else _("an empty cell")))
    default = value_map.default if value_map is not None else None
    how = _("from the profile") if default is not None else _("any value not in this table")
    if fp.more_values:
        how = ngettext("{how}; {n} more value not listed", "{how}; {n} more values not listed",
                       fp.more_values).format(how=how, n=number(fp.more_values))
    out.append(ValueRow(OTHER, None, default, how))
    return out


# -- the profile -----------------------------------------------------------------------

def _columns_entry(columns: tuple[str, ...]) -> str | list[str]:
    if not columns:
        return ""
    return columns[0] if len(columns) == 1 else list(columns)


def edited_profile(
    base: Profile | None,
    schema: LayerSchema,
    choices: Mapping[str, Choice],
    values: Mapping[str, Mapping[str, str | None]],
    *,
    name: str,
    description: str = "",
    crs: str | None = None,
    encoding: str | None = None,
    fmt: str | None = None,
    coordinates: tuple[str, str] | None = None,
    comment: str = "",
) -> tuple[str, Profile]:
    """The profile ``base`` (or none) with ``choices`` as its ``[columns]`` and
    ``values`` as its value tables, as TOML text and as read back.

    Parameters
    ----------
    choices
        Every field's column; a flagged one is left out, so the importer refuses it
        until confirmed. A field without a column is written ``""`` (none; for the id:
        made from the file name and row number) when the person chose none or ``base``
        says none, except a required one other than the id, which is left out (the plan
        then says it is missing); other fields without one are left to name matching.
    values
        Field -> ``{file value: ours}`` (:data:`EMPTY` for an empty cell, :data:`OTHER`
        for every other value); ``None`` leaves a value out of the table, ``""`` gives
        it no value. Entries of ``base``'s table for values not in these are kept.
    crs, encoding, fmt, coordinates
        The reading options to keep (each wins over ``base``'s); ``coordinates`` are a
        CSV's (x or longitude, y or latitude) columns, degrees unless ``crs`` is
        projected.

    Raises
    ------
    ProfileError
        The result is not a valid profile (every problem listed).
    """
    doc: dict[str, Any] = profile_document(base) if base is not None else {}
    head = dict(doc.get("profile", {}))
    head.update(name=name, layer=schema.layer.value)
    if description:
        head["description"] = description
    for key, value in (("crs", crs), ("encoding", encoding)):
        if value:
            head[key] = value
    if fmt and fmt in FORMATS:
        head["format"] = fmt
    old_columns: dict[str, Any] = doc.get("columns", {})
    columns: dict[str, Any] = {k: v for k, v in old_columns.items()
                               if k in ("x", "y", "lon", "lat")}
    if coordinates is not None:
        projected = bool(head.get("crs")) and not pyproj.CRS.from_user_input(
            head["crs"]).is_geographic
        for k in ("x", "y", "lon", "lat"):
            columns.pop(k, None)
        a, b = ("x", "y") if projected else ("lon", "lat")
        columns[a], columns[b] = coordinates
    constants = dict(doc.get("constants", {}))
    tables = {k: dict(v) for k, v in doc.get("values", {}).items()}
    for spec in schema.fields:
        choice = choices.get(spec.name)
        if choice is None or choice.flagged or choice.source is Source.CONSTANT:
            continue
        if choice.columns:
            constants.pop(spec.name, None)
        elif (spec.required and spec.name != schema.id_field) or (
                choice.source is not Source.CHOSEN and old_columns.get(spec.name) != ""):
            continue
        columns[spec.name] = _columns_entry(choice.columns)
        table = values.get(spec.name)
        if table is None or not choice.columns:
            continue
        shown = {value_key(k) if k != OTHER else OTHER for k in table}
        kept = {k: v for k, v in tables.get(spec.name, {}).items()
                if (value_key(k) if k != OTHER else OTHER) not in shown}
        kept.update({k: v for k, v in table.items() if v is not None})
        if kept:
            tables[spec.name] = kept
        else:
            tables.pop(spec.name, None)
    doc.update(profile=head, columns=columns, constants=constants, values=tables)
    return profile_toml(doc, source=f"{name} (edited)", comment=comment)
