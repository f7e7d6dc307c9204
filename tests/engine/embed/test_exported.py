"""Indexing from the exported image tower alone, once the model was exported here: no torch, same embeddings."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.embed import exported, runtime
from engine.embed.embedder import Embedder, load_embedder
from engine.embed.preprocess import describe, from_description
from engine.settings import ModelSpec

needs_ort = pytest.mark.skipif(importlib.util.find_spec("onnxruntime") is None, reason="onnxruntime not installed")


def _embedder(model: dict[str, str]) -> Embedder:
    return load_embedder(ModelSpec(model["name"], model["pretrained"], model["config"]), device="cpu")


def _photos(sizes: list[tuple[int, int]], seed: int = 0) -> list[Image.Image]:
    rng = np.random.default_rng(seed)
    return [Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8), "RGB") for w, h in sizes]


SIZES = [(640, 480), (480, 640), (300, 300), (1001, 333), (97, 211)]


def test_the_described_preprocessing_equals_open_clips(tiny_model: dict[str, str]) -> None:
    import torch

    embedder = _embedder(tiny_model)
    description = describe(embedder.preprocess)
    assert description is not None
    rebuilt = from_description(json.loads(json.dumps(description)))  # as stored, through JSON
    for photo in _photos(SIZES, seed=3):
        expected = embedder.preprocess(photo).numpy()
        assert rebuilt(photo).shape == expected.shape
        np.testing.assert_allclose(rebuilt(photo), expected, atol=1e-5)
    assert torch is not None


def test_a_transform_it_does_not_know_is_not_described() -> None:
    from torchvision.transforms import Compose, Normalize, RandomCrop, ToTensor

    assert describe(Compose([RandomCrop(8), ToTensor(), Normalize([0.5] * 3, [0.5] * 3)])) is None
    assert describe(lambda image: image) is None


def _export(model: dict[str, str], cache: Path, name: str = "onnx-int8") -> Embedder:
    """An embedder that exported and chose `name`, as a long indexing run does."""
    embedder = _embedder(model)
    embedder.use_image_runtime(name, cache, threads=1, build=True)
    embedder.embed_images([embedder.decode_transform()(p) for p in _photos(SIZES)])
    assert embedder.runtime_choice is not None and embedder.runtime_choice.name == name
    return embedder


@needs_ort
def test_the_exported_tower_embeds_as_the_loaded_model(tiny_model: dict[str, str], tmp_path: Path) -> None:
    full = _export(tiny_model, tmp_path)
    # The explicit choice is what a later "auto" run reads, as after an automatic one.
    (runtime.cache_folder(tmp_path, full.key) / "choice.json").write_text(json.dumps({"runtime": "onnx-int8"}))
    light = exported.load_exported(full.spec, full.key, tmp_path, device="cpu", preference="auto", threads=1)
    assert light is not None
    assert (light.dim, light.image_size, light.key) == (full.dim, full.image_size, full.key)
    photos = _photos(SIZES, seed=7)
    ours = light.embed_images([light.decode_transform()(p) for p in photos])
    theirs = _embedder(tiny_model).embed_images([full.preprocess(p) for p in photos])  # fp32 PyTorch
    assert np.sum(ours * theirs, axis=1).min() >= 0.99
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, rtol=1e-5)
    assert light.runtime_choice.name == "onnx-int8"


@needs_ort
def test_the_full_model_loads_when_the_exported_tower_cannot_serve(tiny_model: dict[str, str], tmp_path: Path) -> None:
    full = _export(tiny_model, tmp_path)
    folder = runtime.cache_folder(tmp_path, full.key)
    (folder / "choice.json").write_text(json.dumps({"runtime": "onnx-int8"}))

    def load(**options: object) -> object:
        settings = {"device": "cpu", "preference": "auto", "threads": 1, **options}
        return exported.load_exported(full.spec, full.key, tmp_path, **settings)  # type: ignore[arg-type]

    assert load() is not None
    assert load() is load()  # one session serves a watched folder's batches
    assert load(threads=2) is not load()
    assert load(device="cuda") is None and load(device="mps") is None  # a GPU keeps PyTorch
    assert load(preference="torch") is None and load(preference="onnx-fp32") is None  # another runtime asked for
    assert (
        exported.load_exported(full.spec, "other weights", tmp_path, device="cpu", preference="auto", threads=1) is None
    )
    (folder / "image-tower-int8.onnx").write_bytes(b"not a model")  # damaged: forgotten, the full model loads
    assert load() is None
    assert not (folder / exported.TOWER_FILE).exists()


def test_auto_means_the_cpu_only_where_no_gpu_driver_is_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    assert exported.runs_on_cpu_without_torch("cpu")
    assert not exported.runs_on_cpu_without_torch("cuda")
    monkeypatch.setattr(sys, "platform", "darwin")
    assert not exported.runs_on_cpu_without_torch("auto")  # Apple's GPU: only torch can tell


@needs_ort
@pytest.mark.slow
def test_indexing_after_an_export_never_imports_torch(
    tiny_model: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache_home = tmp_path / "cache"
    photos = tmp_path / "photos"
    photos.mkdir()
    for i, photo in enumerate(_photos(SIZES * 2, seed=11)):
        photo.save(photos / f"p{i}.jpg", quality=90)
    env = {**os.environ, "XDG_CACHE_HOME": str(cache_home)}
    options = [tiny_model["name"], tiny_model["pretrained"], tiny_model["config"]]
    script = f"""
import json, sys
from engine import Library
library = Library(sys.argv[1])
library.set_model(*{options!r})
library.update_settings(library.settings.replace(device="cpu"))
library.index([{str(photos)!r}])
ids, vectors = library.embeddings()
print(json.dumps({{"torch": "torch" in sys.modules, "open_clip": "open_clip" in sys.modules,
                   "vectors": vectors.tolist()}}))
"""

    def run(library: Path) -> dict:
        done = subprocess.run(
            [sys.executable, "-c", script, str(library)], env=env, capture_output=True, text=True, check=True
        )
        return json.loads(done.stdout.strip().splitlines()[-1])

    first = run(tmp_path / "first")  # the tiny model is not worth exporting: it loads in full
    assert first["torch"]
    from engine.paths import runtime_cache_dir

    monkeypatch.setenv("XDG_CACHE_HOME", str(cache_home))  # the cache the subprocesses use
    full = _export(tiny_model, runtime_cache_dir())
    (runtime.cache_folder(runtime_cache_dir(), full.key) / "choice.json").write_text('{"runtime": "onnx-int8"}')
    second = run(tmp_path / "second")
    assert not second["torch"] and not second["open_clip"]
    cosines = np.sum(np.asarray(first["vectors"]) * np.asarray(second["vectors"]), axis=1)
    assert len(cosines) == len(SIZES) * 2 and cosines.min() >= 0.99
