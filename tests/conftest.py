"""Shared fixtures: a tiny open_clip model saved locally, and generated photos."""

from __future__ import annotations

import datetime as dt
import json
import os
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

# Qt without a display, so that a bare `pytest` (an editor's test runner) works like `make test`. Set before any
# test module imports Qt: the platform is read when pytest-qt's fixture creates the QApplication.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

TINY_MODEL = "photoatlas-tiny"
TINY_CONFIG = {
    "embed_dim": 32,
    "vision_cfg": {"image_size": 32, "layers": 1, "width": 32, "patch_size": 8, "head_width": 16},
    "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1},
}
SHARED = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A tiny open_clip architecture registered from a JSON file, with random weights saved to a file.

    Loading it goes through the same open_clip code path as a user's downloaded checkpoint.
    """
    import open_clip
    import torch

    folder = tmp_path_factory.mktemp("tiny-model")
    config = folder / f"{TINY_MODEL}.json"
    config.write_text(json.dumps(TINY_CONFIG))
    open_clip.add_model_config(config)
    torch.manual_seed(0)
    model = open_clip.create_model(TINY_MODEL, pretrained=None)
    checkpoint = folder / "tiny.pt"
    torch.save(model.state_dict(), checkpoint)
    return {"name": TINY_MODEL, "config": str(config), "pretrained": str(checkpoint)}


def model_options(model: dict[str, str]) -> list[str]:
    """The `photoatlas index` options that select the tiny model."""
    return ["--model", model["name"], "--pretrained", model["pretrained"], "--model-config", model["config"]]


@pytest.fixture
def library(tmp_path: Path, tiny_model: dict[str, str]):
    """An empty library in a temp folder, set to the tiny model."""
    from engine.library import Library

    lib = Library(tmp_path / "library")
    lib.set_model(tiny_model["name"], tiny_model["pretrained"], tiny_model["config"])
    yield lib
    lib.close()


PhotoMaker = Callable[..., Path]


@pytest.fixture
def make_photo() -> PhotoMaker:
    """Write an image with Pillow: `make_photo(path, size=(w, h), color=..., taken=datetime, orientation=n)`."""

    def make(
        path: Path,
        size: tuple[int, int] = (64, 48),
        color: tuple[int, int, int] = (200, 30, 30),
        taken: dt.datetime | None = None,
        orientation: int | None = None,
        camera: tuple[str, str] | None = None,
        fmt: str | None = None,
    ) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        image = Image.new("RGB", size, color)
        # Two distinct marks per file so that no two generated photos share content by accident: their
        # places come from a CRC of the path (stable across runs, unlike the salted hash()). Each is a 4×4
        # square in the background's opposite colour: JPEG quantisation wipes out a lone pixel entirely.
        crc = zlib.crc32(os.fsencode(path))
        opposite = tuple(255 - c for c in color)
        draw = ImageDraw.Draw(image)
        for mark in (crc % (size[0] * size[1]), (crc >> 12) % (size[0] * size[1])):
            x, y = mark % size[0], mark // size[0]
            draw.rectangle((x, y, x + 3, y + 3), fill=opposite)
        exif = image.getexif()
        if taken is not None:
            exif.get_ifd(0x8769)[0x9003] = taken.strftime("%Y:%m:%d %H:%M:%S")
        if orientation is not None:
            exif[0x0112] = orientation
        if camera is not None:
            exif[0x010F], exif[0x0110] = camera
        save_format = fmt or {".png": "PNG", ".webp": "WEBP", ".tif": "TIFF", ".bmp": "BMP", ".gif": "GIF"}.get(
            path.suffix.lower(), "JPEG"
        )
        has_exif = taken is not None or orientation is not None or camera is not None
        kwargs = {"exif": exif} if save_format in ("JPEG", "PNG", "WEBP", "TIFF") and has_exif else {}
        image.save(path, save_format, **kwargs)
        return path

    return make


def snapshot_tree(root: Path) -> dict[str, bytes]:
    """Every file under `root` with its bytes, to prove originals are untouched."""
    out = {}
    for folder, _, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            if os.path.isfile(path) and not os.path.islink(path):
                try:
                    with open(path, "rb") as handle:
                        out[path] = handle.read()
                except OSError:
                    out[path] = b"<unreadable>"
    return out


@pytest.fixture
def one_torch_thread() -> Iterator[None]:
    """One torch thread for tiny tensors: faster, and much faster on a shared machine (threads wait on each other)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
