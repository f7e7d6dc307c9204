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

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
TOYCLIP = SHARED / "models" / "toyclip"
CACHE = ROOT / "bench" / "_data" / "toy"
# The toy world also draws purple, white, pink and cyan shapes and hearts, but the toy CLIP does not tell
# them apart (nearest-concept accuracy 5–35 % on them against 85–100 % here, measured over all 80 concepts):
# libraries of concepts the features cannot separate would test the features, not the choice of k.
COLOURS = ["red", "green", "blue", "yellow", "orange", "black"]
SHAPES = ["circle", "square", "triangle", "star", "cross", "ring", "hexagon"]


# The one pair of concepts the toy CLIP barely tells apart: a star and a ring of the same colour
# (`bench/toy_separability.py`, 40 photos each: 2-means ACC 0.80, lowest 0.55 over the colours; a linear probe
# given the labels 0.90; silhouette of the true two 0.40, against 0.56–0.87 for every other pair). A library
# holding both tests the features as much as the choice of k, so bench/k_choice.py counts those libraries apart.
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


def generated_specs(count: int = 24, seed: int = 0) -> list[ToySpec]:
    """`count` seeded libraries: 3–15 concepts, 50–500 photos, a third imbalanced (some concepts 3× the
    others), a third where concepts share a colour or a shape with another."""
    rng = random.Random(seed)
    pairs = [(c, s) for c in COLOURS for s in SHAPES]
    specs = []
    for i in range(count):
        k = rng.randint(3, 15)
        style = ("balanced", "imbalanced", "shared")[i % 3]
        if style == "shared":
            # Few colours or few shapes, so concepts share one or the other.
            colours = rng.sample(COLOURS, max(2, (k + 2) // 3))
            shapes = rng.sample(SHAPES, max(2, min(len(SHAPES), (k + 1) // 2)))
            pool = [(c, s) for c in colours for s in shapes]
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
    sys.path.insert(0, str(SHARED / "toyworld"))
    from world import render  # type: ignore[import-not-found]

    from engine.embed.embedder import load_embedder
    from engine.settings import ModelSpec

    embedder = _EMBEDDER.get("toy") or load_embedder(
        ModelSpec("toyclip", str(TOYCLIP / "toyclip.safetensors"), str(TOYCLIP / "toyclip.json")), device="cpu"
    )
    _EMBEDDER["toy"] = embedder
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


_EMBEDDER: dict[str, object] = {}
