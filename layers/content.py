"""Content checks: do a column's values fit a field of a layer?

:func:`check_values` reads a column's distinct values (the most frequent
:data:`CHECK_DISTINCT`, weighted by their counts) and says what share does not fit the
field: not dates for a date, not numbers (or numbers outside the field's range) for a
number, not one of the field's values for a categorical field, codes or bare numbers
for a name. The mapping plan (:mod:`layers.mapping`) refuses a guessed column on that
share; the profile drafter (:mod:`layers.suggest`) chooses columns by it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from layers.dates import parse_with_formats
from layers.profiles import UNITS, ValueMap
from layers.schema import FieldSpec, FieldType, Layer
from layers.validate import is_null, parse_datetimes

#: A column taken by name or alias is refused when more than this share of its
#: non-empty values do not fit the field (fewer are rejected row by row instead).
MISFIT_LIMIT = 0.5
#: Distinct values listed per categorical field; counts cover every row regardless.
MAX_VALUES = 200
#: Distinct values read by a content check (the most frequent; weighted by their counts).
CHECK_DISTINCT = 2000

#: Fields that hold names shown to people, where codes and bare numbers do not fit.
NAME_FIELDS = frozenset({(Layer.NEIGHBORHOODS, "name"), (Layer.CONCERNS, "service_name"),
                         (Layer.STREETS, "name"), (Layer.INCIDENTS, "category")})
#: Fields without a fixed list whose values a plan lists anyway, being categories.
CODE_FIELDS = frozenset({(Layer.CONCERNS, "service_code"), (Layer.CONCERNS, "service_name"),
                         (Layer.INCIDENTS, "category")})

#: The spellings of each unit accepted after a number ("30 ft", "9 m").
UNIT_WORDS = {"m": ("m", "meter", "meters", "metre", "metres"), "cm": ("cm",),
              "ft": ("ft", "feet", "foot", "'"), "in": ("in", "inch", "inches", '"')}


@dataclass(frozen=True)
class ValueCount:
    """One distinct source value of a categorical field: how many rows hold it, what it
    becomes (``None`` = empty) and whether that is allowed."""

    value: str
    count: int
    mapped: str | None
    fits: bool


_CODE_CHARS = re.compile(r"^[A-Za-z0-9.\-_/#`?]{1,10}$")
_LETTER_RUN = re.compile(r"[A-Za-z]{3,}")


def looks_like_code(value: str) -> bool:
    """A bare number, or a short code with digits: ``0486``, ``08B``, ``A31``, ``12-M2``."""
    v = value.strip()
    if re.fullmatch(r"-?\d+(\.\d+)?", v):
        return True
    return bool(_CODE_CHARS.match(v) and re.search(r"\d", v) and not _LETTER_RUN.search(v))


def strip_unit(text: pd.Series, unit: str) -> pd.Series:
    """Numbers written with ``unit`` ("30 ft") as plain number text ("30")."""
    words = "|".join(re.escape(w) for w in sorted(UNIT_WORDS[unit], key=len, reverse=True))
    return text.str.replace(rf"(?i)\s*(?:{words})\.?$", "", regex=True)


def to_metres(values: pd.Series, unit: str) -> pd.Series:
    """Lengths in ``unit`` (numbers, or text such as "30 ft") in metres; text that is not
    a number is kept as it is, for the validator to reject by row."""
    text = strip_unit(values.astype("string").str.strip(), unit)
    num = (pd.to_numeric(text, errors="coerce") * UNITS[unit]).round(3)  # to the millimetre
    return num.astype(object).where(num.notna() | values.isna(), values)


def distinct_values(values: pd.Series) -> pd.Series:
    """Counts of each non-empty value as trimmed text, most frequent first."""
    null = is_null(values)
    text = values[~null].astype("string").str.strip()
    return text.value_counts(sort=True)


@dataclass(frozen=True)
class Check:
    """What :func:`check_values` found."""

    filled: int
    samples: tuple[str, ...]
    misfit: float
    problems: tuple[str, ...]
    values: tuple[ValueCount, ...] = ()
    more_values: int = 0


def _examples(counts: pd.Series, bad: np.ndarray, k: int = 3) -> str:
    items = counts[bad].head(k)
    return ", ".join(f"{v!r} ({n:,} row{'' if n == 1 else 's'})" for v, n in items.items())


def check_values(values: pd.Series, spec: FieldSpec, layer: Layer, *,
                 value_map: ValueMap | None = None, formats: Sequence[str] = (),
                 unit: str | None = None) -> Check:
    """Do ``values`` (one column, as read) fit field ``spec`` of ``layer``?

    The share of non-empty values that do not fit is ``misfit``; ``problems`` say
    what does not fit with examples. Categorical fields list every distinct value
    (up to :data:`MAX_VALUES`) with its count and the value it maps to.
    """
    counts = distinct_values(values)
    filled = int(counts.sum())
    samples = tuple(str(v) for v in counts.index[:5])
    if filled == 0:
        return Check(0, (), 0.0, ())
    top = counts.head(CHECK_DISTINCT)
    weight = float(top.sum())
    text = pd.Series(top.index.astype(str), dtype=object)
    problems: list[str] = []
    listed: tuple[ValueCount, ...] = ()
    more = 0
    bad = np.zeros(len(top), dtype=bool)
    if spec.type is FieldType.DATETIME:
        if pd.api.types.is_datetime64_any_dtype(values.dtype):
            return Check(filled, samples, 0.0, ())
        if formats:
            _, bad = parse_with_formats(text, formats)
            what = f"do not fit the date format(s) {', '.join(formats)}"
        else:
            parsed = parse_datetimes(text, "UTC")
            bad = parsed.isna().to_numpy(bool) | text.str.fullmatch(r"\d{1,6}").to_numpy(bool)
            what = "are not dates and times"
        if bad.any():
            problems.append(f"{_share(top, bad, weight)} of its values {what} "
                            f"(e.g. {_examples(top, bad)})")
    elif spec.type in (FieldType.REAL, FieldType.INTEGER):
        mapped = text if value_map is None else text.map(lambda v: value_map.target(v))
        clean = mapped.astype("string")
        if unit is not None:
            clean = strip_unit(clean, unit)
        num = pd.to_numeric(clean, errors="coerce") * (UNITS[unit] if unit else 1.0)
        empty = mapped.isna().to_numpy(bool)
        bad = num.isna().to_numpy(bool) & ~empty
        if bad.any():
            hint = (" (numbers with a unit: say which under [units])"
                    if unit is None and text[bad].str.match(r"^\s*\d").any() else "")
            problems.append(f"{_share(top, bad, weight)} of its values are not numbers "
                            f"(e.g. {_examples(top, bad)}){hint}")
        rng = np.zeros(len(top), dtype=bool)
        if spec.minimum is not None:
            rng |= (num < spec.minimum).fillna(False).to_numpy(bool)
        if spec.maximum is not None:
            rng |= (num > spec.maximum).fillna(False).to_numpy(bool)
        if rng.any():
            lo = "any" if spec.minimum is None else f"{spec.minimum:g}"
            hi = "any" if spec.maximum is None else f"{spec.maximum:g}"
            problems.append(f"{_share(top, rng, weight)} of its values are outside "
                            f"{lo} to {hi} (e.g. {_examples(top, rng)})")
        bad = bad | rng
    elif spec.choices or value_map is not None or (layer, spec.name) in CODE_FIELDS:
        targets = [v if value_map is None else value_map.target(v) for v in text]
        ours = [None if t is None else (t.strip().lower() if spec.choices else t)
                for t in targets]
        fits = np.array([t is None or not spec.choices or t in spec.choices for t in ours])
        bad = ~fits
        if bad.any():
            problems.append(f"{_share(top, bad, weight)} of its values are not one of "
                            f"{', '.join(spec.choices or ())} (e.g. {_examples(top, bad)})")
        listed = tuple(ValueCount(str(v), int(n), o, bool(f)) for v, n, o, f in zip(
            top.index[:MAX_VALUES], top.to_numpy()[:MAX_VALUES], ours[:MAX_VALUES],
            fits[:MAX_VALUES], strict=True))
        more = max(0, len(counts) - len(listed))
    if (layer, spec.name) in NAME_FIELDS and not bad.any():
        code = text.map(looks_like_code).to_numpy(bool)
        if code.sum() and float(top[code].sum()) / weight > MISFIT_LIMIT:
            problems.append(f"{_share(top, code, weight)} of its values look like codes or "
                            f"numbers, not names (e.g. {_examples(top, code)})")
            bad = code
    misfit = float(top[bad].sum()) / weight if bad.any() else 0.0
    return Check(filled, samples, misfit, tuple(problems), listed, more)


def _share(counts: pd.Series, mask: np.ndarray, weight: float) -> str:
    return f"{float(counts[mask].sum()) / weight:.0%}"
