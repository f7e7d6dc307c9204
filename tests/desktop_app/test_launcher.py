"""The `photoatlas` launcher: subcommands go to the engine's CLI, without loading Qt."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from desktop_app.launcher import main


def test_subcommand_runs_the_cli(tmp_path: Path, capsys) -> None:
    assert main(["--library", str(tmp_path / "lib"), "init"]) == 0  # only index and init create a library
    assert main(["--library", str(tmp_path / "lib"), "status"]) == 0
    assert "Photos:      0" in capsys.readouterr().out


def test_cli_commands_do_not_load_qt(tmp_path: Path) -> None:
    code = (
        "import sys; from desktop_app.launcher import main; "
        f"main(['--library', {str(tmp_path / 'lib')!r}, 'status']); print('PySide6' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().endswith("False")
