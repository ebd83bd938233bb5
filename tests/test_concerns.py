from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image

from cpted import concerns as cc
from cpted.concerns import ReportDraft, ReportError
from cpted.photos import clean_photo
from layers.errors import UnusableInputError
from layers.schema import Layer, TimeOfDay
from layers.store import Store


@pytest.fixture
def store(any_store: Store) -> Store:
    """Every test here runs on the embedded store and on PostGIS."""
    return any_store


NOW = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)
X, Y = -94.58, 39.04


def draft(**kw: object) -> ReportDraft:
    base = {"service_code": "dark_area", "lon": X, "lat": Y, "description": "Alley is dark",
            "time_of_day": TimeOfDay.NIGHT,
            "answers": {"lighting_issue": "No light at all"}}
    base.update(kw)
    return ReportDraft(**base)  # type: ignore[arg-type]


def test_submit_stores_an_open_report_with_history(store: Store) -> None:
    rid = cc.submit_report(store, draft(), now=NOW)
    got = store.read(Layer.CONCERNS, ids=[rid]).iloc[0]
    assert (got["status"], got["detailed_status"]) == ("open", "submitted")
    assert got["service_name"] == "Dark area / lighting"
    assert got["time_of_day"] == "night"
    assert got.geometry.x == X and got.geometry.y == Y
    h = cc.history(store, rid)
    assert list(h["kind"]) == ["created"]


def test_submit_reports_every_problem_at_once(store: Store) -> None:
    with pytest.raises(ReportError) as exc:
        cc.submit_report(store, draft(service_code="dark_area", answers={}, lon=500.0,
                                      description="x" * 5000, contact_email="not-an-email"),
                         now=NOW)
    assert len(exc.value.problems) == 4
    assert store.count(Layer.CONCERNS) == 0


def test_each_problem_names_the_field_it_is_about(store: Store) -> None:
    with pytest.raises(ReportError) as exc:
        cc.submit_report(store, draft(service_code="dark_area", answers={"colour": "red"},
                                      lon=500.0, description="x" * 5000,
                                      contact_email="not-an-email"), now=NOW)
    fields = exc.value.fields
    assert set(fields) == {"lighting_issue", "location", "description", "contact_email"}
    assert fields["lighting_issue"] == [
        "the question “What is wrong with the light here?” needs an answer"]
    assert "not-an-email" in fields["contact_email"][0]
    # the answer to a question the category does not ask is about no one field
    assert any("unknown questions: colour" in p for p in exc.value.problems)
    assert len(exc.value.problems) == 5


def test_unknown_category_lists_the_known_ones(store: Store) -> None:
    with pytest.raises(ReportError) as exc:
        cc.submit_report(store, draft(service_code="ufo", answers={}), now=NOW)
    assert "graffiti" in exc.value.problems[0]


def test_contact_is_kept_apart_and_anonymous_is_the_default(store: Store) -> None:
    anon = cc.submit_report(store, draft(), now=NOW)
    named = cc.submit_report(store, draft(contact_name="Ann", contact_email="ann@example.org"),
                             now=NOW)
    assert cc.contact(store, anon) is None
    assert cc.contact(store, named) == {"name": "Ann", "email": "ann@example.org",
                                        "phone": None}
    row = store.read(Layer.CONCERNS, ids=[named]).iloc[0]
    assert "ann@example.org" not in " ".join(str(v) for v in row.to_numpy())


def _jpeg_with_gps() -> bytes:
    img = Image.new("RGB", (3000, 1500), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0131] = "SecretCam 1.0"  # Software
    gps = exif.get_ifd(0x8825)
    gps[2] = (39.0, 2.0, 30.0)  # GPSLatitude
    gps[4] = (94.0, 35.0, 10.0)  # GPSLongitude
    buf = io.BytesIO()
    img.save(buf, format="JPEG", exif=exif)
    return buf.getvalue()


def test_photo_metadata_is_stripped_and_size_bounded(store: Store) -> None:
    raw = _jpeg_with_gps()
    with Image.open(io.BytesIO(raw)) as before:
        assert before.getexif().get(0x010F) == "PhoneMaker"  # the input really has EXIF
    rid = cc.submit_report(store, draft(photo=raw), now=NOW)
    [(media_type, data)] = cc.photos(store, rid)
    assert media_type == "image/jpeg"
    with Image.open(io.BytesIO(data)) as after:
        assert len(after.getexif()) == 0
        assert max(after.size) == 2048
        assert after.size == (2048, 1024)
    assert b"PhoneMaker" not in data and b"SecretCam" not in data and b"Exif" not in data


def test_bad_photos_are_refused_with_reasons() -> None:
    with pytest.raises(UnusableInputError, match="could not be read"):
        clean_photo(b"not an image")
    with pytest.raises(UnusableInputError, match="at most"):
        clean_photo(b"x" * 100, max_bytes=10)
    buf = io.BytesIO()
    Image.new("RGB", (10, 10)).save(buf, format="GIF")
    with pytest.raises(UnusableInputError, match="JPEG, PNG or WebP"):
        clean_photo(buf.getvalue())


def test_duplicates_same_category_within_radius_and_window(store: Store) -> None:
    near = cc.submit_report(store, draft(), now=NOW - timedelta(days=3))
    # ~111 m north: outside dark_area's 50 m radius
    cc.submit_report(store, draft(lat=Y + 0.001), now=NOW - timedelta(days=3))
    # same place, other category
    cc.submit_report(store, draft(service_code="graffiti", answers={}), now=NOW)
    # same place, too old (window 60 days)
    cc.submit_report(store, draft(), now=NOW - timedelta(days=90))
    dups = cc.find_duplicates(store, "dark_area", X + 0.0002, Y, now=NOW)  # ~17 m east
    assert list(dups["service_request_id"]) == [near]
    assert dups["distance_m"].iloc[0] == pytest.approx(17.3, abs=0.5)


def test_closed_reports_are_not_offered_as_duplicates(store: Store) -> None:
    rid = cc.submit_report(store, draft(), now=NOW)
    cc.change_status(store, rid, "fixed", "New bulb fitted", actor="Public Works", now=NOW)
    assert cc.find_duplicates(store, "dark_area", X, Y, now=NOW).empty


def test_support_counts(store: Store) -> None:
    rid = cc.submit_report(store, draft(), now=NOW)
    assert cc.add_support(store, rid, now=NOW) == 1
    assert cc.add_support(store, rid, note="Still dark", now=NOW) == 2
    dups = cc.find_duplicates(store, "dark_area", X, Y, now=NOW)
    assert dups["support"].iloc[0] == 2
    assert list(cc.history(store, rid)["kind"]) == ["created", "support", "support"]


def test_status_change_needs_a_note_and_keeps_history(store: Store) -> None:
    rid = cc.submit_report(store, draft(), now=NOW)
    with pytest.raises(ReportError, match="not changed") as exc:
        cc.change_status(store, rid, "acknowledged", "  ", actor="coordinator", now=NOW)
    assert "needs a note" in exc.value.problems[0]
    cc.change_status(store, rid, "acknowledged", "Passed to Public Works", actor="Coord",
                     now=NOW + timedelta(hours=1))
    cc.change_status(store, rid, "fixed", "Bulb replaced", actor="Public Works",
                     now=NOW + timedelta(days=2))
    got = store.read(Layer.CONCERNS, ids=[rid]).iloc[0]
    assert (got["status"], got["detailed_status"]) == ("closed", "fixed")
    assert got["updated_datetime"] == NOW + timedelta(days=2)
    cc.change_status(store, rid, "in progress", "Still dark at night: reopened",
                     actor="Resident", now=NOW + timedelta(days=5))
    h = cc.history(store, rid)
    assert list(h["kind"]) == ["created", "status", "status", "reopened"]
    assert list(h["to_status"]) == ["submitted", "acknowledged", "fixed", "in progress"]
    assert h["from_status"].iloc[0] is None  # missing values are None, never "nan"
    assert h["note"].iloc[2] == "Bulb replaced"
    assert store.read(Layer.CONCERNS, ids=[rid]).iloc[0]["status"] == "open"
    assert cc.reopened_ids(store) == {rid}


def test_status_change_refusals(store: Store) -> None:
    rid = cc.submit_report(store, draft(), now=NOW)
    with pytest.raises(ReportError, match="already"):
        cc.change_status(store, rid, "submitted", "again", actor="x", now=NOW)
    with pytest.raises(ReportError, match="unknown status"):
        cc.change_status(store, rid, "done-ish", "note", actor="x", now=NOW)
    with pytest.raises(ReportError, match="no concern"):
        cc.change_status(store, "CR-nope", "fixed", "note", actor="x", now=NOW)


def test_text_is_stored_exactly_as_written(store: Store) -> None:
    text = '<img src=x onerror=alert(1)> <script>alert("x")</script> \'; DROP TABLE concerns;--'
    rid = cc.submit_report(store, draft(description=text), now=NOW)
    assert store.read(Layer.CONCERNS, ids=[rid]).iloc[0]["description"] == text
    cc.change_status(store, rid, "acknowledged", text, actor=text, now=NOW)
    h = cc.history(store, rid)
    assert h["note"].iloc[-1] == text and h["actor"].iloc[-1] == text
