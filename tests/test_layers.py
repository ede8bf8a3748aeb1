"""The layers of the package, checked from the source: a test fails the day an import crosses one.

Layers, lowest first: the top-level modules (config, errors, findings, logs) → data → model →
explain → review → app. Only `cxrviz.app` and `pages/` import Streamlit; only the review store
(and its migrations) import SQLAlchemy; no layer imports one above it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import REPO

PACKAGE = REPO / "cxrviz"
ORDER = ["data", "model", "explain", "review", "app"]
SQL_ALLOWED = ("cxrviz/review/store/",)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _layer(module_path: str) -> int | None:
    parts = module_path.split("/")
    return ORDER.index(parts[1]) if len(parts) > 2 and parts[1] in ORDER else None


def _sources():
    return sorted(p for p in PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(REPO)))
def test_streamlit_only_in_app(path):
    rel = str(path.relative_to(REPO))
    if rel.startswith("cxrviz/app/"):
        return
    assert not any(m == "streamlit" or m.startswith("streamlit.") for m in _imports(path)), f"{rel} imports Streamlit"


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(REPO)))
def test_sqlalchemy_only_in_the_store(path):
    rel = str(path.relative_to(REPO))
    if rel.startswith(SQL_ALLOWED):
        return
    bad = {m for m in _imports(path) if m.split(".")[0] in ("sqlalchemy", "alembic", "psycopg", "sqlite3")}
    assert not bad, f"{rel} imports {sorted(bad)}"


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(REPO)))
def test_no_import_reaches_a_higher_layer(path):
    rel = str(path.relative_to(REPO))
    mine = _layer(rel)
    top_level = mine is None and rel not in ("cxrviz/cli.py", "cxrviz/__main__.py") and not rel.startswith("cxrviz/commands/")
    for module in _imports(path):
        parts = module.split(".")
        if parts[0] != "cxrviz" or len(parts) < 2 or parts[1] not in ORDER:
            continue
        theirs = ORDER.index(parts[1])
        if top_level:
            pytest.fail(f"{rel} is a top-level module but imports {module}")
        if mine is not None:
            assert theirs <= mine, f"{rel} ({ORDER[mine]}) imports {module} ({ORDER[theirs]}), a higher layer"


def test_pages_import_only_through_cxrviz_and_streamlit():
    """Pages are thin: no SQL, no torch; they call cxrviz and draw widgets."""
    for page in sorted((REPO / "pages").glob("*.py")):
        bad = {m for m in _imports(page) if m.split(".")[0] in ("sqlalchemy", "torch", "torchvision", "pytorch_grad_cam")}
        assert not bad, f"{page.name} imports {sorted(bad)}"


def test_the_checker_sees_a_crossing(tmp_path):
    """The rules above really catch a violation (guards against a checker that sees nothing)."""
    bad = tmp_path / "bad.py"
    bad.write_text("import streamlit as st\nfrom cxrviz.app import viewer\nfrom sqlalchemy import select\n")
    found = _imports(bad)
    assert "streamlit" in found and "cxrviz.app" in found and "sqlalchemy" in found


_STORE_INTERNALS = ("reading", "writing", "dialect_insert", "reviewer_id", "name_of", "review_of", "select_reviews")


def _store_internal_calls(path: Path) -> list[str]:
    """Calls of the store's transaction API (`x.reading()`, `x.writing()`, …) and of any `x._private`
    member of a store, found with `ast`."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in ("store", "Store"):
            if node.attr in _STORE_INTERNALS or node.attr.startswith("_"):
                found.append(f"{node.value.id}.{node.attr} (line {node.lineno})")
    return found


@pytest.mark.parametrize("path", [p for p in _sources() if not str(p.relative_to(REPO)).startswith("cxrviz/review/store/")]
                         + sorted((REPO / "pages").glob("*.py")), ids=lambda p: str(p.relative_to(REPO)))
def test_only_the_store_opens_its_transactions(path):
    """The store speaks one style: its sub-stores (`review/store/*.py`) open transactions with the
    public `Store.reading()` / `Store.writing()`; no module outside `review/store/` does, nor
    reaches into a store's private members."""
    assert _store_internal_calls(path) == [], f"{path.relative_to(REPO)} bypasses the store's public methods"


def test_the_store_checker_sees_a_bypass(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f(store):\n    with store.writing() as conn:\n        store._insert()\n")
    assert _store_internal_calls(bad) == ["store.writing (line 2)", "store._insert (line 3)"]
