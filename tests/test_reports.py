"""Printable reports: real PDFs (read back with pdftotext, page 1 drawn with pdftoppm)."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
import shapely
from PIL import Image

from cpted import accounts, reports
from cpted import assessments as A
from cpted.access import Access
from cpted.cli import main
from cpted.instrument import load_instrument
from layers.schema import Layer
from layers.store import Store, open_store
from tests.conftest import need

INS = load_instrument()
EVIL = '<b>Bold</b> & <script>alert("x")</script> Ünïcode'


def _tool(name: str) -> str:
    path = shutil.which(name)
    need(path is not None, f"{name} (Debian package poppler-utils) is not installed")
    assert path is not None
    return path


def pdf_text(path: Path) -> str:
    out = subprocess.run([_tool("pdftotext"), "-layout", str(path), "-"], check=True,
                         capture_output=True, text=True)
    return out.stdout


@pytest.fixture
def audited(sample_store: Store) -> str:
    place = shapely.Point(-94.5790, 39.0365)
    answers = {"lt_level": 0, "lt_working": 0, "ns_windows": 3, "mi_litter": 1,
               "fs_feel": 2}
    return A.save_assessment(sample_store, A.AssessmentDraft(
        EVIL, place, "Block 12 association", datetime(2026, 10, 1, 2, 30, tzinfo=UTC),
        "night", answers, notes="Broken light at the alley mouth"), INS)


def test_assessment_pdf_holds_place_scores_and_recommendations(
        sample_db: Path, audited: str, tmp_path: Path) -> None:
    out = tmp_path / "report.pdf"
    assert main(["report", "--db", str(sample_db), "--assessment", audited,
                 "--out", str(out)]) == 0
    assert out.read_bytes()[:5] == b"%PDF-"
    text = pdf_text(out)
    flat = " ".join(text.split())
    with open_store(sample_db) as s:
        card = A.scorecard(s, A.get_assessment(s, audited))
    assert EVIL in flat  # escaped for reportlab, shown literally
    # 5 of the 41 night items answered: the report gives no overall score, and says why
    assert ("Overall: not enough answers (5 of 41 items answered; an overall score needs at "
            "least 21 (50%))") in flat
    assert f"Overall: {card.overall:.0f} / 100" not in flat
    for p in card.principles:
        if p.score is not None:
            assert f"{p.principle.name} {p.score:.0f} {p.label}" in flat
    for r in card.recommendations:
        assert " ".join(r.text.split()[:6]) in flat
    assert "Quick win" in flat and "Capital" in flat
    assert "Broken light at the alley mouth" in flat
    assert "Sightlines from the point" in flat
    # page 1 as a picture
    subprocess.run([_tool("pdftoppm"), "-png", "-r", "50", "-f", "1", "-l", "1", str(out),
                    str(tmp_path / "page")], check=True)
    [png] = list(tmp_path.glob("page*.png"))
    with Image.open(png) as im:
        assert im.width > 300 and im.height > 400
        colours = im.convert("RGB").getcolors(maxcolors=1 << 20)
        assert colours is not None and len(colours) > 50  # a map and a chart, not a blank page
    shots = Path("artifacts/screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    shutil.copy(png, shots / "report-page1.png")


def test_assessment_html_is_self_contained_and_escaped(sample_store: Store,
                                                       audited: str) -> None:
    page = reports.report_html(reports.assessment_report(sample_store, audited))
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert page.count("data:image/png;base64,") >= 2
    assert "http://" not in page and "https://" not in page


def test_neighborhood_brief_pdf_and_since_last_time(sample_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "brief.pdf"
    assert main(["brief", "--db", str(sample_db), "--neighborhood", "N2", "--out", str(out),
                 "--since", "2026-01-01"]) == 0
    flat = " ".join(pdf_text(out).split())
    with open_store(sample_db) as s:
        b = Access(s, accounts.public()).neighborhood_brief(
            "N2", since=datetime(2026, 1, 1, tzinfo=UTC))
        places = A.list_assessments(s, neighborhood_id="N2")["place_name"].unique()
    assert f"Neighborhood brief: {b.name}" in flat
    concerns = "1 new concern" if b.new_concerns == 1 else f"{b.new_concerns} new concerns"
    assert f"{concerns}, {b.closed_concerns} closed" in flat
    for place in places:
        assert place in flat
    assert b.new_audits > 0 and len(b.score_changes) > 0
    assert "Places re-audited since last time" in flat
    # the next brief counts from this one
    html_out = tmp_path / "brief.html"
    assert main(["brief", "--db", str(sample_db), "--neighborhood", "N2",
                 "--out", str(html_out)]) == 0
    assert "0 audits made" in html_out.read_text()


def test_bad_report_requests_are_explained(sample_db: Path, tmp_path: Path, capsys) -> None:
    assert main(["report", "--db", str(sample_db), "--assessment", "A-nope",
                 "--out", str(tmp_path / "r.pdf")]) == 1
    assert "there is no audit A-nope" in capsys.readouterr().err
    assert main(["brief", "--db", str(sample_db), "--neighborhood", "N2",
                 "--out", str(tmp_path / "r.docx")]) == 1
    assert "must end in .pdf or .html" in capsys.readouterr().err
    assert main(["brief", "--db", str(sample_db), "--neighborhood", "ZZ",
                 "--out", str(tmp_path / "r.pdf")]) == 1
    assert "no neighborhood 'ZZ'" in capsys.readouterr().err


def test_a_rated_audit_reports_its_overall_score_and_band(sample_store: Store) -> None:
    rated = A.list_assessments(sample_store)
    aid = rated.loc[rated["enough_answers"], "id"].iloc[0]
    r = reports.assessment_report(sample_store, aid)
    assert r.card.enough_answers
    page = reports.report_html(r)
    assert f"Overall: {r.card.overall:.0f} / 100 ({r.card.label})" in page
    assert r.card.label in {"Strong", "Adequate", "Weak", "Poor"}


def test_brief_shows_an_under_answered_audit_without_a_score(sample_store: Store) -> None:
    listed = A.list_assessments(sample_store, neighborhood_id="N2")
    here = shapely.Point(listed["lon"].iloc[0], listed["lat"].iloc[0])
    thin = A.save_assessment(sample_store, A.AssessmentDraft(
        "One-answer corner", here, "Block 12 association",
        datetime(2026, 10, 1, 2, 30, tzinfo=UTC), "night", {"lt_level": 0}), INS)
    b = reports.neighborhood_brief(sample_store, "N2", concerns=sample_store.read(
        Layer.CONCERNS).iloc[0:0], since=datetime(2026, 1, 1, tzinfo=UTC))
    row = b.latest_audits.set_index("id").loc[thin]
    assert row["label"] == "Not enough answers" and row["overall"] != row["overall"]  # NaN
    page = reports.brief_html(b)
    assert "<td>One-answer corner</td>" in page
    cells = page.split("<td>One-answer corner</td>", 1)[1].split("</tr>", 1)[0]
    assert "<td>–</td>" in cells and "<td>Not enough answers</td>" in cells
    assert "<td>Poor</td>" not in cells
