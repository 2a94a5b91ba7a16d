"""The package arrows of docs/architecture.md, read from the code: every import (type-only
ones included) goes down the picture, never up or sideways."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
# What each package may import of ours (itself always).
ALLOWED = {
    "core": set(),
    "storage": {"core"},
    "series": {"storage", "core"},
    "scrapers": {"storage", "core"},
    "alerts": {"series", "storage", "core"},
    "jobs": {"alerts", "series", "scrapers", "storage", "core"},
}


def imported_packages(path: Path) -> set[tuple[str, int]]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {(alias.name.split(".")[0], node.lineno) for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add((node.module.split(".")[0], node.lineno))
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_imports_go_down_the_picture(package):
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in sorted((ROOT / package).rglob("*.py"))
        for name, line in imported_packages(path)
        if name in ALLOWED and name != package and name not in ALLOWED[package]
    ]
    assert not wrong, f"{package} may import only {sorted(ALLOWED[package])}: {wrong}"


def modules() -> dict[str, Path]:
    found = {}
    for package in ALLOWED:
        for path in (ROOT / package).rglob("*.py"):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def imported_modules(path: Path, known: dict[str, Path]) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name in known}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            named = {f"{node.module}.{alias.name}" for alias in node.names}
            found |= {name for name in {node.module, *named} if name in known}
    return found


def test_no_two_modules_import_each_other():
    """Types included (alerts.rule and alerts.view did); a package's __init__ re-exporting
    its modules aside, and a lazy import to keep start-up light is still an import."""
    known = modules()
    imports = {name: imported_modules(path, known) - {name} for name, path in known.items()}
    mutual = sorted(
        f"{a} <-> {b}"
        for a in imports
        for b in imports[a]
        if a < b
        and a in imports.get(b, ())
        and not (b.startswith(a + ".") or a.startswith(b + "."))
    )
    assert not mutual, mutual
