"""The CLIP model: loading it (download once, or a local checkpoint), choosing a device, embedding.

open_clip's own loading path is used for everything, so the tests' tiny model and a user's real
ViT-B-32 go through the same code. Every way loading can fail becomes one `ModelUnavailableError`
whose message says what to do.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from engine.errors import ModelUnavailableError
from engine.settings import ModelSpec

# Approximate download sizes, for the first-run message.
_DOWNLOAD_MB = {"ViT-B-32": 605, "ViT-B-16": 600, "ViT-L-14": 1710}


def select_device(requested: str = "auto") -> str:
    """The torch device to use: the requested one, or for "auto" CUDA, then Apple MPS, then CPU."""
    import torch

    if requested == "auto":
        if torch.cuda.is_available():
            return "cuda"
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return "mps"
        return "cpu"
    if requested == "cuda" and not torch.cuda.is_available():
        raise ModelUnavailableError("device 'cuda' was requested but no CUDA GPU is available; use --device auto")
    if requested == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ModelUnavailableError("device 'mps' was requested but Apple MPS is not available; use --device auto")
    if requested not in ("cpu", "cuda", "mps") and not requested.startswith("cuda:"):
        raise ModelUnavailableError(f"unknown device {requested!r}; choose auto, cpu, cuda or mps")
    return requested


# Digests of weights files this process has hashed, by what would change with their content: one command
# asks for the model's key several times (trying the file, loading it, the catalog's model id), and hashing
# ViT-B-32's 600 MB takes most of a second each time.
_digests: dict[tuple[str, int, int, int], str] = {}


def _file_digest(path: Path) -> str:
    stat = path.stat()
    identity = (str(path.resolve()), stat.st_ino, stat.st_size, stat.st_mtime_ns)
    known = _digests.get(identity)
    if known is not None:
        return known
    digest = hashlib.blake2b(digest_size=8)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    _digests[identity] = digest.hexdigest()
    return _digests[identity]


def model_key(spec: ModelSpec) -> str:
    """A model's identity for the catalog: embeddings from different weights must never mix.

    A local checkpoint is identified by its content, so renaming the file keeps the embeddings and
    replacing it with other weights does not.
    """
    parts = [spec.name]
    if spec.pretrained_is_file:
        path = Path(spec.pretrained)
        parts.append(f"file:{_file_digest(path)}" if path.is_file() else f"file:{path}")
    else:
        parts.append(spec.pretrained)
    if spec.config:
        config = Path(spec.config)
        parts.append(f"config:{_file_digest(config)}" if config.is_file() else f"config:{config}")
    return "|".join(parts)


def _set_offline(offline: bool) -> None:
    if not offline:
        return
    os.environ["HF_HUB_OFFLINE"] = "1"
    try:  # the hub reads the variable at import; patch it too when it is already imported
        import huggingface_hub.constants as hub_constants

        hub_constants.HF_HUB_OFFLINE = True
    except (ImportError, AttributeError):
        pass


class Embedder:
    """A loaded CLIP model that turns preprocessed images or texts into unit-length float32 vectors."""

    def __init__(
        self,
        spec: ModelSpec,
        model: Any,
        preprocess: Any,
        tokenizer: Any,
        device: str,
        key: str,
        *,
        image_runtime: str = "torch",
        runtime_cache: Path | None = None,
        threads: int = 0,
    ) -> None:
        self.spec = spec
        self.model = model
        self.preprocess = preprocess
        self.tokenizer = tokenizer
        self.device = device
        self.key = key
        visual = model.visual
        size = getattr(visual, "image_size", 224)
        self.image_size = int(size[0] if isinstance(size, (tuple, list)) else size)
        self.dim = int(getattr(visual, "output_dim", 0) or self._probe_dim())
        # The image tower's CPU runtime (`engine.embed.runtime`): chosen on the first batch embedded after
        # `use_image_runtime`; fp32 PyTorch until then, and always on a GPU.
        self._runtime_request: tuple[str, Path | None, int, bool] = (image_runtime, runtime_cache, threads, True)
        self._image_runtime: Any = None
        self.runtime_choice: Any = None  # the `RuntimeChoice` once made: what runs the image tower, and why

    def use_image_runtime(
        self, preference: str = "auto", cache_root: Path | None = None, threads: int = 0, *, build: bool = True
    ) -> None:
        """Run the image tower on the fastest CPU runtime that embeds like fp32 (see `engine.embed.runtime`).

        The choice is made on the next batch `embed_images` gets; asking again for the same keeps it.

        Args:
            preference: "auto", "torch" (fp32 PyTorch), or one runtime ("onnx-int8", "onnx-fp32", "openvino").
            cache_root: where exported towers are kept; None keeps fp32 PyTorch.
            threads: CPU threads for the model (0: leave torch's count).
            build: export the tower when none is cached (False: only use one already built).
        """
        request = (preference, cache_root, threads, build)
        before = self._runtime_request
        # The same request keeps the runtime chosen, unless fp32 was all there was and now the tower may be built.
        kept = not build or before[3] or getattr(self.runtime_choice, "name", "") != "torch-fp32"
        if self._image_runtime is not None and request[:3] == before[:3] and kept:
            return
        if threads > 0 and self.device == "cpu":
            import torch

            torch.set_num_threads(threads)
        self._runtime_request = request
        self._image_runtime = None
        self.runtime_choice = None

    def decode_transform(self) -> Callable[[Any], Any]:
        """The preprocessing the decoding workers run on each photo (the model's own, its tail in numpy)."""
        from engine.embed.preprocess import numpy_tail

        return numpy_tail(self.preprocess)

    def prepare_image_runtime(self, preference: str, cache_root: Path | None, threads: int, images: int) -> None:
        """`use_image_runtime` for an indexing run of `images` photos: the tower is exported only if that pays."""
        from engine.embed.runtime import worth_building

        self.use_image_runtime(preference, cache_root, threads, build=worth_building(self.model, images))

    def _probe_dim(self) -> int:
        import torch

        with torch.inference_mode():
            probe = torch.zeros(1, 3, self.image_size, self.image_size, device=self.device)
            return int(self.model.encode_image(probe).shape[-1])

    def default_batch_size(self) -> int:
        return 256 if self.device.startswith("cuda") else 64 if self.device == "mps" else 32

    def embed_images(self, batch: Sequence[Any]) -> np.ndarray:
        """Embeddings (n × dim, L2-normalised) of preprocessed image tensors."""
        import torch

        if self.device == "cpu" and self._runtime_request[0] != "torch":
            fast = self._embed_images_fast(batch)
            if fast is not None:
                return fast
        with torch.inference_mode():
            pixels = torch.stack(list(batch)).to(self.device, non_blocking=True)
            if self.device.startswith("cuda"):
                with torch.autocast("cuda", dtype=torch.float16):
                    features = self.model.encode_image(pixels)
            else:
                features = self.model.encode_image(pixels)
            features = torch.nn.functional.normalize(features.float(), dim=-1)
            return features.cpu().numpy().astype(np.float32)

    def _embed_images_fast(self, batch: Sequence[Any]) -> np.ndarray | None:
        """Embeddings through the chosen runtime; None when that is fp32 PyTorch (the caller's own path)."""
        from engine.embed.runtime import TorchRuntime, choose_runtime, stack_pixels

        if isinstance(self._image_runtime, TorchRuntime):
            return None
        pixels = stack_pixels(batch)
        if self._image_runtime is None:
            preference, cache_root, threads, build = self._runtime_request
            self._image_runtime, self.runtime_choice = choose_runtime(
                self.model,
                self.image_size,
                self.key,
                pixels,
                preference=preference,
                cache_root=cache_root,
                threads=threads,
                build=build,
            )
            if isinstance(self._image_runtime, TorchRuntime):
                return None
            self._remember_tower(cache_root)
        features = self._image_runtime.encode(pixels)
        norms = np.linalg.norm(features, axis=1, keepdims=True)
        return (features / np.maximum(norms, 1e-12)).astype(np.float32)

    def _remember_tower(self, cache_root: Path | None) -> None:
        """Let later indexing runs use the chosen exported tower without loading the model (`embed.exported`)."""
        from engine.embed.exported import remember_tower
        from engine.embed.runtime import cache_folder

        choice = self.runtime_choice
        if cache_root is None or choice is None or choice.name not in choice.checked:
            return
        folder = cache_folder(cache_root, self.key)
        if folder.is_dir():
            cosine = choice.checked[choice.name][0]
            remember_tower(folder, self.image_size, self.dim, self.preprocess, choice.name, cosine)

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """Embeddings (n × dim, L2-normalised) of texts through CLIP's text tower.

        Each batch runs only as far as its longest prompt reaches (`engine.embed.text_tower`), where that
        gives the same embeddings as the model's `encode_text`.
        """
        import torch

        from engine.embed.text_tower import encode_tokens

        with torch.inference_mode():
            tokens = self.tokenizer(list(texts)).to(self.device)
            features = encode_tokens(self.model, tokens)
            features = torch.nn.functional.normalize(features.float(), dim=-1)
            return features.cpu().numpy().astype(np.float32)


def _register_config(spec: ModelSpec) -> None:
    import open_clip

    if not spec.config:
        return
    path = Path(spec.config)
    try:
        config = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelUnavailableError(f"cannot read the model config {path}: {exc}") from exc
    if not isinstance(config, dict) or not {"embed_dim", "vision_cfg", "text_cfg"} <= config.keys():
        raise ModelUnavailableError(
            f"{path} is not an open_clip model config (it needs embed_dim, vision_cfg and text_cfg)"
        )
    if path.stem == spec.name:
        open_clip.add_model_config(path)
        return
    # open_clip registers a config under its file's stem; give it a copy named after the model.
    with tempfile.TemporaryDirectory() as tmp:
        named = Path(tmp) / f"{spec.name}.json"
        named.write_text(json.dumps(config), "utf-8")
        open_clip.add_model_config(named)


def load_embedder(
    spec: ModelSpec,
    device: str = "auto",
    offline: bool = False,
    cache_dir: Path | None = None,
    *,
    key: str | None = None,
) -> Embedder:
    """Load a CLIP model through open_clip.

    Args:
        spec: architecture name, pretrained tag or checkpoint file, optional custom config.
        device: "auto", "cpu", "cuda" or "mps".
        offline: never try to download; only cached or local weights.
        cache_dir: where downloaded weights are kept.
        key: the model's `model_key` when the caller knows it already (it hashes the weights file otherwise).

    Raises:
        ModelUnavailableError: the weights are missing, unknown or unreadable; the message says what to do.
    """
    _set_offline(offline)
    try:
        import open_clip
    except ImportError as exc:  # a broken torch/torchvision pair shows up here
        raise ModelUnavailableError(f"open_clip cannot be imported ({exc}); reinstall PhotoAtlas") from exc
    _check_names(open_clip, spec)
    chosen = select_device(device)
    try:
        model, preprocess = _create_model(open_clip, spec, chosen, cache_dir, offline)
        tokenizer = open_clip.get_tokenizer(spec.name)
    except ModelUnavailableError:
        raise
    except Exception as exc:
        raise ModelUnavailableError(_advice(spec, exc, offline)) from exc
    model.eval()
    return Embedder(spec, model, preprocess, tokenizer, chosen, key or model_key(spec))


# The model loaded last in this process, by what identifies it: the window's serial worker opens a `Library`
# per operation, and each search must not load the model anew.
_shared: tuple[tuple[object, ...], Embedder] | None = None
_shared_lock = threading.Lock()


def shared_embedder(
    spec: ModelSpec,
    device: str = "auto",
    offline: bool = False,
    cache_dir: Path | None = None,
    key: str | None = None,
) -> Embedder:
    """`load_embedder`, reusing the model this process loaded last when it is the same one.

    The same spec, device and cache folder, with its weights and config files of the same size and
    modification time, give the same model: it is returned as it is. The loaded model is never trained
    in place (fine-tuning trains a copy), so sharing it keeps every embedding the same.
    """
    global _shared
    identity = (spec, device, offline, cache_dir, spec.files_stat())
    with _shared_lock:
        if _shared is not None and _shared[0] == identity:
            return _shared[1]
        _shared = None  # the previous model is released before the next one is loaded
        embedder = load_embedder(spec, device, offline, cache_dir, key=key)
        _shared = (identity, embedder)
        return embedder


def loaded_embedder(
    spec: ModelSpec, device: str = "auto", offline: bool = False, cache_dir: Path | None = None
) -> Embedder | None:
    """The model `shared_embedder` would return without loading anything; None when it would load one."""
    identity = (spec, device, offline, cache_dir, spec.files_stat())
    with _shared_lock:
        return _shared[1] if _shared is not None and _shared[0] == identity else None


def load_and_try(
    spec: ModelSpec, device: str = "auto", offline: bool = False, cache_dir: Path | None = None
) -> Embedder | None:
    """Check a model before a library is set to it; the loaded model when it was loaded to check it.

    A checkpoint file is loaded and tried on one small generated image and one text (loading is the check,
    and the only way to know the file fits the architecture). A pretrained tag is only looked up: loading
    it would mean downloading, or seconds of loading a large cached model, just to check a name.

    Raises:
        ModelUnavailableError: the file does not load or fails the trial, or the names are unknown; the
            message says why in words.
    """
    if spec.pretrained_is_file:
        from engine.embed.checkpoint import try_embedder

        embedder = load_embedder(spec, device, offline, cache_dir)
        try_embedder(embedder)
        return embedder
    try:
        import open_clip
    except ImportError as exc:
        raise ModelUnavailableError(f"open_clip cannot be imported ({exc}); reinstall PhotoAtlas") from exc
    _check_names(open_clip, spec)
    return None


def _check_names(open_clip: Any, spec: ModelSpec) -> None:
    """Register the spec's config, then check open_clip knows the architecture and the tag (or the file exists)."""
    _register_config(spec)
    if spec.name not in open_clip.list_models():
        raise ModelUnavailableError(
            f"unknown model architecture {spec.name!r}; use an open_clip name such as ViT-B-32, or register a "
            f"custom one with --model-config FILE.json"
        )
    if spec.pretrained_is_file:
        if not Path(spec.pretrained).is_file():
            raise ModelUnavailableError(f"the checkpoint file {spec.pretrained} does not exist")
        return
    known = open_clip.list_pretrained_tags_by_model(spec.name)
    if spec.pretrained not in known:
        shown = ", ".join(known) if known else "none: pass a local checkpoint file with --pretrained"
        raise ModelUnavailableError(
            f"unknown pretrained weights {spec.pretrained!r} for {spec.name}; known tags: {shown}"
        )


def _create_model(open_clip: Any, spec: ModelSpec, device: str, cache_dir: Path | None, offline: bool) -> Any:
    """Create the model: from a local file, else from the download cache, else by downloading once."""
    kwargs = {"pretrained": spec.pretrained, "device": device, "cache_dir": str(cache_dir) if cache_dir else None}
    if spec.pretrained_is_file:
        with _quiet_logging():
            return _create_and_load(open_clip, spec.name, kwargs)
    try:  # cached weights first: no network, no waiting on retries
        with _hub_offline(), _quiet_logging():
            return _create_and_load(open_clip, spec.name, kwargs)
    except Exception:
        if offline:
            raise
    if not _hub_reachable():
        raise ModelUnavailableError(_advice(spec, ConnectionError("no internet connection"), offline))
    with _quiet_logging():
        return _create_and_load(open_clip, spec.name, kwargs)


# One fast load at a time: it swaps functions of torch.nn.init and open_clip.factory for its duration.
_fast_load_lock = threading.Lock()


def _create_and_load(open_clip: Any, name: str, kwargs: dict[str, Any]) -> tuple[Any, Any]:
    """open_clip's `create_model_and_transforms`, without the random initialisation the weights replace.

    open_clip builds both towers and draws random values for every parameter (seconds for ViT-B-32's 150M)
    before the checkpoint overwrites them all. Here the draws are skipped and the checkpoint's tensors are
    assigned to the model instead of copied into it. open_clip loads the checkpoint with `strict=True`, so
    every parameter and persistent buffer is replaced; non-persistent buffers (the text tower's causal
    mask) are computed by their modules, not drawn. Whenever the checkpoint does not go through that strict
    load (a numpy big_vision file, no weights at all), the model is built again the ordinary way.
    """
    with _fast_load_lock, _skipping_random_init(), _assigning_checkpoint(open_clip) as assigned:
        model, _, preprocess = open_clip.create_model_and_transforms(name, **kwargs)
    if assigned:
        return model, preprocess
    model, _, preprocess = open_clip.create_model_and_transforms(name, **kwargs)
    return model, preprocess


# The initialisers open_clip's towers and torch's layers call while they are built.
_INIT_FUNCTIONS = (
    "normal_",
    "uniform_",
    "trunc_normal_",
    "kaiming_uniform_",
    "kaiming_normal_",
    "xavier_uniform_",
    "xavier_normal_",
    "constant_",
    "zeros_",
    "ones_",
    "orthogonal_",
)


@contextmanager
def _skipping_random_init() -> Iterator[None]:
    """torch.nn.init leaves tensors as they are, on this thread only (another may be building its own model)."""
    import torch

    loading = threading.get_ident()

    def skipped_here(original: Any) -> Any:
        def init(tensor: Any, *args: Any, **kwargs: Any) -> Any:
            return tensor if threading.get_ident() == loading else original(tensor, *args, **kwargs)

        return init

    # torch.nn.MultiheadAttention calls the initialisers it imported by name, not through torch.nn.init.
    modules = (torch.nn.init, torch.nn.modules.activation)
    saved = [(m, name, getattr(m, name)) for m in modules for name in _INIT_FUNCTIONS if hasattr(m, name)]
    for module, name, function in saved:
        setattr(module, name, skipped_here(function))
    try:
        yield
    finally:
        for module, name, function in saved:
            setattr(module, name, function)


@contextmanager
def _assigning_checkpoint(open_clip: Any) -> Iterator[list[bool]]:
    """Make open_clip's strict checkpoint load assign the tensors; yields a flag list, true once it did."""
    import torch

    factory = open_clip.factory
    original = factory.load_checkpoint
    assigned: list[bool] = []

    def assign_state_dict(model: Any, state_dict: Any, strict: bool = True, assign: bool = False) -> Any:
        if not strict:
            return torch.nn.Module.load_state_dict(model, state_dict, strict=strict, assign=assign)
        targets = model.state_dict(keep_vars=True)
        # The model's dtype and device win, as when copying: a half-precision file still gives a float32 model.
        ready = {
            name: tensor.to(device=targets[name].device, dtype=targets[name].dtype) if name in targets else tensor
            for name, tensor in state_dict.items()
        }
        result = torch.nn.Module.load_state_dict(model, ready, strict=True, assign=True)
        assigned.append(True)
        return result

    def load_checkpoint(model: Any, *args: Any, **kwargs: Any) -> Any:
        model.load_state_dict = assign_state_dict.__get__(model)
        try:
            return original(model, *args, **kwargs)
        finally:
            del model.load_state_dict

    factory.load_checkpoint = load_checkpoint
    try:
        yield assigned
    finally:
        factory.load_checkpoint = original


@contextmanager
def _hub_offline() -> Iterator[None]:
    import huggingface_hub.constants as hub_constants

    before = hub_constants.HF_HUB_OFFLINE
    hub_constants.HF_HUB_OFFLINE = True
    try:
        yield
    finally:
        hub_constants.HF_HUB_OFFLINE = before


@contextmanager
def _quiet_logging() -> Iterator[None]:
    # open_clip and the hub log every failed attempt; PhotoAtlas reports one clear error instead.
    logging.disable(logging.ERROR)
    try:
        yield
    finally:
        logging.disable(logging.NOTSET)


def _hub_reachable(timeout: float = 3.0) -> bool:
    host = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co")).hostname or "huggingface.co"
    try:
        with socket.create_connection((host, 443), timeout=timeout):
            return True
    except OSError:
        return False


def _advice(spec: ModelSpec, exc: BaseException, offline: bool) -> str:
    if spec.pretrained_is_file:
        from engine.embed.checkpoint import explain_load_failure

        return explain_load_failure(spec, exc)
    size = _DOWNLOAD_MB.get(spec.name)
    about = f" (about {size} MB, once)" if size else " (once)"
    if offline:
        # Offline, nothing was asked of the network: the hub's own words ("check your connection") would mislead.
        return (
            f"the CLIP weights {spec.name}/{spec.pretrained} are not on this computer, and this library is set to "
            f"work offline, so they are not downloaded. To fix it, download them{about} with photoatlas model "
            f"download (or index with --no-offline), or use a weights file you already have: photoatlas model use FILE"
        )
    reason = str(exc).strip().splitlines()[0].rstrip(".") if str(exc).strip() else type(exc).__name__
    how = "connect to the internet"
    return (
        f"the CLIP weights {spec.name}/{spec.pretrained} are not on this computer and could not be downloaded: "
        f"{reason}. To fix it, {how} so PhotoAtlas can download them{about}, or point it at a checkpoint file "
        f"you already have: photoatlas index --model {spec.name} --pretrained /path/to/weights.safetensors PATH"
    )
