"""The Patrol and Streetlights pages in Spanish: hotspots, forecasts, trends, routes and the
visit log; the darkness model, the work list with its money and the before/after figures.

Each test drives the page as the English tests do (tests/test_app_patrol.py,
tests/test_app_streetlights.py), asserts Spanish words, numbers and money where people read
them, and that nothing asked for is missing from the catalogue.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from cpted import i18n
from tests.conftest import by_label
from tests.test_i18n import rerun, spanish

pytestmark = pytest.mark.usefixtures("fresh_streamlit_caches")

#: Babel writes a percent in Spanish with a no-break space before the sign.
NBSP = "\xa0"


def _headers(frame: Any) -> dict[str, str]:
    """A shown table's column labels (its ``column_config``) by column."""
    config = json.loads(frame.proto.columns or "{}")
    return {k: v.get("label", "") for k, v in config.items()}


def _written(frame: Any) -> pd.DataFrame:
    """A shown table's cells as the page wrote them (a styled table's display values)."""
    import pyarrow as pa

    styler = frame.proto.arrow_data.styler
    assert styler.display_values, "the table is not styled"
    return pa.ipc.open_stream(styler.display_values).read_all().to_pandas()


def test_the_patrol_page_in_spanish_from_hotspots_to_a_logged_visit(
        sample_db: Path, monkeypatch: pytest.MonkeyPatch,
        map_returns: list[dict[str, object]]) -> None:
    at = spanish("app_pages/patrol.py", sample_db, monkeypatch, role="officer")
    assert [t.value for t in at.title] == ["Patrullaje"]
    assert "1. Qué cuenta" in [s.value for s in at.subheader]
    assert by_label(at.checkbox, "Problemas nocturnos").value
    with i18n.use("es"):
        by_label(at.number_input, "Peso").set_value(1.0)
        by_label(at.button, "Buscar puntos calientes").click()
    rerun(at)
    metrics = {m.label: m.value for m in at.metric}
    assert re.fullmatch(r"\d{1,3}(\.\d{3})*", metrics["Eventos"])  # "2.345": Babel's es
    assert len(metrics["Puntos calientes (99/95/90 %)"].split("/")) == 3
    assert metrics["Radio del núcleo"].endswith(" m")
    counted = next(c.value for c in at.caption if c.value.startswith("Contado: "))
    assert "problemas abiertos x1" in counted and "solo de noche" in counted
    assert "celdas cuadradas de " in counted and "permutaciones" in counted

    # the forecasts on the later window, the chosen one marked, its verdict in a sentence
    forecasts = next(d for d in at.dataframe if "PAI" in d.value.columns)
    table = forecasts.value
    assert table["Method"].str.endswith(" (elegido)").sum() == 2
    assert {"Conteos", "Densidad de núcleo", "Combinación"} <= {
        m.removesuffix(" (elegido)") for m in table["Method"]}
    assert set(table["Top area"]) == {f"1{NBSP}%", f"5{NBSP}%"}
    assert _headers(forecasts)["Method"] == "Método"
    assert all(re.fullmatch(r"\d+,\d %", x.replace(NBSP, " "))
               for x in _written(forecasts)["Hit rate"])  # "12,5 %"
    said = [x.value for x in [*at.info, *at.warning] if "ventana de validación" in x.value]
    assert len(said) == 1 and "conteos" in said[0]
    top = next(d for d in at.dataframe if "Gi* result" in d.value.columns)
    assert _headers(top)["Events in the cell"] == "Eventos en la celda"
    assert set(top.value["Gi* result"]) <= {
        "No significativo", *(f"Punto caliente, {n}{NBSP}% de confianza" for n in (90, 95, 99))}
    assert any("Ventanas: hecho del " in c.value for c in at.caption)

    # responsible use: the evidence in words, and how this was made
    text = " ".join(m.value for m in at.markdown)
    assert "Uso responsable" in text and "Cómo se hizo esto" in text
    assert "Del peso que cuentan los puntos calientes: informes de residentes" in text
    assert "No hay raza, etnia, sexo, edad ni ingresos" in text

    # emerging hot spots: a count per class, what each means
    assert by_label(at.radio, "Períodos de tiempo").options == ["Meses", "Semanas"]
    with i18n.use("es"):
        by_label(at.button, "Buscar puntos calientes emergentes").click()
    rerun(at)
    counts = next(d for d in at.dataframe if "What it means" in d.value.columns)
    assert _headers(counts)["What it means"] == "Qué significa"
    meaning = dict(zip(counts.value["Pattern"], counts.value["What it means"], strict=True))
    assert meaning["Nuevo punto caliente"] == "punto caliente en el último mes y nunca antes"
    assert any(c.value.startswith("24 meses del ") and "Mann-Kendall" in c.value
               for c in at.caption)

    # a route on the sample's streets, from the station the page proposes
    assert any(c.value.startswith("Red: ") and "cruces" in c.value for c in at.caption)
    with i18n.use("es"):
        by_label(at.number_input, "Turno (minutos)").set_value(120)
        by_label(at.button, "Planificar rutas").click()
    rerun(at)
    summary = at.success[0].value
    assert summary.startswith("1 agente(s) visitan ") and "turno de 120 minutos" in summary
    stops = next(d for d in at.dataframe if "arrive" in d.value.columns)
    assert _headers(stops)["arrive"] == "Llegada" and len(stops.value) > 1
    assert stops.value["why"].str.contains(
        r"^Celda \d+: |celdas de puntos calientes; la más fuerte: ").all()

    # the visit log: a stop of the plan, logged, then listed with a Spanish date
    with i18n.use("es"):
        by_label(at.text_input, "Agente").set_value("Agte. Rivera")
        by_label(at.text_area, "Nota").set_value("Tranquilo")
        by_label(at.button, "Registrar la visita").click()
    rerun(at)
    assert any(s.value.startswith("Registrado: Agente 1, parada 1") for s in at.success)
    assert any(c.value.startswith("1 visita en los últimos 30 días") for c in at.caption)
    visits = next(d for d in at.dataframe if "note" in d.value.columns)
    assert _headers(visits)["visited_at"] == "Visitado"
    months = "ene|feb|mar|abr|may|jun|jul|ago|sept?|oct|nov|dic"
    assert re.fullmatch(rf"\d{{1,2}} ({months}) \d{{4}}, \d\d:\d\d",
                        visits.value["visited_at"].iloc[0])
    assert i18n.missing("es") == set()


def test_the_patrol_page_in_spanish_says_it_is_for_staff(
        sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = spanish("app_pages/patrol.py", sample_db, monkeypatch)
    assert any(i.value.startswith("La planificación del patrullaje usa la ubicación exacta")
               for i in at.info)
    assert i18n.missing("es") == set()


def test_the_streetlights_page_in_spanish_with_its_work_list_and_repairs(
        sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = spanish("app_pages/streetlights.py", sample_db, monkeypatch)
    assert [t.value for t in at.title] == ["Alumbrado público"]
    metrics = {m.label: m for m in at.metric}
    assert re.fullmatch(r"\d+,\d km", metrics["Longitud de calle oscura"].value)
    assert "Calles por debajo de RP-8" in metrics and "Postes" in metrics
    modelled = next(d for d in at.dataframe if "Modelled as" in d.value.columns)
    assert _headers(modelled)["Modelled as"] == "Modelado como"
    assert any(m.startswith("IES tipo III, orientada a través de la calle más cercana")
               for m in modelled.value["Modelled as"])
    with i18n.use("es"):
        by_label(at.number_input, "Presupuesto (USD)").set_value(20_000)
    rerun(at)
    assert any(c.value.startswith("Presupuesto US$20.000: reparaciones a US$350")
               for c in at.caption), [c.value for c in at.caption]
    with i18n.use("es"):
        by_label(at.button, "Hacer la lista de trabajo").click()
    rerun(at)
    summary = at.success[0].value
    assert summary.startswith("US$") and " corrige " in summary
    assert "pasan las tres pruebas de RP-8: promedio, mínimo y uniformidad" in summary
    shown = next(d for d in at.dataframe if "Costo" in d.value.columns)
    work = shown.value
    assert list(work.columns) == ["Puesto", "Trabajo", "Calles", "Poste", "Costo",
                                  "Metros oscuros corregidos", "Problemas nocturnos cerca",
                                  "Beneficio"]
    assert set(work["Trabajo"]) <= {"Reparación", "Mejora", "Poste nuevo"}
    # the money and lengths as people read them: Babel's Spanish, not the grid's "$1,234"
    written = _written(shown)
    assert all(re.fullmatch(r"US\$\d{1,3}(\.\d{3})*", x) for x in written["Costo"])
    assert written["Costo"].iloc[0] == f"US${int(work['Costo'].iloc[0]):,}".replace(",", ".")
    assert all(re.fullmatch(r"\d{1,3}(\.\d{3})* m", x)
               for x in written["Metros oscuros corregidos"])
    after = {m.label: m for m in at.metric}
    dark_after = after["Longitud de calle oscura después del trabajo"]
    assert dark_after.delta.startswith("-") and re.search(r"\d,\d km$", dark_after.delta)
    did = after["Diferencia en diferencias"]
    assert did.value.endswith(" por km") and "," in did.value
    outcome = next(d for d in at.dataframe if "change per km" in d.value.columns)
    assert _headers(outcome)["change per km"] == "Cambio por km"
    assert list(outcome.value["area"]) == ["cerca de luces reparadas",
                                                "calles de comparación"]
    assert any(w.value.startswith("Esto compara informes, no delitos") for w in at.warning)
    assert i18n.missing("es") == set()
