"""`Library`: the engine's facade. One library = one folder holding its catalog, settings and caches."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from engine.albums.clusters import ClusterInfo
from engine.albums.store import AlbumStore
from engine.catalog import CATALOG_FILE, Catalog, PhotoRow
from engine.catalog.albums import HistoryEntry
from engine.embed.embedder import Embedder, load_and_try, model_key, select_device, shared_embedder
from engine.embed.exported import ExportedEmbedder, exported_tower, load_exported
from engine.errors import CatalogError, InvalidInputError, ModelUnavailableError
from engine.index.indexer import Indexer, IndexSummary
from engine.media.thumbnails import ThumbnailCache
from engine.naming.album_names import NamingSummary
from engine.naming.vocabulary import Vocabulary, VocabularyChoice, builtin_vocabulary, vocabulary_for
from engine.paths import default_library_dir, display, from_db, model_cache_dir, runtime_cache_dir, to_db
from engine.progress import ProgressReporter
from engine.settings import LibrarySettings, ModelSpec
from engine.stacks.store import StackStore

if TYPE_CHECKING:
    from engine.albums.export import ExportSummary
    from engine.albums.new_photos import AssignSummary
    from engine.albums.recluster import Naming, ReclusterSummary
    from engine.albums.refine import RefineSummary
    from engine.embed.weights import WeightsStatus
    from engine.places.summary import CountryPlaces
    from engine.stacks.build import StackSummary
    from engine.watch.apply import WatchReport
    from engine.watch.watcher import ChangeBatch, LibraryWatcher

META_MODEL_KEY = "model_key"
_BACKGROUND_TERMS = 400
META_MODEL_SPEC = "model_spec"
# "1" while the albums of the last re-cluster wait for their first names (`names_pending`): set when that
# re-cluster commits with provisional names, cleared when a naming finishes or a later re-cluster names its
# albums itself. A stop in between (a killed command, a closed window) leaves it set, so the window names them
# when it next opens.
META_NAMES_PENDING = "names_pending"
# "1" once the user stopped the refinement of the album names (from the whole prompt ensemble) in the window:
# the window then does not start it again by itself when it next opens (`names_refinement_due`). A refinement
# that finishes clears it.
META_REFINE_DECLINED = "names_refine_declined"


def _spec_fingerprint(spec: ModelSpec) -> str:
    """The spec with the size and mtime of its files: equal fingerprints mean the stored model key holds."""
    data: dict[str, object] = dataclasses.asdict(spec)
    for field, stat in zip(("pretrained", "config"), spec.files_stat(), strict=True):
        if stat is not None:
            data[field + "_stat"] = list(stat)
    return json.dumps(data, sort_keys=True)


@dataclass(frozen=True)
class SearchResult:
    """One photo found by `Library.search`."""

    id: int
    path: bytes
    score: float


@dataclass(frozen=True)
class CodingLengthCurve:
    """How the number of albums was chosen: the coding length L(k) of each k tried (lower is more compact), the
    current k, and the k "Fewer albums" and "More albums" would re-cluster into (None: none on that side).

    `automatic` says the current k was chosen by the engine, not asked for (Fewer / More, a number): it is
    then the curve's lowest point, or more albums where the photos fall into that many clear groups
    (docs/algorithms.md §4)."""

    k: int
    lengths: dict[int, float]
    fewer: int | None
    more: int | None
    automatic: bool = True
    # How many albums each k makes where that is fewer than k (its small or diffuse clusters go to Other).
    albums: dict[int, int] = dataclasses.field(default_factory=dict)

    def albums_at(self, k: int) -> int:
        """The number of albums k makes."""
        return self.albums.get(k, k)


@dataclass(frozen=True)
class SkippedFile:
    """A file `Library.skipped_files` lists: not cataloged, and why (in words), and when it was last tried."""

    path: Path
    reason: str
    code: str
    seen_at: float


def _embed_query(encoder: Any, prompts: list[str]) -> Any:
    """The query's text embeddings on one thread: two short prompts make matrices too small for a thread pool,
    whose hand-offs cost more than they save (tenfold on a busy machine)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # scikit-learn brings it; without it, the pools as they are
        return encoder.embed_texts(prompts)
    with threadpool_limits(limits=1):  # BLAS and OpenMP (torch's intra-op pool), on this thread only
        return encoder.embed_texts(prompts)


def _background_vocabulary() -> Vocabulary:
    """A fixed spread of built-in terms that search compares a query against, to tell a real match from
    chance. A subset keeps the first search quick; the terms share the naming cache."""
    full = builtin_vocabulary()
    step = max(1, len(full.terms) // _BACKGROUND_TERMS)
    return dataclasses.replace(full, terms=full.terms[::step])


@dataclass(frozen=True)
class LibraryStatus:
    """A summary of a library for `photoatlas status` and the window's status bar."""

    directory: str
    roots: list[str]
    photos: int
    embedded: int
    skipped: dict[str, int]
    model: ModelSpec
    model_key: str | None
    catalog_bytes: int
    thumbnail_bytes: int
    notices: tuple[str, ...] = ()  # things the user should know about this library, as sentences
    names_pending: bool = False  # the last re-cluster's albums still wait for their first names (`names_pending`)
    names_refinable: bool = False  # names from the quick first pass whose refinement was stopped (`names_refinable`)


class Library:
    """A photo library: its catalog, settings, thumbnails and model.

    Args:
        directory: where the library keeps its files; the platform's user data folder by default.
        create: make a new library when there is none at `directory` (the window's first launch,
            `photoatlas index` and `init`); False opens only an existing one, so a mistyped folder is an error.

    Raises:
        CatalogError: there is no library at `directory` (with `create=False`), `directory` is a file, or the
            folder cannot be created.
    """

    def __init__(self, directory: str | os.PathLike[str] | None = None, *, create: bool = True) -> None:
        self.directory = Path(directory or default_library_dir()).expanduser().resolve()
        where = display(self.directory)
        if self.directory.exists() and not self.directory.is_dir():
            raise CatalogError(f"{where} is a file, not a library folder; give --library a folder")
        existed = (self.directory / CATALOG_FILE).is_file()
        if not existed and not create:
            raise CatalogError(f"no library at {where}; create one with photoatlas index PATH")
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # a file where a parent folder should be, no permission, a read-only disk
            raise CatalogError(f"cannot create a library at {where}: {exc.strerror or exc}") from exc
        self.created = not existed
        self.catalog = Catalog(self.directory / CATALOG_FILE)
        self.thumbnails = ThumbnailCache(self.directory / "thumbnails")
        self._settings = LibrarySettings.load(self.directory)
        self._embedder: Embedder | None = None
        # A catalog from 0.1.0 holds its clustering model as a pickle: converted to data once, here, by an
        # unpickler that accepts only PhotoAtlas's own classes (a crafted pickle is dropped, never run).
        from engine.albums.clusters import convert_legacy_estimator

        converted = convert_legacy_estimator(self.catalog)
        self.notices: list[str] = [converted] if converted else []

    def close(self) -> None:
        self.catalog.close()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- what the library holds ------------------------------------------------------------------

    def roots(self) -> list[Path]:
        """The photo folders, in the order they were added."""
        return [from_db(raw) for _, raw in self.catalog.roots()]

    @property
    def thumbnail_directory(self) -> Path:
        """The thumbnail cache's folder (inside the library's)."""
        return self.thumbnails.directory

    def thumbnail_file(self, photo_hash: str) -> Path | None:
        """A photo's cached thumbnail, by its content hash (`PhotoRow.hash`); None when it has none."""
        relpath = self.catalog.thumbnail_path(photo_hash)
        return self.thumbnails.directory / relpath if relpath else None

    def skipped(self) -> list[tuple[bytes, str, str]]:
        """Files that were not cataloged, by path: (path, reason code, detail)."""
        return self.catalog.skipped()

    def skipped_files(self) -> list[SkippedFile]:
        """Files that were not cataloged, by path, with the reason in words and when they were last tried."""
        from engine.media.skip_reasons import Skip

        return [
            SkippedFile(from_db(raw), Skip(code, detail).describe(), code, seen_at)
            for raw, code, detail, seen_at in self.catalog.skipped_seen()
        ]

    def retry_skipped(
        self, paths: Iterable[Path], *, embed: bool = True, progress: ProgressReporter | None = None
    ) -> IndexSummary:
        """Read skipped files again now, even those that have not changed; still-bad ones are skipped again."""
        paths = [Path(p) for p in paths]
        with self.catalog.transaction():
            self.catalog.forget_skipped(to_db(p) for p in paths)
        return self.index_changes(paths, embed=embed, progress=progress)

    def remove_root(self, path: str | os.PathLike[str]) -> int:
        """Stop following a photo folder: its photos leave the catalog; the files on disk are not touched.

        Album placements are kept by content, so the photos return to their albums if the folder is added again.

        Returns:
            How many photos left the catalog.
        """
        target = Path(path).expanduser()
        for root_id, raw in self.catalog.roots():
            if from_db(raw) in (target, target.resolve()):
                return self.catalog.remove_root(root_id)
        raise InvalidInputError(f"{display(target)} is not one of this library's folders")

    def history(self, limit: int = 20) -> list[HistoryEntry]:
        """The latest actions (album edits, re-clusters, naming, new photos), newest first."""
        return self.albums.history(limit)

    # -- settings and model ----------------------------------------------------------------------

    @property
    def settings(self) -> LibrarySettings:
        return self._settings

    def update_settings(self, settings: LibrarySettings, *, save: bool = True) -> None:
        """Use new settings, and save them; a different model or device is loaded on next use.

        Args:
            save: False uses them for this session only, e.g. until the command that asked for them succeeds
                (then `save_settings`).
        """
        if settings.model != self._settings.model or not self._runs_on(settings.device):
            self._embedder = None
        self._settings = settings
        if save:
            self.save_settings()

    def _runs_on(self, device: str) -> bool:
        """Whether the loaded model (if any) already runs where `device` asks, e.g. "cpu" after "auto" chose it:
        `index --model FILE --device cpu` then loads the model once, not once to try it and again to index."""
        if self._embedder is None or device == self._settings.device:
            return True
        try:
            return select_device(device) == self._embedder.device
        except ModelUnavailableError:
            return False

    def save_settings(self) -> None:
        """Save the settings in use (after `update_settings(..., save=False)`)."""
        self._settings.save(self.directory)

    def set_model(self, name: str | None = None, pretrained: str | None = None, config: str | None = None) -> ModelSpec:
        """Choose the CLIP model for this library; later commands reuse it without repeating options.

        A weights file (with its config) is loaded and tried on one small generated image and one text
        first; a pretrained tag is looked up (it is downloaded on first use). When the check fails the
        library keeps its previous model.

        Args:
            name: open_clip architecture name; defaults to the config file's name, else the current one.
            pretrained: pretrained tag or checkpoint file; may be left out only when `name` is unchanged.
            config: JSON config registering a custom architecture; copied into the library, so the
                library keeps working when the original file moves.

        Raises:
            ModelUnavailableError: the file does not load as this model or fails the trial; in words.
            InvalidInputError: a file named is missing, or the weights of a new model are not given.
        """
        current = self._settings.model
        if config is not None and not Path(config).is_file():
            raise InvalidInputError(f"the model config file {config} does not exist")
        name = name or (Path(config).stem if config else current.name)
        same_model = name == current.name
        if pretrained is None and not same_model:
            raise InvalidInputError(f"choose the weights of {name} with --pretrained TAG or --pretrained FILE")
        if pretrained is not None and Path(pretrained).expanduser().is_file():
            pretrained = str(Path(pretrained).expanduser().resolve())  # "notes.pt" in the current folder is a file
        spec = ModelSpec(
            name=name,
            pretrained=pretrained or current.pretrained,
            config=config if config is not None else (current.config if same_model else None),
        ).resolved()
        # Checked before anything is copied or saved: a failure leaves the previous choice as it was. Weights
        # whose image tower was exported here were loaded then: that load was the check.
        exported = spec.pretrained_is_file and exported_tower(runtime_cache_dir(), model_key(spec)) is not None
        settings = self._settings
        tried = None if exported else load_and_try(spec, settings.device, settings.offline, model_cache_dir())
        if config is not None:
            copy = self.directory / "models" / f"{name}.json"
            copy.parent.mkdir(exist_ok=True)
            if Path(config).resolve() != copy:
                shutil.copyfile(config, copy)
            spec = ModelSpec(spec.name, spec.pretrained, str(copy))
        if spec != current:
            self.update_settings(self._settings.replace(model=spec))
        if tried is not None:  # loaded to check it: the first index or search needs no second load
            tried.spec = spec
            self._embedder = tried
        return spec

    def embedder(self) -> Embedder:
        """The library's CLIP model, loaded on first use (raises `ModelUnavailableError`)."""
        if self._embedder is None:
            # The model this process loaded last is reused (the window opens a `Library` per operation), and
            # the stored key spares hashing a weights file of hundreds of MB when its size and time are unchanged.
            self._embedder = shared_embedder(
                self._settings.model,
                self._settings.device,
                self._settings.offline,
                model_cache_dir(),
                key=self._stored_model_key(),
            )
        return self._embedder

    def _stored_model_key(self) -> str | None:
        """The model key stored when the model's files were last seen as they are now; None otherwise."""
        if self.catalog.get_meta(META_MODEL_SPEC) != _spec_fingerprint(self._settings.model):
            return None
        return self.catalog.get_meta(META_MODEL_KEY)

    def try_model(self) -> None:
        """Check the library's model as `set_model` does: a weights file is loaded and tried on one image.

        Raises:
            ModelUnavailableError: it does not load or fails the trial (e.g. the file was replaced); in words.
        """
        tried = load_and_try(self._settings.model, self._settings.device, self._settings.offline, model_cache_dir())
        if tried is not None:
            self._embedder = tried

    def weights_status(self, spec: ModelSpec | None = None) -> WeightsStatus:
        """Where the weights of the library's model (or of `spec`) stand on this computer, without network.

        Reads no catalog, so any thread may ask; for a downloadable model it imports open_clip (seconds).

        Raises:
            ModelUnavailableError: open_clip does not know the named weights.
        """
        from engine.embed.weights import weights_status

        return weights_status(spec or self._settings.model, model_cache_dir())

    def download_weights(self, spec: ModelSpec | None = None, progress: ProgressReporter | None = None) -> Path:
        """Download (or resume) the weights of the library's model (or of `spec`); the file, once complete.

        Raises:
            ModelUnavailableError: unknown weights, no connection or a corrupt download (bytes are kept).
            Cancelled: `progress` asked to stop.
        """
        from engine.embed.weights import download_weights

        return download_weights(spec or self._settings.model, model_cache_dir(), progress)

    @staticmethod
    def device_in_use(requested: str = "auto") -> str:
        """The torch device the model runs on when `requested` ("auto", "cpu", "cuda", "mps") is asked for.

        Imports torch (seconds): ask off the GUI thread.

        Raises:
            ModelUnavailableError: the requested device is not available here.
            ImportError: PyTorch is not installed.
        """
        return select_device(requested)

    def model_id(self) -> int | None:
        """The catalog id of the library's current model, if anything was embedded with it."""
        if self._embedder is not None:
            return self.catalog.find_model_id(self._embedder.key)
        # The key of the spec last indexed with is stored, so that listing photos never re-hashes a
        # checkpoint file of hundreds of MB just to learn which embeddings count.
        fingerprint = _spec_fingerprint(self._settings.model)
        if self.catalog.get_meta(META_MODEL_SPEC) == fingerprint:
            key = self.catalog.get_meta(META_MODEL_KEY)
            return self.catalog.find_model_id(key) if key else None
        # The spec or its files changed (a touched or copied checkpoint): hash once, without loading.
        key = model_key(self._settings.model)
        model_id = self.catalog.find_model_id(key)
        if model_id is not None:
            self.catalog.set_meta(META_MODEL_KEY, key)
            self.catalog.set_meta(META_MODEL_SPEC, fingerprint)
        return model_id

    # -- verbs -----------------------------------------------------------------------------------

    def index(
        self,
        paths: Sequence[Path] = (),
        *,
        embed: bool = True,
        progress: ProgressReporter | None = None,
        cluster: str | None = None,
    ) -> IndexSummary:
        """Scan folders (added as roots) and catalog, thumbnail and embed their photos.

        Args:
            paths: folders to add and scan; with none, every known root is rescanned.
            embed: also compute CLIP embeddings (needs the model); False catalogs and thumbnails only.
            progress: progress and cancellation.
            cluster: a Ray cluster that decodes and embeds ("local", "auto", "host:port", "ray://host:port"),
                "" for this computer only; None uses the library's `compute_cluster` setting.

        Raises:
            ComputeClusterError: the cluster cannot be reached, or went away (finished photos are saved).
        """
        roots = [Path(p).expanduser().resolve() for p in paths]
        for root in roots:
            if root.is_relative_to(self.directory):
                raise InvalidInputError(f"{display(root)} is inside the library's own data folder")
        if not roots:
            roots = self.roots()
            if not roots:
                raise InvalidInputError("no photo folders yet: name one, e.g. photoatlas index ~/Pictures")
        known = set(self.roots())
        for root in roots:
            if not root.exists():
                if root in known:
                    continue  # reported in the summary as unavailable; its photos are kept
                raise InvalidInputError(f"no folder at {display(root)}; check the path")
            if not root.is_dir():
                raise InvalidInputError(f"{display(root)} is not a folder")
        indexer = self._indexer(embed, progress, self._remote_indexing(cluster) if embed else None)
        summary = indexer.run(roots)
        self.update_places(progress)
        stacked = self._restack(progress)
        if embed:
            assigned = self.assign_new_photos()
            if assigned is not None:
                summary.albums = assigned.lines()
        if stacked is not None and stacked.changed:
            summary.albums = [*summary.albums, *stacked.lines()]
        return summary

    def _indexer(self, embed: bool, progress: ProgressReporter | None, remote: Any = None) -> Indexer:
        return Indexer(
            self.catalog,
            self.thumbnails,
            self._settings,
            self._load_model_for_indexing if embed else None,
            self.model_id() if embed else None,
            exclude=[self.directory],
            progress=progress,
            remote=remote,
        )

    def _remote_fit(self) -> Any:
        """The compute cluster re-clustering fits on (`engine.distributed.remote_fit.RemoteFit`), or None."""
        text = self._settings.compute_cluster.strip()
        if not text or text == "off":
            return None
        from engine.distributed.address import ClusterAddress
        from engine.distributed.remote_fit import RemoteFit

        return RemoteFit(ClusterAddress.parse(text), self._settings.index_threads())

    def _remote_indexing(self, cluster: str | None) -> Any:
        """The compute cluster a run uses (`engine.distributed.bridge.RemoteIndexing`), or None for none."""
        text = self._settings.compute_cluster if cluster is None else cluster
        if not text.strip() or text.strip() == "off":
            return None
        from engine.distributed.address import ClusterAddress, PathMap
        from engine.distributed.bridge import RemoteIndexing
        from engine.distributed.dispatch import ClusterDispatch

        address = ClusterAddress.parse(text)
        address.check_reachable()  # a wrong address is told before the folders are listed, work or not
        dispatch = ClusterDispatch(
            address,
            PathMap.parse(self._settings.cluster_path_map),
            workers=self._settings.cluster_workers,
            local_cpus=self._settings.index_threads(),
            chunk=self._settings.batch_size,
        )
        return RemoteIndexing(dispatch)

    def index_changes(
        self,
        changed: Iterable[Path],
        rescan: Sequence[Path] = (),
        *,
        assign: bool = True,
        embed: bool = True,
        progress: ProgressReporter | None = None,
    ) -> IndexSummary:
        """Catalog, thumbnail and embed only what changed under the library's roots (the watcher's verb).

        Args:
            changed: files or folders created, edited, moved (both ends) or deleted; paths outside the roots
                are ignored, and nothing is deleted under a root that is unavailable.
            rescan: roots to scan whole, e.g. at start or when an unmounted drive is back.
            assign: then put new and edited photos into their best album (or "Other"), as `index` does.
            embed: also compute CLIP embeddings (needs the model); False catalogs and thumbnails only.
            progress: progress and cancellation.
        """
        roots = self.roots()
        indexer = self._indexer(embed, progress)
        summary = indexer.run_changes(roots, changed, [Path(r) for r in rescan if Path(r) in roots])
        self.update_places(progress)
        stacked = self._restack(progress)
        if assign and embed:
            assigned = self.assign_new_photos()
            if assigned is not None:
                summary.albums = assigned.lines()
        if stacked is not None and stacked.changed:
            summary.albums = [*summary.albums, *stacked.lines()]
        return summary

    def watcher(self, **options: Any) -> LibraryWatcher:
        """A watcher of every root of the library (not started); see `engine.watch.watcher.LibraryWatcher`."""
        from engine.watch.watcher import LibraryWatcher

        roots = self.roots()
        if not roots:
            raise InvalidInputError("no photo folders yet: name one, e.g. photoatlas index ~/Pictures")
        return LibraryWatcher(roots, exclude=[self.directory], **options)

    def apply_watch_batch(
        self, batch: ChangeBatch, progress: ProgressReporter | None = None, *, embed: bool = True
    ) -> WatchReport:
        """Bring a watcher's batch into the catalog, then put new and edited photos into albums.

        Run it on the thread that owns this library's writes; see `engine.watch.apply.apply_batch`.
        """
        from engine.watch.apply import apply_batch

        return apply_batch(self, batch, progress, embed=embed)

    def assign_new_photos(self) -> AssignSummary | None:
        """Put embedded photos the last clustering has not seen into their best album (or "Other")."""
        from engine.albums.new_photos import assign_new_photos

        model_id = self.model_id()
        return assign_new_photos(self.catalog, model_id) if model_id is not None else None

    def _load_model_for_indexing(self) -> tuple[Embedder | ExportedEmbedder, int]:
        embedder = self._exported_embedder() or self.embedder()
        model_id = self.catalog.model_id(embedder.key, embedder.dim)
        self.catalog.set_meta(META_MODEL_KEY, embedder.key)
        self.catalog.set_meta(META_MODEL_SPEC, _spec_fingerprint(self._settings.model))
        return embedder, model_id

    def _exported_embedder(self) -> ExportedEmbedder | None:
        """The image tower exported on this machine, when indexing can run from it without loading the model
        (`engine.embed.exported`); None when the model is loaded already, or must be."""
        if self._embedder is not None:
            return None
        settings = self._settings
        key = self._stored_model_key() or model_key(settings.model)
        return load_exported(
            settings.model,
            key,
            runtime_cache_dir(),
            device=settings.device,
            preference=settings.image_runtime,
            threads=settings.index_threads(),
        )

    def update_places(self, progress: ProgressReporter | None = None) -> int:
        """Name the place of located photos that have none yet (offline; the gazetteer loads only then)."""
        from engine.places.update import update_places

        return update_places(self.catalog, progress)

    def places(self) -> list[CountryPlaces]:
        """Where the library's photos were taken: countries, then their cities, with photo counts."""
        from engine.places.summary import place_tree

        return place_tree(self.catalog.places.counts())

    def photos_in_place(self, country: str, city: str | None = None) -> list[int]:
        """Ids of the photos taken in a country, or in one city of it ("": away from towns), in capture order."""
        return self.catalog.places.photos_in(country, city)

    def photos(self) -> list[PhotoRow]:
        """Every photo in the catalog; `embedded` refers to the library's current model."""
        return self.catalog.photos(self.model_id())

    def embeddings(self) -> tuple[list[int], object]:
        """Photo ids and their embeddings under the current model (rows aligned)."""
        model_id = self.model_id()
        if model_id is None:
            raise InvalidInputError("nothing is embedded yet: run photoatlas index first")
        ids, vectors = self.catalog.embeddings(model_id)
        return ids.tolist(), vectors

    def recluster(
        self,
        k: int | None = None,
        *,
        more: bool = False,
        fewer: bool = False,
        progress: ProgressReporter | None = None,
        names_later: bool = False,
    ) -> ReclusterSummary:
        """Cluster the embedded photos with CPP and update the albums, keeping every user decision.

        The albums are named inside the re-cluster (one action) from the vocabulary's text features cached
        for the model: the whole prompt ensemble's, else one prompt per term's.

        Args:
            k: number of clusters; None chooses it (docs/algorithms.md §4).
            more, fewer: the next-best larger / smaller k on the stored coding-length curve.
            names_later: when nothing is cached yet (the first time with a model), commit the albums at
                once with provisional names and leave naming to the caller (`summary.names_pending`; then
                `name(quick=True)`), rather than embed the whole vocabulary first (minutes on a CPU).
        """
        from engine.albums.recluster import choose_k, recluster

        ids, _ = self.embeddings()  # raises with advice when nothing is embedded
        model_id = self.model_id()
        assert model_id is not None and ids
        wording = "Re-cluster into more albums" if more else "Re-cluster into fewer albums" if fewer else None
        k = choose_k(self.catalog, k, more, fewer)
        wording = wording or (f"Re-cluster into {k} albums" if k is not None else "Re-cluster")
        naming, pending = self._cached_naming() if names_later else (self._naming(progress), False)
        summary = recluster(
            self.catalog, model_id, k, self._settings.device, naming, progress, wording, self._remote_fit()
        )
        if pending:
            summary.names_pending = True
            summary.naming = "naming the albums next (the vocabulary is embedded once for this model)"
            self.catalog.set_meta(META_NAMES_PENDING, "1")
        elif naming is not None:
            # The albums were named inside the re-cluster (one action, undone as one); this names the clusters.
            summary.naming = self._name_clusters(naming, progress).lines()[0]
            self._names_done()  # an earlier stopped naming has nothing left to do
        if self._settings.dac_refine:  # the settings switch: DAC refinement after every re-cluster
            try:
                summary.refined = self.refine(progress).lines()
            except InvalidInputError as exc:  # fewer than two albums: nothing to refine
                summary.refined = [f"not refined: {exc}"]
        return summary

    # `cluster` is the first re-cluster: the same verb, kept under the name of its command.
    cluster = recluster

    def refine(self, progress: ProgressReporter | None = None, **options: object) -> RefineSummary:
        """Refine the albums with DAC, taught by the user's corrections (never overriding them).

        Args:
            options: `epochs`, `finetune_blocks` (also train the last blocks of CLIP's image tower: meant
                for a GPU) and other `DACRefiner` parameters (see engine.albums.refine.refine).
        """
        from engine.albums.refine import refine

        ids, _ = self.embeddings()  # raises with advice when nothing is embedded
        model_id = self.model_id()
        assert model_id is not None and ids
        naming = self._naming(progress)
        if options.get("finetune_blocks"):
            options = {**options, "embedder": self.embedder(), "thumbnail_dir": self.thumbnails.directory}
        summary = refine(self.catalog, model_id, self._settings.device, naming, progress, **options)
        if naming is not None and summary.recluster is not None:
            summary.recluster.naming = self._name_clusters(naming, progress).lines()[0]  # albums: named inside
        return summary

    def _naming(self, progress: ProgressReporter | None) -> Naming | None:
        """Text features of the vocabulary for naming inside a re-cluster: the best cached (see `_cached_naming`),
        else the whole prompt ensemble embedded now; None when the model cannot be loaded."""
        from engine.albums.recluster import Naming
        from engine.naming.album_names import vocabulary_features

        naming, pending = self._cached_naming()
        if naming is not None or not pending:
            return naming
        embedder = self.embedder()
        model_id = self.catalog.model_id(embedder.key, embedder.dim)
        vocabulary = self.vocabulary()
        features = vocabulary_features(self.catalog, embedder, model_id, vocabulary, progress)
        return Naming(features, vocabulary.names(), vocabulary.generic, vocabulary.version)

    def _cached_naming(self) -> tuple[Naming | None, bool]:
        """The vocabulary's cached text features for naming (the whole ensemble's, else one prompt per term's),
        and whether naming is pending: (None, True) when the model loads but nothing is cached for it yet,
        (None, False) when the model cannot be loaded."""
        from engine.albums.recluster import Naming
        from engine.naming.album_names import cached_vocabulary_features

        vocabulary = self.vocabulary()
        # The catalog knows the model's id without loading it: a re-cluster whose names are cached never waits
        # seconds for open_clip and the weights only to learn that id.
        model_id = self.model_id()
        cached = cached_vocabulary_features(self.catalog, model_id, vocabulary) if model_id is not None else None
        if cached is None:
            try:
                embedder = self.embedder()
            except ModelUnavailableError:
                return None, False
            model_id = self.catalog.model_id(embedder.key, embedder.dim)
            cached = cached_vocabulary_features(self.catalog, model_id, vocabulary)
        if cached is None:
            return None, True
        return Naming(cached[0], vocabulary.names(), vocabulary.generic, vocabulary.version), False

    def vocabulary_embedded(self, full: bool = True) -> bool:
        """Whether the vocabulary's text features are cached for the library's model, so that naming needs no
        text tower: the whole prompt ensemble's (`full`), or at least one prompt per term's.

        Reads the catalog only (no model is loaded); False when nothing was embedded with the model yet.
        """
        cached = self._vocabulary_cached()
        return cached == "full" or (not full and cached == "quick")

    def _vocabulary_cached(self) -> Literal["full", "quick"] | None:
        """Which of the vocabulary's text features are all cached for the library's model: the whole prompt
        ensemble's, else one prompt per term's, else None. One read of the cached keys, no vectors: the Album
        menu asks this, and a ViT-B-32 ensemble's vectors are tens of MB."""
        from engine.naming.text_features import prompt_key

        model_id = self.model_id()
        vocabulary = self.vocabulary()
        if model_id is None or len(vocabulary) == 0:
            return None
        cached = self.catalog.term_keys(model_id)
        for kind, full in (("full", True), ("quick", False)):
            if all(prompt_key(p) in cached for p in vocabulary.prompt_sets(full)):
                return kind
        return None

    def vocabulary_choice(self) -> VocabularyChoice:
        """The user's edits to the candidate names (added, removed, or a list of their own)."""
        return VocabularyChoice.load(self.directory)

    def vocabulary(self) -> Vocabulary:
        """The candidate names albums are named from."""
        return vocabulary_for(self.vocabulary_choice())

    def set_vocabulary(self, choice: VocabularyChoice) -> Vocabulary:
        """Save the user's vocabulary edits; automatic names are recomputed by the next `name`."""
        vocabulary = vocabulary_for(choice)
        if len(vocabulary) == 0:
            raise InvalidInputError("the vocabulary would be empty: add a term or run photoatlas vocab reset")
        choice.save(self.directory)
        return vocabulary

    def _name_clusters(self, naming: Naming, progress: ProgressReporter | None) -> NamingSummary:
        from engine.naming.album_names import name_and_store

        model_id = self.model_id()  # the text features are at hand: no model to load for its id
        if model_id is None:
            embedder = self.embedder()
            model_id = self.catalog.model_id(embedder.key, embedder.dim)
        summary = name_and_store(self.catalog, model_id, naming.text_features, self.vocabulary(), progress=progress)
        named = sum(1 for a in self.albums.albums() if a.id is not None and not a.user_named)
        return dataclasses.replace(summary, albums=named)

    def name(self, progress: ProgressReporter | None = None, *, quick: bool = False) -> NamingSummary:
        """Recompute automatic names (clusters and albums the user has not named) from the vocabulary.

        One action in the history, recorded when a name changed; albums the user named never change.

        Args:
            quick: from one prompt per term ("Name albums": the first names after a first re-cluster, a fifth
                of the text tower's work); by default from each term's whole prompt ensemble, which refines
                them. Either is embedded once per model, in steps that a cancel keeps.
        """
        from engine.naming.album_names import name_albums, name_and_store, vocabulary_features

        started = time.monotonic()
        embedder = self.embedder()
        model_id = self.catalog.model_id(embedder.key, embedder.dim)
        vocabulary = self.vocabulary()
        text = vocabulary_features(self.catalog, embedder, model_id, vocabulary, progress, ensemble=not quick)
        summary = name_and_store(self.catalog, model_id, text, vocabulary, progress=progress)
        summary = dataclasses.replace(summary, quick=quick, seconds=time.monotonic() - started)
        description = "Name albums" if quick else "New names for the albums from the vocabulary"
        named = name_albums(self.catalog, model_id, text, vocabulary, summary, description)
        self._names_done()
        if not quick and self.catalog.get_meta(META_REFINE_DECLINED):
            self.catalog.set_meta(META_REFINE_DECLINED, "")  # refined after all: a later stop may resume again
        return named

    def names_refinable(self) -> bool:
        """Whether some album's machine name comes from one prompt per term (the quick first naming) and the
        refinement from the whole prompt ensemble has not finished, whoever stopped it: `name()` refines them
        (the window's Album → Refine album names). Reads the catalog only (no model is loaded)."""
        if self.names_pending():
            return False
        if all(user_named for _, user_named in self.catalog.albums.name_flags().values()):
            return False
        return self._vocabulary_cached() == "quick"

    def names_refinement_due(self) -> bool:
        """Whether the names' refinement (`names_refinable`) was cut short by a stop (a killed command, a closed
        window) rather than by the user, so the window refines them when it next opens."""
        return not self.catalog.get_meta(META_REFINE_DECLINED) and self.names_refinable()

    def decline_name_refinement(self) -> None:
        """Record that the user stopped the names' refinement: it is not started again on its own."""
        self.catalog.set_meta(META_REFINE_DECLINED, "1")

    def _names_done(self) -> None:
        """The albums have names: forget a record of names due (a write only when there was one)."""
        if self.names_pending():
            self.catalog.set_meta(META_NAMES_PENDING, "")

    def names_pending(self) -> bool:
        """Whether the last re-cluster's albums still wait for their first names: it committed them with
        provisional names ("Album 3") and naming was stopped before it finished. `name(quick=True)` names them."""
        return bool(self.catalog.get_meta(META_NAMES_PENDING))

    def search(self, query: str, limit: int = 50, progress: ProgressReporter | None = None) -> list[SearchResult]:
        """Photos matching a text query, best first; only those that match better than chance.

        The query's text embedding comes from the model when this process has it loaded (the window), else
        from the text tower alone in numpy when the weights allow it (a command: no torch to import), else
        from the model loaded now. The background captions' features are read from the catalog, embedded
        once per model.
        """
        query = " ".join(query.split())
        if not query:
            raise InvalidInputError("the search text is empty")
        if limit < 1:
            raise InvalidInputError("the limit must be at least 1")
        from engine.places.query import split_place

        asked = split_place(query, self.catalog.places.names())
        if asked.place is not None:
            return self._search_place(asked.content, asked.place, limit, progress)
        return self._search_content(query, limit, progress)

    def _search_place(
        self, content: str, place: str, limit: int, progress: ProgressReporter | None
    ) -> list[SearchResult]:
        """A place alone ("Paris"): its photos in capture order. With content ("beach in Nice"): the
        content's matches taken there first, then its matches elsewhere."""
        from engine.places.query import in_place

        located = self.catalog.places.of_photos()
        there = {photo_id for photo_id, p in located.items() if in_place(place, p.city, p.region, p.country)}
        if not content:
            ordered = [row.id for row in self.catalog.photos() if row.id in there][:limit]
            paths = self.catalog.photo_paths(ordered)
            return [SearchResult(i, paths[i], 1.0) for i in ordered]
        hits = self._search_content(content, max(limit, len(there) + limit), progress)
        ranked = [h for h in hits if h.id in there] + [h for h in hits if h.id not in there]
        return ranked[:limit]

    def _search_content(self, query: str, limit: int, progress: ProgressReporter | None) -> list[SearchResult]:
        """Photos whose CLIP embedding matches the text, best first."""
        from engine.naming.search import cached_text_features, search

        model_id = self.model_id()
        if model_id is None:
            raise InvalidInputError("nothing is embedded yet: run photoatlas index first")
        ids, features = self.catalog.embeddings(model_id)
        prompts = [query, f"a photo of {query}."]
        vocabulary = _background_vocabulary()
        background_prompts = [vocabulary.prompts(term) for term in vocabulary.terms]
        background = cached_text_features(self.catalog, model_id, background_prompts)
        encoder = self._query_encoder() if background is not None else None
        if encoder is None or background is None:  # the first search with this model embeds the background
            from engine.naming.text_features import ensemble_features

            embedder = self.embedder()
            model_id = self.catalog.model_id(embedder.key, embedder.dim)
            background = ensemble_features(
                self.catalog, embedder, model_id, background_prompts, progress, "embed vocabulary"
            )
            encoder = embedder
        hits = search(_embed_query(encoder, prompts), features, limit=limit, background_features=background)
        found = [int(ids[h.index]) for h in hits]
        paths = self.catalog.photo_paths(found)
        return [SearchResult(i, paths[i], h.score) for i, h in zip(found, hits, strict=True)]

    def _query_encoder(self) -> Any:
        """What embeds a query: the model if loaded in this process, else the numpy text tower, else None."""
        from engine.embed.embedder import loaded_embedder
        from engine.embed.numpy_text import shared_text_encoder

        if self._embedder is None:
            settings = self._settings
            self._embedder = loaded_embedder(settings.model, settings.device, settings.offline, model_cache_dir())
        if self._embedder is not None:
            return self._embedder
        return shared_text_encoder(self._settings.model)

    @property
    def albums(self) -> AlbumStore:
        """Album queries and the user's actions on albums (rename, merge, move, split, pin, undo)."""
        return AlbumStore(self.catalog)

    @property
    def stacks(self) -> StackStore:
        """Stacks (bursts, copies of one picture), the Duplicates list, and the user's unstack and cover actions
        (undone by `albums.undo`, which walks the one history)."""
        return StackStore(self.catalog)

    def _restack(self, progress: ProgressReporter | None) -> StackSummary | None:
        """Recompute the stacks after indexing (exact copies need no model; bursts need the embeddings), unless
        they were computed from the photos and embeddings as they are now: a recompute compares every pair of
        photos (seconds at 10k), and a rescan of an unchanged library needs none. None when skipped."""
        from engine.stacks.build import stacks_current

        if stacks_current(self.catalog, self.model_id()):
            return None
        return self.update_stacks(progress)

    def update_stacks(self, progress: ProgressReporter | None = None) -> StackSummary:
        """Recompute the stacks from the catalog (after indexing: `index` and `index_changes` call it); the
        user's unstack and cover choices are applied, never overridden."""
        from engine.stacks.build import update_stacks

        return update_stacks(self.catalog, self.model_id(), self.thumbnails, progress)

    def export_album(self, album: str | int, destination: Path, link: str | None = None) -> ExportSummary:
        """Copy (or link) an album's originals into a folder outside the library's photo folders."""
        from engine.albums.export import export_album

        roots = self.roots()
        return export_album(self.albums, album, Path(destination), [*roots, self.directory], link)

    def coding_length_curve(self) -> CodingLengthCurve | None:
        """The current clustering's coding-length curve, its k, and the k that Fewer / More albums would pick.

        Reads the catalog only; None when there is no clustering yet.
        """
        from engine.albums.clusters import album_counts
        from engine.albums.recluster import next_k

        clustering = self.catalog.clusterings.current()
        if clustering is None:
            return None
        lengths = dict(sorted(clustering.coding_lengths.items()))
        counts = album_counts(self.catalog)
        return CodingLengthCurve(
            clustering.k,
            lengths,
            fewer=next_k(lengths, clustering.k, counts, more=False),
            more=next_k(lengths, clustering.k, counts, more=True),
            automatic=clustering.requested_k is None,
            albums={k: n for k, n in counts.items() if k in lengths and n != k},
        )

    def clusters(self) -> list[ClusterInfo]:
        """The stored clusters, largest first, "Other" (id None) last."""
        from engine.albums.clusters import stored_clusters

        return stored_clusters(self.catalog)

    def status(self) -> LibraryStatus:
        photos = self.photos()
        notices = list(self.notices)
        model = self._settings.model
        if model.pretrained_is_file and not Path(model.pretrained).expanduser().exists():
            # The photos then count as not embedded (their vectors belong to the file's key): say why, and that
            # nothing was lost.
            notices.append(
                f"the weights file {display(model.pretrained)} is not there any more; the photos' embeddings are "
                "kept and count again once it is back, or choose another with photoatlas model use FILE"
            )
        skipped = Counter(reason for _, reason, _ in self.catalog.skipped())
        catalog_bytes = sum(p.stat().st_size for p in self.directory.glob(CATALOG_FILE + "*"))
        return LibraryStatus(
            directory=str(self.directory),
            roots=[display(raw) for _, raw in self.catalog.roots()],
            photos=len(photos),
            embedded=sum(p.embedded for p in photos),
            skipped=dict(skipped),
            model=self._settings.model,
            model_key=self.catalog.get_meta(META_MODEL_KEY),
            catalog_bytes=catalog_bytes,
            thumbnail_bytes=self.thumbnails.size_on_disk(),
            notices=tuple(notices),
            names_pending=self.names_pending(),
            names_refinable=self.names_refinable(),
        )
