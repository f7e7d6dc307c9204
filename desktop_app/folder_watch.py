"""Watching the library's folders while the window is open: new photos flow into their albums live.

The engine's `LibraryWatcher` collects changed paths on its own threads and hands over debounced batches;
here they cross into the GUI thread as a signal, wait their turn, and are applied one at a time on the
service's serial worker (the same one that indexes and re-clusters), so the watcher never races another
long write. Album actions from the window are short transactions on the GUI thread's connection that
SQLite serialises with the worker's, so a rename during an import is kept as well.
"""

from __future__ import annotations

import logging
from collections import deque
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from desktop_app.qt_compat import emit
from engine.errors import PhotoAtlasError

if TYPE_CHECKING:
    from engine import ChangeBatch, LibraryWatcher

log = logging.getLogger(__name__)


class FolderWatch(QObject):
    """The watcher of one library, with a queue of batches waiting for the worker.

    Signals:
        batchArrived(batch): the engine's watcher closed a batch (emitted from its thread).
        queued(): a batch is waiting in `pending` (emitted in the GUI thread).
    """

    batchArrived = Signal(object)
    queued = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._watcher: LibraryWatcher | None = None
        self.pending: deque[ChangeBatch] = deque()
        self.batchArrived.connect(self._queue)  # queued across threads: this object lives in the GUI thread

    def _queue(self, batch: ChangeBatch) -> None:
        if self._watcher is not None:  # a batch that was in flight when watching stopped is dropped
            self.pending.append(batch)
            emit(self.queued)

    @property
    def running(self) -> bool:
        return self._watcher is not None

    def start(self, watcher: LibraryWatcher) -> None:
        """Watch with this (not yet started) watcher; its batches queue here."""
        self.stop()
        watcher.on_batch = lambda batch: emit(self.batchArrived, batch)
        self._watcher = watcher  # before start: its first batch (the start-up rescan) comes at once
        try:
            watcher.start()
        except (OSError, PhotoAtlasError) as exc:  # e.g. inotify limits: the window works without watching
            log.warning("cannot watch the photo folders: %s", exc)
            self._watcher = None
            self.pending.clear()

    def stop(self) -> None:
        """Stop watching and join its threads; queued batches are dropped (the next start rescans)."""
        if self._watcher is not None:
            self._watcher.stop()
            self._watcher = None
        self.pending.clear()

    def modes(self) -> dict[object, str]:
        return dict(self._watcher.modes()) if self._watcher is not None else {}

    def take(self) -> ChangeBatch | None:
        """The oldest waiting batch, or None."""
        return self.pending.popleft() if self.pending else None
