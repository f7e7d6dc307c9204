"""Decoding once: orientation, dates, camera, formats, thumbnails, reduced-size JPEG decoding."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from PIL import Image

from engine.media.decode import DecodedPhoto, DecodeOptions, decode_file
from engine.media.thumbnails import ThumbnailCache


@pytest.fixture
def cache(tmp_path: Path) -> ThumbnailCache:
    return ThumbnailCache(tmp_path / "thumbs")


def decode(path: Path, cache: ThumbnailCache, **options) -> DecodedPhoto:
    result = decode_file(path, DecodeOptions(**options), cache.write)
    assert isinstance(result, DecodedPhoto), result
    return result


def test_exif_orientation_date_and_camera(tmp_path: Path, make_photo, cache: ThumbnailCache) -> None:
    path = make_photo(
        tmp_path / "r.jpg",
        size=(400, 300),
        taken=dt.datetime(2019, 7, 4, 18, 30, 5),
        orientation=6,
        camera=("Canon", "Canon EOS R5"),
    )
    photo = decode(path, cache)
    assert (photo.meta.width, photo.meta.height) == (300, 400)  # rotated 90°: shown portrait
    assert photo.meta.taken_at == "2019-07-04T18:30:05" and photo.meta.taken_at_source == "exif"
    assert photo.meta.camera == "Canon EOS R5" and photo.meta.orientation == 6
    with Image.open(cache.path(photo.hash)) as thumb:
        assert thumb.width < thumb.height, "the thumbnail is shown the right way up"


def test_file_time_when_no_exif_date(tmp_path: Path, make_photo, cache: ThumbnailCache) -> None:
    photo = decode(make_photo(tmp_path / "plain.png"), cache)
    assert photo.meta.taken_at_source == "file" and photo.meta.taken_at is not None


@pytest.mark.parametrize("name", ["a.png", "a.webp", "a.tif", "a.bmp", "a.gif"])
def test_common_formats(tmp_path: Path, make_photo, cache: ThumbnailCache, name: str) -> None:
    photo = decode(make_photo(tmp_path / name, size=(90, 60)), cache, thumbnail_size=32)
    assert (photo.meta.width, photo.meta.height) == (90, 60)
    assert cache.exists(photo.hash)


def test_gif_first_frame_and_transparency(tmp_path: Path, cache: ThumbnailCache) -> None:
    frames = [Image.new("RGBA", (40, 40), c) for c in [(255, 0, 0, 0), (0, 0, 255, 255)]]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:], duration=100)
    photo = decode(tmp_path / "anim.gif", cache)
    with Image.open(cache.path(photo.hash)) as thumb:
        assert thumb.convert("RGB").getpixel((5, 5))[2] < 250 or thumb.convert("RGB").getpixel((5, 5)) == (
            255,
            255,
            255,
        )


def test_heic(tmp_path: Path, cache: ThumbnailCache) -> None:
    pillow_heif = pytest.importorskip("pillow_heif")
    pillow_heif.register_heif_opener()
    try:
        Image.new("RGB", (64, 48), (10, 200, 30)).save(tmp_path / "phone.heic")
    except (OSError, KeyError, ValueError) as exc:  # wheel without an HEVC encoder
        pytest.skip(f"cannot write HEIC here: {exc}")
    photo = decode(tmp_path / "phone.heic", cache)
    assert (photo.meta.width, photo.meta.height) == (64, 48)


def test_large_jpeg_decodes_at_reduced_size(tmp_path: Path, make_photo, cache: ThumbnailCache) -> None:
    seen = []

    def preprocess(image: Image.Image):
        seen.append(image.size)
        return None

    path = make_photo(tmp_path / "big.jpg", size=(4000, 3000))
    photo = decode(path, cache, thumbnail_size=320, model_input_size=224, preprocess=preprocess)
    assert (photo.meta.width, photo.meta.height) == (4000, 3000)
    assert seen == [(500, 375)], "draft mode decodes at 1/8 scale when that is still big enough"
    with Image.open(cache.path(photo.hash)) as thumb:
        assert max(thumb.size) == 320


def test_thumbnail_cache_writes_atomically(cache: ThumbnailCache) -> None:
    rel = cache.write("abcdef", b"jpeg-bytes")
    assert rel == "ab/abcdef.jpg" and cache.read("abcdef") == b"jpeg-bytes"
    assert [p.name for p in cache.path("abcdef").parent.iterdir()] == ["abcdef.jpg"]
