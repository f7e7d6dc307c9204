"""The indexing pipeline: the model on its own thread, the cores it may use, where the time went, and the
image tower's fast runtime chosen for a long run."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import engine.embed.runtime
import engine.index.indexer
from engine.settings import LibrarySettings


@pytest.fixture
def root(tmp_path: Path, make_photo) -> Path:
    photos = tmp_path / "photos"
    for i in range(13):
        make_photo(photos / f"p{i:02d}.jpg", color=(i * 18, 200 - i * 9, 40 + i * 5))
    (photos / "broken.jpg").write_bytes(b"not a jpeg")
    return photos


def _vectors(library) -> dict[str, np.ndarray]:
    """Each photo's embedding, by file name."""
    ids, vectors = library.embeddings()
    names = {r.id: Path(str(r.path)).name for r in library.photos()}
    return {names[i]: v for i, v in zip(ids, vectors, strict=True)}


def test_batches_overlap_the_model_and_all_are_committed_in_order(library, root: Path) -> None:
    library.update_settings(library.settings.replace(batch_size=3, threads=1, image_runtime="torch"))
    summary = library.index([root])
    assert summary.added == 13 and summary.embedded == 13 and summary.skipped["not-an-image"] == 1
    assert all(r.embedded for r in library.photos())
    assert {"loading the model", "decoding", "model", "catalog writes"} <= set(summary.stages)
    assert summary.first_batch_s is not None and 0 < summary.first_batch_s <= summary.seconds
    lines = summary.timing_lines()
    assert lines[-1] == "image tower: torch-fp32" and any("first batch" in line for line in lines)


def test_index_threads_default_leaves_one_core_free(monkeypatch) -> None:
    monkeypatch.setattr("os.cpu_count", lambda: 8)
    assert LibrarySettings().index_threads() == 7
    assert LibrarySettings(threads=3).index_threads() == 3
    assert LibrarySettings(threads=64).index_threads() == 8
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    assert LibrarySettings().index_threads() == 2


def test_threads_and_runtime_are_saved_settings(tmp_path: Path) -> None:
    settings = LibrarySettings(threads=3, image_runtime="onnx-int8")
    settings.save(tmp_path)
    assert LibrarySettings.load(tmp_path) == settings


def test_decoding_uses_the_threads_setting(library, root: Path, monkeypatch) -> None:
    seen: list[int] = []
    real = engine.index.indexer.ThreadPoolExecutor

    def recording(max_workers: int, thread_name_prefix: str = "") -> object:
        seen.append(max_workers)
        return real(max_workers=max_workers, thread_name_prefix=thread_name_prefix)

    monkeypatch.setattr(engine.index.indexer, "ThreadPoolExecutor", recording)
    library.update_settings(library.settings.replace(threads=1))
    library.index([root])
    assert seen[0] == 1  # the decoding pool (the model's thread comes second)


@pytest.mark.skipif(importlib.util.find_spec("onnxruntime") is None, reason="onnxruntime not installed")
def test_long_run_uses_the_fast_runtime_faithfully(library, root: Path, tmp_path: Path, monkeypatch) -> None:
    reference = library.embedder()
    library.update_settings(library.settings.replace(image_runtime="torch", batch_size=4))
    library.index([root])
    fp32 = _vectors(library)
    library.close()

    from engine.library import Library

    fast_library = Library(tmp_path / "fast")
    fast_library.set_model(reference.spec.name, reference.spec.pretrained, reference.spec.config)
    fast_library.update_settings(fast_library.settings.replace(image_runtime="onnx-fp32", batch_size=4))
    monkeypatch.setattr(engine.embed.runtime, "worth_building", lambda model, images: True)  # as for ViT-B-32
    monkeypatch.setattr(engine.index.indexer, "runtime_cache_dir", lambda: tmp_path / "runtimes")
    summary = fast_library.index([root])
    assert summary.embedded == 13 and summary.runtime is not None and "onnx-fp32" in summary.runtime
    assert any("onnx-fp32" in line for line in summary.lines())
    fast = _vectors(fast_library)
    assert fast.keys() == fp32.keys()
    assert min(float(np.dot(fast[h], fp32[h])) for h in fp32) >= engine.embed.runtime.MIN_COSINE
    assert any((tmp_path / "runtimes").rglob("*.onnx"))
    fast_library.close()
