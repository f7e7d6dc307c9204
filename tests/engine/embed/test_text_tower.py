"""The text tower cut to the prompts' length gives `encode_text`'s embeddings, and falls back where it would not."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from engine.embed.text_tower import encode_tokens, fast_text_tower
from tests.conftest import SHARED

TOYCLIP = SHARED / "models" / "toyclip"
PROMPTS = [
    "a photo of a red circle.",
    "a photo of my dog.",
    "a candid photo of people at a birthday party in the garden.",
    "snow",
    "a photo of a yellow star.",
    "",
    "a close-up photo of a blue hexagon on a textured background, seen from above at dusk.",
    "a scan of a receipt.",
] * 5  # more rows than one batch below, so the sort and the batches are exercised

# A small open_clip config per text-tower kind: CLIP (argmax pooling), CustomTextCLIP (text = TextTransformer),
# a CustomTextCLIP pooling at an explicit eos id.
VISION = {"image_size": 32, "layers": 1, "width": 32, "patch_size": 8, "head_width": 16}
TEXT = {"context_length": 32, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 2}
CONFIGS = {
    "tt-clip": {"embed_dim": 24, "vision_cfg": VISION, "text_cfg": TEXT},
    "tt-custom": {"embed_dim": 24, "vision_cfg": VISION, "text_cfg": TEXT, "custom_text": True},
    "tt-custom-linear-proj": {
        "embed_dim": 24,
        "vision_cfg": VISION,
        "text_cfg": {**TEXT, "proj_type": "linear", "proj_bias": True},
        "custom_text": True,
    },
}
# Text towers the shortcut must leave to encode_text: what their output would depend on is the padding too.
FALLBACKS = {
    "tt-bidirectional": {
        "embed_dim": 24,
        "vision_cfg": VISION,
        "text_cfg": {**TEXT, "no_causal_mask": True},
        "custom_text": True,
    },
    "tt-last-pool": {"embed_dim": 24, "vision_cfg": VISION, "text_cfg": {**TEXT, "pool_type": "last"}},
    "tt-cls": {"embed_dim": 24, "vision_cfg": VISION, "text_cfg": {**TEXT, "embed_cls": True}, "custom_text": True},
}


def _model(name: str, config: dict, folder: Path):
    import open_clip
    import torch

    path = folder / f"{name}.json"
    path.write_text(json.dumps(config))
    open_clip.add_model_config(path)
    torch.manual_seed(0)
    model = open_clip.create_model(name, pretrained=None)
    return model.eval(), open_clip.get_tokenizer(name)


def _assert_same(model, tokenizer, batch_size: int = 16) -> None:
    import torch

    tokens = tokenizer(PROMPTS)
    with torch.inference_mode():
        fast = encode_tokens(model, tokens, batch_size=batch_size)
        full = model.encode_text(tokens)
    fast_n = torch.nn.functional.normalize(fast.float(), dim=-1).numpy()
    full_n = torch.nn.functional.normalize(full.float(), dim=-1).numpy()
    cosines = (fast_n * full_n).sum(axis=1)
    assert fast.shape == full.shape
    assert cosines.min() >= 0.99999, cosines.min()
    np.testing.assert_allclose(fast.numpy(), full.numpy(), atol=1e-4)


@pytest.mark.skipif(not (TOYCLIP / "toyclip.safetensors").exists(), reason="../shared is absent")
def test_toy_clip_matches_encode_text() -> None:
    import open_clip

    open_clip.add_model_config(TOYCLIP / "toyclip.json")
    model = open_clip.create_model("toyclip", pretrained=str(TOYCLIP / "toyclip.safetensors")).eval()
    assert fast_text_tower(model) is not None
    _assert_same(model, open_clip.get_tokenizer("toyclip"))


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_random_open_clip_towers_match_encode_text(name: str, tmp_path: Path) -> None:
    model, tokenizer = _model(name, CONFIGS[name], tmp_path)
    assert fast_text_tower(model) is not None, "the shortcut should apply to this tower"
    _assert_same(model, tokenizer)


def test_the_cut_is_to_the_longest_prompt_of_each_batch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import engine.embed.text_tower as text_tower

    model, tokenizer = _model("tt-clip", CONFIGS["tt-clip"], tmp_path)
    lengths: list[int] = []
    real = text_tower._encode
    monkeypatch.setattr(
        text_tower, "_encode", lambda tower, tokens, ends: lengths.append(tokens.shape[1]) or real(tower, tokens, ends)
    )
    tokens = tokenizer(PROMPTS)
    encode_tokens(model, tokens, batch_size=len(PROMPTS) // 2)
    ends = sorted(int(e) for e in tokens.argmax(dim=-1))
    half = len(PROMPTS) // 2
    assert lengths == [ends[half - 1] + 1, ends[-1] + 1] and lengths[0] < tokens.shape[1] // 2


@pytest.mark.parametrize("name", sorted(FALLBACKS))
def test_other_towers_fall_back_to_encode_text(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    model, tokenizer = _model(name, FALLBACKS[name], tmp_path)
    assert fast_text_tower(model) is None
    calls: list[int] = []
    real = model.encode_text
    monkeypatch.setattr(model, "encode_text", lambda tokens: calls.append(len(tokens)) or real(tokens))
    tokens = tokenizer(PROMPTS)
    with torch.inference_mode():
        out = encode_tokens(model, tokens, batch_size=16)
        np.testing.assert_allclose(out.numpy(), real(tokens).numpy(), atol=1e-5)
    assert sum(calls) == len(PROMPTS)


def test_a_wrapped_model_falls_back(tmp_path: Path) -> None:
    import torch

    model, _ = _model("tt-clip", CONFIGS["tt-clip"], tmp_path)

    class Wrapped(torch.nn.Module):
        def __init__(self, inner) -> None:
            super().__init__()
            self.inner = inner

        def encode_text(self, tokens):
            return self.inner.encode_text(tokens)

    assert fast_text_tower(Wrapped(model)) is None


def test_embedder_embed_texts_uses_the_cut_tower(tiny_model: dict[str, str]) -> None:
    import torch

    from engine.embed.embedder import load_embedder
    from engine.settings import ModelSpec

    embedder = load_embedder(ModelSpec(tiny_model["name"], tiny_model["pretrained"], tiny_model["config"]), "cpu")
    assert fast_text_tower(embedder.model) is not None
    texts = embedder.embed_texts(PROMPTS)
    with torch.inference_mode():
        full = torch.nn.functional.normalize(embedder.model.encode_text(embedder.tokenizer(PROMPTS)), dim=-1)
    assert (texts * full.numpy()).sum(axis=1).min() >= 0.99999
