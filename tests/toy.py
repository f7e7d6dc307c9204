"""What the tests that use the toy world share: the toy CLIP's files, a toy library made with its truth, and
`photoatlas --library LIB …` run in-process. Tests that use them skip when ../shared is absent."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from engine.cli.main import main
from tests.conftest import SHARED

TOYCLIP = SHARED / "models" / "toyclip"
MAKE_LIBRARY = SHARED / "toyworld" / "make_library.py"
needs_toyclip = pytest.mark.skipif(not (TOYCLIP / "toyclip.safetensors").exists(), reason="../shared is absent")
TOYCLIP_OPTIONS = ["toyclip", str(TOYCLIP / "toyclip.safetensors"), str(TOYCLIP / "toyclip.json")]


def make_toy_library(photos: Path, per_concept: int = 12, seed: int = 3, concepts: str | None = None) -> dict[str, str]:
    """Render a toy-world library into `photos` (`concepts` as "red:circle,blue:star", else the generator's
    own); each photo's resolved path → its concept ("red circle")."""
    drawn = ["--per-concept", str(per_concept), "--seed", str(seed), *(["--concepts", concepts] if concepts else [])]
    made = subprocess.run(
        [sys.executable, str(MAKE_LIBRARY), str(photos), *drawn],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {str((photos / rel).resolve()): concept for rel, concept in json.loads(made).items()}


class Cli:
    """`photoatlas --library LIB …` in-process: returns stdout, or stderr when a failure (`code`) is expected,
    which must then be the CLI's one-line error, never a traceback."""

    def __init__(self, capsys: pytest.CaptureFixture[str], library: Path) -> None:
        self.capsys, self.library = capsys, library

    def __call__(self, *argv: str, code: int = 0) -> str:
        result = main(["--library", str(self.library), *argv])
        captured = self.capsys.readouterr()
        assert result == code, captured.err or captured.out
        if code:
            assert captured.err.startswith("photoatlas: error:") and "Traceback" not in captured.err
            return captured.err
        return captured.out
