"""Shared by the read-out tests: block-structured affinities and comparing partitions up to renaming."""

from __future__ import annotations

import numpy as np


def block_affinity(sizes: list[int], link: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A symmetric affinity of one dense block per size (weights 0.5–1.5) linked by `link`, and the truth."""
    rng = np.random.default_rng(seed)
    truth = np.repeat(np.arange(len(sizes)), sizes)
    same = truth[:, None] == truth[None, :]
    w = np.where(same, 0.5 + rng.random((len(truth),) * 2), link)
    return (w + w.T) / 2, truth


def same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two labelings group the items alike, whatever the label numbers."""
    pairs = {(int(x), int(y)) for x, y in zip(a, b, strict=True)}
    return len(pairs) == len(set(a)) == len(set(b))
