"""Checking every row of a table already fitted to a layer's schema.

:func:`layers.conform.conform` (or a profile's mapping plan, :mod:`layers.mapping`)
first gives the table the layer's fields. :func:`validate` then checks each row and
splits the table into accepted rows and rejected rows, each rejection with a
reason (a short key, counted in summaries) and a detail naming the row, what
was expected and what arrived. Problems that make the whole input
untrustworthy, such as duplicate ids, raise with every instance listed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from layers._i18n import N_, _, ngettext, number
from layers.crs import WGS84, ProjectArea
from layers.errors import LayerSchemaError
from layers.schema import FieldType, LayerSchema

# Rejection reasons: short, stable keys (they are counted in import summaries, and
# stored in English); marked so that where they are shown, ``_(reason)`` translates them.
NO_COORDINATES = N_("no coordinates")
OUT_OF_RANGE = N_("coordinates out of range")
OUTSIDE_AREA = N_("outside project area")
MISSING_VALUE = N_("missing required value")
INVALID_VALUE = N_("invalid value")
INVALID_DATE = N_("invalid date")
WRONG_GEOMETRY = N_("wrong geometry type")
INVALID_GEOMETRY = N_("invalid geometry")
TEXT_TOO_LONG = N_("text too long")
FILTERED = N_("left out by the profile's filters")
REPEATED_ID = N_("repeated id")

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

NULL_TEXT = {"", "na", "n/a", "nan", "null", "none"}


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
        rows.reject(~null & (length > limit), TEXT_TOO_LONG, lambda i: _(
            "row {row}: {field} has {n} characters; at most {limit}").format(
                row=i + 1, field=name, n=number(length[i]), limit=number(limit)))
        return txt
    limit = _LONG_TEXT.get(name, MAX_SHORT_TEXT_CHARS)
    long = ~null & (length > limit)
    if not long.any():
        return txt
    where = np.flatnonzero(long)
    shown = ", ".join(str(i + 1) for i in where[:10]) + (" ..." if len(where) > 10 else "")
    notes.append(_(
        "{n} row(s) had {field} text longer than {limit} characters (the longest {longest}); "
        "it was cut to {limit} (rows {rows})").format(
            n=len(where), field=name, limit=number(limit), longest=number(length.max()),
            rows=shown))
    cut = txt.str.slice(0, limit - 1) + "\u2026"
    return txt.where(~long, cut)


def is_null(s: pd.Series) -> np.ndarray:
    if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
        txt = s.astype("string").str.strip().str.lower()
        return np.asarray(s.isna() | txt.isin(NULL_TEXT).fillna(True), dtype=bool)
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
    # one mask per reason, not per row: a file with many unreadable rows stays linear
    by_reason: dict[str, dict[int, str]] = {}
    found = frame.index.get_indexer(list(read_rejections or {}))
    for p, (reason, detail) in zip(found, (read_rejections or {}).values(), strict=True):
        by_reason.setdefault(reason, {})[int(p)] = detail
    for reason, details in sorted(by_reason.items(), key=lambda kv: min(kv[1])):
        mask = np.zeros(n, dtype=bool)
        mask[list(details)] = True
        rows.reject(mask, reason, lambda i, d=details: d[i])

    id_field = schema.id_field
    ids = clean_ids(out[id_field])
    out[id_field] = ids
    # rows already left out (unreadable, filtered, no coordinates) cannot clash
    live = pd.Series(~rows.bad, index=ids.index)
    dup = ids[live].duplicated(keep=False).reindex(ids.index, fill_value=False) & live \
        & ids.notna() & (ids != "")
    if dup.any():
        groups = pd.Series(np.arange(n)[dup.to_numpy()] + 1, index=ids[dup].to_numpy())
        raise repeated_ids_error(id_field, groups.groupby(level=0).agg(list).items())

    id_len = ids.str.len().fillna(0).to_numpy(int)
    rows.reject(id_len > MAX_CODE_CHARS, TEXT_TOO_LONG, lambda i: _(
        "row {row}: {field} has {n} characters; at most {limit}").format(
            row=i + 1, field=id_field, n=number(id_len[i]), limit=number(MAX_CODE_CHARS)))

    geoms = out.geometry
    missing_geom = np.asarray(geoms.isna() | geoms.is_empty, dtype=bool)
    rows.reject(missing_geom, NO_COORDINATES,
                lambda i: _("row {row}: no geometry").format(row=i + 1))
    gtypes = np.asarray(geoms.geom_type.fillna(""), dtype=object)
    wrong = ~missing_geom & ~np.isin(gtypes, schema.geometry_types)
    rows.reject(wrong, WRONG_GEOMETRY, lambda i: _(
        "row {row}: expected {expected}, got {got}").format(
            row=i + 1, expected=_(" or ").join(schema.geometry_types), got=gtypes[i]))

    for spec in schema.fields:
        col = out[spec.name] if spec.name in out.columns else None
        if col is None:
            out[spec.name] = None
            continue
        null = is_null(col)
        if spec.fill is not None and null.any():
            filled = [spec.fill.format(id=v) for v in ids[null]]
            col = col.astype(object).copy()
            col[null] = filled
            rows_named = ", ".join(str(i + 1) for i in np.flatnonzero(null)[:10])
            notes.append(ngettext("{n} row had no {field}; named like {example!r} (rows {rows})",
                                  "{n} rows had no {field}; named like {example!r} (rows {rows})",
                                  int(null.sum())).format(
                n=int(null.sum()), field=spec.name, example=filled[0], rows=rows_named))
            null = np.zeros(n, dtype=bool)
        if spec.required:
            rows.reject(null, MISSING_VALUE,
                        lambda i, f=spec.name: _("row {row}: {field} is empty").format(
                            row=i + 1, field=f))
        if spec.type is FieldType.TEXT and spec.name != id_field:
            txt = col.astype("string").str.strip()
            if spec.choices:
                txt = txt.str.lower()
                bad = ~null & ~txt.isin(spec.choices).fillna(False).to_numpy(bool)
                allowed = ", ".join(spec.choices)
                rows.reject(bad, INVALID_VALUE, lambda i, f=spec.name, t=txt, a=allowed: _(
                    "row {row}: {field} {value!r} is not one of: {allowed}").format(
                        row=i + 1, field=f, value=t.iat[i], allowed=a))
            elif not null.all():
                txt = _cap_text(txt, null, spec.name, rows, notes)
            out[spec.name] = txt.where(~null, None).astype(object)
        elif spec.type in (FieldType.REAL, FieldType.INTEGER):
            raw = col
            num = pd.to_numeric(col.astype("string").str.strip() if raw.dtype == object
                                or pd.api.types.is_string_dtype(raw.dtype) else col,
                                errors="coerce").astype(float)
            bad = ~null & num.isna().to_numpy(bool)
            rows.reject(bad, INVALID_VALUE, lambda i, f=spec.name, r=raw: _(
                "row {row}: {field} should be a number, got {value!r}").format(
                    row=i + 1, field=f, value=r.iat[i]))
            rng = np.zeros(n, dtype=bool)
            if spec.minimum is not None:
                rng |= (num < spec.minimum).fillna(False).to_numpy(bool)
            if spec.maximum is not None:
                rng |= (num > spec.maximum).fillna(False).to_numpy(bool)
            rows.reject(rng, INVALID_VALUE, lambda i, f=spec.name, v=num, s=spec: _(
                "row {row}: {field} {value:g} is outside {low:g} to {high}").format(
                    row=i + 1, field=f, value=v.iat[i], low=s.minimum,
                    high=s.maximum or _("any")))
            if spec.type is FieldType.INTEGER:
                out[spec.name] = num.round().astype("Int64")
            else:
                out[spec.name] = num
        elif spec.type is FieldType.DATETIME:
            parsed = parse_datetimes(col, tz)
            bad = ~null & parsed.isna().to_numpy(bool)
            rows.reject(bad, INVALID_DATE, lambda i, f=spec.name, r=col: _(
                "row {row}: {field} {value!r} is not a date and time").format(
                    row=i + 1, field=f, value=r.iat[i]))
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
                        rows.reject(mask, INVALID_GEOMETRY, lambda j, w=why: _(
                            "row {row}: invalid polygon ({why}) has no area once repaired"
                        ).format(row=j + 1, why=w))
                    else:
                        g[i] = fixed
                shown = ", ".join(str(i + 1) for i in broken[:15])
                if len(broken) > 15:
                    shown = _("{rows} and {n} more").format(rows=shown, n=len(broken) - 15)
                notes.append(ngettext(
                    "{n} invalid polygon was repaired with make_valid (rows {rows}); "
                    "e.g. row {row}: {why}",
                    "{n} invalid polygons were repaired with make_valid (rows {rows}); "
                    "e.g. row {row}: {why}", len(broken)).format(
                        n=len(broken), rows=shown, row=broken[0] + 1,
                        why=shapely.is_valid_reason(frame.geometry.values[broken[0]])))
            else:
                mask = np.zeros(n, dtype=bool)
                mask[broken] = True
                rows.reject(mask, INVALID_GEOMETRY, lambda j: _(
                    "row {row}: invalid polygon ({why}); import with repair on to fix it "
                    "with make_valid").format(row=j + 1, why=shapely.is_valid_reason(g[j])))
        out = out.set_geometry(gpd.GeoSeries(g, index=out.index, crs=WGS84))

    if area is not None:
        keep = ~rows.bad
        dist = np.full(n, np.nan)
        if keep.any():
            dist[keep] = area.distance_outside_km(out.geometry[keep])
        outside = keep & (dist > 0)
        reps = out.geometry if schema.is_point else out.geometry.representative_point()
        where = area.describe()
        rows.reject(outside, OUTSIDE_AREA, lambda i: _(
            "row {row}: ({lat:.5f}, {lon:.5f}) lies {km} km outside the project area "
            "({where})").format(row=i + 1, lat=reps.iat[i].y, lon=reps.iat[i].x,
                                km=number(float(dist[i]), digits=1), where=where))

    accepted = out[~rows.bad]
    if schema.geometry_types[-1] == "MultiPolygon" and len(accepted):
        accepted = accepted.set_geometry(
            gpd.GeoSeries(_to_multi(np.asarray(accepted.geometry.values, dtype=object)),
                          index=accepted.index, crs=WGS84))
    rows.items.sort(key=lambda r: r.row)
    return Validated(accepted, rows.counts, rows.items, notes)


def repeated_ids_error(id_field: str,
                       rows: Iterable[tuple[str, Sequence[int]]]) -> LayerSchemaError:
    """The refusal of an input whose ids repeat: each id (in sorted order) with its
    1-based rows."""
    problems = [_("id {id!r} on rows {rows}").format(id=k, rows=", ".join(map(str, v)))
                for k, v in rows]
    return LayerSchemaError(
        ngettext(
            "{n} id appears more than once in the {column!r} column; ids must be unique, "
            "so nothing was imported (an import profile's duplicate_ids = \"keep-first\" "
            "or \"keep-all\" says what to do instead)",
            "{n} ids appear more than once in the {column!r} column; ids must be unique, "
            "so nothing was imported (an import profile's duplicate_ids = \"keep-first\" "
            "or \"keep-all\" says what to do instead)",
            len(problems)).format(n=len(problems), column=id_field),
        problems,
    )


def _to_multi(g: np.ndarray) -> np.ndarray:
    single = shapely.get_type_id(g) == 3
    g = g.copy()
    g[single] = [shapely.MultiPolygon([p]) for p in g[single]]
    return g
