"""CPTED assessments: a place audited with an instrument, stored, scored, compared.

An assessment keeps its place (point, street segment or polygon), who audited,
when, by day or night, the instrument's id and version, the answers, notes and
photos. The instrument text is stored once per version, so an old audit is
always scored with the questions it was answered on.

Edits are guarded by a version number: a save made from a stale copy (someone
else saved in between) is refused with :class:`~layers.errors.ConflictError`
instead of silently overwriting their work.
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd
import shapely

from cpted.concerns import _iso, _now
from cpted.i18n import _
from cpted.instrument import Instrument, InstrumentError, check_answers, parse_instrument
from cpted.photos import clean_photo
from cpted.scoring import Scorecard, audit_label, enough_answers, score
from layers.crs import WGS84, metric_crs
from layers.errors import ConflictError, UnusableInputError
from layers.repos import assessments as repo
from layers.store import Store

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

PERIODS = ("day", "night")
MAX_PHOTOS = 12
MAX_NOTES_CHARS = 4000
MAX_NAME_CHARS = 200
#: Audits whose places lie within this distance count as the same place.
SAME_PLACE_RADIUS_M = 25.0


class AssessmentError(UnusableInputError):
    """An assessment that cannot be saved; ``problems`` lists every reason."""


@dataclass
class AssessmentDraft:
    place_name: str
    geometry: shapely.Geometry  # WGS84
    assessor: str
    assessed_at: datetime  # timezone-aware
    period: str  # "day" or "night"
    answers: Mapping[str, int | str | None]
    notes: str = ""
    photos: Sequence[bytes] = field(default_factory=list)


@dataclass(frozen=True)
class Assessment:
    id: str
    place_name: str
    geometry: shapely.Geometry
    neighborhood_id: str | None
    assessor: str
    assessed_at: pd.Timestamp
    period: str
    instrument_id: str
    instrument_version: str
    answers: dict[str, int | str]
    notes: str
    version: int
    created_at: pd.Timestamp
    updated_at: pd.Timestamp
    #: Whose audit this is (an account's or a public session's key); None when unknown.
    author_key: str | None = None

    def draft(self) -> AssessmentDraft:
        """An editable copy (photos are kept separately and stay unless removed)."""
        return AssessmentDraft(self.place_name, self.geometry, self.assessor,
                               self.assessed_at.to_pydatetime(), self.period,
                               dict(self.answers), self.notes)


def _check(draft: AssessmentDraft, instrument: Instrument) -> list[str]:
    """Every problem with ``draft``, in the language in use (the person saving reads them)."""
    problems = []
    if not draft.place_name.strip():
        problems.append(_("give the place a name (a street, a corner, a landmark)"))
    elif len(draft.place_name) > MAX_NAME_CHARS:
        problems.append(_("the place name is longer than {n} characters").format(
            n=MAX_NAME_CHARS))
    if not draft.assessor.strip():
        problems.append(_("say who made the audit (a name or a group)"))
    elif len(draft.assessor) > MAX_NAME_CHARS:
        problems.append(_("the assessor is longer than {n} characters").format(
            n=MAX_NAME_CHARS))
    if draft.period not in PERIODS:
        problems.append(_("the audit is by day or by night, not {got!r}").format(
            got=draft.period))
    g = draft.geometry
    if g is None or not isinstance(g, shapely.Geometry) or g.is_empty:
        problems.append(_("draw the place on the map: a point, a street segment or an area"))
    elif g.geom_type not in ("Point", "LineString", "Polygon", "MultiLineString",
                             "MultiPolygon"):
        problems.append(_("a place is a point, a line or an area, not a {kind}").format(
            kind=g.geom_type))
    else:
        minx, miny, maxx, maxy = g.bounds
        if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
            problems.append(_("the place's coordinates are not longitude/latitude"))
        elif not g.is_valid:
            problems.append(_("the drawn area crosses itself; draw it again"))
    if len(draft.notes) > MAX_NOTES_CHARS:
        problems.append(_("the notes are longer than {n} characters").format(
            n=MAX_NOTES_CHARS))
    if len(draft.photos) > MAX_PHOTOS:
        problems.append(_("at most {n} photos per audit").format(n=MAX_PHOTOS))
    if draft.period in PERIODS:
        problems += check_answers(instrument, draft.answers, draft.period)
    if not any(v is not None for v in draft.answers.values()):
        problems.append(_("answer at least one item"))
    if draft.assessed_at.tzinfo is None:
        problems.append(_("the audit time needs a time zone"))
    return problems


def _representative(g: shapely.Geometry) -> shapely.Point:
    if g.geom_type == "Point":
        return g
    if g.geom_type in ("LineString", "MultiLineString"):
        return shapely.line_interpolate_point(g, 0.5, normalized=True)
    return g.representative_point()


def _ensure_instrument(conn: Connection, instrument: Instrument, now: datetime) -> None:
    stored = repo.instrument_text(conn, instrument.id, instrument.version)
    if stored is None:
        repo.insert_instrument(conn, instrument_id=instrument.id, version=instrument.version,
                               title=instrument.title, text=instrument.text,
                               added_at=_iso(now))
    elif stored != instrument.text:
        raise InstrumentError(
            f"instrument {instrument.id} version {instrument.version} is already stored with "
            "different questions; give the changed instrument a new version number")


def use_instrument(store: Store, instrument: Instrument, *,
                   conn: Connection | None = None) -> None:
    """Store ``instrument`` and make it the one new audits use.

    A changed instrument needs a new version; old audits keep theirs.

    Parameters
    ----------
    store
        The store.
    instrument
        The instrument to store (when new) and choose (see :func:`current_instrument`).
    conn
        Run inside this transaction (the caller commits) instead of a new one.

    Raises
    ------
    InstrumentError
        When this id and version are stored already with different questions.
    """
    with store.transaction(conn) as conn:
        _ensure_instrument(conn, instrument, _now(None))
        store._set_setting(conn, "instrument", json.dumps([instrument.id, instrument.version]))
        store.bump(conn)


def current_instrument(store: Store) -> Instrument | None:
    """The instrument chosen in the app (:func:`use_instrument`), or None for the default."""
    chosen = store.get_setting("instrument")
    if not chosen:
        return None
    ident, version = json.loads(chosen)
    with store.engine.connect() as conn:
        text = repo.instrument_text(conn, ident, version)
    return None if text is None else _parsed(text, f"{ident} {version}")


def _clean_photos(photos: Sequence[bytes]) -> list[dict[str, object]]:
    rows = []
    for n, data in enumerate(photos, start=1):
        try:
            p = clean_photo(data)
        except UnusableInputError as exc:
            raise AssessmentError(f"photo {n}: {exc}") from None
        rows.append({"media_type": p.media_type, "width": p.width, "height": p.height,
                     "data": p.data})
    return rows


def _values(conn: Connection, draft: AssessmentDraft, instrument: Instrument
            ) -> dict[str, object]:
    """The stored columns of an audit (the place under ``geometry``, see
    :func:`layers.repos.assessments.insert`)."""
    card = score(instrument, draft.answers, draft.period)
    rep = _representative(draft.geometry)
    answers = {k: v for k, v in sorted(draft.answers.items()) if v is not None}
    return {
        "place_name": draft.place_name.strip(),
        "lon": float(rep.x), "lat": float(rep.y),
        "neighborhood_id": repo.neighborhood_at(conn, rep),
        "assessor": draft.assessor.strip(),
        "assessed_at": _iso(draft.assessed_at),
        "period": draft.period,
        "instrument_id": instrument.id,
        "instrument_version": instrument.version,
        "answers": json.dumps(answers),
        "notes": draft.notes.strip() or None,
        "overall": card.overall, "outcome": card.outcome, "confidence": card.confidence,
        "geometry": draft.geometry,
    }


def save_assessment(store: Store, draft: AssessmentDraft, instrument: Instrument, *,
                    now: datetime | None = None, author_key: str | None = None,
                    conn: Connection | None = None) -> str:
    """Store a new assessment.

    Parameters
    ----------
    store
        The store.
    draft
        The audit as filled in (place in WGS84, timezone-aware time).
    instrument
        The instrument it was answered on (stored with it when new).
    now
        The time of saving (timezone-aware); the current time by default.
    author_key
        Whose audit this is (an account's or a public session's key), kept so its
        author may be told apart from others later; None when unknown.
    conn
        Run inside this transaction (the caller commits) instead of a new one.

    Returns
    -------
    str
        The new audit's id.

    Raises
    ------
    AssessmentError
        Listing every problem with the draft or its photos; nothing is stored.
    """
    now = _now(now)
    problems = _check(draft, instrument)
    if problems:
        raise AssessmentError(_("the audit cannot be saved yet"), problems)
    photo_rows = _clean_photos(draft.photos)
    aid = f"A-{uuid.uuid4().hex[:8]}"
    with store.transaction(conn) as c:
        values = _values(c, draft, instrument)
        _ensure_instrument(c, instrument, now)
        repo.insert(c, {"id": aid, "created_at": _iso(now), "updated_at": _iso(now),
                        "version": 1, "author_key": author_key, **values})
        repo.add_photos(c, aid, photo_rows)
        repo.grow_extent(c, draft.geometry)
        store.bump(c)
    return aid


def update_assessment(store: Store, assessment_id: str, draft: AssessmentDraft,
                      instrument: Instrument, *, expected_version: int,
                      remove_photos: Sequence[int] = (), now: datetime | None = None,
                      conn: Connection | None = None) -> int:
    """Save an edit made on version ``expected_version``.

    The audit's author (``author_key``) stays as it was.

    Parameters
    ----------
    store
        The store.
    assessment_id
        The audit edited.
    draft
        Its new content; ``draft.photos`` are added to those kept.
    instrument
        The instrument the edit was answered on.
    expected_version
        The version the edit was made on (:attr:`Assessment.version`).
    remove_photos
        Ids of this audit's photos to remove (see :func:`photos`).
    now
        The time of saving (timezone-aware); the current time by default.
    conn
        Run inside this transaction (the caller commits) instead of a new one.

    Returns
    -------
    int
        The new version.

    Raises
    ------
    AssessmentError
        When the draft has problems (all listed) or there is no such audit.
    ConflictError
        When the stored audit has moved on since ``expected_version``.
    """
    now = _now(now)
    problems = _check(draft, instrument)
    if problems:
        raise AssessmentError(_("the audit cannot be saved yet"), problems)
    photo_rows = _clean_photos(draft.photos)
    with store.transaction(conn) as c:
        current = repo.current_version(c, assessment_id)
        if current is None:
            raise AssessmentError(f"there is no audit {assessment_id}")
        values = _values(c, draft, instrument)
        _ensure_instrument(c, instrument, now)
        done = repo.update(c, assessment_id, {"updated_at": _iso(now),
                                              "version": expected_version + 1, **values},
                           expected_version=expected_version)
        if done != 1:
            raise ConflictError(_(
                "audit {id} was changed by someone else since you opened it (it is now at "
                "version {now}, you edited version {edited}); reload it and make your "
                "changes again").format(id=assessment_id, now=current,
                                        edited=expected_version))
        repo.remove_photos(c, assessment_id, list(remove_photos))
        repo.add_photos(c, assessment_id, photo_rows)
        repo.grow_extent(c, draft.geometry)
        store.bump(c)
    return expected_version + 1


def delete_assessment(store: Store, assessment_id: str, *,
                      conn: Connection | None = None) -> None:
    """Delete an audit and its photos.

    Parameters
    ----------
    store
        The store.
    assessment_id
        The audit to delete.
    conn
        Run inside this transaction (the caller commits) instead of a new one.

    Raises
    ------
    AssessmentError
        When there is no such audit; nothing is changed.
    """
    with store.transaction(conn) as c:
        if repo.delete(c, assessment_id) != 1:
            raise AssessmentError(f"there is no audit {assessment_id}")
        store.bump(c)


def _record(row: Mapping[str, Any]) -> Assessment:
    return Assessment(
        id=str(row["id"]), place_name=str(row["place_name"]),
        geometry=row["geometry"],
        neighborhood_id=row["neighborhood_id"],
        assessor=str(row["assessor"]),
        assessed_at=pd.Timestamp(str(row["assessed_at"])),
        period=str(row["period"]), instrument_id=str(row["instrument_id"]),
        instrument_version=str(row["instrument_version"]),
        answers=json.loads(str(row["answers"])), notes=str(row["notes"] or ""),
        version=int(row["version"]),
        created_at=pd.Timestamp(str(row["created_at"])),
        updated_at=pd.Timestamp(str(row["updated_at"])),
        author_key=None if row["author_key"] is None else str(row["author_key"]),
    )


def get_assessment(store: Store, assessment_id: str) -> Assessment:
    """The stored audit ``assessment_id``.

    Raises
    ------
    AssessmentError
        When there is no such audit.
    """
    with store.engine.connect() as conn:
        row = repo.get(conn, assessment_id)
    if row is None:
        raise AssessmentError(f"there is no audit {assessment_id}")
    return _record(row)


def instrument_of(store: Store, assessment: Assessment) -> Instrument:
    """The instrument ``assessment`` was answered on, as stored with it."""
    with store.engine.connect() as conn:
        text = repo.instrument_text(conn, assessment.instrument_id,
                                    assessment.instrument_version)
    if text is None:
        raise InstrumentError(f"instrument {assessment.instrument_id} version "
                              f"{assessment.instrument_version} is not in this store")
    return _parsed(text, f"{assessment.instrument_id} {assessment.instrument_version}")


@functools.lru_cache(maxsize=16)
def _parsed(text: str, name: str) -> Instrument:
    """Instruments are immutable per (id, version): parse each stored text once, not once
    per audit scored (a trend scores every audit of a place)."""
    return parse_instrument(text, name=name)


def instruments_used(store: Store, audits: pd.DataFrame) -> dict[tuple[str, str], Instrument]:
    """``(instrument_id, version) -> Instrument`` for every instrument ``audits`` (rows of
    :func:`list_assessments`) were answered on, as stored.

    Raises
    ------
    InstrumentError
        When one of them is not in this store.
    """
    keys = sorted(set(zip(audits["instrument_id"].astype(str),
                          audits["instrument_version"].astype(str), strict=True)))
    out = {}
    with store.engine.connect() as conn:
        for ident, version in keys:
            text = repo.instrument_text(conn, ident, version)
            if text is None:
                raise InstrumentError(f"instrument {ident} version {version} is not in this "
                                      "store")
            out[(ident, version)] = _parsed(text, f"{ident} {version}")
    return out


def scorecard(store: Store, assessment: Assessment) -> Scorecard:
    return score(instrument_of(store, assessment), assessment.answers, assessment.period)


def list_assessments(store: Store, *, neighborhood_id: str | None = None,
                     ids: Sequence[str] | None = None) -> gpd.GeoDataFrame:
    """Assessments as a GeoDataFrame (WGS84), newest first, with each score's ``label``.

    Parameters
    ----------
    store
        The store.
    neighborhood_id
        Only audits in this neighborhood, when given.
    ids
        Only these audits, when given.

    Returns
    -------
    geopandas.GeoDataFrame
        The stored columns (``overall`` as computed from the answers, NaN where not
        scored), ``enough_answers`` (bool: at least
        :data:`~cpted.scoring.MIN_COVERAGE` of the applicable items answered, so the
        overall score may be rated) and ``label`` (the band, or "Not enough answers").
    """
    with store.engine.connect() as conn:
        frame = repo.list_rows(conn, neighborhood_id=neighborhood_id, ids=ids)
    frame["enough_answers"] = pd.Series([enough_answers(float(c)) for c in frame["confidence"]],
                                        index=frame.index, dtype=bool)
    frame["label"] = [audit_label(None if pd.isna(v) else float(v), float(c))
                      for v, c in zip(frame["overall"], frame["confidence"], strict=True)]
    return frame[[*repo.LIST_COLUMNS, "enough_answers", "label", "geometry"]]


def rated(audits: pd.DataFrame) -> pd.Series:
    """The ``overall`` of :func:`list_assessments` rows, NaN where there are not enough
    answers to rate it (see :data:`~cpted.scoring.MIN_COVERAGE`); aligned on the index."""
    return audits["overall"].where(audits["enough_answers"].astype(bool))


def photos(store: Store, assessment_id: str) -> list[tuple[int, str, bytes]]:
    """``(photo id, media type, bytes)`` of an assessment's photos, in the order added."""
    with store.engine.connect() as conn:
        return repo.photos(conn, assessment_id)


def same_place(store: Store, assessment_id: str, *,
               radius_m: float = SAME_PLACE_RADIUS_M) -> gpd.GeoDataFrame:
    """Audits of the same place as ``assessment_id``, oldest first, with principle scores.

    The same place is the same geometry, or a place whose point lies within
    ``radius_m`` of this one's.
    """
    base = get_assessment(store, assessment_id)
    everything = list_assessments(store)
    points = gpd.GeoSeries(gpd.points_from_xy(everything["lon"], everything["lat"]), crs=WGS84)
    crs = metric_crs(points)
    here = _representative(base.geometry)
    dist = points.to_crs(crs).distance(gpd.GeoSeries([here], crs=WGS84).to_crs(crs).iloc[0])
    same = everything.geometry.geom_equals(base.geometry) | (dist.to_numpy() <= radius_m)
    out = everything[same.to_numpy()].sort_values("assessed_at", kind="stable")
    out = out.reset_index(drop=True)
    cards = {}
    for _n, row in out.iterrows():
        rec = get_assessment(store, row["id"])
        cards[row["id"]] = scorecard(store, rec)
    for p in next(iter(cards.values())).principles:
        out[p.principle.name] = [cards[i].by_id().get(p.principle.id) for i in out["id"]]
    return gpd.GeoDataFrame(out, geometry="geometry", crs=WGS84)


def day_and_night(store: Store, assessment_id: str) -> tuple[Assessment, Assessment] | None:
    """The latest day audit and the latest night audit of this place, when both exist."""
    audits = same_place(store, assessment_id)
    day = audits[audits["period"] == "day"]
    night = audits[audits["period"] == "night"]
    if day.empty or night.empty:
        return None
    return (get_assessment(store, day["id"].iloc[-1]),
            get_assessment(store, night["id"].iloc[-1]))
