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
from collections.abc import Iterator, Sequence
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


def _file_digest(path: Path) -> str:
    digest = hashlib.blake2b(digest_size=8)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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

    def __init__(self, spec: ModelSpec, model: Any, preprocess: Any, tokenizer: Any, device: str, key: str) -> None:
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

        with torch.inference_mode():
            pixels = torch.stack(list(batch)).to(self.device, non_blocking=True)
            if self.device.startswith("cuda"):
                with torch.autocast("cuda", dtype=torch.float16):
                    features = self.model.encode_image(pixels)
            else:
                features = self.model.encode_image(pixels)
            features = torch.nn.functional.normalize(features.float(), dim=-1)
            return features.cpu().numpy().astype(np.float32)

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """Embeddings (n × dim, L2-normalised) of texts through CLIP's text tower."""
        import torch

        with torch.inference_mode():
            tokens = self.tokenizer(list(texts)).to(self.device)
            features = self.model.encode_text(tokens)
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
    spec: ModelSpec, device: str = "auto", offline: bool = False, cache_dir: Path | None = None
) -> Embedder:
    """Load a CLIP model through open_clip.

    Args:
        spec: architecture name, pretrained tag or checkpoint file, optional custom config.
        device: "auto", "cpu", "cuda" or "mps".
        offline: never try to download; only cached or local weights.
        cache_dir: where downloaded weights are kept.

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
    return Embedder(spec, model, preprocess, tokenizer, chosen, model_key(spec))


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
            model, _, preprocess = open_clip.create_model_and_transforms(spec.name, **kwargs)
        return model, preprocess
    try:  # cached weights first: no network, no waiting on retries
        with _hub_offline(), _quiet_logging():
            model, _, preprocess = open_clip.create_model_and_transforms(spec.name, **kwargs)
        return model, preprocess
    except Exception:
        if offline:
            raise
    if not _hub_reachable():
        raise ModelUnavailableError(_advice(spec, ConnectionError("no internet connection"), offline))
    with _quiet_logging():
        model, _, preprocess = open_clip.create_model_and_transforms(spec.name, **kwargs)
    return model, preprocess


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
