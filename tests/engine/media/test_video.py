"""Videos: metadata, a representative thumbnail, several frames for the model, bounded work, bad clips."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

import pytest
from PIL import Image

import engine.media.video as video
from engine.media.decode import DecodedPhoto, DecodeOptions, KnownContent, SkippedFile, decode_file
from engine.media.thumbnails import ThumbnailCache
from tests.media_files import (
    solid_frames,
    with_unknown_codec,
    write_audio_only,
    write_empty_video_stream,
    write_video,
)

pytest.importorskip("av")

AN_HOUR_AGO = time.time() - 3600


def age(path: Path) -> Path:
    """Make a file look long finished (fresh files that fail to decode count as still being written)."""
    os.utime(path, (AN_HOUR_AGO, AN_HOUR_AGO))
    return path


@pytest.fixture
def cache(tmp_path: Path) -> ThumbnailCache:
    return ThumbnailCache(tmp_path / "thumbs")


def options(**kw) -> DecodeOptions:
    return DecodeOptions(
        thumbnail_size=kw.pop("thumbnail_size", 64), model_input_size=32, preprocess=lambda im: im, **kw
    )


def test_a_clip_gives_size_duration_date_thumbnail_and_several_frames(tmp_path: Path, cache: ThumbnailCache) -> None:
    clip = write_video(
        tmp_path / "beach.mp4",
        solid_frames((30, 90, 220)),
        count=40,
        fps=10,
        creation_time="2023-07-01T10:00:00.000000Z",
    )
    before = clip.read_bytes()
    result = decode_file(clip, options(), cache.write)
    assert isinstance(result, DecodedPhoto), result
    assert (result.meta.width, result.meta.height) == (160, 96)
    assert result.meta.duration == pytest.approx(4.0, abs=0.15)
    assert result.meta.taken_at_source == "metadata" and result.meta.taken_at.startswith("2023-07-01")
    frames = result.model_input
    assert isinstance(frames, list) and 4 <= len(frames) <= 8
    assert all(isinstance(f, Image.Image) and min(f.size) >= 32 for f in frames)
    assert result.thumbnail_relpath and cache.exists(result.hash)
    assert clip.read_bytes() == before  # the original is only read


def test_the_thumbnail_is_not_the_black_first_frame(tmp_path: Path, cache: ThumbnailCache) -> None:
    bright = solid_frames((240, 200, 20))

    def fade_in(i: int) -> Image.Image:
        return Image.new("RGB", (160, 96), (0, 0, 0)) if i < 12 else bright(i)

    clip = write_video(tmp_path / "fade.mov", fade_in, count=40)
    result = decode_file(clip, options(), cache.write)
    assert isinstance(result, DecodedPhoto)
    with Image.open(io.BytesIO(cache.read(result.hash))) as thumb:
        r, g, _b = thumb.convert("RGB").resize((1, 1)).getpixel((0, 0))
    assert r > 150 and g > 120  # the yellow of the clip, not the black of its start
    assert all(min(f.convert("L").resize((1, 1)).getpixel((0, 0)), 255) > 16 for f in result.model_input)


def test_a_rotated_phone_clip_is_shown_upright(tmp_path: Path, cache: ThumbnailCache) -> None:
    clip = write_video(tmp_path / "portrait.mp4", solid_frames((200, 40, 40)), count=20, rotation=90)
    result = decode_file(clip, options(), cache.write)
    assert isinstance(result, DecodedPhoto)
    assert (result.meta.width, result.meta.height) == (96, 160)
    assert result.meta.orientation == 8
    assert result.thumbnail_size is not None and result.thumbnail_size[1] > result.thumbnail_size[0]


@pytest.mark.parametrize(
    ("name", "codec", "fmt"),
    [
        ("a.mov", "libx264", None),
        ("a.m4v", "libx264", "mp4"),
        ("a.3gp", "libx264", "3gp"),
        ("a.mkv", "libx264", None),
        ("a.webm", "libvpx", None),
        ("a.avi", "mpeg4", None),
    ],
)
def test_every_video_container_is_read(tmp_path: Path, cache: ThumbnailCache, name: str, codec: str, fmt) -> None:
    clip = write_video(tmp_path / name, solid_frames((20, 160, 60)), count=20, codec=codec, container_format=fmt)
    result = decode_file(clip, options(), cache.write)
    assert isinstance(result, DecodedPhoto), result
    assert result.meta.duration == pytest.approx(2.0, abs=0.25)
    assert len(result.model_input) >= 1


def test_a_known_clip_is_not_decoded_again(tmp_path: Path, cache: ThumbnailCache, monkeypatch) -> None:
    clip = write_video(tmp_path / "a.mp4", solid_frames((20, 160, 60)))
    first = decode_file(clip, options(), cache.write)
    monkeypatch.setattr(video, "probe_video", lambda *a, **k: pytest.fail("decoded again"))
    again = decode_file(clip, options(), cache.write, frozenset({first.hash}))
    assert isinstance(again, KnownContent) and again.hash == first.hash


def test_the_hash_is_streamed_and_equals_the_photo_hash(tmp_path: Path) -> None:
    from engine.media.decode import content_hash

    data = os.urandom(3 * video.HASH_CHUNK + 17)
    (tmp_path / "x.mp4").write_bytes(data)
    assert video.hash_file(tmp_path / "x.mp4")[0] == content_hash(data)


def test_a_long_clip_costs_a_bounded_number_of_decoded_frames(tmp_path: Path) -> None:
    # 10 minutes at 5 fps with keyframes 10 s apart: decoding it whole would be 3000 frames.
    clip = write_video(tmp_path / "long.mp4", solid_frames((90, 90, 90), size=(64, 48)), count=3000, fps=5, gop=50)
    probe = video.probe_video(clip, frames=6, min_side=32, max_side=64, max_pixels=10**8)
    assert probe.duration == pytest.approx(600, abs=1)
    assert len(probe.frames) == 6
    assert probe.decoded <= 6 * video.DECODE_PER_SAMPLE


def _skip_of(path: Path, cache: ThumbnailCache, **kw) -> SkippedFile:
    result = decode_file(age(path), options(**kw), cache.write)
    assert isinstance(result, SkippedFile), result
    return result


def test_bad_clips_are_skipped_with_a_reason(tmp_path: Path, cache: ThumbnailCache) -> None:
    good = write_video(tmp_path / "good.mp4", solid_frames((20, 160, 60)), count=30)
    data = good.read_bytes()
    (tmp_path / "truncated.mp4").write_bytes(data[: len(data) * 2 // 3])
    (tmp_path / "empty.mp4").write_bytes(b"")
    (tmp_path / "text.mov").write_bytes(b"this is not a video at all, just some words\n" * 20)
    write_audio_only(tmp_path / "sound.mp4")
    write_empty_video_stream(tmp_path / "zero.mp4")
    avi = write_video(tmp_path / "source.avi", solid_frames((20, 160, 60)), codec="mpeg4")
    with_unknown_codec(avi, tmp_path / "alien.avi")
    originals = {p: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    reasons = {
        name: _skip_of(tmp_path / name, cache).skip.reason
        for name in ("truncated.mp4", "empty.mp4", "text.mov", "sound.mp4", "zero.mp4", "alien.avi")
    }
    assert reasons == {
        "truncated.mp4": "truncated",
        "empty.mp4": "empty",
        "text.mov": "not-a-video",
        "sound.mp4": "no-video-stream",
        "zero.mp4": "no-frames",
        "alien.avi": "unsupported-codec",
    }
    assert _skip_of(good, cache, max_pixels=1000).skip.reason == "too-large"
    assert {p: p.read_bytes() for p in originals} == originals
