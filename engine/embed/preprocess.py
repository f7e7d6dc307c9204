"""The model's image preprocessing, with its last two steps (to tensor, normalise) done in numpy.

open_clip's transform ends with `ToTensor` and `Normalize`: two tiny torch operations per photo, which torch
splits over its intra-op thread pool. Called from the decoding threads while the model runs, each of them
waits on that pool: measured here at 70 ms per photo on a busy 2-core machine (1 ms on one thread), more
than the JPEG decode itself. The same arithmetic in numpy runs on the calling thread alone. The result is
checked against the original transform on a probe image when it is made; any other transform is kept as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

_TO_TENSOR = ("ToTensor", "MaybeToTensor")


def numpy_tail(preprocess: Any) -> Callable[[Any], Any]:
    """`preprocess` with its final ToTensor + Normalize in numpy, or `preprocess` itself when it does not end so
    (or the two do not agree on a probe image)."""
    import torch
    from PIL import Image
    from torchvision.transforms import Compose, Normalize

    steps = list(getattr(preprocess, "transforms", []))
    if len(steps) < 2 or not isinstance(steps[-1], Normalize) or type(steps[-2]).__name__ not in _TO_TENSOR:
        return preprocess
    normalize: Normalize = steps[-1]
    mean = np.asarray(normalize.mean, dtype=np.float32).reshape(-1, 1, 1)
    std = np.asarray(normalize.std, dtype=np.float32).reshape(-1, 1, 1)
    scale = (1.0 / (255.0 * std)).astype(np.float32)
    shift = (mean / std).astype(np.float32)
    head = Compose(steps[:-2])

    def transform(image: Any) -> Any:
        pixels = head(image)
        if not isinstance(pixels, Image.Image) or pixels.mode != "RGB":
            return steps[-1](steps[-2](pixels))
        array = np.asarray(pixels, dtype=np.float32).transpose(2, 0, 1)
        return torch.from_numpy(np.ascontiguousarray(array * scale - shift))

    probe = Image.fromarray(np.random.default_rng(0).integers(0, 256, (150, 200, 3), dtype=np.uint8), "RGB")
    try:
        agrees = bool(torch.allclose(transform(probe), preprocess(probe), atol=1e-5))
    except Exception:  # a transform this does not understand: keep the original
        agrees = False
    return transform if agrees else preprocess
