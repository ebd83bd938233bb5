"""Following a report or an area by e-mail: the rules, the areas and the signed links.

Anyone may follow a report (each status change, as the public sees it) or an area (a
neighborhood, a drawn polygon or a circle around a point: new reports and changes in a
daily or weekly digest), optionally for some categories only. Nothing is sent before the
address is confirmed by a link sent to it (double opt-in).

The links in messages carry tokens signed with HMAC-SHA256 (:func:`sign_token`) under the
deployment's secret: a token names what it is for (``confirm``, ``unsubscribe``, ``feed``,
``fixed``) and one follow (for ``fixed``, with the report version it asks about: see
:mod:`cpted.fixed`), and confirmation and answer links expire. Nothing in a token is
secret; it cannot be made or altered without the key.

The storage is in :mod:`layers.repos.follows`; :class:`cpted.access.Access` applies these
rules with the permission table and the privacy rules.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import geopandas as gpd
import shapely
from shapely.geometry.base import BaseGeometry

from cpted import i18n
from cpted.i18n import N_, _, ngettext
from layers.crs import WGS84
from layers.errors import UnusableInputError

#: Longest address accepted (RFC 5321's limit on a path).
MAX_EMAIL_CHARS = 254
_EMAIL = re.compile(r"^[^@\s<>,;\"']+@[^@\s<>,;\"'.]+(\.[^@\s<>,;\"'.]+)+$")
#: A circle around a point: at least, at most (metres).
MIN_RADIUS_M, MAX_RADIUS_M = 25.0, 5000.0
#: The largest drawn area one may follow (km²): a city district, not a whole region.
MAX_AREA_KM2 = 100.0
#: How long a confirmation link works.
CONFIRM_VALID = timedelta(days=7)
#: How long the "Is it fixed?" links of a message about a fix work.
ANSWER_VALID = timedelta(days=30)
#: Confirmation messages one address may be sent in a day, whoever asks for them: a
#: stranger cannot flood someone's inbox by following things in their name.
MAX_CONFIRMATIONS_PER_DAY = 5
#: The setting (store's settings table) holding the secret when none is configured.
SECRET_SETTING = "secret_key"  # noqa: S105 (a key's name)


class Kind(StrEnum):
    REPORT = "report"
    AREA = "area"
    #: A staff account following the reports assigned to it.
    ASSIGNED = "assigned"


class Frequency(StrEnum):
    """How often a follower hears: at each change (a report), or in a digest (an area)."""

    INSTANT = "instant"
    DAILY = "daily"
    WEEKLY = "weekly"


#: How long a digest covers.
PERIODS = {Frequency.DAILY: timedelta(days=1), Frequency.WEEKLY: timedelta(days=7)}


class Purpose(StrEnum):
    CONFIRM = "confirm"
    UNSUBSCRIBE = "unsubscribe"
    FEED = "feed"
    #: A follower's answer to "Is it fixed?".
    FIXED = "fixed"


class FollowError(UnusableInputError):
    """A follow was refused, or a link does not work; ``fields`` says which part of a
    form each problem is about (``"email"``, ``"area"``, ``"categories"``,
    ``"frequency"``, ``"token"``), for a form to show it next to that field."""

    def __init__(self, message: str, problems: Sequence[str] = (), *,
                 fields: Mapping[str, Sequence[str]] | None = None) -> None:
        super().__init__(message, problems)
        self.fields: dict[str, list[str]] = {k: list(v) for k, v in (fields or {}).items()}


@dataclass(frozen=True)
class FollowSummary:
    """What a follow follows, in words a page or a message may show (never the address)."""

    kind: Kind
    label: str
    frequency: Frequency
    confirmed: bool
    ended: bool
    service_request_id: str | None = None
    neighborhood_id: str | None = None
    #: The Atom feed of a confirmed area follow.
    feed_url: str | None = None


# -- checking what people type ---------------------------------------------------
def email_problems(text: str | None) -> list[str]:
    """Why ``text`` is not an address we can send to (empty list: it is)."""
    value = (text or "").strip()
    if not value:
        return [_("give an e-mail address to send the messages to")]
    if len(value) > MAX_EMAIL_CHARS:
        return [_("the e-mail address has {n} characters; at most {most}").format(
            n=i18n.number(len(value)), most=i18n.number(MAX_EMAIL_CHARS))]
    if not _EMAIL.match(value):
        return [_("{value!r} does not look like an e-mail address (name@example.org)").format(
            value=value)]
    return []


def normalise_email(text: str) -> str:
    """The address as stored: trimmed and in lower case (so that one address asked for in
    several spellings is one address to the limits and to the duplicate check).

    Raises
    ------
    FollowError
        With the problem under the ``"email"`` field.
    """
    problems = email_problems(text)
    if problems:
        raise FollowError(_("nothing was followed"), problems, fields={"email": problems})
    return text.strip().lower()


def parse_frequency(value: Frequency | str, kind: Kind) -> Frequency:
    """``value`` as a :class:`Frequency` allowed for ``kind`` (a report: instant; an
    area: daily or weekly)."""
    allowed = [Frequency.INSTANT] if kind is Kind.REPORT else [Frequency.DAILY,
                                                                Frequency.WEEKLY]
    try:
        got = Frequency(value)
    except ValueError:
        got = None
    if got not in allowed:
        problem = (_("a report is followed at each change, got {value!r}") if kind is Kind.REPORT
                   else _("an area is followed daily or weekly, got {value!r}")).format(
                       value=value)
        raise FollowError(_("nothing was followed"), [problem], fields={"frequency": [problem]})
    assert got is not None
    return got


def check_categories(codes: Sequence[str], known: Sequence[str]) -> list[str]:
    """The chosen category codes, sorted, each one known; empty means every category."""
    unknown = sorted(set(codes) - set(known))
    if unknown:
        problem = ngettext("unknown category {codes}; expected some of: {known}",
                           "unknown categories {codes}; expected some of: {known}",
                           len(unknown)).format(codes=", ".join(map(repr, unknown)),
                                                known=", ".join(known))
        raise FollowError(_("nothing was followed"), [problem],
                          fields={"categories": [problem]})
    return sorted(set(codes))


# -- areas -----------------------------------------------------------------------
def circle(lon: float, lat: float, radius_m: float) -> BaseGeometry:
    """The area within ``radius_m`` metres of a WGS84 point (``lon``, ``lat``), as a
    WGS84 polygon (buffered in the point's UTM zone, never in degrees).

    Raises
    ------
    FollowError
        A place that is not a longitude and latitude, or a radius outside
        :data:`MIN_RADIUS_M` to :data:`MAX_RADIUS_M`.
    """
    problems = []
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        problems.append(_("({lat}, {lon}) is not a latitude and longitude").format(
            lat=lat, lon=lon))
    if not MIN_RADIUS_M <= radius_m <= MAX_RADIUS_M:
        problems.append(_("the radius must be {least} to {most} m, got {got} m").format(
            least=i18n.number(MIN_RADIUS_M), most=i18n.number(MAX_RADIUS_M),
            got=i18n.number(radius_m)))
    if problems:
        raise FollowError(_("nothing was followed"), problems, fields={"area": problems})
    point = gpd.GeoSeries([shapely.Point(lon, lat)], crs=WGS84)
    metric = point.estimate_utm_crs()
    out = point.to_crs(metric).buffer(radius_m, quad_segs=16).to_crs(WGS84)
    return out.iloc[0]


def check_area(geom: BaseGeometry | None) -> BaseGeometry:
    """A drawn area fit to follow: a valid polygon (or several) of WGS84 coordinates,
    at most :data:`MAX_AREA_KM2`."""
    problems = []
    if geom is None or geom.is_empty:
        problems.append(_("draw the area to follow on the map"))
    elif geom.geom_type not in ("Polygon", "MultiPolygon"):
        problems.append(_("an area to follow is a polygon, got a {kind}").format(
            kind=geom.geom_type))
    else:
        minx, miny, maxx, maxy = geom.bounds
        if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
            problems.append(_("the area's coordinates are not longitudes and latitudes"))
        else:
            if not geom.is_valid:
                geom = shapely.make_valid(geom)
            series = gpd.GeoSeries([geom], crs=WGS84)
            km2 = float(series.to_crs(series.estimate_utm_crs()).area.iloc[0]) / 1e6
            if km2 > MAX_AREA_KM2:
                problems.append(_("the area covers {km2} km²; at most {most} km² may be "
                                  "followed (draw a smaller one, or follow "
                                  "neighborhoods)").format(km2=i18n.number(km2, digits=0),
                                                           most=i18n.number(MAX_AREA_KM2)))
            elif km2 <= 0:
                problems.append(_("the area has no surface; draw a polygon"))
    if problems:
        raise FollowError(_("nothing was followed"), problems, fields={"area": problems})
    assert geom is not None
    return geom


def area_km2(geom: BaseGeometry) -> float:
    series = gpd.GeoSeries([geom], crs=WGS84)
    return float(series.to_crs(series.estimate_utm_crs()).area.iloc[0]) / 1e6


# -- signed links ------------------------------------------------------------------
def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_token(secret: str, purpose: Purpose, follow_id: str, *,
               expires: datetime | None = None) -> str:
    """A link token for ``purpose`` and one follow: ``payload.mac``, both URL-safe
    base64, the MAC HMAC-SHA256 of the payload under ``secret``."""
    stamp = int(expires.timestamp()) if expires is not None else 0
    payload = _b64(f"{Purpose(purpose).value}.{follow_id}.{stamp}".encode())
    mac = hmac.new(secret.encode(), payload.encode("ascii"), hashlib.sha256).digest()
    return f"{payload}.{_b64(mac)}"


def read_token(secret: str, token: str, purpose: Purpose, *, now: datetime) -> str:
    """The follow id a token signed by :func:`sign_token` names.

    Raises
    ------
    FollowError
        A token not signed with ``secret``, made for another purpose, or expired.
    """
    broken = FollowError(_("this link does not work: it is incomplete or was not made "
                           "here. Copy the whole link from the message"),
                         fields={"token": [_("the link is incomplete or was not made here")]})
    payload, _dot, mac = (token or "").strip().partition(".")
    try:
        want = hmac.new(secret.encode(), payload.encode("ascii"), hashlib.sha256).digest()
        got = _unb64(mac)
        if not payload or not hmac.compare_digest(want, got):
            raise broken
        kind, follow_id, stamp = _unb64(payload).decode().split(".")
        expires = int(stamp)
    except (ValueError, UnicodeError):
        raise broken from None
    if kind != Purpose(purpose).value or not follow_id:
        raise broken
    if expires and now.timestamp() > expires:
        raise FollowError(_(_EXPIRED.get(Purpose(purpose), N_("this link has expired"))).format(
                              days=i18n.number(ANSWER_VALID.days)),
                          fields={"token": [_("the link has expired")]})
    return follow_id


_EXPIRED = {
    Purpose.CONFIRM: N_("this confirmation link has expired; follow again to get a new one"),
    Purpose.FIXED: N_("this link has expired: answers are taken for {days} days after a "
                      "report is marked fixed. Nothing was recorded"),
}


def message_id(dedupe_key: str, host: str) -> str:
    """A message's stable ``Message-ID``: the same for every attempt to send it, so a mail
    client shows a message that was sent again as one."""
    digest = hashlib.sha256(dedupe_key.encode()).hexdigest()[:32]
    return f"<{digest}@{host or 'localhost'}>"


#: How often a follower hears, in words.
FREQUENCY_WORDS = {"instant": N_("at each change"), "daily": N_("once a day"),
                   "weekly": N_("once a week")}


def frequency_words(value: Frequency | str) -> str:
    """How often, in the language in use: ``"daily"`` -> ``"once a day"``."""
    text = FREQUENCY_WORDS.get(str(value))
    return _(text) if text else str(value)


def summarise(row: Mapping[str, Any], *, names: Mapping[str, str],
              neighborhoods: Mapping[str, str]) -> FollowSummary:
    """A stored follow in words, in the language in use (``names``: category code ->
    name, a shipped one translated; ``neighborhoods``: id -> name, as typed)."""
    kind = Kind(row["kind"])
    cats = [names.get(c, c) for c in json.loads(row.get("categories") or "[]")]
    only = ", ".join(_(c) for c in cats)
    if kind is Kind.REPORT:
        label = _("report {id}").format(id=row["service_request_id"])
    elif kind is Kind.ASSIGNED:
        label = _("the reports assigned to your account")
    elif row.get("neighborhood_id"):
        nid = str(row["neighborhood_id"])
        label = (_("the neighborhood {name} ({categories} only)") if cats
                 else _("the neighborhood {name}")).format(name=neighborhoods.get(nid, nid),
                                                            categories=only)
    else:
        geom = shapely.from_geojson(row["area_geojson"]) if row.get("area_geojson") else None
        if geom is None:
            label = (_("an area on the map ({categories} only)") if cats
                     else _("an area on the map")).format(categories=only)
        else:
            label = (_("an area of {km2} km² on the map ({categories} only)") if cats
                     else _("an area of {km2} km² on the map")).format(
                         km2=i18n.number(area_km2(geom), digits=2), categories=only)
    return FollowSummary(kind, label, Frequency(row["frequency"]),
                         confirmed=row.get("confirmed_at") is not None,
                         ended=row.get("ended_at") is not None,
                         service_request_id=row.get("service_request_id"),
                         neighborhood_id=row.get("neighborhood_id"))
