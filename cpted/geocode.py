"""Finding a place by typing it, offline, from the store's streets layer.

A person who cannot (or would rather not) click a map types where the problem is:

- a cross street: ``"39th & Main"``, ``"39th and Main St"``, ``"Main / 39th"``,
  ``"39th St at Main"``: the point where the two named streets cross;
- a street name: ``"Prospect Ave"``: the middle of that street, said to be approximate;
- an address: ``"4512 Main St"``: the streets layer holds names and lines but no
  house-number ranges (:data:`layers.schema.SCHEMAS`), so the number cannot be placed
  and the answer is the street's middle, said to be approximate.

Names are compared after :func:`street_tokens`: case, punctuation and the spelling of
the street type (``St``/``Street``, ``Ave``/``Avenue``..., the USPS standard suffix
abbreviations), of directions (``N``/``North``) and of ordinals (``39th``/``39``) do
not matter, and a name typed without its type or direction (``"Main"``) matches every
street that differs only there. More than one match is a list to choose from; none is
a plain message, with the nearest spellings when there are any.

Distances are measured in the streets' UTM zone (:func:`layers.crs.metric_crs`);
places come back as WGS84 longitude and latitude.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pyproj
import shapely

from cpted.i18n import _, ngettext
from layers.crs import WGS84, metric_crs

#: Street types, each spelling to its USPS standard abbreviation (USPS Publication 28,
#: Postal Addressing Standards, Appendix C1 "Street Suffix Abbreviations"), for the
#: types a city's street names commonly end in.
SUFFIXES: dict[str, str] = {
    **dict.fromkeys(("alley", "aly", "ally"), "aly"),
    **dict.fromkeys(("avenue", "ave", "av", "aven", "avn"), "ave"),
    **dict.fromkeys(("bend", "bnd"), "bnd"),
    **dict.fromkeys(("boulevard", "blvd", "boul", "boulv"), "blvd"),
    **dict.fromkeys(("circle", "cir", "circ", "crcl"), "cir"),
    **dict.fromkeys(("court", "ct"), "ct"),
    **dict.fromkeys(("crossing", "xing"), "xing"),
    **dict.fromkeys(("drive", "dr", "drv"), "dr"),
    **dict.fromkeys(("expressway", "expy", "expwy"), "expy"),
    **dict.fromkeys(("freeway", "fwy"), "fwy"),
    **dict.fromkeys(("highway", "hwy"), "hwy"),
    **dict.fromkeys(("hollow", "holw"), "holw"),
    **dict.fromkeys(("lane", "ln"), "ln"),
    **dict.fromkeys(("loop",), "loop"),
    **dict.fromkeys(("parkway", "pkwy", "pky"), "pkwy"),
    **dict.fromkeys(("place", "pl"), "pl"),
    **dict.fromkeys(("plaza", "plz"), "plz"),
    **dict.fromkeys(("road", "rd"), "rd"),
    **dict.fromkeys(("run",), "run"),
    **dict.fromkeys(("square", "sq"), "sq"),
    **dict.fromkeys(("street", "st", "str"), "st"),
    **dict.fromkeys(("terrace", "ter", "terr"), "ter"),
    **dict.fromkeys(("trail", "trl"), "trl"),
    **dict.fromkeys(("way", "wy"), "way"),
}

#: Directions, each spelling to its USPS abbreviation (Publication 28, Appendix B).
DIRECTIONS: dict[str, str] = {
    **dict.fromkeys(("north", "n"), "n"), **dict.fromkeys(("south", "s"), "s"),
    **dict.fromkeys(("east", "e"), "e"), **dict.fromkeys(("west", "w"), "w"),
    **dict.fromkeys(("northeast", "ne"), "ne"), **dict.fromkeys(("northwest", "nw"), "nw"),
    **dict.fromkeys(("southeast", "se"), "se"), **dict.fromkeys(("southwest", "sw"), "sw"),
}

#: What separates the two streets of a cross street: ``&``, ``/``, ``@``, ``+``, or the
#: words "and", "at".
_CROSS = re.compile(r"\s*(?:&|/|@|\+|\band\b|\bat\b)\s*", re.IGNORECASE)
#: A house number before a street: digits, an optional letter or fraction ("12B", "12-14").
_NUMBER = re.compile(r"^\s*(\d+(?:-\d+)?[a-z]?)\s+(.+)$", re.IGNORECASE)
_ORDINAL = re.compile(r"^(\d+)(?:st|nd|rd|th)$")
_LEAD = re.compile(r"^\s*(?:the\s+)?(?:corner\s+of|intersection\s+of)\s+", re.IGNORECASE)

#: Crossing points of the same two streets closer than this are one place (a divided
#: road's two carriageways, a street drawn in several touching pieces), in metres.
CLUSTER_M = 40.0
#: Two streets whose lines do not touch but come this close are taken to meet there
#: (a T-junction digitised a little short), in metres.
SNAP_M = 15.0
#: Pieces of one street name further apart than this are different streets (the same
#: name in two parts of a city), in metres.
GAP_M = 60.0
#: At most this many places are offered to choose from.
MAX_CHOICES = 12


def street_tokens(name: str) -> tuple[str, ...]:
    """A street name in the form names are compared in.

    Lower case; punctuation dropped; ordinals as their number (``"39th"`` -> ``"39"``);
    the last word's street type as its USPS abbreviation (``"Avenue"`` -> ``"ave"``) and
    a leading or trailing direction likewise (``"North"`` -> ``"n"``). A type or
    direction is recognised only where it leaves a name before it: ``"St Louis Ave"``
    keeps its ``"st"`` and a street called ``"Alley"`` stays ``("alley",)``.

    Parameters
    ----------
    name : str
        A street name as stored or typed.

    Returns
    -------
    tuple of str
        The words, normalised; empty for a name with no letters or digits.
    """
    words = [w for w in re.split(r"[\s\-]+", re.sub(r"[^\w\s\-]", " ", name.lower())) if w]
    words = [m.group(1) if (m := _ORDINAL.match(w)) else w for w in words]
    if len(words) > 1 and words[0] in DIRECTIONS:
        words[0] = DIRECTIONS[words[0]]
    if len(words) > 1 and words[-1] in DIRECTIONS:
        words[-1] = DIRECTIONS[words[-1]]
    end = len(words) - 1 - (len(words) > 2 and words[-1] in DIRECTIONS.values())
    if end >= 1 and words[end] in SUFFIXES:
        words[end] = SUFFIXES[words[end]]
    return tuple(words)


@dataclass(frozen=True)
class _Name:
    """A street name split into what must match and what may be left out."""

    tokens: tuple[str, ...]
    base: tuple[str, ...]
    suffix: str | None
    directions: tuple[str, ...]

    @classmethod
    def of(cls, text: str) -> _Name:
        tokens = street_tokens(text)
        words = list(tokens)
        directions: list[str] = []
        if len(words) > 1 and words[0] in DIRECTIONS.values():
            directions.append(words.pop(0))
        if len(words) > 1 and words[-1] in DIRECTIONS.values():
            directions.append(words.pop())
        suffix = None
        if len(words) > 1 and words[-1] in SUFFIXES.values():
            suffix = words.pop()
        return cls(tokens, tuple(words), suffix, tuple(sorted(directions)))


@dataclass(frozen=True)
class Place:
    """A place found by typing.

    Attributes
    ----------
    lon, lat : float
        WGS84 degrees.
    label : str
        The place in words, from the streets' stored names (``"Main St & 39th St"``).
    exact : bool
        True for a crossing of two streets; False for a street's middle.
    note : str
        Why the place is approximate ("" when exact).
    """

    lon: float
    lat: float
    label: str
    exact: bool = True
    note: str = ""


@dataclass(frozen=True)
class Lookup:
    """The answer to one typed place.

    Attributes
    ----------
    query : str
        What was typed.
    places : tuple of Place
        None found, one (found), or several to choose from.
    message : str
        What to tell the person, in plain words: why nothing was found, or that there
        is a choice to make ("" when one place was found).
    """

    query: str
    places: tuple[Place, ...] = ()
    message: str = ""

    @property
    def found(self) -> Place | None:
        """The place, when exactly one was found and nothing is left to confirm (a place
        found only under a name like the one typed is offered, not taken)."""
        return self.places[0] if len(self.places) == 1 and not self.message else None


@dataclass
class _Index:
    """The streets layer grouped by normalised name, projected to metres on demand."""

    streets: gpd.GeoDataFrame
    crs: pyproj.CRS
    names: dict[tuple[str, ...], _Name] = field(default_factory=dict)
    shown: dict[tuple[str, ...], str] = field(default_factory=dict)
    rows: dict[tuple[str, ...], np.ndarray] = field(default_factory=dict)
    key_of_row: list[tuple[str, ...]] = field(default_factory=list)
    _metric: dict[tuple[str, ...], shapely.Geometry] = field(default_factory=dict)

    @classmethod
    def of(cls, streets: gpd.GeoDataFrame) -> _Index:
        if streets.crs is None:
            raise ValueError("find_place needs a streets layer with a CRS, got crs=None")
        named = streets[streets["name"].notna() & streets.geometry.notna()
                        & ~streets.geometry.is_empty]
        named = named if named.crs.equals(WGS84) else named.to_crs(WGS84)
        index = cls(named.reset_index(drop=True), metric_crs(named) if len(named) else WGS84)
        text = index.streets["name"].astype(str).str.strip()
        index.key_of_row = [()] * len(text)
        most: dict[tuple[str, ...], int] = {}
        for raw, where in text.groupby(text.to_numpy()).indices.items():
            name = _Name.of(str(raw))
            key = name.tokens
            if not key:
                continue
            index.names[key] = name
            index.rows[key] = np.concatenate([index.rows.get(key, np.array([], np.int64)),
                                              np.asarray(where, np.int64)])
            for r in where:
                index.key_of_row[int(r)] = key
            if len(where) > most.get(key, 0):  # the spelling most segments use is shown
                most[key] = len(where)
                index.shown[key] = str(raw)
        return index

    def metric(self, key: tuple[str, ...]) -> shapely.Geometry:
        """Every segment of the street ``key``, as one geometry in metres."""
        if key not in self._metric:
            part = self.streets.geometry.iloc[self.rows[key]].to_crs(self.crs)
            self._metric[key] = shapely.union_all(np.asarray(part.values))
        return self._metric[key]

    def to_lonlat(self, point: shapely.Point) -> tuple[float, float]:
        back = pyproj.Transformer.from_crs(self.crs, WGS84, always_xy=True)
        lon, lat = back.transform(point.x, point.y)
        return float(lon), float(lat)

    def near(self, point: shapely.Point, exclude: Iterable[tuple[str, ...]], *,
             within_m: float = 400.0) -> str | None:
        """The name of the street closest to ``point`` (in metres) other than those in
        ``exclude``, if one passes within ``within_m``."""
        skip = set(exclude)
        lon, lat = self.to_lonlat(point)
        pad = 0.01  # degrees: only picks the segments to measure, in metres, below
        rows = self.streets.sindex.query(shapely.box(lon - pad, lat - pad, lon + pad,
                                                     lat + pad))
        rows = np.array([r for r in rows if self.key_of_row[r] not in skip], np.int64)
        if not len(rows):
            return None
        metres = self.streets.geometry.iloc[rows].to_crs(self.crs).distance(point).to_numpy()
        best = int(np.argmin(metres))
        if metres[best] > within_m:
            return None
        return self.shown[self.key_of_row[int(rows[best])]]


def _split(query: str) -> tuple[str | None, list[str]]:
    """``query`` as an optional house number and one or two street parts."""
    text = _LEAD.sub("", query.split(",")[0]).strip()
    parts = [p.strip() for p in _CROSS.split(text) if p.strip()]
    number = None
    if len(parts) == 1 and (m := _NUMBER.match(parts[0])):
        rest = _Name.of(m.group(2))
        # "39 St" is a street called 39th, not number 39 of a street called "St"
        if rest.base and not (len(rest.tokens) == 1 and rest.tokens[0] in SUFFIXES.values()):
            number, parts = m.group(1), [m.group(2)]
    return number, parts


def _matches(index: _Index, typed: str) -> tuple[list[tuple[str, ...]], bool]:
    """The streets ``typed`` may mean, and whether they match it (False: they only share
    its name, with another street type or direction: suggestions)."""
    want = _Name.of(typed)
    if not want.tokens:
        return [], True
    if want.tokens in index.names:
        return [want.tokens], True
    same_base = [k for k, n in index.names.items() if n.base == want.base]
    fits = [k for k in same_base
            if (want.suffix is None or index.names[k].suffix == want.suffix)
            and (not want.directions or index.names[k].directions == want.directions)]
    if fits:
        return sorted(fits, key=index.shown.__getitem__), True
    return sorted(same_base, key=index.shown.__getitem__), False


def _suggest(index: _Index, typed: str) -> list[str]:
    """Stored names spelled like ``typed`` (for a message when nothing matched)."""
    want = " ".join(_Name.of(typed).base)
    bases = {" ".join(n.base): k for k, n in index.names.items()}
    close = difflib.get_close_matches(want, list(bases), n=3, cutoff=0.75)
    return [index.shown[bases[b]] for b in close]


def _not_found(index: _Index, typed: str) -> str:
    hint = _suggest(index, typed)
    if hint:
        return _("No street called “{typed}” is in the streets layer. Did you mean "
                 "{names}?").format(typed=typed, names=_or(hint))
    return _("No street called “{typed}” is in the streets layer. Check the spelling, or "
             "click the map instead.").format(typed=typed)


def _or(names: Sequence[str]) -> str:
    if len(names) == 1:
        return names[0]
    return _("{names} or {last}").format(names=", ".join(names[:-1]), last=names[-1])


def _points(geom: shapely.Geometry) -> list[shapely.Point]:
    """The points of an intersection (a shared stretch counts by its middle)."""
    out: list[shapely.Point] = []
    for g in shapely.get_parts(geom):
        if g.is_empty:
            continue
        if isinstance(g, shapely.Point):
            out.append(g)
        elif isinstance(g, shapely.LineString):
            out.append(g.interpolate(0.5, normalized=True))
        else:
            out.extend(_points(g))
    return out


def _clusters(points: Sequence[shapely.Point], radius_m: float) -> list[shapely.Point]:
    """``points`` gathered into groups closer than ``radius_m``, each as its centroid."""
    groups: list[list[shapely.Point]] = []
    for p in points:
        for g in groups:
            if g[0].distance(p) <= radius_m:
                g.append(p)
                break
        else:
            groups.append([p])
    return [shapely.MultiPoint(g).centroid if len(g) > 1 else g[0] for g in groups]


def _crossings(index: _Index, a: tuple[str, ...], b: tuple[str, ...]) -> list[shapely.Point]:
    """Where the streets ``a`` and ``b`` meet, in metres: where their lines cross, and
    where an end of one stops within :data:`SNAP_M` of the other (a T-junction drawn a
    little short, or ending on the other line but for rounding)."""
    ga, gb = index.metric(a), index.metric(b)
    exact = _clusters(_points(ga.intersection(gb)), CLUSTER_M)
    ends: list[shapely.Point] = []
    for mine, other in ((ga, gb), (gb, ga)):
        for part in shapely.get_parts(mine):
            for xy in (part.coords[0], part.coords[-1]):
                end = shapely.Point(xy)
                if other.distance(end) <= SNAP_M:
                    ends.append(shapely.line_interpolate_point(
                        other, shapely.line_locate_point(other, end)))
    loose = [p for p in ends if all(p.distance(q) > CLUSTER_M for q in exact)]
    return exact + _clusters(loose, CLUSTER_M)


def _middles(index: _Index, key: tuple[str, ...]) -> list[shapely.Point]:
    """A point near the middle of each separate piece of the street ``key`` (pieces
    further apart than :data:`GAP_M` are separate streets of one name)."""
    lines = [g for g in shapely.get_parts(index.metric(key)) if not g.is_empty]
    areas = shapely.get_parts(shapely.union_all(shapely.buffer(lines, GAP_M / 2)))
    out = []
    for area in areas:
        piece = shapely.line_merge(shapely.union_all([g for g in lines if area.covers(g)]))
        if isinstance(piece, shapely.LineString):
            out.append(piece.interpolate(0.5, normalized=True))
        else:
            out.append(shapely.Point(shapely.shortest_line(piece, piece.centroid).coords[0]))
    # west to east, then south to north: a stable order to choose from
    return sorted(out, key=lambda p: (round(p.x, -1), p.y))


def find_place(query: str, streets: gpd.GeoDataFrame) -> Lookup:
    """Where ``query`` is, from the street names and lines of ``streets``.

    Parameters
    ----------
    query : str
        A cross street (``"39th & Main"``, ``"39th and Main St"``, ``"Main / 39th"``),
        a street name, or an address (``"4512 Main St"``). Anything after a comma (a
        city, a postcode) is ignored.
    streets : geopandas.GeoDataFrame
        The streets layer: lines with a ``name`` column, in any CRS (EPSG:4326 as
        stored).

    Returns
    -------
    Lookup
        One place when the query names one; several to choose from when it could mean
        more than one (two streets of that name, two crossings); none with a message
        saying why otherwise. Crossings are exact; a street alone or an address is the
        street's middle, marked approximate with the reason.

    Raises
    ------
    ValueError
        When ``streets`` has no CRS.
    """
    number, parts = _split(query)
    if not parts:
        return Lookup(query, (), _("Type a street, a cross street such as “39th & Main”, "
                                   "or an address."))
    if "name" not in streets.columns:
        return Lookup(query, (), _("The streets layer has no street names to search."))
    if len(parts) > 2:
        return Lookup(query, (), _("Type two streets at most, such as “39th & Main”."))
    index = _Index.of(streets)
    if not index.names:
        return Lookup(query, (), _("The streets layer has no street names to search."))
    found = [_matches(index, p) for p in parts]
    for typed, (keys, _exact) in zip(parts, found, strict=True):
        if not keys:
            return Lookup(query, (), _not_found(index, typed))
    suggested = not all(ok for _, ok in found)
    if len(parts) == 2:
        return _cross(index, query, parts, found, suggested)
    return _street(index, query, parts[0], found[0][0], number, suggested)


def _cross(index: _Index, query: str, parts: list[str],
           found: list[tuple[list[tuple[str, ...]], bool]], suggested: bool) -> Lookup:
    places: list[Place] = []
    for a in found[0][0]:
        for b in found[1][0]:
            if a == b:
                continue
            points = _crossings(index, a, b)
            label = f"{index.shown[a]} & {index.shown[b]}"
            for p in points:
                where = label
                if len(points) > 1:
                    third = index.near(p, (a, b))
                    where = (_("{place}, near {street}").format(place=label, street=third)
                             if third else label)
                places.append(Place(*index.to_lonlat(p), label=where))
    if not places:
        if all(len(keys) == 1 for keys, _ in found) and found[0][0] == found[1][0]:
            return Lookup(query, (), _("Both streets are {name}: type two different "
                                       "streets.").format(name=index.shown[found[0][0][0]]))
        first = _or([index.shown[k] for k in found[0][0]])
        second = _or([index.shown[k] for k in found[1][0]])
        return Lookup(query, (), _("{first} and {second} do not meet. Type two streets that "
                                   "cross, or click the map instead.").format(
                                       first=first, second=second))
    places = _numbered(places)[:MAX_CHOICES]
    if len(places) == 1 and not suggested:
        return Lookup(query, tuple(places))
    return Lookup(query, tuple(places), _choose(query.strip(), len(places), suggested))


def _street(index: _Index, query: str, typed: str, keys: list[tuple[str, ...]],
            number: str | None, suggested: bool) -> Lookup:
    places: list[Place] = []
    for key in keys:
        name = index.shown[key]
        middles = _middles(index, key)
        note = (_("The streets layer has no house numbers, so {number} cannot be placed: "
                  "this is the middle of {name}. Type a cross street (“{name} & ...”) or "
                  "click the map for the exact spot.") if number else
                _("This is the middle of {name}. Type a cross street (“{name} & ...”) or "
                  "click the map for the exact spot.")).format(number=number, name=name)
        for p in middles:
            label = name
            if len(middles) > 1:
                third = index.near(p, (key,))
                label = (_("{place}, near {street}").format(place=name, street=third)
                         if third else name)
            places.append(Place(*index.to_lonlat(p), label=label, exact=False, note=note))
    places = _numbered(places)[:MAX_CHOICES]
    if len(places) == 1 and not suggested:
        return Lookup(query, tuple(places))
    return Lookup(query, tuple(places), _choose(typed, len(places), suggested))


def _choose(typed: str, n: int, suggested: bool) -> str:
    if suggested:
        return ngettext("No street is called exactly “{typed}”. Choose the place you mean "
                        "from the one with a name like it.",
                        "No street is called exactly “{typed}”. Choose the place you mean "
                        "from the {n} with a name like it.", n).format(typed=typed, n=n)
    return ngettext("“{typed}” could be {n} place: choose the one you mean.",
                    "“{typed}” could be {n} places: choose the one you mean.", n).format(
                        typed=typed, n=n)


def _numbered(places: list[Place]) -> list[Place]:
    """``places`` with any repeated label told apart by a number ("(2 of 3)")."""
    seen: dict[str, int] = {}
    for p in places:
        seen[p.label] = seen.get(p.label, 0) + 1
    k: dict[str, int] = {}
    out = []
    for p in places:
        if seen[p.label] > 1:
            k[p.label] = k.get(p.label, 0) + 1
            p = Place(p.lon, p.lat, _("{place} ({k} of {n})").format(
                place=p.label, k=k[p.label], n=seen[p.label]), p.exact, p.note)
        out.append(p)
    return out
