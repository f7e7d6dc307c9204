"""The image tower's CPU runtime: chosen automatically, cached per model, checked against fp32 on the first batch."""

from __future__ import annotations

import importlib.util
import logging
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.embed import onnx_export, runtime
from engine.embed.embedder import Embedder, load_embedder
from engine.settings import ModelSpec

SHARED = Path(__file__).resolve().parents[3].parent / "shared"
TOYCLIP = SHARED / "models" / "toyclip"
MAKE_LIBRARY = SHARED / "toyworld" / "make_library.py"
needs_ort = pytest.mark.skipif(importlib.util.find_spec("onnxruntime") is None, reason="onnxruntime not installed")


def _embedder(model: dict[str, str]) -> Embedder:
    return load_embedder(ModelSpec(model["name"], model["pretrained"], model["config"]), device="cpu")


def _pixels(embedder: Embedder, n: int = 6, seed: int = 0) -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return [torch.rand(3, embedder.image_size, embedder.image_size, generator=generator) for _ in range(n)]


def _fp32(embedder: Embedder, batch: list[torch.Tensor]) -> np.ndarray:
    reference = _embedder_like(embedder)
    return reference.embed_images(batch)


def _embedder_like(embedder: Embedder) -> Embedder:
    """The same model with the default (fp32 PyTorch) runtime."""
    return Embedder(embedder.spec, embedder.model, embedder.preprocess, embedder.tokenizer, "cpu", embedder.key)


def test_default_is_fp32_pytorch_untouched(tiny_model: dict[str, str]) -> None:
    embedder = _embedder(tiny_model)
    batch = _pixels(embedder)
    with torch.inference_mode():
        expected = torch.nn.functional.normalize(embedder.model.encode_image(torch.stack(batch)), dim=-1).numpy()
    np.testing.assert_array_equal(embedder.embed_images(batch), expected)
    assert embedder.runtime_choice is None


def _slowed(monkeypatch, cls: type, seconds: float = 0.3) -> None:
    """Make one runtime slower than any other on the tiny model, so the measured choice is known."""
    real = cls.encode

    def slow(self: object, pixels: np.ndarray) -> np.ndarray:
        time.sleep(seconds)
        return real(self, pixels)

    monkeypatch.setattr(cls, "encode", slow)


@needs_ort
def test_auto_builds_once_checks_and_reuses_the_cache(tiny_model: dict[str, str], tmp_path: Path, monkeypatch) -> None:
    _slowed(monkeypatch, runtime.TorchRuntime)  # on a tiny model fp32 may well be the fastest: not here
    embedder = _embedder(tiny_model)
    batch = _pixels(embedder)
    embedder.use_image_runtime("auto", tmp_path, threads=1)
    fast = embedder.embed_images(batch)
    monkeypatch.undo()
    choice = embedder.runtime_choice
    assert choice is not None and choice.name in runtime.installed_runtimes()
    assert set(choice.checked) == {"torch-fp32", *runtime.installed_runtimes()}  # each measured, the fastest kept
    cosine = np.sum(fast * _fp32(embedder, batch), axis=1)
    assert cosine.min() >= runtime.MIN_COSINE
    np.testing.assert_allclose(np.linalg.norm(fast, axis=1), 1.0, rtol=1e-5)
    folder = runtime.cache_folder(tmp_path, embedder.key)
    assert (folder / "choice.json").is_file()

    # A second process (a new embedder of the same weights) exports nothing: it loads the remembered runtime.
    def no_export(*args: object, **kwargs: object) -> None:
        raise AssertionError("exported again")

    monkeypatch.setattr(onnx_export, "export_fp32", no_export)
    monkeypatch.setattr(onnx_export, "quantize_int8", no_export)
    again = _embedder(tiny_model)
    again.use_image_runtime("auto", tmp_path, threads=1)
    np.testing.assert_allclose(again.embed_images(batch), fast, atol=1e-6)
    assert again.runtime_choice is not None and set(again.runtime_choice.checked) == {choice.name}


@pytest.mark.parametrize("name", ["torch-int8", "onnx-fp32", "onnx-int8", "openvino"])
def test_each_runtime_embeds_like_fp32(tiny_model: dict[str, str], tmp_path: Path, name: str) -> None:
    if name not in runtime.installed_runtimes():
        pytest.skip(f"{name} is not installed")
    embedder = _embedder(tiny_model)
    batch = _pixels(embedder, n=10, seed=3)
    embedder.use_image_runtime(name, tmp_path, threads=1)
    fast = embedder.embed_images(batch)
    assert embedder.runtime_choice is not None and embedder.runtime_choice.name == name
    assert np.sum(fast * _fp32(embedder, batch), axis=1).min() >= runtime.MIN_COSINE


@needs_ort
def test_unfaithful_runtime_falls_back_to_fp32_with_a_log_line(
    tiny_model: dict[str, str], tmp_path: Path, monkeypatch, caplog
) -> None:
    monkeypatch.setattr(runtime, "MIN_COSINE", 1.5)  # no runtime can pass: as if quantization broke the model
    embedder = _embedder(tiny_model)
    batch = _pixels(embedder)
    embedder.use_image_runtime("auto", tmp_path, threads=1)
    with caplog.at_level(logging.WARNING, logger="engine.embed.runtime"):
        out = embedder.embed_images(batch)
    assert embedder.runtime_choice is not None and embedder.runtime_choice.name == "torch-fp32"
    assert embedder.runtime_choice.refused and "differs from fp32" in caplog.text
    np.testing.assert_array_equal(out, _fp32(embedder, batch))
    assert not (runtime.cache_folder(tmp_path, embedder.key) / "choice.json").exists()


def test_fp32_is_kept_where_it_is_the_fastest(tiny_model: dict[str, str], tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(runtime, "installed_runtimes", lambda: ["torch-int8"])
    _slowed(monkeypatch, runtime.TorchInt8Runtime)
    embedder = _embedder(tiny_model)
    batch = _pixels(embedder)
    embedder.use_image_runtime("auto", tmp_path)
    np.testing.assert_array_equal(embedder.embed_images(batch), _fp32(embedder, batch))
    assert embedder.runtime_choice is not None and embedder.runtime_choice.name == "torch-fp32"
    assert set(embedder.runtime_choice.checked) == {"torch-fp32", "torch-int8"}
    # Remembered: the next run neither measures nor checks anything.
    again = _embedder(tiny_model)
    again.use_image_runtime("auto", tmp_path)
    again.embed_images(batch)
    assert again.runtime_choice is not None and again.runtime_choice.name == "torch-fp32"
    assert again.runtime_choice.checked == {}


def test_failed_export_keeps_fp32(tiny_model: dict[str, str], tmp_path: Path, monkeypatch, caplog) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("unsupported operator")

    monkeypatch.setattr(onnx_export, "export_fp32", broken)
    monkeypatch.setattr(runtime, "installed_runtimes", lambda: ["onnx-fp32"])
    embedder = _embedder(tiny_model)
    batch = _pixels(embedder)
    embedder.use_image_runtime("auto", tmp_path)
    with caplog.at_level(logging.WARNING, logger="engine.embed.runtime"):
        out = embedder.embed_images(batch)
    assert embedder.runtime_choice is not None and embedder.runtime_choice.name == "torch-fp32"
    assert "unsupported operator" in caplog.text
    np.testing.assert_array_equal(out, _fp32(embedder, batch))


def test_without_fast_runtimes_installed_fp32_is_used(tiny_model: dict[str, str], tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(runtime, "installed_runtimes", lambda: [])
    embedder = _embedder(tiny_model)
    batch = _pixels(embedder)
    embedder.use_image_runtime("auto", tmp_path)
    np.testing.assert_array_equal(embedder.embed_images(batch), _fp32(embedder, batch))
    assert embedder.runtime_choice is not None and embedder.runtime_choice.name == "torch-fp32"
    assert not any(tmp_path.rglob("*.onnx"))


def test_nothing_is_built_when_not_worth_it(tiny_model: dict[str, str], tmp_path: Path) -> None:
    embedder = _embedder(tiny_model)
    assert not runtime.worth_building(embedder.model, 100_000)  # a tiny tower never pays for an export
    embedder.use_image_runtime("auto", tmp_path, build=False)
    embedder.embed_images(_pixels(embedder))
    assert embedder.runtime_choice is not None and embedder.runtime_choice.name == "torch-fp32"
    assert not any(tmp_path.iterdir())


def test_new_weights_get_a_new_cache_folder(tiny_model: dict[str, str], tmp_path: Path) -> None:
    folder = runtime.cache_folder(tmp_path, "photoatlas-tiny|file:aaaa")
    assert folder == runtime.cache_folder(tmp_path, "photoatlas-tiny|file:aaaa")
    assert folder != runtime.cache_folder(tmp_path, "photoatlas-tiny|file:bbbb")


@needs_ort
def test_changed_weights_are_exported_anew(tiny_model: dict[str, str], tmp_path: Path) -> None:
    embedder = _embedder(tiny_model)
    batch = _pixels(embedder)
    embedder.use_image_runtime("onnx-fp32", tmp_path / "cache")
    first = embedder.embed_images(batch)
    # Other weights in a file at the same path: a new key (the file's digest), so a new export.
    other = tmp_path / "other.pt"
    state = {
        k: v + 0.05 * torch.randn_like(v) if v.is_floating_point() else v
        for k, v in embedder.model.state_dict().items()
    }
    torch.save(state, other)
    changed = load_embedder(ModelSpec(tiny_model["name"], str(other), tiny_model["config"]), device="cpu")
    changed.use_image_runtime("onnx-fp32", tmp_path / "cache")
    second = changed.embed_images(batch)
    assert len(list((tmp_path / "cache").iterdir())) == 2
    assert np.sum(second * _fp32(changed, batch), axis=1).min() >= runtime.MIN_COSINE
    assert not np.allclose(first, second)


@needs_ort
@pytest.mark.skipif(not (TOYCLIP / "toyclip.safetensors").exists(), reason="toyclip not found")
def test_toyclip_int8_is_faithful_on_its_world(tmp_path: Path) -> None:
    if "onnx-int8" not in runtime.installed_runtimes():
        pytest.skip("onnx-int8 needs the onnx package")
    from PIL import Image

    spec = ModelSpec("toyclip", str(TOYCLIP / "toyclip.safetensors"), str(TOYCLIP / "toyclip.json"))
    embedder = load_embedder(spec, device="cpu")
    photos = tmp_path / "photos"
    subprocess.run(
        [sys.executable, str(MAKE_LIBRARY), str(photos), "--per-concept", "6", "--seed", "4"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    batch = [embedder.preprocess(Image.open(p).convert("RGB")) for p in sorted(photos.rglob("*.jpg"))]
    embedder.use_image_runtime("onnx-int8", tmp_path / "cache")
    fast = embedder.embed_images(batch)
    cosine = np.sum(fast * _fp32(embedder, batch), axis=1)
    assert len(batch) >= 30 and cosine.min() >= runtime.MIN_COSINE
