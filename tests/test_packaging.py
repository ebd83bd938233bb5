"""What an install ships: every package and data file, declared so setuptools warns of none."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path
from typing import Any

from tests.conftest import ROOT

TOP = ("cpted", "layers")


def setuptools_config() -> dict[str, Any]:
    config: dict[str, Any] = tomllib.loads(
        (ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    return config


def folders() -> dict[str, Path]:
    """Every folder of the installed packages, by dotted name (caches left out, and the
    map files npm installs into ``cpted/web/node_modules``, which are not packaged)."""
    found = {}
    for top in TOP:
        for d in [ROOT / top, *sorted((ROOT / top).rglob("*"))]:
            if d.is_dir() and d.name != "__pycache__" and "node_modules" not in d.parts:
                found[".".join(d.relative_to(ROOT).parts)] = d
    return found


def test_every_folder_is_a_declared_package() -> None:
    from setuptools import find_namespace_packages

    find = setuptools_config()["packages"]["find"]
    declared = set(find_namespace_packages(where=str(ROOT), include=find["include"],
                                           exclude=find.get("exclude", ())))
    # a folder left out is missing from the wheel (cpted.maps once was), and a data
    # folder left out is what setuptools warns about ("Package would be ignored")
    assert set(folders()) <= declared, sorted(set(folders()) - declared)
    assert all(name.split(".")[0] in TOP for name in declared), declared


def test_every_data_file_is_declared_package_data() -> None:
    data = setuptools_config()["package-data"]
    undeclared = []
    for name, folder in folders().items():
        patterns = [*data.get("*", []), *data.get(name, [])]
        for f in folder.iterdir():
            if f.is_file() and f.suffix not in (".py", ".pyc") and not any(
                    fnmatch.fnmatch(f.name, p) for p in patterns):
                undeclared.append(f"{name}: {f.name}")
    assert not undeclared, undeclared
    # the files the code opens by path are among them
    assert (ROOT / "cpted" / "data" / "lighting.toml").is_file()
    assert (ROOT / "layers" / "data" / "services.toml").is_file()
