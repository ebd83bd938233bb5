from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from cpted.cli import main
from layers.schema import Layer
from layers.store import open_store


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_import_json_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "c.csv"
    src.write_text("id,category,created,status,lat,lon\n"
                   "a,graffiti,2025-05-01 22:00,open,39.05,-94.57\n"
                   "b,graffiti,2025-05-01 22:00,open,,\n")
    db = tmp_path / "any-name.sqlite"
    code, out, err = run(capsys, "import", str(src), "--layer", "concerns", "--db", str(db),
                         "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["read"] == 2 and summary["accepted"] == 1
    assert summary["rejected"] == {"no coordinates": 1}
    assert summary["rejections"][0]["row"] == 2
    with open_store(db) as s:
        assert s.count(Layer.CONCERNS) == 1


def test_unusable_input_exits_non_zero_with_one_message(
        sample_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "nocoords.csv"
    src.write_text("id,address\n1,Main St\n")
    with open_store(sample_db) as s:
        before = s.counts()
    code, out, err = run(capsys, "import", str(src), "--layer", "concerns", "--db",
                         str(sample_db))
    assert code == 1
    assert out == ""
    assert err.startswith("cpted import: nocoords.csv has no coordinate columns")
    with open_store(sample_db) as s:
        assert s.counts() == before


def test_wrong_layer_name_lists_the_allowed_ones(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "x.csv"
    src.write_text("id,lat,lon\n1,39,-94\n")
    code, _, err = run(capsys, "import", str(src), "--layer", "potholes", "--db",
                       str(tmp_path / "db.gpkg"))
    assert code == 1
    assert "unknown layer 'potholes'" in err and "concerns" in err


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "csv", "parquet"])
def test_export_round_trips_through_import(sample_db: Path, tmp_path: Path, fmt: str,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / f"concerns.{fmt}"
    code, text, err = run(capsys, "export", "--layer", "concerns", "--format", fmt, "--out",
                          str(out), "--db", str(sample_db))
    assert code == 0, err
    assert "wrote 2,000 concerns" in text
    fresh = tmp_path / "fresh.gpkg"
    code, _, err = run(capsys, "import", str(out), "--layer", "concerns", "--db", str(fresh))
    assert code == 0, err
    with open_store(sample_db) as a, open_store(fresh) as b:
        left, right = a.read(Layer.CONCERNS), b.read(Layer.CONCERNS)
    pd.testing.assert_frame_equal(
        pd.DataFrame(left.drop(columns="geometry")), pd.DataFrame(right.drop(columns="geometry")),
        check_dtype=False)
    assert gpd.GeoSeries(left.geometry).geom_equals_exact(right.geometry, 1e-7).all()


def test_sample_is_idempotent(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "s.gpkg")
    assert run(capsys, "sample", "--db", db)[0] == 0
    code, out, _ = run(capsys, "sample", "--db", db)
    assert code == 0
    code, out, _ = run(capsys, "info", "--db", db, "--json")
    counts = json.loads(out)["counts"]
    assert counts["concerns"] == 2000 and counts["neighborhoods"] == 8


def test_sample_regenerate_writes_files(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, _ = run(capsys, "sample", "--regenerate", str(tmp_path / "out"))
    assert code == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "buildings.geojson", "concerns.geojson", "neighborhoods.geojson",
        "streetlights.geojson", "streets.geojson"]


def test_console_script_is_installed() -> None:
    import shutil
    import subprocess
    import sys

    exe = shutil.which("cpted", path=str(Path(sys.executable).parent))
    assert exe is not None, "the cpted console script is not installed"
    done = subprocess.run([exe, "--help"], capture_output=True, text=True, check=True)
    assert "import" in done.stdout and "export" in done.stdout


def test_overlay_writes_one_row_per_neighborhood(sample_db: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "overlay.csv"
    code, _text, err = run(capsys, "overlay", "--out", str(out), "--db", str(sample_db),
                          "--category", "dark_area", "--status", "open")
    assert code == 0, err
    table = pd.read_csv(out)
    assert list(table.columns[:3]) == ["neighborhood_id", "name", "count"]
    assert len(table) == 8
    with open_store(sample_db) as s:
        expected = s.count(Layer.CONCERNS, where={"service_code": ["dark_area"],
                                                  "status": ["open"]})
    assert table["count"].sum() == expected
    geo = tmp_path / "overlay.geojson"
    assert run(capsys, "overlay", "--out", str(geo), "--db", str(sample_db))[0] == 0
    gdf = gpd.read_file(geo)
    assert gdf["count"].sum() == 2000 and gdf.geometry.geom_type.isin(
        ["Polygon", "MultiPolygon"]).all()
    code, _, err = run(capsys, "overlay", "--out", str(tmp_path / "x.txt"), "--db",
                       str(sample_db))
    assert code == 1 and ".csv or .geojson" in err


def test_services_export_import_and_public_export(sample_db: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    svc = tmp_path / "services.json"
    assert run(capsys, "services", "export", str(svc), "--db", str(sample_db))[0] == 0
    fresh = str(tmp_path / "fresh.gpkg")
    code, text, _ = run(capsys, "services", "import", str(svc), "--db", fresh)
    assert code == 0 and "imported 10 service(s)" in text
    code, text, _ = run(capsys, "services", "list", "--db", fresh)
    assert "drug_activity: Suspected drug activity (sensitive)" in text
    out = tmp_path / "public.json"
    code, text, _ = run(capsys, "export", "--layer", "concerns", "--format", "open311",
                        "--out", str(out), "--public", "--db", str(sample_db))
    assert code == 0 and "public" in text
    items = json.loads(out.read_text())
    hidden = [i for i in items if i["service_code"] in ("drug_activity", "harassment")]
    assert hidden and all(i["description"] is None and i["address"] is None for i in hidden)


def test_lighting_and_priorities_commands(sample_db, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    import geopandas as gpd
    import pandas as pd

    from cpted.cli import main

    lux = tmp_path / "lux.csv"
    assert main(["lighting", "--db", str(sample_db), "--out", str(lux)]) == 0
    frame = pd.read_csv(lux)
    assert {"id", "class", "avg_lux", "min_lux", "dark", "why", "lon", "lat"} <= set(frame.columns)
    assert len(frame) == 725 and (frame["avg_lux"] >= frame["min_lux"]).all()
    out = capsys.readouterr()
    assert "matched to poles" in out.err and "street segments" in out.out
    work = tmp_path / "work.gpkg"
    assert main(["priorities", "--db", str(sample_db), "--budget", "25000", "--out", str(work),
                 "--check"]) == 0
    text = capsys.readouterr().out
    listed = gpd.read_file(work)
    assert 0 < listed["cost_usd"].sum() <= 25_000
    assert text.splitlines()[0].startswith(f"${listed['cost_usd'].sum():,.0f} fixes")
    gap = float(text.split("greedy within ")[1].split("%")[0])
    assert gap <= 2.0
    assert main(["priorities", "--db", str(sample_db), "--budget", "100",
                 "--out", str(tmp_path / "w.txt")]) == 1
    assert "must end in .csv, .geojson or .gpkg" in capsys.readouterr().err
