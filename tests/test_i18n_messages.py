"""The messages that come from below the pages, in Spanish: a rejected import row and the
import summary (layers/, through layers/_i18n.py), refusals of the access layer, the
offline geocoder's misses, and the command line (``--language``, else the environment).

Each test also asks for the same in English where a test elsewhere pins the English
words, and ends with nothing asked for that the Spanish catalogue lacks.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pyproj
import pytest
import shapely

from cpted import accounts as acc
from cpted import cli, i18n
from cpted import concerns as cc
from cpted.access import Access, PermissionDeniedError, RateLimitError
from cpted.concerns import ReportDraft
from cpted.geocode import find_place
from layers.errors import UnusableInputError
from layers.importer import prepare_import
from layers.schema import Layer
from layers.settings import Settings
from layers.store import Store
from tests.conftest import ROOT


@pytest.fixture(autouse=True)
def _nothing_missing() -> Iterator[None]:
    """Every test starts with nothing recorded and ends with nothing untranslated."""
    i18n.forget_missing()
    yield
    assert i18n.missing("es") == set()


def _csv(tmp_path: Path) -> Path:
    path = tmp_path / "concerns.csv"
    path.write_text(
        "service_request_id,service_code,requested_datetime,status,lat,long\n"
        "r1,graffiti,2025-06-01 21:15,open,39.05,-94.57\n"
        "r2,graffiti,2025-06-02 10:00,maybe,39.05,-94.58\n"
        "r3,graffiti,not a date,open,39.06,-94.57\n", encoding="utf-8")
    return path


def test_a_rejected_import_row_says_why_in_spanish(store: Store, tmp_path: Path) -> None:
    path = _csv(tmp_path)
    with i18n.use("es"):
        got = prepare_import(store, path, Layer.CONCERNS).summary
        reasons = {r.row: (i18n._(r.reason), r.detail) for r in got.rejections}
        text = got.text()
    assert reasons[2][0] == "valor no válido"
    assert reasons[2][1].startswith("fila 2: status 'maybe' no es uno de: ")
    assert reasons[3] == ("fecha no válida",
                          "fila 3: requested_datetime 'not a date' no es una fecha y hora")
    assert text.splitlines()[0] == ("concerns.csv -> concerns: leídas 3, aceptadas 1, "
                                    "rechazadas 2")
    assert "  rechazadas, valor no válido: 1" in text.splitlines()
    # the key counted and stored stays English; the English words are as before
    assert got.rejected == {"invalid value": 1, "invalid date": 1}
    english = prepare_import(store, path, Layer.CONCERNS).summary
    assert {r.row: r.detail for r in english.rejections}[3] == (
        "row 3: requested_datetime 'not a date' is not a date and time")


def test_a_file_refused_whole_is_refused_in_spanish(store: Store, tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with i18n.use("es"), pytest.raises(UnusableInputError) as info:
        prepare_import(store, empty, Layer.CONCERNS)
    assert str(info.value) == "empty.csv está vacío (0 bytes)"
    headless = tmp_path / "cols.csv"
    headless.write_text("service_code,status\ngraffiti,open\n", encoding="utf-8")
    with i18n.use("es"), pytest.raises(UnusableInputError) as info:
        prepare_import(store, headless, Layer.CONCERNS)
    assert str(info.value).startswith("cols.csv no tiene columnas de coordenadas: se "
                                      "esperaba una columna de longitud")


def test_an_access_refusal_is_in_spanish(store: Store) -> None:
    public = Access(store, acc.public())
    with i18n.use("es"), pytest.raises(PermissionDeniedError) as info:
        public.load_sample()
    assert str(info.value) == ("el público no puede cargar el distrito de ejemplo; para eso "
                               "se necesita uno de: coordinador, administrador")
    with pytest.raises(PermissionDeniedError, match="the public may not load the sample"):
        public.load_sample()


def test_a_rate_limit_is_explained_in_spanish(store: Store) -> None:
    rid = cc.submit_report(store, ReportDraft("graffiti", -94.57, 39.05, "tags"))
    limits = Settings(max_writes_per_minute=1, max_public_writes_per_minute=5)
    Access(store, acc.public("s1", "198.51.100.7"), limits).support(rid)
    with i18n.use("es"), pytest.raises(RateLimitError) as info:
        Access(store, acc.public("s2", "198.51.100.7"), limits).support(rid)
    said = str(info.value)
    assert said.startswith("1 cambio en el último minuto desde esta dirección; el límite es "
                           "1 por minuto (ajuste max_writes_per_minute). No se guardó nada")


UTM = pyproj.CRS.from_epsg(32615)


def _streets() -> gpd.GeoDataFrame:
    x, y = 363_000.0, 4_320_000.0
    return gpd.GeoDataFrame(
        {"id": ["S0", "S1"], "name": ["Main St", "W 39th St"], "class": ["local"] * 2},
        geometry=[shapely.LineString([(x, y - 300), (x, y + 300)]),
                  shapely.LineString([(x - 300, y), (x + 300, y)])], crs=UTM).to_crs(4326)


def test_a_geocoder_miss_is_in_spanish() -> None:
    streets = _streets()
    with i18n.use("es"):
        close = find_place("Mian St", streets)
        none = find_place("Elm Ave", streets)
        apart = find_place("Main St & Main St", streets)
        middle = find_place("Main St", streets)
    assert close.places == () and close.message == (
        "No hay ninguna calle llamada «Mian St» en la capa de calles. ¿Quiso decir Main St?")
    assert none.message == ("No hay ninguna calle llamada «Elm Ave» en la capa de calles. "
                            "Revise cómo está escrita, o haga clic en el mapa.")
    assert apart.message == "Las dos calles son Main St: escriba dos calles distintas."
    assert middle.places[0].note.startswith("Este es el punto medio de Main St.")
    assert find_place("Elm Ave", streets).message == (
        "No street called “Elm Ave” is in the streets layer. Check the spelling, or click "
        "the map instead.")


# -- the command line ------------------------------------------------------------------

def _run(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items()
             if k not in ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE")}
    clean.update(PYTHONPATH=str(ROOT), **env)
    return subprocess.run([sys.executable, "-m", "cpted.cli", *args], capture_output=True,
                          text=True, env=clean, cwd=ROOT, timeout=120)


def test_the_cli_speaks_spanish_when_asked(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.csv"
    got = _run(["--language", "es", "import", str(missing), "--layer", "concerns",
                "--db", str(tmp_path / "x.gpkg")])
    assert got.returncode == 1
    assert got.stderr.strip() == f"cpted import: no hay ningún archivo en {missing}"
    helped = _run(["--language", "es", "--help"])
    assert helped.returncode == 0
    assert "importar un archivo a una capa" in helped.stdout
    assert helped.stdout.startswith("uso: cpted [-h] [--language CODE]")
    assert "mostrar este mensaje de ayuda y salir" in helped.stdout
    wrong = _run(["--language", "es", "import"])
    assert wrong.returncode == 2
    assert wrong.stderr.splitlines()[-1] == (
        "cpted import: error: se requieren los siguientes argumentos: path, --layer")
    assert "el idioma en que responde" in helped.stdout
    english = _run(["import", str(missing), "--layer", "concerns",
                    "--db", str(tmp_path / "x.gpkg")])
    assert english.stderr.strip() == f"cpted import: no file at {missing}"


def test_the_cli_takes_its_language_from_the_environment(tmp_path: Path) -> None:
    args = ["profile", "list", "--db", str(tmp_path / "none.gpkg")]
    spanish = _run(args, LANG="es_MX.UTF-8")
    assert spanish.returncode == 0, spanish.stderr
    assert "kc311: " in spanish.stdout and "(capa concerns)" in spanish.stdout
    # LC_ALL wins over LANG, as in gettext; C is English
    english = _run(args, LANG="es_MX.UTF-8", LC_ALL="C")
    assert "(layer concerns)" in english.stdout and "(capa" not in english.stdout


@pytest.mark.parametrize(("argv", "env", "expected"), [
    (["--language", "es", "info"], {}, "es"),
    (["--language=es-MX", "info"], {"LANG": "en_US.UTF-8"}, "es"),
    (["--language", "en", "info"], {"LANG": "es_MX.UTF-8"}, "en"),
    (["info"], {"LANG": "es_MX.UTF-8"}, "es"),
    (["info"], {"LC_MESSAGES": "es_ES.UTF-8@euro", "LANG": "en_US.UTF-8"}, "es"),
    (["info"], {"LC_ALL": "C", "LANG": "es_MX.UTF-8"}, "en"),
    (["info"], {"LANG": "de_DE.UTF-8"}, "en"),  # no German catalogue
    (["info"], {}, "en"),
])
def test_the_cli_language_is_negotiated(argv: list[str], env: dict[str, str],
                                        expected: str) -> None:
    assert cli.language(argv, env) == expected


def test_the_cli_in_spanish_asks_for_nothing_untranslated(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "none.gpkg")
    assert cli.main(["--language", "es", "profile", "list", "--db", db]) == 0
    assert "(capa concerns)" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        cli.main(["--language", "es", "import", "--help"])
    out = capsys.readouterr().out
    assert "revisar y resumir; no guardar nada" in out
    assert "usar COLUMN para FIELD (se puede repetir)" in out
    assert "opciones:" in out and "argumentos posicionales:" in out
    assert cli.main(["--language", "es", "import", str(tmp_path / "no.csv"), "--layer",
                     "concerns", "--db", str(tmp_path / "x.gpkg")]) == 1
    assert "no hay ningún archivo en" in capsys.readouterr().err


def test_layers_speak_through_cpted_i18n_without_importing_cpted() -> None:
    """One catalogue implementation: layers/_i18n.py is handed cpted.i18n's functions, so
    no module under layers/ imports cpted (the dependency runs one way)."""
    import ast

    from layers import _i18n
    from tests.test_layering import runtime_imports

    for path in sorted((ROOT / "layers").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        assert "cpted" not in runtime_imports(tree), f"{path.name} imports cpted"
    assert _i18n._gettext is i18n._ and _i18n._ngettext is i18n.ngettext
    with i18n.use("es"):
        assert _i18n.number(12345.5) == "12.345,5" and _i18n.percent(0.9) == "90\xa0%"
