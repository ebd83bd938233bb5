"""Every input path refuses hostile or damaged input with a message, within its limits.

Each input is built in code: zips with lying headers, a zip bomb, CSV text in
several encodings, images whose header claims many pixels, an MPO photo, and
rows with overlong text or too many fields.
"""

from __future__ import annotations

import io
import struct
import tomllib
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

from layers.archive import safe_extract
from layers.errors import UnsafeArchiveError, UnusableInputError
from layers.readers import read_table
from layers.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


# 1. Zips whose headers lie ------------------------------------------------------------

def _zip_bytes(payload: bytes = b"x" * 5000) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("poles.shp", payload)
        zf.writestr("poles.dbf", b"y" * 100)
    return buf.getvalue()


def _patch_central_size(data: bytes, delta: int) -> bytes:
    """The first central-directory entry claims ``delta`` more (or fewer) unpacked bytes."""
    at = data.index(b"PK\x01\x02") + 24
    (size,) = struct.unpack_from("<I", data, at)
    return data[:at] + struct.pack("<I", size + delta) + data[at + 4:]


def _flip_member_bytes(data: bytes) -> bytes:
    start = data.index(b"PK\x03\x04") + 30 + len("poles.shp")
    return data[:start + 2] + bytes(b ^ 0xFF for b in data[start + 2:start + 8]) + data[start + 8:]


@pytest.mark.parametrize("damage", [
    lambda d: _patch_central_size(d, +3000),   # claims more than the stream holds
    lambda d: _patch_central_size(d, -3000),   # claims less (the checksum then fails)
    lambda d: d[: len(d) // 2],                # cut short, directory lost
    _flip_member_bytes,                        # compressed data garbled
], ids=["size-overstated", "size-understated", "truncated", "garbled"])
def test_zip_with_lying_headers_is_refused_as_damaged(
        tmp_path: Path, damage: Callable[[bytes], bytes]) -> None:
    p = tmp_path / "poles.zip"
    p.write_bytes(damage(_zip_bytes()))
    with pytest.raises(UnusableInputError, match="damaged or inconsistent zip") as info:
        read_table(p)
    assert "poles.zip" in str(info.value)


# 2. A zip bomb is stopped by the bytes actually decompressed ---------------------------

def test_zip_bomb_is_stopped_early_and_leaves_nothing_behind(tmp_path: Path) -> None:
    p = tmp_path / "bomb.zip"
    with zipfile.ZipFile(p, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.prj", b"GEOGCS")
        zf.writestr("big.shp", b"\0" * (20 * 2**20))  # 20 MB of zeros packs to ~20 KB
    assert p.stat().st_size < 60_000
    # Default settings: a ~20 KB zip may unpack to 1 MB (the floor), not 1,000 MB.
    with pytest.raises(UnsafeArchiveError, match="limit for this archive"):
        read_table(p)
    # A header made to understate the size (1 KB) is not believed: the member is
    # refused, and what was already written is removed.
    data = p.read_bytes()
    at = data.index(b"PK\x01\x02", data.index(b"PK\x01\x02") + 4) + 24
    lying = tmp_path / "lying.zip"
    lying.write_bytes(data[:at] + struct.pack("<I", 1024) + data[at + 4:])
    dest = tmp_path / "out"
    dest.mkdir()
    with pytest.raises(UnusableInputError, match=r"big\.shp"):
        safe_extract(lying, dest, max_bytes=2**20, max_entries=10)
    assert list(dest.iterdir()) == []


# 3. Encodings: byte-order marks, UTF-16, and the encoding the user gave ---------------

_CSV_TEXT = "id,category,lat,lon\n1,Café corner,39.05,-94.57\n2,Über-dark alley,39.06,-94.58\n"


@pytest.mark.parametrize(("data", "encoding"), [
    (_CSV_TEXT.encode("utf-8-sig"), None),
    (_CSV_TEXT.encode("utf-16"), None),                    # BOM, native order
    (b"\xff\xfe" + _CSV_TEXT.encode("utf-16-le"), None),
    (b"\xfe\xff" + _CSV_TEXT.encode("utf-16-be"), None),
    (_CSV_TEXT.encode("utf-16-le"), None),                  # no BOM at all
    (_CSV_TEXT.encode("utf-16"), "utf-16"),                 # --encoding utf-16
    (_CSV_TEXT.encode("latin-1"), "latin-1"),               # --encoding latin-1
], ids=["utf-8-sig", "utf-16", "utf-16-le-bom", "utf-16-be-bom", "utf-16-le-no-bom",
        "given-utf-16", "given-latin-1"])
def test_text_in_any_stated_or_marked_encoding_is_read(
        tmp_path: Path, data: bytes, encoding: str | None) -> None:
    p = tmp_path / "concerns.csv"
    p.write_bytes(data)
    t = read_table(p, encoding=encoding)
    assert list(t.frame.columns[:2]) == ["id", "category"]
    assert list(t.frame["category"]) == ["Café corner", "Über-dark alley"]
    assert t.frame.geometry.x.round(2).tolist() == [-94.57, -94.58]
    # Nothing was guessed, so nothing may claim the file "is not UTF-8".
    assert not any("UTF-8" in n for n in t.notes), t.notes
    # And a wrong encoding given by the user is named as given.
    if encoding == "latin-1":
        with pytest.raises(UnusableInputError, match=r"as utf-8 \(the encoding given\)"):
            read_table(p, encoding="utf-8")


# 7. A record with more fields than the header ------------------------------------------

def test_row_with_unquoted_commas_and_quotes_is_rejected_by_number(tmp_path: Path) -> None:
    from layers.conform import conform
    from layers.schema import SCHEMAS, Layer
    from layers.validate import validate

    p = tmp_path / "lights.csv"
    p.write_text('id,lat,lon,fixture_type\n'
                 'L1,39.05,-94.57,He said "cobra, head" lamp\n'
                 'L2,39.06,-94.58,LED\n', encoding="utf-8")
    raw = read_table(p)
    frame, _ = conform(raw.frame, SCHEMAS[Layer.STREETLIGHTS])
    checked = validate(frame, SCHEMAS[Layer.STREETLIGHTS], tz="America/Chicago",
                       read_rejections=raw.row_reasons)
    assert checked.accepted["id"].tolist() == ["L2"]
    assert checked.accepted["fixture_type"].tolist() == ["LED"]
    assert checked.rejected_counts == {"malformed row": 1}
    (rej,) = checked.rejections
    assert rej.row == 1
    assert rej.detail.startswith("row 1: expected 4 fields")
    assert "found 5" in rej.detail and "double quotes" in rej.detail


# 4. Pixel bombs are refused from the header, before decoding ----------------------------

def _png_header_only_bomb(width: int, height: int) -> bytes:
    """A valid 1-bit grey PNG of ``width`` x ``height`` black pixels, a few KB long."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))
    row = b"\0" * (1 + (width + 7) // 8)
    packer = zlib.compressobj(9)
    pixels = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
            + chunk(b"IDAT", pixels) + chunk(b"IEND", b""))


@pytest.mark.parametrize("side", [7000, 12_000, 20_000])  # 49, 144 and 400 Mpx
def test_photo_with_too_many_pixels_is_refused_before_decoding(
        monkeypatch: pytest.MonkeyPatch, side: int) -> None:
    from PIL import ImageFile

    from cpted.photos import MAX_PIXELS, clean_photo

    data = _png_header_only_bomb(side, side)
    assert len(data) < 200_000

    def no_decoding(self: object) -> None:
        raise AssertionError("pixels were decoded before the size was checked")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    with pytest.raises(UnusableInputError, match=r"megapixels|pixels can be processed") as info:
        clean_photo(data)
    message = str(info.value)
    assert f"{side * side:,}" in message or f"{side:,} x {side:,}" in message
    assert f"{MAX_PIXELS:,}" in message
    # 4 bytes a pixel (RGBA) at the limit stays within about 100 MB.
    assert MAX_PIXELS * 4 <= 100 * 2**20


# 5. MPO photos (a JPEG with extra frames) are accepted as JPEG ---------------------------

def test_mpo_photo_is_accepted_as_its_first_frame_without_exif() -> None:
    from PIL import Image

    from cpted.photos import clean_photo

    first = Image.new("RGB", (64, 48), (200, 30, 30))
    second = Image.new("RGB", (64, 48), (30, 30, 200))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"      # Make
    exif[0x0110] = "Phone 12"        # Model
    buf = io.BytesIO()
    first.save(buf, format="MPO", save_all=True, append_images=[second], exif=exif)
    with Image.open(io.BytesIO(buf.getvalue())) as check:
        assert check.format == "MPO" and getattr(check, "n_frames", 1) == 2
    clean = clean_photo(buf.getvalue())
    assert clean.media_type == "image/jpeg"
    assert (clean.width, clean.height) == (64, 48)
    with Image.open(io.BytesIO(clean.data)) as out:
        assert out.format == "JPEG"
        assert dict(out.getexif()) == {}
        assert "exif" not in out.info
        r, _g, b = out.convert("RGB").getpixel((32, 24))
        assert r > 150 and b < 80  # the first frame's red, not the second's blue


# 6. Imported text is capped like the Report form's fields --------------------------------

def test_overlong_imported_text_is_cut_or_rejected_and_reported(
        tmp_path: Path, store: object) -> None:
    from cpted.concerns import MAX_DESCRIPTION_CHARS
    from layers.importer import prepare_import
    from layers.schema import Layer

    p = tmp_path / "concerns.csv"
    rows = [
        ("c1", "dark_corner", "x" * 1_000_000, "12 Elm St"),           # 1 MB description
        ("c2", "y" * 500, "short", "13 Elm St"),                         # overlong code
        ("c3", "dark_corner", "fine", "Oak " * 100),                     # 400-char address
    ]
    lines = ["service_request_id,service_code,description,address,requested_datetime,"
             "status,lat,lon"]
    lines += [f"{i},{c},{d},{a},2024-05-01T21:00:00,open,39.05,-94.57" for i, c, d, a in rows]
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    prepared = prepare_import(store, p, Layer.CONCERNS)  # type: ignore[arg-type]
    summary = prepared.summary
    kept = prepared.accepted.set_index("service_request_id")
    assert sorted(kept.index) == ["c1", "c3"]
    assert len(kept.at["c1", "description"]) == MAX_DESCRIPTION_CHARS
    assert len(kept.at["c3", "address"]) <= 200
    assert summary.rejected == {"text too long": 1}
    (rej,) = summary.rejections
    assert rej.row == 2 and "at most 200" in rej.detail
    text = summary.text()
    assert "rejected, text too long: 1" in text
    assert "1 row(s) had description text longer than 4,000 characters" in text
    assert "1 row(s) had address text longer than 200 characters" in text


# 8. The web server's upload cap matches the largest cap the code enforces ----------------

def test_streamlit_upload_cap_matches_the_largest_enforced_cap() -> None:
    from cpted.instrument import MAX_FILE_MB
    from cpted.network import MAX_UPLOAD_MB
    from cpted.photos import MAX_PHOTO_BYTES

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    server_mb = config["server"]["maxUploadSize"]
    caps_mb = [Settings().max_upload_mb, MAX_UPLOAD_MB, MAX_PHOTO_BYTES / 2**20, MAX_FILE_MB]
    assert server_mb == max(caps_mb), (server_mb, caps_mb)
