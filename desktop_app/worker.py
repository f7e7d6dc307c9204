"""Background work for the window: one engine job on a pool thread, with progress and cancel as Qt signals.

A job is a plain function `job(library, progress) -> result`. The task opens its own `Library` on the
worker thread, because a SQLite connection belongs to the thread that opened it; results and errors come
back to the GUI thread through queued signals. Workers never touch widgets.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Signal

from desktop_app.qt_compat import emit
from engine import Library
from engine.errors import Cancelled, PhotoAtlasError
from engine.progress import ProgressReporter

log = logging.getLogger(__name__)

Job = Callable[[Library, ProgressReporter], Any]

# Progress signals are rate limited: an index of 100k photos advances 100k times.
_MIN_INTERVAL_S = 0.05


class ProgressAdapter(QObject):
    """The engine's `ProgressReporter`, speaking Qt: `progressed(phase, done, total)`; total 0 = unknown.

    Called from the worker thread, emitted to receivers in the GUI thread (queued). `cancel` may be
    called from any thread; the engine notices it at its next check and raises `Cancelled`.
    """

    progressed = Signal(str, int, int)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._cancel = threading.Event()
        self._phase = ""
        self._total = 0
        self._done = 0
        self._last_emit = 0.0

    def phase(self, name: str, total: int | None = None) -> None:
        self._phase, self._total, self._done = name, total or 0, 0
        self._emit()

    def advance(self, done: int = 1) -> None:
        self._done += done
        now = time.monotonic()
        if now - self._last_emit >= _MIN_INTERVAL_S or self._done == self._total:
            self._emit(now)

    def is_cancelled(self) -> bool:
        return self._cancel.is_set()

    def cancel(self) -> None:
        """Ask the running job to stop at its next safe point."""
        self._cancel.set()

    def _emit(self, now: float | None = None) -> None:
        self._last_emit = time.monotonic() if now is None else now
        emit(self.progressed, self._phase, self._done, self._total)


class TaskSignals(QObject):
    """What a `LibraryTask` reports; lives in the GUI thread so its receivers run there."""

    succeeded = Signal(object)
    failed = Signal(str, str)  # message for the user, technical details (a traceback) or ""
    cancelled = Signal(str)


class LibraryTask(QRunnable):
    """Run one job against a `Library` opened on the worker thread.

    Args:
        directory: the library folder (the worker opens its own connection to it).
        job: the engine work; gets the library and the progress reporter.
        progress: the adapter the job reports to and checks for cancellation.
        signals: where the outcome is emitted (exactly one of succeeded, failed, cancelled).
    """

    def __init__(self, directory: Path, job: Job, progress: ProgressAdapter, signals: TaskSignals) -> None:
        super().__init__()
        self.directory = directory
        self.job = job
        self.progress = progress
        self.signals = signals

    def run(self) -> None:
        try:
            with Library(self.directory) as library:
                result = self.job(library, self.progress)
        except Cancelled as exc:
            emit(self.signals.cancelled, str(exc))
        except PhotoAtlasError as exc:
            emit(self.signals.failed, str(exc), "")
        except Exception as exc:  # a bug must reach the user as a message, not kill the worker silently
            log.exception("background operation failed")
            message = f"Unexpected error: {type(exc).__name__}: {exc}"
            emit(self.signals.failed, message, traceback.format_exc())
        else:
            emit(self.signals.succeeded, result)
