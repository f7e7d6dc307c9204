"""Text embeddings of vocabulary terms (prompt ensembles), computed once per model and cached in the catalog.

A term's embedding is cached under the digest of its prompts (`prompt_key`), so one prompt per term (the
quick first names) and the whole ensemble are cached apart, and each resumes where it stopped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from engine.catalog import Catalog
from engine.embed.embedder import Embedder
from engine.progress import ProgressReporter, check_cancelled, ensure_progress

# Prompts per text-tower call: large enough to keep the tower busy, small enough that a cancel or a
# crash loses little work (each chunk commits on its own).
_PROMPTS_PER_CHUNK = 512


def prompt_key(prompts: Sequence[str]) -> str:
    """Identity of a term's prompt ensemble: the same prompts give the same embedding under one model."""
    return hashlib.blake2b("\n".join(prompts).encode("utf-8"), digest_size=12).hexdigest()


def cached_features(catalog: Catalog, model_id: int, prompt_sets: Sequence[Sequence[str]]) -> np.ndarray | None:
    """The prompt sets' features when every one is cached for the model (nothing is embedded); else None."""
    keys = [prompt_key(prompts) for prompts in prompt_sets]
    cached = catalog.term_embeddings(model_id, set(keys))
    if not keys or any(key not in cached for key in keys):
        return None
    return np.stack([cached[key] for key in keys]).astype(np.float32)


def ensemble_features(
    catalog: Catalog,
    embedder: Embedder,
    model_id: int,
    prompt_sets: Sequence[Sequence[str]],
    progress: ProgressReporter | None = None,
    phase: str = "embed vocabulary",
) -> np.ndarray:
    """One unit vector per prompt set: the mean of its prompts' text embeddings, re-normalised.

    Cached sets are read from the catalog; missing ones are embedded in chunks, each committed at once, so
    a cancelled or killed run resumes where it stopped.
    """
    progress = ensure_progress(progress)
    keys = [prompt_key(prompts) for prompts in prompt_sets]
    cached = catalog.term_embeddings(model_id, set(keys))
    missing = [i for i, key in enumerate(keys) if key not in cached]
    if missing:
        progress.phase(phase, len(missing))
        for chunk in _chunks(missing, prompt_sets):
            check_cancelled(progress)
            prompts = [p for i in chunk for p in prompt_sets[i]]
            vectors = embedder.embed_texts(prompts)
            rows: list[tuple[str, np.ndarray]] = []
            start = 0
            for i in chunk:
                count = len(prompt_sets[i])
                mean = vectors[start : start + count].mean(axis=0)
                start += count
                unit = (mean / max(float(np.linalg.norm(mean)), 1e-12)).astype("<f4")
                cached[keys[i]] = unit
                rows.append((keys[i], unit))
            catalog.put_term_embeddings(model_id, rows)
            progress.advance(len(chunk))
    if not keys:
        return np.zeros((0, embedder.dim), dtype=np.float32)
    return np.stack([cached[key] for key in keys]).astype(np.float32)


def _chunks(indices: list[int], prompt_sets: Sequence[Sequence[str]]) -> list[list[int]]:
    """Groups of term indices holding about `_PROMPTS_PER_CHUNK` prompts each."""
    chunks: list[list[int]] = [[]]
    size = 0
    for i in indices:
        if size >= _PROMPTS_PER_CHUNK:
            chunks.append([])
            size = 0
        chunks[-1].append(i)
        size += len(prompt_sets[i])
    return [c for c in chunks if c]
