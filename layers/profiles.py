"""Import profiles: how one kind of city file maps onto one of our layers, kept as TOML.

A profile names the layer, the coordinates' CRS, the time zone of times written
without one, the text encoding, what to do with repeated ids, which of the file's
columns feeds each field (``[columns]``), how the file's category values become ours
(``[values.FIELD]``), and optionally constants, date formats, units and row filters.
README.md ("Import profiles") documents every key; :func:`parse_profile` checks a
whole file and reports every problem at once.

Shipped profiles live in ``layers/data/profiles/`` (``kc311``, Kansas City's 311
export) and are found by name; profiles for other cities' files are in the
project's top-level ``profiles/`` folder and are given by path.
"""

from __future__ import annotations

import codecs
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd
import pyproj

from layers._i18n import _
from layers.errors import ProfileError
from layers.schema import SCHEMAS, FieldType, Layer, LayerSchema

SHIPPED_DIR = Path(__file__).with_name("data") / "profiles"

#: Pseudo-fields of ``[columns]`` naming a CSV's coordinate columns.
COORDINATE_KEYS = ("x", "y", "lon", "lat")
TABLES = ("profile", "columns", "values", "constants", "date_formats", "units", "filters")
PROFILE_KEYS = ("name", "layer", "description", "format", "crs", "timezone", "encoding",
                "duplicate_ids")
#: Units a length field (a field whose name ends in ``_m``) may be given in, in metres.
UNITS = {"m": 1.0, "cm": 0.01, "ft": 0.3048, "in": 0.0254}
FILTER_KEYS = ("in", "not_in", "at_least", "at_most")
#: The only placeholders a ``[values]`` target may hold.
PLACEHOLDERS = ("{value}", "{slug}")
FORMATS = ("csv", "geojson", "gpkg", "shapefile", "parquet", "open311")


class DuplicateIds(StrEnum):
    """What an import does with an id that appears on more than one row."""

    ERROR = "error"            # refuse the import, listing every repeated id with its rows
    KEEP_FIRST = "keep-first"  # keep the first row in file order, reject the others
    KEEP_ALL = "keep-all"      # keep every row, numbered ID-1, ID-2, ... in file order


def slug(text: str) -> str:
    """``text`` in lower case with each run of other characters as ``_`` ("Pot Hole" ->
    "pot_hole")."""
    return re.sub(r"[^0-9a-z]+", "_", text.lower()).strip("_")


def value_key(value: object) -> str:
    """A file's value as ``[values]`` tables and filters compare it: trimmed, case-folded,
    a whole number read as a float (``2.0``) as the number (``2``)."""
    return re.sub(r"^(-?\d+)\.0+$", r"\1", str(value).strip().casefold())


@dataclass(frozen=True)
class ValueMap:
    """``[values.FIELD]``: the file's values (trimmed, case-insensitive) to ours.

    ``"*"`` is the target of every other non-empty value; ``""`` that of an empty
    cell. Without ``"*"`` a value not listed is kept as it is (and rejected by the
    validator if it is not one of the field's values). A target may hold
    ``{value}`` (the file's value, trimmed) or ``{slug}`` (its slug, see :func:`slug`).
    """

    entries: Mapping[str, str]
    default: str | None = None
    written: Mapping[str, str] = field(default_factory=dict)  # folded key -> as written

    def target(self, value: str | None) -> str | None:
        """Ours for one file value (``None`` or blank: an empty cell); ``None`` = empty."""
        text = "" if value is None else str(value).strip()
        if not text:
            out = self.entries.get("")
        else:
            key = value_key(text)
            out = self.entries.get(key, self.default if self.default is not None else text)
        if out is None:
            return None
        out = out.replace("{value}", text).replace("{slug}", slug(text))
        return out or None

    def apply(self, values: pd.Series) -> pd.Series:
        """Map a column, computing each distinct value once; aligned on ``values``."""
        text = values.astype("string").str.strip()
        distinct = text.dropna().unique()
        table = {v: self.target(v) for v in distinct}
        empty = self.target(None)
        out = text.map(table).astype(object)
        out[text.isna().to_numpy()] = empty
        return out.where(out.notna(), None)


@dataclass(frozen=True)
class RowFilter:
    """``[filters."COLUMN"]``: a row is kept only when its value passes every test."""

    column: str
    keep: tuple[str, ...] | None = None  # in
    drop: tuple[str, ...] | None = None  # not_in
    at_least: float | None = None
    at_most: float | None = None

    def describe(self) -> str:
        parts = []
        if self.keep is not None:
            parts.append(_("one of {values}").format(
                values=", ".join(repr(v) for v in self.keep)))
        if self.drop is not None:
            parts.append(_("not one of {values}").format(
                values=", ".join(repr(v) for v in self.drop)))
        if self.at_least is not None:
            parts.append(_("a number of at least {n:g}").format(n=self.at_least))
        if self.at_most is not None:
            parts.append(_("a number of at most {n:g}").format(n=self.at_most))
        return _("{column!r} must be {rules}").format(column=self.column,
                                                     rules=_(" and ").join(parts))


@dataclass(frozen=True)
class Profile:
    """A checked import profile (see the module docstring and README.md)."""

    name: str
    layer: Layer
    source: str = "(given in code)"
    description: str = ""
    format: str | None = None
    crs: str | None = None
    timezone: str | None = None
    encoding: str | None = None
    duplicate_ids: DuplicateIds = DuplicateIds.ERROR
    #: field -> the file's columns (several are joined with a space); () = no column
    columns: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: ("lon", "lat") or ("x", "y") column names, or None to detect them
    coordinates: tuple[str, str] | None = None
    projected: bool = False
    values: Mapping[str, ValueMap] = field(default_factory=dict)
    constants: Mapping[str, str] = field(default_factory=dict)
    date_formats: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    units: Mapping[str, str] = field(default_factory=dict)
    filters: tuple[RowFilter, ...] = ()

    @property
    def named_columns(self) -> list[str]:
        """Every column of the file the profile names, in the order it names them."""
        cols = [c for cs in self.columns.values() for c in cs]
        cols += list(self.coordinates or ())
        cols += [f.column for f in self.filters]
        return list(dict.fromkeys(cols))

    def read_options(self) -> dict[str, Any]:
        """Options for :func:`layers.readers.read_table`."""
        opts: dict[str, Any] = {"crs": self.crs, "encoding": self.encoding,
                                "fmt": self.format}
        if self.coordinates is not None:
            a, b = self.coordinates
            keys = ("x_col", "y_col") if self.projected else ("lon_col", "lat_col")
            opts[keys[0]], opts[keys[1]] = a, b
        return opts


# -- reading and checking ------------------------------------------------------------

def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _allowed(schema: LayerSchema, name: str) -> str:
    spec = schema.spec(name)
    return ", ".join(spec.choices or ())


def _check_target(schema: LayerSchema, fname: str, where: str, target: object,
                  problems: list[str]) -> str | None:
    """A ``[values]`` or ``[constants]`` target as text, or None (a problem noted)."""
    spec = schema.spec(fname)
    if spec.type in (FieldType.REAL, FieldType.INTEGER):
        if isinstance(target, bool) or not isinstance(target, int | float | str):
            problems.append(f"{where}: expected a number (or \"\" for empty), got {target!r}")
            return None
        text = str(target).strip()
        if text and pd.isna(pd.to_numeric(text, errors="coerce")):
            problems.append(f"{where}: {fname} is a number; {target!r} is not one")
            return None
        return text
    if not isinstance(target, str):
        problems.append(f"{where}: expected text in double quotes, got {target!r}")
        return None
    if spec.choices:
        if any(p in target for p in PLACEHOLDERS):
            problems.append(f"{where}: {fname} takes one of: {_allowed(schema, fname)}; "
                            "a placeholder could give any value")
            return None
        if target.strip() and target.strip().lower() not in spec.choices:
            problems.append(f"{where}: {target!r} is not one of our {fname} values: "
                            f"{_allowed(schema, fname)}")
            return None
        return target.strip().lower()
    if "{" in target and any(t not in PLACEHOLDERS for t in re.findall(r"\{[^}]*\}", target)):
        problems.append(f"{where}: the only placeholders are {' and '.join(PLACEHOLDERS)}; "
                        f"got {target!r}")
        return None
    return target


def _unknown(keys: object, allowed: tuple[str, ...] | list[str], where: str,
             problems: list[str]) -> None:
    for k in keys if isinstance(keys, dict) else ():
        if k not in allowed:
            problems.append(f"{where}: unknown key {k!r}; expected one of: {', '.join(allowed)}")


def _table(doc: Mapping[str, Any], name: str, problems: list[str]) -> dict[str, Any]:
    t = doc.get(name, {})
    if not isinstance(t, dict):
        problems.append(f"[{name}] should be a table, got {t!r}")
        return {}
    return t


def _field_problem(schema: LayerSchema, fname: str, where: str) -> str | None:
    if fname in schema.field_names:
        return None
    return (f"{where}: unknown field {fname!r}; layer {schema.layer.value} has: "
            f"{', '.join(schema.field_names)}")


def parse_profile(text: str, *, source: str = "(text)") -> Profile:
    """Check a profile's TOML text and return it.

    Raises
    ------
    ProfileError
        Listing every problem: TOML syntax, unknown tables or keys, unknown fields,
        values outside our lists, a CRS, time zone or encoding nobody knows.
    """
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"the profile {source} is not valid TOML: {exc}") from None
    problems: list[str] = []
    _unknown(doc, TABLES, "the profile's top level", problems)
    head = _table(doc, "profile", problems)
    _unknown(head, PROFILE_KEYS, "[profile]", problems)
    name = _text(head.get("name"))
    if not name or not name.strip():
        problems.append("[profile]: name is missing (a short title, shown in the import log)")
    layer_name = head.get("layer")
    layer: Layer | None = None
    if not isinstance(layer_name, str) or layer_name.strip().lower() not in {
            x.value for x in Layer}:
        problems.append(f"[profile]: layer {layer_name!r} is not one of: "
                        f"{', '.join(x.value for x in Layer)}")
    else:
        layer = Layer(layer_name.strip().lower())
    for key in ("description", "format", "crs", "timezone", "encoding", "duplicate_ids"):
        if key in head and not isinstance(head[key], str):
            problems.append(f"[profile]: {key} should be text in double quotes, "
                            f"got {head[key]!r}")
    fmt = _text(head.get("format"))
    if fmt is not None and fmt not in FORMATS:
        problems.append(f"[profile]: format {fmt!r} is not one of: {', '.join(FORMATS)}")
    crs = _text(head.get("crs"))
    projected = False
    if crs is not None:
        try:
            projected = not pyproj.CRS.from_user_input(crs).is_geographic
        except pyproj.exceptions.CRSError:
            problems.append(f"[profile]: crs {crs!r} is not a CRS pyproj knows "
                            "(expected e.g. \"EPSG:3435\")")
            crs = None
    tz = _text(head.get("timezone"))
    if tz is not None:
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(f"[profile]: timezone {tz!r} is not a time zone name "
                            "(expected e.g. \"America/Chicago\")")
    encoding = _text(head.get("encoding"))
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError:
            problems.append(f"[profile]: encoding {encoding!r} is not one Python knows "
                            "(expected e.g. \"utf-8\", \"latin-1\", \"cp1252\")")
    dup_text = head.get("duplicate_ids", DuplicateIds.ERROR.value)
    dup = DuplicateIds.ERROR
    if dup_text not in {d.value for d in DuplicateIds}:
        problems.append(f"[profile]: duplicate_ids {dup_text!r} is not one of: "
                        f"{', '.join(d.value for d in DuplicateIds)}")
    else:
        dup = DuplicateIds(dup_text)

    if layer is None:  # nothing below can be checked without the layer's fields
        raise ProfileError(f"the profile {source} cannot be used", problems)
    schema = SCHEMAS[layer]
    columns, coordinates = _columns(_table(doc, "columns", problems), schema, problems)
    if coordinates is not None and coordinates[0] == "x" and crs is None:
        problems.append("[columns]: x and y need the coordinates' CRS: [profile] crs = "
                        "\"EPSG:...\" (for degrees use lon and lat instead)")
    if coordinates is not None and coordinates[0] == "lon" and projected:
        problems.append(f"[columns]: lon and lat are degrees, but crs {crs!r} is projected; "
                        "name the columns x and y")
    values = _values(_table(doc, "values", problems), schema, problems)
    constants = _constants(_table(doc, "constants", problems), schema, columns, problems)
    date_formats = _date_formats(_table(doc, "date_formats", problems), schema, problems)
    units = _units(_table(doc, "units", problems), schema, problems)
    filters = _filters(_table(doc, "filters", problems), problems)
    for spec in schema.fields:
        if (spec.required and spec.name != schema.id_field and columns.get(spec.name) == ()
                and spec.name not in constants):
            problems.append(f"[columns]: {spec.name} is required, so it cannot be left "
                            f"without a column (or give every row one value under "
                            f"[constants])")
    if problems:
        raise ProfileError(f"the profile {source} has {len(problems)} problem(s)", problems)
    assert name is not None
    return Profile(
        name=name.strip(), layer=layer, source=source,
        description=_text(head.get("description")) or "", format=fmt, crs=crs, timezone=tz,
        encoding=encoding, duplicate_ids=dup, columns=columns,
        coordinates=None if coordinates is None else coordinates[1], projected=projected,
        values=values, constants=constants, date_formats=date_formats, units=units,
        filters=filters)


def _columns(table: dict[str, Any], schema: LayerSchema, problems: list[str]) -> tuple[
        dict[str, tuple[str, ...]], tuple[str, tuple[str, str]] | None]:
    columns: dict[str, tuple[str, ...]] = {}
    coords: dict[str, str] = {}
    for key, value in table.items():
        where = f"[columns] {key}"
        if key in COORDINATE_KEYS:
            if not isinstance(value, str) or not value.strip():
                problems.append(f"{where}: expected the column's header in double quotes, "
                                f"got {value!r}")
            else:
                coords[key] = value
            continue
        bad = _field_problem(schema, key, "[columns]")
        if bad:
            problems.append(bad + f" (or a coordinate column: {', '.join(COORDINATE_KEYS)})")
            continue
        if isinstance(value, str):
            columns[key] = (value,) if value else ()
        elif (isinstance(value, list) and value
              and all(isinstance(v, str) and v for v in value)):
            columns[key] = tuple(value)
        else:
            problems.append(f"{where}: expected a header in double quotes, a list of headers "
                            f"to join, or \"\" for none; got {value!r}")
    pairs = [p for p in (("lon", "lat"), ("x", "y")) if p[0] in coords or p[1] in coords]
    if len(pairs) > 1:
        problems.append("[columns]: give lon and lat, or x and y, not both")
        return columns, None
    if not pairs:
        return columns, None
    a, b = pairs[0]
    if a not in coords or b not in coords:
        problems.append(f"[columns]: give both {a} and {b}")
        return columns, None
    return columns, (a, (coords[a], coords[b]))


def _values(table: dict[str, Any], schema: LayerSchema,
            problems: list[str]) -> dict[str, ValueMap]:
    out: dict[str, ValueMap] = {}
    for fname, entries in table.items():
        bad = _field_problem(schema, fname, "[values]")
        if bad:
            problems.append(bad)
            continue
        spec = schema.spec(fname)
        if spec.type is FieldType.DATETIME or fname == schema.id_field:
            problems.append(f"[values.{fname}]: {fname} is "
                            f"{'the id' if fname == schema.id_field else 'a date'}; "
                            "values tables are for categories, codes and other attributes")
            continue
        if not isinstance(entries, dict):
            problems.append(f"[values.{fname}] should be a table of \"file value\" = "
                            f"\"ours\", got {entries!r}")
            continue
        mapped: dict[str, str] = {}
        written: dict[str, str] = {}
        default: str | None = None
        for key, target in entries.items():
            where = f"[values.{fname}] {key!r}"
            got = _check_target(schema, fname, where, target, problems)
            if got is None:
                continue
            if key == "*":
                default = got
                continue
            k = value_key(key)
            if k in mapped:
                problems.append(f"{where}: the same value as {written[k]!r} (values are "
                                "compared trimmed and ignoring case)")
                continue
            mapped[k], written[k] = got, key
        out[fname] = ValueMap(mapped, default, written)
    return out


def _constants(table: dict[str, Any], schema: LayerSchema, columns: Mapping[str, Any],
               problems: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for fname, value in table.items():
        bad = _field_problem(schema, fname, "[constants]")
        if bad:
            problems.append(bad)
            continue
        if columns.get(fname):
            problems.append(f"[constants] {fname}: also given a column under [columns]; "
                            "keep one")
            continue
        if fname == schema.id_field or schema.spec(fname).type is FieldType.DATETIME:
            problems.append(f"[constants] {fname}: an id or a date cannot be the same on "
                            "every row")
            continue
        got = _check_target(schema, fname, f"[constants] {fname}", value, problems)
        if got is not None:
            if any(p in got for p in PLACEHOLDERS):
                problems.append(f"[constants] {fname}: a constant has no file value for "
                                f"{' or '.join(PLACEHOLDERS)}")
                continue
            out[fname] = got
    return out


def _date_formats(table: dict[str, Any], schema: LayerSchema,
                  problems: list[str]) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for fname, value in table.items():
        bad = _field_problem(schema, fname, "[date_formats]")
        if bad:
            problems.append(bad)
            continue
        if schema.spec(fname).type is not FieldType.DATETIME:
            problems.append(f"[date_formats] {fname}: not a date field (date fields: "
                            + ", ".join(f.name for f in schema.fields
                                        if f.type is FieldType.DATETIME) + ")")
            continue
        formats = [value] if isinstance(value, str) else value
        if (not isinstance(formats, list) or not formats
                or not all(isinstance(f, str) and "%" in f for f in formats)):
            problems.append(f"[date_formats] {fname}: expected a strftime format such as "
                            f"\"%m/%d/%Y %I:%M %p\", or a list of them; got {value!r}")
            continue
        out[fname] = tuple(formats)
    return out


def _units(table: dict[str, Any], schema: LayerSchema, problems: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for fname, unit in table.items():
        bad = _field_problem(schema, fname, "[units]")
        if bad:
            problems.append(bad)
            continue
        if not fname.endswith("_m"):
            problems.append(f"[units] {fname}: only lengths in metres (fields ending in _m) "
                            "take a unit")
            continue
        if unit not in UNITS:
            problems.append(f"[units] {fname}: unit {unit!r} is not one of: {', '.join(UNITS)}")
            continue
        out[fname] = unit
    return out


def _filter_values(value: object, where: str, problems: list[str]) -> tuple[str, ...] | None:
    if (not isinstance(value, list) or not value
            or any(isinstance(v, bool) or not isinstance(v, str | int | float) for v in value)):
        problems.append(f"{where}: expected a list of the file's values, e.g. "
                        f"[\"Open\", \"Completed\"] (true/false in double quotes); got {value!r}")
        return None
    return tuple(str(v) for v in value)


def _filters(table: dict[str, Any], problems: list[str]) -> tuple[RowFilter, ...]:
    out: list[RowFilter] = []
    for column, tests in table.items():
        where = f"[filters.{column!r}]"
        if not isinstance(tests, dict) or not tests:
            problems.append(f"{where}: expected a table of tests ({', '.join(FILTER_KEYS)}), "
                            f"got {tests!r}")
            continue
        _unknown(tests, FILTER_KEYS, where, problems)
        keep = _filter_values(tests["in"], f"{where} in", problems) if "in" in tests else None
        drop = (_filter_values(tests["not_in"], f"{where} not_in", problems)
                if "not_in" in tests else None)
        bounds: dict[str, float | None] = {}
        for key in ("at_least", "at_most"):
            v = tests.get(key)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int | float)):
                problems.append(f"{where} {key}: expected a number, got {v!r}")
                v = None
            bounds[key] = None if v is None else float(v)
        out.append(RowFilter(column, keep, drop, bounds["at_least"], bounds["at_most"]))
    return tuple(out)


# -- finding profiles ----------------------------------------------------------------

def shipped_profiles() -> dict[str, Path]:
    """The profiles shipped with the package, by name (the file's stem)."""
    return {p.stem: p for p in sorted(SHIPPED_DIR.glob("*.toml"))}


def load_profile(ref: str | Path) -> Profile:
    """The profile in file ``ref``, or the shipped profile named ``ref`` (e.g. ``kc311``).

    Raises
    ------
    ProfileError
        No such file or shipped profile, or the profile has problems (all listed).
    """
    path = Path(ref)
    shipped = shipped_profiles()
    if not path.is_file() and str(ref) in shipped:
        path = shipped[str(ref)]
        return parse_profile(path.read_text(encoding="utf-8"), source=f"{ref} (shipped)")
    if not path.is_file():
        raise ProfileError(f"no profile file at {ref}, and no shipped profile of that name "
                           f"(shipped: {', '.join(shipped) or 'none'})")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ProfileError(f"the profile {path.name} is not UTF-8 text: {exc.reason} "
                           f"at byte {exc.start:,}") from None
    return parse_profile(text, source=path.name)


def recognise(columns: list[str], layer: Layer) -> Profile | None:
    """The shipped profile for ``layer`` whose every named column is among ``columns``."""
    present = set(columns)
    for path in shipped_profiles().values():
        profile = parse_profile(path.read_text(encoding="utf-8"),
                                source=f"{path.stem} (shipped)")
        if profile.layer is layer and set(profile.named_columns) <= present:
            return profile
    return None
