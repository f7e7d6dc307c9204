"""The engine stays headless and light to import (house style: layers)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENGINE = ROOT / "engine"


def test_engine_never_imports_qt_or_the_desktop_app() -> None:
    offenders = []
    for path in ENGINE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else ([node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            )
            offenders += [
                f"{path.name}: {n}" for n in names if n.split(".")[0] in {"PySide6", "desktop_app", "superqt"}
            ]
    assert offenders == []


def test_importing_the_engine_does_not_load_torch() -> None:
    code = "import sys, engine, engine.cli.main; print('torch' in sys.modules, 'open_clip' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_import_contracts_hold() -> None:
    """The contracts in pyproject.toml ([tool.importlinter]): a headless engine, rooms that import one way,
    and a desktop app that uses only the engine's facade."""
    lint_imports = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
