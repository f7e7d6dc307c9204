"""The one way the window shows an error to the user."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget


def show_error(parent: QWidget | None, message: str, title: str = "PhotoAtlas", details: str = "") -> QMessageBox:
    """A window-modal warning that does not block the caller (errors arrive from signals).

    Args:
        details: technical details (a traceback) behind a "Show Details…" button, for bug reports.
    """
    box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, parent)
    if details:
        box.setDetailedText(details)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.setWindowModality(Qt.WindowModality.WindowModal)
    box.open()
    return box
