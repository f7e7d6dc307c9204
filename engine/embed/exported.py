"""Indexing from the exported image tower alone: no torch, no open_clip, once a model has been exported here.

Importing open_clip (torch, torchvision, torch._dynamo) and building the model cost about 5 s of every
`photoatlas index`, more than embedding 100 photos. Once the image tower has been exported, checked against
fp32 and chosen on this machine (`engine.embed.runtime`), what indexing needs of the model fits in a few
numbers: the input side, the embedding size, and the preprocessing (`preprocess.describe`, checked equal to
open_clip's on probe images when written). They are kept beside the exported file (`tower.json`), so a later
run embeds with ONNX Runtime (or OpenVINO) straight away.

The file is written only by a run that loaded the full model, and lives in the folder named after the weights'
digest, so other weights never reach it. Anything unusual (a GPU, another runtime asked for, a file missing or
unreadable) returns None and the caller loads the full model as before.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from engine.embed.preprocess import from_description
from engine.embed.runtime import RuntimeChoice, cache_folder, load_runtime, read_choice, stack_pixels
from engine.settings import ModelSpec

log = logging.getLogger(__name__)

TOWER_FILE = "tower.json"
_TOWER_FORMAT = 1
_STANDALONE = ("onnx-int8", "onnx-fp32", "openvino")  # the runtimes that need nothing of torch


def remember_tower(folder: Path, image_size: int, dim: int, preprocess: Any, runtime: str, min_cosine: float) -> None:
    """Write what indexing needs of a loaded model beside its exported tower (nothing when the preprocessing
    cannot be described exactly: such a model always loads in full)."""
    from engine.embed.preprocess import describe

    description = describe(preprocess)
    if description is None or runtime not in _STANDALONE:
        return
    data = {
        "format": _TOWER_FORMAT,
        "image_size": image_size,
        "dim": dim,
        "preprocess": description,
        "runtime": runtime,
        "min_cosine": min_cosine,
    }
    tmp = folder / f".{TOWER_FILE}.{os.getpid()}.tmp"
    try:
        tmp.write_text(json.dumps(data, indent=2), "utf-8")
        os.replace(tmp, folder / TOWER_FILE)
    except OSError as exc:  # a read-only cache only costs the full load next time
        log.info("could not record the exported tower in %s: %s", folder, exc)


def forget_tower(folder: Path) -> None:
    (folder / TOWER_FILE).unlink(missing_ok=True)


def runs_on_cpu_without_torch(device: str) -> bool:
    """Whether `device` means the CPU here, told without importing torch: "cpu", or "auto" on a Linux machine
    with no GPU driver loaded (elsewhere "auto" may pick CUDA or Apple's GPU, which only torch can tell)."""
    if device == "cpu":
        return True
    if device != "auto" or not sys.platform.startswith("linux"):
        return False
    return not any(Path(p).exists() for p in ("/proc/driver/nvidia/version", "/dev/kfd", "/dev/dxg"))


# The exported tower this process loaded last, by what identifies it (as `embedder.shared_embedder` does).
_shared: tuple[tuple[object, ...], ExportedEmbedder] | None = None
_shared_lock = threading.Lock()


class ExportedEmbedder:
    """The image half of `Embedder` from an exported tower: what an indexing run asks of the model."""

    device = "cpu"
    spec: ModelSpec

    def __init__(self, spec: ModelSpec, key: str, folder: Path, tower: dict[str, Any], threads: int) -> None:
        self.spec = spec
        self.key = key
        self.image_size = int(tower["image_size"])
        self.dim = int(tower["dim"])
        self._folder = folder
        self._name = str(tower["runtime"])
        self._transform = from_description(tower["preprocess"])
        self._threads = threads
        self._runtime = load_runtime(self._name, None, folder, threads)
        if self._runtime is None:
            raise FileNotFoundError(f"the exported tower for {self._name} is missing in {folder}")
        self.runtime_choice = RuntimeChoice(self._name, {self._name: (float(tower["min_cosine"]), 0.0)})

    def decode_transform(self) -> Callable[[Any], Any]:
        return self._transform

    def prepare_image_runtime(self, preference: str, cache_root: Path | None, threads: int, images: int) -> None:
        """Already chosen (that is why this embedder exists); only a new thread count reloads the session."""
        if threads and threads != self._threads:
            self._threads = threads
            self._runtime = load_runtime(self._name, None, self._folder, threads)

    def default_batch_size(self) -> int:
        return 32

    def embed_images(self, batch: Sequence[Any]) -> np.ndarray:
        assert self._runtime is not None
        features = self._runtime.encode(stack_pixels(batch))
        norms = np.linalg.norm(features, axis=1, keepdims=True)
        return (features / np.maximum(norms, 1e-12)).astype(np.float32)


def exported_tower(cache_root: Path, key: str, preference: str = "auto") -> tuple[Path, dict[str, Any]] | None:
    """The folder and description of this model's exported tower, when indexing can run from it alone."""
    if preference not in ("auto", *_STANDALONE):
        return None
    folder = cache_folder(cache_root, key)
    try:
        tower = json.loads((folder / TOWER_FILE).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    chosen = read_choice(folder)
    if not isinstance(tower, dict) or tower.get("format") != _TOWER_FORMAT or tower.get("runtime") != chosen:
        return None
    if preference not in ("auto", chosen):
        return None
    return folder, tower


def load_exported(
    spec: ModelSpec, key: str, cache_root: Path, *, device: str, preference: str, threads: int
) -> ExportedEmbedder | None:
    """An `ExportedEmbedder` for this model, or None when the full model must load (see the module's notes)."""
    global _shared
    if not runs_on_cpu_without_torch(device):
        return None
    found = exported_tower(cache_root, key, preference)
    if found is None:
        return None
    folder, tower = found
    files = tuple((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(folder.glob("*.onnx")))
    identity = (spec, key, folder, json.dumps(tower, sort_keys=True), files, threads)
    with _shared_lock:
        if _shared is not None and _shared[0] == identity:
            return _shared[1]  # a watched folder indexes a batch every few seconds: one session serves them all
    try:
        embedder = ExportedEmbedder(spec, key, folder, tower, threads)
    except Exception as exc:  # a damaged file: the full model loads, and the next long run re-exports
        log.warning("could not use the exported image tower (%s); loading the full model", exc)
        forget_tower(folder)
        return None
    with _shared_lock:
        _shared = (identity, embedder)
    return embedder
