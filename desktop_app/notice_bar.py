"""A discreet strip above the photos: a suggestion with its button ("Re-cluster now"), or a summary to read
(with "Undo" after a re-cluster, and the engine's own lines behind "Show details")."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from desktop_app.qt_compat import emit

SHOW_DETAILS = "Show details"
HIDE_DETAILS = "Hide details"


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
        self.details = QLabel()
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.hide()
        self.details_button = QPushButton(SHOW_DETAILS)
        self.details_button.clicked.connect(self._toggle_details)
        self.details_button.hide()
        self.action_button = QPushButton(action_text or "")
        self.action_button.clicked.connect(self._accept)
        self.action_button.setVisible(action_text is not None)
        self.dismiss_button = QPushButton(dismiss_text)
        self.dismiss_button.clicked.connect(self.hide)
        self._layout = layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        text = QVBoxLayout()
        text.addWidget(self.message)
        text.addWidget(self.details)
        layout.addLayout(text, 1)
        layout.addWidget(self.details_button)
        layout.addWidget(self.action_button)
        layout.addWidget(self.dismiss_button)
        self.hide()

    def add_button(self, text: str) -> QPushButton:
        """Another button, before the action's; hidden until the caller shows it (the strip stays open)."""
        button = QPushButton(text)
        button.hide()
        self._layout.insertWidget(1, button)
        return button

    def show_notice(self, text: str, details: str = "") -> None:
        """Show `text`, with `details` (when given) behind a "Show details" button."""
        self.message.setText(text)
        self.details.setText(details)
        self.details.hide()
        self.details_button.setText(SHOW_DETAILS)
        self.details_button.setVisible(bool(details))
        self.show()

    def _toggle_details(self) -> None:
        shown = not self.details.isVisible()
        self.details.setVisible(shown)
        self.details_button.setText(HIDE_DETAILS if shown else SHOW_DETAILS)

    def set_action(self, text: str | None) -> None:
        """Offer another action on the button, or (None) none."""
        self.action_button.setText(text or "")
        self.action_button.setVisible(text is not None)

    def _accept(self) -> None:
        self.hide()
        emit(self.accepted)
