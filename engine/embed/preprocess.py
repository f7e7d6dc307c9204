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


# -- the same transform as data, for indexing without torch ---------------------------------------------------


def describe(preprocess: Any) -> dict[str, Any] | None:
    """open_clip's usual eval transform (resize, centre crop, RGB, to tensor, normalise) as JSON-able data that
    `from_description` rebuilds with Pillow and numpy alone; None for any other transform, or when the rebuilt
    one differs from it on probe images of several shapes."""
    import torch
    from PIL import Image
    from torchvision.transforms import CenterCrop, Normalize, Resize

    steps = list(getattr(preprocess, "transforms", []))
    names = [type(s).__name__ for s in steps]
    if len(steps) != 5 or names[3] not in _TO_TENSOR or not isinstance(steps[4], Normalize):
        return None
    resize, crop, rgb = steps[0], steps[1], steps[2]
    converts = type(rgb).__name__ == "MaybeConvertMode" and getattr(rgb, "mode", None) == "RGB"
    converts = converts or getattr(rgb, "__name__", "") == "_convert_to_rgb"  # open_clip before 3.0
    if not isinstance(resize, Resize) or not isinstance(crop, CenterCrop) or not converts:
        return None
    if resize.max_size is not None:
        return None
    size = list(resize.size) if isinstance(resize.size, (list, tuple)) else [int(resize.size)]
    description = {
        "resize": size,
        "interpolation": str(resize.interpolation.value),
        "crop": list(crop.size),
        "mean": [float(v) for v in steps[4].mean],
        "std": [float(v) for v in steps[4].std],
    }
    try:
        rebuilt = from_description(description)
        rng = np.random.default_rng(0)
        for height, width in ((150, 200), (300, 120), (224, 224), (97, 331), (640, 480)):
            probe = Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8), "RGB")
            if not torch.allclose(torch.from_numpy(rebuilt(probe)), preprocess(probe), atol=1e-5):
                return None
    except Exception:  # a transform this does not understand exactly
        return None
    return description


def from_description(description: dict[str, Any]) -> Callable[[Any], np.ndarray]:
    """The transform `describe` described, as Pillow and numpy steps returning a (3, H, W) float32 array."""
    from PIL import Image

    size = [int(v) for v in description["resize"]]
    resample = Image.Resampling[str(description["interpolation"]).upper()]
    crop_h, crop_w = (int(v) for v in description["crop"])
    mean = np.asarray(description["mean"], dtype=np.float32).reshape(-1, 1, 1)
    std = np.asarray(description["std"], dtype=np.float32).reshape(-1, 1, 1)
    scale = (1.0 / (255.0 * std)).astype(np.float32)
    shift = (mean / std).astype(np.float32)

    def transform(image: Any) -> np.ndarray:
        width, height = image.size
        if len(size) == 1:  # the short side to `size`, the long one in proportion (torchvision's rule)
            short, long = (width, height) if width <= height else (height, width)
            new_short, new_long = size[0], int(size[0] * long / short)
            new_w, new_h = (new_short, new_long) if width <= height else (new_long, new_short)
        else:
            new_h, new_w = size
        if (new_w, new_h) != (width, height):
            image = image.resize((new_w, new_h), resample)
        if crop_w > new_w or crop_h > new_h:
            raise ValueError("the crop is larger than the resized image")  # torchvision pads: not rebuilt here
        top, left = round((new_h - crop_h) / 2.0), round((new_w - crop_w) / 2.0)
        image = image.crop((left, top, left + crop_w, top + crop_h)).convert("RGB")
        array = np.asarray(image, dtype=np.float32).transpose(2, 0, 1)
        return np.ascontiguousarray(array * scale - shift)

    return transform
