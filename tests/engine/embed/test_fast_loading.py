"""The fast loading path (no random initialisation, tensors assigned) gives open_clip's own model, and the
numpy text tower used by a command-line search gives the model's text embeddings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.embed.embedder import load_embedder, loaded_embedder, shared_embedder
from engine.embed.numpy_text import ClipTokenizer, text_encoder_for
from engine.settings import ModelSpec

TEXTS = ["dog on the beach", "a photo of dog on the beach.", "Café crème &amp; 2 CATS!", "x" * 200, ""]


@pytest.fixture(scope="module")
def safetensors_model(tiny_model: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The tiny model's weights also as safetensors (the format the numpy text tower reads)."""
    import torch
    from safetensors.torch import save_file

    state = torch.load(tiny_model["pretrained"], weights_only=True)
    path = tmp_path_factory.mktemp("tiny-safetensors") / "tiny.safetensors"
    save_file({k: v.contiguous() for k, v in state.items()}, str(path))
    return {**tiny_model, "pretrained": str(path)}


@pytest.mark.parametrize("fmt", ["pt", "safetensors"])
def test_fast_loading_gives_the_plain_open_clip_model(
    fmt: str, tiny_model: dict[str, str], safetensors_model: dict[str, str]
) -> None:
    import open_clip
    import torch

    model = tiny_model if fmt == "pt" else safetensors_model
    spec = ModelSpec(model["name"], model["pretrained"], model["config"])
    fast = load_embedder(spec, device="cpu")
    plain, _, _ = open_clip.create_model_and_transforms(model["name"], pretrained=model["pretrained"])
    plain.eval()
    fast_state, plain_state = fast.model.state_dict(), plain.state_dict()
    assert fast_state.keys() == plain_state.keys()
    assert all(torch.equal(fast_state[k], plain_state[k]) for k in plain_state)
    assert all(p.dtype == torch.float32 for p in fast.model.parameters())
    tokens = open_clip.get_tokenizer(model["name"])(TEXTS)
    pixels = torch.rand(3, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        assert torch.equal(fast.model.encode_text(tokens), plain.encode_text(tokens))
        assert torch.equal(fast.model.encode_image(pixels), plain.encode_image(pixels))
    # Building the model on this thread skipped the initialisers; they work as before afterwards.
    assert torch.nn.init.normal_(torch.zeros(1000)).std() > 0.5
    assert torch.nn.Linear(8, 8).weight.abs().sum() > 0


def test_a_known_key_spares_hashing_the_weights(tiny_model: dict[str, str]) -> None:
    spec = ModelSpec(tiny_model["name"], tiny_model["pretrained"], tiny_model["config"])
    assert load_embedder(spec, device="cpu", key="given").key == "given"


def test_the_model_loaded_last_is_reused_until_its_file_changes(tiny_model: dict[str, str], tmp_path: Path) -> None:
    copy = tmp_path / "tiny.pt"
    copy.write_bytes(Path(tiny_model["pretrained"]).read_bytes())
    spec = ModelSpec(tiny_model["name"], str(copy), tiny_model["config"])
    first = shared_embedder(spec, "cpu")
    assert shared_embedder(spec, "cpu") is first and loaded_embedder(spec, "cpu") is first
    copy.write_bytes(copy.read_bytes())  # rewritten: another modification time
    import os

    os.utime(copy, ns=(1, 1))
    assert loaded_embedder(spec, "cpu") is None
    assert shared_embedder(spec, "cpu") is not first


def test_numpy_text_tower_matches_the_model(safetensors_model: dict[str, str]) -> None:
    import open_clip

    spec = ModelSpec(safetensors_model["name"], safetensors_model["pretrained"], safetensors_model["config"])
    encoder = text_encoder_for(spec)
    assert encoder is not None
    embedder = load_embedder(spec, device="cpu")
    np.testing.assert_allclose(encoder.embed_texts(TEXTS), embedder.embed_texts(TEXTS), atol=2e-6)
    tokenizer = open_clip.get_tokenizer(spec.name)
    for text in TEXTS:
        expected = [int(t) for t in tokenizer([text])[0] if t != 0]
        assert encoder.tokens(text) == expected


def test_tokenizer_matches_open_clip_on_awkward_text() -> None:
    import open_clip
    from open_clip.tokenizer import default_bpe

    ours, theirs = ClipTokenizer(Path(default_bpe())), open_clip.tokenizer.SimpleTokenizer()
    for text in ["Ünïcödé façade", "it's 10:30 — don't!", "  spaced\tout\n", "emoji 🐶🏖️", "<b>bold</b> &lt;tag&gt;"]:
        assert ours.encode(text) == theirs.encode(text)


def test_numpy_text_tower_only_where_it_is_exact(
    tiny_model: dict[str, str], safetensors_model: dict[str, str], tmp_path: Path
) -> None:
    # A .pt checkpoint needs torch to read; an unknown config key may change the tower: the model is used.
    assert text_encoder_for(ModelSpec(tiny_model["name"], tiny_model["pretrained"], tiny_model["config"])) is None
    weights = safetensors_model["pretrained"]
    assert text_encoder_for(ModelSpec(tiny_model["name"], weights, tiny_model["config"])) is not None
    config = tmp_path / "odd.json"
    config.write_text(
        Path(tiny_model["config"]).read_text().replace('"layers": 1}', '"layers": 1, "pool_type": "last"}')
    )
    assert "pool_type" in config.read_text()
    assert text_encoder_for(ModelSpec(tiny_model["name"], weights, str(config))) is None


def test_one_command_hashes_the_weights_once(tiny_model: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """The model's key is asked for several times per command (try, load, catalog id): the file is read once,
    and again only when it changes."""
    import hashlib
    import os

    from engine.embed import embedder

    reads: list[str] = []
    real = hashlib.blake2b

    def counting(*args: object, **kwargs: object) -> object:
        reads.append("read")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(embedder.hashlib, "blake2b", counting)
    monkeypatch.setattr(embedder, "_digests", {})
    spec = ModelSpec(tiny_model["name"], tiny_model["pretrained"], tiny_model["config"])
    first = embedder.model_key(spec)
    assert len(reads) == 2  # the weights and the config
    assert embedder.model_key(spec) == first and len(reads) == 2
    stat = os.stat(tiny_model["pretrained"])
    os.utime(tiny_model["pretrained"], ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert embedder.model_key(spec) == first and len(reads) == 3  # touched: read again, same content


def test_a_device_that_resolves_to_the_same_keeps_the_loaded_model(
    tiny_model: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`index --model FILE --device cpu` loads the model once: to try it, then indexes with it."""
    from engine.embed import embedder
    from engine.library import Library

    library = Library(tmp_path / "library")
    library.set_model(tiny_model["name"], tiny_model["pretrained"], tiny_model["config"])
    tried = library.embedder()

    def no_second_load(*args: object, **kwargs: object) -> None:
        raise AssertionError("the model was loaded again")

    monkeypatch.setattr(embedder, "load_embedder", no_second_load)
    library.update_settings(library.settings.replace(device="cpu"), save=False)  # "auto" chose the CPU already
    assert library.embedder() is tried
    library.update_settings(library.settings.replace(model=ModelSpec("other", "file.pt")), save=False)
    with pytest.raises(AssertionError, match="loaded again"):
        library.embedder()  # another model is loaded anew
