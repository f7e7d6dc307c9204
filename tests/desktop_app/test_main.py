"""`run_app`: the entry point the `photoatlas` launcher calls without a subcommand."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication

from desktop_app import main_window
from desktop_app.main import run_app


def test_run_app_shows_the_window_and_returns_the_exit_code(tmp_path: Path, qapp, monkeypatch) -> None:
    settings = tmp_path / "window.ini"
    monkeypatch.setattr(main_window, "QSettings", lambda: QSettings(str(settings), QSettings.Format.IniFormat))
    seen: list[str] = []

    def look_and_quit() -> None:
        seen.extend(w.windowTitle() for w in QApplication.topLevelWidgets() if w.isVisible())
        QApplication.exit(0)

    QTimer.singleShot(200, look_and_quit)
    assert run_app(tmp_path / "library") == 0
    assert QApplication.applicationName() == "PhotoAtlas"
    assert "library" in seen  # the window manager shows "library — PhotoAtlas" (the display name)
    assert QApplication.applicationDisplayName() == "PhotoAtlas"
    assert settings.exists()  # geometry saved on the way out


def test_opening_the_window_does_not_load_torch() -> None:
    import subprocess
    import sys

    code = "import sys, desktop_app.main, desktop_app.main_window; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
