"""The street pre-score on a real city: Cambridge, MA's street centrelines and streetlight
poles from ../shared/data, imported with their committed profiles.

The city has no building footprints, parcels, concerns or incidents here, so the
pre-score is the darkness component alone and the page must say the others are left out.
References: the RP-8 targets by class as the lighting data lists them, recomputed per
segment from ``segment_lux``'s averages; the street names as the centreline file holds them.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from cpted import lighting as lt
from cpted import prescore as ps
from cpted.access import Access
from cpted.accounts import public
from layers.importer import import_file
from layers.schema import Layer
from layers.store import open_store
from tests.conftest import ROOT

pytestmark = pytest.mark.realdata
NOW = datetime(2026, 11, 1, tzinfo=UTC)


def test_every_cambridge_street_is_scored_by_its_modelled_darkness(real_data: Path,
                                                                   tmp_path: Path) -> None:
    with open_store(tmp_path / "cambridge.gpkg") as s:
        streets = import_file(s, real_data / "cambridge/TRANS_Centerlines.geojson",
                              Layer.STREETS,
                              profile=str(ROOT / "profiles/cambridge-street-centrelines.toml"))
        import_file(s, real_data / "cambridge/INFRA_StreetLights.geojson", Layer.STREETLIGHTS,
                    profile=str(ROOT / "profiles/cambridge-streetlights.toml"))
        door = Access(s, public("realdata"))
        t0 = time.perf_counter()
        result = door.prescore(now=NOW)
        took = time.perf_counter() - t0
        seg = result.segments
        print(f"\npre-score of {len(seg):,} Cambridge segments in {took:.1f} s")
        assert len(seg) == streets.accepted == 2643
        assert result.used == ("darkness",)
        assert set(result.missing) == {"enclosure", "vacant", "maintenance", "incidents"}
        # darkness against each class's RP-8 average target, recomputed here
        data = lt.load_lighting_data()
        target = np.array([data.targets[str(c)].avg_lux for c in seg["class"]])
        assert seg["target_avg"].to_numpy() == pytest.approx(target)
        expected = 1 - np.minimum(1, seg["avg_lux"].to_numpy() / target)
        assert seg["darkness"].to_numpy() == pytest.approx(expected)
        assert seg["pre_score"].to_numpy() == pytest.approx(100 * expected)
        assert 0 < seg["darkness"].mean() < 1  # some streets lit to target, some not
        # segments named by their streets and cross streets, as the file names them
        names = set(s.read(Layer.STREETS)["name"].dropna())
        assert seg["street"].map(lambda t: t.split(" between ")[0].split(" at ")[0]
                                 ).isin(names | {"Unnamed street"}).all()
        assert seg["street"].str.contains("Massachusetts Ave between ").any()
        todo = ps.where_to_audit(result, door.audits(), now=NOW)
        assert len(todo) == 10 and todo["pre_score"].iloc[0] == seg["pre_score"].max()
