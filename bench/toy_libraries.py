"""Toy-world libraries with known truth, embedded by the toy CLIP, for the choice-of-k benchmark and tests.

A spec names the concepts ("colour shape") and how many photos each gets; photos are rendered by the toy
world (`../shared/toyworld/world.py`) in memory and embedded by the toy CLIP (`../shared/models/toyclip`).
Features are cached under bench/_data/toy/ by the spec's digest, so a benchmark run re-embeds nothing.
"""

from __future__ import annotations

import hashlib
import json
import random
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
TOYCLIP = SHARED / "models" / "toyclip"
CACHE = ROOT / "bench" / "_data" / "toy"
# The toy world also draws purple, white, pink and cyan shapes, hearts and rings, but the toy CLIP was trained
# on six colours and six shapes only (its model card, ../shared/models/toyclip/README.md): libraries of concepts
# the features cannot separate would test the features, not the choice of k. Rings were used here through
# session 10 (nearest-concept accuracy of their features 85 % and more); read by the model's own text tower,
# 118 of 120 rings are "a star" (zero-shot top-1 0.00 on rings against 0.85-0.89 on the six shapes it knows,
# `bench/toy_separability.py --zero-shot --photos 20`), and a star and a ring of one colour were the one pair it embeds
# alike (bench/RESULTS-cluster.md, session 10).
COLOURS = ["red", "green", "blue", "yellow", "orange", "black"]
SHAPES = ["circle", "square", "triangle", "star", "cross", "hexagon"]
# The shapes of the libraries of sessions 6-10, for their tables (`bench/k_choice.py --with-ring`).
SHAPES_WITH_RING = [*SHAPES[:5], "ring", SHAPES[5]]


# The pair of concepts the toy CLIP does not tell apart in the libraries with rings: a star and a ring of the
# same colour (`bench/toy_separability.py --with-ring`, 40 photos each: 2-means ACC 0.80, lowest 0.55 over the
# colours; a linear probe given the labels 0.90; silhouette of the true two 0.40, against 0.56-0.87 for every
# other pair). bench/k_choice.py counts the libraries holding both apart.
CONFUSABLE_SHAPES = frozenset({"star", "ring"})


def available() -> bool:
    """True when ../shared (the toy world and the toy CLIP) is present."""
    return (TOYCLIP / "toyclip.safetensors").exists() and (SHARED / "toyworld" / "world.py").exists()


@dataclass(frozen=True)
class ToySpec:
    """A toy library: concepts as (colour, shape) with a photo count each, and the render seed."""

    name: str
    concepts: tuple[tuple[str, str, int], ...]
    seed: int

    @property
    def k(self) -> int:
        return len(self.concepts)

    @property
    def n(self) -> int:
        return sum(c[2] for c in self.concepts)

    def confusable(self) -> bool:
        """Whether two of its concepts are a star and a ring of one colour (`CONFUSABLE_SHAPES`)."""
        shapes: dict[str, set[str]] = {}
        for colour, shape, _ in self.concepts:
            shapes.setdefault(colour, set()).add(shape)
        return any(found >= CONFUSABLE_SHAPES for found in shapes.values())

    def digest(self) -> str:
        return hashlib.blake2b(repr((self.concepts, self.seed)).encode(), digest_size=8).hexdigest()


def generated_specs(count: int = 24, seed: int = 0, shapes: list[str] = SHAPES) -> list[ToySpec]:
    """`count` seeded libraries of the toy CLIP's concepts (COLOURS × `shapes`): 3–15 concepts, 50–500 photos,
    a third imbalanced (some concepts 3× the others), a third where concepts share a colour or a shape with
    another."""
    rng = random.Random(seed)
    pairs = [(c, s) for c in COLOURS for s in shapes]
    specs = []
    for i in range(count):
        k = rng.randint(3, 15)
        style = ("balanced", "imbalanced", "shared")[i % 3]
        if style == "shared":
            # Few colours or few shapes, so concepts share one or the other.
            colours = rng.sample(COLOURS, max(2, (k + 2) // 3))
            kinds = rng.sample(shapes, max(2, min(len(shapes), (k + 1) // 2)))
            pool = [(c, s) for c in colours for s in kinds]
            while len(pool) < k:
                pool.append(rng.choice([p for p in pairs if p not in pool]))
            chosen = rng.sample(pool, k)
        else:
            chosen = rng.sample(pairs, k)
        total = rng.randint(max(50, 4 * k), 500)
        weights = [3.0 if style == "imbalanced" and j % 3 == 0 else 1.0 for j in range(k)]
        counts = [max(4, round(total * w / sum(weights))) for w in weights]
        concepts = tuple((c, s, m) for (c, s), m in zip(chosen, counts, strict=True))
        specs.append(ToySpec(f"toy-{i:02d}-{style}", concepts, seed=1000 + i))
    return specs


def features(spec: ToySpec) -> tuple[np.ndarray, np.ndarray]:
    """(features float32 (n, D), truth labels (n,)) of a toy library, embedded by the toy CLIP (cached)."""
    path = CACHE / f"{spec.digest()}.npz"
    if path.exists():
        data = np.load(path)
        return data["x"], data["y"]
    embedder = toy_embedder()
    from world import render  # type: ignore[import-not-found]

    rng = random.Random(spec.seed)
    images, labels = [], []
    for j, (colour, shape, count) in enumerate(spec.concepts):
        for _ in range(count):
            images.append(embedder.preprocess(render(colour, shape, 480, rng)))
            labels.append(j)
    x = np.concatenate([embedder.embed_images(images[i : i + 64]) for i in range(0, len(images), 64)])
    y = np.asarray(labels, dtype=np.int64)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.savez(path, x=x, y=y, spec=json.dumps(spec.concepts))
    return x, y


def toy_embedder() -> Any:
    """The toy CLIP, loaded once, on the CPU; the toy world is importable after the call."""
    if str(SHARED / "toyworld") not in sys.path:
        sys.path.insert(0, str(SHARED / "toyworld"))
    if "toy" not in _EMBEDDER:
        from engine.embed.embedder import load_embedder
        from engine.settings import ModelSpec

        spec = ModelSpec("toyclip", str(TOYCLIP / "toyclip.safetensors"), str(TOYCLIP / "toyclip.json"))
        _EMBEDDER["toy"] = load_embedder(spec, device="cpu")
    return _EMBEDDER["toy"]


_EMBEDDER: dict[str, Any] = {}
