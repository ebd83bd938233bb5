"""Records as people read them in a table: plain column labels, names before ids, local times.

Pages show these frames as they are; the ids stay in the last column so that a row
can still be looked up (and opened) by them.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

#: The concern table's columns, in order: what the column holds -> its label.
CONCERN_COLUMNS = {
    "category": "Category",
    "status": "Status",
    "detailed_status": "Progress",
    "requested_datetime": "Reported",
    "updated_datetime": "Last update",
    "time_of_day": "Time of day",
    "address": "Address",
    "description": "Description",
    "location_precision": "Location shown",
    "service_request_id": "Concern id",
}
#: The label of the id column, the one a page reads to open a concern.
CONCERN_ID = CONCERN_COLUMNS["service_request_id"]
TIME_FORMAT = "%Y-%m-%d %H:%M"


def concern_rows(concerns: pd.DataFrame, *, tz: str,
                 category_names: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Concerns as a table for people: labelled columns, category names, local times.

    Parameters
    ----------
    concerns : pandas.DataFrame
        Rows of the concerns layer (a GeoDataFrame is fine; the geometry is left out),
        with time-zone-aware ``requested_datetime`` and ``updated_datetime``.
    tz : str
        The IANA time zone the times are written in (``"America/Chicago"``).
    category_names : mapping of str to str, optional
        Name per ``service_code``; else the row's own ``service_name``, else its code.

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`CONCERN_COLUMNS` present in ``concerns``, under their
        labels and in that order (the category name first, the id last), on a fresh
        ``RangeIndex``; times written ``YYYY-MM-DD HH:MM`` in ``tz``, blank if missing.
    """
    names = dict(category_names or {})
    out = pd.DataFrame(index=range(len(concerns)))
    codes = concerns["service_code"].astype(object).to_numpy() \
        if "service_code" in concerns.columns else [None] * len(concerns)
    own = concerns["service_name"].astype(object).to_numpy() \
        if "service_name" in concerns.columns else [None] * len(concerns)
    for column, label in CONCERN_COLUMNS.items():
        if column == "category":
            out[label] = [names.get(str(c)) or (n if isinstance(n, str) and n else None)
                          or (str(c) if c is not None else "")
                          for c, n in zip(codes, own, strict=True)]
            continue
        if column not in concerns.columns:
            continue
        values = concerns[column]
        if isinstance(values.dtype, pd.DatetimeTZDtype):
            local = values.dt.tz_convert(tz).dt.strftime(TIME_FORMAT)
            out[label] = local.where(values.notna(), "").to_numpy()
        else:
            out[label] = values.to_numpy()
    return out
