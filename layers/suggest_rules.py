"""The rules a profile draft (:mod:`layers.suggest`) guesses by: words in column names
that point at a field, words in values that name our categories, the date formats it
tries, and how it tells dates, times of day and categorical columns by their content.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from layers._i18n import _
from layers.content import distinct_values
from layers.dates import parse_with_formats
from layers.readers import fold
from layers.schema import FieldSpec, Layer
from layers.validate import parse_datetimes

#: Words in a column's name that point at a field (compared with the name's words).
NAME_HINTS: dict[str, tuple[str, ...]] = {
    "id": ("id", "number", "num", "no", "key", "case", "sr"),
    "service_request_id": ("id", "number", "num", "no", "case", "sr", "request"),
    "name": ("name", "names", "nbh", "hood", "neighborhood", "community", "label", "area"),
    "service_code": ("code", "short", "type", "category"),
    "service_name": ("type", "category", "request", "service", "problem", "kind"),
    "category": ("crime", "offense", "offence", "primary", "type", "category", "ucr"),
    "description": ("description", "descr", "detail", "details", "comment", "notes"),
    "address": ("address", "addr", "street", "location", "block"),
    "requested_datetime": ("created", "creation", "create", "opened", "requested",
                           "reported", "received", "date"),
    "updated_datetime": ("updated", "modified", "closed", "close", "completion",
                         "completed", "resolved"),
    "occurred_datetime": ("occurred", "occur", "date", "incident", "reported"),
    "status": ("status", "state", "condition"),
    "detailed_status": ("status", "state"),
    "class": ("class", "classification", "fclass", "functional", "road"),
    "fixture_type": ("fixture", "lamp", "lighttype", "luminaire", "head"),
    "lumens": ("lumen", "lumens", "lm"),
    "watts": ("watt", "watts", "wattage", "wattage1"),
    "mounting_height_m": ("height", "hgt", "mount", "poleheight"),
    "height_m": ("height", "hgt"),
    "population": ("pop", "population", "residents"),
    "source": ("origin", "channel", "source", "method"),
    "owner_type": ("owner", "ownership", "owned"),
    "oneway": ("oneway", "one", "way", "direction", "travel"),
    "level": ("level", "zlevel", "grade"),
}

#: Word rules for categorical values: (ours, words), first match wins.
VALUE_RULES: dict[tuple[Layer, str], tuple[tuple[str, tuple[str, ...]], ...]] = {
    (Layer.CONCERNS, "status"): (
        ("closed", ("closed", "close", "completed", "complete", "resolved", "resol", "done",
                    "fixed", "canceled", "cancelled", "canc", "cancel", "duplicate", "dup",
                    "referred", "refer", "rejected", "invalid")),
        ("open", ("open", "new", "pending", "submitted", "received", "assigned", "progress",
                  "acknowledged", "scheduled", "reopened")),
    ),
    (Layer.CONCERNS, "detailed_status"): (
        ("duplicate", ("duplicate", "dup")),
        ("referred", ("referred", "refer", "transferred")),
        ("not fixed - no further action", ("canceled", "cancelled", "canc", "cancel",
                                           "rejected", "invalid")),
        ("fixed", ("fixed", "resolved", "resol", "repaired")),
        ("closed", ("closed", "completed", "complete", "done")),
        ("in progress", ("progress", "working", "assigned")),
        ("action scheduled", ("scheduled",)),
        ("acknowledged", ("acknowledged", "received")),
        ("submitted", ("open", "new", "submitted", "pending")),
    ),
    (Layer.STREETLIGHTS, "status"): (
        ("out", ("out", "dark", "broken", "failed", "outage")),
        ("working", ("working", "ok", "operational", "lit", "on")),
        ("unknown", ("unknown",)),
    ),
    (Layer.STREETS, "class"): (
        ("arterial", ("arterial", "principal", "major", "primary", "secondary", "trunk",
                      "freeway", "expressway", "highway", "motorway")),
        ("collector", ("collector", "tertiary", "minor")),
        ("local", ("local", "residential", "unclassified", "living")),
        ("alley", ("alley", "service")),
        ("path", ("path", "footway", "cycleway", "pedestrian", "trail", "walkway", "steps")),
    ),
    # value words are matched one word at a time ("Vacant Building": vacant, building)
    (Layer.STREETS, "oneway"): (
        ("reverse", ("reverse", "against", "opposite", "backward", "backwards")),
        ("yes", ("yes", "true", "oneway", "forward", "with")),
        ("no", ("no", "false", "two", "twoway", "both")),
    ),
    (Layer.PARCELS, "status"): (
        ("vacant_building", ("building", "structure", "house", "abandoned", "boarded")),
        ("vacant_lot", ("lot", "land", "empty", "vacant")),
        ("occupied", ("occupied", "improved", "active")),
        ("unknown", ("unknown",)),
    ),
    (Layer.PARCELS, "owner_type"): (
        ("land_bank", ("bank", "landbank", "lra")),
        ("public", ("public", "city", "county", "state", "municipal", "government",
                    "federal")),
        ("private", ("private", "individual", "company", "corporation", "llc")),
        ("unknown", ("unknown",)),
    ),
}

#: Date formats a content check tries, month-first before day-first.
DATE_FORMATS = (
    "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %I:%M %p", "%m/%d/%y %I:%M %p", "%m/%d/%y %I:%M:%S %p",
    "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y", "%m/%d/%y %H:%M", "%m/%d/%y",
    "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y", "%d/%m/%y",
    "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d",
    "%d.%m.%Y %H:%M", "%d.%m.%Y",
)
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$")
_CLOCK = re.compile(r"^\d{1,2}:\d{2}(:\d{2})?\s*([AaPp][Mm])?$")


def words(name: str) -> list[str]:
    """A column name's words: camel case and punctuation split ("PoleID" -> pole, id)."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", str(name))
    return [w for w in fold(spaced).split("_") if w]


#: Words in an id column's name that name the layer's things ("STREETLIGHTID").
ID_HINTS: dict[Layer, tuple[str, ...]] = {
    Layer.STREETLIGHTS: ("pole", "light"), Layer.NEIGHBORHOODS: ("hood", "nbh", "community"),
    Layer.STREETS: ("street", "segment", "seg"), Layer.BUILDINGS: ("building", "bldg"),
    Layer.INCIDENTS: ("incident", "case", "report"), Layer.CONCERNS: ("request", "case"),
    Layer.PARCELS: ("parcel", "pin", "apn", "property", "lot"),
}


def hints(column: str, field_name: str, layer: Layer | None = None) -> int:
    """How many of ``field_name``'s name hints the column's name holds."""
    ws = words(column)
    joined = "".join(ws)
    score = sum(1 for h in NAME_HINTS.get(field_name, ())
                if h in ws or (len(h) > 3 and h in joined))
    if layer is not None:  # an id: a word ending in "id", and one for the layer's things
        score += any(w.endswith("id") for w in ws)
        score += bool(score) and any(h in joined for h in ID_HINTS[layer])
    return score


# -- dates ----------------------------------------------------------------------------

def weighted_fit(values: pd.Series, formats: Sequence[str]) -> float:
    counts = distinct_values(values).head(500)
    if counts.empty:
        return 0.0
    text = pd.Series(counts.index.astype(str), dtype=object)
    _parsed, bad = parse_with_formats(text, formats)
    return float(counts[~bad].sum()) / float(counts.sum())


def date_format(values: pd.Series) -> tuple[tuple[str, ...], str]:
    """The format for a date column (empty when ISO 8601 needs none) and a comment."""
    text = distinct_values(values).head(500).index.astype(str)
    if len(text) and np.mean([bool(_ISO.match(t)) for t in text]) > 0.99:
        return (), "ISO 8601 dates: no format needed"
    fits = [f for f in DATE_FORMATS if weighted_fit(values, [f]) > 0.99]
    if not fits:
        return (), "no common format fits every value: check how they are written"
    fmt = fits[0]
    day_first = fmt.replace("%m/%d", "%d/%m")
    if day_first != fmt and day_first in fits:
        return (fmt,), (f"every value fits {fmt}, but also {day_first}: no day is past the "
                        "12th, so check whether the month or the day comes first")
    return (fmt,), f"content check: every value fits {fmt}; check a few against the source"


def is_dates(values: pd.Series) -> bool:
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        return True
    counts = distinct_values(values).head(500)
    if counts.empty:
        return False
    text = pd.Series(counts.index.astype(str), dtype=object)
    ok = parse_datetimes(text, "UTC").notna().to_numpy(bool) & ~text.str.fullmatch(
        r"[\d.]+").to_numpy(bool)
    return float(counts[ok].sum()) / float(counts.sum()) > 0.9


def time_part(frame: pd.DataFrame, date_col: str, used: set[str]) -> tuple[str, str] | None:
    """A column holding the time of day for ``date_col``, and its format."""
    best: tuple[int, str, str] | None = None
    for c in frame.columns:
        ws = words(c)
        if c in used or c == date_col or not ({"time", "hour", "hr"} & set(ws)):
            continue
        text = distinct_values(frame[c]).index.astype(str)
        if not len(text):
            continue
        if all(_CLOCK.match(t) for t in text[:200]):
            fmt = ("%I:%M:%S %p" if text[0].count(":") == 2 else "%I:%M %p") if re.search(
                "[AaPp][Mm]", text[0]) else ("%H:%M:%S" if text[0].count(":") == 2 else "%H:%M")
        elif pd.to_numeric(pd.Series(text), errors="coerce").between(0, 23).all():
            fmt = "%H:%M"  # an hour is joined as HH:00
        else:
            continue
        shared = len(set(ws) & set(words(date_col)))
        if best is None or shared > best[0]:
            best = (shared, c, fmt)
    return None if best is None else (best[1], best[2])


# -- categorical values ---------------------------------------------------------------

def rule_target(layer: Layer, spec: FieldSpec, value: str) -> tuple[str | None, str]:
    low = value.strip().lower()
    if spec.choices and low in spec.choices:
        return low, ""
    tokens = set(re.findall(r"[a-z0-9]+", low))
    for target, ws in VALUE_RULES.get((layer, spec.name), ()):
        hit = next((w for w in ws if w in tokens), None)
        if hit:
            return target, _("the word {word!r}").format(word=hit)
    return None, ""


def rule_coverage(values: pd.Series, layer: Layer, spec: FieldSpec) -> float:
    counts = distinct_values(values)
    if counts.empty or len(counts) > 50:
        return 0.0
    hit = sum(int(n) for v, n in counts.items() if rule_target(layer, spec, str(v))[0])
    return hit / float(counts.sum())
