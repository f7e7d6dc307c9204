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

import dataclasses
import os
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from engine.catalog import Catalog, Companion, FileState
from engine.embed.embedder import Embedder
from engine.embed.exported import ExportedEmbedder
from engine.errors import Cancelled
from engine.index.changes import group_by_root, list_changed
from engine.index.pipeline import ModelPipeline
from engine.media.decode import DecodedPhoto, DecodeOptions, DecodeResult, SkippedFile, decode_file
from engine.media.scan import (
    ListedCompanion,
    ListedFile,
    RootListing,
    kind_of,
    list_root,
)
from engine.media.skip_reasons import REASONS, Skip
from engine.media.thumbnails import ThumbnailCache
from engine.media.video import VideoRefused, probe_video
from engine.paths import display, runtime_cache_dir, to_db
from engine.progress import NullProgress, ProgressReporter
from engine.settings import LibrarySettings

if TYPE_CHECKING:  # Ray stays unimported unless a compute cluster is asked for
    from engine.distributed.bridge import RemoteIndexing
    from engine.distributed.worker import JobResult

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
    # Where the time went, in seconds: "loading the model", "decoding" (summed over the decoding threads),
    # "model", "catalog writes", and the pipeline's waits ("waiting for decoding", "waiting for the model").
    stages: Counter[str] = field(default_factory=Counter)
    first_batch_s: float | None = None  # from the start of the run to the first embedded batch committed
    runtime: str | None = None  # how the image tower ran (`RuntimeChoice.line`), when the model ran on the CPU
    cluster: list[str] = field(default_factory=list)  # how the compute cluster was used, when one was

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
        out.extend(self.cluster)
        if self.runtime and not self.runtime.endswith("torch-fp32"):
            out.append(self.runtime)
        return out

    def timing_lines(self) -> list[str]:
        """Where the time went, for people: the stages in seconds (decoding summed over its threads)."""
        out = [f"total {self.seconds:.2f} s"]
        if self.first_batch_s is not None:
            out.append(f"first batch embedded and saved after {self.first_batch_s:.2f} s")
        out.extend(f"  {stage}: {seconds:.2f} s" for stage, seconds in self.stages.most_common())
        out.append(self.runtime or "image tower: torch-fp32")
        return out


@dataclass(frozen=True)
class _WorkItem:
    root_id: int
    file: ListedFile  # the file shown, with the item's other files (RAW, motion) as its companions
    known: FileState | None


@dataclass(frozen=True)
class _Decoded:
    """A decoded item: its shown file's result and what became of its other files."""

    result: DecodeResult
    companions: tuple[Companion, ...] = ()
    companion_skips: tuple[tuple[ListedCompanion, Skip], ...] = ()
    motion_duration: float | None = None

    @property
    def frames(self) -> int:
        """How many images the model sees for it (a video's sampled frames, else one)."""
        inputs = self.result.model_input if isinstance(self.result, DecodedPhoto) else None
        return len(inputs) if isinstance(inputs, list) else 1


def _companion_state(file: ListedFile) -> tuple[tuple[bytes, int, int], ...]:
    return tuple(sorted((to_db(c.path), c.size, c.mtime_ns) for c in file.companions))


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
        load_model: Callable[[], tuple[Embedder | ExportedEmbedder, int]] | None = None,
        model_id: int | None = None,
        exclude: Sequence[Path] = (),
        progress: ProgressReporter | None = None,
        remote: RemoteIndexing | None = None,
    ) -> None:
        self.catalog = catalog
        # With a compute cluster, decoding, thumbnails and embedding run there; this thread still plans and
        # is still the only writer of the catalog (`_process_remote`).
        self.remote = remote
        self.thumbnails = thumbnails
        self.settings = settings
        # The model loads only when some photo needs embedding, so a rescan of an unchanged library is quick.
        self._load_model = load_model
        self.embedder: Embedder | ExportedEmbedder | None = None
        self.model_id = model_id
        self.exclude = list(exclude)
        self.progress = progress or NullProgress()
        self.summary = IndexSummary()
        self._gone_by_hash: dict[str, list[int]] = {}
        self._gone: dict[int, bytes] = {}
        self._gone_root: dict[int, Path] = {}
        self._scanned_roots: list[int] = []
        self._root_paths: dict[int, bytes] | None = None
        self._started = time.monotonic()
        self._stages_lock = threading.Lock()

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
        companion_paths: set[bytes] = set()  # an item's other files: not photos, but not gone either
        work = []
        for item in listing.files:
            key = to_db(item.path)
            listed.add(key)
            companion_paths.update(to_db(c.path) for c in item.companions)
            state = photos.get(key)
            same_file = (
                state is not None
                and (state.size, state.mtime_ns) == (item.size, item.mtime_ns)
                and state.companions == _companion_state(item)
            )
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
                if p not in listed
                and p not in companion_paths
                and p not in problem_paths
                and not listing.is_under_unlisted(Path(os.fsdecode(p)))
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
        started = self._started = time.monotonic()
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
        self.read_locations(self._scanned_roots)
        self.summary.seconds = time.monotonic() - started
        return self.summary

    def read_locations(self, root_ids: Sequence[int]) -> int:
        """Read GPS position and time zone of photos catalogued before PhotoAtlas read them (an upgraded
        library), from their metadata alone: no pixel decoded, nothing embedded again. Returns how many."""
        from engine.media.decode import read_location

        unread = self.catalog.locations_unread(root_ids)
        if not unread:
            return 0
        self.progress.phase("Reading places from photos", len(unread))
        done: list[tuple[int, float | None, float | None, int | None]] = []
        for photo_id, path, kind, _taken in unread:
            file = Path(os.fsdecode(path))
            if kind == "video":
                try:
                    probe = probe_video(file, 0, 0, 0, int(self.settings.max_megapixels * 1_000_000))
                    lat, lon = probe.location if probe.location else (None, None)
                    found = (lat, lon, probe.utc_offset)
                except (VideoRefused, OSError):
                    found = (None, None, None)
            else:
                found = read_location(file)
            done.append((photo_id, *found))
            self.progress.advance(1)
            if len(done) >= COMMIT_EVERY_ITEMS or self.progress.is_cancelled():
                with self.catalog.transaction():
                    self.catalog.set_locations(done)
                done = []
                if self.progress.is_cancelled():
                    raise Cancelled("reading places cancelled; the photos read so far keep theirs")
        with self.catalog.transaction():
            self.catalog.set_locations(done)
        return len(unread)

    def _decode_options(self) -> DecodeOptions:
        embedder = self.embedder
        return DecodeOptions(
            thumbnail_size=self.settings.thumbnail_size,
            model_input_size=embedder.image_size if embedder else 0,
            preprocess=embedder.decode_transform() if embedder else None,
            max_pixels=int(self.settings.max_megapixels * 1_000_000),
        )

    def _decode_item(self, item: _WorkItem, options: DecodeOptions, complete: frozenset[str]) -> _Decoded:
        """Decode an item's shown file and check its other files (runs in a decode worker)."""
        started = time.perf_counter()
        try:
            return self._decode_files(item, options, complete)
        finally:
            with self._stages_lock:
                self.summary.stages["decoding"] += time.perf_counter() - started

    def _decode_files(self, item: _WorkItem, options: DecodeOptions, complete: frozenset[str]) -> _Decoded:
        result = decode_file(item.file.path, options, self.thumbnails.write, complete)
        return self._with_companions(item, result, options)

    def _with_companions(self, item: _WorkItem, result: DecodeResult, options: DecodeOptions) -> _Decoded:
        """The decoded shown file with its other files checked (a RAW's stat, a Live Photo's clip probed)."""
        if isinstance(result, SkippedFile) or not item.file.companions:
            return _Decoded(result)
        kept: list[Companion] = []
        skips: list[tuple[ListedCompanion, Skip]] = []
        duration = None
        for companion in item.file.companions:
            try:
                st = os.stat(companion.path)
            except OSError:
                skips.append((companion, Skip("vanished", "the other file of this item is gone")))
                continue
            if companion.role == "motion":
                # A Live Photo's motion must be a playable clip; a bad one leaves the still a plain photo.
                try:
                    duration = probe_video(companion.path, 0, 0, 0, options.max_pixels).duration
                except VideoRefused as refused:
                    skips.append((companion, refused.skip))
                    continue
            kept.append(Companion(to_db(companion.path), companion.role, st.st_size, st.st_mtime_ns))
        return _Decoded(result, tuple(kept), tuple(skips), duration)

    def _process(self, work: list[_WorkItem]) -> None:
        if not work:
            return
        if self._load_model is not None:
            self.progress.phase(f"Loading the CLIP model ({self.settings.model.name})")
            loading = time.perf_counter()
            self.embedder, self.model_id = self._load_model()
            self.summary.stages["loading the model"] += time.perf_counter() - loading
            if self.remote is not None and self.embedder is not None:
                return self._process_remote(work)
            self.progress.phase("Indexing photos", len(work))
        threads = self.settings.index_threads()
        if self.embedder is not None:
            self._choose_runtime(len(work), threads)
        options = self._decode_options()
        complete = frozenset(self._complete_hashes())
        workers = self.settings.decode_workers or threads
        batch_size = self.settings.batch_size or (self.embedder.default_batch_size() if self.embedder else 64)
        decode: Callable[[_WorkItem], _Decoded] = lambda item: self._decode_item(item, options, complete)  # noqa: E731
        pipeline: ModelPipeline[tuple[_WorkItem, _Decoded]] = ModelPipeline(
            lambda batch: self._embed([d.result for _, d in batch], batch_size),
            self._commit,
            self.summary.stages,
            threaded=self.embedder is not None,
        )
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="photoatlas-decode")
        window: deque[tuple[_WorkItem, Future[_Decoded]]] = deque()
        to_embed: list[tuple[_WorkItem, _Decoded]] = []
        to_write: list[tuple[_WorkItem, _Decoded]] = []
        frames = 0  # images waiting for the model: a video counts its sampled frames
        last_commit = time.monotonic()
        queue = iter(work)
        try:
            # Keep two batches' worth of decodes in flight so the model never waits on JPEG decoding.
            for item in queue:
                window.append((item, pool.submit(decode, item)))
                if len(window) >= 2 * batch_size + workers:
                    break
            while window:
                item, future = window.popleft()
                waited = time.perf_counter()
                decoded = future.result()
                self.summary.stages["waiting for decoding"] += time.perf_counter() - waited
                next_item = next(queue, None)
                if next_item is not None:
                    window.append((next_item, pool.submit(decode, next_item)))
                if isinstance(decoded.result, DecodedPhoto) and self.embedder is not None:
                    to_embed.append((item, decoded))
                    frames += decoded.frames
                else:
                    to_write.append((item, decoded))
                self.progress.advance(1)
                pipeline.commit_finished()
                due = time.monotonic() - last_commit > COMMIT_EVERY_S or len(to_write) >= COMMIT_EVERY_ITEMS
                if frames >= batch_size or (due and not to_embed):
                    frames = 0
                    pipeline.submit(to_embed, to_write)
                    to_embed, to_write = [], []
                    last_commit = time.monotonic()
                if self.progress.is_cancelled():
                    pipeline.submit(to_embed, to_write)
                    pipeline.finish()
                    raise Cancelled("indexing cancelled; finished photos are saved, run it again to continue")
            pipeline.submit(to_embed, to_write)
            pipeline.finish()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            pipeline.close()
        if self.embedder is not None and self.embedder.runtime_choice is not None:
            self.summary.runtime = self.embedder.runtime_choice.line()

    def _process_remote(self, work: list[_WorkItem]) -> None:
        """Decode, thumbnail and embed `work` on the compute cluster; commit each chunk as it comes back."""
        from engine.distributed.dispatch import FileToProcess
        from engine.distributed.worker import WorkerOptions

        assert self.remote is not None
        self.progress.phase("Starting the compute cluster's workers")
        started = time.perf_counter()
        options = WorkerOptions(
            spec=self.settings.model.resolved(),
            thumbnail_size=self.settings.thumbnail_size,
            max_pixels=int(self.settings.max_megapixels * 1_000_000),
            batch_size=self.settings.batch_size,
            offline=self.settings.offline,
        )
        running = started
        try:
            workers = self.remote.open(options, frozenset(self._complete_hashes()))
            self.summary.stages["starting the cluster"] += time.perf_counter() - started
            self.progress.phase(f"Indexing photos on the compute cluster ({workers} workers)", len(work))
            files = [FileToProcess(i, w.file.path, w.file.size, w.file.mtime_ns) for i, w in enumerate(work)]
            decode = self._decode_options()
            running = time.perf_counter()
            for results in self.remote.run(files, self.progress.is_cancelled):
                to_embed, to_write, vectors = [], [], []
                for job in results:
                    item = work[job.key]
                    decoded = self._with_companions(item, self._from_worker(item, job), decode)
                    if job.vector is not None and isinstance(decoded.result, DecodedPhoto):
                        to_embed.append((item, decoded))
                        vectors.append(job.vector)
                    else:
                        to_write.append((item, decoded))
                self._commit(to_embed, to_write, vectors)
                self.progress.advance(len(results))
            self.summary.stages["compute cluster"] += time.perf_counter() - running
        finally:
            self.summary.cluster = self.remote.stats.lines(time.perf_counter() - running)
            self.remote.close()

    def _from_worker(self, item: _WorkItem, job: JobResult) -> DecodeResult:
        """A worker's result as this computer sees it: its path, and its thumbnail stored in the cache."""
        result = job.result
        assert result is not None
        changes: dict[str, object] = {"path": item.file.path}
        # A mount on the worker may round the time differently: keep the time listed here for the same file,
        # so the next run recognises it as unchanged.
        if not isinstance(result, SkippedFile) and result.size == item.file.size:
            changes["mtime_ns"] = item.file.mtime_ns
        if isinstance(result, DecodedPhoto) and job.thumbnail is not None:
            changes["thumbnail_relpath"] = self.thumbnails.write(result.hash, job.thumbnail)
        return dataclasses.replace(result, **changes)

    def _choose_runtime(self, images: int, threads: int) -> None:
        """Let the model run on the fastest CPU runtime; it is built (once per model) only for a long run."""
        assert self.embedder is not None
        self.embedder.prepare_image_runtime(self.settings.image_runtime, runtime_cache_dir(), threads, images)

    def _commit(
        self,
        to_embed: list[tuple[_WorkItem, _Decoded]],
        to_write: list[tuple[_WorkItem, _Decoded]],
        vectors: Sequence[np.ndarray],
    ) -> None:
        """Write decoded items, and the embedded ones with their vectors, in one transaction."""
        started = time.perf_counter()
        with self.catalog.transaction():
            for item, decoded in [*to_write, *to_embed]:
                self._write_item(item, decoded)
            if to_embed and self.model_id is not None:
                self.catalog.put_embeddings(
                    self.model_id, ((d.result.hash, v) for (_, d), v in zip(to_embed, vectors, strict=True))
                )
                self.summary.embedded += len(to_embed)
        self.summary.stages["catalog writes"] += time.perf_counter() - started
        if to_embed and self.summary.first_batch_s is None:
            self.summary.first_batch_s = time.monotonic() - self._started

    def _embed(self, results: Sequence[DecodeResult], batch_size: int) -> list[np.ndarray]:
        """One unit vector per item: a photo's embedding, or the re-normalised mean of a video's frames'."""
        assert self.embedder is not None
        started = time.perf_counter()
        try:
            return self._embed_batches(results, batch_size)
        finally:
            with self._stages_lock:
                self.summary.stages["model"] += time.perf_counter() - started

    def _embed_batches(self, results: Sequence[DecodeResult], batch_size: int) -> list[np.ndarray]:
        assert self.embedder is not None
        inputs: list[object] = []
        spans: list[tuple[int, int]] = []
        for result in results:
            model_input = result.model_input if isinstance(result, DecodedPhoto) else None
            frames = model_input if isinstance(model_input, list) else [model_input]
            spans.append((len(inputs), len(inputs) + len(frames)))
            inputs.extend(frames)
        step = max(1, batch_size)
        embedded = np.concatenate(
            [self.embedder.embed_images(inputs[i : i + step]) for i in range(0, len(inputs), step)]
        )
        vectors = []
        for start, end in spans:
            mean = embedded[start:end].mean(axis=0)
            vectors.append((mean / max(float(np.linalg.norm(mean)), 1e-12)).astype(np.float32))
        return vectors

    def _write_item(self, item: _WorkItem, decoded: _Decoded) -> None:
        for companion, skip in decoded.companion_skips:
            self.catalog.record_skipped(
                item.root_id,
                to_db(companion.path),
                skip.reason,
                skip.detail,
                companion.size,
                companion.mtime_ns,
                skip.permanent,
            )
            self.summary.skipped[skip.reason] += 1
        photo_id = self._write(item, decoded.result, decoded)
        if photo_id is not None:
            self.catalog.set_companions(photo_id, decoded.companions)

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

    def _write(self, item: _WorkItem, result: DecodeResult, decoded: _Decoded | None = None) -> int | None:
        """Catalog one decoded file; returns the id of its photo row (None when it was skipped)."""
        catalog, root_id, key = self.catalog, item.root_id, to_db(item.file.path)
        if isinstance(result, SkippedFile):
            size = result.size or item.file.size
            mtime = result.mtime_ns or item.file.mtime_ns
            catalog.record_skipped(
                root_id, key, result.skip.reason, result.skip.detail, size, mtime, result.skip.permanent
            )
            self.summary.skipped[result.skip.reason] += 1
            return None
        companions = decoded.companions if decoded is not None else ()
        kind = kind_of(item.file.path, (c.role for c in companions))
        meta = result.meta if isinstance(result, DecodedPhoto) else None
        if meta is not None and decoded is not None and decoded.motion_duration is not None:
            meta = dataclasses.replace(meta, duration=decoded.motion_duration)
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
                kind=kind,
            )
            if known.hash == result.hash:
                self.summary.unchanged += 1
            else:
                self.summary.updated += 1
                if known.hash:
                    catalog.content_replaced(known.id, known.hash, result.hash)
            return known.id
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
                kind=kind,
            )
            self.summary.moved += 1
            return photo_id
        if meta is None:
            meta = catalog.meta_for_hash(result.hash)
        if meta is None:  # content known but its only photo row is gone: decode it after all
            redone = decode_file(item.file.path, self._decode_options(), self.thumbnails.write)
            if not isinstance(redone, DecodedPhoto):
                return self._write(item, redone, decoded)
            meta = redone.meta
        photo_id = catalog.insert_photo(root_id, key, result.size, result.mtime_ns, result.hash, meta, kind)
        self.summary.added += 1
        return photo_id


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
