"""RAW files: the camera's preview when it is large enough, else a half-size demosaic; date, camera, bad files."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest

import engine.media.raw as raw
from engine.media.decode import DecodedPhoto, DecodeOptions, SkippedFile, decode_file
from engine.media.thumbnails import ThumbnailCache
from tests.media_files import picture, write_dng

rawpy = pytest.importorskip("rawpy")

AN_HOUR_AGO = time.time() - 3600


@pytest.fixture
def cache(tmp_path: Path) -> ThumbnailCache:
    return ThumbnailCache(tmp_path / "thumbs")


def options() -> DecodeOptions:
    return DecodeOptions(thumbnail_size=64, model_input_size=32, preprocess=lambda im: im)


def test_a_dng_with_a_large_preview_uses_the_preview(tmp_path: Path, cache: ThumbnailCache) -> None:
    preview = np.zeros((200, 300, 3), np.uint8)
    preview[..., 1] = 220  # green preview, red sensor: tells which one was used
    path = write_dng(tmp_path / "IMG_1.dng", picture((200, 20, 20)), preview=preview)
    before = path.read_bytes()
    result = decode_file(path, options(), cache.write)
    assert isinstance(result, DecodedPhoto), result
    r, g, _b = result.model_input.resize((1, 1)).getpixel((0, 0))
    assert g > 150 and r < 60  # the preview's green: nothing was demosaiced
    assert result.model_input.size == (300, 200)
    assert (result.meta.width, result.meta.height) == (384, 256)
    assert result.meta.taken_at == "2021-05-06T07:08:09" and result.meta.taken_at_source == "exif"
    assert result.meta.camera == "PhotoAtlas Test Cam"
    assert cache.exists(result.hash) and path.read_bytes() == before


def test_a_dng_without_a_preview_is_demosaiced(tmp_path: Path, cache: ThumbnailCache) -> None:
    path = write_dng(tmp_path / "IMG_2.dng", picture((200, 20, 20)))
    result = decode_file(path, options(), cache.write)
    assert isinstance(result, DecodedPhoto), result
    r, g, b = result.model_input.resize((1, 1)).getpixel((0, 0))
    assert r > 120 and r > 2 * g and r > 2 * b  # the sensor's red survives demosaicing and white balance
    assert result.model_input.size == (192, 128)  # half size


def test_a_small_preview_is_not_enough(tmp_path: Path, cache: ThumbnailCache) -> None:
    preview = np.full((40, 60, 3), 220, np.uint8)
    path = write_dng(tmp_path / "IMG_3.dng", picture((200, 20, 20)), preview=preview)
    result = decode_file(path, options(), cache.write)
    assert isinstance(result, DecodedPhoto)
    assert result.model_input.size == (192, 128)


def test_a_raw_libraw_cannot_open_is_skipped(tmp_path: Path, cache: ThumbnailCache) -> None:
    bad = tmp_path / "broken.cr2"
    bad.write_bytes(b"II*\x00" + os.urandom(5000))
    os.utime(bad, (AN_HOUR_AGO, AN_HOUR_AGO))
    before = bad.read_bytes()
    result = decode_file(bad, options(), cache.write)
    assert isinstance(result, SkippedFile), result
    assert result.skip.reason in ("not-a-raw", "corrupt") and result.skip.permanent
    assert bad.read_bytes() == before


def test_flip_codes_map_to_exif_orientation() -> None:
    assert raw.FLIP_TO_ORIENTATION == {0: None, 3: 3, 5: 8, 6: 6}
