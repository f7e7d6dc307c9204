"""Fine-tuning the last blocks of CLIP's image tower inside DAC refinement (meant for a GPU).

The tower is split where the trainable part begins: every photo passes the frozen part once (its tokens
are cached), and `VisualTail` (the last blocks, the pooling and the projection) trains with the DAC head
on those tokens. So an epoch costs only the tail, and memory holds one token grid per photo rather than
the whole tower's activations. Only open_clip's ViT towers split this way; other towers are refused with
a clear message.

The photos are read from their cached thumbnails (at least the model's input size, already upright), so
fine-tuning never re-reads the originals.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from engine.errors import InvalidInputError
from engine.progress import ProgressReporter, check_cancelled, ensure_progress

# Bytes of activations per token and width unit that training one block keeps for the backward pass
# (attention and MLP intermediates, float32): a generous estimate, so the batch fits the card.
_BYTES_PER_TOKEN_WIDTH_BLOCK = 4 * 24
_CPU_BATCH = 64


def _tower(model: Any) -> Any:
    visual = getattr(model, "visual", None)
    needed = ("_embeds", "transformer", "_pool", "proj")
    if visual is None or not all(hasattr(visual, n) for n in needed) or not hasattr(visual.transformer, "resblocks"):
        raise InvalidInputError(
            "fine-tuning CLIP needs a ViT image tower (open_clip VisionTransformer); this model has another kind"
        )
    return visual


def _run_blocks(transformer: Any, blocks: Iterable[Any], x: Any) -> Any:
    """Run some of a transformer's blocks on batch-first tokens, as `Transformer.forward` does."""
    batch_first = getattr(transformer, "batch_first", True)
    if not batch_first:
        x = x.transpose(0, 1).contiguous()
    for block in blocks:
        x = block(x, attn_mask=None)
    if not batch_first:
        x = x.transpose(0, 1)
    return x


class VisualTail(torch.nn.Module):
    """The trainable end of a ViT image tower: its last `blocks` blocks, pooling and projection.

    Maps cached tokens (n, tokens, width) to L2-normalised image features, like `encode_image` would.
    It trains a copy of the tower: the loaded model, which embeds new photos, stays as it was, so every
    stored embedding keeps meaning the same thing.
    """

    def __init__(self, model: Any, blocks: int) -> None:
        super().__init__()
        visual = copy.deepcopy(_tower(model))
        total = len(visual.transformer.resblocks)
        if not 1 <= blocks <= total:
            raise InvalidInputError(f"this model's image tower has {total} blocks: fine-tune 1 to {total} of them")
        self.visual = visual
        self.start = total - blocks
        for parameter in visual.parameters():
            parameter.requires_grad_(False)
        self.trainable = torch.nn.ModuleList(list(visual.transformer.resblocks[self.start :]))
        for module in (self.trainable, getattr(visual, "ln_post", None)):
            if module is not None:
                for parameter in module.parameters():
                    parameter.requires_grad_(True)
        if isinstance(visual.proj, torch.nn.Parameter):
            visual.proj.requires_grad_(True)

    def forward(self, tokens: Any) -> Any:
        x = _run_blocks(self.visual.transformer, self.trainable, tokens)
        pooled, _ = self.visual._pool(x)
        if self.visual.proj is not None:
            pooled = pooled @ self.visual.proj
        return torch.nn.functional.normalize(pooled.float(), dim=-1)


def cache_tokens(
    model: Any,
    images: Sequence[Any],
    blocks: int,
    device: str,
    batch_size: int = 32,
    progress: ProgressReporter | None = None,
) -> np.ndarray:
    """The tokens entering the last `blocks` blocks of the tower, for preprocessed image tensors (float32)."""
    progress = ensure_progress(progress)
    visual = _tower(model)
    start = len(visual.transformer.resblocks) - blocks
    progress.phase("caching image tokens", len(images))
    parts = []
    with torch.inference_mode():
        for i in range(0, len(images), batch_size):
            check_cancelled(progress)
            pixels = torch.stack(list(images[i : i + batch_size])).to(device)
            x = visual._embeds(pixels)
            x = _run_blocks(visual.transformer, visual.transformer.resblocks[:start], x)
            parts.append(x.float().cpu().numpy())
            progress.advance(len(pixels))
    return np.concatenate(parts).astype(np.float32)


def batch_size_for(device: str, tokens: int, width: int, blocks: int) -> int:
    """A DAC batch that fits the card: a third of its free memory for the tail's activations (64 on CPU)."""
    if not device.startswith("cuda"):
        return _CPU_BATCH
    free, _ = torch.cuda.mem_get_info(torch.device(device))
    per_photo = tokens * width * blocks * _BYTES_PER_TOKEN_WIDTH_BLOCK
    return int(max(16, min(1024, free // 3 // max(per_photo, 1))))


def thumbnail_pixels(preprocess: Any, paths: Sequence[Path]) -> list[Any]:
    """Preprocessed tensors of the photos' cached thumbnails (already upright and small)."""
    from PIL import Image

    out = []
    for path in paths:
        with Image.open(path) as image:
            out.append(preprocess(image.convert("RGB")))
    return out
