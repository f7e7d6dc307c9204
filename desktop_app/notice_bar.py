"""A discreet strip above the photos: a suggestion with its button ("Re-cluster now"), or a summary to read
(with "Undo" after a re-cluster)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from desktop_app.qt_compat import emit


class NoticeBar(QFrame):
    """Hidden until `show_notice`; `accepted()` when its button is pressed (it then hides).

    Signals:
        accepted(): the user took the suggestion.
    """

    accepted = Signal()

    def __init__(self, action_text: str | None, dismiss_text: str = "Not now", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.action_button = QPushButton(action_text or "")
        self.action_button.clicked.connect(self._accept)
        self.action_button.setVisible(action_text is not None)
        self.dismiss_button = QPushButton(dismiss_text)
        self.dismiss_button.clicked.connect(self.hide)
        self._layout = layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.addWidget(self.message, 1)
        layout.addWidget(self.action_button)
        layout.addWidget(self.dismiss_button)
        self.hide()

    def add_button(self, text: str) -> QPushButton:
        """Another button, before the action's; hidden until the caller shows it (the strip stays open)."""
        button = QPushButton(text)
        button.hide()
        self._layout.insertWidget(1, button)
        return button

    def show_notice(self, text: str) -> None:
        self.message.setText(text)
        self.show()

    def set_action(self, text: str | None) -> None:
        """Offer another action on the button, or (None) none."""
        self.action_button.setText(text or "")
        self.action_button.setVisible(text is not None)

    def _accept(self) -> None:
        self.hide()
        emit(self.accepted)
