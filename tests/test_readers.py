from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely

from layers.errors import CRSError, UnsafeArchiveError, UnusableInputError, UploadTooLargeError
from layers.readers import InputFormat, read_table
from layers.settings import Settings

HEADER = "id,category,lat,lon\n"


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


def test_csv_detects_common_coordinate_names(tmp_path: Path) -> None:
    p = write(tmp_path, "a.csv", "ID,Latitude,Longitude\n1,39.05,-94.57\n2,39.06,-94.58\n")
    t = read_table(p)
    assert t.format is InputFormat.CSV
    assert list(t.frame.geometry.x) == [-94.57, -94.58]
    assert list(t.frame.geometry.y) == [39.05, 39.06]
    assert t.frame.crs.to_epsg() == 4326
    assert "Latitude" not in t.frame.columns  # coordinates became the geometry


def test_csv_with_byte_order_mark_keeps_first_column_name(tmp_path: Path) -> None:
    p = write(tmp_path, "bom.csv", "\ufeffCASE ID,lat,lon\n7,39.05,-94.57\n")
    t = read_table(p)
    assert list(t.frame.columns[:1]) == ["CASE ID"]


def test_latin1_csv_is_read_and_said(tmp_path: Path) -> None:
    p = write(tmp_path, "l1.csv", HEADER + "1,Caf\xe9 corner,39.05,-94.57\n", encoding="latin-1")
    t = read_table(p)
    assert t.frame["category"].iloc[0] == "Café corner"
    assert any("latin-1" in n for n in t.notes)


def test_explicit_encoding_that_fails_says_so(tmp_path: Path) -> None:
    p = write(tmp_path, "l1.csv", HEADER + "1,Caf\xe9,39.05,-94.57\n", encoding="latin-1")
    with pytest.raises(UnusableInputError, match="could not be decoded as utf-8"):
        read_table(p, encoding="utf-8")


def test_swapped_lat_lon_is_detected_and_fixed(tmp_path: Path) -> None:
    # The "lat" column holds longitudes (|v| > 90) and "lon" holds latitudes.
    p = write(tmp_path, "sw.csv", HEADER + "1,a,-94.57,39.05\n2,b,-94.58,39.06\n")
    t = read_table(p)
    assert list(t.frame.geometry.x) == [-94.57, -94.58]
    assert any("swapped" in n for n in t.notes)


def test_projected_coordinates_given_as_lat_lon_are_refused(tmp_path: Path) -> None:
    p = write(tmp_path, "sp.csv", HEADER + "1,a,1061234.5,2771234.0\n2,b,1062000,2772000\n")
    with pytest.raises(CRSError, match="look like projected coordinates") as exc:
        read_table(p)
    assert "--crs" in str(exc.value)


def test_state_plane_feet_with_source_crs(tmp_path: Path) -> None:
    # EPSG:2817 is NAD83(HARN) / Missouri West; the test makes projected
    # coordinates with pyproj and checks the reader brings them back to degrees.
    crs = pyproj.CRS.from_epsg(2817)
    fwd = pyproj.Transformer.from_crs(4326, crs, always_xy=True)
    x, y = fwd.transform(-94.57, 39.05)
    p = write(tmp_path, "xy.csv", f"id,X,Y\n1,{x},{y}\n")
    t = read_table(p, crs="EPSG:2817", x_col="X", y_col="Y")
    assert t.frame.geometry.x.iloc[0] == pytest.approx(-94.57, abs=1e-7)
    assert t.frame.geometry.y.iloc[0] == pytest.approx(39.05, abs=1e-7)


def test_x_y_columns_need_a_crs(tmp_path: Path) -> None:
    p = write(tmp_path, "xy.csv", "id,X,Y\n1,100,200\n")
    with pytest.raises(CRSError, match="need the coordinates' CRS"):
        read_table(p, x_col="X", y_col="Y")


def test_csv_without_coordinate_columns_names_what_it_expected(tmp_path: Path) -> None:
    p = write(tmp_path, "nocoord.csv", "id,address\n1,5th and Main\n")
    with pytest.raises(UnusableInputError, match="no coordinate columns") as exc:
        read_table(p)
    assert "latitude" in str(exc.value) and "address" in str(exc.value)


def test_rows_without_coordinates_are_marked_with_their_row(tmp_path: Path) -> None:
    p = write(tmp_path, "gaps.csv", HEADER + "1,a,39.05,-94.57\n2,b,,\n3,c,abc,-94.5\n")
    t = read_table(p)
    assert set(t.row_reasons) == {1, 2}
    assert t.row_reasons[1][0] == "no coordinates"
    assert t.row_reasons[2][1].startswith("row 3:")
    assert t.frame.geometry.iloc[1] is None


@pytest.mark.parametrize("content", [b"", b"   \n"])
def test_empty_files_are_refused(tmp_path: Path, content: bytes) -> None:
    p = tmp_path / "empty.csv"
    p.write_bytes(content)
    with pytest.raises(UnusableInputError, match="empty"):
        read_table(p)


def test_header_only_csv_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UnusableInputError, match="no rows"):
        read_table(write(tmp_path, "h.csv", HEADER))


@pytest.mark.parametrize(("name", "content"), [
    ("picture.geojson", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4),
    ("notes.geojson", b"These are meeting notes, not a map.\n"),
    ("table.gpkg", b"id,name\n1,a\n"),
    ("data.parquet", b"PAR1 but not really"),
    ("binary.csv", b"\x00\x01\x02\x03" * 100),
])
def test_files_that_are_not_geodata_are_refused(tmp_path: Path, name: str,
                                                content: bytes) -> None:
    p = tmp_path / name
    p.write_bytes(content)
    with pytest.raises(UnusableInputError):
        read_table(p)


def test_unknown_ending_asks_for_a_format(tmp_path: Path) -> None:
    p = write(tmp_path, "data.xyz", "1")
    with pytest.raises(UnusableInputError, match="cannot tell the format"):
        read_table(p)


def test_upload_over_the_limit_is_refused_before_reading(tmp_path: Path) -> None:
    p = write(tmp_path, "big.csv", HEADER + "1,a,39.05,-94.57\n" * 2000)
    with pytest.raises(UploadTooLargeError, match="upload limit"):
        read_table(p, settings=Settings(max_upload_mb=0.01))


def _frame() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"id": ["a", "b"], "name": ["A", "B"]},
                            geometry=[shapely.box(-94.58, 39.04, -94.57, 39.05),
                                      shapely.box(-94.57, 39.04, -94.56, 39.05)], crs=4326)


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "parquet", "shapefile"])
def test_vector_formats_round_trip(tmp_path: Path, fmt: str) -> None:
    gdf = _frame()
    if fmt == "geojson":
        p = tmp_path / "n.geojson"
        gdf.to_file(p, driver="GeoJSON")
    elif fmt == "gpkg":
        p = tmp_path / "n.gpkg"
        gdf.to_file(p, driver="GPKG")
    elif fmt == "parquet":
        p = tmp_path / "n.parquet"
        gdf.to_parquet(p)
    else:
        shp = tmp_path / "shp"
        shp.mkdir()
        gdf.to_file(shp / "n.shp")
        p = tmp_path / "n.zip"
        with zipfile.ZipFile(p, "w") as zf:
            for f in shp.iterdir():
                zf.write(f, f.name)
    t = read_table(p)
    assert list(t.frame["name"]) == ["A", "B"]
    assert t.frame.geometry.iloc[0].equals(gdf.geometry.iloc[0])  # shapefiles reorder rings


def test_projected_vector_file_is_reprojected(tmp_path: Path) -> None:
    p = tmp_path / "utm.gpkg"
    _frame().to_crs(32615).to_file(p, driver="GPKG")
    t = read_table(p)
    assert t.frame.crs.to_epsg() == 4326
    np.testing.assert_allclose(t.frame.total_bounds, _frame().total_bounds, atol=1e-7)
    assert any("reprojected" in n for n in t.notes)


def test_vector_file_without_crs_in_metres_asks_for_one(tmp_path: Path) -> None:
    shp = tmp_path / "shp"
    shp.mkdir()
    with pytest.warns(UserWarning, match="'crs' was not provided"):
        _frame().to_crs(32615).set_crs(None, allow_override=True).to_file(shp / "n.shp")
    assert not (shp / "n.prj").exists()
    with pytest.raises(CRSError, match="declares no CRS") as exc:
        read_table(shp / "n.shp")
    assert "--crs" in str(exc.value)
    t = read_table(shp / "n.shp", crs="EPSG:32615")
    np.testing.assert_allclose(t.frame.total_bounds, _frame().total_bounds, atol=1e-7)


def test_zip_with_entries_escaping_the_folder_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "evil.zip"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("../../outside.shp", b"x")
    with pytest.raises(UnsafeArchiveError, match="outside the folder"):
        read_table(p)
    assert not (tmp_path.parent / "outside.shp").exists()


def test_zip_with_absolute_path_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "abs.zip"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("/tmp/cpted-abs-test.shp", b"x")
    with pytest.raises(UnsafeArchiveError):
        read_table(p)


def test_zip_that_would_unpack_past_the_limit_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "bomb.zip"
    with zipfile.ZipFile(p, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("big.shp", b"\0" * (3 * 2**20))  # 3 MB of zeros packs to a few KB
    assert p.stat().st_size < 50_000
    with pytest.raises(UnsafeArchiveError, match="unpack"):
        read_table(p, settings=Settings(max_unzip_mb=1))


def test_zip_with_too_many_entries_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "many.zip"
    with zipfile.ZipFile(p, "w") as zf:
        for i in range(30):
            zf.writestr(f"f{i}.txt", b"x")
    with pytest.raises(UnsafeArchiveError, match="entries"):
        read_table(p, settings=Settings(max_zip_entries=10))


def test_zip_without_a_shapefile_lists_its_contents(tmp_path: Path) -> None:
    p = tmp_path / "docs.zip"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("readme.txt", b"hello")
    with pytest.raises(UnusableInputError, match=r"readme\.txt"):
        read_table(p)


def test_not_a_zip_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "fake.zip"
    p.write_bytes(b"not a zip at all")
    with pytest.raises(UnusableInputError, match="not a readable zip"):
        read_table(p)


def test_kc311_format_reads_as_csv(tmp_path: Path) -> None:
    p = write(tmp_path, "kc.csv", "LATITUDE,LONGITUDE\n39.05,-94.57\n")
    assert read_table(p, fmt="kc311").format is InputFormat.KC311


def test_csv_semicolons_are_detected(tmp_path: Path) -> None:
    p = write(tmp_path, "semi.csv", "id;lat;lon\n1;39.05;-94.57\n")
    assert read_table(p).frame.geometry.y.iloc[0] == 39.05


def test_datetimes_survive_as_text(tmp_path: Path) -> None:
    p = write(tmp_path, "d.csv", "id,lat,lon,when\n1,39.05,-94.57,2024-05-01 21:30\n")
    assert read_table(p).frame["when"].iloc[0] == "2024-05-01 21:30"
    assert isinstance(read_table(p).frame, pd.DataFrame)
