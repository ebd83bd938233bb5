"""Dates in imported files: parsing with a profile's formats, and dates far from the rest.

A profile's ``[date_formats]`` are strftime formats tried in order; a value that fits
none of them is rejected rather than guessed at. :func:`outlying_dates` finds rows
whose dates lie far outside the period the file covers (placeholders such as
1900-01-01, typing slips such as 2102), which are imported but named in a note.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from layers._i18n import _, number, percent


def parse_with_formats(text: pd.Series, formats: Sequence[str]) -> tuple[pd.Series, np.ndarray]:
    """Values of ``text`` read with the first of ``formats`` that fits.

    Returns
    -------
    (pandas.Series, numpy.ndarray)
        ISO 8601 text aligned on ``text`` (wall-clock time, without a zone, unless the
        format reads one, then UTC with ``+00:00``), ``None`` where the cell is empty
        or fits no format; and a boolean mask of the non-empty cells that fit none.
    """
    raw = text.astype("string").str.strip()
    out = pd.Series([None] * len(raw), index=raw.index, dtype=object)
    todo = raw.notna().to_numpy(bool) & (raw != "").fillna(False).to_numpy(bool)
    for fmt in formats:
        if not todo.any():
            break
        parsed = pd.to_datetime(raw[todo], format=fmt, errors="coerce")
        ok = parsed.notna().to_numpy(bool)
        if not ok.any():
            continue
        got = parsed[ok]
        if isinstance(got.dtype, pd.DatetimeTZDtype):
            iso = got.dt.tz_convert("UTC").dt.strftime("%Y-%m-%dT%H:%M:%S") + "+00:00"
        else:
            iso = got.dt.strftime("%Y-%m-%dT%H:%M:%S")
        where = np.flatnonzero(todo)[ok]
        out.iloc[where] = iso.to_numpy(dtype=object)
        todo[where] = False
    return out, todo


#: Smallest margin around a file's period before a date counts as far outside it.
MIN_MARGIN = pd.Timedelta(days=365)


def file_period(values: pd.Series) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """The period a file covers: from the 5th to the 95th percentile of its main dates
    (UTC), or None with fewer than two."""
    s = pd.to_datetime(values, utc=True).dropna()
    if len(s) < 2:
        return None
    return s.quantile(0.05), s.quantile(0.95)


def outlying_dates(values: pd.Series, field: str, period: tuple[pd.Timestamp, pd.Timestamp],
                   *, main: bool, now: pd.Timestamp | None = None,
                   shown: int = 10) -> str | None:
    """A note naming the rows whose ``field`` lies far outside the file's ``period``, or
    None.

    "Far" is more than the period's length, and at least a year, before its start, or
    (for the ``main`` date, the one the period comes from) after its end; a later date
    such as a closing date may follow by any time, but not lie in the future (after
    ``now`` plus a day). ``values`` are UTC timestamps indexed by 0-based record number
    (row ``i + 1`` for people).
    """
    s = pd.to_datetime(values, utc=True).dropna()
    if s.empty:
        return None
    now = now if now is not None else pd.Timestamp.now(tz="UTC")
    lo, hi = period
    margin = max(hi - lo, MIN_MARGIN)
    far = (s < lo - margin) | (s > now + pd.Timedelta(days=1))
    if main:
        far |= s > hi + margin
    if not far.any():
        return None
    rows = s[far].sort_index()
    listed = ", ".join(f"{int(i) + 1} ({t:%Y-%m-%d})" for i, t in rows.head(shown).items())
    if len(rows) > shown:
        listed = _("{rows} and {n} more").format(rows=listed, n=number(len(rows) - shown))
    return _("{n} row(s) have {field} far outside the file's period ({start} to {end} for "
             "{share} of its rows) or in the future: rows {rows}; they are not rejected, but "
             "check whether they are placeholders or slips").format(share=percent(0.9),
                 n=number(len(rows)), field=field, start=f"{lo:%Y-%m-%d}",
                 end=f"{hi:%Y-%m-%d}", rows=listed)
