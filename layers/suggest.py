"""A draft import profile from a file's headers and values (``cpted profile suggest``).

Each field gets the column that matches it by name or alias when its values fit (see
:mod:`layers.mapping`), else the column whose name and values fit best (a content
check: unique values for an id, dates for a date, status words for a status...).
Every guess is written with a ``# REVIEW:`` comment saying why it was made (an alias,
or what the content check found) and what to check; a value table maps each of the
file's values that a word rule recognises and leaves the others commented out, so
nothing unreviewed becomes a wrong category.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd

from layers._i18n import _, ngettext, number, percent
from layers.content import check_values, distinct_values, looks_like_code
from layers.mapping import How, columns_line, plan_mapping, toml_text, with_time
from layers.profiles import DuplicateIds, slug
from layers.readers import (
    LAT_NAMES,
    LON_NAMES,
    InputFormat,
    fallback_encoding,
    fold,
    read_attributes,
)
from layers.schema import SCHEMAS, FieldSpec, FieldType, Layer, LayerSchema
from layers.settings import Settings
from layers.suggest_rules import (
    date_format,
    hints,
    is_dates,
    rule_coverage,
    rule_target,
    time_part,
    weighted_fit,
    words,
)
from layers.validate import clean_ids, is_null

REVIEW = "# REVIEW:"

@dataclass
class Pick:
    """A draft's choice for one field."""

    columns: tuple[str, ...]
    comment: str
    formats: tuple[str, ...] = ()
    format_comment: str = ""
    unit: str | None = None
    values: list[str] = field(default_factory=list)   # [values.FIELD] lines


def _fmt(values: pd.Series) -> str:
    counts = distinct_values(values)
    return ", ".join(repr(str(v)) for v in counts.index[:3])


def _range(values: pd.Series) -> tuple[float, float]:
    num = pd.to_numeric(values.astype("string").str.strip(), errors="coerce").dropna()
    return float(num.min()), float(num.max())


def _numeric_share(values: pd.Series) -> float:
    text = values[~is_null(values)].astype("string").str.strip()
    if text.empty:
        return 0.0
    return float(pd.to_numeric(text, errors="coerce").notna().mean())


# -- coordinates -----------------------------------------------------------------------

def _coordinates(frame: pd.DataFrame) -> tuple[list[str], set[str]]:
    """Draft lines for a CSV's coordinate columns, and the columns they use."""
    folded = {fold(c): c for c in frame.columns}
    out: list[str] = []
    lon = next((folded[n] for n in LON_NAMES if n in folded), None)
    lat = next((folded[n] for n in LAT_NAMES if n in folded), None)
    how = "alias"
    if lon is None or lat is None:
        lon, lat, how = _coordinates_by_content(frame)
    if lon is None or lat is None:
        out.append(f"# lon = \"\"  {REVIEW} " + _(
            "no longitude/latitude columns found: name them (or x and y with [profile] crs "
            "for projected coordinates)"))
        return out, set()
    (x0, x1), (y0, y1) = _range(frame[lon]), _range(frame[lat])
    degrees = x0 >= -180 and x1 <= 180 and y0 >= -90 and y1 <= 90
    why = (_("alias {lon!r}/{lat!r}").format(lon=fold(lon), lat=fold(lat)) if how == "alias"
           else _("content check: the only number columns shaped like a longitude and a "
                  "latitude"))
    if degrees:
        out.append(_line(f"lon = {toml_text(lon)}", f"{REVIEW} " + _(
            "{why}; values {low:.4f} to {high:.4f} fit longitudes; check it is each row's "
            "own place").format(why=why, low=x0, high=x1)))
        out.append(_line(f"lat = {toml_text(lat)}", f"{REVIEW} " + _(
            "{why}; values {low:.4f} to {high:.4f} fit latitudes; check they are not "
            "swapped or a centroid of an area").format(why=why, low=y0, high=y1)))
        return out, {lon, lat}
    out.append(_line(f"# x = {toml_text(lon)}", f"{REVIEW} " + _(
        "{why}, but values reach {top}: projected; uncomment x and y and give [profile] crs"
    ).format(why=why, top=number(max(abs(x0), abs(x1), abs(y0), abs(y1)), digits=0))))
    out.append(f"# y = {toml_text(lat)}")
    return out, set()


def _coordinates_by_content(frame: pd.DataFrame) -> tuple[str | None, str | None, str]:
    cands = []
    for c in frame.columns:
        s = frame[c]
        if _numeric_share(s) < 0.95:
            continue
        counts = distinct_values(s)
        if len(counts) < 0.3 * counts.sum():
            continue  # a point's coordinates vary; a few values are an area's centroid
        lo, hi = _range(s)
        cands.append((c, lo, hi, len(counts)))
    best: tuple[float, str, str] | None = None
    for a, alo, ahi, an in cands:
        for b, blo, bhi, bn in cands:
            if a == b or not (alo >= -180 and ahi <= 180 and blo >= -90 and bhi <= 90):
                continue
            wa, wb = "".join(words(a)), "".join(words(b))
            score = (("x" in wa or "lon" in wa or "lng" in wa) + ("y" in wb or "lat" in wb)
                     + min(an, bn) / 1e9)
            if score >= 1 and (best is None or score > best[0]):
                best = (score, a, b)
    return (best[1], best[2], "content") if best else (None, None, "content")


# -- categorical values -------------------------------------------------------------

def _value_lines(values: pd.Series, layer: Layer, spec: FieldSpec) -> list[str]:
    lines = []
    allowed = ", ".join(spec.choices or ())
    for v, n in distinct_values(values).head(50).items():
        target, why = rule_target(layer, spec, str(v))
        key = toml_text(str(v))
        rows = ngettext("{n} row", "{n} rows", int(n)).format(n=number(int(n)))
        if target is not None and not why:
            lines.append(_line(f"{key} = {toml_text(target)}",
                               "# " + _("the same as ours ({rows})").format(rows=rows)))
        elif target is not None:
            lines.append(_line(f"{key} = {toml_text(target)}", f"{REVIEW} " + _(
                "guessed from {why} ({rows}); one of: {allowed}").format(
                    why=why, rows=rows, allowed=allowed)))
        else:
            lines.append(_line(f"# {key} = \"\"", f"{REVIEW} " + _(
                "no rule for this value ({rows}): write one of {allowed}, or leave it out to "
                "reject those rows").format(rows=rows, allowed=allowed)))
    return lines


# -- choosing columns ------------------------------------------------------------------

def _candidates(frame: pd.DataFrame, spec: FieldSpec, used: set[str],
                layer: Layer | None = None) -> list[str]:
    """Unused columns whose name points at ``spec``, best first (ties in file order);
    ``layer`` for an id field."""
    scored = [(-hints(str(c), spec.name, layer), i, str(c))
              for i, c in enumerate(frame.columns) if str(c) not in used]
    return [c for s, _, c in sorted(scored) if s < 0]


def content_pick(frame: pd.DataFrame, schema: LayerSchema, spec: FieldSpec,
                 used: set[str]) -> Pick | None:
    """The column of ``frame`` (none of ``used``) whose name and values fit ``spec`` best,
    by a content check (unique values for an id, dates for a date, status words for a
    status...), with the reason as a ``# REVIEW:`` comment; None when none fits."""
    layer = schema.layer
    rows = len(frame)
    if spec.name == schema.id_field:
        named = _candidates(frame, spec, used, layer)
        pool = named + [str(c) for c in frame.columns if str(c) not in used and c not in named]
        for c in pool:
            s = frame[c]
            null = is_null(s)
            if null.mean() < 0.01 and not clean_ids(s[~null]).duplicated().any():
                return Pick((c,), f"{REVIEW} " + _(
                    "content check: unique on every row (e.g. {examples}); check it is the "
                    "record's own id").format(examples=_fmt(s)))
        return None
    cands = _candidates(frame, spec, used)
    if spec.type is FieldType.DATETIME:
        pool = cands + ([str(c) for c in frame.columns if str(c) not in used
                         and str(c) not in cands] if spec.required else [])
        for c in pool:
            if is_dates(frame[c]):
                return Pick((c,), f"{REVIEW} " + _(
                    "content check: its values are dates (e.g. {examples}); check it is the "
                    "{field}").format(examples=_fmt(frame[c]), field=spec.name))
        return None
    if spec.type in (FieldType.REAL, FieldType.INTEGER):
        for c in cands:
            unit = _unit(frame[c], spec)
            check = check_values(frame[c], spec, layer, unit=unit)
            if check.filled and check.misfit <= 0.1:
                said = (_("content check: a name like {field} and numbers (e.g. {examples}), "
                          "in {unit}; check the unit") if unit else
                        _("content check: a name like {field} and numbers (e.g. {examples}); "
                          "check the unit"))
                return Pick((c,), f"{REVIEW} " + said.format(
                    field=spec.name, examples=_fmt(frame[c]), unit=unit), unit=unit)
        return None
    if spec.choices:
        best = max(((rule_coverage(frame[c], layer, spec), c) for c in frame.columns
                    if str(c) not in used), default=(0.0, ""))
        if best[0] >= 0.5:
            return Pick((best[1],), f"{REVIEW} " + _(
                "content check: {share} of its values read as {field} words (e.g. "
                "{examples}); check the [values.{field}] table below").format(
                    share=percent(best[0]), field=spec.name, examples=_fmt(frame[best[1]])))
        return None
    for c in cands:
        s = frame[c]
        counts = distinct_values(s)
        if counts.empty:
            continue
        codes = float(counts[[looks_like_code(str(v)) for v in counts.index]].sum()) / float(
            counts.sum())
        categorical = len(counts) <= 200 and len(counts) < 0.5 * counts.sum()
        if spec.name == "service_code" and categorical:
            return Pick((c,), f"{REVIEW} " + ngettext(
                "content check: a name like {field}, {n} distinct value (e.g. {examples}); "
                "check these are the categories",
                "content check: a name like {field}, {n} distinct values (e.g. {examples}); "
                "check these are the categories", len(counts)).format(
                    field=spec.name, n=number(len(counts)), examples=_fmt(s)))
        if spec.name in ("service_name", "category", "fixture_type") and categorical \
                and codes < 0.5:
            return Pick((c,), f"{REVIEW} " + ngettext(
                "content check: a name like {field}, {n} distinct name (e.g. {examples}); "
                "check they name the {field}",
                "content check: a name like {field}, {n} distinct names (e.g. {examples}); "
                "check they name the {field}", len(counts)).format(
                    field=spec.name, n=number(len(counts)), examples=_fmt(s)))
        if spec.name in ("name", "description", "address") and codes < 0.5 and (
                counts.sum() >= 0.5 * rows):
            return Pick((c,), f"{REVIEW} " + _(
                "content check: a name like {field}, text (e.g. {examples}); check it holds "
                "the {field}").format(field=spec.name, examples=_fmt(s)))
    return None


def _unit(values: pd.Series, spec: FieldSpec) -> str | None:
    if not spec.name.endswith("_m"):
        return None
    text = distinct_values(values).index.astype(str)
    if any(re.search(r"\d\s*(ft|feet|')$", t, re.IGNORECASE) for t in text[:50]):
        return "ft"
    return None


def _line(text: str, comment: str) -> str:
    return f"{text:<38} {comment}" if comment else text


# -- the draft ------------------------------------------------------------------------

def suggest_profile(path: Path | str, layer: Layer, *, fmt: InputFormat | str | None = None,
                    encoding: str | None = None, timezone: str = "America/Chicago",
                    settings: Settings | None = None) -> str:
    """A draft profile (TOML text) for ``path`` as ``layer``; see the module docstring.

    The draft is a valid profile; lines it could not decide are commented out.

    Raises
    ------
    UnusableInputError
        The file cannot be read.
    """
    path = Path(path)
    schema = SCHEMAS[layer]
    raw = read_attributes(path, fmt=fmt, encoding=encoding, settings=settings)
    is_csv = not isinstance(raw, gpd.GeoDataFrame)
    attrs = raw if is_csv else pd.DataFrame(raw.drop(columns=raw.geometry.name))
    coord_lines, coord_cols = _coordinates(attrs) if is_csv else ([], set())
    frame = attrs.drop(columns=list(coord_cols))
    plan = plan_mapping(frame, schema)
    used: set[str] = set()
    picks: dict[str, Pick | None] = {}
    refused: dict[str, tuple[str, str]] = {}
    for spec in schema.fields:
        if spec.name == "attributes":
            continue
        fp = plan.field(spec.name)
        if fp.columns and not fp.needs_confirmation and not set(fp.columns) & used:
            if fp.how is How.NAME and not fp.problems:
                pick: Pick | None = Pick(fp.columns, "# " + _(
                    "the field's own name; e.g. {examples}").format(
                        examples=_fmt(frame[fp.columns[0]])))
            else:
                col = fp.columns[0]
                alias = next(n for n in (spec.name, *spec.aliases) if fold(n) == fold(col))
                said = _("alias {alias!r} of {field}; e.g. {examples}; check it holds the "
                         "{field}").format(alias=alias, field=spec.name,
                                           examples=_fmt(frame[col]))
                if len(fp.columns) > 1:
                    said = _("{said}; {column!r} holds its time of day").format(
                        said=said, column=fp.columns[1])
                pick = Pick(fp.columns, f"{REVIEW} {said}" + _others(fp.alternatives))
        else:
            pick = content_pick(frame, schema, spec, used)
            if pick is None and fp.needs_confirmation:
                refused[spec.name] = (f"# {fp.profile_line}", f"{REVIEW} " + _(
                    "taken by its name, but {problems}: check it").format(
                        problems="; ".join(fp.problems)))
        picks[spec.name] = _share_columns(schema, spec, pick, picks, frame)
        if picks[spec.name] is not None:
            used.update(picks[spec.name].columns)  # type: ignore[union-attr]
    _dates(frame, schema, picks, used)
    _categorical(frame, schema, picks)
    return _render(path, schema, raw, frame, picks, refused, coord_lines, timezone, encoding,
                   is_csv)


def _others(alternatives: Sequence[str]) -> str:
    return (" " + _("(also named like it: {columns})").format(columns=", ".join(alternatives))
            if alternatives else "")


def _share_columns(schema: LayerSchema, spec: FieldSpec, pick: Pick | None,
                   picks: dict[str, Pick | None], frame: pd.DataFrame) -> Pick | None:
    """Fields that may share a column: a category's code and name, a status and its
    detailed status."""
    layer = schema.layer
    if pick is not None:
        return pick
    pair = {("service_name", "service_code"), ("detailed_status", "status")}
    for a, b in pair:
        other = picks.get(b)
        if spec.name == a and other is not None and layer is Layer.CONCERNS:
            if a == "detailed_status" and rule_coverage(frame[other.columns[0]], layer,
                                                         spec) < 0.5:
                return None
            return Pick(other.columns, f"{REVIEW} " + _(
                "the same column as {field}; check it").format(field=b))
    return None


def _dates(frame: pd.DataFrame, schema: LayerSchema, picks: dict[str, Pick | None],
           used: set[str]) -> None:
    for spec in schema.fields:
        pick = picks.get(spec.name)
        if spec.type is not FieldType.DATETIME or pick is None or len(pick.columns) != 1:
            continue
        col = pick.columns[0]
        if pd.api.types.is_datetime64_any_dtype(frame[col].dtype):
            continue
        formats, why = date_format(frame[col])
        date_only = not formats and distinct_values(frame[col]).index.astype(str).str.match(
            r"^\d{4}-\d{2}-\d{2}$").all()
        date_only = date_only or bool(formats and not re.search("%[HI]", formats[0]))
        part = time_part(frame, col, used) if date_only else None
        if part is not None:
            tcol, tfmt = part
            base = formats[0] if formats else "%Y-%m-%d"
            joined = with_time(frame[col], frame[tcol])
            fmt = f"{base} {tfmt}"
            if weighted_fit(joined, [fmt]) > 0.99:
                pick.columns = (col, tcol)
                pick.comment = _("{said}; {column!r} holds its time of day").format(
                    said=pick.comment, column=tcol)
                formats, why = (fmt,), _("content check: every date and time fits {format}; "
                                         "check a few against the source").format(format=fmt)
                used.add(tcol)
        if not formats and not why.startswith("ISO"):
            pick.comment += f"; {why}"
        pick.formats, pick.format_comment = formats, why


def _categorical(frame: pd.DataFrame, schema: LayerSchema,
                 picks: dict[str, Pick | None]) -> None:
    for spec in schema.fields:
        pick = picks.get(spec.name)
        if pick is None:
            continue
        values = frame[pick.columns[0]]
        if spec.choices:
            counts = distinct_values(values)
            if all(str(v).strip().lower() in spec.choices for v in counts.index):
                continue
            pick.values = _value_lines(values, schema.layer, spec)
        elif spec.name == "service_code" and picks.get("service_name") is not None and \
                picks["service_name"].columns == pick.columns:  # type: ignore[union-attr]
            pick.values = [_line('"*" = "{slug}"', f"{REVIEW} " + _(
                "codes made from the names (e.g. {example!r}); map any to ours, e.g. "
                "\"Graffiti\" = \"graffiti\"").format(
                    example=slug(str(distinct_values(values).index[0]))))]


def _render(path: Path, schema: LayerSchema, raw: pd.DataFrame, frame: pd.DataFrame,
            picks: dict[str, Pick | None], refused: dict[str, tuple[str, str]],
            coord_lines: list[str], timezone: str, encoding: str | None, is_csv: bool) -> str:
    layer = schema.layer
    # TRANSLATORS: the head of a TOML file; keep each line's "# " and the line breaks
    head = _("# Draft import profile for {name} as {layer}, written by\n"
             "# `cpted profile suggest`. Each line marked REVIEW is a guess: check it against\n"
             "# the file, change what is wrong, and delete the mark. Lines left commented out\n"
             "# could not be decided. Check the result with\n"
             "#   cpted profile check PROFILE.toml {name}\n"
             "# Every table and key is described in README.md, \"Import profiles\".").format(
                 name=path.name, layer=layer.value)
    out = [*head.split("\n"), "",
           "[profile]", _line(f"name = {toml_text(path.stem)}",
                              "# " + _("shown in the import log")),
           f"layer = {toml_text(layer.value)}"]
    if encoding:
        out.append(_line(f"encoding = {toml_text(encoding)}", "# " + _("as given")))
    elif is_csv and fallback_encoding(path):
        out.append(_line('encoding = "latin-1"', f"{REVIEW} " + _(
            "the file is not UTF-8; latin-1 reads any bytes, cp1252 (Windows) is as likely: "
            "check accented letters")))
    if any(f.type is FieldType.DATETIME for f in schema.fields):
        out.append(_line(f"timezone = {toml_text(timezone)}", f"{REVIEW} " + _(
            "the project's time zone: check it is the one the file's times are written in")))
    id_pick = picks.get(schema.id_field)
    if id_pick is not None:
        s = frame[id_pick.columns[0]]
        ids = clean_ids(s[~is_null(s)])
        rep = ids[ids.duplicated(keep=False)]
        if len(rep):
            top = rep.value_counts().head(2)
            eg = ", ".join(_("{id!r} on {n} rows").format(id=k, n=number(v))
                           for k, v in top.items())
            out.append(_line(f"duplicate_ids = {toml_text(DuplicateIds.KEEP_ALL.value)}",
                             f"{REVIEW} " + _(
                                 "{n} ids repeat ({examples}): \"keep-all\" numbers them "
                                 "(ID-1, ID-2...), \"keep-first\" keeps the first row of "
                                 "each, \"error\" refuses the file").format(
                                     n=number(rep.nunique()), examples=eg)))
    out += ["", "[columns]"]
    formats, units, values = [], [], []
    for spec in schema.fields:
        if spec.name == "attributes":
            continue
        pick = picks.get(spec.name)
        if pick is None:
            out.append(_line(*refused[spec.name]) if spec.name in refused
                       else _missing(frame, schema, spec))
            continue
        out.append(_line(columns_line(spec.name, pick.columns), pick.comment))
        if pick.formats:
            formats.append(_line(f"{spec.name} = {toml_text(pick.formats[0])}",
                                 f"{REVIEW} {pick.format_comment}"))
        if pick.unit:
            units.append(_line(f"{spec.name} = {toml_text(pick.unit)}", f"{REVIEW} " + _(
                "content check: values like '30 ft'; check the unit")))
        if pick.values:
            values += ["", f"[values.{spec.name}]", *pick.values]
    out += coord_lines
    out += _placeholder_points(raw, coord_lines)
    if formats:
        out += ["", "[date_formats]", *formats]
    if units:
        out += ["", "[units]", *units]
    out += values
    return "\n".join(out) + "\n"


def _missing(frame: pd.DataFrame, schema: LayerSchema, spec: FieldSpec) -> str:
    need = _("required: name the column") if spec.required and spec.name != schema.id_field \
        else (_("no id column: ids will be made from the file name and row number")
              if spec.name == schema.id_field else _("none found; name one if the file has it"))
    few = [f"{c} ({len(distinct_values(frame[c]))})" for c in frame.columns
           if 1 < len(distinct_values(frame[c])) <= 12][:6] if spec.name in (
               "class", "status") else []
    if few:
        need = _("{need}; columns with few values: {columns}").format(
            need=need, columns=", ".join(few))
    return _line(f"# {spec.name} = \"\"", f"{REVIEW} {need}")


def _placeholder_points(raw: pd.DataFrame, coord_lines: list[str]) -> list[str]:
    cols = [re.findall(r'"([^"]*)"', ln)[0] for ln in coord_lines
            if ln.startswith(("lon =", "lat ="))]
    if len(cols) != 2:
        return []
    lon = pd.to_numeric(raw[cols[0]].astype("string").str.strip(), errors="coerce").round(5)
    lat = pd.to_numeric(raw[cols[1]].astype("string").str.strip(), errors="coerce").round(5)
    top = pd.DataFrame({"lat": lat, "lon": lon}).dropna().value_counts()
    if top.empty or top.iloc[0] < max(20, 0.1 * len(raw)):
        return []
    n = int(top.iloc[0])
    lat0, lon0 = top.index[0]
    # TRANSLATORS: comment lines of a TOML file; keep each line's "# " and the line breaks
    said = _("{n} rows ({share}) share one point ({lat}, {lon}):\n"
             "# a placeholder such as a call centre's address? A [filters.\"COLUMN\"] table\n"
             "# can leave such rows out (README, \"Import profiles\").").format(
                 n=number(n), share=percent(n / len(raw)), lat=lat0, lon=lon0)
    return f"{REVIEW} {said}".split("\n")
