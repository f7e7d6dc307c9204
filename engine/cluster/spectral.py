"""Spectral read-out of clusters from the membership Π of a sample (algorithms.md §3)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph
from scipy.sparse.linalg import eigsh

from engine.cluster.kmeans import kmeans

# Below this many nodes a dense eigendecomposition is both faster and more robust than ARPACK.
_DENSE_EIGH_MAX = 1500


@dataclass(frozen=True)
class SpectralEmbedding:
    """Top eigenvectors of a graph's normalised affinity, plus the graph's connected components.

    Attributes:
        vectors: (n, m) eigenvectors of D^-1/2 W D^-1/2, largest eigenvalue first.
        components: (n,) connected-component id of every node.
        n_components: number of connected components.
        values: the eigenvalues, largest first, one more than there are vectors where the graph has that
            many nodes (the gap after the last vector is then known). Used while k is chosen (§4) and not
            stored with a fitted estimator, so a loaded one has none.
    """

    vectors: np.ndarray
    components: np.ndarray
    n_components: int
    values: np.ndarray = field(default_factory=lambda: np.empty(0))


def symmetric_affinity(pi: np.ndarray, n_neighbors: int | None = None) -> np.ndarray | sparse.csr_matrix:
    """W = (Π + Πᵀ)/2, optionally sparsified to each node's `n_neighbors` strongest links first.

    Sparsifying drops the long tail of weak memberships (which Sinkhorn never sets to exactly zero) and
    makes the eigenproblem cheap; it can disconnect the graph, which `spectral_labels` handles.
    """
    n = pi.shape[0]
    if n_neighbors is None or n_neighbors >= n - 1:
        return (pi + pi.T) / 2.0
    pi = pi.copy()
    np.fill_diagonal(pi, 0.0)
    cols = np.argpartition(-pi, n_neighbors, axis=1)[:, :n_neighbors]
    rows = np.repeat(np.arange(n), n_neighbors)
    vals = pi[rows, cols.ravel()]
    w = sparse.csr_matrix((vals, (rows, cols.ravel())), shape=(n, n))
    return ((w + w.T) / 2.0).tocsr()


def spectral_embedding(w: np.ndarray | sparse.spmatrix, n_vectors: int, seed: int = 0) -> SpectralEmbedding:
    """Top `n_vectors` eigenvectors of the normalised affinity D^-1/2 W D^-1/2 (normalised Laplacian).

    Args:
        w: (n, n) symmetric non-negative affinity, dense or sparse.
        n_vectors: how many eigenvectors to keep (the largest k that will be read out).
        seed: seeds ARPACK's start vector, for reproducible eigenvectors.
    """
    n = w.shape[0]
    n_vectors = max(1, min(n_vectors, n))
    # One eigenvalue beyond the vectors, for the gap after the last k (ARPACK needs fewer than n).
    n_values = min(n_vectors + 1, n if n <= _DENSE_EIGH_MAX else n - 1)
    is_sparse = sparse.issparse(w)
    degree = np.asarray(w.sum(axis=1)).ravel()
    # Isolated nodes have degree 0; they are their own component and must not divide by zero.
    inv_sqrt = 1.0 / np.sqrt(np.maximum(degree, 1e-12))
    if is_sparse:
        norm = sparse.diags(inv_sqrt) @ w @ sparse.diags(inv_sqrt)
        graph = w
    else:
        norm = w * inv_sqrt[:, None] * inv_sqrt[None, :]
        # Dense Π is positive everywhere in exact arithmetic; links at underflow level do not connect.
        linked = w > 1e-12 * max(float(w.max()), 1e-300)
        # The usual case, every pair linked, must not build a CSR copy of n² entries.
        graph = None if linked.all() else sparse.csr_matrix(linked)
        del linked
    if graph is None:
        n_comp, comp = 1, np.zeros(n, dtype=np.int32)
    else:
        n_comp, comp = csgraph.connected_components(graph, directed=False)
    if n <= _DENSE_EIGH_MAX or n_vectors >= n - 1:
        dense = norm.toarray() if is_sparse else norm
        vals, vecs = np.linalg.eigh((dense + dense.T) / 2.0)
        order = np.argsort(vals)[::-1][: max(n_values, n_vectors)]
    else:
        rng = np.random.default_rng(seed)
        v0 = rng.uniform(0.5, 1.0, size=n)
        vals, vecs = eigsh(norm, k=max(n_values, n_vectors), which="LA", v0=v0, tol=1e-6)
        order = np.argsort(vals)[::-1]
    return SpectralEmbedding(
        vectors=vecs[:, order[:n_vectors]],
        components=comp,
        n_components=int(n_comp),
        values=vals[order].astype(np.float64),
    )


def _merge_components(components: np.ndarray, k: int, features: np.ndarray) -> np.ndarray:
    """Group more than k connected components into k clusters.

    The smallest group is merged, repeatedly, into the group whose mean feature is most similar, so big
    coherent components stay albums and stray fragments join their nearest neighbour.
    """
    labels = components.copy()
    groups = {int(g): np.flatnonzero(labels == g) for g in np.unique(labels)}
    while len(groups) > k:
        smallest = min(groups, key=lambda g: (len(groups[g]), g))
        members = groups.pop(smallest)
        mean = features[members].mean(0)
        others = sorted(groups)
        sims = [float(features[groups[g]].mean(0) @ mean) for g in others]
        target = others[int(np.argmax(sims))]
        groups[target] = np.concatenate([groups[target], members])
    out = np.empty_like(labels)
    for new, g in enumerate(sorted(groups)):
        out[groups[g]] = new
    return out


def spectral_labels(
    embedding: SpectralEmbedding,
    k: int,
    features: np.ndarray,
    seed: int = 0,
    n_init: int = 1,
) -> tuple[np.ndarray, float]:
    """Partition into k clusters: top-k eigenvectors, row-normalised, k-means with restarts.

    A graph with at least k connected components cannot be split by eigenvectors (the top ones are then
    an arbitrary basis of component indicators); its components are merged into k clusters instead.

    Args:
        embedding: from `spectral_embedding`, with at least k vectors.
        k: number of clusters.
        features: (n, d) features used only to merge surplus components.
        seed: k-means seed.
        n_init: k-means restarts; the one with the lowest inertia is kept. One by default: the caller
            tries several seeds and keeps the partition of lowest coding length, which serves the same purpose.

    Returns:
        (labels, inertia); inertia is 0 when components were merged.
    """
    n = embedding.vectors.shape[0]
    if k <= 1:
        return np.zeros(n, dtype=np.int64), 0.0
    if embedding.n_components >= k:
        return _merge_components(embedding.components, k, features).astype(np.int64), 0.0
    u = embedding.vectors[:, :k]
    u = u / np.maximum(np.linalg.norm(u, axis=1, keepdims=True), 1e-12)
    best: tuple[np.ndarray, float] | None = None
    for start in range(max(1, n_init)):
        labels, inertia = kmeans(u, k, seed=seed + start)
        if best is None or inertia < best[1]:
            best = (labels, inertia)
    assert best is not None
    return best
