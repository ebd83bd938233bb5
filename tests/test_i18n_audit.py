"""The audit side in Spanish: the CPTED instrument in the catalogue, the Audit a place and
Audits pages, and the audit maps' words.

The instrument's texts reach the catalogue through ``cpted.i18n_extract.extract_instrument``
(registered in ``babel.cfg``); they are stored in English and translated where shown.
"""

from __future__ import annotations

import json
import math
import tomllib
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from cpted import i18n
from cpted.instrument import DEFAULT_INSTRUMENT, Scale, load_instrument
from layers.store import open_store
from tests.conftest import by_label, frame_with
from tests.test_i18n import rerun, spanish

SPOT = {"type": "Feature", "properties": {},
        "geometry": {"type": "Point", "coordinates": [-94.5790, 39.0365]}}
INS = load_instrument()


# -- the instrument in the catalogue ------------------------------------------------------

def test_the_extractor_yields_the_instruments_principles_questions_and_answers() -> None:
    from cpted.i18n_extract import extract_instrument

    with DEFAULT_INSTRUMENT.open("rb") as f:
        found = list(extract_instrument(f, ["_"], [], {}))
    texts = {message for _line, _fn, message, _comments in found}
    assert {p.name for p in INS.principles} <= texts
    assert {p.description for p in INS.principles if p.description} <= texts
    assert {i.question for i in INS.items} <= texts
    assert {i.help for i in INS.items if i.help} <= texts
    assert {i.recommendation for i in INS.items if i.recommendation} <= texts
    raw = tomllib.loads(DEFAULT_INSTRUMENT.read_text(encoding="utf-8"))
    assert {lab for item in raw["items"] for lab in item.get("labels", [])} <= texts
    assert {INS.title, INS.description, INS.weights_note} <= texts  # as parse_instrument reads
    assert not set(INS.sources.values()) & texts  # citations stay as published
    # each text says where it comes from, and its line is found in the file
    by_text = {m: (line, c) for line, _fn, m, c in found}
    line, comments = by_text["All the lights here are working."]
    assert comments == ["CPTED item lt_working: its question"]
    assert DEFAULT_INSTRUMENT.read_text().splitlines()[line - 1].startswith("question = ")


def test_babel_puts_the_instrument_and_the_scales_default_words_in_the_template(
        tmp_path: Path) -> None:
    from tests.test_i18n import extracted

    texts = extracted(tmp_path)
    assert "Natural surveillance" in texts and "How safe do you feel here?" in texts
    assert {w for s in Scale for w in s.default_labels} <= texts


def test_every_instrument_text_and_scale_word_has_spanish() -> None:
    i18n.forget_missing()
    with i18n.use("es"):
        assert i18n._("Natural surveillance") == "Vigilancia natural"
        for p in INS.principles:
            i18n._(p.name), i18n._(p.description)
        for item in INS.items:
            i18n._(item.question), i18n._(item.help), i18n._(item.recommendation)
            [item.label(v) for v in item.scale.values]
        for s in Scale:
            [i18n._(w) for w in s.default_labels]
        for t in (INS.title, INS.description, INS.weights_note):
            i18n._(t)
    assert i18n.missing("es") == set()


def test_a_recommendation_is_given_in_spanish_and_stored_answers_are_not_translated() -> None:
    from cpted.scoring import label_words, score

    card = score(INS, {"lt_working": 0, "ns_windows": 0}, "night")
    rec = next(r for r in card.recommendations if r.item.id == "lt_working")
    with i18n.use("es"):
        assert i18n._(rec.text) == ("Avise a la ciudad de cada luz apagada (con el número "
                                    "del poste si se ve).")
        assert rec.item.label(0) == "No" and INS.item("ns_windows").label(0) == "Ninguno"
        assert label_words(card.label) == "Respuestas insuficientes"
        assert card.coverage_note.startswith("2 de 41 puntos respondidos; una puntuación "
                                             "general necesita al menos 21 (50\xa0%)")
        assert label_words("a deployment's own label") == "a deployment's own label"
    # what is kept stays English: the label the maps colour by, the item's own words
    assert card.label == "Not enough answers" and rec.item.labels == ("No", "Yes")
    assert rec.text.startswith("Report each light that is out")


def test_a_deployments_own_instrument_text_is_shown_as_written() -> None:
    from cpted.instrument import parse_instrument

    own = DEFAULT_INSTRUMENT.read_text(encoding="utf-8").replace(
        'question = "All the lights here are working."',
        'question = "Every lamp on our block is lit."')
    ins = parse_instrument(own)
    with i18n.use("es"):
        assert i18n._(ins.item("lt_working").question) == "Every lamp on our block is lit."
        assert i18n._(ins.item("lt_level").question).startswith("La luz alcanza")
    i18n.forget_missing()


def test_the_word_tables_hold_the_domains_own_words() -> None:
    """Words the domain keeps in English (cpted.agreement, cpted.prescore) are marked for the
    catalogue beside the code that shows them; the two must stay equal."""
    from app_pages._audit_analytics import LEFT_OUT
    from cpted import agreement as ag
    from cpted import prescore as ps
    from cpted.agreement_charts import KAPPA_SAID
    from cpted.maps.prescore import COMPONENT_WORDS
    from tests.test_prescore import grid, run

    domain = {w for _f, w in ag.KAPPA_WORDS} | {ag.kappa_words(None),
                                                "everyone gave the same answer"}
    assert domain == KAPPA_SAID
    assert COMPONENT_WORDS == ps.COMPONENTS
    nothing = run(grid())  # streets only: every component is left out, each saying why
    assert set(nothing.missing) == set(ps.COMPONENTS)
    assert set(nothing.missing.values()) == LEFT_OUT


# -- the pages ----------------------------------------------------------------------------

@pytest.mark.usefixtures("fresh_streamlit_caches")
def test_audit_a_place_in_spanish_refuses_then_saves_and_scores(
        sample_db: Path, monkeypatch: pytest.MonkeyPatch,
        map_returns: list[dict[str, Any]]) -> None:
    at = spanish("app_pages/assess.py", sample_db, monkeypatch)
    assert [t.value for t in at.title] == ["Auditar un lugar"]
    assert [s.value for s in at.subheader] == ["1. El lugar", "2. La visita",
                                              "3. La lista de comprobación"]
    assert "Todavía no hay un lugar dibujado." in [i.value for i in at.info]
    # no place yet: saving is off, and the form says why
    assert by_label(at.button, "Guardar la auditoría").disabled
    assert any(c.value.startswith("No se puede guardar hasta que dibuje el lugar")
               for c in at.caption)
    assert at.expander[0].label == "Cómo funciona esta auditoría"
    principles = [e.label for e in at.expander[1:]]
    assert principles[0] == "Vigilancia natural (6)"
    assert "Control natural de accesos (4)" in principles
    assert "Sensación de seguridad (2)" in principles
    period = by_label(at.radio, "De día o de noche")
    assert period.options == ["De día", "De noche"]
    # the map's text alternative speaks Spanish too
    assert any(c.value.startswith("Mapa para dibujar el lugar que se va a auditar")
               for c in at.caption)
    # draw a spot
    map_returns[0] = {"last_active_drawing": SPOT}
    rerun(at)
    assert "Lugar: un punto en 39,03650; -94,57900." in [c.value for c in at.caption]
    assert not by_label(at.button, "Guardar la auditoría").disabled
    # saving without answers is refused, every problem in Spanish
    with i18n.use("es"):
        by_label(at.button, "Guardar la auditoría").click()
    rerun(at)
    assert [e.value for e in at.error] == ["No se guardó: la auditoría todavía no se puede "
                                           "guardar."]
    problems = [m.value for m in at.markdown if m.value.startswith("- ")]
    assert "- responda al menos un punto" in problems
    assert any(p.startswith("- dé un nombre al lugar") for p in problems)
    with i18n.use("es"):
        by_label(at.button, "Mostrar las líneas de visión desde este punto").click()
    rerun(at)
    assert any(c.value.startswith("Líneas de visión: ") and "apertura" in c.value
               and "\xa0%" in c.value for c in at.caption)
    with open_store(sample_db) as s:
        from cpted import assessments as au

        before = len(au.list_assessments(s))
    with i18n.use("es"):
        by_label(at.text_input, "Nombre del lugar").input("Callejón de los garajes")
        by_label(at.text_input, "Auditado por").input("Asociación de la cuadra Maple")
        by_label(at.radio, "De día o de noche").set_value("night")
    rerun(at)
    windows = by_label(at.radio, "Ventanas y puertas de edificios ocupados dan a este lugar.")
    assert windows.options == ["Ninguno", "Pocos", "Muchos", "A todo lo largo", "N/A"]
    assert windows.help.startswith("Cuente las ventanas")
    with i18n.use("es"):
        by_label(at.radio, "La luz alcanza para reconocer una cara a unos pasos.").set_value(0)
        by_label(at.radio, "Todas las luces de aquí funcionan.").set_value(0)
        windows.set_value(3)
        by_label(at.radio, "El lugar está libre de basura y de objetos tirados.").set_value("na")
        by_label(at.radio, "¿Qué tan seguro se siente aquí?").set_value(2)
        for r in at.radio:
            if r.key.startswith("q-") and r.value is None and "N/A" in r.options:
                r.set_value("na")
        by_label(at.text_area, "Notas").input("Dos luces apagadas junto a los garajes.")
        by_label(at.button, "Guardar la auditoría").click()
    rerun(at)
    assert not at.error, [e.value for e in at.error]
    assert at.success[0].value.startswith("Guardada: Callejón de los garajes (auditoría de "
                                          "noche, A-")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {"General (diseño)": "50 / 100", "Confianza": "80\xa0%",
                       "Sensación de seguridad": "25 / 100"}  # one outcome item blank
    assert "Débil" in [c.value for c in at.caption] and "alta" in [c.value for c in at.caption]
    assert "Recomendaciones" in [s.value for s in at.subheader]
    text = " ".join(m.value for m in at.markdown)
    assert "Avise a la ciudad de cada luz apagada" in text  # a quick win, first
    assert text.index("Mejora rápida") < text.index("Inversión")
    assert "Respuesta: No" in text
    chart = next(i for i in at.get("image")
                 if i.captions == ["Puntuaciones por principio (0-100)"])
    said = chart.proto.imgs[0].alt  # the chart's text alternative
    assert said.startswith("Gráfico de barras de las puntuaciones por principio, de 0 a 100: ")
    assert "Iluminación 0" in said and "Vigilancia natural 100" in said
    assert "Conectividad sin responder" in said
    with open_store(sample_db) as s:
        audits = au.list_assessments(s)
    assert len(audits) == before + 1
    saved = audits[audits["place_name"] == "Callejón de los garajes"].iloc[0]
    # stored as answered: values, not words; the period as stored
    assert saved["period"] == "night" and saved["label"] == "Weak"
    assert by_label(at.button, "Auditar otro lugar") is not None
    assert i18n.missing("es") == set()


@pytest.mark.usefixtures("fresh_streamlit_caches")
def test_the_audits_page_in_spanish_with_its_trend_and_analyses(
        sample_db: Path, monkeypatch: pytest.MonkeyPatch,
        map_returns: list[dict[str, Any]]) -> None:
    from cpted import assessments as au

    with open_store(sample_db) as s:
        audits = au.list_assessments(s)
        trend = au.same_place(s, audits["id"].iloc[0])
        both = next(i for i in audits["id"] if au.day_and_night(s, i) is not None)
    at = spanish("app_pages/audits.py", sample_db, monkeypatch, role="coordinator")
    assert [t.value for t in at.title] == ["Auditorías CPTED"]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Auditorías"] == i18n.number(len(audits))
    assert "Mediana general (la última de cada lugar)" in metrics
    # the table of audits: headers and words in Spanish, values kept for sorting
    table = frame_with(at, "audit")
    headers = {k: v.get("label") for k, v in json.loads(table.proto.columns).items()}
    assert headers["place"] == "Lugar" and headers["label"] == "Calificación"
    assert headers["overall"] == "Puntuación general" and headers["audit"] == (
        "Número de auditoría")
    assert set(table.value["period"]) <= {"De día", "De noche"}
    assert set(table.value["label"]) <= {"Sólida", "Adecuada", "Débil", "Deficiente",
                                         "Respuestas insuficientes"}
    picker = by_label(at.selectbox, "Auditoría")
    assert any(" · De noche · " in o or " · De día · " in o for o in picker.options)
    assert [t.label for t in at.tabs][:4] == ["Puntuaciones", "Tendencia y comparación",
                                             "Líneas de visión", "Imprimir"]
    assert [t.label for t in at.tabs][-3:] == ["¿Coinciden los auditores?",
                                              "Qué va con sentirse seguro",
                                              "Dónde auditar ahora"]
    assert at.caption[2].value.startswith(("Auditoría de noche del ", "Auditoría de día del "))
    # the trend: before and after, principle by principle
    assert len(trend) >= 2
    assert by_label(at.selectbox, "Antes").value != by_label(at.selectbox, "Después").value
    compared = frame_with(at, "change")
    assert compared.value["principle"].iloc[-1] == "General (diseño)"
    assert "Iluminación" in set(compared.value["principle"])
    assert json.loads(compared.proto.columns)["change"]["label"] == "Cambio"
    # across audits: agreement, what goes with feeling safe, where to audit next
    assert "Entre auditorías" in [h.value for h in at.header]
    assert "Lugares auditados por varios auditores" in metrics
    text = " ".join(m.value for m in at.markdown)
    assert "kappa de Fleiss" in text and "términos según Landis y Koch" in text
    assert "fue más alta, los auditores se sintieron más seguros" in text
    kappa = frame_with(at, "kappa")
    assert "Iluminación" in set(kappa.value["principle"])
    assert set(kappa.value["words"]) <= {"casi perfecto", "considerable", "moderado",
                                         "aceptable", "leve", "pobre (menos que el azar)",
                                         "todos dieron la misma respuesta"}
    assert "Dónde auditar ahora" in [s.value for s in at.subheader]
    assert any(c.value.startswith("Mapa de ") and "tramos de calle" in c.value
               for c in at.caption)
    assert "¿Coincide la puntuación previa con lo que encontraron los auditores?" in [
        s.value for s in at.subheader]
    assert "correlación de rangos entre la puntuación previa" in text
    pre = frame_with(at, "pre")
    pre_headers = {k: v.get("label") for k, v in json.loads(pre.proto.columns).items()}
    assert pre_headers["street"] == "Calle" and pre_headers["pre"] == "Puntuación previa"
    assert i18n.missing("es") == set()
    # a place audited by day and by night: the two side by side
    with i18n.use("es"):
        by_label(at.selectbox, "Auditoría").set_value(both)
    rerun(at)
    assert "Día y noche" in [s.value for s in at.subheader]
    pair = [d for d in at.dataframe if "change" in d.value.columns][-1]
    assert [json.loads(pair.proto.columns)[c]["label"] for c in ("before", "after", "change")
            ] == ["De día", "De noche", "Noche menos día"]
    assert i18n.missing("es") == set()
    # a coordinator may edit: the form opens on the audit, in Spanish
    with i18n.use("es"):
        by_label(at.button, "Editar esta auditoría").click()
    rerun(at)
    with i18n.use("es"):
        at.switch_page("app_pages/assess.py")  # AppTest does not follow st.switch_page
    rerun(at)
    assert any(i.value.startswith("Editando ") and "versión" in i.value for i in at.info)
    assert i18n.missing("es") == set()


@pytest.mark.usefixtures("fresh_streamlit_caches")
def test_the_audits_page_with_no_audits_in_spanish(
        sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cpted import assessments as au

    with open_store(sample_db) as s:
        for aid in au.list_assessments(s)["id"]:
            au.delete_assessment(s, aid)
    at = spanish("app_pages/audits.py", sample_db, monkeypatch)
    assert [i.value for i in at.info] == [
        "Todavía no hay auditorías. Use **Auditar un lugar** para hacer la primera."]
    assert "Dónde auditar ahora" in [h.value for h in at.header]
    text = " ".join(m.value for m in at.markdown)
    assert "Todavía no: 0 lugares auditados están sobre un tramo de calle" in text
    assert i18n.missing("es") == set()


# -- the maps -------------------------------------------------------------------------------

def test_the_audit_maps_speak_spanish() -> None:
    from cpted.maps import build_assess_map, build_audits_map, build_sightlines_map
    from cpted.maps.describe import text_of

    audits = gpd.GeoDataFrame(
        {"place_name": ["Esquina", "Callejón"], "label": ["Weak", "Not enough answers"],
         "overall": [45.0, 0.0], "period": ["night", "day"],
         "assessed_at": [pd.Timestamp("2026-05-01", tz="UTC")] * 2},
        geometry=[shapely.Point(-94.5, 39.1), shapely.Point(-94.51, 39.1)], crs=4326)
    i18n.forget_missing()
    with i18n.use("es"):
        fmap = build_audits_map(audits)
        page = fmap.get_root().render()
        text = text_of(fmap)
        drawn = text_of(build_assess_map(shapely.Point(-94.58, 39.04)))
        seen = text_of(build_sightlines_map(shapely.Point(-94.58, 39.04),
                                            shapely.Point(-94.58, 39.04).buffer(1e-3)))
    assert text is not None and drawn is not None and seen is not None
    assert text.summary == ("Mapa de 2 lugares auditados, coloreados según la calificación de "
                            "la última auditoría: 1 débil y 1 respuestas insuficientes.")
    rows = text.tables[0].rows
    assert list(rows.columns) == ["Lugar", "Calificación", "General (0-100)", "Momento del día",
                                  "Fecha de auditoría"]
    assert rows.iloc[0].tolist()[:2] == ["Esquina", "Débil"]
    assert "Esquina: Débil (45), noche 2026-05-01" in page
    assert "Callejón: Respuestas insuficientes, día 2026-05-01" in page
    assert "El lugar dibujado es un punto, en la latitud 39,04000, longitud -94,58000." in (
        drawn.summary)
    assert seen.summary.startswith("Mapa de la zona visible desde el punto del lugar")
    assert i18n.missing("es") == set()


def test_the_survey_and_prescore_maps_speak_spanish() -> None:
    from cpted import progress as pg
    from cpted.maps import build_prescore_map, build_survey_map
    from cpted.maps.describe import text_of
    from tests.test_prescore import grid, metric, run

    hoods = gpd.GeoDataFrame({"id": ["A", "B"], "name": ["Arce", "Abedul"]},
                             geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)],
                             crs=4326)
    summary = pd.DataFrame({"neighborhood_id": ["A", "B"], "survey_answers": [12, 2],
                            "safe_mean": [3.62, math.nan]})
    result = run(grid(), concerns=metric([shapely.Point(50, 5)], service_code=["graffiti"],
                                         status=["open"]))
    todo = result.segments.assign(length_m=100.0).sort_values("pre_score").head(2)
    i18n.forget_missing()
    with i18n.use("es"):
        scale = {k: i18n._(v) for k, v in pg.SAFETY_SCALE.items()}
        survey = build_survey_map(hoods, summary, pin=shapely.Point(0.5, 0.5), scale=scale)
        said = text_of(survey)
        page = survey.get_root().render()
        pre = build_prescore_map(result.segments, todo)
        pre_page = pre.get_root().render()
        pre_said = text_of(pre)
    assert said is not None and pre_said is not None
    assert said.summary.endswith("1 tiene respuestas suficientes para mostrarse. Un marcador "
                                 "señala el lugar de su respuesta.")
    assert "3,6 de 5 (12 respuestas)" in page and "muy pocas respuestas (2)" in page
    assert "Qué tan seguro se siente de noche" in page and "5 muy seguro" in page
    assert said.tables[0].rows.columns[0] == "Barrio"
    assert "60 o más: auditar pronto" in pre_page and "Puntuación previa" in pre_page
    assert "Problemas de mantenimiento abiertos cerca" in pre_page
    assert pre_said.summary.startswith("Mapa de 7 tramos de calle coloreados según su "
                                       "puntuación previa CPTED")
    assert list(pre_said.tables[0].rows.columns)[:2] == ["Calle", "Puntuación previa"]
    assert i18n.missing("es") == set()


def test_the_agreement_charts_draw_spanish_words(monkeypatch: pytest.MonkeyPatch) -> None:
    import matplotlib.axes

    from cpted.agreement import Driver
    from cpted.agreement_charts import drivers_chart, kappa_chart

    drawn: list[str] = []
    real_text, real_xlabel = matplotlib.axes.Axes.text, matplotlib.axes.Axes.set_xlabel

    def text(self: Any, x: float, y: float, s: str, *a: Any, **k: Any) -> Any:
        drawn.append(s)
        return real_text(self, x, y, s, *a, **k)

    def xlabel(self: Any, s: str, *a: Any, **k: Any) -> Any:
        drawn.append(s)
        return real_xlabel(self, s, *a, **k)

    monkeypatch.setattr(matplotlib.axes.Axes, "text", text)
    monkeypatch.setattr(matplotlib.axes.Axes, "set_xlabel", xlabel)
    items = pd.DataFrame({"principle": ["Iluminación"], "question": ["¿Luz?"],
                          "kappa": [0.5]})
    i18n.forget_missing()
    with i18n.use("es"):
        png = kappa_chart(items)
        png2 = drivers_chart([Driver("Iluminación", 9, 0.4, 0.1, 0.7, 0.01)])
    assert png.startswith(b"\x89PNG") and png2.startswith(b"\x89PNG")
    assert "casi perfecto" in drawn and "moderado" in drawn
    assert any(d.startswith("Kappa de Fleiss: acuerdo más allá del azar") for d in drawn)
    assert any(d.startswith("correlación de rangos con la sensación de seguridad (punto)\n"
                            "y su intervalo del 95\xa0%") for d in drawn)
    assert i18n.missing("es") == set()
