"""Stacks are recomputed after an indexing run that changed the photos, and not after one that changed nothing:
a recompute compares every pair of photos, and the window rescans the whole library at every start."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.library import Library
from engine.stacks import build


def _photo(path: Path, seed: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.random.default_rng(seed).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    Image.fromarray(pixels, "RGB").save(path, quality=90)


def test_only_a_run_that_changed_the_photos_restacks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    photos = tmp_path / "photos"
    for i in range(4):
        _photo(photos / f"p{i}.jpg", i)
    shutil.copy2(photos / "p0.jpg", photos / "copy-of-p0.jpg")
    recomputes: list[int] = []
    real = build.update_stacks

    def counting(*args: object, **kwargs: object) -> build.StackSummary:
        recomputes.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(build, "update_stacks", counting)
    with Library(tmp_path / "library") as library:
        library.index([photos], embed=False)
        assert len(recomputes) == 1 and len(library.stacks.stacks()) == 1  # the exact copy

        library.index([photos], embed=False)  # nothing changed: the stored stacks hold
        assert len(recomputes) == 1

        shutil.copy2(photos / "p1.jpg", photos / "copy-of-p1.jpg")  # a new copy: stacked at once
        library.index([photos], embed=False)
        assert len(recomputes) == 2 and len(library.stacks.stacks()) == 2

        (photos / "copy-of-p0.jpg").unlink()  # a removed copy: its stack goes
        library.index([photos], embed=False)
        assert len(recomputes) == 3 and len(library.stacks.stacks()) == 1

        library.catalog.set_meta(build.META_STACKS, "0|computed by older rules")
        library.index([photos], embed=False)  # new rules stack the library anew once, though no photo changed
        assert len(recomputes) == 4
        library.index([photos], embed=False)
        assert len(recomputes) == 4
