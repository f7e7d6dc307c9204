"""The status bar's view of a long operation: phase, a progress bar and a Cancel button."""

from __future__ import annotations

import time

from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from desktop_app.service import LibraryService


def format_rate(per_second: float) -> str:
    return f"{per_second:,.0f}/s" if per_second >= 10 else f"{per_second:.1f}/s"


def format_left(seconds: float) -> str:
    """ "5 s left", "3 min left", "1 h 20 min left"."""
    if seconds < 60:
        return f"{max(1, round(seconds))} s left"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min left"
    return f"{minutes // 60} h {minutes % 60} min left"


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
        self._phase, self._start_time, self._start_done = "", 0.0, 0
        service.busyChanged.connect(self._on_busy)
        service.progress.connect(self.show_progress)
        self.setVisible(False)

    def show_progress(self, phase: str, done: int, total: int) -> None:
        """Show a phase with its count, rate and time left; with total 0 the bar just shows activity."""
        name = phase[:1].upper() + phase[1:]
        now = time.monotonic()
        if phase != self._phase or done < self._start_done:
            self._phase, self._start_time, self._start_done = phase, now, done
        if total > 0:
            self.bar.setRange(0, total)
            self.bar.setValue(min(done, total))
            self.phase_label.setText(f"{name}… {done:,} of {total:,}{self._pace(done, total, now)}")
        else:
            self.bar.setRange(0, 0)
            self.phase_label.setText(f"{name}… {done:,}" if done else f"{name}…")

    def _pace(self, done: int, total: int, now: float) -> str:
        """ "  · 42/s · 1 min left" once the phase has run long enough for a steady estimate."""
        elapsed = now - self._start_time
        if elapsed < 2.0 or done <= self._start_done:
            return ""
        rate = (done - self._start_done) / elapsed
        return f"  ·  {format_rate(rate)}  ·  {format_left((total - done) / rate)}"

    def _on_busy(self, busy: bool) -> None:
        self.setVisible(busy)
        self.cancel_button.setEnabled(busy)
        if busy:
            self.show_progress(self._service.operation_title, 0, 0)

    def _cancel(self) -> None:
        self.cancel_button.setEnabled(False)
        self.phase_label.setText("Cancelling…")
        self._service.cancel()
