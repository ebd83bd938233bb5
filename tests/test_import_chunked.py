"""A CSV imported in parts (layers.chunked) stores and reports exactly what the
whole-file path (prepare_import + commit_import) does, in one transaction.

Every file here is read with a tiny part size, so that many parts occur and each
cross-part check (repeated ids, stored ids, the row limit, the date notes, the row
numbers in rejections) is exercised across part boundaries.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from cpted import accounts
from cpted.access import Access
from layers.chunked import NotChunked, chunkable, import_in_chunks
from layers.errors import LayerSchemaError, UnusableInputError
from layers.importer import ImportSummary, commit_import, import_file, prepare_import
from layers.schema import Layer
from layers.settings import Settings
from layers.store import Store, open_store

HEAD = "id,category,created,status,lat,lon\n"


def row(i: int, *, when: str = "2025-05-01 22:00", status: str = "open",
        lat: str | None = None, lon: str = "-94.57", rid: str | None = None) -> str:
    return (f"{rid or f'r{i}'},graffiti,{when},{status},"
            f"{lat if lat is not None else f'{39.05 + i * 1e-5:.5f}'},{lon}\n")


def rows(n: int, **special: str) -> str:
    """``n`` good rows; ``special`` maps a 1-based row number (as ``r12``) to its line."""
    return HEAD + "".join(special.get(f"r{i + 1}", row(i + 1)) for i in range(n))


def fresh(tmp_path: Path, name: str, seed: Callable[[Store], None] | None = None) -> Store:
    store = open_store(tmp_path / f"{name}.gpkg")
    if seed:
        seed(store)
    return store


def whole(store: Store, path: Path, **kw: Any) -> ImportSummary:
    on_conflict = kw.pop("on_conflict", "error")
    prepared = prepare_import(store, path, Layer.CONCERNS, **kw)
    commit_import(store, prepared, on_conflict=on_conflict)
    return prepared.summary


def stored(store: Store) -> pd.DataFrame:
    got = store.read(Layer.CONCERNS)
    frame = pd.DataFrame(got.drop(columns="geometry"))
    frame["wkt"] = got.geometry.to_wkt()
    return frame.sort_values("service_request_id").reset_index(drop=True)


def both(tmp_path: Path, text: str, *, chunk_rows: int = 3,
         seed: Callable[[Store], None] | None = None, **kw: Any) -> tuple[Any, Any, Store, Store]:
    """The whole-file and the chunked outcome (summary or error) of one file, each
    on a store of its own seeded alike, and the two stores."""
    path = tmp_path / "c.csv"
    path.write_text(text)
    a, b = fresh(tmp_path, "whole", seed), fresh(tmp_path, "parts", seed)
    out: list[Any] = []
    runs: list[Callable[[], ImportSummary]] = [
        lambda: whole(a, path, **kw),
        lambda: import_in_chunks(b, path, Layer.CONCERNS, chunk_rows=chunk_rows, **kw)]
    for run in runs:
        try:
            out.append(run())
        except UnusableInputError as exc:
            out.append(exc)
    return out[0], out[1], a, b


def same_summary(a: ImportSummary, b: ImportSummary) -> None:
    assert (b.read, b.accepted, b.rejected) == (a.read, a.accepted, a.rejected)
    assert b.rejections == a.rejections  # rows, reasons and details
    assert b.notes == a.notes
    assert b.to_dict() == a.to_dict()


def same_error(a: Exception, b: Exception) -> None:
    assert type(b) is type(a)
    assert str(b) == str(a)
    assert getattr(b, "problems", None) == getattr(a, "problems", None)


def stored_concern(store: Store, rid: str) -> None:
    import_file(store, _write(store.path.parent / f"{rid}.csv",  # type: ignore[union-attr]
                              HEAD + row(1, rid=rid)), Layer.CONCERNS)


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_a_clean_file_in_many_parts_stores_the_same_rows(tmp_path: Path) -> None:
    a, b, sa, sb = both(tmp_path, rows(20))
    same_summary(a, b)
    assert b.accepted == 20
    pd.testing.assert_frame_equal(stored(sa), stored(sb))
    assert len(sb.imports()) == 1  # one log entry, with the whole file's counts
    assert '"read": 20' in sb.imports()["summary"].iloc[0]


def test_bad_rows_in_late_parts_keep_their_file_row_numbers(tmp_path: Path) -> None:
    text = rows(25, r2="r2,graffiti,2025-05-01 22:00,open,39.05,-94.57,extra\n",  # malformed
                r8=row(8, when="not a date"), r13=row(13, status="pending"),
                r17="r17,graffiti,2025-05-01 22:00,open,,\n",                    # no coordinates
                r21=row(21, lat="45.0"), r24=row(24, lat="0", lon="0"))           # far; 0,0
    a, b, sa, sb = both(tmp_path, text, chunk_rows=4)
    same_summary(a, b)
    assert {r.row for r in b.rejections} == {2, 8, 13, 17, 21, 24}
    assert any(r.row == 21 and r.detail.startswith("row 21:") for r in b.rejections)
    assert b.rejected["outside project area"] == 1
    pd.testing.assert_frame_equal(stored(sa), stored(sb))


def test_dates_far_from_the_file_period_are_noted_over_the_whole_file(tmp_path: Path) -> None:
    text = rows(30, r29=row(29, when="1999-01-01 10:00"))
    a, b, _, _ = both(tmp_path, text, chunk_rows=5)
    same_summary(a, b)
    assert any("1999" in n for n in b.notes)


def test_an_id_repeated_across_parts_refuses_the_file_listing_every_row(tmp_path: Path) -> None:
    text = rows(20, r15=row(15, rid="r2"), r19=row(19, rid="r2"), r18=row(18, rid="r4"))
    a, b, _, sb = both(tmp_path, text, chunk_rows=3)
    assert isinstance(b, LayerSchemaError)
    same_error(a, b)
    assert b.problems == ["id 'r2' on rows 2, 15, 19", "id 'r4' on rows 4, 18"]
    assert sb.count(Layer.CONCERNS) == 0 and sb.imports().empty


def test_an_id_already_stored_refuses_the_file_and_keeps_the_store(tmp_path: Path) -> None:
    def seed(store: Store) -> None:
        stored_concern(store, "r17")

    a, b, _, sb = both(tmp_path, rows(20), chunk_rows=3, seed=seed)
    assert isinstance(b, UnusableInputError)
    same_error(a, b)
    assert "1 id(s) are already in the concerns layer (e.g. r17)" in str(b)
    assert sb.count(Layer.CONCERNS) == 1 and len(sb.imports()) == 1  # the seed only


def test_stored_ids_skipped_on_request_give_the_same_store(tmp_path: Path) -> None:
    def seed(store: Store) -> None:
        stored_concern(store, "r3")
        stored_concern(store, "r16")

    a, b, sa, sb = both(tmp_path, rows(20), chunk_rows=3, seed=seed, on_conflict="skip")
    same_summary(a, b)
    pd.testing.assert_frame_equal(stored(sa), stored(sb))
    assert sb.count(Layer.CONCERNS) == 20


def test_the_row_limit_passed_in_a_late_part_stores_nothing(tmp_path: Path) -> None:
    settings = Settings(max_import_rows=17)
    a, b, _, sb = both(tmp_path, rows(20), chunk_rows=3, settings=settings)
    assert isinstance(b, UnusableInputError)
    same_error(a, b)
    assert "holds 20 rows" in str(b)
    assert sb.count(Layer.CONCERNS) == 0 and sb.imports().empty


def test_a_failure_in_a_late_part_rolls_back_the_earlier_ones(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = fresh(tmp_path, "s")
    path = _write(tmp_path / "c.csv", rows(20))
    calls: list[int] = []
    real = Store.add

    def add(self: Store, layer: Layer, frame: Any, **kw: Any) -> int:
        calls.append(len(frame))
        if len(calls) == 5:
            raise RuntimeError("disk full")
        return real(self, layer, frame, **kw)

    monkeypatch.setattr(Store, "add", add)
    with pytest.raises(RuntimeError, match="disk full"):
        import_in_chunks(store, path, Layer.CONCERNS, chunk_rows=3)
    assert len(calls) == 5  # four parts were written before the failure...
    assert store.count(Layer.CONCERNS) == 0  # ...and none of them stayed
    assert store.imports().empty


def test_ids_made_from_row_numbers_run_on_across_parts(tmp_path: Path) -> None:
    text = "category,created,status,lat,lon\n" + "".join(
        row(i).split(",", 1)[1] for i in range(1, 12))
    a, b, sa, sb = both(tmp_path, text, chunk_rows=2)
    same_summary(a, b)
    assert sorted(stored(sb)["service_request_id"]) == sorted(f"c-{i}" for i in range(1, 12))
    pd.testing.assert_frame_equal(stored(sa), stored(sb))


def test_quoted_line_breaks_and_separators_do_not_split_a_record(tmp_path: Path) -> None:
    text = ("id,category,description,created,status,lat,lon\n"
            + "".join(f'r{i},graffiti,"line one\nline two, ""quoted""\n",2025-05-01 22:00,'
                      f"open,39.05,-94.57\n" for i in range(1, 10)))
    a, b, sa, sb = both(tmp_path, text, chunk_rows=2)
    same_summary(a, b)
    assert b.accepted == 9
    assert stored(sb)["description"].iloc[0] == 'line one\nline two, "quoted"'
    pd.testing.assert_frame_equal(stored(sa), stored(sb))


def test_a_dry_run_reports_the_same_and_writes_nothing(tmp_path: Path) -> None:
    path = _write(tmp_path / "c.csv", rows(10, r5=row(5, when="nope")))
    a = prepare_import(fresh(tmp_path, "a"), path, Layer.CONCERNS).summary
    store = fresh(tmp_path, "b")
    b = import_in_chunks(store, path, Layer.CONCERNS, chunk_rows=3, dry_run=True)
    assert b.dry_run and (b.read, b.accepted, b.rejected) == (a.read, a.accepted, a.rejected)
    assert b.rejections == a.rejections
    assert store.count(Layer.CONCERNS) == 0 and store.imports().empty


def test_progress_is_reported_once_per_part_with_growing_counts(tmp_path: Path) -> None:
    path = _write(tmp_path / "c.csv", rows(10))
    seen: list[tuple[int, int]] = []
    import_in_chunks(fresh(tmp_path, "s"), path, Layer.CONCERNS, chunk_rows=3,
                     progress=lambda done, total: seen.append((done, total)))
    assert seen == [(3, 10), (6, 10), (9, 10), (10, 10)]


def test_import_file_and_the_door_read_a_csv_in_parts(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("layers.chunked.CHUNK_ROWS", 4)
    path = _write(tmp_path / "c.csv", rows(10))
    seen: list[int] = []
    store = fresh(tmp_path, "s")
    s = import_file(store, path, Layer.CONCERNS, progress=lambda d, t: seen.append(d))
    assert s.accepted == 10 and seen == [4, 8, 10]
    other = fresh(tmp_path, "door")
    door = Access(other, accounts.operator(), Settings())
    seen.clear()
    s = door.import_file(path, Layer.CONCERNS, progress=lambda d, t: seen.append(d))
    assert s.accepted == 10 and seen == [4, 8, 10]
    assert other.count(Layer.CONCERNS) == 10 and len(other.imports()) == 1


def test_only_csv_files_are_read_in_parts(tmp_path: Path) -> None:
    assert chunkable(tmp_path / "c.csv")
    assert chunkable(tmp_path / "c.txt", fmt="kc311")
    assert not chunkable(tmp_path / "c.geojson")
    geo = _write(tmp_path / "c.geojson", '{"type": "FeatureCollection", "features": []}')
    with pytest.raises(NotChunked):
        import_in_chunks(fresh(tmp_path, "s"), geo, Layer.CONCERNS)


def _peak_bytes(tmp_path: Path, n: int, name: str) -> int:
    rng = np.random.default_rng(n)
    lat = 39.03 + rng.random(n) * 0.05
    text = HEAD + "".join(f"r{i},graffiti,2025-05-01 22:00,open,{y:.6f},-94.57\n"
                          for i, y in enumerate(lat))
    path = _write(tmp_path / f"{name}.csv", text)
    del text
    store = fresh(tmp_path, name)
    tracemalloc.start()
    try:
        s = import_in_chunks(store, path, Layer.CONCERNS, chunk_rows=1000)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert s.accepted == n
    return peak


def test_peak_memory_stays_put_as_the_file_grows(tmp_path: Path) -> None:
    small = _peak_bytes(tmp_path, 3_000, "small")
    big = _peak_bytes(tmp_path, 30_000, "big")
    # ten times the rows, at most twice the memory: the parts, not the file, are held
    # (what grows is 24 bytes a row of id hashes and 8 a row per date field)
    assert big < 2 * small, (small, big)
