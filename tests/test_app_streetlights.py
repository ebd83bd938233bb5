"""AppTest of the Streetlights page: the darkness model, then a work list within a budget."""

from __future__ import annotations

from pathlib import Path

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
    assert metrics["Out"] == f"{int(src.inv.out.sum()):,}"
    assert int(metrics["Open light-out reports matched"]) == len(src.outages) > 0
    assert " km" in metrics["Dark streets"]
    budget = next(n for n in app.number_input if n.label == "Budget (USD)")
    budget.set_value(20_000.0).run()
    next(b for b in app.button if b.label == "Make the work list").click().run()
    assert not app.exception, app.exception
    summary = app.success[0].value
    assert summary.startswith("$") and "fixes" in summary and "night-time concern" in summary
    spent = float(summary.split(" ")[0].strip("$").replace(",", ""))
    assert 0 < spent <= 20_000
    table = next(d.value for d in app.dataframe if "cost_usd" in d.value.columns)
    assert table["cost_usd"].sum() == pytest.approx(spent)
    assert list(table["rank"]) == list(range(1, len(table) + 1))
    after = next(c.value for c in app.caption if c.value.startswith("After the work"))
    below_after = float(after.split("After the work: ")[1].split(" km")[0])
    assert below_after < float(metrics["Below minimum"].split(" ")[0])

    # the outcome check of repairs, with its caveats
    did = next(m for m in app.metric if m.label == "Difference in differences")
    assert did.value.endswith(" per km")
    assert any("not proof" in w.value for w in app.warning)
