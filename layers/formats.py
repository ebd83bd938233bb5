"""Named mappings from a city's own export schema to our layers.

Kansas City's 311 export (``--format kc311``) has upper-case, space-separated
columns (``CASE ID``, ``CREATION DATE``, ``CREATION TIME``, ``STATUS`` ...),
two-digit years (``1/7/20``) and 12-hour times (``12:59 PM``) in local time.
"""

from __future__ import annotations

import re

import geopandas as gpd
import pandas as pd

from layers.errors import LayerSchemaError
from layers.readers import fold

#: Columns whose presence identifies a Kansas City 311 export.
KC311_SIGNATURE = ("case_id", "creation_date", "creation_time", "status", "request_type")

#: KC 311 status -> (Open311 status, our detailed status).
KC311_STATUS = {
    "OPEN": ("open", "acknowledged"),
    "RESOL": ("closed", "fixed"),
    "CANC": ("closed", "not fixed - no further action"),
    "DUP": ("closed", "duplicate"),
    "REFER": ("closed", "referred"),
}


def looks_like_kc311(columns: list[str]) -> bool:
    folded = {fold(c) for c in columns}
    return all(c in folded for c in KC311_SIGNATURE)


def slug(text: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", text.lower()).strip("_")


def kc311_to_concerns(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Map a Kansas City 311 export to the concerns layer's fields.

    Times are local wall-clock times; the validator reads them in the
    project's time zone. Unknown status codes are left as they are, so the
    validator rejects those rows naming the value.
    """
    cols = {fold(c): c for c in frame.columns}
    missing = [c for c in KC311_SIGNATURE if c not in cols]
    if missing:
        raise LayerSchemaError(
            "this is not a Kansas City 311 export; missing columns: "
            + ", ".join(c.upper().replace("_", " ") for c in missing)
        )

    def col(name: str) -> pd.Series:
        return frame[cols[name]].astype("string").str.strip() if name in cols else pd.Series(
            pd.NA, index=frame.index, dtype="string")

    def when(date: pd.Series, time: pd.Series | None) -> pd.Series:
        text = date if time is None else date + " " + time.fillna("")
        fmt = "%m/%d/%y %I:%M %p" if time is not None else "%m/%d/%y"
        parsed = pd.to_datetime(text.str.strip(), format=fmt, errors="coerce")
        # Leave unparseable text for the validator to report with its value.
        return pd.Series(
            parsed.dt.strftime("%Y-%m-%dT%H:%M:%S").where(parsed.notna(), text).to_numpy(),
            index=frame.index, dtype=object,
        )

    status_raw = col("status").str.upper()
    mapped = status_raw.map(lambda s: KC311_STATUS.get(s, (s, None)) if isinstance(s, str)
                            else (None, None))
    kind = col("type").fillna(col("category"))
    out = gpd.GeoDataFrame(
        {
            "service_request_id": col("case_id").to_numpy(),
            "service_code": kind.map(lambda v: slug(v) if isinstance(v, str) else v).to_numpy(),
            "service_name": kind.to_numpy(),
            "description": col("request_type").to_numpy(),
            "address": col("street_address").to_numpy(),
            "requested_datetime": when(col("creation_date"), col("creation_time")).to_numpy(),
            "updated_datetime": when(col("closed_date"), None).to_numpy(),
            "status": [m[0] for m in mapped],
            "detailed_status": [m[1] for m in mapped],
            "time_of_day": "unknown",
            "source": ("kc311:" + col("source").str.lower().fillna("unknown")).to_numpy(),
        },
        geometry=frame.geometry.to_numpy(),
        crs=frame.crs,
        index=frame.index,
    )
    return out
