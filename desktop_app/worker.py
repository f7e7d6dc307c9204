"""Background work for the window: one engine job on a pool thread, with progress and cancel as Qt signals.

A job is a plain function `job(library, progress) -> result`. The task opens its own `Library` on the
worker thread, because a SQLite connection belongs to the thread that opened it; results and errors come
back to the GUI thread through queued signals. Workers never touch widgets. Below the task: jobs the
service shares (a first clustering; a re-cluster that reports the actions it recorded, for its Undo).
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Signal

from desktop_app.qt_compat import emit
from engine import HistoryEntry, Library
from engine.errors import Cancelled, InvalidInputError, PhotoAtlasError
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


# -- jobs the service runs, and what it reads of the history ---------------------------------------

# The kinds of action a re-cluster or a refinement records (naming included): what its summary's Undo reverts.
OPERATION_KINDS = frozenset({"recluster", "refine", "name"})


@dataclass(frozen=True)
class UndoState:
    """What Undo and Redo would do now: the action each would revert or re-apply (None: nothing)."""

    undo: HistoryEntry | None
    redo: HistoryEntry | None


def undo_state(library: Library, limit: int = 50) -> UndoState:
    """The next undo and redo of a library, read from its history (redoable: undone, above every done one)."""
    while True:
        entries = library.history(limit)
        redo = None
        for entry in entries:  # newest first
            if not entry.undone:
                return UndoState(entry, redo)
            if entry.redoable:
                redo = entry  # the lowest of the undone ones on top was undone last: redo re-applies it
        if len(entries) < limit:
            return UndoState(None, redo)
        limit *= 4


def undoable(run: Callable[[Library, ProgressReporter], Any]) -> Job:
    """A re-cluster or refinement as a job that also reports the actions it recorded in the history.

    Its result: the summary lines, what changed album by album first, and the ids of those actions.
    """

    def job(library: Library, progress: ProgressReporter) -> tuple[list[str], list[int]]:
        # The latest album action done before it; stack actions (negative ids) are numbered apart.
        since = max((e.id for e in library.history(50) if e.id > 0 and not e.undone), default=0)
        summary = run(library, progress)
        recorded = [e.id for e in library.history(50) if e.id > since and not e.undone and e.kind in OPERATION_KINDS]
        changes = list(getattr(summary, "changes", []))  # by album name: what the user reads first
        return changes + [line for line in summary.lines() if line not in changes], recorded

    return job


def first_albums(library: Library, progress: ProgressReporter) -> list[str]:
    """Cluster a library that has never been clustered, so that a first run ends with albums.

    Later additions join albums through the engine's incremental assignment instead.
    """
    if library.clusters():
        return []
    try:
        return library.recluster(progress=progress).lines()
    except InvalidInputError as exc:  # e.g. too few photos to group yet
        return [f"No albums yet: {exc}"]
