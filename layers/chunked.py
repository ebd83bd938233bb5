"""Importing a CSV in parts, so that a million rows need the memory of a few thousand.

:func:`import_in_chunks` is :func:`layers.importer.import_file` for a CSV: the file is
decoded as a stream and cut into parts of about :data:`CHUNK_ROWS` records (never inside
a quoted value); each part goes through the same steps as a whole file (parse, place,
map, validate) and is written with :meth:`~layers.store.Store.add`, every part inside
ONE transaction: when anything fails, nothing is stored. The import log is written once,
at the end, with the summary of the whole file.

What is decided once, from the first part:

* the mapping plan (:func:`layers.mapping.plan_mapping`: columns, and their content
  checks) and the profile recognised. A later part whose values do not fit the plan
  has those rows rejected with a reason by validation, as any row would be; nothing
  is re-planned or stored differently;
* whether the coordinate columns are swapped, and the project area when the store has
  no neighborhoods (around the first part's points).

What is kept exact over the whole file: the row numbers (in rejections and their
details, and in ids made from them), ids repeated across parts (each id with every row
it is on), ids already stored, the date notes, and the row limit
(``max_import_rows``: counted, and the import rolled back, as soon as it is passed).
The cross-part id check keeps two 64-bit hashes of each id and its row (24 bytes a row),
not the ids themselves; two different ids taken for one needs a 128-bit collision.

Rejection details are kept per reason up to :data:`layers.validate.MAX_DETAILS_PER_REASON`
in the order the parts found them (counts are always complete). Notes are gathered in
order without repeats; a note that counts rows counts them per part.

Files this cannot read as the whole-file path would (another format, a profile whose
``duplicate_ids`` is not ``"error"``, an encoding other than a byte-order mark's, UTF-16
or UTF-8) raise :class:`NotChunked` before anything is kept, and the caller reads the
whole file instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
from sqlalchemy.engine import Connection

from layers.conform import apply_plan
from layers.crs import ProjectArea, area_from_points
from layers.csv_parts import NotChunked as NotChunked  # raised here too; callers catch it
from layers.csv_parts import _codec, _header, _line_count, _parts
from layers.errors import CptedError, StoreError, UnusableInputError
from layers.importer import (
    ImportSummary,
    _date_notes,
    _read_and_plan,
    _resolve_profile,
    nothing_accepted,
    project_area,
    too_many_rows,
)
from layers.mapping import MappingPlan
from layers.profiles import DuplicateIds, Profile
from layers.readers import (
    InputFormat,
    RawTable,
    _parse_csv,
    check_size,
    guess_format,
    parse_format,
    place_csv_rows,
)
from layers.schema import SCHEMAS, FieldType, Layer
from layers.settings import Settings
from layers.store import OnConflict, Progress, Store, ids_taken_error
from layers.validate import (
    FILTERED,
    MAX_DETAILS_PER_REASON,
    Rejection,
    clean_ids,
    repeated_ids_error,
    validate,
)

T = TypeVar("T")

#: Records in each part of a file read in parts (about: a part ends at a line break
#: outside quotes, so a value holding line breaks makes its part shorter).
CHUNK_ROWS = 100_000

Writer = Callable[[Callable[[Connection | None], T]], T]


# -- ids met in earlier parts ---------------------------------------------------------

class _SeenIds:
    """Every id met so far, as two 64-bit hashes, with its 1-based row."""

    _KEYS = ("cpted-ids-key-01", "cpted-ids-key-02")

    def __init__(self) -> None:
        self.h1 = np.empty(0, dtype=np.uint64)
        self.h2 = np.empty(0, dtype=np.uint64)
        self.rows = np.empty(0, dtype=np.int64)

    @classmethod
    def hashes(cls, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return (pd.util.hash_array(ids, hash_key=cls._KEYS[0], categorize=False),
                pd.util.hash_array(ids, hash_key=cls._KEYS[1], categorize=False))

    def earlier(self, h1: np.ndarray, h2: np.ndarray) -> dict[int, list[int]]:
        """``{position: earlier rows}`` for the hashed ids already met."""
        lo = np.searchsorted(self.h1, h1, "left")
        hi = np.searchsorted(self.h1, h1, "right")
        found: dict[int, list[int]] = {}
        for p in np.flatnonzero(hi > lo):
            rows = [int(self.rows[j]) for j in range(lo[p], hi[p]) if self.h2[j] == h2[p]]
            if rows:
                found[int(p)] = rows
        return found

    def add(self, h1: np.ndarray, h2: np.ndarray, rows: np.ndarray) -> None:
        h1 = np.concatenate([self.h1, h1])
        order = np.argsort(h1, kind="stable")
        self.h1 = h1[order]
        self.h2 = np.concatenate([self.h2, h2])[order]
        self.rows = np.concatenate([self.rows, rows.astype(np.int64)])[order]


# -- what the parts add up to ---------------------------------------------------------

@dataclass
class _Totals:
    read: int = 0
    accepted: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    rejections: list[Rejection] = field(default_factory=list)
    kept: dict[str, int] = field(default_factory=dict)   # details kept per reason
    notes: dict[str, None] = field(default_factory=dict)  # ordered, without repeats
    dates: dict[str, list[np.ndarray]] = field(default_factory=dict)
    seen: _SeenIds = field(default_factory=_SeenIds)
    repeated: dict[str, set[int]] = field(default_factory=dict)
    taken: set[str] = field(default_factory=set)
    too_many: bool = False

    def note(self, notes: list[str]) -> None:
        self.notes.update(dict.fromkeys(notes))

    def reject(self, items: list[Rejection], counts: Mapping[str, int], offset: int) -> None:
        for reason, n in counts.items():
            self.counts[reason] = self.counts.get(reason, 0) + n
        for r in items:
            if self.kept.get(r.reason, 0) >= MAX_DETAILS_PER_REASON:
                continue
            self.kept[r.reason] = self.kept.get(r.reason, 0) + 1
            self.rejections.append(_renumber(r, offset))


def _renumber(r: Rejection, offset: int) -> Rejection:
    """``r`` of a part whose first record is record ``offset`` of the file, numbered as
    in the file: its row, and the first mention of that row in its detail (every
    detail names its row first: "row 12: ...")."""
    if not offset:
        return r
    row = r.row + offset
    detail = re.sub(rf"(?<![\d.,]){r.row}(?![\d.,]\d)", str(row), r.detail, count=1)
    return Rejection(row, r.reason, detail)


def _swapped(raw: RawTable, df: pd.DataFrame) -> bool:
    """Whether the reader exchanged the coordinate columns of this part (their values
    were the other way round)."""
    if raw.coordinates is None:
        return False
    geoms = raw.frame.geometry
    ok = np.flatnonzero(~(geoms.isna() | geoms.is_empty).to_numpy(bool))[:50]
    if not len(ok):
        return False
    gx = geoms.iloc[ok].x.to_numpy()
    x, y = (pd.to_numeric(df[c].iloc[ok].str.strip(), errors="coerce").to_numpy(float)
            for c in raw.coordinates)
    return bool(np.array_equal(gx, y) and not np.array_equal(gx, x))


# -- the import -----------------------------------------------------------------------

def chunkable(path: Path | str, *, fmt: InputFormat | str | None = None,
              profile: Profile | str | Path | None = None) -> bool:
    """Whether :func:`import_in_chunks` may read ``path`` (a CSV, and no profile that
    renames or keeps repeated ids); a profile that cannot be loaded says no, for the
    whole-file path to report it."""
    try:
        prof, fmt = _resolve_profile(profile, fmt)
        fmt = parse_format(fmt) if isinstance(fmt, str) else (fmt or guess_format(Path(path)))
    except CptedError:
        return False
    if fmt not in (InputFormat.CSV, InputFormat.KC311):
        return False
    return prof is None or prof.duplicate_ids is DuplicateIds.ERROR


def _in_transaction(store: Store) -> Writer[Any]:
    def write(fn: Callable[[Connection | None], Any]) -> Any:
        with store.transaction() as conn:
            return fn(conn)
    return write


def import_in_chunks(
    store: Store,
    path: Path | str,
    layer: Layer,
    *,
    on_conflict: OnConflict = "error",
    dry_run: bool = False,
    progress: Progress | None = None,
    chunk_rows: int | None = None,
    write: Writer[Any] | None = None,
    profile: Profile | str | Path | None = None,
    fmt: InputFormat | str | None = None,
    crs: str | None = None,
    lon_col: str | None = None,
    lat_col: str | None = None,
    x_col: str | None = None,
    y_col: str | None = None,
    encoding: str | None = None,
    column_map: Mapping[str, str] | None = None,
    tz: str | None = None,
    repair: bool = True,
    settings: Settings | None = None,
    source_name: str | None = None,
) -> ImportSummary:
    """Import the CSV ``path`` as ``layer`` a part at a time (see the module's docstring),
    all parts in one transaction: what :func:`layers.importer.import_file` does, with
    the same options, summary and errors.

    Parameters
    ----------
    progress
        Called once per part as ``progress(rows_read, rows_total)``; the total is the
        file's line count (an estimate when values hold line breaks, never below the
        rows read) until the last part, where it is exact.
    chunk_rows
        Records per part (default :data:`CHUNK_ROWS`).
    write
        Runs its argument ``fn(conn)`` in one transaction and returns what it returns
        (default: a transaction of ``store``); a caller adds its own bookkeeping there.
        A dry run calls ``fn(None)`` outside any transaction.

    Raises
    ------
    NotChunked
        The file is to be read whole instead; nothing was written.
    UnusableInputError
        As :func:`layers.importer.prepare_import` and ``commit_import``; nothing was
        written.
    """
    settings = settings or Settings()
    path = Path(path)
    chunk_rows = CHUNK_ROWS if chunk_rows is None else chunk_rows
    if chunk_rows < 1:
        raise ValueError(f"chunk_rows should be at least 1, got {chunk_rows}")
    if not chunkable(path, fmt=fmt, profile=profile):
        raise NotChunked
    check_size(path, settings)
    prof, _ = _resolve_profile(profile, fmt)
    encoding = encoding or (prof.encoding if prof else None)  # the given one wins
    codec = _codec(path, encoding)
    lines = _line_count(path)
    run = _Run(store, path, layer, settings=settings, codec=codec, chunk_rows=chunk_rows,
               on_conflict=on_conflict, dry_run=dry_run, progress=progress, lines=lines,
               source=source_name or path.name, tz=tz, repair=repair,
               read_options={"profile": profile, "fmt": fmt, "crs": crs, "lon_col": lon_col,
                             "lat_col": lat_col, "x_col": x_col, "y_col": y_col,
                             "encoding": encoding, "column_map": column_map})
    if dry_run:
        return run(None)
    summary: ImportSummary = (write or _in_transaction(store))(run)
    return summary


class _Run:
    """One import in parts; called with the transaction's connection (None: dry run)."""

    def __init__(self, store: Store, path: Path, layer: Layer, *, settings: Settings,
                 codec: str, chunk_rows: int, on_conflict: OnConflict, dry_run: bool,
                 progress: Progress | None, lines: int, source: str, tz: str | None,
                 repair: bool, read_options: dict[str, Any]) -> None:
        self.store, self.path, self.layer, self.settings = store, path, layer, settings
        self.codec, self.chunk_rows, self.lines = codec, chunk_rows, lines
        self.on_conflict, self.dry_run, self.progress = on_conflict, dry_run, progress
        self.source, self.tz, self.repair = source, tz, repair
        self.read_options = read_options
        self.schema = SCHEMAS[layer]

    def __call__(self, conn: Connection | None) -> ImportSummary:
        totals = _Totals()
        parts = _parts(self.path, self.codec, self.chunk_rows)
        first_text, last = next(parts)
        if not first_text.strip():
            raise NotChunked  # empty: the whole-file reader says so
        header = _header(first_text)
        sep = max(",;\t|", key=header.lstrip().split("\n", 1)[0].count)
        place: dict[str, Any] = {}

        def first_part(path: Path, *, settings: Settings, **options: Any) -> RawTable:
            options.pop("fmt", None)
            if options.pop("encoding", None) != encoding:
                raise NotChunked  # not the encoding the stream was decoded with
            place.update(options)
            df, malformed = _parse_csv(path, first_text, sep)
            raw = place_csv_rows(path, df, malformed, [], **options)
            raw.format = InputFormat.CSV  # a kc311 "format" is the kc311 profile on a CSV
            self.first_df: pd.DataFrame = df
            return raw

        opts = self.read_options
        encoding = opts["encoding"]
        raw, plan, prof, notes = _read_and_plan(
            self.path, self.layer, profile=opts["profile"], fmt=opts["fmt"], crs=opts["crs"],
            lon_col=opts["lon_col"], lat_col=opts["lat_col"], x_col=opts["x_col"],
            y_col=opts["y_col"], encoding=opts["encoding"], column_map=opts["column_map"],
            settings=self.settings, reader=first_part)
        if prof is not None and prof.duplicate_ids is not DuplicateIds.ERROR:
            raise NotChunked  # a recognised profile that renames or keeps repeated ids
        if _swapped(raw, self.first_df) and raw.coordinates:
            place.update(lon_col=raw.coordinates[1], lat_col=raw.coordinates[0],
                         x_col=None, y_col=None)
        del self.first_df
        first_text = ""  # hold one part at a time, not the first all along
        self.prof_name = prof.name if prof else None
        tz = self.tz or (prof.timezone if prof else None) \
            or self.store.get_setting("timezone") or self.settings.timezone
        plan.check()
        area = project_area(self.store, self.settings)
        if area is None and self.schema.is_point:
            pts = raw.frame.geometry
            ok = ~(pts.isna() | pts.is_empty)
            if ok.any():
                area = area_from_points(pts[ok].x.to_numpy(), pts[ok].y.to_numpy(),
                                        self.settings.outlier_distance_km)
        totals.note(notes)
        self._part(conn, totals, raw, plan, prof, tz, area, offset=0, last=last)
        while not last:
            text, last = next(parts)
            df, malformed = _parse_csv(self.path, header + text, sep)
            if totals.too_many:
                totals.read += len(df)
                continue
            part_notes: list[str] = []
            raw = place_csv_rows(self.path, df, malformed, part_notes, whole=False, **place)
            totals.note(part_notes)
            self._part(conn, totals, raw, plan, prof, tz, area, offset=totals.read, last=last)
        return self._finish(conn, totals, raw.format)

    def _part(self, conn: Connection | None, totals: _Totals, raw: RawTable,
              plan: MappingPlan, prof: Profile | None, tz: str, area: ProjectArea | None, *,
              offset: int, last: bool) -> None:
        """Check one part and, while nothing has failed, write its accepted rows."""
        n = len(raw.frame)
        totals.read += n
        if totals.read > self.settings.max_import_rows:
            totals.too_many = True
            return
        schema = self.schema
        done = apply_plan(raw.frame, plan, schema, profile=prof, id_prefix=self.path.stem,
                          unreadable=set(raw.row_reasons), first_row=offset)
        totals.note(done.notes)
        # a row's first reason wins: left out on purpose, then unreadable, then the rest
        reasons = {**done.rejections, **raw.row_reasons,
                   **{i: r for i, r in done.rejections.items() if r[0] == FILTERED}}
        frame = done.frame
        self._check_ids(totals, frame, reasons, offset)
        if totals.repeated:
            return  # the import is refused; the rest is read for every repeated id
        checked = validate(frame, schema, tz=tz, area=area, repair=self.repair,
                           read_rejections=reasons)
        totals.note(checked.notes)
        totals.reject(checked.rejections, checked.rejected_counts, offset)
        accepted = checked.accepted
        totals.accepted += len(accepted)
        for f in schema.fields:
            if f.type is FieldType.DATETIME and len(accepted):
                totals.dates.setdefault(f.name, []).append(
                    pd.to_datetime(accepted[f.name], utc=True).dt.tz_localize(None)
                    .to_numpy("datetime64[ns]"))
        if conn is not None and len(accepted):
            self._write(conn, totals, accepted)
        if self.progress:
            self.progress(totals.read, totals.read if last
                          else max(totals.read, self.lines - 1))

    def _check_ids(self, totals: _Totals, frame: gpd.GeoDataFrame,
                   reasons: Mapping[int, tuple[str, str]], offset: int) -> None:
        """Ids repeated within this part or met in an earlier one, as validation finds
        them within a file (rows already left out take no part)."""
        ids = clean_ids(frame[self.schema.id_field])
        live = np.ones(len(frame), dtype=bool)
        live[frame.index.get_indexer(list(reasons))] = False
        live &= (ids.notna() & (ids != "")).to_numpy(bool)
        where = np.flatnonzero(live)
        values = ids.to_numpy(dtype=object)[where]
        rows = where + offset + 1
        h1, h2 = _SeenIds.hashes(values)
        # repeats within the part, by the same hashes as across parts (no string compare)
        here = pd.DataFrame({"a": h1, "b": h2}).duplicated(keep=False).to_numpy(bool)
        for p in np.flatnonzero(here):
            totals.repeated.setdefault(str(values[p]), set()).add(int(rows[p]))
        for q, earlier in totals.seen.earlier(h1, h2).items():
            totals.repeated.setdefault(str(values[q]), set()).update([*earlier, int(rows[q])])
        totals.seen.add(h1, h2, rows)

    def _write(self, conn: Connection, totals: _Totals, accepted: gpd.GeoDataFrame) -> None:
        id_field = self.schema.id_field
        accepted = accepted.copy()
        accepted[id_field] = accepted[id_field].astype(object)
        if totals.taken:  # refused already: gather every id taken, as one write would
            totals.taken |= self.store.existing_ids(self.layer, accepted[id_field], conn)
            return
        if self.on_conflict == "error":
            taken = self.store.existing_ids(self.layer, accepted[id_field], conn)
            if taken:  # refused: the rest is checked for every id taken
                totals.taken |= taken
                return
        try:
            self.store.add(self.layer, accepted, on_conflict=self.on_conflict, conn=conn)
        except StoreError as exc:
            raise UnusableInputError(str(exc)) from None

    def _finish(self, conn: Connection | None, totals: _Totals,
                fmt: InputFormat) -> ImportSummary:
        if totals.too_many:
            raise too_many_rows(self.source, totals.read, self.settings)
        if totals.repeated:
            raise repeated_ids_error(self.schema.id_field,
                                     ((k, sorted(v)) for k, v in sorted(totals.repeated.items())))
        dates = pd.DataFrame({name: pd.Series(np.concatenate(parts)).dt.tz_localize("UTC")
                              for name, parts in totals.dates.items()})
        notes = list(totals.notes)
        if len(dates):
            notes += _date_notes(dates, self.schema)
        totals.rejections.sort(key=lambda r: r.row)
        summary = ImportSummary(
            layer=self.layer.value, source=self.source, format=fmt.value, read=totals.read,
            accepted=totals.accepted, rejected=totals.counts, notes=notes,
            rejections=totals.rejections, dry_run=self.dry_run,
            profile=self.prof_name,
        )
        if totals.accepted == 0:
            raise nothing_accepted(summary)
        if totals.taken:
            raise UnusableInputError(str(ids_taken_error(self.layer, totals.taken)))
        if conn is not None:
            self.store.log_import(conn, self.layer, {
                "source": summary.source, "summary": summary.to_dict(details=False)})
        return summary
