"""Property tests (hypothesis) of the geometry codec, ids and datetimes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from layers import gpkg
from layers.store import format_datetimes
from layers.validate import clean_ids

lon = st.floats(-180, 180, allow_nan=False)
lat = st.floats(-90, 90, allow_nan=False)
points = st.builds(shapely.Point, lon, lat)


@st.composite
def polygons(draw: st.DrawFn) -> shapely.Geometry:
    x, y = draw(lon), draw(lat)
    w = draw(st.floats(1e-6, 1.0))
    h = draw(st.floats(1e-6, 1.0))
    return shapely.box(x, y, x + w, y + h)


@st.composite
def lines(draw: st.DrawFn) -> shapely.Geometry:
    coords = draw(st.lists(st.tuples(lon, lat), min_size=2, max_size=20))
    return shapely.LineString(coords)


geometries = st.one_of(points, polygons(), lines(),
                       st.builds(lambda a, b: shapely.MultiPolygon([a, b]), polygons(),
                                 polygons()),
                       st.just(shapely.Polygon()), st.none())


@given(st.lists(geometries, max_size=30))
@settings(max_examples=150, deadline=None)
def test_geopackage_blobs_round_trip(geoms: list[shapely.Geometry | None]) -> None:
    arr = np.array(geoms, dtype=object)
    back = gpkg.decode(gpkg.encode(arr))
    assert len(back) == len(geoms)
    for a, b in zip(geoms, back, strict=True):
        if a is None:
            assert b is None
        else:
            assert b.geom_type == a.geom_type
            assert shapely.equals_exact(a, b, 0) or (a.is_empty and b.is_empty)


@given(st.lists(geometries.filter(lambda g: g is not None and not g.is_empty), min_size=1,
                max_size=10))
@settings(max_examples=100, deadline=None)
def test_envelope_in_the_blob_matches_the_geometry(geoms: list[shapely.Geometry]) -> None:
    import struct

    for g, blob in zip(geoms, gpkg.encode(np.array(geoms, dtype=object)), strict=True):
        assert blob is not None and blob[:2] == b"GP"
        if g.geom_type == "Point":
            assert (blob[3] >> 1) & 0b111 == 0  # points carry no envelope
            continue
        minx, maxx, miny, maxy = struct.unpack("<4d", blob[8:40])
        assert (minx, miny, maxx, maxy) == tuple(shapely.bounds(g))


@given(st.lists(st.integers(-10**12, 10**12), max_size=20))
def test_float_ids_print_as_the_integers_they_were(ids: list[int]) -> None:
    as_float = pd.Series([float(i) for i in ids], dtype=float)
    assert list(clean_ids(as_float)) == [str(i) for i in ids]
    assert list(clean_ids(pd.Series([f"{i}.0" for i in ids], dtype=object))) == [
        str(i) for i in ids]


@given(st.lists(st.datetimes(min_value=pd.Timestamp("1970-01-02").to_pydatetime(),
                             max_value=pd.Timestamp("2200-01-01").to_pydatetime()),
                max_size=20))
def test_stored_datetime_text_parses_back_to_the_same_millisecond(values: list) -> None:
    s = pd.Series(pd.to_datetime(values)).dt.tz_localize("UTC")
    text = format_datetimes(s)
    back = pd.to_datetime(pd.Series(text, dtype=object), utc=True, format="ISO8601")
    expected = s.dt.floor("ms")
    assert (back.reset_index(drop=True) == expected.reset_index(drop=True)).all()
    assert all(t.endswith("Z") and "T" in t for t in text)
