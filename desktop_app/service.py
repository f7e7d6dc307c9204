"""`LibraryService`: the one object through which the window talks to the engine.

Quick album actions (rename, merge, pin, undo, redo...) run synchronously on the GUI thread's own `Library`.
Long operations (index, re-cluster, refine, search, export) run one at a time on a serial worker that opens
its own `Library`; their progress, outcome and errors arrive as signals.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

from PySide6.QtCore import QObject, QThreadPool, Signal

from desktop_app.folder_watch import FolderWatch
from desktop_app.model_check import ModelCheck, ModelSignals
from desktop_app.photo_rows import PhotoDetails, PhotoRows
from desktop_app.qt_compat import emit
from desktop_app.worker import (
    Job,
    LibraryTask,
    ProgressAdapter,
    TaskSignals,
    UndoState,
    first_albums,
    undo_state,
    undoable,
)
from engine import Album, HistoryEntry, Library, display_path
from engine.errors import ModelUnavailableError, PhotoAtlasError
from engine.progress import ProgressReporter
from engine.settings import LibrarySettings

ReclusterMode = Literal["auto", "more", "fewer"]
LATER_CHANGES = "Other changes were made since; undo those first (Edit → History shows them all)."


class LibraryService(QObject):
    """Owns the library; runs its verbs for the window.

    Signals:
        progress(phase, done, total): a long operation advanced (total 0 when unknown).
        busyChanged(busy): a long operation started or ended.
        albumsChanged(): albums or photos changed; views should reload.
        photosChanged(): photos were added, changed or removed (before `albumsChanged`); cached
            thumbnails may be stale.
        operationFinished(lines): a long operation succeeded, with its summary.
        operationFailed(message, details): an error for the user; details (a traceback) only for bugs.
        operationCancelled(message): the user cancelled; finished work is kept.
        searchFinished(query, ids): photo ids matching a search, best first (maybe none).
        modelMissing(message): the CLIP weights are not on this computer (photos are still added).
        modelReady(): the CLIP weights are available (after a check or a download).
        watchReported(lines, suggest_recluster): the folder watcher brought changes into the catalog.
        operationUndoable(action_ids): the operation just finished (a re-cluster, a refinement) recorded these
            actions in the history; `undo_actions` reverts them while they are still the latest.
    """

    progress = Signal(str, int, int)
    busyChanged = Signal(bool)
    albumsChanged = Signal()
    photosChanged = Signal()
    operationFinished = Signal(list)
    operationFailed = Signal(str, str)
    operationCancelled = Signal(str)
    searchFinished = Signal(str, list)
    modelMissing = Signal(str)
    modelReady = Signal()
    watchReported = Signal(list, bool)
    operationUndoable = Signal(list)

    def __init__(self, directory: str | os.PathLike[str] | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._library = Library(directory)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)  # one serial worker owns the long writes
        self._adapter: ProgressAdapter | None = None
        self._signals: TaskSignals | None = None
        self._title = ""
        self._albums: list[Album] | None = None
        self._photo_rows: PhotoRows | None = None
        self._watch = FolderWatch(self)
        self._watch.queued.connect(self._apply_watched_changes)
        self.busyChanged.connect(lambda busy: busy or self._apply_watched_changes())
        self._watch_options: dict[str, Any] = {}
        self._model_signals = ModelSignals()  # no parent: a check may outlive the service
        self._model_signals.ready.connect(self.modelReady)
        self._model_signals.missing.connect(self.modelMissing)
        self._album_of: dict[int, int | None] | None = None

    # -- lifecycle and state ---------------------------------------------------------------------

    @property
    def directory(self) -> Path:
        return self._library.directory

    @property
    def busy(self) -> bool:
        return self._adapter is not None

    @property
    def operation_title(self) -> str:
        """What the running long operation is ("Indexing photos"), or "" when idle."""
        return self._title

    def close(self, timeout_ms: int = 10_000) -> bool:
        """Stop watching, cancel any long operation, wait for the worker, close the library.

        Returns:
            False if the worker did not stop in time.
        """
        self.stop_watching()
        self.cancel()
        stopped = self._pool.waitForDone(timeout_ms)
        self._library.close()
        return stopped

    # -- queries ---------------------------------------------------------------------------------

    def has_photo_folders(self) -> bool:
        return bool(self._library.roots())

    def photo_folders(self) -> list[str]:
        return [display_path(root) for root in self._library.roots()]

    def albums(self) -> list[Album]:
        """Live albums, largest first, then "Other" (id None); cached until something changes."""
        if self._albums is None:
            self._albums = self._library.albums.albums()
        return self._albums

    def album(self, album_id: int | None) -> Album | None:
        return next((a for a in self.albums() if a.id == album_id), None)

    def all_photo_ids(self) -> list[int]:
        """Every photo, by capture time."""
        return self._photos().ids

    def photo_path(self, photo_id: int) -> str:
        return self._photos().path(photo_id)

    def thumbnail_file(self, photo_id: int) -> Path | None:
        """The cached thumbnail of a photo on disk, or None when it has none."""
        hash_ = self._photos().hash_of(photo_id)
        return self._library.thumbnail_file(hash_) if hash_ else None

    def photo_details(self, photo_id: int) -> PhotoDetails | None:
        """File, date, camera, size and album of a photo; None when it is no longer in the catalog."""
        if self._album_of is None:
            self._album_of = {p: a.id for a in self.albums() for p in a.members}
        return self._photos().details(photo_id, self.album(self._album_of.get(photo_id)))

    def folder_photo_ids(self, folder: str) -> list[int]:
        """Photos under one library folder (a root, shown as `photo_folders` gives it), by capture time."""
        return self._photos().in_folder(folder)  # cached until photos change

    def photos_by_year(self) -> dict[str, list[int]]:
        """Photo ids by the year they were taken, newest year first, "Undated" last."""
        return self._photos().by_year()

    def _photos(self) -> PhotoRows:
        if self._photo_rows is None:
            self._photo_rows = PhotoRows(self._library.photos())
        return self._photo_rows

    def _invalidate(self, photos: bool = False) -> None:
        self._albums = None
        self._album_of = None
        if photos:
            self._photo_rows = None
            emit(self.photosChanged)
        emit(self.albumsChanged)

    # -- settings --------------------------------------------------------------------------------

    @property
    def settings(self) -> LibrarySettings:
        return self._library.settings

    @property
    def thumbnail_directory(self) -> Path:
        return self._library.thumbnail_directory

    @staticmethod
    def describe_device(requested: str) -> str:
        """ "In use: cuda", or why the requested device is not available; asks torch, so off the GUI thread."""
        try:
            return f"In use: {Library.device_in_use(requested)}"
        except ModelUnavailableError as exc:
            return f"Not available: {exc}"
        except ImportError:
            return "In use: unknown (PyTorch is not installed)"

    def apply_settings(self, settings: LibrarySettings) -> bool:
        """Save engine settings; long operations started afterwards use them. False while one runs."""
        if self.busy:
            emit(self.operationFailed, f"{self._title} is running; change settings once it is done.", "")
            return False
        self._library.update_settings(settings)
        return True

    # -- quick album actions ---------------------------------------------------------------------

    def rename(self, album_id: int, name: str) -> bool:
        return self._act(lambda: self._library.albums.rename(album_id, name))

    def merge(self, sources: Sequence[int], into: int) -> bool:
        return self._act(lambda: self._library.albums.merge(list(sources), into))

    def move(self, photo_ids: Sequence[int], album_id: int) -> bool:
        return self._act(lambda: self._library.albums.move(list(photo_ids), album_id))

    def remove(self, photo_ids: Sequence[int]) -> bool:
        return self._act(lambda: self._library.albums.remove(list(photo_ids)))

    def split(self, photo_ids: Sequence[int], name: str | None = None) -> int | None:
        """A new album of the given photos; its id, or None on error (reported)."""
        created: list[int] = []
        ok = self._act(lambda: created.append(self._library.albums.split(list(photo_ids), name)))
        return created[0] if ok else None

    def pin(self, album_id: int, pinned: bool) -> bool:
        return self._act(lambda: self._library.albums.pin(album_id, pinned))

    def set_cover(self, album_id: int, photo_id: int) -> bool:
        return self._act(lambda: self._library.albums.set_cover(album_id, photo_id))

    # -- history: undo and redo ------------------------------------------------------------------

    def history(self, limit: int = 100) -> list[HistoryEntry]:
        """The latest actions (the user's, re-clusters, refinements, naming, imports), newest first."""
        return self._library.history(limit)

    def undo_state(self) -> UndoState:
        """The actions Undo and Redo would revert and re-apply now."""
        return undo_state(self._library)

    def undo(self) -> str | None:
        """Undo the latest action, whatever its kind; its description.

        None when there was nothing to undo, or when it cannot be undone: then nothing changed and
        `operationFailed` says why.
        """
        return self._step(self._library.albums.undo)

    def redo(self) -> str | None:
        """Re-apply the action undone last; its description, or None (nothing to redo, or reported)."""
        return self._step(self._library.albums.redo)

    def undo_actions(self, action_ids: Sequence[int]) -> list[str]:
        """Undo the actions one operation recorded, if they are still the latest done ones; their descriptions.

        Reported through `operationFailed` (and nothing changes) when other actions came after them.
        """
        if not action_ids:
            return []
        if not self.actions_are_latest(action_ids):
            emit(self.operationFailed, LATER_CHANGES, "")
            return []
        undone: list[str] = []
        for _ in action_ids:
            description = self._step(self._library.albums.undo, reload=False)
            if description is None:
                break
            undone.append(description)
        self._invalidate()
        return undone

    def actions_are_latest(self, action_ids: Sequence[int]) -> bool:
        """Whether these actions are exactly the latest ones not undone (so undoing them reverts just them)."""
        if not action_ids:
            return False
        done = [e.id for e in self._library.history(max(100, 4 * len(action_ids))) if not e.undone]
        return sorted(done[: len(action_ids)]) == sorted(action_ids)

    def _step(self, step: Callable[[], str | None], reload: bool = True) -> str | None:
        description: list[str | None] = []
        if not self._act(lambda: description.append(step()), reload) or description[0] is None:
            return None
        return description[0]

    def _act(self, action: Callable[[], object], reload: bool = True) -> bool:
        try:
            action()
        except PhotoAtlasError as exc:
            emit(self.operationFailed, str(exc), "")
            return False
        if reload:
            self._invalidate()
        return True

    # -- long operations -------------------------------------------------------------------------

    def index_folders(self, paths: Sequence[str | os.PathLike[str]], embed: bool = True) -> bool:
        """Add folders and index them; without the CLIP model, photos are still cataloged and thumbnailed."""
        folders = [Path(p) for p in paths]

        def job(library: Library, progress: ProgressReporter) -> list[str]:
            if not embed:
                return library.index(folders, embed=False, progress=progress).lines()
            try:
                lines = library.index(folders, embed=True, progress=progress).lines()
            except ModelUnavailableError as exc:
                lines = library.index(folders, embed=False, progress=progress).lines()
                emit(self.modelMissing, str(exc))
                return [*lines, f"Photos were added without albums: {exc}"]
            return lines + first_albums(library, progress)

        return self.start_operation("Adding photos", job, on_result=self._folders_added, photos_changed=True)

    def _folders_added(self, lines: list[str]) -> None:
        emit(self.operationFinished, lines)
        if self.watching:  # watch the new folder too
            self.start_watching(**self._watch_options)

    def recluster(self, mode: ReclusterMode = "auto") -> bool:
        """Re-cluster (`operationFinished` with what changed by album name, then `operationUndoable`)."""
        more, fewer = mode == "more", mode == "fewer"
        job = undoable(lambda library, progress: library.recluster(more=more, fewer=fewer, progress=progress))
        return self.start_operation("Re-clustering", job, on_result=self._undoable_finished)

    def refine(self) -> bool:
        """Refine the albums with DAC, taught by the user's corrections; reported like a re-cluster."""
        job = undoable(lambda library, progress: library.refine(progress=progress))
        return self.start_operation("Refining albums", job, on_result=self._undoable_finished)

    def _undoable_finished(self, result: tuple[list[str], list[int]]) -> None:
        lines, actions = result
        emit(self.operationFinished, lines)
        if actions:
            emit(self.operationUndoable, actions)

    def search(self, query: str, limit: int = 200) -> bool:
        def job(library: Library, progress: ProgressReporter) -> list[int]:
            return [hit.id for hit in library.search(query, limit, progress)]

        return self.start_operation(
            "Searching", job, on_result=lambda ids: emit(self.searchFinished, query, ids), changes=False
        )

    def export_album(self, album_id: int, destination: str | os.PathLike[str]) -> bool:
        def job(library: Library, progress: ProgressReporter) -> list[str]:
            return library.export_album(album_id, Path(destination)).lines()

        return self.start_operation("Exporting", job, changes=False)

    # -- watching the folders --------------------------------------------------------------------

    @property
    def watching(self) -> bool:
        return self._watch.running

    def start_watching(self, **options: Any) -> bool:
        """Watch the photo folders; new, edited, moved and deleted photos are brought in as they come.

        Args:
            options: `engine.LibraryWatcher` options (tests shorten the quiet period).
        """
        if not self.has_photo_folders():
            return False
        self._watch_options = options
        self._watch.start(self._library.watcher(**options))
        return self._watch.running

    def stop_watching(self) -> None:
        self._watch.stop()

    def watch_modes(self) -> dict[object, str]:
        """How each folder is watched now: "native", "polling" or "unavailable"."""
        return self._watch.modes()

    def _apply_watched_changes(self) -> None:
        """Apply the oldest waiting batch on the worker, when it is free (called again when it frees up)."""
        if self.busy:
            return
        batch = self._watch.take()
        if batch is None:
            return

        def job(library: Library, progress: ProgressReporter) -> object:
            try:
                return library.apply_watch_batch(batch, progress)
            except ModelUnavailableError:  # the notice about the model is shown already; photos still come in
                return library.apply_watch_batch(batch, progress, embed=False)

        def reported(report: Any) -> None:
            if report.changed:
                self._invalidate(photos=True)
                emit(self.watchReported, report.lines(), bool(report.suggest_recluster))

        self.start_operation("Bringing in new photos", job, on_result=reported, changes=False)

    # -- the CLIP model --------------------------------------------------------------------------

    def check_model(self) -> None:
        """Find out, off the GUI thread, whether the weights are here: `modelReady` or `modelMissing` follows."""
        check = ModelCheck(self._library.settings.model, self._library.weights_status, self._model_signals)
        QThreadPool.globalInstance().start(check)

    def download_model(self) -> bool:
        """Download (or resume) the model's weights, then embed and group the photos already added."""

        def job(library: Library, progress: ProgressReporter) -> list[str]:
            path = library.download_weights(progress=progress)
            emit(self.modelReady)
            lines = [f"CLIP weights ready: {display_path(path)}"]
            if library.roots():
                lines += library.index(progress=progress).lines() + first_albums(library, progress)
            return lines

        return self.start_operation("Downloading the CLIP model", job, photos_changed=True)

    def use_weights_file(self, path: str | os.PathLike[str]) -> bool:
        """Use a checkpoint file already on this computer, then embed and group the photos already added."""
        if self.busy:
            emit(self.operationFailed, f"{self._title} is running; choose the file once it is done.", "")
            return False
        if not self._act(lambda: self._library.set_model(self._library.settings.model.name, str(path))):
            return False
        self.check_model()
        if not self.has_photo_folders():
            return True

        def job(library: Library, progress: ProgressReporter) -> list[str]:
            return library.index(progress=progress).lines() + first_albums(library, progress)

        return self.start_operation("Adding photos", job, photos_changed=True)

    def cancel(self) -> None:
        """Ask the running long operation to stop; `operationCancelled` follows."""
        if self._adapter is not None:
            self._adapter.cancel()

    def start_operation(
        self,
        title: str,
        job: Job,
        on_result: Callable[[Any], None] | None = None,
        changes: bool = True,
        photos_changed: bool = False,
    ) -> bool:
        """Run `job(library, progress)` on the worker; False (and `operationFailed`) while another runs.

        Args:
            title: what the operation is, for the status bar.
            on_result: called in the GUI thread with the result; by default the result is a list of
                summary lines for `operationFinished`.
            changes: the job may change albums, so views reload afterwards (also after a cancel).
            photos_changed: the job may add or remove photos.
        """
        if self.busy:
            emit(self.operationFailed, f"{self._title} is still running; wait for it or cancel it first.", "")
            return False
        adapter, signals = ProgressAdapter(self), TaskSignals(self)
        adapter.progressed.connect(self.progress)

        def finish() -> None:
            self._adapter = self._signals = None
            self._title = ""
            adapter.deleteLater()
            signals.deleteLater()
            if changes:
                self._invalidate(photos_changed)
            emit(self.busyChanged, False)

        def succeeded(result: object) -> None:
            finish()
            if on_result is not None:
                on_result(result)
            else:
                emit(self.operationFinished, list(result) if isinstance(result, list) else [str(result)])

        def failed(message: str, details: str) -> None:
            finish()
            emit(self.operationFailed, message, details)

        def cancelled(message: str) -> None:
            finish()
            emit(self.operationCancelled, message)

        signals.succeeded.connect(succeeded)
        signals.failed.connect(failed)
        signals.cancelled.connect(cancelled)
        self._adapter, self._signals, self._title = adapter, signals, title
        emit(self.busyChanged, True)
        self._pool.start(LibraryTask(self.directory, job, adapter, signals))
        return True
