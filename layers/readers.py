"""Readers: any supported file to a WGS84 GeoDataFrame plus what was noticed.

Vector formats go through pyogrio; CSV goes through pandas (GDAL's CSV
driver reads every column as text anyway, and pandas handles encodings and
quoting more predictably). Rows whose coordinates are missing or out of
range are kept with no geometry and a reason, so the importer can report
them by row number.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import tempfile
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
from pyogrio.errors import DataLayerError, DataSourceError

from layers._i18n import N_, _, number
from layers.archive import safe_extract, unzip_limit
from layers.crs import WGS84
from layers.errors import CRSError, UnusableInputError, UploadTooLargeError
from layers.schema import parse_choice
from layers.settings import Settings


class InputFormat(StrEnum):
    CSV = "csv"
    GEOJSON = "geojson"
    GPKG = "gpkg"
    SHAPEFILE = "shapefile"
    PARQUET = "parquet"
    KC311 = "kc311"
    OPEN311 = "open311"


_SUFFIX_FORMATS = {
    ".csv": InputFormat.CSV, ".txt": InputFormat.CSV, ".tsv": InputFormat.CSV,
    ".geojson": InputFormat.GEOJSON, ".json": InputFormat.GEOJSON,
    ".gpkg": InputFormat.GPKG,
    ".zip": InputFormat.SHAPEFILE, ".shp": InputFormat.SHAPEFILE,
    ".parquet": InputFormat.PARQUET, ".geoparquet": InputFormat.PARQUET,
}

LON_NAMES = ("longitude", "lon", "long", "lng", "x_coord", "point_x")
LAT_NAMES = ("latitude", "lat", "y_coord", "point_y")


def fold(name: object) -> str:
    """A column name folded for matching: lower case, runs of non-alphanumerics as ``_``."""
    return re.sub(r"[^0-9a-z]+", "_", str(name).strip().lower()).strip("_")


@dataclass
class RawTable:
    """What a reader found.

    ``frame`` is in EPSG:4326; its index is the 0-based record number in the
    file (row ``i + 1`` for people). ``row_reasons`` maps such an index to
    ``(reason, detail)`` for rows that cannot be placed.
    """

    frame: gpd.GeoDataFrame
    format: InputFormat
    notes: list[str] = field(default_factory=list)
    row_reasons: dict[int, tuple[str, str]] = field(default_factory=dict)
    #: A CSV's coordinate columns (x or longitude first), as the rows were placed by them.
    coordinates: tuple[str, str] | None = None


def parse_format(name: str) -> InputFormat:
    return parse_choice(InputFormat, name, "format")


def guess_format(path: Path) -> InputFormat:
    fmt = _SUFFIX_FORMATS.get(path.suffix.lower())
    if fmt is InputFormat.GEOJSON and path.suffix.lower() == ".json":
        with open(path, "rb") as f:
            head = f.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
        if head.startswith(b"["):  # GeoJSON is an object; an Open311 requests.json an array
            return InputFormat.OPEN311
    if fmt is None:
        allowed = ", ".join(sorted(_SUFFIX_FORMATS))
        raise UnusableInputError(_(
            "cannot tell the format of {name!r} from its ending; expected one of "
            "{allowed}, or give the format explicitly").format(name=path.name, allowed=allowed))
    return fmt


def check_size(path: Path, settings: Settings) -> None:
    """Refuse a missing, empty or oversized file before reading any of it."""
    if not path.exists():
        raise UnusableInputError(_("no file at {path}").format(path=path))
    size = path.stat().st_size
    if size > settings.max_upload_bytes:
        raise UploadTooLargeError(_(
            "{name} is {size} MB; the upload limit is {limit:g} MB (setting max_upload_mb)"
        ).format(name=path.name, size=number(size / 2**20, digits=1),
                 limit=settings.max_upload_mb))
    if size == 0:
        raise UnusableInputError(_("{name} is empty (0 bytes)").format(name=path.name))


def read_table(
    path: Path | str,
    *,
    fmt: InputFormat | str | None = None,
    crs: str | None = None,
    lon_col: str | None = None,
    lat_col: str | None = None,
    x_col: str | None = None,
    y_col: str | None = None,
    encoding: str | None = None,
    settings: Settings | None = None,
) -> RawTable:
    """Read ``path`` into a :class:`RawTable` in EPSG:4326.

    Parameters
    ----------
    fmt
        An :class:`InputFormat`; guessed from the file ending when omitted.
    crs
        Source CRS (anything pyproj accepts, e.g. ``"EPSG:2817"`` for US State
        Plane feet) of a CSV's ``x_col``/``y_col``, or of a vector file that
        declares none.
    lon_col, lat_col, x_col, y_col
        CSV coordinate columns. Longitude/latitude are in degrees; x/y are in
        ``crs``. Common names are detected when none are given.
    encoding
        CSV text encoding, used as given. When omitted, a byte-order mark
        (UTF-8, UTF-16 LE/BE, UTF-32) decides, then UTF-16 without one is
        recognised, then UTF-8 is tried, then latin-1 (with a note).

    Raises
    ------
    UnusableInputError
        (or a subclass) when the file cannot be read as geodata at all.
    """
    settings = settings or Settings()
    path = Path(path)
    check_size(path, settings)
    fmt = parse_format(fmt) if isinstance(fmt, str) else (fmt or guess_format(path))
    if fmt is InputFormat.OPEN311:
        from layers.open311 import read_requests

        frame = read_requests(path)
        return RawTable(frame, fmt, row_reasons=_zero_points(frame, "lat/long"))
    if fmt in (InputFormat.CSV, InputFormat.KC311):
        table = _read_csv(path, encoding=encoding, crs=crs, lon_col=lon_col, lat_col=lat_col,
                          x_col=x_col, y_col=y_col)
        table.format = fmt
        return table
    if fmt is InputFormat.SHAPEFILE and path.suffix.lower() == ".zip":
        with tempfile.TemporaryDirectory(prefix="cpted-zip-") as tmp:
            limit = unzip_limit(path.stat().st_size, max_bytes=settings.max_unzip_bytes,
                                max_ratio=settings.max_unzip_ratio)
            files = safe_extract(path, Path(tmp), max_bytes=limit,
                                 max_entries=settings.max_zip_entries)
            candidates = [f for f in files if f.suffix.lower() in (".shp", ".gpkg", ".geojson")]
            if len(candidates) != 1:
                names = ", ".join(sorted(f.name for f in files)) or _("nothing")
                raise UnusableInputError(_(
                    "expected exactly one .shp (or .gpkg/.geojson) file in {name}, found "
                    "{n}; it holds: {names}").format(name=path.name, n=len(candidates),
                                                      names=names))
            return _read_vector(candidates[0], fmt, crs=crs, display=path.name,
                                encoding=encoding)
    return _read_vector(path, fmt, crs=crs, display=path.name, encoding=encoding)


def read_attributes(path: Path | str, *, fmt: InputFormat | str | None = None,
                    encoding: str | None = None,
                    settings: Settings | None = None) -> pd.DataFrame:
    """The file's attribute table as read, with no coordinates worked out: a CSV's cells
    as text (its coordinate columns included), a vector file's properties and geometry.
    For a first look at a file, e.g. to draft an import profile."""
    settings = settings or Settings()
    path = Path(path)
    check_size(path, settings)
    fmt = parse_format(fmt) if isinstance(fmt, str) else (fmt or guess_format(path))
    if fmt not in (InputFormat.CSV, InputFormat.KC311):
        return read_table(path, fmt=fmt, encoding=encoding, settings=settings).frame
    text, _note = _decode(path, encoding)
    if not text.strip():
        raise UnusableInputError(_("{name} is empty").format(name=path.name))
    header = text.lstrip().split("\n", 1)[0]
    df, _malformed = _parse_csv(path, text, max(",;\t|", key=header.count))
    return df


#: Reason given to a row placed at 0,0 in its file's own coordinates: whatever the
#: CRS, that is a placeholder for "no location", not a place.
ZERO_COORDINATES = N_("no location (0,0 in the file)")


def _zero_points(gdf: gpd.GeoDataFrame, what: str) -> dict[int, tuple[str, str]]:
    """Rows whose point lies at exactly 0,0 in the file's coordinates; their geometry is
    removed (in place)."""
    geoms = gdf.geometry
    pts = np.asarray(geoms.geom_type == "Point") & ~np.asarray(geoms.isna() | geoms.is_empty)
    if not pts.any():
        return {}
    x = np.full(len(gdf), np.nan)
    y = np.full(len(gdf), np.nan)
    x[pts], y[pts] = geoms[pts].x.to_numpy(), geoms[pts].y.to_numpy()
    zero = pts & (x == 0) & (y == 0)
    if zero.any():
        gdf.loc[zero, gdf.geometry.name] = None
    return {int(i): (ZERO_COORDINATES, _("row {row}: {what} are 0,0 in the file, which "
                                         "stands for no location").format(row=i + 1, what=what))
            for i in np.flatnonzero(zero)}


def _read_vector(path: Path, fmt: InputFormat, *, crs: str | None, display: str,
                 encoding: str | None = None) -> RawTable:
    notes: list[str] = []
    options: dict[str, str] = {}
    if encoding and fmt is InputFormat.SHAPEFILE:
        try:  # GDAL knows Python's canonical names (iso8859-1), not every alias (latin-1)
            options["encoding"] = codecs.lookup(encoding).name
        except LookupError:
            raise UnusableInputError(_(
                "the encoding {encoding!r} given for {name} is not one Python knows; "
                "expected a name such as utf-8, latin-1 or cp1252").format(
                    encoding=encoding, name=display)) from None
    try:
        gdf = (gpd.read_parquet(path) if fmt is InputFormat.PARQUET
               else pyogrio.read_dataframe(path, **options))
    except UnicodeDecodeError as exc:
        said = (_("{name} could not be decoded as {encoding} (the encoding given): {reason} "
                  "at byte {byte}. Give the file's real encoding, e.g. --encoding cp1252")
                if encoding else
                _("{name} could not be decoded in the encoding it declares (its .cpg file, "
                  "else the .dbf's code page): {reason} at byte {byte}. Give the file's real "
                  "encoding, e.g. --encoding cp1252"))
        raise UnusableInputError(said.format(name=display, encoding=encoding,
                                             reason=exc.reason,
                                             byte=number(exc.start))) from None
    except (DataSourceError, DataLayerError, ValueError, OSError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UnusableInputError(
            _("{name} could not be read as {format} geodata: {reason}").format(
                name=display, format=fmt.value, reason=reason)
        ) from None
    except Exception as exc:  # pyarrow raises its own types for non-parquet files
        raise UnusableInputError(
            _("{name} could not be read as {format} geodata: {reason}").format(
                name=display, format=fmt.value, reason=exc)
        ) from None
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.name not in gdf.columns:
        raise UnusableInputError(_("{name} holds a table but no geometry column").format(
            name=display))
    if len(gdf) == 0:
        raise UnusableInputError(_("{name} holds no features").format(name=display))
    gdf = gdf.reset_index(drop=True)
    if gdf.crs is None:
        if crs is not None:
            gdf = gdf.set_crs(pyproj.CRS.from_user_input(crs))
        else:
            minx, miny, maxx, maxy = gdf.total_bounds
            if minx >= -180 and maxx <= 180 and miny >= -90 and maxy <= 90:
                gdf = gdf.set_crs(WGS84)
                notes.append(_("{name} declares no CRS; its coordinates are in degrees, "
                               "so they were read as WGS84 longitude/latitude").format(
                                   name=display))
            else:
                raise CRSError(_(
                    "{name} declares no CRS and its coordinates (x {low:.0f} to {high:.0f}) "
                    "are not degrees; give its CRS, for example --crs EPSG:2817").format(
                        name=display, low=minx, high=maxx))
    elif crs is not None and pyproj.CRS.from_user_input(crs) != gdf.crs:
        notes.append(_("{name} declares {declared}; the given CRS {crs} was not used").format(
            name=display, declared=gdf.crs.to_string(), crs=crs))
    zero = _zero_points(gdf, _("its coordinates"))
    if not gdf.crs.equals(WGS84):
        notes.append(_("reprojected from {crs} to EPSG:4326").format(crs=gdf.crs.to_string()))
        gdf = gdf.to_crs(WGS84)
    return RawTable(gdf, fmt, notes, zero)


#: Byte-order marks, longest first (a UTF-32 LE mark begins like a UTF-16 LE one).
_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"),
)


def _bom_encoding(raw: bytes) -> str | None:
    for bom, name in _BOMS:
        if raw.startswith(bom):
            return name
    return None


def _utf16_without_bom(head: bytes) -> str | None:
    """``utf-16-le``/``-be`` when ``head`` looks like UTF-16 text with no byte-order mark:
    mostly ASCII, so every other byte is zero."""
    even, odd = head[0::2], head[1::2]
    if len(odd) < 2:
        return None
    if odd.count(0) > 0.9 * len(odd) and even.count(0) < 0.1 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.9 * len(even) and odd.count(0) < 0.1 * len(odd):
        return "utf-16-be"
    return None


def _decode(path: Path, encoding: str | None) -> tuple[str, str | None]:
    """The file's text, and a note when the encoding was guessed rather than UTF-8.

    An encoding given by the user is used as given (a byte-order mark of it is
    dropped). Otherwise a byte-order mark decides (UTF-8, UTF-16 LE/BE,
    UTF-32); then UTF-16 without one is recognised; then UTF-8, else latin-1.
    Only text that none of these fit, or that still holds NUL characters once
    decoded, is refused as binary.
    """
    raw = path.read_bytes()
    if encoding:
        try:
            text = raw.decode(encoding)
        except LookupError:
            raise UnusableInputError(_(
                "the encoding {encoding!r} given for {name} is not one Python knows; "
                "expected a name such as utf-8, utf-16, latin-1 or cp1252").format(
                    encoding=encoding, name=path.name)) from None
        except UnicodeDecodeError as exc:
            raise UnusableInputError(_(
                "{name} could not be decoded as {encoding} (the encoding given): {reason} at "
                "byte {byte}. Give the file's real encoding, or leave it out to have it "
                "detected").format(name=path.name, encoding=encoding, reason=exc.reason,
                                   byte=number(exc.start))) from None
        _refuse_binary(path, text, _("decoded as {encoding} (the encoding given)").format(
            encoding=encoding))
        return text.removeprefix("\ufeff"), None
    guessed = _bom_encoding(raw) or _utf16_without_bom(raw[:4096])
    if guessed:
        try:
            text = raw.decode(guessed)
        except UnicodeDecodeError as exc:
            raise UnusableInputError(_(
                "{name} starts like {encoding} text but is not valid {encoding}: {reason} at "
                "byte {byte}").format(name=path.name, encoding=guessed, reason=exc.reason,
                                      byte=number(exc.start))) from None
        _refuse_binary(path, text, _("read as {encoding}").format(encoding=guessed))
        return text.removeprefix("\ufeff"), None
    if b"\x00" in raw[:4096]:
        raise UnusableInputError(_(
            "{name} is a binary file, not CSV text (it holds NUL bytes and no byte-order "
            "mark; if it is text, give its encoding, e.g. --encoding utf-16)").format(
                name=path.name))
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError:
        return raw.decode("latin-1"), _("{name} is not UTF-8; it was read as latin-1").format(
            name=path.name)


def fallback_encoding(path: Path) -> str | None:
    """``"latin-1"`` when a CSV would be read as latin-1 for want of anything else (no
    byte-order mark, not UTF-16, not UTF-8), else None."""
    _text, note = _decode(path, None)
    return "latin-1" if note else None


def _refuse_binary(path: Path, text: str, how: str) -> None:
    if "\x00" in text[:4096]:
        raise UnusableInputError(_(
            "{name} {how} still holds NUL characters; expected CSV text, this looks like a "
            "binary file or the wrong encoding").format(name=path.name, how=how))


#: Reason given to a CSV record that does not split into the header's columns.
MALFORMED_ROW = N_("malformed row")

_BAD_ROW_MARK = "\ufffecpted-malformed-row:"


def _column_names(header: list[object]) -> list[str]:
    """Header cells as column names the way pandas makes them: blanks become
    ``Unnamed: i`` and repeats get ``.1``, ``.2``..."""
    names: list[str] = []
    seen: dict[str, int] = {}
    for i, cell in enumerate(header):
        name = "" if cell is None or (isinstance(cell, float) and np.isnan(cell)) else str(cell)
        name = name.strip() or f"Unnamed: {i}"
        base, k = name, seen.get(name, 0)
        while name in seen:
            k += 1
            name = f"{base}.{k}"
        seen[base] = k
        seen[name] = 0
        names.append(name)
    return names


def _parse_csv(path: Path, text: str, sep: str) -> tuple[pd.DataFrame,
                                                        dict[int, tuple[str, str]]]:
    """The CSV's records as text columns named by its header, and the records that
    hold more fields than the header (``{index: (reason, detail)}``, kept as empty rows
    so the row numbers of the others do not move).

    The header is read as a record like the others, so pandas never takes a first
    column as the index because the first record is one field too long.
    """
    options: dict[str, Any] = {"dtype": str, "keep_default_na": False, "sep": sep,
                               "header": None, "index_col": False}
    bad: list[list[str]] = []
    try:
        try:
            df = pd.read_csv(io.StringIO(text), **options)
        except pd.errors.ParserError:
            width = len(pd.read_csv(io.StringIO(text), nrows=1, **options).columns)

            def keep_bad(fields: list[str]) -> list[str]:
                bad.append(fields)
                return [f"{_BAD_ROW_MARK}{len(bad) - 1}", *[""] * (width - 1)]

            df = pd.read_csv(io.StringIO(text), engine="python", on_bad_lines=keep_bad,
                             **options)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error) as exc:
        raise UnusableInputError(_("{name} is not a readable CSV table: {reason}").format(
            name=path.name, reason=exc)) from None
    columns = _column_names(list(df.iloc[0])) if len(df) else []
    df = df.iloc[1:].reset_index(drop=True)
    df.columns = columns
    reasons: dict[int, tuple[str, str]] = {}
    if bad:
        first = df[columns[0]].astype("string")
        marked = first.str.startswith(_BAD_ROW_MARK).fillna(False).to_numpy(bool)
        for i in np.flatnonzero(marked):
            fields = bad[int(str(first.iat[i]).removeprefix(_BAD_ROW_MARK))]
            shown = sep.join(fields)
            shown = shown if len(shown) <= 120 else shown[:117] + "..."
            reasons[int(i)] = (MALFORMED_ROW, _(
                "row {row}: expected {n} fields ({columns}), found {found}; a value holding "
                "the separator {sep!r} or quotes must be in double quotes, with its quotes "
                "doubled. The row reads: {shown}").format(
                    row=i + 1, n=len(columns), columns=", ".join(columns), found=len(fields),
                    sep=sep, shown=shown))
            df.iloc[i] = ""
    return df, reasons


def _pick(columns: dict[str, str], names: tuple[str, ...]) -> str | None:
    for n in names:
        if n in columns:
            return columns[n]
    return None


def _read_csv(path: Path, *, encoding: str | None, crs: str | None, lon_col: str | None,
              lat_col: str | None, x_col: str | None, y_col: str | None) -> RawTable:
    text, guess_note = _decode(path, encoding)
    notes = [guess_note] if guess_note else []
    if not text.strip():
        raise UnusableInputError(_("{name} is empty").format(name=path.name))
    header = text.lstrip().split("\n", 1)[0]
    sep = max(",;\t|", key=header.count)
    df, malformed = _parse_csv(path, text, sep)
    return place_csv_rows(path, df, malformed, notes, crs=crs, lon_col=lon_col,
                          lat_col=lat_col, x_col=x_col, y_col=y_col)


def place_csv_rows(path: Path, df: pd.DataFrame, malformed: dict[int, tuple[str, str]],
                   notes: list[str], *, crs: str | None, lon_col: str | None,
                   lat_col: str | None, x_col: str | None, y_col: str | None,
                   whole: bool = True) -> RawTable:
    """A CSV's records (text columns, as :func:`_parse_csv` gives them) placed by their
    coordinate columns, as :func:`read_table` reads a CSV. ``whole=False`` for a later
    part of a file read in parts (:mod:`layers.chunked`): a part whose rows all lack
    coordinates is not refused, and the columns are not checked for swapped or projected
    values (the first part decided that), so such rows are rejected one by one."""
    if df.empty:
        raise UnusableInputError(_("{name} has a header but no rows").format(name=path.name))
    folded = {fold(c): c for c in df.columns}

    def need(col: str | None) -> str | None:
        if col is not None and col not in df.columns:
            raise UnusableInputError(_(
                "column {column!r} is not in {name}; its columns are: {columns}").format(
                    column=col, name=path.name, columns=", ".join(df.columns)))
        return col

    need(lon_col), need(lat_col), need(x_col), need(y_col)
    src = pyproj.CRS.from_user_input(crs) if crs else None
    if (x_col or y_col) and not (x_col and y_col):
        raise UnusableInputError(_("give both --x-col and --y-col"))
    if (lon_col or lat_col) and not (lon_col and lat_col):
        raise UnusableInputError(_("give both --lon-col and --lat-col"))
    xcol: str | None
    ycol: str | None
    if x_col and y_col:
        if src is None:
            raise CRSError(_("--x-col/--y-col need the coordinates' CRS, e.g. --crs EPSG:2817"))
        xcol, ycol, projected = x_col, y_col, True
    else:
        xcol = lon_col or _pick(folded, LON_NAMES)
        ycol = lat_col or _pick(folded, LAT_NAMES)
        projected = False
        if xcol is None or ycol is None:
            px, py = _pick(folded, ("x",)), _pick(folded, ("y",))
            if px and py:
                xcol, ycol, projected = px, py, src is not None and not src.is_geographic
        if xcol is None or ycol is None:
            raise UnusableInputError(_(
                "{name} has no coordinate columns: expected a longitude column (one of "
                "{lon}) and a latitude column (one of {lat}), or x and y with --crs; give "
                "them with --lon-col/--lat-col or --x-col/--y-col. Its columns are: {columns}"
            ).format(name=path.name, lon=", ".join(LON_NAMES), lat=", ".join(LAT_NAMES),
                     columns=", ".join(df.columns)))
        if src is not None and not src.is_geographic:
            projected = True
    x = pd.to_numeric(df[xcol].str.strip(), errors="coerce").to_numpy(dtype=float)
    y = pd.to_numeric(df[ycol].str.strip(), errors="coerce").to_numpy(dtype=float)
    reasons: dict[int, tuple[str, str]] = dict(malformed)
    missing = ~(np.isfinite(x) & np.isfinite(y))
    for i in np.flatnonzero(missing):
        if int(i) in reasons:
            continue
        reasons[int(i)] = (N_("no coordinates"), _("row {row}: {x}={xv!r}, {y}={yv!r}").format(
            row=i + 1, x=xcol, xv=df[xcol].iat[i], y=ycol, yv=df[ycol].iat[i]))
    # 0,0 is no place in any CRS: a placeholder, told apart before any transformation
    zero = ~missing & (x == 0) & (y == 0)
    for i in np.flatnonzero(zero):
        reasons.setdefault(int(i), (ZERO_COORDINATES, _(
            "row {row}: {x}={xv}, {y}={yv}: 0,0 in the file stands for no location").format(
                row=i + 1, x=xcol, xv=df[xcol].iat[i].strip(), y=ycol,
                yv=df[ycol].iat[i].strip())))
    have = ~missing & ~zero
    if whole and not have.any() and not zero.any():
        raise UnusableInputError(_(
            "{name}: no row has numeric coordinates in columns {x!r} and {y!r}").format(
                name=path.name, x=xcol, y=ycol))
    if projected:
        assert src is not None
        tr = pyproj.Transformer.from_crs(src, WGS84, always_xy=True)
        lon, lat = tr.transform(x, y)
        lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
        notes.append(_("coordinates {x}/{y} transformed from {crs} to EPSG:4326").format(
            x=xcol, y=ycol, crs=src.to_string()))
    else:
        lon, lat = x.copy(), y.copy()
        bad_lat = have & (np.abs(lat) > 90)
        bad_lon = have & (np.abs(lon) > 180)
        if whole and (bad_lat | bad_lon).sum() > 0.5 * have.sum():
            swapped_ok = have & (np.abs(lon) <= 90) & (np.abs(lat) <= 180)
            if bad_lat.sum() > 0.5 * have.sum() and swapped_ok.sum() > 0.9 * have.sum():
                lon, lat = lat, lon
                notes.append(_("latitude and longitude were swapped in {name} ({y!r} holds "
                               "longitudes); they were exchanged").format(name=path.name,
                                                                          y=ycol))
            else:
                top = np.nanmax(np.abs(np.concatenate([x[have], y[have]])))
                raise CRSError(_(
                    "columns {x!r}/{y!r} should hold longitude/latitude in degrees, but values "
                    "reach {top}: these look like projected coordinates. Give their CRS and "
                    "columns, e.g. --crs EPSG:2817 --x-col X --y-col Y").format(
                        x=xcol, y=ycol, top=number(top, digits=0)))
        bad_lat = have & (np.abs(lat) > 90)
        bad_lon = have & (np.abs(lon) > 180)
        for i in np.flatnonzero((bad_lat | bad_lon) & ~missing):
            reasons[int(i)] = (N_("coordinates out of range"), _(
                "row {row}: longitude {lon:g}, latitude {lat:g} are not valid degrees").format(
                    row=i + 1, lon=lon[i], lat=lat[i]))
    ok = np.isfinite(lon) & np.isfinite(lat)
    for row in reasons:
        ok[row] = False
    geom = gpd.GeoSeries.from_xy(np.where(ok, lon, np.nan), np.where(ok, lat, np.nan), crs=WGS84)
    geom[~ok] = None
    attrs = df.drop(columns=[c for c in (xcol, ycol) if c in df.columns])
    frame = gpd.GeoDataFrame(attrs, geometry=geom.values, crs=WGS84)
    return RawTable(frame, InputFormat.CSV, notes, reasons, (xcol, ycol))

