"""Faster CPU runtimes for CLIP's image tower, chosen automatically and checked against fp32 PyTorch.

On a CPU, open_clip's fp32 PyTorch forward pass is the slowest part of indexing. PyTorch's own dynamic int8
quantization of the Linear layers (`torch-int8`, made in memory) is faster, and the same image tower exported
once to ONNX runs faster still in ONNX Runtime (`onnx-int8`: the weight matrices int8, activations quantized
on the fly) or in OpenVINO (which uses bf16 matrix units where the CPU has them). Which is best depends on
the machine, so it is measured there, once per model:

1. The tower is exported (`engine.embed.onnx_export`) into a folder of the runtime cache named after the
   model's key (its weights' digest), the exporter's format and torch's version, so new weights or a new
   export build anew and never reuse an old file.
2. On the first batch each available runtime embeds the batch; one whose embeddings differ from
   fp32 PyTorch's (cosine below `MIN_COSINE` for any image) is refused with a log line; of the rest
   the fastest is chosen, and the choice is written beside the files for the next run.
3. Every later run loads the chosen runtime and checks it on its first batch again; fp32 PyTorch is
   always the fallback.

Nothing here runs on a GPU: CUDA and MPS keep PyTorch (fp16 on CUDA).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import logging
import os
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

log = logging.getLogger(__name__)

MIN_COSINE = 0.99  # below this for any checked image, a runtime is not used
CHECK_IMAGES = 8  # images of the first batch each runtime is checked against fp32 on
TIME_IMAGES = 32  # images of the first batch each runtime is timed on, when there is a choice to make
# What `image_runtime` may be set to: "auto" measures; the others force one (falling back to fp32 PyTorch).
RUNTIME_CHOICES = ("auto", "torch", "torch-int8", "onnx-int8", "onnx-fp32", "openvino")
_FAST = RUNTIME_CHOICES[2:]
_EXPORTED = ("onnx-int8", "onnx-fp32", "openvino")  # the runtimes that read an exported tower
_CHOICE_FILE = "choice.json"


class ImageRuntime(Protocol):
    """Something that turns a batch of preprocessed pixels (n × 3 × H × W float32) into image features."""

    name: str

    def encode(self, pixels: np.ndarray) -> np.ndarray:
        """Features (n × dim float32), not normalised."""
        ...


@dataclass
class RuntimeChoice:
    """How the image tower runs, and why: the figures measured on the first batch.

    Attributes:
        name: the runtime in use ("torch-fp32", "onnx-int8", "onnx-fp32", "openvino").
        checked: per runtime tried, (lowest cosine to fp32 on the checked images, images/second on them).
        refused: per runtime refused, the reason in words.
        built_seconds: time spent exporting and quantizing in this run (0 when the cache had them).
    """

    name: str
    checked: dict[str, tuple[float, float]] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)
    built_seconds: float = 0.0

    def line(self) -> str:
        """One line for people: the runtime, and the cosine it was checked at."""
        cosine = self.checked.get(self.name)
        how = f" (cosine to fp32 ≥ {cosine[0]:.4f} on the first images)" if cosine and self.name != "torch-fp32" else ""
        return f"image tower: {self.name}{how}"


class TorchRuntime:
    """open_clip's own fp32 forward pass: the reference, and the fallback."""

    name = "torch-fp32"

    def __init__(self, model: Any) -> None:
        self.model = model

    def encode(self, pixels: np.ndarray) -> np.ndarray:
        import torch

        with torch.inference_mode():
            return self.model.encode_image(torch.from_numpy(pixels)).float().numpy()


class TorchInt8Runtime:
    """PyTorch's dynamic int8 quantization of the tower's Linear layers, made in memory (nothing exported).

    Only the MLP's Linear layers are quantized (the attention's projections are not `nn.Linear` modules).
    """

    name = "torch-int8"

    def __init__(self, model: Any) -> None:
        import warnings

        import torch

        with warnings.catch_warnings():  # torch.ao's own advice to move to torchao
            warnings.simplefilter("ignore")
            self.visual = torch.ao.quantization.quantize_dynamic(model.visual, {torch.nn.Linear}, dtype=torch.qint8)

    def encode(self, pixels: np.ndarray) -> np.ndarray:
        import torch

        with torch.inference_mode():
            return self.visual(torch.from_numpy(pixels)).float().numpy()


class OnnxRuntime:
    """An exported image tower in ONNX Runtime's CPU provider."""

    def __init__(self, path: Path, name: str, threads: int) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = max(1, threads)
        options.inter_op_num_threads = 1
        # Idle threads must not spin: the decoding workers need those cores between batches.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        self.name = name
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def encode(self, pixels: np.ndarray) -> np.ndarray:
        return np.asarray(self.session.run(None, {"pixels": pixels})[0], dtype=np.float32)


class OpenVinoRuntime:
    """An exported image tower compiled by OpenVINO for this CPU (bf16 where the CPU has matrix units)."""

    name = "openvino"

    def __init__(self, path: Path, threads: int) -> None:
        import openvino as ov

        core = ov.Core()
        # OpenVINO keeps what it compiled for this CPU beside the exported tower: the next run loads that
        # instead of reading and compiling the 350 MB model again (seconds at every start).
        config = {
            "INFERENCE_NUM_THREADS": max(1, threads),
            "PERFORMANCE_HINT": "LATENCY",
            "CACHE_DIR": str(path.parent / "openvino-cache"),
        }
        self.model = core.compile_model(str(path), "CPU", config)

    def encode(self, pixels: np.ndarray) -> np.ndarray:
        return np.asarray(self.model(pixels)[0], dtype=np.float32)


def installed_runtimes() -> list[str]:
    """The fast runtimes whose packages are installed here (export needs torch's ONNX exporter only)."""
    have = {name: importlib.util.find_spec(name) is not None for name in ("onnxruntime", "onnx", "openvino")}
    found = ["torch-int8"] if _torch_int8_available() else []
    if have["onnxruntime"]:
        if have["onnx"]:
            found.append("onnx-int8")  # the quantizer reads and writes ONNX files with the onnx package
        found.append("onnx-fp32")
    if have["openvino"]:
        found.append("openvino")
    return found


def _torch_int8_available() -> bool:
    import torch

    return any(engine in ("fbgemm", "x86", "qnnpack") for engine in torch.backends.quantized.supported_engines)


def cache_folder(cache_root: Path, key: str) -> Path:
    """Where one model's exported towers live: new weights, a new exporter or torch mean a new folder."""
    from importlib.metadata import PackageNotFoundError, version

    from engine.embed.onnx_export import EXPORT_FORMAT

    # torch's version from its package metadata: asked before indexing, which may not import torch at all.
    try:
        torch_version = version("torch")
    except PackageNotFoundError:
        torch_version = "none"
    identity = f"{key}|format:{EXPORT_FORMAT}|torch:{torch_version}"
    return cache_root / hashlib.blake2b(identity.encode("utf-8"), digest_size=10).hexdigest()


# Exporting ViT-B-32 takes seconds to tens of seconds: worth it for a few hundred photos, not for a
# handful, nor ever for a tiny model. Measured as the tower's parameters × the images to embed.
BUILD_MIN_WORK = 1e10


def worth_building(model: Any, images: int) -> bool:
    """Whether exporting the image tower pays for `images` photos (once built, it is used for any count)."""
    params = sum(p.numel() for p in model.visual.parameters())
    return params * images >= BUILD_MIN_WORK


def _cosines(reference: np.ndarray, other: np.ndarray) -> np.ndarray:
    a = reference / np.maximum(np.linalg.norm(reference, axis=1, keepdims=True), 1e-12)
    b = other / np.maximum(np.linalg.norm(other, axis=1, keepdims=True), 1e-12)
    return np.sum(a * b, axis=1)


def choose_runtime(
    model: Any,
    image_size: int,
    key: str,
    pixels: np.ndarray,
    *,
    preference: str = "auto",
    cache_root: Path | None,
    threads: int = 0,
    build: bool = True,
) -> tuple[ImageRuntime, RuntimeChoice]:
    """The runtime the image tower should use, checked on `pixels` (the first batch) against fp32.

    Args:
        model: the open_clip model, on the CPU, in fp32.
        image_size: its input side in pixels.
        key: the model's identity (`model_key`): the cache folder is named after it.
        pixels: the first batch of preprocessed images (a few are used for the check).
        preference: "auto" (fastest that passes), a runtime's name (that one, if it passes), or "torch".
        cache_root: the runtime cache; None keeps fp32 PyTorch.
        threads: CPU threads the runtime may use (0: torch's own count).
        build: export the tower when the cache has none (False: use only what is cached).

    Never raises for a runtime that cannot be built or loaded: it is refused, with a log line.
    """
    import torch

    threads = threads or torch.get_num_threads()
    reference_runtime = TorchRuntime(model)
    if preference == "torch" or cache_root is None:
        return reference_runtime, RuntimeChoice(reference_runtime.name)
    folder = cache_folder(cache_root, key)
    if not build and not (folder / _CHOICE_FILE).is_file() and not any(folder.glob("*.onnx")):
        return reference_runtime, RuntimeChoice(reference_runtime.name)
    remembered = read_choice(folder)
    if preference == "auto" and remembered == reference_runtime.name:
        return reference_runtime, RuntimeChoice(reference_runtime.name)  # measured fastest here before
    choice = RuntimeChoice(reference_runtime.name)
    installed = installed_runtimes()
    if preference != "auto":
        candidates = [preference] if preference in installed else []
        if not candidates:
            choice.refused[preference] = "not installed" if preference in _FAST else "unknown runtime"
    elif remembered in installed:
        candidates = [remembered]  # measured on this machine before: only checked again
    else:
        candidates = installed
    if not candidates:
        return reference_runtime, choice
    sample = np.ascontiguousarray(pixels[:CHECK_IMAGES], dtype=np.float32)
    baseline = 0.0  # fp32's rate, when the runtimes are measured against each other (and against it)
    if preference == "auto" and candidates == installed:
        # Timed on the whole first batch (short bursts of other work average out).
        timed = np.ascontiguousarray(pixels[:TIME_IMAGES], dtype=np.float32)
        started = time.perf_counter()
        reference = reference_runtime.encode(timed)[: len(sample)]
        baseline = len(timed) / max(time.perf_counter() - started, 1e-9)
        choice.checked[reference_runtime.name] = (1.0, baseline)
    else:
        timed = sample
        reference = reference_runtime.encode(sample)
    if build and any(c in _EXPORTED for c in candidates):
        started = time.perf_counter()
        try:
            from engine.embed.onnx_export import ensure_exported

            ensure_exported(
                model,
                image_size,
                folder,
                fp32=any(c in ("onnx-fp32", "openvino") for c in candidates),
                int8="onnx-int8" in candidates,
            )
        except Exception as exc:  # an architecture the exporter cannot handle
            log.warning("could not export the image tower (%s); only the runtimes that need no export are tried", exc)
            choice.refused.update({c: f"export failed: {exc}" for c in candidates if c in _EXPORTED})
            candidates = [c for c in candidates if c not in _EXPORTED]
        choice.built_seconds = time.perf_counter() - started
    best: tuple[float, ImageRuntime] | None = None
    for name in candidates:
        try:
            runtime = load_runtime(name, model, folder, threads)
            if runtime is None:
                choice.refused[name] = "not exported yet"
                continue
            runtime.encode(sample[:1])  # warm-up: first calls allocate and compile
            started = time.perf_counter()
            features = runtime.encode(timed)[: len(sample)]
            rate = len(timed) / max(time.perf_counter() - started, 1e-9)
        except Exception as exc:
            log.warning("the %s runtime failed on this model (%s); not using it", name, exc)
            choice.refused[name] = f"failed: {exc}"
            continue
        cosine = float(_cosines(reference, features).min())
        choice.checked[name] = (cosine, rate)
        if not cosine >= MIN_COSINE:
            log.warning(
                "the %s image tower differs from fp32 (cosine %.4f < %.2f on the first images); not using it",
                name,
                cosine,
                MIN_COSINE,
            )
            choice.refused[name] = f"cosine {cosine:.4f} < {MIN_COSINE}"
            continue
        if best is None or rate > best[0]:
            best = (rate, runtime)
    if best is None or best[0] <= baseline:
        if best is not None:  # every runtime that embeds faithfully is slower than fp32 on this machine
            _remember_choice(folder, reference_runtime.name, choice)
        elif remembered in candidates and preference == "auto" and len(installed) > 1:
            _forget_choice(folder)  # measured anew next run
        return reference_runtime, choice
    chosen = best[1]
    choice.name = chosen.name
    if preference == "auto" and remembered != chosen.name:
        _remember_choice(folder, chosen.name, choice)
        _drop_unused(folder, chosen.name)
    log.info("%s", choice.line())
    return chosen, choice


def load_runtime(name: str, model: Any, folder: Path, threads: int) -> ImageRuntime | None:
    """The named runtime over this model's exported files (None when they are not there); `model` is only
    read by torch-int8, which quantizes in memory."""
    from engine.embed.onnx_export import FP32_FILE, INT8_FILE

    if name == "torch-int8":
        return TorchInt8Runtime(model)
    fp32, int8 = folder / FP32_FILE, folder / INT8_FILE
    if name == "onnx-int8":
        return OnnxRuntime(int8, name, threads) if int8.is_file() else None
    if name == "onnx-fp32":
        return OnnxRuntime(fp32, name, threads) if fp32.is_file() else None
    if name == "openvino":
        return OpenVinoRuntime(fp32, threads) if fp32.is_file() else None
    return None


def read_choice(folder: Path) -> str | None:
    """The runtime measured fastest here for the model whose folder this is, if one was."""
    try:
        data = json.loads((folder / _CHOICE_FILE).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    name = data.get("runtime") if isinstance(data, dict) else None
    return name if isinstance(name, str) else None


def _remember_choice(folder: Path, name: str, choice: RuntimeChoice) -> None:
    data = {
        "runtime": name,
        "checked": {k: {"min_cosine": round(c, 5), "img_per_s": round(r, 2)} for k, (c, r) in choice.checked.items()},
        "refused": choice.refused,
        "cpu_count": os.cpu_count(),
    }
    tmp = folder / f".{_CHOICE_FILE}.{os.getpid()}.tmp"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(data, indent=2), "utf-8")
        os.replace(tmp, folder / _CHOICE_FILE)
    except OSError as exc:  # a read-only cache only costs the measurement next time
        log.info("could not record the runtime choice in %s: %s", folder, exc)


def _forget_choice(folder: Path) -> None:
    with contextlib.suppress(OSError):
        (folder / _CHOICE_FILE).unlink()


def _drop_unused(folder: Path, chosen: str) -> None:
    """Delete the exported files the chosen runtime does not read (ViT-B-32's fp32 tower is 350 MB)."""
    from engine.embed.onnx_export import FP32_FILE, INT8_FILE

    unused = [FP32_FILE, INT8_FILE] if chosen == "torch-int8" else [FP32_FILE if chosen == "onnx-int8" else INT8_FILE]
    for name in unused:
        with contextlib.suppress(OSError):
            (folder / name).unlink(missing_ok=True)


def clear_cache(cache_root: Path, key: str) -> None:
    """Remove one model's exported towers (they are rebuilt when next needed)."""
    shutil.rmtree(cache_folder(cache_root, key), ignore_errors=True)


def stack_pixels(batch: Sequence[Any]) -> np.ndarray:
    """A batch of preprocessed image tensors (or arrays) as one contiguous float32 array."""
    torch = sys.modules.get("torch")  # tensors exist only where torch is imported already: never import it here
    if batch and torch is not None and isinstance(batch[0], torch.Tensor):
        return torch.stack(list(batch)).float().contiguous().numpy()
    return np.ascontiguousarray(np.stack([np.asarray(b) for b in batch]), dtype=np.float32)
