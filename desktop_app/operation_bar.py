"""The status bar's view of a long operation: phase, a progress bar and a Cancel button."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from desktop_app.service import LibraryService


class OperationBar(QWidget):
    """Shown while the service runs a long operation; hidden otherwise."""

    def __init__(self, service: LibraryService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._service = service
        self.phase_label = QLabel()
        self.phase_label.setObjectName("phaseLabel")
        self.bar = QProgressBar()
        self.bar.setFixedWidth(220)
        self.bar.setTextVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancelButton")
        self.cancel_button.clicked.connect(self._cancel)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.phase_label)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)
        service.busyChanged.connect(self._on_busy)
        service.progress.connect(self.show_progress)
        self.setVisible(False)

    def show_progress(self, phase: str, done: int, total: int) -> None:
        """Show a phase; with total 0 the bar just shows activity."""
        name = phase[:1].upper() + phase[1:]
        if total > 0:
            self.bar.setRange(0, total)
            self.bar.setValue(min(done, total))
            self.phase_label.setText(f"{name}… {done:,} of {total:,}")
        else:
            self.bar.setRange(0, 0)
            self.phase_label.setText(f"{name}… {done:,}" if done else f"{name}…")

    def _on_busy(self, busy: bool) -> None:
        self.setVisible(busy)
        self.cancel_button.setEnabled(busy)
        if busy:
            self.show_progress(self._service.operation_title, 0, 0)

    def _cancel(self) -> None:
        self.cancel_button.setEnabled(False)
        self.phase_label.setText("Cancelling…")
        self._service.cancel()
