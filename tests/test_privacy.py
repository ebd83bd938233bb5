from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest

from cpted import concerns as cc
from cpted.concerns import ReportDraft
from cpted.exports import EXPORT_FORMATS
from cpted.privacy import Role, concerns_for, snap_to_grid
from layers.crs import metric_crs
from layers.schema import Layer
from layers.store import Store
from tests.helpers import exporter

NOW = datetime(2026, 11, 1, tzinfo=UTC)
CONTACT = {"contact_name": "Private Person", "contact_email": "private.person@example.org",
           "contact_phone": "+1 816 555 0199"}
EXACT = (-94.581234, 39.041234)


def populated(store: Store) -> list[str]:
    return [
        cc.submit_report(store, ReportDraft("drug_activity", *EXACT, "Blue house, 1234 Elm",
                                            address="1234 Elm Ave", **CONTACT), now=NOW),
        cc.submit_report(store, ReportDraft("graffiti", -94.58, 39.04, "Tags", **CONTACT),
                         now=NOW),
    ]


@pytest.mark.parametrize("fmt", EXPORT_FORMATS)
def test_public_export_has_no_contact_and_no_exact_sensitive_point(
        sample_store: Store, tmp_path: Path, fmt: str) -> None:
    populated(sample_store)
    out = tmp_path / f"public.{fmt}"
    exporter(sample_store, public=True).export(Layer.CONCERNS, out, fmt)
    raw = out.read_bytes()
    for secret in (*CONTACT.values(), "1234 Elm", "Blue house"):
        assert secret.encode() not in raw, secret
    for coord in EXACT:
        assert f"{coord}".encode() not in raw
    if fmt == "open311":
        items = json.loads(raw)
    else:
        gdf = gpd.read_parquet(out) if fmt == "parquet" else (
            gpd.read_file(out) if fmt != "csv" else None)
        if gdf is None:
            import pandas as pd

            df = pd.read_csv(out)
            gdf = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df.longitude, df.latitude),
                                   crs=4326)
        items = [{"service_request_id": str(r["service_request_id"]),
                  "service_code": r["service_code"], "lat": r.geometry.y, "long": r.geometry.x}
                 for _, r in gdf.iterrows()]
    exact = sample_store.read(Layer.CONCERNS).set_index("service_request_id").geometry
    sensitive = [i for i in items if i["service_code"] in ("drug_activity", "harassment")]
    assert len(sensitive) == int(exact.index.isin(
        sample_store.read(Layer.CONCERNS, where={"service_code": [
            "drug_activity", "harassment"]})["service_request_id"]).sum())
    assert len(sensitive) > 1
    shown = gpd.GeoSeries(gpd.points_from_xy([i["long"] for i in sensitive],
                                             [i["lat"] for i in sensitive]), crs=4326)
    true = gpd.GeoSeries([exact[i["service_request_id"]] for i in sensitive], crs=4326)
    crs = metric_crs(shown)
    d = shown.to_crs(crs).distance(true.to_crs(crs))
    assert (d > 0.01).all()  # none at its exact place
    assert d.max() <= 250 / np.sqrt(2) + 1  # and none further than half a cell's diagonal


def test_staff_export_is_exact_but_still_has_no_contact(store: Store, tmp_path: Path) -> None:
    populated(store)
    out = tmp_path / "staff.geojson"
    exporter(store, public=False).export(Layer.CONCERNS, out, "geojson")
    raw = out.read_text()
    assert "private.person@example.org" not in raw
    assert "1234 Elm" in raw
    gdf = gpd.read_file(out)
    p = gdf[gdf.service_code == "drug_activity"].geometry.iloc[0]
    assert (round(p.x, 6), round(p.y, 6)) == EXACT


def test_roles() -> None:
    c = gpd.GeoDataFrame({"service_code": ["drug_activity", "graffiti"],
                          "description": ["x", "y"], "address": ["a", "b"]},
                         geometry=gpd.points_from_xy([EXACT[0]] * 2, [EXACT[1]] * 2), crs=4326)
    for role in Role:
        seen = concerns_for(role, c, ["drug_activity"])
        exact = seen.geometry.iloc[0].equals(c.geometry.iloc[0])
        assert exact == (role in (Role.COORDINATOR, Role.OFFICER, Role.PLANNER, Role.ADMIN))
        assert seen.geometry.iloc[1].equals(c.geometry.iloc[1])  # not sensitive: exact
        assert (seen["description"].iloc[0] is None) == (not exact)


def test_grid_snapping_is_stable_and_bounded() -> None:
    rng = np.random.default_rng(3)
    pts = gpd.GeoSeries(gpd.points_from_xy(-94.6 + rng.random(200) * 0.05,
                                           39.0 + rng.random(200) * 0.05), crs=4326)
    a = snap_to_grid(pts, 250)
    b = snap_to_grid(pts.iloc[:50], 250)  # another export, other company: same cells
    assert a.iloc[:50].geom_equals_exact(b, 1e-9).all()
    crs = metric_crs(pts)
    d = pts.to_crs(crs).distance(a.to_crs(crs))
    assert d.max() <= 250 / np.sqrt(2) + 0.5
    assert a.nunique() < len(pts)  # nearby points share a cell
