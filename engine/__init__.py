"""PhotoAtlas engine: everything headless (catalog, scan, decode, embed, cluster, CLI).

The public API is small; the desktop app imports nothing else (plus `engine.errors`, `engine.settings`
and `engine.progress`, whose names are re-exported here as well). Everything in the rooms below is internal.

The facade:
    Library: one library and every verb the window and the CLI need (index, watch, re-cluster, refine,
        name, search, export, album actions through `Library.albums`, weights, device, roots, thumbnails,
        skipped files, history).
    LibrarySettings, ModelSpec: a library's settings (a frozen dataclass saved as TOML) and its CLIP model.
    ProgressReporter, NullProgress: the progress and cancellation protocol of long verbs, and a silent one.
    PhotoAtlasError and its kinds (Cancelled, CatalogError, InvalidInputError, ModelUnavailableError,
        NotFittedError): the engine's one error hierarchy.

Types the verbs return or take:
    Album: one album as `Library.albums.albums()` lists it ("Other" has id None).
    PhotoRow: one photo as `Library.photos()` lists it (path bytes, content hash, date, size, camera).
    Place, CountryPlaces: where a photo was taken (city, region, country), and the library's places as
        `Library.places()` lists them (countries with their cities and photo counts).
    LibraryWatcher, ChangeBatch: what `Library.watcher()` returns, and the batches it hands over for
        `Library.apply_watch_batch`.
    HistoryEntry: one action of the history (`Library.history`), which `Library.albums.undo`/`redo` walk.
    Stack, DuplicateSet: a burst or set of copies folded into one tile, and files that hold one picture, as
        `Library.stacks.stacks()` and `Library.stacks.duplicates()` list them.
    WeightsStatus: where a model's weights stand on this computer (`Library.weights_status`).
    CodingLengthCurve: how the number of albums was chosen, and what Fewer / More would pick
        (`Library.coding_length_curve`).

Helpers:
    display_path: a path (str, Path or catalog bytes) as text for people.
    resources_dir: the folder of PhotoAtlas's shipped resources (icons, vocabulary).
    cli_main, cli_parser: the `photoatlas` command line and its argument parser.

Estimators (scikit-learn conventions), for scripts and notebooks:
    CPPClusterer, DACRefiner.

Heavy modules (torch, open_clip, scikit-learn, watchdog) load only when first needed, so that importing
the engine, and with it opening the window, stays fast.
"""

from __future__ import annotations

import os
from importlib import import_module
from typing import TYPE_CHECKING, Any

# Idle OpenMP threads (torch's CPU pool) sleep instead of spinning. On a busy machine a spinning pool waits on
# threads that have no core: a 1,500-photo fit took 234 s on 2 threads against 29 s with this at load 6 on 2
# cores (bench/RESULTS-cluster.md). Read when torch loads its OpenMP, so set before the engine imports torch;
# a value the user set is kept.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from engine.errors import (
    Cancelled,
    CatalogError,
    InvalidInputError,
    ModelUnavailableError,
    NotFittedError,
    PhotoAtlasError,
)
from engine.progress import NullProgress, ProgressReporter
from engine.settings import LibrarySettings, ModelSpec

if TYPE_CHECKING:
    from engine.albums.store import Album
    from engine.catalog import PhotoRow
    from engine.catalog.albums import HistoryEntry
    from engine.catalog.places import Place
    from engine.cli.main import build_parser as cli_parser
    from engine.cli.main import main as cli_main
    from engine.cluster import CPPClusterer
    from engine.cluster.dac import DACRefiner
    from engine.embed.weights import WeightsStatus
    from engine.library import CodingLengthCurve, Library
    from engine.naming.vocabulary import resources_dir
    from engine.paths import display as display_path
    from engine.places.summary import CountryPlaces
    from engine.stacks.store import DuplicateSet, Stack
    from engine.watch.watcher import ChangeBatch, LibraryWatcher

__all__ = [
    "Album",
    "CPPClusterer",
    "Cancelled",
    "CatalogError",
    "ChangeBatch",
    "CodingLengthCurve",
    "CountryPlaces",
    "DACRefiner",
    "DuplicateSet",
    "HistoryEntry",
    "InvalidInputError",
    "Library",
    "LibrarySettings",
    "LibraryWatcher",
    "ModelSpec",
    "ModelUnavailableError",
    "NotFittedError",
    "NullProgress",
    "PhotoAtlasError",
    "PhotoRow",
    "Place",
    "ProgressReporter",
    "Stack",
    "WeightsStatus",
    "cli_main",
    "cli_parser",
    "display_path",
    "resources_dir",
]

__version__ = "0.1.0"

# Lazy exports: public name -> (module, name there). `from engine import CPPClusterer` must not cost a
# torch import at `import engine`, nor `import engine` the import of every room.
_LAZY = {
    "Album": ("engine.albums.store", "Album"),
    "CPPClusterer": ("engine.cluster", "CPPClusterer"),
    "CodingLengthCurve": ("engine.library", "CodingLengthCurve"),
    "ChangeBatch": ("engine.watch.watcher", "ChangeBatch"),
    "CountryPlaces": ("engine.places.summary", "CountryPlaces"),
    "Place": ("engine.catalog.places", "Place"),
    "HistoryEntry": ("engine.catalog.albums", "HistoryEntry"),
    "DACRefiner": ("engine.cluster.dac", "DACRefiner"),
    "Library": ("engine.library", "Library"),
    "LibraryWatcher": ("engine.watch.watcher", "LibraryWatcher"),
    "PhotoRow": ("engine.catalog", "PhotoRow"),
    "Stack": ("engine.stacks.store", "Stack"),
    "DuplicateSet": ("engine.stacks.store", "DuplicateSet"),
    "WeightsStatus": ("engine.embed.weights", "WeightsStatus"),
    "cli_main": ("engine.cli.main", "main"),
    "cli_parser": ("engine.cli.main", "build_parser"),
    "display_path": ("engine.paths", "display"),
    "resources_dir": ("engine.naming.vocabulary", "resources_dir"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module, attribute = _LAZY[name]
        value = getattr(import_module(module), attribute)
        globals()[name] = value  # once found, a plain module attribute
        return value
    raise AttributeError(f"module 'engine' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
