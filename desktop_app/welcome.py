"""The first screen of an empty library: one big button to choose photo folders."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget


class WelcomeView(QWidget):
    """Invites the user to add photo folders. Signals: chooseFoldersRequested()."""

    chooseFoldersRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("welcomeView")
        title = QLabel("Welcome to PhotoAtlas")
        title.setStyleSheet("font-size: 24pt; font-weight: 600;")
        text = QLabel(
            "Choose the folders that hold your photos. PhotoAtlas reads them, never changes them,\n"
            "and sorts them into albums you can rename, merge and pin."
        )
        text.setStyleSheet("color: palette(dark); font-size: 11pt;")
        self.button = QPushButton("Choose photo folders…")
        self.button.setObjectName("chooseFoldersButton")
        self.button.setMinimumSize(280, 56)
        self.button.setStyleSheet("font-size: 14pt; padding: 10px 28px;")
        self.button.setDefault(True)
        self.button.clicked.connect(self.chooseFoldersRequested)
        layout = QVBoxLayout(self)
        layout.addStretch(2)
        for widget in (title, text, self.button):
            layout.addWidget(widget, 0, Qt.AlignmentFlag.AlignHCenter)
            layout.addSpacing(16)
        text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addStretch(3)
