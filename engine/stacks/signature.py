"""What the stacking rules read from a photo's thumbnail: a tiny colour signature and a focus measure."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

SIGNATURE_SIDE = 16
SIGNATURE_DIM = SIGNATURE_SIDE * SIGNATURE_SIDE * 3
# Below this spread (grey levels) a thumbnail is flat: its signature matches nothing.
FLAT_LEVELS = 1.0


def signature_and_sharpness(jpeg: bytes) -> tuple[np.ndarray, float]:
    """(signature, sharpness) of a thumbnail.

    The signature is the image shrunk to 16×16 colour pixels (box filter), each channel centred, scaled to unit
    length, so that a dot product of two is their correlation: a re-encoded or resized copy and a burst frame keep the
    layout (≥ 0.995), another photo of the same subject does not. Sharpness is the variance of the Laplacian of
    the grey thumbnail (a standard focus measure: blur removes the high frequencies it responds to).
    """
    with Image.open(io.BytesIO(jpeg)) as image:
        rgb = image.convert("RGB")
        small = np.asarray(rgb.resize((SIGNATURE_SIDE, SIGNATURE_SIDE), Image.Resampling.BOX), dtype=np.float32)
        grey = np.asarray(rgb.convert("L"), dtype=np.float32)
    # Each channel centred on its own mean: the layout counts, not the colour cast (CLIP judges colour), and a
    # flat picture has no layout to match (two plain red squares are not copies of each other).
    vector = (small - small.mean(axis=(0, 1), keepdims=True)).ravel()
    norm = float(np.linalg.norm(vector))
    flat = float(vector.std()) < FLAT_LEVELS
    signature = np.zeros(SIGNATURE_DIM, dtype=np.float32) if flat else vector / norm
    return signature.astype(np.float32), laplacian_variance(grey)


def laplacian_variance(grey: np.ndarray) -> float:
    """Variance of the 4-neighbour Laplacian over the image's interior."""
    if grey.shape[0] < 3 or grey.shape[1] < 3:
        return 0.0
    lap = grey[:-2, 1:-1] + grey[2:, 1:-1] + grey[1:-1, :-2] + grey[1:-1, 2:] - 4.0 * grey[1:-1, 1:-1]
    return float(lap.var())
