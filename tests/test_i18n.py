"""Languages: the catalogues, the language chosen, and pages rendered in Spanish.

The references are GNU gettext's own ``msgfmt --check`` (placeholders, plural forms,
header) for the catalogues, Babel's extraction for what the code asks to be translated,
and Babel's CLDR data for the formats.
"""

from __future__ import annotations

import ast
import io
import json
import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from streamlit.testing.v1 import AppTest

from cpted import i18n
from layers.schema import Layer
from tests.conftest import ROOT, need

APP = str(ROOT / "app.py")

CATALOGUES = sorted((ROOT / "cpted" / "locale").glob("*/LC_MESSAGES/cpted.po"))
TEMPLATE = ROOT / "cpted" / "locale" / "cpted.pot"
#: Every page file: each text for people in them goes through the catalogue, checked for
#: bare English below.
TRANSLATED = ["app.py", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "app_pages").glob("*.py")
                                if p.name != "__init__.py")]
PLACEHOLDER = re.compile(r"\{(\w*)[^{}]*\}")


def extracted(tmp_path: Path) -> set[str]:
    """The texts the code and data ask to be translated, as Babel extracts them now."""
    pybabel = shutil.which("pybabel", path=str(Path(sys.executable).parent))
    need(pybabel is not None, "pybabel (Babel) is not installed")
    out = tmp_path / "now.pot"
    subprocess.run([str(pybabel), "extract", "-F", "babel.cfg", "--no-location",
                    "--omit-header", "-k", "_", "-k", "ngettext:1,2", "-k", "N_", "-o",
                    str(out), "."], cwd=ROOT, check=True, capture_output=True)
    found = read_po(io.BytesIO(out.read_bytes()))
    return {m.id if isinstance(m.id, str) else m.id[0] for m in found if m.id}


def test_the_template_holds_what_the_code_asks_for(tmp_path: Path) -> None:
    kept = {m.id if isinstance(m.id, str) else m.id[0]
            for m in read_po(io.BytesIO(TEMPLATE.read_bytes())) if m.id}
    now = extracted(tmp_path)
    assert now - kept == set(), "run `make messages`: new texts are not in the template"
    assert kept - now == set(), "run `make messages`: the template holds texts no longer used"


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: p.parent.parent.name)
def test_each_catalogue_passes_msgfmt_check(po: Path) -> None:
    msgfmt = shutil.which("msgfmt")
    need(msgfmt is not None, "msgfmt (Debian package gettext) is not installed")
    got = subprocess.run([str(msgfmt), "--check", "--statistics", "-o", "/dev/null", str(po)],
                         capture_output=True, text=True)
    assert got.returncode == 0, got.stderr
    assert "untranslated" not in got.stderr and "fuzzy" not in got.stderr, got.stderr


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: p.parent.parent.name)
def test_each_catalogue_translates_every_text_with_the_same_placeholders(po: Path) -> None:
    template = {m.id: m for m in read_po(io.BytesIO(TEMPLATE.read_bytes())) if m.id}
    catalogue = {m.id: m for m in read_po(io.BytesIO(po.read_bytes())) if m.id}
    assert set(catalogue) == set(template)
    for key, m in catalogue.items():
        forms = m.string if isinstance(m.string, tuple) else (m.string,)
        sources = key if isinstance(key, tuple) else (key,)
        assert all(forms), f"{key!r} is not translated"
        wanted = {p for s in sources for p in PLACEHOLDER.findall(s)}
        for form in forms:
            assert set(PLACEHOLDER.findall(form)) == wanted, (key, form)


def test_the_spanish_catalogue_is_found_and_named_in_spanish() -> None:
    assert i18n.available()[0] == "en" and "es" in i18n.available()
    assert i18n.language_name("es") == "Español"
    assert i18n.language_name("en") == "English"


@pytest.mark.parametrize(("header", "expected"), [
    ("es-MX,es;q=0.9,en;q=0.8", "es"),
    ("en-US,en;q=0.9,es;q=0.8", "en"),
    ("fr-CA, en;q=0.5", "en"),
    ("de-DE", "en"),  # no catalogue: the source language
    ("en;q=0.1, es;q=0.5", "es"),  # quality values, not order
    ("es;q=0, en", "en"),  # q=0 is "not this one"
    ("", "en"),
    (None, "en"),
])
def test_the_browser_language_is_negotiated(header: str | None, expected: str) -> None:
    assert i18n.negotiate(header) == expected


def test_numbers_money_and_dates_follow_the_language() -> None:
    at = datetime(2026, 12, 2, 2, 57, tzinfo=UTC)  # 8:57 PM on Dec 1 in Chicago
    with i18n.use("en"):
        assert i18n.money(100000) == "$100,000.00"
        assert i18n.number(1234.5) == "1,234.5"
        assert i18n.percent(0.512) == "51%"
        assert i18n.when(at, tz="America/Chicago") == "Dec 1, 2026, 8:57\u202fPM"
    with i18n.use("es"):
        assert i18n.money(100000) == "100.000,00\xa0US$"
        assert i18n.number(12345.5) == "12.345,5"
        assert i18n.percent(0.512) == "51\xa0%"
        assert i18n.when(at, tz="America/Chicago") == "1 dic 2026, 20:57"
        assert i18n._("Submit report") == "Enviar informe"
        assert i18n.ngettext("{n} supporter", "{n} supporters", 2).format(n=2) == \
            "2 personas lo apoyan"
    assert i18n.current() == "en"  # the block's language ends with it


def test_a_text_missing_from_the_catalogue_is_recorded() -> None:
    i18n.forget_missing()
    with i18n.use("es"):
        assert i18n._("A text no catalogue has") == "A text no catalogue has"
        assert i18n._("Submit report") == "Enviar informe"
    assert i18n.missing("es") == {"A text no catalogue has"}
    i18n.forget_missing()


def test_the_report_page_in_spanish_asks_for_nothing_untranslated(
        sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CPTED_DB_URL", str(sample_db))
    monkeypatch.chdir(ROOT)
    i18n.forget_missing()
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["language"] = "es"
    at.switch_page("app_pages/report.py").run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Informar de un problema"]
    category = next(s for s in at.selectbox if s.label == "Categoría")
    assert "Zona oscura / iluminación" in category.options  # a shipped category, in Spanish
    assert any(b.label == "Enviar informe" for b in at.button)
    assert i18n.missing("es") == set()
    # the picker says its name in every language; the choice is kept for the session
    language = next(s for s in at.selectbox if s.label.startswith("Language"))
    assert language.label == "Language · Idioma" and language.value == "es"
    assert language.options == ["English", "Español"]
    # (AppTest formats widget values in the test's own thread, which must then speak the
    # page's language; the app formats them in the run's thread, where the page set it)
    with i18n.use("es"):
        at.run()
    assert [t.value for t in at.title] == ["Informar de un problema"]
    at.session_state["language"] = "en"  # what choosing English in the picker sets
    with i18n.use("es"):
        at.run()
    assert [t.value for t in at.title] == ["Report a concern"]


def _spanish(sample_db: Path, monkeypatch: pytest.MonkeyPatch, page: str, *,
             staff: bool = False) -> AppTest:
    """``page`` rendered once in Spanish (as the demo's coordinator when ``staff``), with
    the record of missing texts started afresh."""
    monkeypatch.setenv("CPTED_DB_URL", str(sample_db))
    if staff:
        monkeypatch.setenv("CPTED_STAFF_MODE", "true")
    monkeypatch.chdir(ROOT)
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    i18n.forget_missing()
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["language"] = "es"
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def test_the_map_page_in_spanish_asks_for_nothing_untranslated(
        sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _spanish(sample_db, monkeypatch, "app_pages/map.py")
    assert [t.value for t in at.title] == ["Mapa"]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Problemas mostrados"] == "2.000"  # Babel groups with a period in es
    assert metrics["Informados de noche"].endswith("\xa0%")
    status = next(m for m in at.sidebar.multiselect if m.label == "Estado")
    assert status.options == ["abierto", "cerrado"]  # stored values, as words
    # the form to follow an area, behind its toggle
    at.session_state["follow-area-on"] = True
    with i18n.use("es"):
        at.run()
    assert not at.exception
    assert any(r.label == "Con qué frecuencia" for r in at.radio)
    assert i18n.missing("es") == set()
    i18n.forget_missing()


def test_the_neighborhoods_page_in_spanish_asks_for_nothing_untranslated(
        sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _spanish(sample_db, monkeypatch, "app_pages/neighborhoods.py")
    assert [t.value for t in at.title] == ["Barrios"]
    assert [s.value for s in at.subheader][:3] == ["Tendencia", "Tabla de resultados",
                                                  "Seguir este barrio"]
    shade = next(r for r in at.radio if r.label == "Colorear según")
    assert "Problemas por km²" in shade.options
    chart = at.get("vega_lite_chart")[0].proto
    # Vega's own month names are English: the axis is given Babel's Spanish ones
    axis = json.loads(chart.spec)["encoding"]["x"]["axis"]
    assert '"ene", "feb", "mar", "abr"' in axis["labelExpr"]
    said = chart.alt  # the chart's text alternative
    assert said.startswith("Gráfico de líneas de los problemas informados cada mes, de ")
    assert re.search(r"de (enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|"
                     r"octubre|noviembre|diciembre) de \d{4}", said), said
    assert i18n.missing("es") == set()
    i18n.forget_missing()


def test_the_concern_page_in_spanish_asks_for_nothing_untranslated(
        sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from layers.store import open_store

    with open_store(sample_db) as s:  # a report with history, answers and a status change
        rid = str(s.read(Layer.CONCERNS)["service_request_id"].iloc[0])
    at = _spanish(sample_db, monkeypatch, "app_pages/concern.py", staff=True)
    assert [t.value for t in at.title] == ["Problema informado"]
    picker = next(s for s in at.selectbox if s.label == "Problema informado")
    assert " · informado el " in picker.options[0]
    assert any(m.value.startswith("Estado: **") for m in at.markdown)
    assert any(b.label == "Guardar el estado" for b in at.button)
    new = next(s for s in at.selectbox if s.label == "Nuevo estado")
    assert "Acción programada" in new.options
    assert any(s.value == "Qué se hizo y por qué" for s in at.subheader)
    at.session_state["concern_id"] = rid
    with i18n.use("es"):
        at.run()
        # a status change with a note, so that its history is listed too
        next(s for s in at.selectbox if s.label == "Nuevo estado").set_value("acknowledged")
        next(t for t in at.text_area if t.label == "Nota (obligatoria)").input("Revisado")
        next(b for b in at.button if b.label == "Guardar el estado").click().run()
    assert not at.exception
    history = next(d.value for d in at.dataframe if "kind" in d.value.columns)
    assert list(history["kind"])[-1] == "Cambio de estado"
    assert list(history["change"])[-1].endswith(" → Recibido")
    assert list(history["visibility"])[-1] in {"todos", "solo el personal"}
    assert i18n.missing("es") == set()
    i18n.forget_missing()


def test_the_word_tables_cover_what_is_stored() -> None:
    from app_pages._state import ROLE_WORDS
    from app_pages._tables import COLUMN_WORDS
    from app_pages._text import VALUE_WORDS, value_word
    from cpted.privacy import Role
    from cpted.tables import CONCERN_COLUMNS
    from layers.schema import ConcernStatus, DetailedStatus, TimeOfDay

    assert list(CONCERN_COLUMNS.values()) == COLUMN_WORDS
    stored = {x.value for e in (ConcernStatus, DetailedStatus, TimeOfDay) for x in e}
    assert stored | {"exact"} == set(VALUE_WORDS)
    assert set(ROLE_WORDS) == {r.value for r in Role}
    with i18n.use("en"):  # a status reads as stored, a time of day as the form offers it
        assert all(value_word(v) == v for v in VALUE_WORDS if v not in stored - {
            x.value for e in (ConcernStatus, DetailedStatus) for x in e})
        assert [value_word(t.value) for t in TimeOfDay] == ["Day", "Night", "Not known"]
        assert value_word("250 m grid") == "250 m grid"
    assert value_word(None) == "" and value_word("a value of its own") == "a value of its own"


#: Streamlit calls whose first argument, or these keywords, are words for people.
UI_CALLS = {"title", "header", "subheader", "caption", "markdown", "write", "info",
            "warning", "error", "success", "button", "form_submit_button", "selectbox",
            "multiselect", "radio", "checkbox", "toggle", "text_input", "text_area",
            "number_input", "date_input", "time_input", "file_uploader", "expander",
            "page_link", "download_button", "slider", "select_slider", "metric", "tabs",
            "Page", "spinner", "text", "image", "TextColumn", "NumberColumn",
            "ProgressColumn", "dataframe", "altair_chart", "status", "update", "progress",
            "bar_chart", "line_chart", "SelectboxColumn", "CheckboxColumn", "DatetimeColumn",
            "Column"}
#: Calls (Altair's) whose first argument is a field name, and only keywords are words.
UI_KEYWORD_CALLS = {"Chart", "X", "Y", "Color", "Tooltip", "Axis"}
UI_KEYWORDS = {"label", "help", "placeholder", "title", "caption", "alt", "description",
               "column_config", "format_func", "pin_label", "listed_elsewhere", "text",
               "x_label", "y_label"}


def _words(text: str) -> bool:
    """Words for people: letters, and not an e-mail address or a file path."""
    return bool(re.search(r"[A-Za-z]{2}", text)) and not re.fullmatch(
        r"[\w.+-]+@[\w.-]+|[\w/]+\.py", text)


def _bare(node: ast.AST) -> bool:
    """A literal text with words in it, not passed through ``_``/``ngettext``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return _words(node.value)
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(v, ast.Constant) and _words(str(v.value)) for v in node.values)
    if isinstance(node, ast.BinOp):
        return _bare(node.left) or _bare(node.right)
    if isinstance(node, ast.BoolOp):  # ``typed or "(no description)"``
        return any(_bare(v) for v in node.values)
    if isinstance(node, ast.IfExp):
        return _bare(node.body) or _bare(node.orelse)
    if isinstance(node, ast.Dict):  # column labels, ``format_func={...}.get``
        return any(v is not None and _bare(v) for v in node.values)
    if isinstance(node, ast.Attribute):
        return _bare(node.value)
    if isinstance(node, ast.Lambda):
        return _bare(node.body)
    return False


@pytest.mark.parametrize("path", TRANSLATED)
def test_a_translated_page_shows_no_bare_english(path: str) -> None:
    tree = ast.parse((ROOT / path).read_text())
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in UI_CALLS | UI_KEYWORD_CALLS):
            continue
        first = node.args[:1] if node.func.attr in UI_CALLS else []
        args = [*first, *(k.value for k in node.keywords if k.arg in UI_KEYWORDS)]
        found += [f"line {a.lineno}: {ast.unparse(a)[:60]}" for a in args if _bare(a)]
    assert found == []


# -- the domain's words the pages translate (app_pages/_words.py) ----------------------

def test_the_pages_word_tables_hold_the_domains_own_words() -> None:
    """Each table in app_pages/_words.py repeats, for the catalogue, words the domain keeps
    in English: the two must stay equal, or a new word would show untranslated."""
    from app_pages import _words as w
    from cpted import progress as pg
    from cpted import progress_charts as pc
    from cpted import spots as sp
    from cpted.access import Action
    from cpted.outcomes import CAVEATS
    from cpted.privacy import Role
    from layers.schema import FIELD_WORDS, SCHEMAS

    assert {layer.value: s.title for layer, s in SCHEMAS.items()} == w.LAYER_TITLES
    assert set(w.LAYER_WORDS) == set(w.LAYER_TITLES)
    assert set(FIELD_WORDS.values()) == w.FIELD_WORDS
    assert {r.value: r.value for r in Role} == w.ROLES
    assert {a.value for a in Action} == w.ACTIONS
    assert {x.value for e in (sp.PlanStatus, sp.OwnerKind, sp.SpotStatus)
                            for x in e} == w.PLAN_WORDS
    assert {pg.SAFETY_QUESTION, pg.CONTACT_QUESTION,
                              *pg.SAFETY_SCALE.values()} == w.SURVEY_WORDS
    with i18n.use("en"):
        assert {k: w.measure(k, v) for k, v in pg.MEASURES.items()} == pg.MEASURES
    assert {c.key: (c.title, c.caption) for c in pc.CHARTS} == w.CHARTS
    assert w.CAVEATS == CAVEATS


def test_a_word_of_the_tables_is_translated_and_anything_else_kept() -> None:
    from app_pages import _words as w

    with i18n.use("es"):
        assert w.word("officer") != "officer" and w.word("a field we never heard of") == (
            "a field we never heard of")


# -- the pages translated so far, rendered in Spanish -----------------------------------

def spanish(page: str, db: Path, monkeypatch: pytest.MonkeyPatch, *,
            role: str | None = None) -> AppTest:
    """``page`` run in Spanish, as the public or (demo mode) acting as ``role``; the
    misses recorded from here on are this page's."""
    monkeypatch.setenv("CPTED_DB_URL", str(db))
    if role is None:
        monkeypatch.delenv("CPTED_STAFF_MODE", raising=False)
    else:
        monkeypatch.setenv("CPTED_STAFF_MODE", "true")
    monkeypatch.chdir(ROOT)
    i18n.forget_missing()
    at = AppTest.from_file(APP, default_timeout=180)
    at.session_state["language"] = "es"
    if role is not None:
        at.session_state["acting_as"] = role
    with i18n.use("es"):  # (widget values are formatted in the test's thread too)
        at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def rerun(at: AppTest) -> AppTest:
    with i18n.use("es"):
        at.run()
    assert not at.exception, at.exception
    return at


@pytest.mark.usefixtures("fresh_streamlit_caches")
def test_the_survey_page_in_spanish_asks_for_nothing_untranslated(
        sample_db: Path, monkeypatch: pytest.MonkeyPatch,
        map_returns: list[dict[str, object]]) -> None:
    from layers.schema import Layer
    from layers.store import open_store
    from tests.conftest import by_label

    at = spanish("app_pages/survey.py", sample_db, monkeypatch)
    assert [t.value for t in at.title] == ["¿Qué tan seguro se siente?"]
    with i18n.use("es"):
        by_label(at.button, "Enviar mis respuestas").click()
    rerun(at)
    assert any(w.value.startswith("Antes de enviar: haga clic en el mapa") for w in at.warning)
    with open_store(sample_db) as s:
        hood = s.read(Layer.NEIGHBORHOODS).iloc[0]
    inside = hood.geometry.representative_point()
    map_returns[0] = {"last_clicked": {"lat": inside.y, "lng": inside.x}}
    rerun(at)
    assert any(c.value == f"Lugar elegido: en **{hood['name']}**." for c in at.caption)
    safe = next(r for r in at.radio if r.label.startswith("¿Qué tan seguro"))
    assert "2: Inseguro" in safe.options
    assert i18n.missing("es") == set()


@pytest.mark.usefixtures("fresh_streamlit_caches")
def test_the_progress_page_in_spanish_asks_for_nothing_untranslated(
        sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = spanish("app_pages/progress.py", sample_db, monkeypatch)
    assert [t.value for t in at.title] == ["Avances"]
    assert "Informes abiertos y cerrados" in [h.value for h in at.subheader]
    table = at.dataframe[0].value
    assert table.columns[0] == "Mes" and "Informes abiertos" in table.columns
    assert "Sensación de seguridad: mínimo al 95\xa0%" in table.columns  # Babel's percent
    assert i18n.missing("es") == set()


@pytest.mark.usefixtures("fresh_streamlit_caches")
def test_a_progress_chart_drawn_in_english_is_drawn_again_in_spanish(
        sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The chart pictures are cached; their drawn words are in a language, so the language
    is part of what they are cached by."""
    from cpted import progress_charts as pc

    drawn: list[str] = []
    real = pc.chart_png

    def recording(*args: object, **kwargs: object) -> bytes:
        drawn.append(i18n.current())
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pc, "chart_png", recording)
    at = spanish("app_pages/progress.py", sample_db, monkeypatch)
    assert drawn and set(drawn) == {"es"}
    spanish_pictures = len(drawn)
    at.session_state["language"] = "en"
    at.run()
    assert not at.exception
    # drawn anew in English, not the Spanish pictures served again
    assert len(drawn) == 2 * spanish_pictures and set(drawn[spanish_pictures:]) == {"en"}


@pytest.mark.usefixtures("fresh_streamlit_caches")
def test_the_spots_page_in_spanish_asks_for_nothing_untranslated(
        sample_db: Path, monkeypatch: pytest.MonkeyPatch,
        map_returns: list[dict[str, object]]) -> None:
    from layers.schema import Layer
    from layers.store import open_store

    with open_store(sample_db) as s:
        concerns = s.read(Layer.CONCERNS)
    target = concerns[concerns["status"] == "open"].iloc[0]
    at = spanish("app_pages/spots.py", sample_db, monkeypatch, role="coordinator")
    assert [t.value for t in at.title] == ["Puntos problemáticos y planes de acción"]
    map_returns[0] = {"last_object_clicked": {"lat": target.geometry.y,
                                              "lng": target.geometry.x}}
    rerun(at)
    assert "Se reunió 1 informe con un clic." in [s.value for s in at.success]
    assert "**1 informe reunido**" in [m.value for m in at.markdown]
    assert any(c.label == "Vincular el 1 informe reunido" for c in at.checkbox)
    assert i18n.missing("es") == set()


@pytest.mark.usefixtures("fresh_streamlit_caches")
@pytest.mark.parametrize("role", [None, "coordinator"], ids=["public", "staff"])
def test_the_export_page_in_spanish_asks_for_nothing_untranslated(
        sample_db: Path, monkeypatch: pytest.MonkeyPatch, role: str | None) -> None:
    at = spanish("app_pages/export.py", sample_db, monkeypatch, role=role)
    assert [t.value for t in at.title] == ["Exportar"]
    said = " ".join(c.value for c in at.caption)
    assert "El contacto de quien informa nunca se exporta." in said
    assert ("Exportación pública" if role is None else "Exportación del personal (coordinador)"
            ) in said
    layer = next(s for s in at.selectbox if s.label == "Capa")
    assert layer.value == "concerns" and any(
        o.startswith("Problemas informados (") for o in layer.options)
    assert any(d.proto.label.startswith("Descargar concerns.geojson")
               for d in at.get("download_button"))
    assert i18n.missing("es") == set()


@pytest.mark.usefixtures("fresh_streamlit_caches")
def test_the_change_log_and_accounts_pages_in_spanish_ask_for_nothing_untranslated(
        sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cpted import accounts as acc
    from cpted.privacy import Role
    from layers.store import open_store
    from tests.conftest import by_label

    with open_store(sample_db) as s:  # something for the change log to show
        acc.create_account(s, "dana", "Dana Coordinator", Role.COORDINATOR, "correct horse 1")
    at = spanish("app_pages/accounts.py", sample_db, monkeypatch, role="admin")
    assert [t.value for t in at.title] == ["Cuentas"]
    with i18n.use("es"):
        by_label(at.text_input, "Nombre de usuario").input("sam")
        by_label(at.text_input, "Nombre que ven los demás").input("Sam Officer")
        by_label(at.selectbox, "Función").set_value("officer")
        by_label(at.text_input, "Contraseña (al menos 10 caracteres)").input("long password 3")
        by_label(at.button, "Agregar cuenta").click()
    rerun(at)
    assert [s.value for s in at.success] == ["Se agregó a sam como agente."]
    assert i18n.missing("es") == set()
    with i18n.use("es"):
        at.switch_page("app_pages/changes.py")
    rerun(at)
    assert [t.value for t in at.title] == ["Registro de cambios"]
    assert [m.label for m in at.metric] == ["Cambios mostrados"]
    assert "agente" in at.dataframe[0].value["Role"].tolist() or \
        "administrador" in at.dataframe[0].value["Role"].tolist()
    assert i18n.missing("es") == set()


@pytest.mark.usefixtures("fresh_streamlit_caches")
def test_the_setup_page_in_spanish_asks_for_nothing_untranslated(
        sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = spanish("app_pages/setup.py", sample_db, monkeypatch, role="admin")
    assert [t.value for t in at.title] == ["Categorías e instrumento"]
    assert "Guardar las categorías" in [b.label for b in at.button]
    assert any("preguntas en" in m.value and "principios" in m.value for m in at.markdown)
    assert i18n.missing("es") == set()


@pytest.mark.usefixtures("fresh_streamlit_caches")
def test_the_import_page_in_spanish_asks_for_nothing_untranslated(
        sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.conftest import by_label
    from tests.test_mapping_edit import WALK

    at = spanish("app_pages/import_data.py", sample_db, monkeypatch, role="coordinator")
    assert [t.value for t in at.title] == ["Importar"]
    with i18n.use("es"):
        at.file_uploader[0].set_value(("walk.csv", WALK.encode(), "text/csv"))
    rerun(at)
    assert any(w.value.startswith("Antes de poder comprobar las filas:") for w in at.warning)
    fields = next(d for d in at.dataframe if d.key and d.key.startswith("map-"))
    by_field = fields.value.set_index("name")
    assert by_field.loc["service_code", "column"] == "(ninguna)"
    assert by_field.loc["service_request_id", "field"] == "Número de informe (obligatorio)"
    # the person picks the code column and confirms Status, as on the English page
    state = {"edited_rows": {int(list(by_field.index).index("service_code")):
                             {"column": "What"}}, "added_rows": [], "deleted_rows": []}
    at.session_state[fields.key] = state
    rerun(at)
    with i18n.use("es"):
        by_label(at.checkbox, "Usar la columna 'Status' para Abierto o cerrado").check()
    rerun(at)
    assert {m.label: m.value for m in at.metric} == {
        "Filas leídas": "6", "Se aceptarían": "4", "Rechazadas": "2"}
    with i18n.use("es"):
        by_label(at.button, "Importar 4 filas a problemas informados").click()
    rerun(at)
    assert any("Se importaron 4 filas a problemas informados desde walk.csv" in s.value
               for s in at.success)
    assert i18n.missing("es") == set()


def test_no_text_for_the_catalogue_is_wrapped_inside_an_f_string() -> None:
    """Babel's extractor reads an f-string as one string on this Python (3.11): a
    ``_("...")`` inside one never reaches the template, so its text would show in English
    everywhere. Such texts are taken out of the f-string."""
    files = [ROOT / "app.py", *ROOT.glob("app_pages/*.py"), *ROOT.glob("cpted/**/*.py"),
             *ROOT.glob("layers/**/*.py")]
    found = []
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.JoinedStr):
                continue
            found += [f"{path.relative_to(ROOT)}:{call.lineno}" for call in ast.walk(node)
                      if isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
                      and call.func.id in {"_", "ngettext", "N_"} and call.args
                      and isinstance(call.args[0], ast.Constant)]
    assert found == []
