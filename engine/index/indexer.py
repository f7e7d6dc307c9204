"""Indexing: list the roots, read and decode new or changed files in parallel, embed them in batches,
and commit each batch to the catalog in one transaction.

Work is committed batch by batch, a photo together with its embedding, so a crash, Ctrl-C or kill at
any moment leaves a consistent catalog and the next run picks up where this one stopped: files already
committed are unchanged (same size and mtime) and are not read again.

A run covers whole roots (`Indexer.run`) or only some changed files and folders under them
(`Indexer.run_changes`, what the watcher uses); both share the planning and the writing, so a moved
file is recognised by its content either way and is never embedded twice.
"""

from __future__ import annotations

import os
import stat
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from engine.catalog import Catalog, FileState
from engine.embed.embedder import Embedder
from engine.errors import Cancelled
from engine.media.decode import DecodedPhoto, DecodeOptions, DecodeResult, SkippedFile, decode_file
from engine.media.scan import SYSTEM_FOLDERS, ListedFile, RootListing, is_image_name, list_root
from engine.media.skip_reasons import REASONS, Skip
from engine.media.thumbnails import ThumbnailCache
from engine.paths import display, to_db
from engine.progress import NullProgress, ProgressReporter
from engine.settings import LibrarySettings

# Commit at least this often when no embedding batch forces it, so progress survives a kill.
COMMIT_EVERY_S = 2.0
COMMIT_EVERY_ITEMS = 256


@dataclass
class IndexSummary:
    """What one indexing run did."""

    added: int = 0
    updated: int = 0
    moved: int = 0
    unchanged: int = 0
    removed: int = 0
    embedded: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    unavailable_roots: list[str] = field(default_factory=list)
    seconds: float = 0.0
    albums: list[str] = field(default_factory=list)  # what happened to new photos' albums

    def lines(self) -> list[str]:
        """The summary as short lines for people."""
        out = [
            f"added {self.added}, updated {self.updated}, moved {self.moved}, unchanged {self.unchanged}, "
            f"removed {self.removed}; embedded {self.embedded} in {self.seconds:.1f} s"
        ]
        if self.skipped:
            out.append(f"skipped {sum(self.skipped.values())}:")
            out.extend(f"  {count} × {REASONS.get(reason, reason)}" for reason, count in self.skipped.most_common())
        out.extend(f"root not available (unmounted or missing), its photos kept: {r}" for r in self.unavailable_roots)
        out.extend(self.albums)
        return out


@dataclass(frozen=True)
class _WorkItem:
    root_id: int
    file: ListedFile
    known: FileState | None


class Indexer:
    """One indexing run over some roots of a library.

    Args:
        load_model: loads the CLIP model and returns it with its catalog id; None catalogs without embedding.
        model_id: the catalog id the model is expected to have (None if nothing was embedded with it yet),
            used to tell which unchanged photos still need an embedding before the model is loaded.
    """

    def __init__(
        self,
        catalog: Catalog,
        thumbnails: ThumbnailCache,
        settings: LibrarySettings,
        load_model: Callable[[], tuple[Embedder, int]] | None = None,
        model_id: int | None = None,
        exclude: Sequence[Path] = (),
        progress: ProgressReporter | None = None,
    ) -> None:
        self.catalog = catalog
        self.thumbnails = thumbnails
        self.settings = settings
        # The model loads only when some photo needs embedding, so a rescan of an unchanged library is quick.
        self._load_model = load_model
        self.embedder: Embedder | None = None
        self.model_id = model_id
        self.exclude = list(exclude)
        self.progress = progress or NullProgress()
        self.summary = IndexSummary()
        self._gone_by_hash: dict[str, list[int]] = {}
        self._gone: dict[int, bytes] = {}
        self._gone_root: dict[int, Path] = {}
        self._scanned_roots: list[int] = []
        self._root_paths: dict[int, bytes] | None = None

    # -- planning --------------------------------------------------------------------------------

    def _plan(self, roots: Sequence[Path], changes: dict[Path, list[Path]] | None = None) -> list[_WorkItem]:
        self.progress.phase("Listing folders")
        complete = self._complete_hashes()
        work: list[_WorkItem] = []
        for root in roots:
            root_id = self.catalog.add_root(to_db(root))
            listing = list_root(root, exclude=self.exclude, progress=self.progress)
            if not listing.available:
                self.summary.unavailable_roots.append(display(root))
                continue
            self._scanned_roots.append(root_id)
            work.extend(self._plan_root(root_id, listing, complete))
        for root, paths in (changes or {}).items():
            root_id = self.catalog.add_root(to_db(root))
            if not os.path.isdir(root):
                # Unmounted: its files look deleted, but they are only out of reach.
                self.summary.unavailable_roots.append(display(root))
                continue
            listing, in_scope = list_changed(root, paths, self.exclude, self.progress)
            work.extend(self._plan_root(root_id, listing, complete, in_scope))
        return work

    def _complete_hashes(self) -> set[str]:
        """Contents needing no work; when embedding with a model never used before, that is none."""
        if self._load_model is not None and self.model_id is None:
            return set()
        return self.catalog.complete_hashes(self.model_id)

    def _plan_root(
        self,
        root_id: int,
        listing: RootListing,
        complete: set[str],
        in_scope: Callable[[bytes], bool] | None = None,
    ) -> list[_WorkItem]:
        """Work for one root; with `in_scope`, the listing covers only the catalog paths it accepts."""
        photos = self.catalog.photo_states(root_id)
        skipped = self.catalog.skipped_states(root_id)
        if in_scope is not None:
            photos = {k: v for k, v in photos.items() if in_scope(k)}
            skipped = {k: v for k, v in skipped.items() if in_scope(k)}
        listed: set[bytes] = set()
        work = []
        for item in listing.files:
            key = to_db(item.path)
            listed.add(key)
            state = photos.get(key)
            same_file = state is not None and (state.size, state.mtime_ns) == (item.size, item.mtime_ns)
            if same_file and state is not None and state.hash in complete:
                self.summary.unchanged += 1
                continue
            old_skip = skipped.get(key)
            if (
                state is None
                and old_skip
                and old_skip.permanent
                and (old_skip.size, old_skip.mtime_ns) == (item.size, item.mtime_ns)
            ):
                self.summary.skipped[old_skip.reason] += 1  # same bad file as before: not read again
                continue
            work.append(_WorkItem(root_id, item, state))
        with self.catalog.transaction():
            problem_paths = set()
            for path, skip in listing.problems:
                problem_paths.add(to_db(path))
                self.catalog.record_skipped(root_id, to_db(path), skip.reason, skip.detail, 0, 0, skip.permanent)
                self.summary.skipped[skip.reason] += 1
            stale = [
                p
                for p in skipped
                if p not in listed and p not in problem_paths and not listing.is_under_unlisted(Path(os.fsdecode(p)))
            ]
            self.catalog.forget_skipped(stale)
        for key, state in photos.items():
            if key not in listed and not listing.is_under_unlisted(Path(os.fsdecode(key))):
                self._gone[state.id] = key
                self._gone_root[state.id] = listing.root
                self._gone_by_hash.setdefault(state.hash or "", []).append(state.id)
        return work

    # -- running ---------------------------------------------------------------------------------

    def run(self, roots: Sequence[Path]) -> IndexSummary:
        """Index `roots`; raises `Cancelled` (after committing finished work) when cancelled."""
        return self._run(roots, None)

    def run_changes(self, roots: Sequence[Path], changed: Iterable[Path], rescan: Sequence[Path] = ()) -> IndexSummary:
        """Index only what changed under `roots`: files or folders created, edited, moved (both ends) or deleted.

        Args:
            roots: the library's roots; a changed path under none of them, hidden, or in the library's own
                folder is ignored.
            changed: paths that changed; each existing folder is listed whole, and the catalog's photos at or
                under a path that no longer exists are deleted (unless its root is unavailable).
            rescan: roots to scan whole (at start, or when an unmounted root is back).

        Raises `Cancelled` (after committing finished work) when cancelled.
        """
        rescan = list(dict.fromkeys(rescan))
        changes = group_by_root(list(changed), [r for r in roots if r not in rescan], self.exclude)
        return self._run(rescan, changes)

    def _run(self, roots: Sequence[Path], changes: dict[Path, list[Path]] | None) -> IndexSummary:
        started = time.monotonic()
        work = self._plan(roots, changes)
        if self._load_model is None:
            self.progress.phase("Indexing photos", len(work))
        try:
            self._process(work)
        finally:
            self.summary.seconds = time.monotonic() - started
        # A root that went away while we worked (a drive unplugged) is unavailable, not emptied.
        lost = {root for root in set(self._gone_root.values()) if not os.path.isdir(root)}
        gone = [pid for pid in self._gone if self._gone_root[pid] not in lost]
        self.summary.unavailable_roots.extend(
            display(r) for r in sorted(lost) if display(r) not in self.summary.unavailable_roots
        )
        with self.catalog.transaction():
            self.summary.removed = self.catalog.delete_photos(gone)
        for root_id in self._scanned_roots:
            self.catalog.mark_root_scanned(root_id)
        self.summary.seconds = time.monotonic() - started
        return self.summary

    def _decode_options(self) -> DecodeOptions:
        embedder = self.embedder
        return DecodeOptions(
            thumbnail_size=self.settings.thumbnail_size,
            model_input_size=embedder.image_size if embedder else 0,
            preprocess=embedder.preprocess if embedder else None,
            max_pixels=int(self.settings.max_megapixels * 1_000_000),
        )

    def _process(self, work: list[_WorkItem]) -> None:
        if not work:
            return
        if self._load_model is not None:
            self.progress.phase(f"Loading the CLIP model ({self.settings.model.name})")
            self.embedder, self.model_id = self._load_model()
            self.progress.phase("Indexing photos", len(work))
        options = self._decode_options()
        complete = frozenset(self._complete_hashes())
        workers = self.settings.decode_workers or min(16, os.cpu_count() or 2)
        batch_size = self.settings.batch_size or (self.embedder.default_batch_size() if self.embedder else 64)
        decode: Callable[[Path], DecodeResult] = lambda path: decode_file(  # noqa: E731
            path, options, self.thumbnails.write, complete
        )
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="photoatlas-decode")
        window: deque[tuple[_WorkItem, Future[DecodeResult]]] = deque()
        to_embed: list[tuple[_WorkItem, DecodedPhoto]] = []
        to_write: list[tuple[_WorkItem, DecodeResult]] = []
        last_commit = time.monotonic()
        queue = iter(work)
        try:
            # Keep two batches' worth of decodes in flight so the model never waits on JPEG decoding.
            for item in queue:
                window.append((item, pool.submit(decode, item.file.path)))
                if len(window) >= 2 * batch_size + workers:
                    break
            while window:
                item, future = window.popleft()
                result = future.result()
                next_item = next(queue, None)
                if next_item is not None:
                    window.append((next_item, pool.submit(decode, next_item.file.path)))
                if isinstance(result, DecodedPhoto) and self.embedder is not None:
                    to_embed.append((item, result))
                else:
                    to_write.append((item, result))
                self.progress.advance(1)
                due = time.monotonic() - last_commit > COMMIT_EVERY_S or len(to_write) >= COMMIT_EVERY_ITEMS
                if len(to_embed) >= batch_size or (due and not to_embed):
                    self._flush(to_embed, to_write)
                    last_commit = time.monotonic()
                if self.progress.is_cancelled():
                    self._flush(to_embed, to_write)
                    raise Cancelled("indexing cancelled; finished photos are saved, run it again to continue")
            self._flush(to_embed, to_write)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def _flush(
        self, to_embed: list[tuple[_WorkItem, DecodedPhoto]], to_write: list[tuple[_WorkItem, DecodeResult]]
    ) -> None:
        vectors = self.embedder.embed_images([d.model_input for _, d in to_embed]) if to_embed and self.embedder else []
        with self.catalog.transaction():
            for item, result in [*to_write, *to_embed]:
                self._write(item, result)
            if to_embed and self.model_id is not None:
                self.catalog.put_embeddings(
                    self.model_id, ((d.hash, v) for (_, d), v in zip(to_embed, vectors, strict=True))
                )
                self.summary.embedded += len(to_embed)
        to_embed.clear()
        to_write.clear()

    def _vanished_with(self, hash_: str) -> list[int]:
        """Photos with this content whose file is no longer where the catalog says, under a root that is
        there: the other end of a move that this run did not list (moved from another folder or root, or a
        watcher batch that saw the new name before the old one went)."""
        if self._root_paths is None:
            self._root_paths = dict(self.catalog.roots())
        return [
            photo_id
            for photo_id, root_id, path in self.catalog.photos_with_hash(hash_)
            if _root_available(self._root_paths[root_id]) and _missing(path)
        ]

    def _write(self, item: _WorkItem, result: DecodeResult) -> None:
        catalog, root_id, key = self.catalog, item.root_id, to_db(item.file.path)
        if isinstance(result, SkippedFile):
            size = result.size or item.file.size
            mtime = result.mtime_ns or item.file.mtime_ns
            catalog.record_skipped(
                root_id, key, result.skip.reason, result.skip.detail, size, mtime, result.skip.permanent
            )
            self.summary.skipped[result.skip.reason] += 1
            return
        meta = result.meta if isinstance(result, DecodedPhoto) else None
        if isinstance(result, DecodedPhoto) and result.thumbnail_relpath and result.thumbnail_size:
            catalog.put_thumbnail(result.hash, result.thumbnail_relpath, *result.thumbnail_size)
        known = item.known
        if known is not None:
            catalog.update_photo(
                known.id,
                root_id=root_id,
                path=key,
                size=result.size,
                mtime_ns=result.mtime_ns,
                hash_=result.hash,
                meta=meta,
            )
            if known.hash == result.hash:
                self.summary.unchanged += 1
            else:
                self.summary.updated += 1
                if known.hash:
                    catalog.content_replaced(known.id, known.hash, result.hash)
            return
        moved_from = self._gone_by_hash.get(result.hash)
        if moved_from or (moved_from := self._vanished_with(result.hash)):
            photo_id = moved_from.pop()
            self._gone.pop(photo_id, None)
            catalog.update_photo(
                photo_id,
                root_id=root_id,
                path=key,
                size=result.size,
                mtime_ns=result.mtime_ns,
                hash_=result.hash,
                meta=meta,
            )
            self.summary.moved += 1
            return
        if meta is None:
            meta = catalog.meta_for_hash(result.hash)
        if meta is None:  # content known but its only photo row is gone: decode it after all
            redone = decode_file(item.file.path, self._decode_options(), self.thumbnails.write)
            if not isinstance(redone, DecodedPhoto):
                self._write(item, redone)
                return
            meta = redone.meta
        catalog.insert_photo(root_id, key, result.size, result.mtime_ns, result.hash, meta)
        self.summary.added += 1


def _root_available(path: bytes) -> bool:
    return os.path.isdir(os.fsdecode(path))


def _missing(path: bytes) -> bool:
    """True only when the file is certainly not there (an unreadable folder proves nothing)."""
    try:
        os.lstat(os.fsdecode(path))
    except (FileNotFoundError, NotADirectoryError):
        return True
    except OSError:
        return False
    return False


def group_by_root(paths: Iterable[Path], roots: Sequence[Path], exclude: Sequence[Path] = ()) -> dict[Path, list[Path]]:
    """The changed paths worth listing, by the innermost root holding them; the rest (outside every root,
    hidden, system folders, the library's own folder) are dropped, as a full listing would skip them."""
    out: dict[Path, list[Path]] = {}
    for path in paths:
        if any(path.is_relative_to(e) for e in exclude):
            continue
        holders = [r for r in roots if path.is_relative_to(r)]
        if not holders:
            continue
        root = max(holders, key=lambda r: len(r.parts))
        parts = path.relative_to(root).parts
        if any(p.startswith(".") or p in SYSTEM_FOLDERS for p in parts):
            continue
        out.setdefault(root, []).append(path)
    return out


def list_changed(
    root: Path, paths: Sequence[Path], exclude: Sequence[Path] = (), progress: ProgressReporter | None = None
) -> tuple[RootListing, Callable[[bytes], bool]]:
    """List only some paths under `root`: existing folders whole, existing image files alone.

    Returns the listing and the test of which catalog paths it covers: a covered path that is not listed
    is gone. A path that cannot be read is listed as unlisted, so what the catalog knows there is kept.
    """
    listing = RootListing(root=root)
    scopes = _outermost(paths)
    for scope in scopes:
        try:
            st = os.stat(scope)
        except (FileNotFoundError, NotADirectoryError):
            continue  # deleted, or moved away: nothing listed, so its photos are gone
        except OSError as exc:
            listing.problems.append((scope, Skip(_reason(exc), exc.strerror or str(exc))))
            listing.unlisted_dirs.append(scope)
            continue
        if stat.S_ISDIR(st.st_mode):
            sub = list_root(scope, exclude=exclude, progress=progress)
            if not sub.available:  # went away between the stat and the listing
                listing.unlisted_dirs.append(scope)
            listing.files.extend(sub.files)
            listing.problems.extend(sub.problems)
            listing.unlisted_dirs.extend(sub.unlisted_dirs)
        elif stat.S_ISREG(st.st_mode) and is_image_name(scope.name):
            listing.files.append(ListedFile(scope, st.st_size, st.st_mtime_ns))
    covered = frozenset(to_db(s) for s in scopes)
    sep = os.fsencode(os.sep)

    def in_scope(key: bytes) -> bool:
        # Walk up the key's folders: a set lookup per level, however many paths the batch holds.
        while key:
            if key in covered:
                return True
            key = key[: max(key.rfind(sep), 0)]
        return False

    return listing, in_scope


def _outermost(paths: Iterable[Path]) -> list[Path]:
    """The paths without those lying under another of them (a folder's listing covers its content)."""
    chosen: set[Path] = set()
    for path in sorted(set(paths), key=lambda p: len(p.parts)):
        if not any(parent in chosen for parent in path.parents):
            chosen.add(path)
    return sorted(chosen)


def _reason(exc: OSError) -> str:
    return "permission-denied" if isinstance(exc, PermissionError) else "read-error"
