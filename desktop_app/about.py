"""The application icon, and the About box (version, what PhotoAtlas does, where the library lives)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QMessageBox, QWidget

import engine
from engine import resources_dir

ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def app_icon() -> QIcon:
    """PhotoAtlas's icon at every size shipped in resources/icons (empty when they are missing)."""
    icon = QIcon()
    folder = resources_dir() / "icons"
    for size in ICON_SIZES:
        path = folder / f"photoatlas-{size}.png"
        if path.is_file():
            icon.addFile(str(path))
    return icon


def about_text(library: Path, device: str | None = None) -> str:
    used = f"<br>Model device: {device}" if device else ""
    return (
        f"<h3>PhotoAtlas {engine.__version__}</h3>"
        "<p>Your photos, grouped into albums and named by CLIP on this computer. "
        "Your originals are never modified, moved or renamed.</p>"
        f"<p>Library: {library}{used}</p>"
    )


def show_about(parent: QWidget, library: Path) -> QMessageBox:
    box = QMessageBox(parent)
    box.setWindowTitle("About PhotoAtlas")
    box.setIconPixmap(app_icon().pixmap(96, 96))
    box.setText(about_text(library))
    box.setStandardButtons(QMessageBox.StandardButton.Ok)
    box.open()
    return box
