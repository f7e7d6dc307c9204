"""`LibraryService`: the one object through which the window talks to the engine.

Quick album actions (rename, merge, pin, undo, redo...) run synchronously on the GUI thread's own `Library`.
Long operations (index, re-cluster, refine, search, export) run one at a time on a serial worker that opens
its own `Library`; their progress, outcome and errors arrive as signals.

Albums never wait for names: the first time with a model, a re-cluster shows its albums at once with
provisional names, then a naming job names them from one prompt per term, then a background job refines
the names from the whole prompt ensemble. Both naming jobs step aside for any other operation and resume
after it (the text embeddings they made are kept). A naming that a stop cut short (a killed command, a closed
window) resumes when the window next finds the model; a refinement the user cancelled does not.
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
from desktop_app.wording import NAME_CANCELLED, REFINE_CANCELLED, for_window, line_for_window, lines_for_window
from desktop_app.worker import (
    Job,
    LibraryTask,
    ProgressAdapter,
    TaskSignals,
    UndoState,
    undo_state,
    undoable,
)
from engine import Album, CodingLengthCurve, CountryPlaces, DuplicateSet, HistoryEntry, Library, Stack, display_path
from engine.errors import InvalidInputError, ModelUnavailableError, PhotoAtlasError
from engine.progress import ProgressReporter
from engine.settings import LibrarySettings

ReclusterMode = Literal["auto", "more", "fewer"]
# What naming a job leaves to do: None, "quick" (albums still have provisional names), "full" (names to refine).
NamingDue = Literal["quick", "full"] | None
REFINING_NAMES = "Refining album names"  # the background job's title; stopping it is the user's choice
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
        watchingChanged(): watching started or stopped, or now follows other folders (`watch_modes`).
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
    watchingChanged = Signal()

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
        self._places: list[CountryPlaces] | None = None
        self._stacks: dict[int, Stack] | None = None  # photo id → its stack, for every stacked photo
        self._duplicates: list[DuplicateSet] | None = None
        self._folded: dict[int, int] = {}  # tile shown for a stack (by the last `fold`) → photos behind it
        self._place_ids: dict[tuple[str, str | None], list[int]] = {}
        self._watch = FolderWatch(self)
        self._watch.queued.connect(self._apply_watched_changes)
        self.busyChanged.connect(lambda busy: busy or self._apply_watched_changes())
        self._watch_options: dict[str, Any] = {}
        self._model_signals = ModelSignals()  # no parent: a check may outlive the service
        self._model_signals.ready.connect(self.modelReady)
        self._model_signals.missing.connect(lambda reason: emit(self.modelMissing, for_window(reason)[0]))
        self._album_of: dict[int, int | None] | None = None
        self._yields: Callable[[], object] | None = None  # restarts the running naming job, which steps aside
        self._resume: Callable[[], object] | None = None  # restarts a naming job that stepped aside
        self._closing = False

    # -- lifecycle and state ---------------------------------------------------------------------

    @property
    def directory(self) -> Path:
        return self._library.directory

    @property
    def busy(self) -> bool:
        """A long operation runs (not a naming job: those step aside for any other operation)."""
        return self._adapter is not None and self._yields is None

    @property
    def operation_title(self) -> str:
        """What the running long operation is ("Indexing photos"), or "" when idle."""
        return self._title

    def close(self, timeout_ms: int = 10_000) -> bool:
        """Stop watching, cancel any long operation, wait for the worker, close the library.

        Returns:
            False if the worker did not stop in time.
        """
        self._closing = True  # no naming job starts or resumes from here on
        self._resume = None
        self.stop_watching()
        if self._adapter is not None:  # not `cancel`: closing is no choice about the job (the names resume later)
            self._adapter.cancel()
        stopped = self._pool.waitForDone(timeout_ms)
        # What the worker reports from now on is dropped: the views must not read a closed library.
        self._adapter = self._signals = self._yields = None
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

    def photo_badge(self, photo_id: int) -> str:
        """What a thumbnail's corner says: a video's length, "LIVE" or "RAW", how many photos a stack's tile
        stands for ("5 photos"); "" for a photo alone."""
        badge = self._photos().badge(photo_id)
        count = self.stack_count(photo_id)
        if count > 1:
            return f"{badge} · {count} photos" if badge else f"{count} photos"
        return badge

    def thumbnail_file(self, photo_id: int) -> Path | None:
        """The cached thumbnail of a photo on disk, or None when it has none."""
        hash_ = self._photos().hash_of(photo_id)
        return self._library.thumbnail_file(hash_) if hash_ else None

    def photo_details(self, photo_id: int) -> PhotoDetails | None:
        """File, date, camera, size and album of a photo; None when it is no longer in the catalog."""
        if self._album_of is None:
            self._album_of = {p: a.id for a in self.albums() for p in a.members}
        return self._photos().details(photo_id, self.album(self._album_of.get(photo_id)))

    def subfolders(self, folder: str) -> list[str]:
        """The folders under a library folder that hold photos, sorted by path (for the sidebar's tree)."""
        return self._photos().subfolders(folder)

    def skipped_files(self) -> list[Any]:
        """Files that were not added (`engine.library.SkippedFile`: path, reason in words, when), by path."""
        return self._library.skipped_files()

    def folder_photo_ids(self, folder: str) -> list[int]:
        """Photos under one library folder (a root, shown as `photo_folders` gives it), by capture time."""
        return self._photos().in_folder(folder)  # cached until photos change

    def photos_by_year(self) -> dict[str, list[int]]:
        """Photo ids by the year they were taken, newest year first, "Undated" last."""
        return self._photos().by_year()

    def places(self) -> list[CountryPlaces]:
        """Where the photos were taken (`Library.places`: countries with their cities and counts); cached
        until photos change."""
        if self._places is None:
            self._places = self._library.places()
        return self._places

    def place_photo_ids(self, country: str, city: str | None = None) -> list[int]:
        """Photos taken in a country, or one of its cities ("": away from towns), by capture time; cached."""
        key = (country, city)
        if key not in self._place_ids:
            self._place_ids[key] = self._library.photos_in_place(country, city)
        return self._place_ids[key]

    # -- stacks and duplicates -------------------------------------------------------------------

    def _stack_of(self) -> dict[int, Stack]:
        if self._stacks is None:
            self._stacks = {p: s for s in self._library.stacks.stacks() for p in s.photos}
        return self._stacks

    def fold(self, ids: Sequence[int]) -> list[int]:
        """The tiles for these photos: a stack (burst, copies) shows as one tile, its cover when the cover is
        among them, else its first photo there, in the place of its first photo. `stack_count` then tells
        how many photos each tile stands for."""
        stack_of = self._stack_of()
        present: dict[int, list[int]] = {}
        for photo_id in ids:
            stack = stack_of.get(photo_id)
            if stack is not None:
                present.setdefault(stack.id, []).append(photo_id)
        out: list[int] = []
        folded: dict[int, int] = {}
        for photo_id in ids:
            stack = stack_of.get(photo_id)
            members = present.get(stack.id, []) if stack is not None else []
            if stack is None or len(members) < 2:
                out.append(photo_id)
            elif photo_id == members[0]:
                tile = stack.cover if stack.cover in members else photo_id
                out.append(tile)
                folded[tile] = len(members)
        self._folded = folded
        return out

    def unfold(self) -> None:
        """The grid shows photos one by one (a stack opened, search results): no tile stands for others."""
        self._folded = {}

    def stack_count(self, photo_id: int) -> int:
        """How many photos the tile of this photo stands for (1: it stands alone)."""
        return self._folded.get(photo_id, 1)

    def stack_photos(self, photo_id: int) -> list[int]:
        """The photos of the stack this photo is in, its cover first ([] when it is in none)."""
        stack = self._stack_of().get(photo_id)
        return list(stack.photos) if stack is not None else []

    def duplicates(self) -> list[DuplicateSet]:
        """Files that hold one picture (exact and resized copies), most space first; cached."""
        if self._duplicates is None:
            self._duplicates = self._library.stacks.duplicates()
        return self._duplicates

    def unstack(self, photo_id: int) -> bool:
        """Show the photos of this photo's stack one by one from now on (undoable)."""
        stack = self._stack_of().get(photo_id)
        return stack is not None and self._act(lambda: self._library.stacks.unstack(stack.id))

    def set_stack_cover(self, photo_id: int) -> bool:
        """Show this photo on top of its stack (undoable)."""
        return self._act(lambda: self._library.stacks.set_cover(photo_id))

    def _photos(self) -> PhotoRows:
        if self._photo_rows is None:
            self._photo_rows = PhotoRows(self._library.photos())
        return self._photo_rows

    def _invalidate(self, photos: bool = False) -> None:
        self._albums = None
        self._album_of = None
        self._stacks = None  # an undo may have brought a stack back; indexing recomputes them
        self._duplicates = None
        if photos:
            self._photo_rows = None
            self._places = None
            self._place_ids = {}
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
            return f"Not available: {line_for_window(str(exc))}"
        except ImportError:
            return "In use: unknown (PyTorch is not installed)"

    def apply_settings(self, settings: LibrarySettings) -> bool:
        """Save engine settings; long operations started afterwards use them. False while one runs.

        A new model is tried first (`set_model`, on the worker), then the photos are embedded with it; if it
        does not load, the previous model stays and `operationFailed` says why.
        """
        if self.busy:
            emit(self.operationFailed, f"{self._title} is running; change settings once it is done.", "")
            return False
        model = settings.model
        if model == self._library.settings.model:
            self._library.update_settings(settings)
            return True
        self._library.update_settings(settings.replace(model=self._library.settings.model))
        return self.set_model(model.name, model.pretrained, model.config)

    def remove_folder(self, folder: str) -> bool:
        """Stop following a photo folder (as `photo_folders` gives it): its photos leave the library, the files
        stay where they are. Refused (and reported) while a long operation runs."""
        if self.busy:
            emit(self.operationFailed, f"{self._title} is running; remove the folder once it is done.", "")
            return False
        roots = {display_path(root): root for root in self._library.roots()}
        if folder not in roots:
            return False
        removed: list[int] = []
        if not self._act(lambda: removed.append(self._library.remove_root(roots[folder])), reload=False):
            return False
        self._invalidate(photos=True)
        if self.watching:  # follow the folders that remain
            self.stop_watching()
            self.start_watching(**self._watch_options)
        count = removed[0]
        self._report(
            [
                f"Removed the folder {folder} and its {count} photo{'s' if count != 1 else ''} from the library; "
                "the files on disk were not touched."
            ]
        )
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
            self._fail(str(exc), "")
            return False
        if reload:
            self._invalidate()
        return True

    def _fail(self, message: str, details: str) -> None:
        """Report an error in the window's words (commands to type and errno text go behind "Show details")."""
        emit(self.operationFailed, *for_window(message, details))

    def _report(self, lines: list[str]) -> None:
        emit(self.operationFinished, lines_for_window(list(lines)))

    # -- long operations -------------------------------------------------------------------------

    def index_folders(self, paths: Sequence[str | os.PathLike[str]], embed: bool = True) -> bool:
        """Add folders and index them; without the CLIP model, photos are still cataloged and thumbnailed."""
        folders = [Path(p) for p in paths]
        follow: dict[str, Any] = {}
        job = self._index_job(folders, embed, follow)
        title = "Adding photos" if folders else "Rescanning folders"
        return self.start_operation(
            title, job, on_result=self._then_name(self._folders_added, follow), photos_changed=True
        )

    def _index_job(self, folders: list[Path], embed: bool, follow: dict[str, Any]) -> Job:
        def job(library: Library, progress: ProgressReporter) -> list[str]:
            if not embed:
                return library.index(folders, embed=False, progress=progress).lines()
            try:
                lines = library.index(folders, embed=True, progress=progress).lines()
            except ModelUnavailableError as exc:
                lines = library.index(folders, embed=False, progress=progress).lines()
                emit(self.modelMissing, for_window(str(exc))[0])
                # The notice above the photos says what is missing and how to get it; the summary does not repeat it.
                return [*lines, "Photos were added without albums; they are sorted once the CLIP model is here."]
            return lines + self._first_albums(library, progress, follow)

        return job

    @staticmethod
    def _first_albums(library: Library, progress: ProgressReporter, follow: dict[str, Any]) -> list[str]:
        """`first_albums` with names later: the first albums come at once, the naming jobs name them after."""
        if library.clusters():
            return []
        try:
            summary = library.recluster(progress=progress, names_later=True)
        except InvalidInputError as exc:  # e.g. too few photos to group yet
            return [f"No albums yet: {exc}"]
        follow["due"] = _naming_due(library, summary)
        return summary.lines()

    def rescan(self) -> bool:
        """Index the library's folders again (new, changed and removed photos; embeddings still missing)."""
        if not self.has_photo_folders():
            self._fail("no photo folders yet: name one, e.g. photoatlas index ~/Pictures", "")
            return False
        return self.index_folders([])

    def retry_skipped(self, paths: Sequence[str | os.PathLike[str]]) -> bool:
        """Read skipped files again (after the user fixed them); those still bad stay in the list."""
        files = [Path(p) for p in paths]

        def job(library: Library, progress: ProgressReporter) -> list[str]:
            try:
                return library.retry_skipped(files, progress=progress).lines()
            except ModelUnavailableError:  # the notice about the model is shown already; photos still come in
                return library.retry_skipped(files, embed=False, progress=progress).lines()

        return self.start_operation("Trying skipped files again", job, photos_changed=True)

    def _folders_added(self, lines: list[str]) -> None:
        self._report(lines)
        if self.watching:  # watch the new folder too
            self.start_watching(**self._watch_options)

    def coding_length_curve(self) -> CodingLengthCurve | None:
        """The coding-length curve of the current albums, with the k Fewer / More would pick (catalog only)."""
        return self._library.coding_length_curve()

    def recluster(self, mode: ReclusterMode = "auto") -> bool:
        """Re-cluster (`operationFinished` with what changed by album name, then `operationUndoable`)."""
        more, fewer = mode == "more", mode == "fewer"
        follow: dict[str, Any] = {}

        def run(library: Library, progress: ProgressReporter) -> Any:
            summary = library.recluster(more=more, fewer=fewer, progress=progress, names_later=True)
            follow["due"] = _naming_due(library, summary)
            return summary

        def finished(result: tuple[list[str], list[int]]) -> None:
            self._undoable_finished(result)
            follow["actions"] = result[1]

        return self.start_operation("Re-clustering", undoable(run), on_result=self._then_name(finished, follow))

    def refine(self) -> bool:
        """Refine the albums with DAC, taught by the user's corrections; reported like a re-cluster."""
        job = undoable(lambda library, progress: library.refine(progress=progress))
        return self.start_operation("Refining albums", job, on_result=self._undoable_finished)

    def _undoable_finished(self, result: tuple[list[str], list[int]]) -> None:
        lines, actions = result
        self._report(lines)
        if actions:
            emit(self.operationUndoable, actions)

    # -- naming after the albums -----------------------------------------------------------------

    def _then_name(self, handler: Callable[[Any], None], follow: dict[str, Any]) -> Callable[[Any], None]:
        """`handler`, then the naming the job left to do (`follow["due"]`), if any."""

        def handle(result: Any) -> None:
            handler(result)
            self._name_albums(follow.get("due"), list(follow.get("actions", [])))

        return handle

    def _name_albums(self, due: NamingDue, actions: list[int], chosen: bool = False) -> bool:
        """Start the naming left to do: "quick" names the albums from one prompt per term ("Naming albums"),
        then the names are refined from the whole prompt ensemble ("Refining album names", in the background).

        Each job steps aside for any other operation and resumes after it. Its Undo (`operationUndoable`)
        covers the re-cluster's actions (`actions`) and its own, so one Undo puts the albums back; a naming the
        user chose (`chosen`: Album → Refine album names) offers an Undo of its own.
        """
        if due is None or self._closing:
            return False
        quick = due == "quick"
        follow: dict[str, Any] = {}

        def run(library: Library, progress: ProgressReporter) -> Any:
            summary = library.name(progress, quick=quick)
            follow["renamed"] = bool(summary.renamed)
            follow["due"] = "full" if quick and not library.vocabulary_embedded() else None
            return summary

        def job(library: Library, progress: ProgressReporter) -> tuple[list[str], list[int]]:
            try:
                return undoable(run)(library, progress)
            except ModelUnavailableError:
                if quick or chosen:  # the user asked for these names: say why they did not come
                    raise
                return [], []  # the notice about the model is shown already; the names stay as they are

        def named(result: tuple[list[str], list[int]]) -> None:
            lines, recorded = result
            if quick or follow.get("renamed"):  # a refinement that changed no name says nothing
                self._report(lines)
                # A re-cluster's Undo now reverts the names too; names the user asked for offer their own;
                # the first albums' names offer none (there is nothing of the user's to go back to).
                if actions or chosen:
                    emit(self.operationUndoable, actions + recorded)
            self._name_albums(follow.get("due"), actions + recorded if actions else [])

        self._resume = None  # a naming job that stepped aside is superseded by this one
        title = "Naming albums" if quick else REFINING_NAMES
        restart = lambda: self._name_albums(due, actions, chosen)  # noqa: E731
        note = NAME_CANCELLED if quick else REFINE_CANCELLED
        return self.start_operation(title, job, on_result=named, yields=restart, cancelled_message=note)

    def naming_offered(self) -> NamingDue:
        """What the Album menu's naming item does now, with nothing running: "quick" names albums whose first
        naming was stopped (Album → Name albums), "full" refines names that come from one prompt per term
        (Album → Refine album names, `Library.names_refinable`); None when neither applies. Reads the catalog
        only (its keys, no vectors)."""
        if self._adapter is not None or self._closing:
            return None
        if self._library.names_pending():
            return "quick"
        return "full" if self._library.names_refinable() else None

    def refine_names(self) -> bool:
        """Name or refine the albums now, as the user asked (`naming_offered`: after they stopped it, or before
        the window got to it). Returns whether it started."""
        due = self.naming_offered()
        return self._name_albums(due, [], chosen=True) if due is not None else False

    def name_pending_albums(self) -> bool:
        """Name the albums whose first naming was stopped (a closed window, a killed command: the engine's
        `names_pending`), as after a re-cluster, or refine the names whose refinement a stop cut short
        (`names_refinement_due`); once the worker is free when another operation runs.

        Returns whether naming started or was queued."""
        if self._closing:
            return False
        due: NamingDue = (
            "quick" if self._library.names_pending() else "full" if self._library.names_refinement_due() else None
        )
        if due is None:
            return False
        if self._adapter is not None:
            if self._resume is None:  # a naming job already stepped aside would name them too
                self._resume = self.name_pending_albums  # asks again: that operation may name them itself
            return True
        return self._name_albums(due, [])

    def _resume_naming(self) -> None:
        """Restart the naming job that stepped aside, once the worker is free (it resumes from its cache)."""
        if self._resume is not None and self._adapter is None and not self._closing:
            resume, self._resume = self._resume, None
            resume()

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
        emit(self.watchingChanged)
        return self._watch.running

    def stop_watching(self) -> None:
        was_running = self._watch.running
        self._watch.stop()
        if was_running:
            emit(self.watchingChanged)

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
                emit(self.watchReported, lines_for_window(report.lines()), bool(report.suggest_recluster))

        self.start_operation("Bringing in new photos", job, on_result=reported, changes=False)

    # -- the CLIP model --------------------------------------------------------------------------

    def check_model(self) -> None:
        """Find out, off the GUI thread, whether the weights are here: `modelReady` or `modelMissing` follows."""
        check = ModelCheck(self._library.settings.model, self._library.weights_status, self._model_signals)
        QThreadPool.globalInstance().start(check)

    def download_model(self) -> bool:
        """Download (or resume) the model's weights, then embed and group the photos already added."""

        follow: dict[str, Any] = {}

        def job(library: Library, progress: ProgressReporter) -> list[str]:
            path = library.download_weights(progress=progress)
            emit(self.modelReady)
            lines = [f"CLIP weights ready: {display_path(path)}"]
            if library.roots():
                lines += library.index(progress=progress).lines() + self._first_albums(library, progress, follow)
            return lines

        return self.start_operation(
            "Downloading the CLIP model", job, on_result=self._then_name(self._report, follow), photos_changed=True
        )

    def use_weights_file(self, path: str | os.PathLike[str], config: str | os.PathLike[str] | None = None) -> bool:
        """Use a checkpoint file already on this computer, then embed and group the photos already added.

        The engine tries the file on one image before saving the choice (on the worker: it loads the model);
        when the file does not fit, the previous choice stays and `operationFailed` says what is wrong.
        """
        return self.set_model(self._library.settings.model.name, str(path), None if config is None else str(config))

    def set_model(self, name: str, pretrained: str, config: str | None = None) -> bool:
        """Choose the CLIP model (tried before it is saved), then embed and group the photos already added."""
        if self.busy:
            emit(self.operationFailed, f"{self._title} is running; choose the model once it is done.", "")
            return False

        follow: dict[str, Any] = {}

        def job(library: Library, progress: ProgressReporter) -> list[str]:
            progress.phase("Trying the model")
            spec = library.set_model(name, pretrained, config)
            lines = [f"Using the CLIP model {spec.name} ({display_path(spec.pretrained)})."]
            if library.roots():
                lines += self._index_job([], True, follow)(library, progress)
            return lines

        def chosen(lines: list[str]) -> None:
            self._reload_settings()
            self.check_model()  # the notice goes (or says what is still missing)
            self._report(lines)

        def refused(message: str, details: str) -> None:
            self._reload_settings()  # the engine kept the previous choice

        return self.start_operation(
            "Trying the model", job, on_result=self._then_name(chosen, follow), photos_changed=True, on_failure=refused
        )

    def _reload_settings(self) -> None:
        """Read the settings the worker's library saved (the GUI thread's library has its own copy)."""
        saved = LibrarySettings.load(self.directory)
        if saved != self._library.settings:
            self._library.update_settings(saved)

    def cancel(self) -> None:
        """Ask the running long operation to stop; `operationCancelled` follows. Stopping the refinement of the
        names is the user's choice: the window does not start it again when it next opens."""
        if self._adapter is not None:
            if self._title == REFINING_NAMES:
                self._library.decline_name_refinement()
            self._adapter.cancel()

    def _step_aside(self) -> None:
        """Cancel the running naming job for another operation; it restarts once the worker is free."""
        assert self._adapter is not None and self._yields is not None
        self._adapter.progressed.disconnect(self.progress)  # its last steps must not show as the new job's
        self._adapter.cancel()
        self._resume = self._yields
        self._adapter = self._signals = self._yields = None
        self._title = ""

    def start_operation(
        self,
        title: str,
        job: Job,
        on_result: Callable[[Any], None] | None = None,
        changes: bool = True,
        photos_changed: bool = False,
        on_failure: Callable[[str, str], None] | None = None,
        yields: Callable[[], object] | None = None,
        cancelled_message: str | None = None,
    ) -> bool:
        """Run `job(library, progress)` on the worker; False (and `operationFailed`) while another runs.

        A naming job (`yields`) does not count as running: another operation makes it step aside (it is
        cancelled, its outcome dropped) and `yields()` restarts it once the worker is free.

        Args:
            title: what the operation is, for the status bar.
            on_result: called in the GUI thread with the result; by default the result is a list of
                summary lines for `operationFinished`.
            changes: the job may change albums, so views reload afterwards (also after a cancel).
            photos_changed: the job may add or remove photos.
            on_failure: called in the GUI thread before `operationFailed` when the job fails.
            yields: makes the job a naming job, restarted by calling it.
            cancelled_message: what `operationCancelled` says when the user cancels, instead of the engine's text.
        """
        if self._adapter is not None:
            if yields is not None:  # a naming job waits for the worker
                self._resume = yields
                return False
            if self._yields is None:
                emit(self.operationFailed, f"{self._title} is still running; wait for it or cancel it first.", "")
                return False
            self._step_aside()
        adapter, signals = ProgressAdapter(self), TaskSignals(self)
        adapter.progressed.connect(self.progress)

        def finish() -> bool:
            adapter.deleteLater()
            signals.deleteLater()
            if self._adapter is not adapter:  # it stepped aside: a newer operation holds the worker
                return False
            self._adapter = self._signals = self._yields = None
            self._title = ""
            if changes:
                self._invalidate(photos_changed)
            emit(self.busyChanged, False)
            return True

        def succeeded(result: object) -> None:
            if not finish():
                return
            if on_result is not None:
                on_result(result)
            else:
                self._report(list(result) if isinstance(result, list) else [str(result)])
            self._resume_naming()

        def failed(message: str, details: str) -> None:
            if not finish():
                return
            if on_failure is not None:
                on_failure(message, details)
            self._fail(message, details)
            self._resume_naming()

        def cancelled(message: str) -> None:
            if not finish():
                return
            emit(self.operationCancelled, cancelled_message or message)
            self._resume_naming()

        signals.succeeded.connect(succeeded)
        signals.failed.connect(failed)
        signals.cancelled.connect(cancelled)
        self._adapter, self._signals, self._title, self._yields = adapter, signals, title, yields
        emit(self.busyChanged, True)
        self._pool.start(LibraryTask(self.directory, job, adapter, signals))
        return True


def _naming_due(library: Library, summary: Any) -> NamingDue:
    """What naming a re-cluster (on the worker) left to do: "quick" when its albums have provisional names,
    "full" when they were named from one prompt per term only, else None."""
    if summary.names_pending:
        return "quick"
    if library.vocabulary_embedded(full=False) and not library.vocabulary_embedded():
        return "full"
    return None
