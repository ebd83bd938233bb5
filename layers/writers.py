"""Writers: a stored layer to GeoJSON, GeoPackage, CSV or GeoParquet."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from layers.csvsafe import write_csv
from layers.schema import parse_choice


class OutputFormat(StrEnum):
    GEOJSON = "geojson"
    GPKG = "gpkg"
    CSV = "csv"
    PARQUET = "parquet"


MEDIA_TYPES = {
    OutputFormat.GEOJSON: "application/geo+json",
    OutputFormat.GPKG: "application/geopackage+sqlite3",
    OutputFormat.CSV: "text/csv",
    OutputFormat.PARQUET: "application/vnd.apache.parquet",
}


def parse_output_format(name: str) -> OutputFormat:
    return parse_choice(OutputFormat, name, "output format")


def _datetimes_as_text(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    out = gdf.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.DatetimeTZDtype):
            text = out[col].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
            out[col] = text.where(out[col].notna(), None).astype(object)
    return out


def to_csv_frame(gdf: gpd.GeoDataFrame) -> pd.DataFrame:
    """Points as ``longitude``/``latitude`` columns; other geometries as WKT."""
    out = pd.DataFrame(_datetimes_as_text(gdf).drop(columns=gdf.geometry.name))
    geom = gdf.geometry
    if len(gdf) and (geom.geom_type == "Point").all():
        out["longitude"] = geom.x.round(7)
        out["latitude"] = geom.y.round(7)
    else:
        out["geometry_wkt"] = geom.to_wkt(rounding_precision=7)
    return out


def write_layer(gdf: gpd.GeoDataFrame, path: Path | str, fmt: OutputFormat | str,
                *, layer_name: str = "layer") -> Path:
    """Write ``gdf`` (EPSG:4326) to ``path`` in ``fmt``; an existing file is replaced."""
    fmt = parse_output_format(fmt) if isinstance(fmt, str) else fmt
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    if fmt is OutputFormat.CSV:
        write_csv(to_csv_frame(gdf), path)
    elif fmt is OutputFormat.PARQUET:
        gdf.to_parquet(path, index=False)
    elif fmt is OutputFormat.GEOJSON:
        pyogrio.write_dataframe(_datetimes_as_text(gdf), path, driver="GeoJSON",
                                layer_options={"COORDINATE_PRECISION": 7, "RFC7946": "YES"})
    else:
        pyogrio.write_dataframe(gdf, path, layer=layer_name, driver="GPKG")
    return path
