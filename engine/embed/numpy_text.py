"""CLIP's text tower in numpy, for a search from the command line: a query's embedding without torch.

A search needs one text embedding (the query's two prompts); every image embedding and background caption is
already in the catalog. Importing torch and open_clip takes seconds, longer than the whole search should, so
a short-lived process reads the text tower's weights from a safetensors file and runs it here in float32,
giving open_clip's embedding to float rounding (a test holds them together).

Only open_clip's plain `CLIP` text tower is run this way: BPE tokenizer with the default cleaning, causal
mask, the feature at the end-of-text token, a projection matrix, GELU or QuickGELU, no layer scale. Anything
else (`text_encoder_for` returns None) goes through the real model. The tokenizer is open_clip's
`SimpleTokenizer`, ported without torch; its vocabulary file is read from the installed open_clip package
without importing it.
"""

from __future__ import annotations

import gzip
import html
import importlib.util
import itertools
import json
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from engine.settings import ModelSpec

# The model-config keys this tower understands; any other one may change the text tower.
_MODEL_KEYS = frozenset({"embed_dim", "vision_cfg", "text_cfg", "quick_gelu"})
_TEXT_KEYS = frozenset({"context_length", "vocab_size", "width", "heads", "layers", "mlp_ratio"})
_EPS = 1e-5  # open_clip's LayerNorm


def _open_clip_dir() -> Path | None:
    spec = importlib.util.find_spec("open_clip")  # finds the package without running it
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _model_config(spec: ModelSpec) -> dict[str, Any] | None:
    if spec.config:
        path = Path(spec.config)
    else:
        folder = _open_clip_dir()
        if folder is None:
            return None
        path = folder / "model_configs" / f"{spec.name}.json"
    try:
        config = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return config if isinstance(config, dict) else None


def text_encoder_for(spec: ModelSpec) -> NumpyTextEncoder | None:
    """The numpy text tower of `spec`, or None when it is not one this module runs exactly.

    Needs a local safetensors weights file and a plain CLIP text tower (see the module's docstring).
    """
    if not spec.pretrained_is_file or Path(spec.pretrained).suffix != ".safetensors":
        return None
    config = _model_config(spec)
    if config is None or not set(config) <= _MODEL_KEYS:
        return None
    text = config.get("text_cfg", {})
    if not isinstance(text, dict) or not set(text) <= _TEXT_KEYS:
        return None
    bpe = _open_clip_dir()
    if bpe is None or not (bpe / "bpe_simple_vocab_16e6.txt.gz").is_file():
        return None
    try:
        return NumpyTextEncoder(
            Path(spec.pretrained),
            bpe / "bpe_simple_vocab_16e6.txt.gz",
            width=int(text.get("width", 512)),
            heads=int(text.get("heads", 8)),
            layers=int(text.get("layers", 12)),
            context_length=int(text.get("context_length", 77)),
            quick_gelu=bool(config.get("quick_gelu", False)),
        )
    except (OSError, ValueError, KeyError):
        return None


# The text tower made last in this process, by its spec and the size and time of its files.
_shared: tuple[tuple[object, ...], NumpyTextEncoder | None] | None = None
_shared_lock = threading.Lock()


def shared_text_encoder(spec: ModelSpec) -> NumpyTextEncoder | None:
    """`text_encoder_for`, reusing the one this process made last for the same files."""
    global _shared
    identity = (spec, spec.files_stat())
    with _shared_lock:
        if _shared is None or _shared[0] != identity:
            _shared = (identity, text_encoder_for(spec))
        return _shared[1]


class NumpyTextEncoder:
    """The text tower of a CLIP checkpoint, in numpy; weights read when first used.

    Raises (at construction):
        ValueError, KeyError, OSError: the file is not a plain CLIP text tower of this shape.
    """

    def __init__(
        self,
        weights: Path,
        bpe_path: Path,
        *,
        width: int,
        heads: int,
        layers: int,
        context_length: int,
        quick_gelu: bool,
    ) -> None:
        from safetensors import safe_open

        self.width, self.heads, self.layers = width, heads, layers
        self.context_length = context_length
        self.quick_gelu = quick_gelu
        self.tokenizer = ClipTokenizer(bpe_path)
        self._file = safe_open(str(weights), framework="numpy")
        keys = set(self._file.keys())
        needed = {"token_embedding.weight", "positional_embedding", "ln_final.weight", "text_projection"}
        block = [f"transformer.resblocks.{i}." for i in range(layers)]
        if not needed <= keys or any(f"{b}attn.in_proj_weight" not in keys for b in block):
            raise KeyError("not a CLIP text tower with these names")
        if any(k.startswith(f"transformer.resblocks.{layers}.") or ".ls_" in k for k in keys):
            raise ValueError("another number of text layers, or layer scale")
        self._embedding_shape = tuple(self._file.get_slice("token_embedding.weight").get_shape())
        if self._embedding_shape[1] != width:
            raise ValueError("text width differs from the config")
        self._weights: dict[str, np.ndarray] = {}

    def _tensor(self, name: str) -> np.ndarray:
        if name not in self._weights:
            self._weights[name] = np.asarray(self._file.get_tensor(name), dtype=np.float32)
        return self._weights[name]

    def _embed_tokens(self, ids: list[list[int]]) -> np.ndarray:
        """(prompts, tokens, width) embeddings, reading only the rows of the tokens used."""
        rows = self._file.get_slice("token_embedding.weight")
        table = {t: np.asarray(rows[t : t + 1], dtype=np.float32)[0] for t in {t for p in ids for t in p}}
        return np.stack([np.stack([table[t] for t in p]) for p in ids])

    def tokens(self, text: str) -> list[int]:
        """The prompt's token ids as open_clip's tokenizer gives them, up to the end-of-text token."""
        ids = [self.tokenizer.sot, *self.tokenizer.encode(text), self.tokenizer.eot]
        if len(ids) > self.context_length:
            ids = ids[: self.context_length]
            ids[-1] = self.tokenizer.eot
        return ids

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        """(n, D) L2-normalised text embeddings, as `Embedder.embed_texts` gives them."""
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:
            return self._embed_texts(texts)
        # A few prompts make matrices too small for BLAS threads: waking them costs more than they save
        # (ten times more on a busy machine).
        with threadpool_limits(limits=1, user_api="blas"):
            return self._embed_texts(texts)

    def _embed_texts(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self._tensor("text_projection").shape[1]), dtype=np.float32)
        # Causal mask: the feature at a prompt's end-of-text token sees only the tokens before it, so the
        # prompts are padded only to the longest of them (open_clip pads all to the context length).
        ids = [self.tokens(text) for text in texts]
        n = max(len(t) for t in ids)
        padded = [t + [0] * (n - len(t)) for t in ids]
        x = self._embed_tokens(padded) + self._tensor("positional_embedding")[:n]
        causal = np.triu(np.full((n, n), -np.inf, dtype=np.float32), 1)
        for i in range(self.layers):
            p = f"transformer.resblocks.{i}."
            h = _layer_norm(x, self._tensor(p + "ln_1.weight"), self._tensor(p + "ln_1.bias"))
            x = x + self._attention(h, p, causal)
            h = _layer_norm(x, self._tensor(p + "ln_2.weight"), self._tensor(p + "ln_2.bias"))
            h = h @ self._tensor(p + "mlp.c_fc.weight").T + self._tensor(p + "mlp.c_fc.bias")
            h = _quick_gelu(h) if self.quick_gelu else _gelu(h)
            x = x + h @ self._tensor(p + "mlp.c_proj.weight").T + self._tensor(p + "mlp.c_proj.bias")
        x = _layer_norm(x, self._tensor("ln_final.weight"), self._tensor("ln_final.bias"))
        # open_clip pools at the largest token id, the end-of-text token.
        pooled = x[np.arange(len(ids)), [int(np.argmax(t)) for t in ids]]
        features = pooled @ self._tensor("text_projection")
        norms = np.maximum(np.linalg.norm(features, axis=1, keepdims=True), 1e-12)
        return (features / norms).astype(np.float32)

    def _attention(self, x: np.ndarray, p: str, causal: np.ndarray) -> np.ndarray:
        b, n, width = x.shape
        head = width // self.heads
        qkv = x @ self._tensor(p + "attn.in_proj_weight").T + self._tensor(p + "attn.in_proj_bias")
        q, k, v = (
            qkv[..., j * width : (j + 1) * width].reshape(b, n, self.heads, head).transpose(0, 2, 1, 3)
            for j in range(3)
        )
        scores = (q @ k.transpose(0, 1, 3, 2)) / np.float32(np.sqrt(head)) + causal
        scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        scores /= scores.sum(axis=-1, keepdims=True)
        out = (scores @ v).transpose(0, 2, 1, 3).reshape(b, n, width)
        return out @ self._tensor(p + "attn.out_proj.weight").T + self._tensor(p + "attn.out_proj.bias")


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + _EPS) * weight + bias


def _erf(x: np.ndarray) -> np.ndarray:
    # Abramowitz & Stegun 7.1.26 in float64: |error| < 1.5e-7, below float32's resolution of GELU's output.
    z = np.abs(x.astype(np.float64))
    t = 1.0 / (1.0 + 0.3275911 * z)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return (np.sign(x) * (1.0 - poly * np.exp(-z * z))).astype(np.float32)


def _gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + _erf(x / np.float32(np.sqrt(2.0))))


def _quick_gelu(x: np.ndarray) -> np.ndarray:
    return x / (1.0 + np.exp(-1.702 * x))


# -- the tokenizer -------------------------------------------------------------------------------------


@lru_cache
def _bytes_to_unicode() -> dict[int, str]:
    """open_clip's (GPT-2's) reversible map from bytes to printable characters."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, (chr(c) for c in cs), strict=True))


class ClipTokenizer:
    """open_clip's `SimpleTokenizer` (clean="lower", no reduction), without torch: the same token ids."""

    def __init__(self, bpe_path: Path) -> None:
        import regex

        with gzip.open(bpe_path) as handle:
            merges = handle.read().decode("utf-8").split("\n")[1 : 49152 - 256 - 2 + 1]
        self.byte_encoder = _bytes_to_unicode()
        vocab = list(self.byte_encoder.values())
        vocab += [v + "</w>" for v in vocab]
        vocab += [m.replace(" ", "") for m in merges]  # as open_clip joins each merge's two parts
        vocab += ["<start_of_text>", "<end_of_text>"]
        self.encoder = {token: i for i, token in enumerate(vocab)}  # a repeated token keeps its last id
        self.ranks = {m: i for i, m in enumerate(merges)}  # "first second" → rank
        self.sot, self.eot = self.encoder["<start_of_text>"], self.encoder["<end_of_text>"]
        self.cache = {"<start_of_text>": "<start_of_text>", "<end_of_text>": "<end_of_text>"}
        self.pattern = regex.compile(
            r"""<start_of_text>|<end_of_text>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+""",
            regex.IGNORECASE,
        )
        self._findall = regex.findall

    def encode(self, text: str) -> list[int]:
        import ftfy

        text = html.unescape(html.unescape(ftfy.fix_text(text))).strip()
        text = " ".join(text.split()).strip().lower()
        ids: list[int] = []
        for token in self._findall(self.pattern, text):
            token = "".join(self.byte_encoder[b] for b in token.encode("utf-8"))
            ids.extend(self.encoder[piece] for piece in self._bpe(token).split(" "))
        return ids

    def _bpe(self, token: str) -> str:
        if token in self.cache:
            return self.cache[token]
        word = (*token[:-1], token[-1] + "</w>")
        if len(word) == 1:
            return token + "</w>"
        while len(word) > 1:
            pairs = set(itertools.pairwise(word))
            ranked = min(pairs, key=lambda pair: self.ranks.get(f"{pair[0]} {pair[1]}", float("inf")))
            if f"{ranked[0]} {ranked[1]}" not in self.ranks:
                break
            first, second = ranked
            merged: list[str] = []
            i = 0
            while i < len(word):
                if word[i] == first and i < len(word) - 1 and word[i + 1] == second:
                    merged.append(first + second)
                    i += 2
                else:
                    merged.append(word[i])
                    i += 1
            word = tuple(merged)
        result = " ".join(word)
        self.cache[token] = result
        return result
