"""What an Open311 GeoReport v2 client sends, read into our terms, every problem at once.

Two inputs: the query of ``GET requests.json`` (:func:`parse_requests_query`) and the
form of ``POST requests.json`` (:func:`parse_submission`). Each raises
:class:`Open311Error` with the HTTP status the specification gives (400 for bad or
missing input, 404 for an unknown ``service_code``) and one entry per problem, as the
specification's error list (``[{"code": ..., "description": ...}]``) shows them. The
rules a report must then pass (category questions, coordinates, the project area, text
lengths, e-mail address, photo) are the Report page's, checked by
:meth:`cpted.access.Access.submit_report`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from cpted.concerns import ReportDraft
from layers.errors import CptedError
from layers.schema import TimeOfDay
from layers.services import Attribute, Datatype, Service

#: ``page_size`` when none is asked: the specification's "first 1000 requests".
DEFAULT_PAGE_SIZE = 1000
#: The largest ``page_size`` (and most ``service_request_id`` values in one query).
MAX_PAGE_SIZE = 1000
#: With neither ``start_date`` nor ``end_date``, the most recent this many days.
DEFAULT_DAYS = 90
#: Longest ``address_string`` kept, in characters (an import's short-text limit).
MAX_ADDRESS_CHARS = 200
STATUSES = ("open", "closed")
_ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]+)\](\[\])?$")
_TRUE = {"true", "yes", "1", "on"}
_FALSE = {"false", "no", "0", "off"}


class Open311Error(CptedError):
    """A request refused, with its HTTP ``status`` and the specification's error list.

    ``errors`` holds one ``{"code": status, "description": ...}`` per problem; an entry
    may carry more keys (a similar report's ``service_request_id``). ``headers`` go on
    the answer (``Retry-After``, ``Allow``).
    """

    def __init__(self, status: int, problems: Iterable[str | Mapping[str, Any]], *,
                 headers: Mapping[str, str] | None = None) -> None:
        self.status = status
        self.errors: list[dict[str, Any]] = [
            {"code": status, "description": p} if isinstance(p, str)
            else {"code": status, **p} for p in problems]
        self.headers = dict(headers or {})
        super().__init__("; ".join(str(e["description"]) for e in self.errors))


class Params(Protocol):
    """A query or form as Starlette gives it: every value of a name, in order."""

    def getlist(self, key: Any) -> list[Any]: ...

    def multi_items(self) -> list[tuple[str, Any]]: ...


def _values(params: Params, name: str) -> list[str]:
    """Every value of ``name``, comma-delimited values split, blanks left out."""
    return [v.strip() for raw in params.getlist(name) for v in str(raw).split(",")
            if v.strip()]


def _one(params: Params, name: str) -> str:
    """The last value of ``name``, trimmed; ``""`` when absent (the specification's
    "optional": an empty value is no value)."""
    got = params.getlist(name)
    return str(got[-1]).strip() if got else ""


# -- GET requests.json --------------------------------------------------------------

@dataclass(frozen=True)
class RequestsQuery:
    """A ``GET requests.json`` in our terms.

    ``ids`` (``service_request_id``) overrides every other filter, as the specification
    says. ``start`` and ``end`` bound ``requested_datetime`` (UTC), ``start``
    inclusive and ``end`` exclusive (an ``end_date`` is included: ``end`` is just after
    it). ``page`` counts from 1.
    """

    ids: tuple[str, ...] | None = None
    where: dict[str, list[str]] = field(default_factory=dict)
    start: datetime | None = None
    end: datetime | None = None
    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


def parse_datetime(text: str, name: str, tz: str) -> tuple[datetime, bool]:
    """A W3C date-time (``2026-01-01T00:00:00Z``, an offset, or a date alone) as an aware
    datetime, and whether it was a date alone. Without a zone it is read in ``tz``.

    Raises
    ------
    ValueError
        Not such a date-time; the message names ``name`` and what arrived.
    """
    for candidate in (text, text.replace(" ", "+")):  # a "+" sent unescaped reads as " "
        try:
            t = datetime.fromisoformat(candidate)
            break
        except ValueError:
            continue
    else:
        raise ValueError(f"{name} {text!r} is not a W3C date-time such as "
                         "2026-01-01T00:00:00Z or 2026-01-01")
    if t.tzinfo is None:
        t = t.replace(tzinfo=ZoneInfo(tz))
    return t, len(text.strip()) == 10


def _int(params: Params, name: str, default: int, low: int, high: int | None,
         problems: list[str]) -> int:
    text = _one(params, name)
    if not text:
        return default
    try:
        n = int(text)
    except ValueError:
        n = low - 1
    if n < low or (high is not None and n > high):
        top = f" and at most {high:,}" if high is not None else ""
        problems.append(f"{name} must be a whole number of at least {low}{top}, "
                        f"got {text!r}")
        return default
    return n


def parse_requests_query(params: Params, *, services: Mapping[str, Service], tz: str,
                         now: datetime) -> RequestsQuery:
    """The query of ``GET requests.json``.

    Parameters
    ----------
    params
        The query string's values.
    services
        The store's categories by code, for ``service_code``.
    tz
        The project's time zone, for dates written without one.
    now
        The current time (aware), for the default range.

    Raises
    ------
    Open311Error
        400 listing every bad value (dates, status, page, page_size, too many ids); else
        404 for a ``service_code`` that is not one of ``services``.
    """
    problems: list[str] = []
    ids = _values(params, "service_request_id")
    if len(ids) > MAX_PAGE_SIZE:
        problems.append(f"at most {MAX_PAGE_SIZE:,} service_request_id values at once, got "
                        f"{len(ids):,}")
    page = _int(params, "page", 1, 1, None, problems)
    page_size = _int(params, "page_size", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE, problems)
    statuses = _values(params, "status")
    bad = [s for s in statuses if s not in STATUSES]
    if bad:
        problems.append(f"status {', '.join(map(repr, bad))} is not one of: open, closed")
    bounds: dict[str, datetime | None] = {"start_date": None, "end_date": None}
    for name in bounds:
        text = _one(params, name)
        if not text:
            continue
        try:
            t, date_only = parse_datetime(text, name, tz)
        except ValueError as exc:
            problems.append(str(exc))
            continue
        if name == "end_date":  # the latest time to include: the store's bound excludes
            t = t + (timedelta(days=1) if date_only else timedelta(milliseconds=1))
        bounds[name] = t
    start, end = bounds["start_date"], bounds["end_date"]
    if start is not None and end is not None and start >= end:
        problems.append("start_date must come before end_date")
    if start is None and end is None:
        start = now - timedelta(days=DEFAULT_DAYS)
    codes = _values(params, "service_code")
    unknown = [c for c in codes if c not in services]
    if problems:
        raise Open311Error(400, problems)
    if unknown and not ids:
        raise Open311Error(404, [f"service_code {c!r} was not found; expected one of: "
                                 f"{', '.join(sorted(services))}" for c in unknown])
    if ids:
        return RequestsQuery(ids=tuple(dict.fromkeys(ids)))
    where = {k: v for k, v in (("service_code", codes), ("status", statuses)) if v}
    return RequestsQuery(where=where, start=start, end=end, page=page, page_size=page_size)


# -- POST requests.json -------------------------------------------------------------

@dataclass(frozen=True)
class Submission:
    """A ``POST requests.json`` in our terms: the report, whether the client confirmed
    it is no duplicate of the similar reports it was shown (``not_duplicate``), and
    notices for the answer's ``service_notice`` (what was sent but not used)."""

    draft: ReportDraft
    not_duplicate: bool = False
    notices: tuple[str, ...] = ()


def _flag(text: str) -> bool | None:
    low = text.strip().lower()
    return True if low in _TRUE else False if low in _FALSE else None


def _answer(attr: Attribute | None, code: str, values: Sequence[str],
            problems: list[str]) -> Any:
    """One question's answer as the Report page would store it (None: unanswered)."""
    values = [v.strip() for v in values if v.strip()]
    if not values:
        return None
    if attr is None:  # a question the category does not ask: submit_report names it
        return values if len(values) > 1 else values[0]
    if attr.datatype is Datatype.MULTI:
        return values
    if len(values) > 1:
        problems.append(f"attribute[{code}] takes one value, got {len(values)}")
        return None
    value = values[0]
    if attr.datatype is Datatype.BOOLEAN:
        flag = _flag(value)
        if flag is None:
            problems.append(f"attribute[{code}] must be true or false, got {value!r}")
        return flag
    if attr.datatype is Datatype.NUMBER:
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            problems.append(f"attribute[{code}] must be a number, got {value!r}")
            return None
        return number
    return value


def _coordinate(text: str, name: str, problems: list[str]) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        problems.append(f"{name} must be a number of degrees (WGS84), got {text!r}")
    return value


def parse_submission(form: Params, *, services: Mapping[str, Service],
                     photo: bytes | None = None) -> Submission:
    """The form of ``POST requests.json`` as a :class:`~cpted.concerns.ReportDraft`.

    Read: ``service_code``, ``lat`` and ``long``, ``description``, ``address_string``
    (kept as the address), ``attribute[CODE]`` (``attribute[CODE][]`` for each value of
    a multivaluelist; yes/no questions take ``true`` or ``false``), ``email``,
    ``first_name`` and ``last_name``, ``phone`` (private contact, as on the Report
    page). Our extensions: ``time_of_day`` (day, night or unknown) and
    ``not_duplicate=true``; ``photo`` is the multipart file ``media``, if any.
    ``media_url`` is not fetched (a server that fetches what it is told to would reach
    any address for anyone): a notice says so. ``api_key``, ``jurisdiction_id``,
    ``device_id`` and ``account_id`` are not read here.

    Raises
    ------
    Open311Error
        400 listing every problem (no ``service_code``, no or bad ``lat``/``long``, an
        address in place of them, a malformed answer, an unknown ``time_of_day``); else
        404 for a ``service_code`` not among ``services``.
    """
    problems: list[str] = []
    code = _one(form, "service_code")
    service = services.get(code)
    if not code:
        problems.append("service_code was not provided; services.json lists them")
    lat_text, lon_text = _one(form, "lat"), _one(form, "long")
    if not lat_text or not lon_text:
        if _one(form, "address_string") or _one(form, "address_id"):
            problems.append("this server places a request by lat and long only: it does not "
                            "look up address_string or address_id; send lat and long too")
        else:
            problems.append("lat and long were not provided (both are needed)")
        lat = lon = math.nan
    else:
        lat = _coordinate(lat_text, "lat", problems)
        lon = _coordinate(lon_text, "long", problems)
    address = _one(form, "address_string") or None
    if address is not None and len(address) > MAX_ADDRESS_CHARS:
        problems.append(f"address_string has {len(address):,} characters; at most "
                        f"{MAX_ADDRESS_CHARS}")
    grouped: dict[str, list[str]] = {}
    for key, value in form.multi_items():
        m = _ATTRIBUTE.match(key)
        if m:
            grouped.setdefault(m.group(1), []).append(str(value))
    asked = {a.code: a for a in service.attributes} if service is not None else {}
    answers = {}
    for name, values in grouped.items():
        value = _answer(asked.get(name), name, values, problems)
        if value is not None:
            answers[name] = value
    time_text = _one(form, "time_of_day") or TimeOfDay.UNKNOWN.value
    try:
        time_of_day = TimeOfDay(time_text.lower())
    except ValueError:
        problems.append(f"time_of_day {time_text!r} is not one of: "
                        + ", ".join(t.value for t in TimeOfDay))
        time_of_day = TimeOfDay.UNKNOWN
    if problems:
        raise Open311Error(400, problems)
    if service is None:
        raise Open311Error(404, [f"service_code {code!r} was not found; expected one of: "
                                 f"{', '.join(sorted(services))}"])
    notices = []
    if _one(form, "media_url"):
        notices.append("media_url was not fetched: this server does not fetch addresses it "
                       "is sent. Send the photo itself as the multipart file field media "
                       "(JPEG, PNG or WebP).")
    name = " ".join(p for p in (_one(form, "first_name"), _one(form, "last_name")) if p)
    draft = ReportDraft(
        service_code=code, lon=lon, lat=lat, description=_one(form, "description"),
        time_of_day=time_of_day, address=address, answers=answers, photo=photo,
        contact_name=name or None, contact_email=_one(form, "email") or None,
        contact_phone=_one(form, "phone") or None, source="open311")
    return Submission(draft, _flag(_one(form, "not_duplicate")) is True, tuple(notices))
