"""What a weights file holds: said in words when it does not load as the chosen model, and a trial run.

A file the user picks may be anything: a text file renamed `.pt`, a download cut short, or the weights of
another architecture. open_clip reports these as whatever its loaders raise ("invalid load key", "size
mismatch for visual.conv1.weight", "text pos_embed width changed!"). Here the file itself is read (tensor
names and shapes only, memory-mapped where the format allows) to say which of these it is, and, for
another architecture, which one it looks like.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from engine.errors import ModelUnavailableError
from engine.paths import display
from engine.settings import ModelSpec

_WEIGHTS_MAGIC = (b"PK\x03\x04", b"\x80")  # torch's zip format; a legacy pickle
_IMAGE_MAGIC = {b"\xff\xd8\xff": "a JPEG image", b"\x89PNG": "a PNG image", b"GIF8": "a GIF image"}
_BLOCK = re.compile(r"^visual\.transformer\.resblocks\.(\d+)\.")


@dataclass(frozen=True)
class Architecture:
    """The shapes that tell CLIP models apart (None where the weights or the config do not say)."""

    vision_width: int | None
    patch_size: int | None
    vision_layers: int | None
    embed_dim: int | None
    text_width: int | None

    def differences(self, expected: Architecture) -> list[str]:
        """The shapes both sides know that differ, in words ("patch 16, not 32")."""
        labels = ("image width", "patch", "image layers", "embedding size", "text width")
        pairs = zip(labels, dataclasses.astuple(self), dataclasses.astuple(expected), strict=True)
        return [f"{label} {a}, not {b}" for label, a, b in pairs if a is not None and b is not None and a != b]


def explain_load_failure(spec: ModelSpec, exc: BaseException) -> str:
    """Why the checkpoint file of `spec` does not load, in words, with what to do."""
    path = Path(spec.pretrained)
    name = display(path.name)
    if not path.exists():
        return f"the checkpoint file {display(path)} does not exist"
    if path.is_dir():
        return f"{display(path)} is a folder; choose the weights file inside it"
    if path.stat().st_size == 0:
        return f"this file is not a model weights file ({name} is empty)"
    try:
        shapes = read_shapes(path)
    except Exception as read_error:  # each format's reader raises its own types for a file it cannot parse
        return _unreadable(path, read_error)
    if not shapes:
        return f"this file is not a model weights file ({name} holds no tensors)"
    found = architecture_of(shapes)
    if found is None:
        return (
            f"this file is not the weights of a CLIP model ({name} holds {len(shapes)} tensors such as "
            f"{next(iter(shapes))}); choose an open_clip checkpoint"
        )
    expected = _config_architecture(spec.name)
    differences = found.differences(expected) if expected is not None else []
    if differences:
        like = _looks_like(found)
        what = f"it looks like {like}: " if like else ""
        return (
            f"this file holds weights for a different model ({what}{' and '.join(differences)}); "
            f"choose the file that matches {spec.name}, or choose its model"
        )
    reason = str(exc).strip().splitlines()[0].rstrip(".") if str(exc).strip() else type(exc).__name__
    return (
        f"cannot load the checkpoint {display(path)} for {spec.name}: {reason}. Check that the file is complete "
        f"and is an open_clip checkpoint of this architecture"
    )


def _unreadable(path: Path, exc: BaseException) -> str:
    name = display(path.name)
    with open(path, "rb") as handle:
        head = handle.read(512)
    looks_like_weights = head.startswith(_WEIGHTS_MAGIC) or _is_safetensors(head)
    if looks_like_weights and "weights only load failed" in str(exc).lower():
        return (
            f"this file holds Python objects besides the weights ({name}), which PhotoAtlas does not run; "
            f"choose a plain weights file (.safetensors is safest)"
        )
    if looks_like_weights:
        return (
            f"this file looks like model weights but cannot be read ({name} may be incomplete or damaged, "
            f"e.g. a download cut short); download it again"
        )
    kind = next((k for magic, k in _IMAGE_MAGIC.items() if head.startswith(magic)), None)
    if kind is None:
        try:
            head.decode("utf-8")
            kind = "text"
        except UnicodeDecodeError:
            kind = None
    held = f"{name} holds {kind}" if kind else name
    return f"this file is not a model weights file ({held}); choose the CLIP weights (.safetensors, .pt or .bin)"


def _is_safetensors(head: bytes) -> bool:
    if len(head) < 9:
        return False
    header = int.from_bytes(head[:8], "little")
    return 2 <= header < 100_000_000 and head[8:9] == b"{"


def read_shapes(path: Path) -> dict[str, tuple[int, ...]]:
    """The names and shapes of the tensors in a weights file, read the way open_clip reads it.

    Raises:
        Exception: whatever the format's reader raises for a file it cannot parse.
    """
    import torch

    if path.suffix == ".safetensors":
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as weights:
            return {key: tuple(weights.get_slice(key).get_shape()) for key in weights.keys()}  # noqa: SIM118
    try:
        checkpoint: Any = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except RuntimeError as exc:  # a legacy (non-zip) file cannot be memory-mapped
        if "mmap" not in str(exc).lower() and "zip" not in str(exc).lower():
            raise
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(checkpoint, dict) and isinstance(checkpoint.get("state_dict"), dict):
        checkpoint = checkpoint["state_dict"]
    if not isinstance(checkpoint, dict):
        return {}
    shapes = {}
    for key, value in checkpoint.items():
        if isinstance(key, str) and isinstance(value, torch.Tensor):
            shapes[key.removeprefix("module.")] = tuple(value.shape)
    return shapes


def architecture_of(shapes: dict[str, tuple[int, ...]]) -> Architecture | None:
    """The architecture a CLIP state dict describes; None when it is not a CLIP model's."""

    def shape(*keys: str) -> tuple[int, ...] | None:
        return next((shapes[k] for k in keys if k in shapes), None)

    conv = shape("visual.conv1.weight")
    token = shape("token_embedding.weight", "text.token_embedding.weight")
    if conv is None and token is None and not any(k.startswith("visual.") for k in shapes):
        return None
    projection = shape("text_projection", "text.text_projection", "visual.proj")
    layers = {int(m.group(1)) for k in shapes if (m := _BLOCK.match(k))}
    return Architecture(
        vision_width=conv[0] if conv and len(conv) == 4 else None,
        patch_size=conv[2] if conv and len(conv) == 4 else None,
        vision_layers=max(layers) + 1 if layers else None,
        embed_dim=projection[-1] if projection else None,
        text_width=token[1] if token and len(token) == 2 else None,
    )


def _architecture_of_config(config: dict[str, Any]) -> Architecture | None:
    vision = config.get("vision_cfg", {})
    text = config.get("text_cfg", {})
    if not isinstance(vision, dict) or "patch_size" not in vision or vision.get("timm_model_name"):
        return None
    layers = vision.get("layers")
    return Architecture(
        vision_width=vision.get("width"),
        patch_size=vision.get("patch_size"),
        vision_layers=layers if isinstance(layers, int) else None,
        embed_dim=config.get("embed_dim"),
        text_width=None if not isinstance(text, dict) or text.get("hf_model_name") else text.get("width"),
    )


def _config_architecture(name: str) -> Architecture | None:
    import open_clip

    config = open_clip.get_model_config(name)
    return _architecture_of_config(config) if config else None


def _looks_like(found: Architecture) -> str:
    """The open_clip architectures whose shapes these weights have (at most two, shortest names first)."""
    import open_clip

    names = []
    for name in open_clip.list_models():
        arch = _config_architecture(name)
        if arch is not None and arch == found:
            names.append(name)
    names.sort(key=lambda n: (len(n), n))
    return " or ".join(names[:2])


def try_embedder(embedder: Any) -> None:
    """Embed one small generated image and one text: a model that loads but cannot do this is refused.

    Raises:
        ModelUnavailableError: the model fails on the trial or gives no usable numbers.
    """
    from PIL import Image

    image = Image.merge(
        "RGB", (Image.linear_gradient("L"), Image.linear_gradient("L").rotate(90), Image.new("L", (256, 256), 90))
    ).resize((64, 48))
    try:
        pixels = embedder.embed_images([embedder.preprocess(image)])
        words = embedder.embed_texts(["a photo of a dog"])
    except Exception as exc:  # any failure of the model's own code on a plain input
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelUnavailableError(
            f"the model {embedder.spec.name} loads but fails on a test image ({reason}); choose another file"
        ) from exc
    usable = pixels.shape == (1, embedder.dim) and words.shape[-1] == embedder.dim
    # Embeddings are unit vectors: NaN or all-zero features (damaged weights) fail this.
    if not usable or not all(abs(float(np.linalg.norm(v[0])) - 1.0) < 1e-3 for v in (pixels, words)):
        raise ModelUnavailableError(
            f"the weights in this file give no usable numbers on a test image (the file may be damaged); "
            f"choose another file for {embedder.spec.name}"
        )
