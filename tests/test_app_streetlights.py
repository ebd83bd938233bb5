"""AppTest of the Streetlights page: the darkness model, then a work list within a budget."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from cpted import priorities as pr
from layers.store import open_store
from tests.conftest import ROOT

APP = str(ROOT / "app.py")
pytestmark = pytest.mark.usefixtures("fresh_streamlit_caches")


def test_streetlights_page_models_and_makes_a_work_list(sample_db: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CPTED_DB_URL", str(sample_db))
    monkeypatch.chdir(ROOT)
    app = AppTest.from_file(APP, default_timeout=120)
    app.switch_page("app_pages/streetlights.py").run()
    assert not app.exception, app.exception
    metrics = {m.label: m.value for m in app.metric}
    with open_store(sample_db) as s:
        src = pr.from_store(s)
    assert metrics["Poles"] == f"{len(src.inv):,}"
    assert metrics["Poles out"] == f"{int(src.inv.out.sum()):,}"
    assert int(metrics["Light-out reports"]) == len(src.outages) > 0
    now = pr.darkness(src.streets, src.inv, src.data)
    assert metrics["Dark street length"] == f"{now.dark_km:.1f} km"
    assert metrics["Streets short of RP-8"] == f"{now.short_km:.1f} km"
    # how each pole is modelled, in plain words: the sample's cobra heads are Type III
    # and its wall packs Type IV, both aimed at their street
    modelled = next(d.value for d in app.dataframe if "Modelled as" in d.value.columns)
    as_shown = dict(zip(modelled["Luminaire"], modelled["Modelled as"], strict=True))
    assert as_shown["cobra head"].startswith("IES Type III, aimed across the nearest street")
    assert as_shown["wall pack"].startswith("IES Type IV")
    assert modelled["Poles"].sum() == len(src.inv)
    assert not np.isnan(src.inv.fronts()).any()  # every pole faces a street
    budget = next(n for n in app.number_input if n.label == "Budget (USD)")
    budget.set_value(20_000).run()
    assert any(c.value.startswith("Budget $20,000: repairs at $350,") for c in app.caption)
    next(b for b in app.button if b.label == "Make the work list").click().run()
    assert not app.exception, app.exception
    summary = app.success[0].value
    assert summary.startswith("$") and "fixes" in summary and "night-time concern" in summary
    assert "meet all three RP-8 tests: average, minimum and uniformity" in summary
    spent = float(summary.split(" ")[0].strip("$").replace(",", ""))
    assert 0 < spent <= 20_000
    shown = next(d for d in app.dataframe if "Cost" in d.value.columns)
    table = shown.value
    # readable headers, names before ids, money as dollars
    assert list(table.columns) == ["Rank", "Work", "Streets", "Pole", "Cost",
                                   "Dark metres fixed", "Night-time concerns near", "Benefit"]
    assert set(table["Work"]) <= {"Repair", "Upgrade", "New pole"}
    names = set(src.streets["name"].dropna())
    first = table["Streets"].iloc[0]
    assert first.split(" (")[0] in names and "ST-" in first.split(" (", 1)[1]
    assert '"format":"$%,d"' in shown.proto.columns.replace(" ", "")
    assert table["Cost"].sum() == pytest.approx(spent)
    assert list(table["Rank"]) == list(range(1, len(table) + 1))
    # after the work: the modelled result of doing the list, lower than now
    after = {m.label: m for m in app.metric}
    dark_after = after["Dark street length after the work"]
    assert float(dark_after.value.split(" ")[0]) < now.dark_km
    assert dark_after.delta.startswith("-") and dark_after.delta.endswith(" km")
    assert "Streets short of RP-8 after the work" in after

    # the outcome check of repairs, with its caveats
    did = next(m for m in app.metric if m.label == "Difference in differences")
    assert did.value.endswith(" per km")
    assert any("not proof" in w.value for w in app.warning)


def test_map_and_streetlights_pages_count_the_same_poles_out(
        sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cpted import lighting as lt
    from layers.schema import Layer

    monkeypatch.setenv("CPTED_DB_URL", str(sample_db))
    monkeypatch.chdir(ROOT)
    with open_store(sample_db) as s:
        lights, concerns = s.read(Layer.STREETLIGHTS), s.read(Layer.CONCERNS)
    expected = int(lt.poles_out(lights, concerns).sum())
    by_status = int((lights["status"] == "out").sum())
    assert expected > by_status  # the sample has open reports at poles still marked working
    app = AppTest.from_file(APP, default_timeout=120).run()
    assert not app.exception, app.exception
    on_map = next(m for m in app.metric if m.label == "Streetlights out")
    assert on_map.value == f"{expected:,}"
    app.switch_page("app_pages/streetlights.py").run()
    assert not app.exception, app.exception
    on_lights = next(m for m in app.metric if m.label == "Poles out")
    assert on_lights.value == on_map.value
