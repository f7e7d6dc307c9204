"""Data and metrics shared by the clustering benchmarks (CPP now, DAC later).

- `synthetic_clip_like`: unit-norm 512-d features from imbalanced curved low-dimensional manifolds inside
  a common cone (like CLIP embeddings, whose pairwise cosines are rarely below ~0.3), plus noise points.
- `fashion_mnist_test`: Fashion-MNIST's 10k test images from the Debian package `dataset-fashion-mnist`,
  as PCA-128 of the raw pixels (scaled to [0, 1], PCA fitted on the same 10k images, seed 0), L2-normalised.
- `clustering_scores`: ACC (Hungarian matching), NMI and ARI.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")


def synthetic_clip_like(
    n: int = 5000,
    n_clusters: int = 12,
    dim: int = 512,
    noise_fraction: float = 0.03,
    imbalance: float = 0.8,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic CLIP-like features and ground-truth labels (−1 for noise points).

    Cluster j has intrinsic dimension r_j ∈ [2, 6]: latent t ~ N(0, I_r) is lifted onto a curved manifold
    (cos and sin of random frequencies of t, so the cluster is not a flat Gaussian), placed in a random
    2r_j-dimensional subspace with a cluster-specific spread, around a cluster centre inside a shared cone,
    then isotropic noise is added and the row is L2-normalised. Sizes follow a power law 1/(j+1)^imbalance.

    Returns:
        (x float32 (n, dim), labels int64 (n,)).
    """
    rng = np.random.default_rng(seed)
    n_noise = round(noise_fraction * n)
    weights = 1.0 / np.arange(1, n_clusters + 1) ** imbalance
    sizes = np.floor(weights / weights.sum() * (n - n_noise)).astype(int)
    sizes[0] += n - n_noise - sizes.sum()
    common = rng.standard_normal(dim)
    common /= np.linalg.norm(common)
    xs, ys = [], []
    for j, m in enumerate(sizes):
        r = int(rng.integers(2, 7))
        centre = rng.standard_normal(dim)
        centre = 0.8 * common + 0.8 * centre / np.linalg.norm(centre)
        basis, _ = np.linalg.qr(rng.standard_normal((dim, 2 * r)))
        freq = rng.uniform(0.5, 1.5, size=r)
        t = rng.standard_normal((m, r))
        curved = np.concatenate([np.cos(freq * t), np.sin(freq * t)], axis=1)
        spread = rng.uniform(0.8, 1.5)
        x = centre + spread * curved @ basis.T + 0.02 * rng.standard_normal((m, dim))
        xs.append(x)
        ys.append(np.full(m, j))
    noise = 0.6 * common + 0.8 * rng.standard_normal((n_noise, dim)) / np.sqrt(dim)
    xs.append(noise)
    ys.append(np.full(n_noise, -1))
    x = np.concatenate(xs)
    y = np.concatenate(ys)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    order = rng.permutation(n)
    return x[order].astype(np.float32), y[order].astype(np.int64)


def _read_idx(path: Path) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        data = f.read()
    n_dims = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(n_dims))
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * n_dims).reshape(shape)


def fashion_mnist_test(n_components: int = 128) -> tuple[np.ndarray, np.ndarray]:
    """Fashion-MNIST test set as PCA-`n_components` of pixels, L2-normalised, and its labels.

    Raises:
        FileNotFoundError: the package is missing (`apt-get install -y dataset-fashion-mnist`).
    """
    from sklearn.decomposition import PCA

    images = _read_idx(FASHION_DIR / "t10k-images-idx3-ubyte.gz").reshape(-1, 784).astype(np.float32) / 255.0
    labels = _read_idx(FASHION_DIR / "t10k-labels-idx1-ubyte.gz").astype(np.int64)
    feats = PCA(n_components=n_components, random_state=0).fit_transform(images)
    feats /= np.linalg.norm(feats, axis=1, keepdims=True)
    return feats.astype(np.float32), labels


def hungarian_accuracy(truth: np.ndarray, pred: np.ndarray) -> float:
    """Best one-to-one matching of predicted clusters to classes; predictions of −1 always count wrong."""
    from scipy.optimize import linear_sum_assignment

    classes = np.unique(truth)
    clusters = np.unique(pred[pred >= 0])
    if len(clusters) == 0:
        return 0.0
    cost = np.zeros((len(clusters), len(classes)), dtype=np.int64)
    ci = np.searchsorted(clusters, pred[pred >= 0])
    ti = np.searchsorted(classes, truth[pred >= 0])
    np.add.at(cost, (ci, ti), 1)
    rows, cols = linear_sum_assignment(-cost)
    return float(cost[rows, cols].sum() / len(truth))


def clustering_scores(truth: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    """ACC (Hungarian), NMI and ARI of a predicted partition against the truth."""
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    return {
        "ACC": hungarian_accuracy(truth, pred),
        "NMI": float(normalized_mutual_info_score(truth, pred)),
        "ARI": float(adjusted_rand_score(truth, pred)),
    }
