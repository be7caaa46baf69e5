"""Structural rules checked on the source (NetBox-style ast meta-tests)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _python_files(*folders: str):
    for folder in folders:
        yield from (p for p in (ROOT / folder).rglob("*.py") if "migrations" not in p.parts)


def _imports(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module


def test_ocr_providers_never_import_django_or_kyc():
    offenders = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in _python_files("ocr_providers")
        for name in _imports(ast.parse(path.read_text()))
        if name.split(".")[0] in {"django", "kyc", "rest_framework", "django_q"}
    ]
    assert offenders == []


def test_only_the_status_helpers_assign_status():
    """``.status = ...`` appears only in the one helper per machine."""
    allowed = {("kyc/services/cases.py", "_case_transition"), ("kyc/services/documents.py", "_document_set_status")}
    found = set()
    for path in _python_files("kyc"):
        tree = ast.parse(path.read_text())
        for func in (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)):
            for node in ast.walk(func):
                targets = node.targets if isinstance(node, ast.Assign) else []
                if any(isinstance(t, ast.Attribute) and t.attr == "status" for t in targets):
                    found.add((str(path.relative_to(ROOT)), func.name))
    assert found == allowed


def test_private_files_are_never_given_a_url():
    offenders = [
        str(path.relative_to(ROOT))
        for path in [*_python_files("kyc"), *(ROOT / "templates").rglob("*.html")]
        if ".image.url" in path.read_text()
    ]
    assert offenders == []
