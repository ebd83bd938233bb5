"""Findings against the old code, each fixed at the door (:mod:`cpted.access`): the
duplicate check as an oracle, notes and photos of sensitive reports, and a public rate
limit that a reload reset."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import geopandas as gpd
import pytest
from PIL import Image

from cpted import accounts as acc
from cpted import concerns as cc
from cpted.access import PUBLIC_DUPLICATE_COLUMNS, Access, RateLimitError
from cpted.accounts import Actor
from cpted.clients import client_address
from cpted.concerns import ReportDraft
from cpted.privacy import Role
from layers.settings import Settings
from layers.store import Store

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
PLACE = (-94.571234, 39.051234)


@pytest.fixture
def store(any_store: Store) -> Store:
    return any_store


def photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(out, "JPEG")
    return out.getvalue()


def sensitive(store: Store) -> str:
    return cc.submit_report(store, ReportDraft("drug_activity", *PLACE, "Blue door, number 7",
                                               address="12 Hidden St", photo=photo()))


def test_the_public_duplicate_check_reveals_no_distance_text_or_finer_place(
        store: Store) -> None:
    rid = sensitive(store)
    public = Access(store, acc.public("b1"))
    near = public.duplicates("drug_activity", PLACE[0], PLACE[1] + 0.0003)  # 33 m north
    assert list(near["service_request_id"]) == [rid]
    assert set(near.columns) == {*PUBLIC_DUPLICATE_COLUMNS, "geometry"}
    assert near["location_precision"].iloc[0] != "exact"
    assert near.geometry.iloc[0].distance(
        Access(store, acc.public()).concern(rid)["geometry"]) < 1e-9  # the public map's cell
    # Probing around it tells nothing finer than the cell the public map already shows:
    # every probe in one cell gets the same answer, whatever its distance to the report.
    cell = near.geometry.iloc[0]
    answers = set()
    for dx, dy in [(-0.0011, -0.0011), (0.0011, 0.0011), (-0.0011, 0.0011), (0.0, 0.0)]:
        probe = (cell.x + dx, cell.y + dy)
        answers.add(len(public.duplicates("drug_activity", *probe)))
    assert answers == {1}
    # ... and staff still get distances, nearest first
    staff = Access(store, Actor("c", "C", Role.COORDINATOR)).duplicates("drug_activity", *PLACE)
    assert staff["distance_m"].iloc[0] < 1 and staff["description"].iloc[0]


def test_the_duplicate_check_of_a_sensitive_category_with_no_open_report_finds_none(
        store: Store) -> None:
    # no open report of the category at all (the Report page once failed on this)
    near = Access(store, acc.public("b0")).duplicates("drug_activity", *PLACE)
    assert near.empty and set(near.columns) >= {*PUBLIC_DUPLICATE_COLUMNS, "geometry"}


def test_a_sensitive_report_s_notes_and_photos_never_reach_the_public(store: Store) -> None:
    rid = sensitive(store)
    staff = Access(store, Actor("c", "C", Role.COORDINATOR))
    staff.change_status(rid, "acknowledged", "Raid on Friday", visibility="public")
    Access(store, acc.public("b2")).support(rid, "I saw them too")
    public = Access(store, acc.public("b3"))
    seen = public.history(rid)
    assert seen["note"].isna().all() and seen["actor"].isna().all()
    assert public.photos(rid) == []
    assert len(staff.photos(rid)) == 1
    assert set(staff.history(rid)["note"].dropna()) == {"Raid on Friday", "I saw them too"}
    # the support was written internal by default, the status note as chosen
    vis = dict(zip(staff.history(rid)["note"], staff.history(rid)["visibility"], strict=False))
    assert vis["I saw them too"] == "internal"


def test_public_notes_of_ordinary_reports_are_public_internal_ones_are_not(
        store: Store) -> None:
    rid = cc.submit_report(store, ReportDraft("graffiti", -94.57, 39.05, "tags"))
    staff = Access(store, Actor("c", "C", Role.COORDINATOR))
    staff.change_status(rid, "acknowledged", "Crew booked for Monday")  # default: public
    staff.change_status(rid, "in progress", "Owner is Mr Smith", visibility="internal")
    notes = set(Access(store, acc.public()).history(rid)["note"].dropna())
    assert notes == {"Crew booked for Monday"}


def test_the_public_rate_limit_keys_on_the_address_not_the_session(store: Store) -> None:
    rid = cc.submit_report(store, ReportDraft("graffiti", -94.57, 39.05, "tags"))
    limits = Settings(max_writes_per_minute=2, max_public_writes_per_minute=5)
    for session in ("s1", "s2"):  # a reload is a new session from the same address
        Access(store, acc.public(session, "198.51.100.7"), limits).support(rid)
    with pytest.raises(RateLimitError, match="from this address"):
        Access(store, acc.public("s3", "198.51.100.7"), limits).support(rid)
    # many addresses still meet the public's budget as a whole
    Access(store, acc.public("a", "198.51.100.8"), limits).support(rid)
    Access(store, acc.public("b", "198.51.100.9"), limits).support(rid)
    Access(store, acc.public("c", "198.51.100.10"), limits).support(rid)
    with pytest.raises(RateLimitError, match="public as a whole"):
        Access(store, acc.public("d", "198.51.100.11"), limits).support(rid)
    # accounts have their own quota, outside the public's budget
    Access(store, Actor("r1", "R", Role.RESIDENT), limits).support(rid)


@pytest.mark.parametrize(("peer", "header", "trusted", "expected"), [
    ("203.0.113.5", None, "", "203.0.113.5"),
    ("203.0.113.5", "1.2.3.4", "", "203.0.113.5"),  # a header from anyone: ignored
    ("10.0.0.2", "198.51.100.7", "10.0.0.2", "198.51.100.7"),
    ("10.0.0.2", "6.6.6.6, 198.51.100.7", "10.0.0.2", "198.51.100.7"),  # spoofed first hop
    ("10.0.0.2", "198.51.100.7, 10.0.0.3", "10.0.0.2,10.0.0.3", "198.51.100.7"),
    ("10.0.0.2", "not an address", "10.0.0.2", "10.0.0.2"),
    (None, "1.2.3.4", "", ""),
])
def test_the_client_address_believes_only_trusted_proxies(
        peer: str | None, header: str | None, trusted: str, expected: str) -> None:
    assert client_address(peer, header, trusted) == expected


def test_counts_per_neighborhood_use_the_place_the_public_sees(sample_store: Store) -> None:
    """A sensitive report just inside one neighborhood whose public grid cell lies in the
    next one is counted where the public map shows it, never where it really is: counting
    it by its exact place would tell which side of the boundary it is on."""
    import numpy as np
    import shapely

    from cpted.overlay import overlay
    from cpted.privacy import snap_to_grid
    from layers.crs import WGS84
    from layers.schema import Layer

    hoods = sample_store.read(Layer.NEIGHBORHOODS)
    rng = np.random.default_rng(7)
    found = None
    for _ in range(5000):
        west, south, east, north = hoods.total_bounds
        lon, lat = rng.uniform(west, east), rng.uniform(south, north)
        here = shapely.Point(lon, lat)
        inside = hoods[hoods.covers(here)]
        if inside.empty:
            continue
        cell = snap_to_grid(gpd.GeoSeries([here], crs=WGS84), 250.0).iloc[0]
        there = hoods[hoods.covers(cell)]
        if not there.empty and there["id"].iloc[0] != inside["id"].iloc[0]:
            found = (lon, lat, inside["id"].iloc[0], there["id"].iloc[0])
            break
    assert found, "the sample has a boundary with a grid cell centre on its far side"
    lon, lat, real, shown = found
    public = Access(sample_store, acc.public())

    def counts() -> dict[str, tuple[int, int]]:
        table = overlay(public.concerns(), hoods).set_index("neighborhood_id")["count"]
        return {h: (int(table[h]), public.neighborhood_brief(h, since=NOW).new_concerns)
                for h in (real, shown)}

    before = counts()
    rid = cc.submit_report(sample_store, ReportDraft("drug_activity", lon, lat, "secret"),
                           now=NOW + timedelta(minutes=1))
    after = counts()
    # the Neighborhoods page's overlay and the meeting brief both count it where the
    # public map shows it, and not where it is
    assert after[shown] == (before[shown][0] + 1, before[shown][1] + 1)
    assert after[real] == before[real]
    seen = public.concerns(where={"service_request_id": [rid]})
    assert hoods[hoods["id"] == shown].covers(seen.geometry.iloc[0]).all()


def test_user_facing_refusals_are_in_one_hierarchy(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A wrong option, a bad setting, an unknown layer: each is a CptedError (and still a
    ValueError for callers that catch that), shown as one line, never a traceback."""
    from cpted.cli import main
    from layers.errors import CptedError, SettingsError, UsageError
    from layers.schema import parse_layer
    from layers.settings import load_settings

    with pytest.raises(SettingsError):
        Settings(max_writes_per_minute=0)
    with pytest.raises(CptedError):
        parse_layer("no-such-layer")
    db = str(tmp_path / "s.gpkg")
    assert main(["export", "--db", db, "--layer", "concerns", "--format", "xls",
                 "--out", str(tmp_path / "x.xls")]) == 1
    err = capsys.readouterr().err
    assert "unknown output format 'xls'" in err and "Traceback" not in err
    assert issubclass(UsageError, CptedError) and issubclass(SettingsError, ValueError)
    monkeypatch.setenv("CPTED_MAP_POINT_LIMIT", "lots")
    with pytest.raises(SettingsError, match="CPTED_MAP_POINT_LIMIT should be a int"):
        load_settings()
