"""Fitting a read table to a layer's schema, and checking every row.

:func:`conform` renames columns to the schema's fields (by name, alias or an
explicit mapping) and fails at once, naming every missing column, when the
table cannot be this layer at all. :func:`validate` then checks each row and
splits the table into accepted rows and rejected rows, each rejection with a
reason (a short key, counted in summaries) and a detail naming the row, what
was expected and what arrived. Problems that make the whole input
untrustworthy, such as duplicate ids, raise with every instance listed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from layers.crs import WGS84, ProjectArea
from layers.errors import LayerSchemaError
from layers.readers import fold
from layers.schema import FieldType, LayerSchema

# Rejection reasons: short, stable keys (they are counted in import summaries).
NO_COORDINATES = "no coordinates"
OUT_OF_RANGE = "coordinates out of range"
OUTSIDE_AREA = "outside project area"
MISSING_VALUE = "missing required value"
INVALID_VALUE = "invalid value"
INVALID_DATE = "invalid date"
WRONG_GEOMETRY = "wrong geometry type"
INVALID_GEOMETRY = "invalid geometry"
TEXT_TOO_LONG = "text too long"

#: Longest imported free text, in characters, as the Report form allows
#: (``cpted.concerns.MAX_DESCRIPTION_CHARS``); longer text is cut, with a note.
MAX_DESCRIPTION_CHARS = 4000
#: Longest imported name, address, label or source (the audit form's
#: ``cpted.assessments.MAX_NAME_CHARS``); longer text is cut, with a note.
MAX_SHORT_TEXT_CHARS = 200
#: Longest id or category code. A longer one is rejected, not cut: two cut ids
#: could collide, and a cut code would be a different category.
MAX_CODE_CHARS = 200
#: Longest ``attributes`` JSON; a longer one is rejected, as cutting it breaks the JSON.
MAX_ATTRIBUTES_CHARS = 4000

#: Fields whose overlong text rejects the row, with their limit.
_REJECT_LONG = {"service_code": MAX_CODE_CHARS, "category": MAX_CODE_CHARS,
                "attributes": MAX_ATTRIBUTES_CHARS}
#: Free-text fields cut to a longer limit than :data:`MAX_SHORT_TEXT_CHARS`.
_LONG_TEXT = {"description": MAX_DESCRIPTION_CHARS}

#: Rejection details kept per reason; counts are always complete.
MAX_DETAILS_PER_REASON = 200

_TRUE_NULLS = {"", "na", "n/a", "nan", "null", "none"}


@dataclass(frozen=True)
class Rejection:
    row: int  # 1-based record number in the source
    reason: str
    detail: str


@dataclass
class Validated:
    accepted: gpd.GeoDataFrame
    rejected_counts: dict[str, int] = field(default_factory=dict)
    rejections: list[Rejection] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def conform(
    frame: gpd.GeoDataFrame,
    schema: LayerSchema,
    *,
    column_map: Mapping[str, str] | None = None,
    id_prefix: str = "row",
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Rename ``frame``'s columns to ``schema``'s fields.

    A field is matched by ``column_map[field]``, else a column with the
    field's name, else the first of its aliases present (names compared after
    :func:`~layers.readers.fold`). Unmatched columns are dropped, and a note
    says which. With no id column at all, ids ``{id_prefix}-{row}`` are made.

    Raises
    ------
    LayerSchemaError
        Listing every required field with no column, and every
        ``column_map`` entry naming an unknown field or column.
    """
    notes: list[str] = []
    problems: list[str] = []
    column_map = dict(column_map or {})
    geom_name = frame.geometry.name
    folded: dict[str, str] = {}
    for c in frame.columns:
        if c != geom_name:
            folded.setdefault(fold(c), c)
    chosen: dict[str, str] = {}
    used: set[str] = set()
    for fname, col in column_map.items():
        if fname not in schema.field_names:
            problems.append(f"--map names field {fname!r}, which layer {schema.layer.value} "
                            f"does not have (fields: {', '.join(schema.field_names)})")
        elif col not in frame.columns:
            problems.append(f"--map {fname}={col}: there is no column {col!r}")
        else:
            chosen[fname] = col
            used.add(col)
    for spec in schema.fields:
        if spec.name in chosen:
            continue
        cands = [c for c in dict.fromkeys(folded.get(fold(n)) for n in (spec.name, *spec.aliases))
                 if c is not None and c not in used]
        if not cands:
            continue
        col = cands[0]
        if spec.name == schema.id_field and len(cands) > 1 and not _unique(frame[col]):
            unique = [c for c in cands[1:] if _unique(frame[c])]
            if unique:
                repeated = frame[col][frame[col].duplicated()].iloc[0]
                notes.append(f"column {col!r} repeats values (e.g. '{repeated}'), so the unique "
                             f"column {unique[0]!r} was used as the id")
                col = unique[0]
        chosen[spec.name] = col
        used.add(col)
    id_field = schema.id_field
    missing = [s for s in schema.fields
               if s.required and s.name not in chosen and s.name != id_field]
    for spec in missing:
        names = ", ".join((spec.name, *spec.aliases))
        problems.append(f"required field {spec.name!r} has no column (accepted names: {names})")
    if problems:
        present = ", ".join(str(c) for c in frame.columns if c != geom_name)
        raise LayerSchemaError(
            f"this table cannot be imported as {schema.layer.value}; columns present: {present}",
            problems,
        )
    out = gpd.GeoDataFrame(
        {name: frame[col].to_numpy() for name, col in chosen.items()},
        geometry=frame.geometry.to_numpy(), crs=frame.crs, index=frame.index,
    )
    for spec in schema.fields:
        part = next((folded[k] for k in ("hour", "time") if k in folded
                     and folded[k] not in used), None)
        if spec.type is FieldType.DATETIME and spec.name in chosen and part is not None:
            out[spec.name] = _with_time(frame[chosen[spec.name]], frame[part])
            used.add(part)
            notes.append(f"{spec.name} combines {chosen[spec.name]!r} with {part!r}")
            break
    if id_field not in chosen:
        out[id_field] = [f"{id_prefix}-{i + 1}" for i in frame.index]
        notes.append(f"no id column was found, so ids were made from the source and row "
                     f"number ({id_prefix}-1, {id_prefix}-2, ...)")
    renamed = [f"{col} -> {name}" for name, col in chosen.items() if col != name]
    if renamed:
        notes.append("columns matched: " + ", ".join(renamed))
    dropped = [str(c) for c in frame.columns if c != geom_name and c not in used]
    if dropped:
        shown = ", ".join(dropped[:12]) + (" ..." if len(dropped) > 12 else "")
        notes.append(f"{len(dropped)} column(s) not part of the {schema.layer.value} layer were "
                     f"not stored: {shown}")
    ordered = [f for f in schema.field_names if f in out.columns]
    return out[[*ordered, "geometry"]], notes


def _with_time(date: pd.Series, time: pd.Series) -> pd.Series:
    """Join a date column with an hour (0-23) or clock-time column into one text column."""
    d = date.astype("string").str.strip()
    t = time.astype("string").str.strip()
    hours = pd.to_numeric(t, errors="coerce")
    is_hour = hours.notna() & hours.between(0, 23) & (hours == hours.round())
    clock = t.where(~is_hour, hours.astype("Int64").astype("string").str.zfill(2) + ":00")
    return (d + " " + clock.fillna("")).str.strip().astype(object)


def _unique(s: pd.Series) -> bool:
    return bool(s.notna().all() and not clean_ids(s).duplicated().any())


class _Rows:
    """Collects row rejections; the first reason found for a row wins."""

    def __init__(self, n: int) -> None:
        self.bad = np.zeros(n, dtype=bool)
        self.counts: dict[str, int] = {}
        self.items: list[Rejection] = []

    def reject(self, mask: np.ndarray, reason: str, detail: Callable[..., str]) -> None:
        """Reject the rows in ``mask`` not already rejected; ``detail(i)`` describes row i."""
        new = np.flatnonzero(mask & ~self.bad)
        if not len(new):
            return
        self.bad[new] = True
        self.counts[reason] = self.counts.get(reason, 0) + len(new)
        kept = sum(1 for r in self.items if r.reason == reason)
        for i in new[: max(0, MAX_DETAILS_PER_REASON - kept)]:
            self.items.append(Rejection(int(i) + 1, reason, detail(int(i))))


def _cap_text(txt: pd.Series, null: np.ndarray, name: str, rows: _Rows,
              notes: list[str]) -> pd.Series:
    """Reject or cut the values of text field ``name`` past its limit (see
    :data:`MAX_DESCRIPTION_CHARS` and the other limits above)."""
    length = txt.str.len().fillna(0).to_numpy(int)
    if name in _REJECT_LONG:
        limit = _REJECT_LONG[name]
        rows.reject(~null & (length > limit), TEXT_TOO_LONG, lambda i: (
            f"row {i + 1}: {name} has {length[i]:,} characters; at most {limit:,}"))
        return txt
    limit = _LONG_TEXT.get(name, MAX_SHORT_TEXT_CHARS)
    long = ~null & (length > limit)
    if not long.any():
        return txt
    where = np.flatnonzero(long)
    shown = ", ".join(str(i + 1) for i in where[:10]) + (" ..." if len(where) > 10 else "")
    notes.append(f"{len(where)} row(s) had {name} text longer than {limit:,} characters "
                 f"(the longest {length.max():,}); it was cut to {limit:,} "
                 f"(rows {shown})")
    cut = txt.str.slice(0, limit - 1) + "\u2026"
    return txt.where(~long, cut)


def _is_null(s: pd.Series) -> np.ndarray:
    if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
        txt = s.astype("string").str.strip().str.lower()
        return np.asarray(s.isna() | txt.isin(_TRUE_NULLS).fillna(True), dtype=bool)
    return np.asarray(s.isna(), dtype=bool)


def clean_ids(s: pd.Series) -> pd.Series:
    """Ids as strings; ``123.0`` (a number stored as float) becomes ``"123"``."""
    if pd.api.types.is_float_dtype(s.dtype):
        whole = s.notna() & (s == np.floor(s))
        out = s.astype("string")
        out[whole] = s[whole].astype("int64").astype("string")
        return out
    out = s.astype("string").str.strip()
    return out.str.replace(r"^(-?\d+)\.0+$", r"\1", regex=True)


def parse_datetimes(s: pd.Series, tz: str) -> pd.Series:
    """Parse to UTC timestamps; text without a zone is read in ``tz``. Unparseable -> NaT."""
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        return s.dt.tz_convert("UTC")
    if pd.api.types.is_datetime64_dtype(s.dtype):
        return _localize(s, tz)
    txt = s.astype("string").str.strip()
    aware = txt.str.contains(r"(?:Z|[+-]\d\d:?\d\d)$", regex=True).fillna(False).to_numpy(bool)
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns, UTC]")
    if aware.any():
        out[aware] = _to_datetime(txt[aware], utc=True)
    naive = ~aware & txt.notna().to_numpy(bool)
    if naive.any():
        out[naive] = _localize(_to_datetime(txt[naive], utc=False), tz)
    return out


def _to_datetime(txt: pd.Series, *, utc: bool) -> pd.Series:
    """ISO 8601 first (fast, vectorised); other spellings one by one ("mixed")."""
    parsed = pd.to_datetime(txt, errors="coerce", utc=utc, format="ISO8601")
    retry = parsed.isna() & txt.notna()
    if retry.any():
        parsed[retry] = pd.to_datetime(txt[retry], errors="coerce", utc=utc, format="mixed")
    return parsed


def _localize(s: pd.Series, tz: str) -> pd.Series:
    # An ambiguous wall time (the repeated hour in autumn) is read as standard time.
    return s.dt.tz_localize(tz, ambiguous=np.zeros(len(s), dtype=bool),
                            nonexistent="shift_forward").dt.tz_convert("UTC")


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    parts = [g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def validate(
    frame: gpd.GeoDataFrame,
    schema: LayerSchema,
    *,
    tz: str,
    area: ProjectArea | None = None,
    repair: bool = True,
    read_rejections: Mapping[int, tuple[str, str]] | None = None,
) -> Validated:
    """Check every row of a conformed frame against ``schema``.

    Parameters
    ----------
    frame
        Output of :func:`conform`, in EPSG:4326, indexed by 0-based record number.
    tz
        Time zone for datetimes written without one.
    area
        Rows placed further outside it are rejected; ``None`` checks nothing.
    repair
        Repair invalid polygons with ``shapely.make_valid`` (each repair is
        noted); when False such rows are rejected.
    read_rejections
        Rows the reader could not place, ``{index: (reason, detail)}``.

    Raises
    ------
    LayerSchemaError
        When ids repeat within the input (each repeated id with its rows).
    """
    n = len(frame)
    rows = _Rows(n)
    notes: list[str] = []
    out = frame.copy()
    pos = {idx: p for p, idx in enumerate(frame.index)}
    for idx, (reason, detail) in sorted((read_rejections or {}).items()):
        mask = np.zeros(n, dtype=bool)
        mask[pos[idx]] = True
        rows.reject(mask, reason, lambda _i, d=detail: d)

    id_field = schema.id_field
    ids = clean_ids(out[id_field])
    out[id_field] = ids
    dup = ids.duplicated(keep=False) & ids.notna() & (ids != "")
    if dup.any():
        groups = pd.Series(np.arange(n)[dup.to_numpy()] + 1, index=ids[dup].to_numpy())
        problems = [f"id {k!r} on rows {', '.join(map(str, v))}"
                    for k, v in groups.groupby(level=0).agg(list).items()]
        raise LayerSchemaError(
            f"{len(problems)} id(s) appear more than once in the {id_field!r} column; ids must be "
            "unique, so nothing was imported",
            problems,
        )

    id_len = ids.str.len().fillna(0).to_numpy(int)
    rows.reject(id_len > MAX_CODE_CHARS, TEXT_TOO_LONG, lambda i: (
        f"row {i + 1}: {id_field} has {id_len[i]:,} characters; at most {MAX_CODE_CHARS:,}"))

    geoms = out.geometry
    missing_geom = np.asarray(geoms.isna() | geoms.is_empty, dtype=bool)
    rows.reject(missing_geom, NO_COORDINATES, lambda i: f"row {i + 1}: no geometry")
    gtypes = np.asarray(geoms.geom_type.fillna(""), dtype=object)
    wrong = ~missing_geom & ~np.isin(gtypes, schema.geometry_types)
    rows.reject(wrong, WRONG_GEOMETRY, lambda i: (
        f"row {i + 1}: expected {' or '.join(schema.geometry_types)}, got {gtypes[i]}"))

    for spec in schema.fields:
        col = out[spec.name] if spec.name in out.columns else None
        if col is None:
            out[spec.name] = None
            continue
        null = _is_null(col)
        if spec.fill is not None and null.any():
            filled = [spec.fill.format(id=v) for v in ids[null]]
            col = col.astype(object).copy()
            col[null] = filled
            rows_named = ", ".join(str(i + 1) for i in np.flatnonzero(null)[:10])
            notes.append(f"{int(null.sum())} row(s) had no {spec.name}; named like "
                         f"{filled[0]!r} (rows {rows_named})")
            null = np.zeros(n, dtype=bool)
        if spec.required:
            rows.reject(null, MISSING_VALUE,
                        lambda i, f=spec.name: f"row {i + 1}: {f} is empty")
        if spec.type is FieldType.TEXT and spec.name != id_field:
            txt = col.astype("string").str.strip()
            if spec.choices:
                txt = txt.str.lower()
                bad = ~null & ~txt.isin(spec.choices).fillna(False).to_numpy(bool)
                allowed = ", ".join(spec.choices)
                rows.reject(bad, INVALID_VALUE, lambda i, f=spec.name, t=txt, a=allowed: (
                    f"row {i + 1}: {f} {t.iat[i]!r} is not one of: {a}"))
            elif not null.all():
                txt = _cap_text(txt, null, spec.name, rows, notes)
            out[spec.name] = txt.where(~null, None).astype(object)
        elif spec.type in (FieldType.REAL, FieldType.INTEGER):
            raw = col
            num = pd.to_numeric(col.astype("string").str.strip() if raw.dtype == object
                                or pd.api.types.is_string_dtype(raw.dtype) else col,
                                errors="coerce").astype(float)
            bad = ~null & num.isna().to_numpy(bool)
            rows.reject(bad, INVALID_VALUE, lambda i, f=spec.name, r=raw: (
                f"row {i + 1}: {f} should be a number, got {r.iat[i]!r}"))
            rng = np.zeros(n, dtype=bool)
            if spec.minimum is not None:
                rng |= (num < spec.minimum).fillna(False).to_numpy(bool)
            if spec.maximum is not None:
                rng |= (num > spec.maximum).fillna(False).to_numpy(bool)
            rows.reject(rng, INVALID_VALUE, lambda i, f=spec.name, v=num, s=spec: (
                f"row {i + 1}: {f} {v.iat[i]:g} is outside {s.minimum:g} to {s.maximum or 'any'}"))
            if spec.type is FieldType.INTEGER:
                out[spec.name] = num.round().astype("Int64")
            else:
                out[spec.name] = num
        elif spec.type is FieldType.DATETIME:
            parsed = parse_datetimes(col, tz)
            bad = ~null & parsed.isna().to_numpy(bool)
            rows.reject(bad, INVALID_DATE, lambda i, f=spec.name, r=col: (
                f"row {i + 1}: {f} {r.iat[i]!r} is not a date and time"))
            out[spec.name] = parsed

    keep = ~rows.bad
    if keep.any() and schema.geometry_types[0] in ("Polygon", "MultiPolygon"):
        g = np.asarray(out.geometry.values, dtype=object)
        kept = np.flatnonzero(keep)
        valid = shapely.is_valid(g[kept])
        broken = kept[~valid]
        if len(broken):
            if repair:
                for i in broken:
                    why = shapely.is_valid_reason(g[i])
                    fixed = _polygonal(shapely.make_valid(g[i]))
                    if fixed.is_empty:
                        mask = np.zeros(n, dtype=bool)
                        mask[i] = True
                        rows.reject(mask, INVALID_GEOMETRY, lambda j, w=why: (
                            f"row {j + 1}: invalid polygon ({w}) has no area once repaired"))
                    else:
                        g[i] = fixed
                shown = ", ".join(str(i + 1) for i in broken[:15])
                more = "" if len(broken) <= 15 else f" and {len(broken) - 15} more"
                notes.append(f"{len(broken)} invalid polygon(s) were repaired with make_valid "
                             f"(rows {shown}{more}); e.g. row {broken[0] + 1}: "
                             f"{shapely.is_valid_reason(frame.geometry.values[broken[0]])}")
            else:
                mask = np.zeros(n, dtype=bool)
                mask[broken] = True
                rows.reject(mask, INVALID_GEOMETRY, lambda j: (
                    f"row {j + 1}: invalid polygon ({shapely.is_valid_reason(g[j])}); "
                    "import with repair on to fix it with make_valid"))
        out = out.set_geometry(gpd.GeoSeries(g, index=out.index, crs=WGS84))

    if area is not None:
        keep = ~rows.bad
        dist = np.full(n, np.nan)
        if keep.any():
            dist[keep] = area.distance_outside_km(out.geometry[keep])
        outside = keep & (dist > 0)
        reps = out.geometry if schema.is_point else out.geometry.representative_point()
        where = area.describe()
        rows.reject(outside, OUTSIDE_AREA, lambda i: (
            f"row {i + 1}: ({reps.iat[i].y:.5f}, {reps.iat[i].x:.5f}) lies {dist[i]:,.1f} km "
            f"outside the project area ({where})"))

    accepted = out[~rows.bad]
    if schema.geometry_types[-1] == "MultiPolygon" and len(accepted):
        accepted = accepted.set_geometry(
            gpd.GeoSeries(_to_multi(np.asarray(accepted.geometry.values, dtype=object)),
                          index=accepted.index, crs=WGS84))
    rows.items.sort(key=lambda r: r.row)
    return Validated(accepted, rows.counts, rows.items, notes)


def _to_multi(g: np.ndarray) -> np.ndarray:
    single = shapely.get_type_id(g) == 3
    g = g.copy()
    g[single] = [shapely.MultiPolygon([p]) for p in g[single]]
    return g
