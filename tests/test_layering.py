"""The layering rule: ``layers/`` owns all SQL; ``cpted/`` keeps the rules.

No module under ``cpted/`` or ``app_pages/`` imports SQLAlchemy at run time, except
those listed here with the reason (none today). An import under ``if TYPE_CHECKING:``
is for type hints only and does not count. No page imports folium: maps are built by
pure functions in ``cpted/maps``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Modules still holding SQL, each with why; remove an entry once it is converted.
ALLOWED: dict[str, str] = {}


def _type_checking_only(node: ast.If) -> bool:
    t = node.test
    return (isinstance(t, ast.Name) and t.id == "TYPE_CHECKING") or (
        isinstance(t, ast.Attribute) and t.attr == "TYPE_CHECKING")


def runtime_imports(tree: ast.AST) -> set[str]:
    """Top-level package names imported outside ``if TYPE_CHECKING:`` blocks, at any
    depth (functions' local imports included)."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _type_checking_only(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


MODULES = sorted(p.relative_to(ROOT).as_posix() for folder in ("cpted", "app_pages")
                 for p in (ROOT / folder).rglob("*.py"))
PAGES = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "app_pages").glob("*.py"))


@pytest.mark.parametrize("page", PAGES)
def test_no_page_builds_a_folium_map(page: str) -> None:
    tree = ast.parse((ROOT / page).read_text(encoding="utf-8"), filename=page)
    assert "folium" not in runtime_imports(tree), (
        f"{page} imports folium; build the map with a function in cpted/maps")


@pytest.mark.parametrize("module", MODULES)
def test_cpted_has_no_runtime_sqlalchemy_import(module: str) -> None:
    tree = ast.parse((ROOT / module).read_text(encoding="utf-8"), filename=module)
    uses = "sqlalchemy" in runtime_imports(tree)
    if module in ALLOWED:
        return
    assert not uses, (f"{module} imports sqlalchemy at run time; move its SQL into "
                      "layers/repos and import Connection under `if TYPE_CHECKING:`")


def test_allow_list_names_only_modules_that_still_need_it() -> None:
    stale = [m for m in ALLOWED
             if not (ROOT / m).exists()
             or "sqlalchemy" not in runtime_imports(ast.parse((ROOT / m).read_text("utf-8")))]
    assert not stale, f"drop these from ALLOWED, they no longer import sqlalchemy: {stale}"


@pytest.mark.parametrize(("source", "expected"), [
    ("import sqlalchemy as sa", True),
    ("from sqlalchemy.engine import Connection", True),
    ("def f():\n    import sqlalchemy\n", True),
    ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import sqlalchemy\n", False),
    ("import typing\nif typing.TYPE_CHECKING:\n    from sqlalchemy import Connection\n", False),
    ("if TYPE_CHECKING:\n    pass\nelse:\n    import sqlalchemy\n", True),
    ("from layers.repos import spots", False),
])
def test_the_check_tells_runtime_from_typing_imports(source: str, expected: bool) -> None:
    assert ("sqlalchemy" in runtime_imports(ast.parse(source))) is expected
