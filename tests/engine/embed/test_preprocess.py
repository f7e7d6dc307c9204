"""The model's preprocessing with its to-tensor and normalise steps in numpy: the same tensors as open_clip's."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image
from torchvision.transforms import Compose, Resize

from engine.embed.embedder import load_embedder
from engine.embed.preprocess import numpy_tail
from engine.settings import ModelSpec


def test_same_tensors_as_open_clip(tiny_model: dict[str, str]) -> None:
    embedder = load_embedder(ModelSpec(tiny_model["name"], tiny_model["pretrained"], tiny_model["config"]), "cpu")
    fast = numpy_tail(embedder.preprocess)
    assert fast is not embedder.preprocess
    rng = np.random.default_rng(1)
    for size, mode in (((640, 480), "RGB"), ((300, 500), "RGB"), ((64, 64), "L"), ((120, 90), "RGBA")):
        image = Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8), "RGB").convert(mode)
        expected = embedder.preprocess(image)
        got = fast(image)
        assert got.dtype == torch.float32 and got.shape == expected.shape
        torch.testing.assert_close(got, expected, atol=1e-5, rtol=0)


def test_other_transforms_are_kept() -> None:
    other = Compose([Resize(32)])
    assert numpy_tail(other) is other
    assert numpy_tail(lambda image: image) is not None
