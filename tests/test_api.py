"""The Open311 GeoReport v2 server against a real one: ``cpted api`` (uvicorn) started in a
subprocess on a free loopback port, on a copy of the sample district, spoken to with a
plain HTTP client (``urllib.request``); the store is then read as the pages read it."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from PIL import Image

from cpted import accounts as acc
from cpted import apikeys
from cpted.access import Access
from cpted.accounts import Actor
from cpted.cli import main
from cpted.concerns import ReportDraft, ReportError
from cpted.privacy import Role, snap_to_grid
from layers import open311
from layers.crs import WGS84
from layers.errors import UnusableInputError
from layers.importer import import_file
from layers.schema import Layer
from layers.settings import Settings
from layers.store import Store, open_store
from tests.api_client import Answer, all_requests, get, post, serve

EXACT = (-94.581234, 39.041234)  # a sensitive report's place (lon, lat)
CONTACT = {"name": "Rita Private-Reporter", "email": "rita.private@example.org",
           "phone": "+1 816 555 0177"}
SENSITIVE_TEXT = "Behind the blue door at number 12"
PUBLIC_NOTE_ON_SENSITIVE = "Officers briefed about the back gate"
INTERNAL_NOTE = "Caller is the landlord's nephew"
RATE = 3  # the server's max_writes_per_minute, per key
LONG_AGO = "2000-01-01T00:00:00Z"


@dataclass(frozen=True)
class Server:
    base: str
    db: Path
    ids: dict[str, str]

    def store(self) -> Store:
        return open_store(self.db)

    def key(self, name: str = "Test client") -> str:
        """A fresh API key (each test its own, so the rate limit is its own)."""
        with self.store() as s:
            return Access(s, acc.operator()).create_api_key(name).key


def seed(store: Store) -> dict[str, str]:
    """A sensitive report with contact and a public-marked note, and a plain report with
    contact and an internal note."""
    staff = Access(store, Actor("c1", "Casey", Role.COORDINATOR),
                   Settings(max_writes_per_minute=1000))
    sens = staff.submit_report(ReportDraft(
        "drug_activity", *EXACT, SENSITIVE_TEXT, address="12 Hidden Row",
        contact_name=CONTACT["name"], contact_email=CONTACT["email"],
        contact_phone=CONTACT["phone"]))
    plain = staff.submit_report(ReportDraft("graffiti", -94.5702, 39.0351, "Tags on a shed",
                                            contact_email=CONTACT["email"]))
    staff.change_status(sens, "acknowledged", PUBLIC_NOTE_ON_SENSITIVE, visibility="public")
    staff.change_status(plain, "acknowledged", INTERNAL_NOTE, visibility="internal")
    return {"sensitive": sens, "plain": plain}


@pytest.fixture(scope="module")
def api(_sample_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("api")
    db = folder / "store.gpkg"
    shutil.copy(_sample_db, db)
    with open_store(db) as s:
        ids = seed(s)
    with serve(str(db), folder / "server.log",
               CPTED_MAX_WRITES_PER_MINUTE=str(RATE)) as base:
        yield Server(base, db, ids)


def assert_spec_errors(got: Answer, status: int, *needles: str) -> list[str]:
    """The answer is the specification's error list with this status; each needle is in
    one of its descriptions. Returns the descriptions."""
    assert got.status == status, (got.status, got.text)
    assert got.headers.get("content-type", "").startswith("application/json")
    body = got.json()
    assert isinstance(body, list) and body
    assert all(set(e) >= {"code", "description"} and e["code"] == status for e in body), body
    texts = [str(e["description"]) for e in body]
    for needle in needles:
        assert any(needle in t for t in texts), (needle, texts)
    return texts


def by_id(items: list[dict[str, object]]) -> dict[str, dict[str, object]]:
    return {str(i["service_request_id"]): i for i in items}


def concern_count(server: Server) -> int:
    with server.store() as s:
        return s.count(Layer.CONCERNS)


# -- reading ------------------------------------------------------------------------

def test_discovery_says_json_only_and_where_the_endpoint_is(api: Server) -> None:
    got = get(api.base + "/discovery.json")
    assert got.status == 200
    assert got.headers["content-type"] == "application/json; charset=utf-8"
    doc = got.json()
    assert set(doc) >= {"changeset", "contact", "key_service", "endpoints"}
    [endpoint] = doc["endpoints"]
    assert endpoint == {"specification": "http://wiki.open311.org/GeoReport_v2",
                        "url": api.base, "changeset": doc["changeset"],
                        "type": "production", "formats": ["application/json"]}
    assert doc["extensions"]["paging"]["page_size_max"] == 1000


def test_services_and_their_definitions(api: Server) -> None:
    with api.store() as s:
        catalogue = Access(s, acc.public()).services()
    got = get(api.base + "/services.json")
    assert got.status == 200
    assert got.json() == open311.services_json(catalogue.values())
    for code, service in catalogue.items():
        d = get(f"{api.base}/services/{code}.json")
        assert d.status == 200, d.text
        definition = d.json()
        assert definition["service_code"] == code
        assert [a["code"] for a in definition["attributes"]] == [a.code for a in
                                                                 service.attributes]
        assert [a["order"] for a in definition["attributes"]] == list(
            range(1, len(service.attributes) + 1))
    light = get(api.base + "/services/dark_area.json").json()["attributes"][0]
    assert light["datatype"] == "singlevaluelist" and light["required"] is True
    assert {"key": "Light too dim", "name": "Light too dim"} in light["values"]
    yes_no = get(api.base + "/services/vacant_property.json").json()["attributes"][0]
    assert yes_no["datatype"] == "singlevaluelist"
    assert [v["key"] for v in yes_no["values"]] == ["true", "false"]
    assert_spec_errors(get(api.base + "/services/no_such_thing.json"), 404, "no_such_thing")


def test_requests_json_records_are_the_public_export_s(api: Server, tmp_path: Path) -> None:
    with api.store() as s:
        n = Access(s, acc.public()).export(Layer.CONCERNS, tmp_path / "r.json", "open311")
    exported = by_id(json.loads((tmp_path / "r.json").read_text()))
    served = by_id(all_requests(api.base, start_date=LONG_AGO, page_size=700))
    assert len(served) == n == len(exported) >= 2002
    assert served == exported
    one = get(f"{api.base}/requests/{api.ids['sensitive']}.json")
    assert one.status == 200
    assert one.json() == [exported[api.ids["sensitive"]]]


def test_filters_and_pages(api: Server) -> None:
    with api.store() as s:
        rows = s.read(Layer.CONCERNS)
    rows["t"] = pd.to_datetime(rows["requested_datetime"], utc=True)
    start, end = "2025-03-01T00:00:00Z", "2025-06-30T23:59:59-05:00"
    lo, hi = pd.Timestamp(start), pd.Timestamp(end)
    want = rows[rows["service_code"].isin(["graffiti", "dark_area"])
                & (rows["status"] == "closed") & (rows["t"] >= lo) & (rows["t"] <= hi)]
    assert 20 < len(want) < 1000
    got = all_requests(api.base, service_code="graffiti,dark_area", status="closed",
                       start_date=start, end_date=end, page_size=15)
    assert [g["service_request_id"] for g in got] == list(want["service_request_id"])
    # repeated parameters count as the comma-delimited list does
    again = get(api.base + "/requests.json?service_code=graffiti&service_code=dark_area"
                "&status=closed&start_date=2025-03-01T00:00:00+00:00"  # "+" unescaped
                "&end_date=2025-06-30T23:59:59%2D05:00&page_size=1000").json()
    assert [g["service_request_id"] for g in again] == list(want["service_request_id"])
    # a page past the end is empty, and a full page links to the next
    first = get(api.base + "/requests.json", {"start_date": LONG_AGO, "page_size": 5})
    assert len(first.json()) == 5 and 'rel="next"' in first.headers.get("link", "")
    far = get(api.base + "/requests.json", {"start_date": LONG_AGO, "page": 999})
    assert far.status == 200 and far.json() == []
    # an end date alone includes the whole of that day
    day = get(api.base + "/requests.json", {"end_date": "2024-11-02"}).json()
    assert [d["service_request_id"] for d in day] == list(
        rows.loc[rows["t"] < pd.Timestamp("2024-11-03", tz="America/Chicago"),
                 "service_request_id"])
    # with no dates, the most recent 90 days
    recent = get(api.base + "/requests.json").json()
    since = pd.Timestamp.now(tz="UTC") - pd.Timedelta(days=90)
    assert {r["service_request_id"] for r in recent} == set(
        rows.loc[rows["t"] >= since, "service_request_id"])
    # service_request_id overrides every other filter
    ids = [api.ids["plain"], api.ids["sensitive"], "SD-2024-00001"]
    listed = get(api.base + "/requests.json", {"service_request_id": ",".join(ids),
                                               "status": "closed", "service_code": "graffiti"})
    assert sorted(r["service_request_id"] for r in listed.json()) == sorted(ids)


@pytest.mark.parametrize(("query", "status", "needle"), [
    ({"status": "pending"}, 400, "status 'pending'"),
    ({"start_date": "last tuesday"}, 400, "W3C date-time"),
    ({"start_date": "2025-02-01", "end_date": "2025-01-01"}, 400, "before end_date"),
    ({"page": "0"}, 400, "page must be"),
    ({"page_size": "1001"}, 400, "at most 1,000"),
    ({"service_request_id": ",".join(f"x{i}" for i in range(1001))}, 400, "at most 1,000"),
    ({"service_code": "ufo"}, 404, "'ufo' was not found"),
])
def test_bad_queries_get_spec_errors(api: Server, query: dict[str, str], status: int,
                                     needle: str) -> None:
    assert_spec_errors(get(api.base + "/requests.json", query), status, needle)


def test_unknown_things_and_other_formats_answer_politely(api: Server) -> None:
    assert_spec_errors(get(api.base + "/requests/NO-SUCH-ID.json"), 404, "NO-SUCH-ID")
    for path in ("/services.xml", "/requests.xml", "/discovery.xml",
                 f"/requests/{api.ids['plain']}.xml"):
        assert_spec_errors(get(api.base + path), 404, "JSON only")
    assert_spec_errors(get(api.base + "/tokens/123.json"), 404, "there is no resource")
    wrong = get(api.base + "/requests.json", method="DELETE")
    assert_spec_errors(wrong, 405, "takes GET, POST")
    assert wrong.headers.get("allow") == "GET, POST"


# -- privacy --------------------------------------------------------------------------

def test_public_answers_hold_no_contact_and_only_blurred_sensitive_places(
        api: Server) -> None:
    everything = all_requests(api.base, start_date=LONG_AGO)
    one = get(f"{api.base}/requests/{api.ids['sensitive']}.json")
    listed = get(api.base + "/requests.json", {"service_request_id": api.ids["sensitive"]})
    assert one.status == listed.status == 200
    for text in (json.dumps(everything, ensure_ascii=False), one.text, listed.text):
        for secret in (*CONTACT.values(), SENSITIVE_TEXT, "12 Hidden Row",
                       PUBLIC_NOTE_ON_SENSITIVE, INTERNAL_NOTE):
            assert secret not in text
    cell = snap_to_grid(gpd.GeoSeries([shapely.Point(*EXACT)], crs=WGS84), 250).iloc[0]
    [sens] = one.json()
    assert (sens["long"], sens["lat"]) == (round(cell.x, 7), round(cell.y, 7))
    assert shapely.Point(sens["long"], sens["lat"]).distance(shapely.Point(*EXACT)) > 1e-4
    assert sens["description"] is None and sens["address"] is None
    assert sens["status_notes"] is None and sens["status"] == "open"
    plain = by_id(everything)[api.ids["plain"]]
    assert plain["description"] == "Tags on a shed" and plain["status_notes"] is None
    # every sensitive report in the answer is at a grid cell's centre, none where it is
    with api.store() as s:
        codes = {c for c, v in Access(s, acc.public()).services().items() if v.sensitive}
        exact = by_id([{"service_request_id": r.service_request_id,
                        "lon": r.geometry.x, "lat": r.geometry.y}
                       for r in s.read(Layer.CONCERNS).itertuples()])
    items = [i for i in everything if i["service_code"] in codes]
    assert len(items) > 50
    for i in items:
        e = exact[str(i["service_request_id"])]
        snapped = snap_to_grid(gpd.GeoSeries([shapely.Point(e["lon"], e["lat"])], crs=WGS84),
                               250).iloc[0]
        assert (i["long"], i["lat"]) == (round(snapped.x, 7), round(snapped.y, 7))
        assert i["description"] is None


# -- filing -------------------------------------------------------------------------

def test_a_post_is_on_the_map_with_its_contact_kept_private(api: Server) -> None:
    key = api.key("Neighbourhood app")
    got = post(api.base + "/requests.json", [
        ("api_key", key), ("service_code", "streetlight_out"), ("lat", "39.0431"),
        ("long", "-94.5755"), ("description", "Pole by the bus stop is dark"),
        ("attribute[light_state]", "Out"), ("attribute[pole_id]", "P-77"),
        ("first_name", "Ann"), ("last_name", "Lee"), ("email", "ann.lee@example.org"),
        ("phone", "816 555 0100"), ("address_string", "31st and Main"),
        ("time_of_day", "night"), ("media_url", "http://photos.example.org/1.jpg")])
    assert got.status == 200, got.text
    assert got.headers.get("cache-control") == "no-store"
    [answer] = got.json()
    rid = answer["service_request_id"]
    assert answer["account_id"] is None
    assert "on the map" in answer["service_notice"]
    assert "media_url was not fetched" in answer["service_notice"]
    with api.store() as s:
        seen = Access(s, acc.public()).concerns(where={"status": ["open"]})
        row = seen[seen["service_request_id"] == rid].iloc[0]
        assert row.geometry.equals_exact(shapely.Point(-94.5755, 39.0431), 1e-9)
        assert row["description"] == "Pole by the bus stop is dark"
        assert row["time_of_day"] == "night" and row["source"] == "open311"
        assert row["address"] == "31st and Main"
        assert json.loads(row["attributes"]) == {"light_state": "Out", "pole_id": "P-77"}
        staff = Access(s, Actor("c1", "Casey", Role.COORDINATOR))
        assert staff.contact(rid) == {"name": "Ann Lee", "email": "ann.lee@example.org",
                                      "phone": "816 555 0100"}
        trail = staff.audit_trail(target_id=rid)
        key_id = key.split(".")[0]
        assert list(trail["actor"]) == [f"api:{key_id}"] and list(trail["action"]) == ["report"]
    mine = get(f"{api.base}/requests/{rid}.json")
    assert "ann.lee@example.org" not in mine.text and "Ann Lee" not in mine.text
    assert mine.json()[0]["description"] == "Pole by the bus stop is dark"


def _jpeg_with_gps() -> bytes:
    img = Image.new("RGB", (640, 480), (20, 20, 60))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    gps = exif.get_ifd(0x8825)
    gps[2] = (39.0, 2.0, 30.0)
    buf = io.BytesIO()
    img.save(buf, format="JPEG", exif=exif)
    return buf.getvalue()


def test_a_photo_follows_the_report_page_s_rules(api: Server) -> None:
    key = api.key()
    fields = {"api_key": key, "service_code": "graffiti", "lat": "39.0360",
              "long": "-94.5660", "description": "Fresh tags", "not_duplicate": "true"}
    got = post(api.base + "/requests.json", fields,
               files={"media": ("wall.jpg", "image/jpeg", _jpeg_with_gps())})
    assert got.status == 200, got.text
    rid = got.json()[0]["service_request_id"]
    with api.store() as s:
        [(kind, data)] = Access(s, acc.public()).photos(rid)
    assert kind == "image/jpeg" and b"PhoneMaker" not in data and b"Exif" not in data
    before = concern_count(api)
    bad = post(api.base + "/requests.json", fields,
               files={"media": ("wall.jpg", "image/jpeg", b"not an image at all")})
    assert_spec_errors(bad, 400, "could not be read")
    assert concern_count(api) == before


@pytest.mark.parametrize(("fields", "status", "needle"), [
    ({"lat": "39.04", "long": "-94.58"}, 400, "service_code was not provided"),
    ({"service_code": "ufo", "lat": "39.04", "long": "-94.58"}, 404, "'ufo' was not found"),
    ({"service_code": "graffiti", "lat": "39.50", "long": "-94.58"}, 400,
     "outside the project area"),
    ({"service_code": "graffiti", "lat": "95", "long": "-94.58"}, 400,
     "not a valid latitude and longitude"),
    ({"service_code": "graffiti", "lat": "39.04"}, 400, "lat and long were not provided"),
    ({"service_code": "graffiti", "address_string": "31st and Main"}, 400,
     "does not look up address_string"),
    ({"service_code": "graffiti", "lat": "north", "long": "-94.58"}, 400, "lat must be"),
    ({"service_code": "dark_area", "lat": "39.04", "long": "-94.58"}, 400, "needs an answer"),
    ({"service_code": "dark_area", "lat": "39.04", "long": "-94.58",
      "attribute[lighting_issue]": "Purple"}, 400, "'Purple' is not one of"),
    ({"service_code": "vacant_property", "lat": "39.04", "long": "-94.58",
      "attribute[open_to_entry]": "perhaps"}, 400, "must be true or false"),
    ({"service_code": "graffiti", "lat": "39.04", "long": "-94.58",
      "email": "not-an-address"}, 400, "does not look like an e-mail address"),
    ({"service_code": "graffiti", "lat": "39.04", "long": "-94.58",
      "description": "x" * 4001}, 400, "at most 4,000"),
    ({"service_code": "graffiti", "lat": "39.04", "long": "-94.58",
      "time_of_day": "dusk"}, 400, "time_of_day 'dusk'"),
])
def test_bad_posts_get_spec_errors_and_store_nothing(api: Server, fields: dict[str, str],
                                                     status: int, needle: str) -> None:
    before = concern_count(api)
    got = post(api.base + "/requests.json", {"api_key": api.key(), "not_duplicate": "true",
                                             **fields})
    assert_spec_errors(got, status, needle)
    assert concern_count(api) == before


def test_keys_missing_wrong_or_revoked_are_refused(api: Server) -> None:
    fields = {"service_code": "graffiti", "lat": "39.04", "long": "-94.58",
              "not_duplicate": "true"}
    url = api.base + "/requests.json"
    before = concern_count(api)
    assert_spec_errors(post(url, fields), 403, "needs an api_key")
    good = api.key()
    key_id, secret = good.split(".")
    other_last = "y" if secret.endswith("x") else "x"
    for wrong in ("nonsense", f"{key_id}.{secret[:-1]}{other_last}",
                  f"ak_000000000000.{secret}", key_id):
        assert_spec_errors(post(url, {**fields, "api_key": wrong}), 403, "not valid")
    with api.store() as s:
        Access(s, acc.operator()).revoke_api_key(key_id)
    assert_spec_errors(post(url, {**fields, "api_key": good}), 403, "was revoked")
    # a key in the query string instead of the form is not read
    assert_spec_errors(post(url + "?api_key=" + good, fields), 403, "needs an api_key")
    # the form, not JSON; one photo at most
    as_json = post(url, {}, headers={"Content-Type": "application/json"})
    assert_spec_errors(as_json, 400, "form-encoded")
    two = post(url, {**fields, "api_key": api.key()},
               files={"media": ("a.jpg", "image/jpeg", b"a"), "more": ("b.jpg", "image/jpeg",
                                                                       b"b")})
    assert_spec_errors(two, 400, "the form could not be read")
    assert concern_count(api) == before


def test_the_rate_limit_answers_429_with_retry_after(api: Server) -> None:
    key = api.key()
    url = api.base + "/requests.json"
    for i in range(RATE):
        got = post(url, {"api_key": key, "service_code": "abandoned_vehicle",
                         "lat": f"{39.0335 + i * 0.002:.4f}", "long": "-94.5880",
                         "not_duplicate": "true"})
        assert got.status == 200, got.text
    before = concern_count(api)
    over = post(url, {"api_key": key, "service_code": "abandoned_vehicle", "lat": "39.0400",
                      "long": "-94.5880", "not_duplicate": "true"})
    assert_spec_errors(over, 429, "the limit is 3 a minute", "from this API key")
    assert 1 <= int(over.headers["retry-after"]) <= 61
    assert concern_count(api) == before
    # another key is not held back by this one's writes
    other = post(url, {"api_key": api.key(), "service_code": "abandoned_vehicle",
                       "lat": "39.0400", "long": "-94.5880", "not_duplicate": "true"})
    assert other.status == 200, other.text


def test_similar_open_reports_nearby_are_offered_first(api: Server) -> None:
    url = api.base + "/requests.json"
    key = api.key()
    fields = {"api_key": key, "service_code": "graffiti", "lat": "39.03512",
              "long": "-94.57021", "description": "More tags"}
    before = concern_count(api)
    dup = post(url, fields)
    texts = assert_spec_errors(dup, 409, api.ids["plain"], "not_duplicate=true")
    assert any(e.get("service_request_id") == api.ids["plain"] for e in dup.json())
    assert not any("Tags on a shed" in t for t in texts)  # no text of the other report
    assert concern_count(api) == before
    again = post(url, {**fields, "not_duplicate": "true"})
    assert again.status == 200, again.text
    # a sensitive category matches only in the public map's grid cell, and the answer
    # names the report without its place or text
    near = (EXACT[0], EXACT[1] + 0.0002)
    cells = snap_to_grid(gpd.GeoSeries([shapely.Point(*EXACT), shapely.Point(*near)],
                                       crs=WGS84), 250)
    assert cells.iloc[0].equals(cells.iloc[1])  # the same public cell
    sens = post(url, {"api_key": key, "service_code": "drug_activity",
                      "lat": f"{near[1]}", "long": f"{near[0]}"})
    assert_spec_errors(sens, 409, api.ids["sensitive"])
    assert SENSITIVE_TEXT not in sens.text and f"{EXACT[1]:.4f}" not in sens.text


def test_the_project_s_importer_reads_what_the_server_serves(api: Server,
                                                             tmp_path: Path) -> None:
    served = all_requests(api.base, start_date=LONG_AGO)
    path = tmp_path / "requests.json"
    path.write_text(json.dumps(served), encoding="utf-8")
    with open_store(tmp_path / "fresh.gpkg") as fresh, api.store() as s:
        summary = import_file(fresh, path, Layer.CONCERNS)
        assert summary.format == "open311" and summary.rejected == {}
        assert summary.accepted == len(served)
        back = fresh.read(Layer.CONCERNS).sort_values("service_request_id")
        seen = Access(s, acc.public()).concerns().sort_values("service_request_id")
    assert len(back) == len(seen) >= 2002
    cols = ["service_request_id", "service_code", "service_name", "description", "address",
            "status", "detailed_status", "time_of_day", "source"]
    # the importer reads an empty text as no text, as it does a CSV's empty cell
    ours = pd.DataFrame({c: pd.Series([v or None for v in seen[c]], dtype=object)
                         for c in cols})
    pd.testing.assert_frame_equal(ours, pd.DataFrame(back[cols]).reset_index(drop=True),
                                  check_dtype=False)
    for col in ("requested_datetime", "updated_datetime"):  # the format has whole seconds
        a = pd.to_datetime(seen[col], utc=True).dt.floor("s").reset_index(drop=True)
        b = pd.to_datetime(back[col], utc=True).reset_index(drop=True)
        pd.testing.assert_series_equal(a, b, check_names=False, check_dtype=False)
    attrs = [json.loads(a) if a else None for a in seen["attributes"]]
    assert attrs == [json.loads(a) if a else None for a in back["attributes"]]
    assert seen.geometry.reset_index(drop=True).geom_equals_exact(
        back.geometry.reset_index(drop=True), 1e-7).all()


# -- keys and the command line ------------------------------------------------------

def test_the_door_refuses_a_place_outside_the_area_for_the_report_page_too(
        sample_store: Store) -> None:
    door = Access(sample_store, acc.public("browser-1"))
    with pytest.raises(ReportError, match="outside the project area") as info:
        door.submit_report(ReportDraft("graffiti", -94.40, 39.04, "far east"))
    assert "location" in info.value.fields
    assert door.submit_report(ReportDraft("graffiti", -94.575, 39.04, "inside"))


def test_apikeys_add_list_revoke_from_the_command_line(
        sample_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["apikeys", "add", "City 311 app", "--db", str(sample_db)]) == 0
    out = capsys.readouterr()
    key = out.out.strip()
    key_id, secret = key.split(".")
    assert key_id.startswith("ak_") and len(secret) >= 40
    assert "shown this once" in out.err
    with sqlite3.connect(sample_db) as conn:
        rows = conn.execute("SELECT key_id, secret_hash, name, created_by FROM api_keys"
                            ).fetchall()
    assert rows == [(key_id, hashlib.sha256(secret.encode()).hexdigest(), "City 311 app",
                     "cli")]
    assert secret.encode() not in sample_db.read_bytes()  # only its digest is kept
    with open_store(sample_db) as s:
        assert apikeys.authenticate(s, key, address="192.0.2.1") == apikeys.client_actor(
            key_id, "City 311 app", "192.0.2.1")
    assert main(["apikeys", "list", "--db", str(sample_db)]) == 0
    listed = capsys.readouterr().out
    assert "City 311 app" in listed and "in use" in listed and key_id in listed
    assert listed.index("City 311 app") < listed.index(key_id)  # names before ids
    assert secret not in listed
    assert main(["apikeys", "revoke", key_id, "--db", str(sample_db)]) == 0
    capsys.readouterr()
    assert main(["apikeys", "list", "--db", str(sample_db)]) == 0
    assert "revoked 20" in capsys.readouterr().out
    assert main(["apikeys", "revoke", key_id, "--db", str(sample_db)]) == 1
    assert "revoked already" in capsys.readouterr().err
    assert main(["apikeys", "revoke", "ak_ffffffffffff", "--db", str(sample_db)]) == 1
    assert "there is no API key" in capsys.readouterr().err
    with open_store(sample_db) as s:
        with pytest.raises(apikeys.ApiKeyError, match="revoked"):
            apikeys.authenticate(s, key)
        trail = Access(s, acc.operator()).audit_trail(target_id=key_id)
    assert list(trail["action"]) == ["api key revoked", "api key created"]
    assert not trail["detail"].str.contains(secret).any()


def test_only_administrators_manage_keys(sample_store: Store) -> None:
    from cpted.access import PermissionDeniedError

    for role in Role:
        who = acc.public() if role is Role.PUBLIC else Actor(f"{role}-1", "X", role)
        door = Access(sample_store, who)
        if role is Role.ADMIN:
            new = door.create_api_key("ok")
            assert list(door.api_keys()["key_id"]) == [new.key_id]
            continue
        with pytest.raises(PermissionDeniedError, match="make and revoke Open311 API keys"):
            door.create_api_key("no")
        with pytest.raises(PermissionDeniedError):
            door.api_keys()
        with pytest.raises(PermissionDeniedError):
            door.revoke_api_key("ak_000000000000")


def test_a_key_s_time_and_name_are_kept(sample_store: Store) -> None:
    when = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    with sample_store.transaction() as conn:
        new = apikeys.insert_key(conn, "  Parks app  ", created_by="root", now=when)
        with pytest.raises(UnusableInputError, match="give the API key a name"):
            apikeys.insert_key(conn, "   ", created_by="root")
    keys = apikeys.list_keys(sample_store)
    assert list(keys["name"]) == ["Parks app"] and new.name == "Parks app"
    assert keys["created_at"].iloc[0] == pd.Timestamp(when)
    assert pd.isna(keys["revoked_at"].iloc[0])
    with sample_store.transaction() as conn:
        apikeys.revoke_key(conn, new.key_id, now=when + timedelta(days=1))
    assert apikeys.list_keys(sample_store)["revoked_at"].iloc[0] == pd.Timestamp(
        when + timedelta(days=1))
