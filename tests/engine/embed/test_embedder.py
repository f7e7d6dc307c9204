"""Loading the model through open_clip's real path, and every way that can fail."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import engine.embed.embedder
from engine.embed.embedder import load_embedder, model_key, select_device
from engine.errors import ModelUnavailableError
from engine.settings import ModelSpec


def test_local_checkpoint_loads_and_embeds(tiny_model: dict[str, str]) -> None:
    spec = ModelSpec(tiny_model["name"], tiny_model["pretrained"], tiny_model["config"])
    embedder = load_embedder(spec, device="cpu")
    assert embedder.dim == 32 and embedder.image_size == 32 and embedder.device == "cpu"
    texts = embedder.embed_texts(["a photo of a cat", "a receipt"])
    assert texts.shape == (2, 32) and texts.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(texts, axis=1), 1.0, rtol=1e-5)


def test_config_registered_under_another_file_name(tiny_model: dict[str, str], tmp_path: Path) -> None:
    config = tmp_path / "my-arch-file.json"
    config.write_text(Path(tiny_model["config"]).read_text())
    embedder = load_embedder(ModelSpec("renamed-tiny", tiny_model["pretrained"], str(config)), device="cpu")
    assert embedder.dim == 32


def test_model_key_follows_checkpoint_content(tiny_model: dict[str, str], tmp_path: Path) -> None:
    spec = ModelSpec(tiny_model["name"], tiny_model["pretrained"], tiny_model["config"])
    copy = tmp_path / "renamed.pt"
    copy.write_bytes(Path(tiny_model["pretrained"]).read_bytes())
    assert model_key(spec) == model_key(ModelSpec(spec.name, str(copy), spec.config))
    copy.write_bytes(copy.read_bytes()[:-8] + b"12345678")
    assert model_key(spec) != model_key(ModelSpec(spec.name, str(copy), spec.config))


def test_missing_checkpoint_file(tiny_model: dict[str, str]) -> None:
    with pytest.raises(ModelUnavailableError, match="does not exist"):
        load_embedder(ModelSpec(tiny_model["name"], "/nowhere/weights.pt", tiny_model["config"]), device="cpu")


def test_corrupt_checkpoint_file(tiny_model: dict[str, str], tmp_path: Path) -> None:
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(Path(tiny_model["pretrained"]).read_bytes()[:1000])
    with pytest.raises(ModelUnavailableError, match="incomplete or damaged"):
        load_embedder(ModelSpec(tiny_model["name"], str(broken), tiny_model["config"]), device="cpu")


def test_unknown_pretrained_tag_lists_the_known_ones() -> None:
    with pytest.raises(ModelUnavailableError, match=r"known tags: .*laion2b_s34b_b79k"):
        load_embedder(ModelSpec("ViT-B-32", "no-such-tag"), device="cpu")


def test_unknown_architecture() -> None:
    with pytest.raises(ModelUnavailableError, match="unknown model architecture"):
        load_embedder(ModelSpec("ViT-Imaginary", "x.pt"), device="cpu")


def test_weights_not_cached_and_no_network_says_what_to_do(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setattr(engine.embed.embedder, "_hub_reachable", lambda timeout=3.0: False)
    with pytest.raises(ModelUnavailableError) as info:
        load_embedder(ModelSpec("ViT-B-32", "laion2b_s34b_b79k"), device="cpu", cache_dir=tmp_path)
    message = str(info.value)
    assert "connect to the internet" in message and "--pretrained /path/to/weights" in message


def test_offline_mode_never_downloads(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setattr(engine.embed.embedder, "_hub_reachable", lambda timeout=3.0: pytest.fail("must not go online"))
    with pytest.raises(ModelUnavailableError, match="offline"):
        load_embedder(ModelSpec("ViT-B-32", "laion2b_s34b_b79k"), device="cpu", offline=True, cache_dir=tmp_path)


def test_device_selection() -> None:
    import torch

    assert select_device("cpu") == "cpu"
    assert select_device("auto") == ("cuda" if torch.cuda.is_available() else select_device("auto"))
    with pytest.raises(ModelUnavailableError):
        select_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ModelUnavailableError, match="no CUDA GPU"):
            select_device("cuda")


def test_missing_weights_leave_the_library_untouched(library, tmp_path: Path, make_photo, monkeypatch) -> None:
    monkeypatch.setattr(engine.embed.embedder, "_hub_reachable", lambda timeout=3.0: False)
    make_photo(tmp_path / "photos" / "a.jpg")
    library.index([tmp_path / "photos"])
    before = [(r.id, r.hash, r.embedded) for r in library.photos()]
    library.update_settings(library.settings.replace(model=ModelSpec("ViT-B-32", "laion2b_s34b_b79k")))
    make_photo(tmp_path / "photos" / "b.jpg")
    with pytest.raises(ModelUnavailableError):
        library.index()
    assert [(r.id, r.hash) for r in library.photos()] == [(i, h) for i, h, _ in before]
