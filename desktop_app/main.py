"""Opening the window: `run_app(library_dir)`, called by the `photoatlas` launcher with no subcommand."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication, QMessageBox

from engine.errors import PhotoAtlasError

APP_NAME = "PhotoAtlas"


def follow_system_theme(app: QApplication) -> None:
    """Light or dark as the system says, now and when it changes.

    Qt 6.5+ follows the system's colour scheme with the Fusion style on every platform (some Linux
    platform styles ignore a dark scheme), and every colour the window paints comes from the palette.
    """
    if sys.platform.startswith("linux"):
        app.setStyle("Fusion")


def run_app(library_dir: Path | None = None) -> int:
    """Show the PhotoAtlas window over a library (the default one when None); the exit code."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(APP_NAME)
    app.setApplicationDisplayName(APP_NAME)
    app.setDesktopFileName("photoatlas")  # Wayland and docks match the window to photoatlas.desktop
    follow_system_theme(app)

    from desktop_app.about import app_icon
    from desktop_app.main_window import MainWindow
    from desktop_app.service import LibraryService

    app.setWindowIcon(app_icon())

    try:
        service = LibraryService(library_dir)
    except PhotoAtlasError as exc:
        QMessageBox.critical(None, APP_NAME, f"The library cannot be opened.\n\n{exc}")
        return 1
    window = MainWindow(service)
    window.show()
    try:
        return int(app.exec())
    finally:
        window.close()  # saves the geometry also when the application quits some other way
        service.close()


if __name__ == "__main__":
    sys.exit(run_app(Path(sys.argv[1]) if len(sys.argv) > 1 else None))
