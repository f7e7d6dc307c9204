"""A search gives the same photos whichever way the query is embedded: the loaded model (the window) or the
numpy text tower (a command, without torch); and the coding-length curve the window draws."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.library import CodingLengthCurve, Library


@pytest.fixture
def safetensors_library(tmp_path: Path, tiny_model: dict[str, str], make_photo) -> Path:
    import torch
    from safetensors.torch import save_file

    weights = tmp_path / "tiny.safetensors"
    state = torch.load(tiny_model["pretrained"], weights_only=True)
    save_file({k: v.contiguous() for k, v in state.items()}, str(weights))
    colours = [(220, 30, 30), (30, 200, 40), (30, 40, 220), (240, 240, 240)]
    for n in range(16):
        make_photo(tmp_path / "photos" / f"p{n}.jpg", color=colours[n % 4])
    with Library(tmp_path / "library") as library:
        library.set_model(tiny_model["name"], str(weights), tiny_model["config"])
        library.index([tmp_path / "photos"])
    return tmp_path / "library"


@pytest.mark.slow
def test_search_is_the_same_with_the_model_or_the_numpy_text_tower(safetensors_library: Path, monkeypatch) -> None:
    import engine.embed.embedder as embedder_module

    queries = ["a red photo", "green", "something white", "blue square"]
    with Library(safetensors_library, create=False) as library:
        library.embedder()  # the model is loaded: the window's path
        with_model = {q: library.search(q, limit=16) for q in queries}
    monkeypatch.setattr(embedder_module, "_shared", None)  # a fresh process: nothing loaded
    with Library(safetensors_library, create=False) as library:
        without = {q: library.search(q, limit=16) for q in queries}
        assert library._embedder is None  # answered by the numpy text tower, the model never loaded
    for q in queries:
        assert [r.id for r in without[q]] == [r.id for r in with_model[q]]
        assert [r.path for r in without[q]] == [r.path for r in with_model[q]]
        assert [r.score for r in without[q]] == pytest.approx([r.score for r in with_model[q]], abs=1e-5)


def test_coding_length_curve(tmp_path: Path) -> None:
    with Library(tmp_path / "library") as library:
        assert library.coding_length_curve() is None
        catalog = library.catalog
        model_id = catalog.model_id("test-model", 4)
        with catalog.transaction():
            catalog.clusterings.replace(model_id, None, 5, {8: 3.0, 2: 9.0, 5: 1.0, 4: 2.5, 6: 2.0}, (b"", "{}"), [])
        curve = library.coding_length_curve()
        assert curve == CodingLengthCurve(5, {2: 9.0, 4: 2.5, 5: 1.0, 6: 2.0, 8: 3.0}, fewer=4, more=6)
        assert list(curve.lengths) == [2, 4, 5, 6, 8]
        with catalog.transaction():
            catalog.clusterings.replace(model_id, None, 8, {5: 1.0, 8: 3.0}, (b"", "{}"), [])
        assert library.coding_length_curve() == CodingLengthCurve(8, {5: 1.0, 8: 3.0}, fewer=5, more=None)
        with catalog.transaction():  # a k the user asked for
            catalog.clusterings.replace(model_id, 5, 5, {5: 1.0, 8: 3.0}, (b"", "{}"), [])
        assert library.coding_length_curve() == CodingLengthCurve(5, {5: 1.0, 8: 3.0}, None, 8, automatic=False)
