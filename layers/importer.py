"""Import a file into the store: read -> map (profile) -> validate -> store.

Every import ends with an :class:`ImportSummary` (read, accepted, rejected by
reason, notes), also written to the store's import log. An input that
cannot be used at all raises an :class:`~layers.errors.UnusableInputError`
and leaves the store exactly as it was.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
from sqlalchemy.engine import Connection

from layers._i18n import _, number
from layers.conform import apply_plan
from layers.crs import ProjectArea, area_from_points, area_from_polygons
from layers.dates import file_period, outlying_dates
from layers.errors import ProfileError, StoreError, UnusableInputError
from layers.mapping import MappingPlan, plan_mapping
from layers.profiles import Profile, load_profile, recognise
from layers.readers import InputFormat, RawTable, read_table
from layers.schema import SCHEMAS, FieldType, Layer, LayerSchema
from layers.settings import Settings
from layers.store import OnConflict, Progress, Store
from layers.validate import FILTERED, Rejection, validate


@dataclass
class ImportSummary:
    layer: str
    source: str
    format: str
    read: int
    accepted: int
    rejected: dict[str, int]
    notes: list[str] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    dry_run: bool = False
    profile: str | None = None  # the import profile's name, when one was used

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected.values())

    def reasons(self, *, examples: int = 3) -> list[tuple[str, int, list[Rejection]]]:
        """Each reason rows were rejected for, most rows first, with its count and the
        first ``examples`` of its rows in file order."""
        firsts: dict[str, list[Rejection]] = {}
        for r in sorted(self.rejections, key=lambda r: r.row):
            got = firsts.setdefault(r.reason, [])
            if len(got) < examples:
                got.append(r)
        return [(reason, n, firsts.get(reason, []))
                for reason, n in sorted(self.rejected.items(), key=lambda kv: (-kv[1], kv[0]))]

    def to_dict(self, *, details: bool = True) -> dict[str, Any]:
        d = asdict(self)
        if not details:
            d.pop("rejections")
        return d

    def text(self) -> str:
        head = (_("{source} -> {layer}: read {read}, would be accepted {accepted}, "
                  "rejected {rejected}") if self.dry_run else
                _("{source} -> {layer}: read {read}, accepted {accepted}, rejected {rejected}"))
        lines = [head.format(source=self.source, layer=self.layer, read=number(self.read),
                             accepted=number(self.accepted),
                             rejected=number(self.rejected_total))]
        if self.profile:
            lines.append(_("  profile: {name}").format(name=self.profile))
        for reason, n in sorted(self.rejected.items(), key=lambda kv: -kv[1]):
            lines.append(_("  rejected, {reason}: {n}").format(reason=_(reason), n=number(n)))
        lines += [_("  note: {note}").format(note=n) for n in self.notes]
        return "\n".join(lines)


def project_area(store: Store, settings: Settings) -> ProjectArea | None:
    """The stored neighborhoods' extent grown by the margin, or None when none are stored."""
    if store.count(Layer.NEIGHBORHOODS) == 0:
        return None
    return area_from_polygons(store.read(Layer.NEIGHBORHOODS).geometry, settings.area_margin_m)


@dataclass
class PreparedImport:
    """A checked import not yet written: its summary and the rows to store."""

    layer: Layer
    summary: ImportSummary
    accepted: gpd.GeoDataFrame
    plan: MappingPlan | None = None


def import_file(
    store: Store,
    path: Path | str,
    layer: Layer,
    *,
    on_conflict: OnConflict = "error",
    dry_run: bool = False,
    progress: Progress | None = None,
    **options: Any,
) -> ImportSummary:
    """Check ``path`` with :func:`prepare_import` and, unless ``dry_run``, store it.

    A CSV is read and stored in parts, in one transaction (:mod:`layers.chunked`: the
    mapping is planned from the first part), so memory stays bounded at any size;
    ``progress`` is then called once per part. Other files are read whole.

    Raises
    ------
    UnusableInputError
        Nothing can be imported (unreadable file, no coordinate columns,
        repeated ids, ids already stored, no row accepted...); the store is unchanged.
    """
    from layers.chunked import NotChunked, import_in_chunks

    try:
        return import_in_chunks(store, path, layer, on_conflict=on_conflict, dry_run=dry_run,
                                progress=progress, **options)
    except NotChunked:
        pass
    prepared = prepare_import(store, path, layer, **options)
    prepared.summary.dry_run = dry_run
    if not dry_run:
        commit_import(store, prepared, on_conflict=on_conflict, progress=progress)
    return prepared.summary


def commit_import(store: Store, prepared: PreparedImport, *, on_conflict: OnConflict = "error",
                  progress: Progress | None = None, conn: Connection | None = None) -> int:
    """Write a prepared import in one transaction (``conn``'s, when given) and log it;
    return rows written."""
    try:
        return store.add(prepared.layer, prepared.accepted, on_conflict=on_conflict,
                         progress=progress, conn=conn,
                         log={"source": prepared.summary.source,
                              "summary": prepared.summary.to_dict(details=False)})
    except StoreError as exc:
        raise UnusableInputError(str(exc)) from None


def _date_notes(accepted: gpd.GeoDataFrame, schema: LayerSchema) -> list[str]:
    """Rows whose dates fall far outside the period of the file's first required date."""
    dates = [f for f in schema.fields if f.type is FieldType.DATETIME]
    main = next((f for f in dates if f.required), None)
    period = file_period(accepted[main.name]) if main and len(accepted) else None
    if period is None:
        return []
    found = (outlying_dates(accepted[f.name], f.name, period, main=f is main) for f in dates)
    return [n for n in found if n]


def _resolve_profile(profile: Profile | str | Path | None,
                     fmt: InputFormat | str | None) -> tuple[Profile | None,
                                                           InputFormat | str | None]:
    """The profile to use, and the file format: ``--format kc311`` is the shipped
    ``kc311`` profile reading a CSV."""
    if isinstance(fmt, str) and fmt.strip().lower() == InputFormat.KC311.value:
        fmt = InputFormat.KC311
    if fmt is InputFormat.KC311:
        if profile is None:
            profile = "kc311"
        fmt = InputFormat.CSV
    if profile is None or isinstance(profile, Profile):
        return profile, fmt
    return load_profile(profile), fmt


def _read_and_plan(
    path: Path, layer: Layer, *, profile: Profile | str | Path | None,
    fmt: InputFormat | str | None, crs: str | None, lon_col: str | None, lat_col: str | None,
    x_col: str | None, y_col: str | None, encoding: str | None,
    column_map: Mapping[str, str] | None, settings: Settings,
    reader: Callable[..., RawTable] = read_table,
) -> tuple[RawTable, MappingPlan, Profile | None, list[str]]:
    prof, fmt = _resolve_profile(profile, fmt)
    if prof is not None and prof.layer is not layer:
        raise ProfileError(_("the profile {source} ({name!r}) is for the {layer} layer, "
                             "not {wanted}").format(source=prof.source, name=prof.name,
                                                    layer=prof.layer.value, wanted=layer.value))
    given = {"crs": crs, "encoding": encoding, "fmt": fmt, "lon_col": lon_col,
             "lat_col": lat_col, "x_col": x_col, "y_col": y_col}
    options = dict(given)
    if prof is not None:
        coords_given = any(given[k] for k in ("lon_col", "lat_col", "x_col", "y_col"))
        for key, value in prof.read_options().items():
            if options.get(key) is None and not (coords_given and key.endswith("_col")):
                options[key] = value
    raw = reader(path, settings=settings, **options)
    notes = list(raw.notes)
    if prof is not None and prof.coordinates and raw.coordinates is None:
        notes.append(_("the profile's coordinate columns ({columns}) were not used: {format} "
                       "files carry their own geometry").format(
                           columns=", ".join(prof.coordinates), format=raw.format.value))
    if prof is None and not column_map and raw.format in (InputFormat.CSV, InputFormat.KC311):
        prof = recognise([*map(str, raw.frame.columns), *(raw.coordinates or ())], layer)
        if prof is not None:
            notes.append(_("recognised a {name}; read with its shipped profile "
                           "({source})").format(name=prof.name, source=prof.source.split()[0]))
    plan = plan_mapping(raw.frame, SCHEMAS[layer], profile=prof, column_map=column_map,
                        coordinates=raw.coordinates)
    return raw, plan, prof, notes


@dataclass
class PlannedFile:
    """A file read and its mapping planned, nothing checked row by row: the table as
    read, the plan, the profile used (given, or a shipped one recognised) and the
    reader's notes."""

    raw: RawTable
    plan: MappingPlan
    profile: Profile | None
    notes: list[str]


def read_and_plan(
    path: Path | str,
    layer: Layer,
    *,
    profile: Profile | str | Path | None = None,
    fmt: InputFormat | str | None = None,
    crs: str | None = None,
    lon_col: str | None = None,
    lat_col: str | None = None,
    x_col: str | None = None,
    y_col: str | None = None,
    encoding: str | None = None,
    column_map: Mapping[str, str] | None = None,
    settings: Settings | None = None,
) -> PlannedFile:
    """Read ``path`` and plan its mapping onto ``layer`` (see :mod:`layers.mapping`),
    without checking rows or writing anything: what an Import page shows before asking
    to import, with the table as read and the profile used, so that a page can let
    people edit the plan (:mod:`layers.mapping_edit`). Options as for
    :func:`prepare_import`.

    Raises
    ------
    UnusableInputError
        The file cannot be read, or the profile cannot be used.
    """
    raw, plan, prof, notes = _read_and_plan(
        Path(path), layer, profile=profile, fmt=fmt, crs=crs, lon_col=lon_col,
        lat_col=lat_col, x_col=x_col, y_col=y_col, encoding=encoding, column_map=column_map,
        settings=settings or Settings())
    return PlannedFile(raw, plan, prof, notes)


def prepare_import(
    store: Store,
    path: Path | str,
    layer: Layer,
    *,
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
) -> PreparedImport:
    """Read and check ``path`` as ``layer``; nothing is written.

    ``profile`` is an import profile (:mod:`layers.profiles`): a :class:`Profile`, a
    path to its TOML file, or the name of a shipped one (``"kc311"``; ``fmt="kc311"``
    means the same). Options given here win over the profile's. See
    :func:`layers.readers.read_table` for the reading options; ``column_map`` is
    ``{field: column}``; ``tz`` is the zone of times given without one (default: the
    profile's, else the store's, else the settings').

    Raises
    ------
    UnusableInputError
        When nothing can be imported (among them a column taken by its name whose
        values do not fit its field, naming the profile line that confirms it); the
        store is unchanged.
    """
    settings = settings or Settings()
    path = Path(path)
    source = source_name or path.name
    raw, plan, prof, notes = _read_and_plan(
        path, layer, profile=profile, fmt=fmt, crs=crs, lon_col=lon_col, lat_col=lat_col,
        x_col=x_col, y_col=y_col, encoding=encoding, column_map=column_map, settings=settings)
    tz = tz or (prof.timezone if prof else None) or store.get_setting("timezone") \
        or settings.timezone
    if len(raw.frame) > settings.max_import_rows:
        raise too_many_rows(source, len(raw.frame), settings)
    schema = SCHEMAS[layer]
    plan.check()
    done = apply_plan(raw.frame, plan, schema, profile=prof, id_prefix=path.stem,
                      unreadable=set(raw.row_reasons))
    notes += done.notes
    # a row's first reason wins: left out on purpose, then unreadable, then the rest
    reasons = {**done.rejections, **raw.row_reasons,
               **{i: r for i, r in done.rejections.items() if r[0] == FILTERED}}
    frame = done.frame
    area = project_area(store, settings)
    if area is None and schema.is_point:
        pts = frame.geometry
        ok = ~(pts.isna() | pts.is_empty)
        if ok.any():
            area = area_from_points(pts[ok].x.to_numpy(), pts[ok].y.to_numpy(),
                                    settings.outlier_distance_km)
    checked = validate(frame, schema, tz=tz, area=area, repair=repair,
                       read_rejections=reasons)
    notes += checked.notes
    notes += _date_notes(checked.accepted, schema)
    summary = ImportSummary(
        layer=layer.value, source=source, format=raw.format.value, read=len(frame),
        accepted=len(checked.accepted), rejected=checked.rejected_counts, notes=notes,
        rejections=checked.rejections, profile=prof.name if prof else None,
    )
    if len(checked.accepted) == 0:
        raise nothing_accepted(summary)
    return PreparedImport(layer, summary, checked.accepted, plan)


def too_many_rows(source: str, rows: int, settings: Settings) -> UnusableInputError:
    """The refusal of a file of more rows than ``settings.max_import_rows``."""
    return UnusableInputError(_(
        "{source} holds {n} rows; this deployment takes at most {limit} in one import "
        "(setting max_import_rows, CPTED_MAX_IMPORT_ROWS). Split the file, or ask the "
        "administrator to raise the limit").format(
            source=source, n=number(rows), limit=number(settings.max_import_rows)))


def nothing_accepted(summary: ImportSummary) -> UnusableInputError:
    """The refusal of a file none of whose rows was accepted."""
    first = "; ".join(r.detail for r in summary.rejections[:3])
    return UnusableInputError(
        _("no row of {source} can be imported as {layer} (read {read}, all rejected: "
          "{first})").format(source=summary.source, layer=summary.layer, read=summary.read,
                             first=first),
        [_("{reason}: {n}").format(reason=_(reason), n=n)
         for reason, n in summary.rejected.items()],
    )
