"""Videos through PyAV (FFmpeg inside its wheel): metadata, a representative thumbnail and a few frames
for the model.

The work per clip is bounded however long or large the clip is: the file is hashed in chunks (never held
in memory), and at most `frames` samples are decoded, each by seeking to the keyframe before an evenly
spaced time and decoding a few frames from there (never the whole stream), at a reduced size. Why several
frames and not one: see docs/algorithms.md, "Video embeddings".
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import time
from collections.abc import Callable, Set
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from engine.catalog import PhotoMeta
from engine.media.decode import (
    ChangedWhileReading,
    DecodedPhoto,
    DecodeOptions,
    DecodeResult,
    SkippedFile,
    Snapshot,
    file_time,
    read_or_skip,
    settled_result,
    still_changing,
)
from engine.media.skip_reasons import Skip

HASH_CHUNK = 1 << 20
# Frames decoded after a seek while looking for the sample's time: a phone's keyframes are ~1 s apart, so
# this reaches the time in most clips and bounds the cost in clips with rare keyframes.
DECODE_PER_SAMPLE = 12
SAMPLE_BUDGET_S = 20.0  # a clip that decodes this slowly keeps the samples it has
# A frame this dark or flat (fade-in, lens cap) is a poor thumbnail and says nothing to the model.
DARK_MEAN, FLAT_STD = 16.0, 4.0


@dataclass(frozen=True)
class VideoProbe:
    """What the container says about a clip, and its sampled frames (upright, reduced size, RGB)."""

    width: int  # as displayed, after rotation
    height: int
    duration: float | None
    rotation: int  # degrees counter-clockwise the frames are turned for display
    taken_at: str | None
    camera: str | None
    frames: list[Image.Image]
    decoded: int  # frames decoded in all, to show the work stayed bounded
    location: tuple[float, float] | None = None  # (latitude, longitude) the container's ISO 6709 tag gives
    utc_offset: int | None = None  # minutes east of UTC, from Apple's local creation date


class VideoRefused(Exception):
    """A clip PhotoAtlas will not catalog; `skip` says why."""

    def __init__(self, skip: Skip) -> None:
        super().__init__(skip.describe())
        self.skip = skip


def hash_file(path: Path) -> tuple[str, int, int]:
    """(content hash, size, mtime_ns) of a file read in chunks; same hash as `decode.content_hash` of its bytes.

    Raises:
        OSError: when it cannot be read; `ChangedWhileReading` when it changed meanwhile.
    """
    before = os.stat(path)
    digest = hashlib.blake2b(digest_size=16)
    read = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(HASH_CHUNK):
            digest.update(chunk)
            read += len(chunk)
    after = os.stat(path)
    if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns) or read != after.st_size:
        raise ChangedWhileReading(path)
    return digest.hexdigest(), after.st_size, after.st_mtime_ns


def iso_truncation(path: Path, size: int) -> str | None:
    """For MP4/MOV/3GP files: a description of how the file is cut short, or None when its boxes are whole.

    An ISO media file is a sequence of sized boxes; a copy cut short ends inside one, and a file whose
    index (`moov`) was to be written last has none.
    """
    try:
        with open(path, "rb") as handle:
            header = handle.read(8)
            if len(header) < 8 or header[4:8] not in (b"ftyp", b"wide", b"mdat", b"moov", b"free", b"skip"):
                return None  # not an ISO media file
            offset, seen = 0, set()
            while offset < size:
                handle.seek(offset)
                head = handle.read(16)
                if len(head) < 8:
                    return f"ends inside a box header at byte {offset}"
                box_size, kind = int.from_bytes(head[:4], "big"), head[4:8]
                if box_size == 1 and len(head) == 16:
                    box_size = int.from_bytes(head[8:16], "big")
                elif box_size == 0:
                    box_size = size - offset
                if box_size < 8:
                    return None  # not a box structure we understand: let FFmpeg judge
                seen.add(kind)
                if offset + box_size > size:
                    name = kind.decode("latin-1")
                    return f"ends {offset + box_size - size} bytes into its '{name}' box"
                offset += box_size
            if b"moov" not in seen:
                return "its index (moov box) is missing"
    except OSError:
        return None
    return None


def probe_video(path: Path, frames: int, min_side: int, max_side: int, max_pixels: int) -> VideoProbe:
    """Open a clip, read its metadata and sample up to `frames` frames spread over it.

    Args:
        frames: how many frames to sample (0 reads metadata only).
        min_side: frames are scaled so their shorter side is at least this (the model's input).
        max_side: ... and their longer side at least this (the thumbnail), never enlarged.
        max_pixels: a larger frame is refused ("too-large").

    Raises:
        VideoRefused: for a clip that cannot be cataloged; "truncated" when an MP4/MOV is cut short.
    """
    try:
        return _probe(path, frames, min_side, max_side, max_pixels)
    except VideoRefused as refused:
        if refused.skip.reason in ("not-a-video", "corrupt", "no-frames"):
            try:
                cut = iso_truncation(path, os.path.getsize(path))
            except OSError:
                cut = None
            if cut is not None:
                raise VideoRefused(Skip("truncated", cut)) from refused
        raise


def _probe(path: Path, frames: int, min_side: int, max_side: int, max_pixels: int) -> VideoProbe:
    import av

    try:
        container = av.open(os.fspath(path), metadata_errors="ignore")
    except av.error.InvalidDataError as exc:
        raise VideoRefused(Skip("not-a-video", _message(exc))) from exc
    except av.error.EOFError as exc:
        raise VideoRefused(Skip("truncated", "ends before its first frame")) from exc
    except av.FFmpegError as exc:
        raise VideoRefused(Skip("corrupt", _message(exc))) from exc
    with container:
        if not container.streams:  # a zero-length recording: its track holds nothing, so FFmpeg shows none
            raise VideoRefused(Skip("no-frames", "the file holds no picture and no sound"))
        if not container.streams.video:
            detail = "audio only" if container.streams.audio else "no picture FFmpeg can read"
            raise VideoRefused(Skip("no-video-stream", detail))
        stream = container.streams.video[0]
        context = stream.codec_context
        if context is None or not context.codec or context.name in ("none", ""):
            tag = getattr(context, "codec_tag", "") if context is not None else ""
            raise VideoRefused(Skip("unsupported-codec", f"codec {tag!s}".strip()))
        width, height = int(context.width or 0), int(context.height or 0)
        if width * height > max_pixels:
            raise VideoRefused(
                Skip(
                    "too-large",
                    f"{width}×{height} frames = {width * height / 1e6:.0f} MP, limit {max_pixels / 1e6:.0f} MP",
                )
            )
        duration = _duration(container, stream)
        taken_at, camera = _creation_time(container, stream), _camera(container)
        samples, decoded, rotation = _sample(container, stream, frames, duration, min_side, max_side)
    if frames and not samples:
        raise VideoRefused(Skip("no-frames", f"{decoded} frames decoded" if decoded else ""))
    if rotation in (90, 270) and width and height:
        width, height = height, width
    if samples and not (width and height):
        width, height = samples[0].size
    location, utc_offset = _location(container, stream)
    return VideoProbe(width, height, duration, rotation, taken_at, camera, samples, decoded, location, utc_offset)


def _location(container: Any, stream: Any) -> tuple[tuple[float, float] | None, int | None]:
    """Where a clip was shot (ISO 6709, as phones write it) and its UTC offset (Apple's creation date)."""
    from engine.places.gps import iso6709_location

    tags = {**dict(stream.metadata or {}), **dict(container.metadata or {})}
    found = None
    for key in ("com.apple.quicktime.location.ISO6709", "location", "location-eng"):
        found = iso6709_location(tags.get(key))
        if found is not None:
            break
    offset = None
    apple = _parse_time(tags.get("com.apple.quicktime.creationdate"))
    if apple is not None and apple.utcoffset() is not None:
        offset = int(apple.utcoffset().total_seconds() // 60)  # type: ignore[union-attr]
    return ((found.latitude, found.longitude) if found else None), offset


def _message(exc: BaseException) -> str:
    return (getattr(exc, "strerror", None) or str(exc) or type(exc).__name__)[:200]


def _duration(container: Any, stream: Any) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        seconds = float(stream.duration * stream.time_base)
    elif container.duration is not None:
        seconds = container.duration / 1_000_000
    else:
        return None
    return round(seconds, 3) if seconds > 0 else None


def _sample(
    container: Any, stream: Any, count: int, duration: float | None, min_side: int, max_side: int
) -> tuple[list[Image.Image], int, int]:
    """Up to `count` upright frames at evenly spaced times, the number of frames decoded, and the rotation."""
    import av

    if count <= 0:
        return [], 0, 0
    started = time.monotonic()
    times = [duration * (i + 0.5) / count for i in range(count)] if duration else [0.0]
    frames: list[Image.Image] = []
    seen_pts: set[int] = set()
    decoded, rotation = 0, 0
    for target in times:
        if time.monotonic() - started > SAMPLE_BUDGET_S:
            break
        try:
            if target > 0 and stream.time_base is not None:
                start = stream.start_time or 0
                container.seek(start + int(target / stream.time_base), stream=stream, backward=True)
            chosen = None
            for n, frame in enumerate(container.decode(stream)):
                decoded += 1
                chosen = frame
                when = frame.time if frame.time is not None else 0.0
                if when >= target - 1e-3 or n + 1 >= DECODE_PER_SAMPLE:
                    break
                if not duration and len(frames) + 1 < count:  # length unknown: take frames as they come
                    break
        except (av.FFmpegError, ValueError, MemoryError):
            continue  # a damaged stretch: the other samples may still be good
        if chosen is None or chosen.pts in seen_pts:
            continue
        seen_pts.add(chosen.pts)
        rotation = round(getattr(chosen, "rotation", 0) or 0) % 360
        frames.append(_to_upright_image(chosen, rotation, min_side, max_side))
    return frames, decoded, rotation


def _to_upright_image(frame: Any, rotation: int, min_side: int, max_side: int) -> Image.Image:
    """The frame as RGB, scaled down (in FFmpeg, before any copy) to what the model and thumbnail need."""
    w, h = int(frame.width), int(frame.height)
    scale = 1.0
    if w and h:
        scale = min(1.0, max(min_side / min(w, h), max_side / max(w, h)))
    size = (max(2, round(w * scale) // 2 * 2), max(2, round(h * scale) // 2 * 2))
    image = frame.to_image(width=size[0], height=size[1]) if scale < 1.0 else frame.to_image()
    if rotation:
        image = image.rotate(rotation, expand=True)  # PIL turns counter-clockwise, as the display matrix says
    return image.convert("RGB") if image.mode != "RGB" else image


def frame_interest(image: Image.Image) -> float:
    """How good a frame is as the clip's face: its contrast, with dark or flat frames last."""
    grey = np.asarray(image.convert("L"), dtype=np.float32)
    mean, std = float(grey.mean()), float(grey.std())
    return std - (1000.0 if mean < DARK_MEAN or std < FLAT_STD else 0.0)


def informative(frames: list[Image.Image]) -> list[Image.Image]:
    """The frames worth showing the model: dark and flat ones left out, unless nothing else is left."""
    kept = [f for f in frames if frame_interest(f) > -500.0]
    return kept or frames


def _creation_time(container: Any, stream: Any) -> str | None:
    """Capture time as ISO 8601: Apple's local time with its offset, else the container's UTC time as local."""
    tags = {**dict(stream.metadata or {}), **dict(container.metadata or {})}
    apple = tags.get("com.apple.quicktime.creationdate")
    if apple:
        when = _parse_time(apple)
        if when is not None:
            return when.replace(microsecond=0).isoformat()
    for key in ("creation_time", "date"):
        when = _parse_time(tags.get(key))
        if when is not None:
            if when.tzinfo is not None:  # UTC in MP4: shown in the computer's time zone, as EXIF times are
                when = when.astimezone().replace(tzinfo=None)
            return when.replace(microsecond=0).isoformat()
    return None


def _parse_time(text: object) -> dt.datetime | None:
    if not isinstance(text, str) or not text.strip():
        return None
    value = text.strip().replace("Z", "+00:00")
    if len(value) >= 5 and value[-5] in "+-" and value[-3] != ":":  # +0200 → +02:00
        value = f"{value[:-2]}:{value[-2:]}"
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    # MP4 writers without a clock leave 1904 or 1970; such a date says nothing.
    return when if when.year > 1971 else None


def _camera(container: Any) -> str | None:
    tags = dict(container.metadata or {})
    make = (tags.get("com.apple.quicktime.make") or tags.get("make") or "").strip()
    model = (tags.get("com.apple.quicktime.model") or tags.get("model") or "").strip()
    if make and model and model.lower().startswith(make.lower()):
        return model
    return " ".join(p for p in (make, model) if p) or None


def rotation_to_orientation(rotation: int) -> int | None:
    """The EXIF orientation code that shows the same turn as a display rotation (counter-clockwise degrees)."""
    return {0: None, 90: 8, 180: 3, 270: 6}.get(rotation % 360)


def video_meta(probe: VideoProbe, mtime_ns: int) -> PhotoMeta:
    lat, lon = probe.location if probe.location else (None, None)
    taken, source = (probe.taken_at, "metadata") if probe.taken_at else (file_time(mtime_ns), "file")
    return PhotoMeta(
        probe.width,
        probe.height,
        taken,
        source,
        rotation_to_orientation(probe.rotation),
        probe.camera,
        probe.duration,
        lat,
        lon,
        probe.utc_offset,
    )


def thumbnail_jpeg(frames: list[Image.Image], size: int) -> tuple[bytes, tuple[int, int]]:
    """The thumbnail of a clip: its most interesting sampled frame, as JPEG bytes, and its size."""
    best = max(frames, key=frame_interest)
    thumb = best.copy()
    thumb.thumbnail((size, size), Image.Resampling.BICUBIC, reducing_gap=2.0)
    buffer = io.BytesIO()
    thumb.save(buffer, "JPEG", quality=85)
    return buffer.getvalue(), thumb.size


def decode_video(
    path: Path,
    options: DecodeOptions,
    write_thumbnail: Callable[[str, bytes], str] | None,
    complete_hashes: Set[str] = frozenset(),
) -> DecodeResult:
    """Hash, probe and sample one clip; never raises for a bad file, returns a `SkippedFile` instead.

    The model input is a list of preprocessed frames; the indexer embeds them and averages.
    """
    hashed = read_or_skip(path, hash_file)
    if isinstance(hashed, SkippedFile):
        return hashed
    hash_, size, mtime_ns = hashed
    settled = settled_result(path, size, mtime_ns, hash_, complete_hashes)
    if settled is not None:
        return settled
    try:
        import av  # noqa: F401
    except ImportError:
        return SkippedFile(path, size, mtime_ns, Skip("unsupported", "video support (PyAV) is not installed"))
    try:
        probe = probe_video(
            path,
            frames=options.video_frames,
            min_side=options.model_input_size,
            max_side=options.thumbnail_size,
            max_pixels=options.max_pixels,
        )
    except VideoRefused as refused:
        snap = Snapshot(b"", size, mtime_ns, hash_)
        if still_changing(path, snap):
            return SkippedFile(path, 0, 0, Skip("changing"))
        return SkippedFile(path, size, mtime_ns, refused.skip)
    meta = video_meta(probe, mtime_ns)
    thumb_rel, thumb_size = None, None
    if write_thumbnail is not None:
        jpeg, thumb_size = thumbnail_jpeg(probe.frames, options.thumbnail_size)
        thumb_rel = write_thumbnail(hash_, jpeg)
    model_input = None
    if options.preprocess is not None:
        model_input = [options.preprocess(frame) for frame in informative(probe.frames)]
    return DecodedPhoto(path, size, mtime_ns, hash_, meta, thumb_rel, thumb_size, model_input)
