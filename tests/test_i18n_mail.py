"""Messages, feeds and printed reports in the reader's language: a follow remembers the
language it was made in and each message to it is written in that language (dates by
Babel's CLDR data, in the deployment's time zone); the brief and the audit report in the
language asked for, with no English template text left (read back with poppler's
``pdftotext``); and the privacy rules unchanged in Spanish."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import feedparser
import pandas as pd
import pytest
import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.testclient import TestClient

from cpted import accounts as acc
from cpted import i18n, reports
from cpted.access import Access
from cpted.accounts import Actor
from cpted.concerns import ReportDraft
from cpted.feeds import feed_routes
from cpted.privacy import Role
from layers import migrations
from layers.settings import Settings
from layers.store import Store, open_store
from tests.conftest import need
from tests.helpers import body, link, sent_messages, token, two_neighborhoods

SETTINGS = Settings(max_writes_per_minute=1000, secret_key="m" * 32,
                    public_url="http://testserver")
ES_ADDRESS, EN_ADDRESS = "lectora@example.org", "reader@example.org"
#: Lines of a message that are its data, the same in any language: links, and the
#: separator before the footer.
DATA_LINE = re.compile(r"^(\s*https?://\S+|-- |)$")


@pytest.fixture(autouse=True)
def _clean_misses() -> None:
    i18n.forget_missing()


def public(store: Store, client: str = "browser-1") -> Access:
    return Access(store, acc.public(client), SETTINGS)


def staff(store: Store) -> Access:
    return Access(store, Actor("c1", "Casey", Role.COORDINATOR), SETTINGS)


def operator(store: Store) -> Access:
    return Access(store, acc.operator(), SETTINGS)


def report(store: Store, code: str = "graffiti", lon: float = -94.59, lat: float = 39.04,
           text: str = "Tags on the wall", **kw: Any) -> str:
    return public(store, "reporter").submit_report(ReportDraft(code, lon, lat, text, **kw))


def follow(store: Store, rid: str, address: str, language: str) -> EmailMessage:
    """Follow ``rid`` from a page in ``language``; the confirmation message, once the
    follow is confirmed."""
    with i18n.use(language):
        public(store).follow_report(rid, address)
    [confirmation] = sent_messages(store, SETTINGS)
    public(store).confirm_follow(token(link(confirmation, "/follow/confirm")))
    return confirmation


def template_lines(message: EmailMessage) -> set[str]:
    return {line for line in body(message).splitlines() if not DATA_LINE.match(line)}


def local_day(message: EmailMessage, zone: str, language: str) -> str:
    """The day a message was written, in ``zone``, as ``language`` writes a date."""
    at = parsedate_to_datetime(str(message["Date"])).astimezone(ZoneInfo(zone))
    with i18n.use(language):
        return i18n.day(at)


def test_a_follow_made_in_spanish_is_confirmed_and_alerted_in_spanish(store: Store) -> None:
    rid = report(store)
    confirmation = follow(store, rid, ES_ADDRESS, "es")
    assert confirmation["Subject"] == f"Confirme, por favor: seguir el informe {rid} (Grafiti)"
    text = body(confirmation)
    assert text.startswith("Hola:\n")
    assert "el enlace funciona durante 7 días" in text and "Si no fue usted" in text
    assert pd.read_sql("SELECT language FROM follows", store.engine)["language"].tolist() == [
        "es"]
    # the change is made by staff working in English: the follower still reads Spanish
    with i18n.use("en"):
        staff(store).change_status(rid, "fixed", "Painted over on Tuesday",
                                   visibility="public")
    [alert] = sent_messages(store, SETTINGS)
    assert alert["Subject"] == f"Grafiti {rid}: ahora «Arreglado»"
    assert alert["Content-Language"] == "es" and confirmation["Content-Language"] == "es"
    text = body(alert)
    assert text.startswith("El informe que usted sigue tiene un nuevo estado: Arreglado.")
    assert "Estado: Arreglado (antes: Enviado)" in text
    assert f"Cuándo: {local_day(alert, SETTINGS.timezone, 'es')}" in text
    assert "¿Está arreglado?" in text and "Un «no» reabre el informe." in text
    assert "Painted over on Tuesday" in text  # what staff typed, as typed
    for english in ("The report", "Status:", "When:", "Is it fixed", "You get this",
                    "See the report", "Stop these", " AM", " PM", "now Fixed"):
        assert english not in text and english not in alert["Subject"]
    assert i18n.missing("es") == set()


def test_an_english_follower_still_gets_english_beside_a_spanish_one(store: Store) -> None:
    rid = report(store)
    follow(store, rid, ES_ADDRESS, "es")
    follow(store, rid, EN_ADDRESS, "en")
    staff(store).change_status(rid, "acknowledged", "Seen it", visibility="public")
    alerts = {str(m["To"]): m for m in sent_messages(store, SETTINGS)}
    english, spanish = alerts[EN_ADDRESS], alerts[ES_ADDRESS]
    assert english["Subject"] == f"Graffiti {rid}: now Acknowledged"
    assert english["Content-Language"] == "en"
    assert body(english).startswith("The report you follow has a new status: Acknowledged.")
    assert f"When: {local_day(english, SETTINGS.timezone, 'en')}" in body(english)
    assert spanish["Subject"] == f"Grafiti {rid}: ahora «Recibido»"
    # every line of the English message that is template text is absent from the Spanish
    shared = template_lines(english) & template_lines(spanish)
    assert shared == {"Seen it"}
    assert i18n.missing("es") == set()


def test_an_area_digest_and_its_feed_speak_the_follower_s_language(store: Store) -> None:
    two_neighborhoods(store)
    start = datetime.now(UTC)
    with i18n.use("es"):
        public(store).follow_area(ES_ADDRESS, neighborhood_id="W", frequency="daily")
    [confirmation] = sent_messages(store, SETTINGS)
    assert confirmation["Subject"] == "Confirme, por favor: seguir el barrio Westside"
    assert "una vez al día, con sus nuevos informes y cambios" in body(confirmation)
    public(store).confirm_follow(token(link(confirmation, "/follow/confirm")))
    inside = report(store, "graffiti", -94.59, 39.04, "Tags on the bakery")
    sens = report(store, "drug_activity", -94.585, 39.035, "Blue door behind the laundromat",
                  contact_email="hidden@example.org")
    staff(store).change_status(sens, "acknowledged", "Raid Friday", visibility="public")
    staff(store).change_status(sens, "in progress", "Owner is Mr X", visibility="internal")
    assert operator(store).build_digests(now=start + timedelta(days=1, minutes=1)) == 1
    [digest] = sent_messages(store, SETTINGS, now=start + timedelta(days=1, minutes=2))
    assert digest["Subject"] == ("Noticias del día sobre el barrio Westside: 2 nuevos, "
                                 "2 con cambios")
    text = body(digest)
    assert text.startswith("Qué pasó en el barrio Westside del ")
    assert "2 informes nuevos, 2 cambios." in text and "Nuevo: Grafiti" in text
    assert inside in text and "Tags on the bakery" in text
    assert "mostrado solo como una zona aproximada" in text
    for secret in ("Blue door", "Raid Friday", "Mr X", "hidden@", "laundromat"):
        assert secret not in text  # privacy unchanged in Spanish
    assert "What happened" not in text and "new report" not in text
    assert i18n.missing("es") == set()


def test_feeds_and_follow_pages_speak_the_caller_s_language(store: Store) -> None:
    two_neighborhoods(store)
    rid = report(store, "graffiti", -94.59, 39.04, "Tags")
    staff(store).change_status(rid, "fixed", "Painted", visibility="public")
    with TestClient(Starlette(routes=feed_routes(store=store, settings=SETTINGS))) as web:
        spanish = web.get("/feeds/neighborhood/W.atom", headers={"Accept-Language": "es-MX"})
        english = web.get("/feeds/neighborhood/W.atom")
        with i18n.use("es"):
            public(store).follow_report(rid, ES_ADDRESS)
        [confirmation] = sent_messages(store, SETTINGS)
        url = link(confirmation, "/follow/confirm")
        page = web.get(url, headers={"Accept-Language": "es;q=0.9, en;q=0.5"})
        done = web.post(url, headers={"Accept-Language": "es"})
    feed = feedparser.parse(spanish.content)
    assert b'xml:lang="es"' in spanish.content and b'xml:lang="en"' in english.content
    assert feed.feed.title == "Westside: problemas informados y lo que se hizo"
    assert [e.title for e in feed.entries] == [f"Ahora «Arreglado»: Grafiti ({rid})",
                                               f"Nuevo informe: Grafiti ({rid})"]
    assert feedparser.parse(english.content).entries[0].title == f"Now Fixed: Graffiti ({rid})"
    assert page.status_code == 200 and '<html lang="es">' in page.text
    assert "¿Enviar correos sobre el informe" in page.text and "Sí, envíenlos" in page.text
    assert done.status_code == 200 and "<h1>Siguiendo</h1>" in done.text
    assert f"Ahora sigue el informe {rid} (Grafiti), cada vez que cambie su estado." in done.text
    assert "Volver al mapa" in done.text and "Back to the map" not in done.text
    assert i18n.missing("es") == set()


def test_a_store_made_before_follows_had_a_language_keeps_its_follows_in_english(
        tmp_path: Path) -> None:
    url = str(tmp_path / "old.gpkg")
    with open_store(url) as s:
        rid = report(s)
        public(s).follow_report(rid, EN_ADDRESS)
        with s.engine.begin() as conn:  # as version 9 left it
            conn.exec_driver_sql("ALTER TABLE follows DROP COLUMN language")
            conn.exec_driver_sql("DELETE FROM cpted_migrations WHERE version >= 10")
    with open_store(url) as s:
        assert s.schema_version() == migrations.LATEST >= 10
        with s.engine.connect() as conn:
            got = conn.execute(sa.text("SELECT language FROM follows")).scalars().all()
    assert got == ["en"]


# -- printed reports ---------------------------------------------------------------------

def pdf_lines(data: bytes, tmp_path: Path, name: str) -> list[str]:
    """The text lines of a PDF as poppler's ``pdftotext`` reads them, spaces collapsed."""
    tool = shutil.which("pdftotext")
    need(tool is not None, "pdftotext (Debian package poppler-utils) is not installed")
    assert tool is not None
    path = tmp_path / name
    path.write_bytes(data)
    out = subprocess.run([tool, "-layout", str(path), "-"], check=True, capture_output=True,
                         text=True).stdout
    return [" ".join(line.split()) for line in out.splitlines() if line.strip()]


def test_the_brief_pdf_in_spanish_holds_no_english_template_text(
        sample_store: Store, tmp_path: Path) -> None:
    b = Access(sample_store, acc.public()).neighborhood_brief(
        "N2", since=datetime(2026, 1, 1, tzinfo=UTC))
    assert b.progress is not None and len(b.score_changes) and len(b.latest_audits)
    english = pdf_lines(reports.brief_pdf(b, tz="America/Chicago", language="en"), tmp_path,
                        "en.pdf")
    spanish = pdf_lines(reports.brief_pdf(b, tz="America/Chicago", language="es"), tmp_path,
                        "es.pdf")
    assert f"Neighborhood brief: {b.name}" in english
    assert f"Resumen del barrio: {b.name}" in spanish
    assert "Problemas abiertos por categoría" in spanish and "Avance por mes" in spanish
    flat = " ".join(spanish)
    with i18n.use("es"):
        since = i18n.day(b.since.tz_convert("America/Chicago"))
    assert f"Desde la última vez (del {since} al" in flat
    assert re.search(r"Lugar Última auditoría Periodo General Calificación", flat)
    # data people typed and numbers are the same in both; any other English line is
    # template text, and none of it may be left in the Spanish brief
    data = {str(p) for p in b.latest_audits["place_name"]} | {b.name}
    def is_data(line: str) -> bool:
        rest = line
        for word in sorted(data, key=len, reverse=True):
            rest = rest.replace(word, "")
        return not re.search(r"[A-Za-z]{2,}", rest)
    template = [line for line in english if not is_data(line)]
    assert len(template) > 20
    left = [line for line in template if line in spanish]
    assert left == []
    english_words = {"Neighborhood", "Places audited", "Open concerns", "Since last time",
                     "Progress by month", "Reports opened", "Measure", "Quick win", " of "}
    assert [w for w in english_words if w in flat] == []
    # the chart captions come from the catalogue too
    assert "Informes hechos y cerrados cada mes" in flat or "cada mes" in flat
    assert i18n.missing("es") == set()


def test_the_language_asked_for_wins_over_the_one_in_use(sample_store: Store) -> None:
    b = Access(sample_store, acc.public()).neighborhood_brief(
        "N2", since=datetime(2026, 1, 1, tzinfo=UTC))
    with i18n.use("es"):
        page = reports.brief_html(b, language="en")
        default = reports.brief_html(b)
    assert "<html lang='en'>" in page and "Neighborhood brief:" in page
    assert "<html lang='es'>" in default and "Resumen del barrio:" in default
    assert i18n.current() == "en"


def test_an_audit_report_in_spanish_has_spanish_headings_and_dates(
        sample_store: Store) -> None:
    from cpted import assessments as au

    listed = au.list_assessments(sample_store)
    aid = str(listed.loc[listed["enough_answers"], "id"].iloc[0])
    r = reports.assessment_report(sample_store, aid, language="en")
    page = reports.report_html(r, tz="America/Chicago", language="es")
    with i18n.use("es"):
        day = i18n.day(r.assessment.assessed_at.tz_convert("America/Chicago"))
    assert f"Evaluación CPTED: {r.assessment.place_name}" in page
    assert "Puntuaciones por principio" in page and "Recomendaciones" in page
    assert f"del {day}," in page and "<th>Principio</th><th>Puntuación</th>" in page
    assert "General: " in page and "Overall:" not in page and "Scores by principle" not in page
    # the charts were drawn again in Spanish, not kept from the English gathering
    assert r.charts_in("es")[0] != r.chart_png


def test_a_staff_member_who_follows_in_spanish_hears_of_assignments_in_spanish(
        store: Store) -> None:
    acc.create_account(store, "olive", "Olive Officer", Role.OFFICER, "long enough pw",
                       email="olive@example.net")
    olive = acc.current(store, "olive")
    assert olive is not None
    with i18n.use("es"):
        assert Access(store, olive, SETTINGS).follow_assigned()
    rid = report(store)
    staff(store).assign(rid, "olive")
    staff(store).change_status(rid, "in progress", "Crew booked", visibility="public")
    assigned, changed = sent_messages(store, SETTINGS)
    assert assigned["Subject"] == f"Asignado a usted: Grafiti {rid}"
    assert body(assigned).startswith(f"Se le asignó un informe: {rid} (Grafiti).")
    assert changed["Subject"] == f"Grafiti {rid}: ahora «En curso»"
    assert body(changed).startswith("El informe asignado a usted tiene un nuevo estado")
    assert "olive@example.net" not in body(assigned) + body(changed)
    assert i18n.missing("es") == set()
