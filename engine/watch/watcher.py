"""Watching the library's roots: file-system events become debounced batches of changed paths.

The watcher only collects paths; it never touches the catalog. Applying a batch (`engine.watch.apply`) is a
separate step that the caller runs on its own single catalog writer (the CLI's loop, the window's serial
worker), so watching never races a user action for the database.

- Events arrive on watchdog's threads and are reduced to paths; a batch closes after a quiet period, so a
  burst of files (a folder pasted at once) is one batch, not one per file. While files keep arriving (a
  camera import copying one photo after another), the files that have settled are delivered every few
  seconds (`flush_seconds`), so the first photos reach their albums while the import goes on.
- A file goes into a batch only once it has stopped growing: size and mtime unchanged across two looks at
  least `settle_seconds` apart.
- Roots on network file systems, and roots where native events cannot be set up, are polled (and logged).
- A root that disappears (an unmounted drive) stops being watched without anything being deleted; when it
  is back it is watched again and rescanned whole.
- `start` first queues a rescan of every root: what changed while the app was closed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver, ObservedWatch
from watchdog.observers.polling import PollingObserver

from engine.index.changes import group_by_root
from engine.media.scan import is_media_name
from engine.paths import display
from engine.watch.fs import Stat, file_state, folder_identity, network_fs_type, quiet_inotify_shutdown

log = logging.getLogger(__name__)

_FILE_EVENTS = frozenset({"created", "deleted", "modified", "moved", "closed"})
_FOLDER_EVENTS = frozenset({"created", "deleted", "moved"})


@dataclass(frozen=True)
class ChangeBatch:
    """Paths that changed together, for `engine.watch.apply.apply_batch`.

    Attributes:
        paths: files or folders created, edited, moved (both ends) or deleted.
        rescan_roots: roots to rescan whole: at start (what changed while closed) or back after being away.
        events: file-system events folded into the batch.
        first_event_at: wall-clock time (time.time()) of its first event.
        closed_at: wall-clock time the batch closed.
        reason: "changes", "startup" or "root-back".
    """

    paths: tuple[Path, ...] = ()
    rescan_roots: tuple[Path, ...] = ()
    events: int = 0
    first_event_at: float = 0.0
    closed_at: float = 0.0
    reason: str = "changes"


class _Collector(FileSystemEventHandler):
    """Runs on watchdog's threads: turns events into paths, nothing else."""

    def __init__(self, watcher: LibraryWatcher) -> None:
        self.watcher = watcher

    def on_any_event(self, event: FileSystemEvent) -> None:
        kinds = _FOLDER_EVENTS if event.is_directory else _FILE_EVENTS
        if event.event_type not in kinds:
            return
        paths = [event.src_path, event.dest_path] if event.event_type == "moved" else [event.src_path]
        self.watcher._note([Path(os.fsdecode(p)) for p in paths if p], event.is_directory)


@dataclass
class _Root:
    path: Path
    mode: str = "unavailable"  # "native", "polling" or "unavailable"
    watch: ObservedWatch | None = None
    observer: BaseObserver | None = None
    identity: tuple[int, int] | None = None
    seen: bool = False  # watched at least once: a later return is a comeback, to rescan


@dataclass
class _Pending:
    paths: dict[Path, tuple[Stat, float]] = field(default_factory=dict)  # path → (stat, when it was taken)
    rescan: set[Path] = field(default_factory=set)
    events: int = 0
    first: float = 0.0  # monotonic
    first_wall: float = 0.0
    last: float = 0.0

    def __bool__(self) -> bool:
        return bool(self.paths or self.rescan)


class LibraryWatcher:
    """Watches library roots recursively and produces `ChangeBatch`es.

    Args:
        roots: the folders to watch (the library's roots).
        exclude: folders whose changes are ignored (the library's own data).
        quiet_seconds: a batch closes once no event came for this long.
        flush_seconds: during a stream of changes that never goes quiet, the files that have settled are
            delivered once the batch's first event is this old (those still growing wait for the next batch).
        max_delay_seconds: the longest a batch waits in any case (the lower of the two applies).
        settle_seconds: time between the two looks that tell a file has stopped growing.
        poll: poll every root instead of using native events.
        poll_seconds: interval of polling.
        root_check_seconds: how often to look whether each root is still (or again) there.
        on_batch: called with each batch on the watcher's thread; without it batches queue for `next_batch`.
        reconcile: queue a rescan of every root at start (changes made while nothing watched).
    """

    def __init__(
        self,
        roots: Sequence[Path],
        *,
        exclude: Sequence[Path] = (),
        quiet_seconds: float = 2.0,
        flush_seconds: float = 3.0,
        max_delay_seconds: float = 30.0,
        settle_seconds: float = 1.0,
        poll: bool = False,
        poll_seconds: float = 5.0,
        root_check_seconds: float = 2.0,
        on_batch: Callable[[ChangeBatch], None] | None = None,
        reconcile: bool = True,
    ) -> None:
        self.roots = [Path(r) for r in dict.fromkeys(roots)]
        self.exclude = [Path(e) for e in exclude]
        self.quiet_seconds = quiet_seconds
        self.flush_seconds = flush_seconds
        self.max_delay_seconds = max(min(max_delay_seconds, flush_seconds), quiet_seconds)
        self.settle_seconds = settle_seconds
        self.poll = poll
        self.poll_seconds = poll_seconds
        self.root_check_seconds = root_check_seconds
        self.on_batch = on_batch
        self.reconcile = reconcile
        self._batches: queue.Queue[ChangeBatch] = queue.Queue()
        self._lock = threading.Lock()
        self._pending = _Pending()
        self._roots = {r: _Root(r) for r in self.roots}
        self._collector = _Collector(self)
        self._native: BaseObserver | None = None
        self._polling: BaseObserver | None = None
        self._stopping = threading.Event()
        self._check_roots_now = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_look = 0.0

    # -- public ----------------------------------------------------------------------------------

    def start(self) -> None:
        """Start watching (again, after `stop`); with `reconcile`, the first batch is a rescan of every root."""
        if self._thread is not None:
            return
        self._stopping.clear()
        self._roots = {r: _Root(r) for r in self.roots}
        self._pending = _Pending()
        self._native = Observer()
        self._native.daemon = True
        self._native.start()  # started empty, so a root that cannot be watched natively fails alone
        if self.reconcile:
            now = time.time()
            self._deliver(
                ChangeBatch(rescan_roots=tuple(self.roots), first_event_at=now, closed_at=now, reason="startup")
            )
        self._check_roots()
        self._thread = threading.Thread(target=self._run, name="photoatlas-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop watching and join every thread; changes not yet batched are left to the next start's rescan."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        with quiet_inotify_shutdown():
            for observer in (self._native, self._polling):
                if observer is not None:
                    observer.stop()
                    observer.join()
        self._native = self._polling = None

    def __enter__(self) -> LibraryWatcher:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def next_batch(self, timeout: float | None = None) -> ChangeBatch | None:
        """The next batch, waiting up to `timeout` seconds (forever when None); None when none came."""
        try:
            return self._batches.get(timeout=timeout)
        except queue.Empty:
            return None

    def modes(self) -> dict[Path, str]:
        """How each root is watched now: "native", "polling" or "unavailable"."""
        return {r.path: r.mode for r in self._roots.values()}

    # -- events (watchdog's threads) -------------------------------------------------------------

    def _note(self, paths: Iterable[Path], is_folder: bool) -> None:
        wanted = []
        for path in paths:
            if path in self._roots:
                self._check_roots_now.set()  # the root itself went or came: the root check decides
                continue
            if not is_folder and not is_media_name(path.name):
                continue
            if group_by_root([path], self.roots, self.exclude):
                wanted.append(path)
        if not wanted:
            return
        stats = [(p, file_state(p)) for p in wanted]
        now = time.monotonic()
        with self._lock:
            pending = self._event_at(now)
            for path, st in stats:
                pending.paths[path] = (st, now)

    # -- the watcher's thread --------------------------------------------------------------------

    def _run(self) -> None:
        tick = max(0.02, min(0.1, self.quiet_seconds / 4, self.settle_seconds / 4))
        next_root_check = time.monotonic() + self.root_check_seconds
        while not self._stopping.wait(tick):
            try:
                now = time.monotonic()
                if now >= next_root_check or self._check_roots_now.is_set():
                    self._check_roots_now.clear()
                    self._check_roots()
                    next_root_check = now + self.root_check_seconds
                batch = self._close_batch()
                if batch is not None:
                    self._deliver(batch)
            except Exception:  # the watcher must outlive one bad look at the disk
                log.exception("the watcher hit an unexpected error; it goes on")

    def _close_batch(self) -> ChangeBatch | None:
        now = time.monotonic()
        with self._lock:
            pending = self._pending
            if not pending or now < self._next_look:
                return None
            overdue = now - pending.first >= self.max_delay_seconds
            if now - pending.last < self.quiet_seconds and not overdue:
                return None
            looked = dict(pending.paths)
        # Stat outside the lock: a slow disk must not hold up watchdog's threads.
        current = {path: file_state(path) for path in looked}
        with self._lock:
            pending = self._pending
            stable, growing = [], False
            for path, (seen, at) in looked.items():
                if pending.paths.get(path) != (seen, at):
                    growing = True  # a new event came meanwhile
                elif current[path] != seen:
                    pending.paths[path] = (current[path], now)
                    growing = True
                elif now - at < self.settle_seconds:
                    growing = True
                else:
                    stable.append(path)
            if growing and not overdue:
                # Hold the whole burst until everything in it has settled: one batch, not a trickle.
                self._next_look = now + self.settle_seconds
                return None
            for path in stable:
                del pending.paths[path]
            rescan = tuple(sorted(pending.rescan))
            pending.rescan.clear()
            batch = ChangeBatch(
                paths=tuple(sorted(stable)),
                rescan_roots=rescan,
                events=pending.events,
                first_event_at=pending.first_wall,
                closed_at=time.time(),
                reason="root-back" if rescan and not stable else "changes",
            )
            # What is still growing starts a batch of its own.
            pending.events, pending.first, pending.first_wall = 0, now, time.time()
        return batch if batch.paths or batch.rescan_roots else None

    def _deliver(self, batch: ChangeBatch) -> None:
        if self.on_batch is None:
            self._batches.put(batch)
            return
        try:
            self.on_batch(batch)
        except Exception:
            log.exception("the batch callback failed")

    # -- roots -----------------------------------------------------------------------------------

    def _check_roots(self) -> None:
        for root in self._roots.values():
            identity = folder_identity(root.path)
            if root.watch is not None and identity != root.identity:
                self._unwatch(root)
                log.warning(
                    "%s is not available (unmounted or moved); its photos are kept, watching for it to come back",
                    display(root.path),
                )
            if root.watch is None and identity is not None:
                comeback = root.seen
                if comeback:  # events about whatever was at this path before are void: it is rescanned whole
                    with self._lock:
                        self._drop_pending_under(root.path)
                self._watch(root, identity)
                if comeback:
                    log.info("%s is back: rescanning it", display(root.path))
                    self._request_rescan(root.path)
            elif not root.seen and identity is None and root.mode == "unavailable":
                root.seen = True  # unavailable from the start: its return is a comeback too
                log.warning("%s is not available (unmounted?); its photos are kept", display(root.path))

    def _event_at(self, now: float) -> _Pending:
        """The pending batch, counting one more event at `now` (starting the batch's clock if it is new).

        Call with the lock held.
        """
        pending = self._pending
        if not pending:
            pending.first, pending.first_wall = now, time.time()
        pending.last = now
        pending.events += 1
        return pending

    def _request_rescan(self, root: Path) -> None:
        now = time.monotonic()
        with self._lock:
            self._event_at(now).rescan.add(root)

    def _watch(self, root: _Root, identity: tuple[int, int]) -> None:
        fs = None if self.poll else network_fs_type(root.path)
        if not self.poll and fs is None and self._native is not None:
            try:
                root.watch = self._native.schedule(self._collector, str(root.path), recursive=True)
                root.observer, root.mode = self._native, "native"
            except OSError as exc:
                log.warning(
                    "native file events are not available for %s (%s): polling it every %g s instead",
                    display(root.path),
                    exc.strerror or exc,
                    self.poll_seconds,
                )
        elif fs is not None:
            log.info(
                "%s is on a network file system (%s), which raises no events: polling it every %g s",
                display(root.path),
                fs,
                self.poll_seconds,
            )
        if root.watch is None:
            observer = self._polling_observer()
            root.watch = observer.schedule(self._collector, str(root.path), recursive=True)
            root.observer, root.mode = observer, "polling"
        root.identity, root.seen = identity, True

    def _unwatch(self, root: _Root) -> None:
        if root.observer is not None and root.watch is not None:
            with contextlib.suppress(KeyError):  # already gone with its folder
                root.observer.unschedule(root.watch)
        root.watch, root.observer, root.identity, root.mode = None, None, None, "unavailable"
        with self._lock:
            self._drop_pending_under(root.path)

    def _drop_pending_under(self, root: Path) -> None:
        for path in [p for p in self._pending.paths if p.is_relative_to(root)]:
            del self._pending.paths[path]

    def _polling_observer(self) -> BaseObserver:
        if self._polling is None:
            self._polling = PollingObserver(timeout=self.poll_seconds)
            self._polling.daemon = True
            self._polling.start()
        return self._polling
