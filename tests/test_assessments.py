"""Stored assessments: saved whole, refused with every reason, edits guarded by versions."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import geopandas as gpd
import pyogrio
import pytest
import shapely
from PIL import Image

from cpted import assessments as A
from cpted.instrument import NA, InstrumentError, load_instrument, parse_instrument
from layers.errors import ConflictError
from layers.store import Store


@pytest.fixture
def store(any_store: Store) -> Store:
    """Every test here runs on the embedded store and on PostGIS."""
    return any_store


INS = load_instrument()
WHEN = datetime(2026, 3, 1, 21, 0, tzinfo=UTC)
HERE = shapely.Point(-94.58, 39.05)


def draft(**kw) -> A.AssessmentDraft:  # type: ignore[no-untyped-def]
    base = {"place_name": "5th & Main", "geometry": HERE, "assessor": "Block 12 association",
                "assessed_at": WHEN, "period": "night",
                "answers": {"lt_level": 0, "lt_working": 0, "ns_windows": 3, "fs_feel": 2,
                         "mi_litter": NA}}
    base.update(kw)
    return A.AssessmentDraft(**base)


def jpeg_with_gps() -> bytes:
    img = Image.new("RGB", (64, 48), "red")
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (39.0, 3.0, 0.0)}
    out = io.BytesIO()
    img.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def test_saved_assessment_reads_back_with_scores(store: Store) -> None:
    aid = A.save_assessment(store, draft(notes="Dark under the bridge", photos=[jpeg_with_gps()]),
                            INS, now=WHEN)
    a = A.get_assessment(store, aid)
    assert (a.place_name, a.assessor, a.period, a.version) == (
        "5th & Main", "Block 12 association", "night", 1)
    assert a.assessed_at == WHEN
    assert a.answers == {"lt_level": 0, "lt_working": 0, "ns_windows": 3, "fs_feel": 2,
                         "mi_litter": NA}
    assert (a.instrument_id, a.instrument_version) == (INS.id, INS.version)
    assert a.geometry.equals(HERE) and a.notes == "Dark under the bridge"
    card = A.scorecard(store, a)
    assert card.by_id()["lighting"] == 0.0 and card.by_id()["natural_surveillance"] == 100.0
    listed = A.list_assessments(store)
    assert listed.loc[0, "overall"] == pytest.approx(card.overall)
    assert listed.loc[0, "label"] == card.label
    [(_, media, data)] = A.photos(store, aid)
    assert media == "image/jpeg"
    assert Image.open(io.BytesIO(data)).getexif() == {}  # location stripped
    # a GeoPackage layer GDAL reads, or a PostGIS table geopandas reads
    if store.path is not None:
        frame = pyogrio.read_dataframe(store.path, layer="assessments")
    else:
        frame = gpd.read_postgis("SELECT id, geom FROM assessments", store.engine)
    assert list(frame["id"]) == [aid] and frame.geometry.iloc[0].equals(HERE)


def test_every_problem_is_named_and_nothing_is_stored(store: Store) -> None:
    bad = draft(place_name=" ", assessor="", period="dusk", geometry=shapely.Point(500, 500),
                answers={"lt_level": 9, "bogus": 1}, notes="x" * (A.MAX_NOTES_CHARS + 1))
    with pytest.raises(A.AssessmentError) as err:
        A.save_assessment(store, bad, INS)
    problems = err.value.problems
    assert any("give the place a name" in p for p in problems)
    assert any("who made the audit" in p for p in problems)
    assert any("by day or by night, not 'dusk'" in p for p in problems)
    assert any("not longitude/latitude" in p for p in problems)
    assert any("notes are longer" in p for p in problems)
    assert len(A.list_assessments(store)) == 0
    with pytest.raises(A.AssessmentError, match="answer at least one"):
        A.save_assessment(store, draft(answers={}), INS)
    with pytest.raises(A.AssessmentError) as err:
        A.save_assessment(store, draft(geometry=shapely.Polygon(
            [(-94.58, 39.05), (-94.57, 39.06), (-94.57, 39.05), (-94.58, 39.06)])), INS)
    assert any("crosses itself" in p for p in err.value.problems)
    with pytest.raises(A.AssessmentError, match="photo 1"):
        A.save_assessment(store, draft(photos=[b"not an image"]), INS)
    assert len(A.list_assessments(store)) == 0


def test_second_save_of_a_stale_copy_is_refused(store: Store) -> None:
    aid = A.save_assessment(store, draft(), INS)
    first = A.get_assessment(store, aid)
    mine, theirs = first.draft(), first.draft()
    theirs.answers = {**theirs.answers, "ns_windows": 1}
    assert A.update_assessment(store, aid, theirs, INS, expected_version=1) == 2
    mine.answers = {**mine.answers, "lt_level": 3}
    with pytest.raises(ConflictError, match="changed by someone else"):
        A.update_assessment(store, aid, mine, INS, expected_version=1)
    after = A.get_assessment(store, aid)
    assert after.version == 2
    assert after.answers["ns_windows"] == 1 and after.answers["lt_level"] == 0  # theirs kept


def test_old_audits_keep_their_instrument(store: Store) -> None:
    aid = A.save_assessment(store, draft(), INS)
    v2 = parse_instrument(INS.text.replace('version = "1.0"', 'version = "2.0"').replace(
        "The light is bright enough", "Light enough"))
    A.save_assessment(store, draft(), v2)
    old = A.instrument_of(store, A.get_assessment(store, aid))
    assert old.version == "1.0" and "The light is bright enough" in old.item("lt_level").question
    changed_same_version = parse_instrument(INS.text.replace("The light is bright", "Bright"))
    with pytest.raises(InstrumentError, match="new version number"):
        A.save_assessment(store, draft(), changed_same_version)


def test_same_place_trend_and_day_night(store: Store) -> None:
    near = shapely.Point(-94.58005, 39.05005)  # about 7 m away
    far = shapely.Point(-94.57, 39.05)
    first = A.save_assessment(store, draft(assessed_at=WHEN - timedelta(days=365),
                                           answers={"lt_level": 0}), INS)
    A.save_assessment(store, draft(geometry=near, answers={"lt_level": 3}), INS)
    A.save_assessment(store, draft(geometry=far, answers={"lt_level": 2}), INS)
    trend = A.same_place(store, first)
    assert list(trend["Lighting"]) == [0.0, 100.0]  # oldest first, the far place left out
    assert A.day_and_night(store, first) is None
    A.save_assessment(store, draft(period="day", assessed_at=WHEN + timedelta(hours=14),
                                   answers={"ns_windows": 2}), INS)
    pair = A.day_and_night(store, first)
    assert pair is not None and (pair[0].period, pair[1].period) == ("day", "night")


def test_sample_store_has_audits_with_trends(sample_store: Store) -> None:
    audits = A.list_assessments(sample_store)
    assert len(audits) >= 36
    assert audits["neighborhood_id"].notna().mean() > 0.8
    assert set(audits["period"]) == {"day", "night"}
    repeated = audits.groupby("place_name")["id"].count()
    assert (repeated >= 2).all()
    assert audits["overall"].between(0, 100).all()


def test_author_key_is_stored_and_kept_through_edits(store: Store) -> None:
    mine = A.save_assessment(store, draft(), INS, now=WHEN, author_key="acct:42")
    anon = A.save_assessment(store, draft(), INS, now=WHEN)
    assert A.get_assessment(store, mine).author_key == "acct:42"
    assert A.get_assessment(store, anon).author_key is None
    A.update_assessment(store, mine, draft(notes="Edited"), INS, expected_version=1)
    edited = A.get_assessment(store, mine)
    assert (edited.author_key, edited.notes, edited.version) == ("acct:42", "Edited", 2)


def test_delete_removes_the_audit_and_its_photos_only(store: Store) -> None:
    gone = A.save_assessment(store, draft(photos=[jpeg_with_gps()]), INS, now=WHEN)
    kept = A.save_assessment(store, draft(photos=[jpeg_with_gps()]), INS, now=WHEN)
    before = store.revision()
    A.delete_assessment(store, gone)
    assert store.revision() == before + 1
    with pytest.raises(A.AssessmentError, match=gone):
        A.get_assessment(store, gone)
    assert A.photos(store, gone) == []
    assert list(A.list_assessments(store)["id"]) == [kept]
    assert len(A.photos(store, kept)) == 1
    with pytest.raises(A.AssessmentError, match="there is no audit"):
        A.delete_assessment(store, gone)
    assert store.revision() == before + 1


def test_delete_of_the_last_audit_clears_the_geopackage_extent(store: Store) -> None:
    aid = A.save_assessment(store, draft(), INS, now=WHEN)
    A.delete_assessment(store, aid)
    if store.path is None:
        pytest.skip("only a GeoPackage records a layer's extent")
    import sqlalchemy as sa

    with store.engine.connect() as conn:
        extent = conn.execute(sa.text("SELECT min_x, min_y, max_x, max_y FROM gpkg_contents "
                                      "WHERE table_name = 'assessments'")).one()
    assert tuple(extent) == (None, None, None, None)


class CallerFailedError(Exception):
    """What the caller's own part of a transaction raised."""


def writes_then_fail(store: Store, aid: str) -> None:
    with store.transaction() as conn:
        A.save_assessment(store, draft(place_name="Never stored"), INS, conn=conn)
        A.update_assessment(store, aid, draft(notes="Never stored"), INS,
                            expected_version=1, conn=conn)
        A.delete_assessment(store, aid, conn=conn)
        raise CallerFailedError


def test_writes_join_the_callers_transaction(store: Store) -> None:
    """Given ``conn``, a write commits or rolls back with the caller's transaction and
    bumps the revision once."""
    aid = A.save_assessment(store, draft(), INS, now=WHEN)
    before = store.revision()
    with pytest.raises(CallerFailedError):
        writes_then_fail(store, aid)
    assert store.revision() == before
    assert list(A.list_assessments(store)["id"]) == [aid]
    assert A.get_assessment(store, aid).version == 1
    with store.transaction() as conn:
        new = A.save_assessment(store, draft(), INS, conn=conn, author_key="s:1")
        A.update_assessment(store, aid, draft(notes="Both"), INS, expected_version=1,
                            conn=conn)
    assert store.revision() == before + 2  # one bump per write, none twice
    assert A.get_assessment(store, new).author_key == "s:1"
    assert A.get_assessment(store, aid).notes == "Both"
