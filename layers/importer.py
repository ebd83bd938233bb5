"""Import a file into the store: read -> conform -> validate -> store.

Every import ends with an :class:`ImportSummary` (read, accepted, rejected by
reason, notes), also written to the store's import log. An input that
cannot be used at all raises an :class:`~layers.errors.UnusableInputError`
and leaves the store exactly as it was.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
from sqlalchemy.engine import Connection

from layers.crs import ProjectArea, area_from_points, area_from_polygons
from layers.errors import StoreError, UnusableInputError
from layers.formats import kc311_to_concerns, looks_like_kc311
from layers.readers import InputFormat, read_table
from layers.schema import SCHEMAS, Layer
from layers.settings import Settings
from layers.store import OnConflict, Progress, Store
from layers.validate import Rejection, conform, validate


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

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected.values())

    def to_dict(self, *, details: bool = True) -> dict[str, Any]:
        d = asdict(self)
        if not details:
            d.pop("rejections")
        return d

    def text(self) -> str:
        verb = "would be accepted" if self.dry_run else "accepted"
        lines = [f"{self.source} -> {self.layer}: read {self.read:,}, {verb} {self.accepted:,}, "
                 f"rejected {self.rejected_total:,}"]
        for reason, n in sorted(self.rejected.items(), key=lambda kv: -kv[1]):
            lines.append(f"  rejected, {reason}: {n:,}")
        lines += [f"  note: {n}" for n in self.notes]
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

    Raises
    ------
    UnusableInputError
        Nothing can be imported (unreadable file, no coordinate columns,
        repeated ids, ids already stored, no row accepted...); the store is unchanged.
    """
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


def prepare_import(
    store: Store,
    path: Path | str,
    layer: Layer,
    *,
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

    See :func:`layers.readers.read_table` for the reading options;
    ``column_map`` is ``{field: column}``; ``tz`` is the zone of times given
    without one (default: the store's, else the settings').

    Raises
    ------
    UnusableInputError
        When nothing can be imported; the store is unchanged.
    """
    settings = settings or Settings()
    path = Path(path)
    source = source_name or path.name
    tz = tz or store.get_setting("timezone") or settings.timezone
    raw = read_table(path, fmt=fmt, crs=crs, lon_col=lon_col, lat_col=lat_col, x_col=x_col,
                     y_col=y_col, encoding=encoding, settings=settings)
    if len(raw.frame) > settings.max_import_rows:
        raise UnusableInputError(
            f"{source} holds {len(raw.frame):,} rows; this deployment takes at most "
            f"{settings.max_import_rows:,} in one import (setting max_import_rows, "
            "CPTED_MAX_IMPORT_ROWS). Split the file, or ask the administrator to raise the limit")
    notes = list(raw.notes)
    frame = raw.frame
    schema = SCHEMAS[layer]
    if layer is Layer.CONCERNS and (
        raw.format is InputFormat.KC311
        or (raw.format is InputFormat.CSV and not column_map and looks_like_kc311(
            list(frame.columns)))
    ):
        if raw.format is not InputFormat.KC311:
            notes.append("recognised a Kansas City 311 export; read with the kc311 mapping")
        frame = kc311_to_concerns(frame)
    elif raw.format is InputFormat.KC311:
        raise UnusableInputError("the kc311 format holds concerns; import it with layer concerns")
    frame, conform_notes = conform(frame, schema, column_map=column_map, id_prefix=path.stem)
    notes += conform_notes
    area = project_area(store, settings)
    if area is None and schema.is_point:
        pts = frame.geometry
        ok = ~(pts.isna() | pts.is_empty)
        if ok.any():
            area = area_from_points(pts[ok].x.to_numpy(), pts[ok].y.to_numpy(),
                                    settings.outlier_distance_km)
    checked = validate(frame, schema, tz=tz, area=area, repair=repair,
                       read_rejections=raw.row_reasons)
    notes += checked.notes
    summary = ImportSummary(
        layer=layer.value, source=source, format=raw.format.value, read=len(frame),
        accepted=len(checked.accepted), rejected=checked.rejected_counts, notes=notes,
        rejections=checked.rejections,
    )
    if len(checked.accepted) == 0:
        first = "; ".join(r.detail for r in checked.rejections[:3])
        raise UnusableInputError(
            f"no row of {source} can be imported as {layer.value} "
            f"(read {summary.read}, all rejected: {first})",
            [f"{reason}: {n}" for reason, n in checked.rejected_counts.items()],
        )
    return PreparedImport(layer, summary, checked.accepted)
