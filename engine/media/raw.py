"""RAW photos (DNG, CR2, CR3, NEF, ARW, ORF, RW2, RAF, PEF, SRW) through rawpy (LibRaw).

Most RAW files carry a full-size or large JPEG preview made by the camera: when it is large enough for
the thumbnail and the model it is used as is (fast: no demosaicing). Otherwise the sensor data is
demosaiced at half size, which is still ample for a thumbnail and CLIP's 224-pixel input.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Set
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps

from engine.catalog import PhotoMeta
from engine.media.decode import (
    EXIF_MAKE,
    EXIF_MODEL,
    DecodedPhoto,
    DecodeOptions,
    DecodeResult,
    SkippedFile,
    Snapshot,
    file_time,
    read_or_skip,
    read_snapshot,
    settled_result,
    still_changing,
    with_location,
)
from engine.media.skip_reasons import Skip

# LibRaw's flip code → EXIF orientation (0: upright, 3: 180°, 5: 90° counter-clockwise, 6: 90° clockwise).
FLIP_TO_ORIENTATION = {0: None, 3: 3, 5: 8, 6: 6}


def decode_raw(
    path: Path,
    options: DecodeOptions,
    write_thumbnail: Callable[[str, bytes], str] | None,
    complete_hashes: Set[str] = frozenset(),
) -> DecodeResult:
    """Read, hash and decode one RAW file; never raises for a bad file, returns a `SkippedFile` instead."""
    snap = read_or_skip(path, read_snapshot)
    if isinstance(snap, SkippedFile):
        return snap
    settled = settled_result(path, snap.size, snap.mtime_ns, snap.hash, complete_hashes)
    if settled is not None:
        return settled
    try:
        import rawpy
    except ImportError:
        return SkippedFile(path, snap.size, snap.mtime_ns, Skip("unsupported", "RAW support (rawpy) is not installed"))
    try:
        rgb, meta = _decode(snap, options, rawpy)
    except (rawpy.LibRawError, OSError, ValueError, MemoryError) as exc:
        if still_changing(path, snap):
            return SkippedFile(path, 0, 0, Skip("changing"))
        return SkippedFile(path, snap.size, snap.mtime_ns, _skip_for(exc, rawpy))
    thumb_rel, thumb_size = None, None
    if write_thumbnail is not None:
        thumb = rgb.copy()
        thumb.thumbnail((options.thumbnail_size, options.thumbnail_size), Image.Resampling.BICUBIC, reducing_gap=2.0)
        buffer = io.BytesIO()
        thumb.save(buffer, "JPEG", quality=85)
        thumb_rel = write_thumbnail(snap.hash, buffer.getvalue())
        thumb_size = thumb.size
    model_input = options.preprocess(rgb) if options.preprocess is not None else None
    return DecodedPhoto(path, snap.size, snap.mtime_ns, snap.hash, meta, thumb_rel, thumb_size, model_input)


def _skip_for(exc: BaseException, rawpy: Any) -> Skip:
    detail = (str(exc) or type(exc).__name__).strip("b'\"")[:200]
    if isinstance(exc, rawpy.LibRawFileUnsupportedError):
        return Skip("not-a-raw", detail)
    if isinstance(exc, MemoryError):
        return Skip("too-large", "not enough memory to decode it")
    return Skip("corrupt", detail)


def _decode(snap: Snapshot, options: DecodeOptions, rawpy: Any) -> tuple[Image.Image, PhotoMeta]:
    need = max(options.thumbnail_size, options.model_input_size)
    with rawpy.imread(io.BytesIO(snap.data)) as raw:
        sizes = raw.sizes
        flip = int(sizes.flip or 0)
        orientation = FLIP_TO_ORIENTATION.get(flip)
        width, height = int(sizes.width), int(sizes.height)
        if width * height > options.max_pixels:
            raise ValueError(f"{width}×{height} sensor = {width * height / 1e6:.0f} MP, too large to decode")
        if flip in (5, 6):
            width, height = height, width
        image = _preview(raw, rawpy, need, orientation)
        if image is None:  # no usable preview: demosaic at half size (rotated by LibRaw itself)
            # The white balance the camera recorded, when it recorded one (LibRaw gives zeros otherwise).
            as_shot = all(float(v) > 0 for v in list(raw.camera_whitebalance)[:3])
            pixels = raw.postprocess(half_size=True, use_camera_wb=as_shot, output_bps=8)
            image = Image.fromarray(np.ascontiguousarray(pixels), "RGB")
        taken = raw.other.timestamp if hasattr(raw, "other") else None
    camera = _camera(snap.data)
    taken_at = (
        taken.replace(microsecond=0).isoformat() if isinstance(taken, dt.datetime) and taken.year > 1971 else None
    )
    if taken_at is None:
        meta = PhotoMeta(width, height, file_time(snap.mtime_ns), "file", orientation, camera)
    else:
        meta = PhotoMeta(width, height, taken_at, "exif", orientation, camera)
    return image, _with_gps(meta, snap.data)


def _with_gps(meta: PhotoMeta, data: bytes) -> PhotoMeta:
    """`meta` with the GPS position and UTC offset of the RAW's TIFF header, when Pillow can read it."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            exif = image.getexif()
            return with_location(meta, exif)
    except Exception:  # a header Pillow cannot parse just means no position
        return meta


def _preview(raw: Any, rawpy: Any, need: int, orientation: int | None) -> Image.Image | None:
    """The camera's embedded preview, upright, when its shorter side is at least `need`; else None."""
    try:
        thumb = raw.extract_thumb()
    except (rawpy.LibRawNoThumbnailError, rawpy.LibRawUnsupportedThumbnailError):
        return None
    except rawpy.LibRawError:
        return None
    try:
        if thumb.format == rawpy.ThumbFormat.JPEG:
            image = Image.open(io.BytesIO(thumb.data))
            image.draft("RGB", (need, need))
            image.load()
            exif_orientation = image.getexif().get(0x0112)
            if exif_orientation not in (None, 1):
                image = ImageOps.exif_transpose(image)
                orientation = None  # the JPEG says itself how to turn it
        else:
            image = Image.fromarray(np.ascontiguousarray(thumb.data))
    except (OSError, SyntaxError, ValueError):
        return None  # a broken preview: demosaic instead
    if min(image.size) < need:
        return None
    image = image.convert("RGB")
    turn = {3: Image.Transpose.ROTATE_180, 6: Image.Transpose.ROTATE_270, 8: Image.Transpose.ROTATE_90}
    return image.transpose(turn[orientation]) if orientation in turn else image


def _camera(data: bytes) -> str | None:
    """Make and model from the TIFF header most RAW formats share (DNG, CR2, NEF, ARW, ORF, PEF, SRW)."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            exif = image.getexif()
            make, model = _text(exif.get(EXIF_MAKE)), _text(exif.get(EXIF_MODEL))
    except Exception:  # any header Pillow cannot parse just means no camera name
        return None
    if make and model and model.lower().startswith(make.lower()):
        return model
    return " ".join(p for p in (make, model) if p) or None


def _text(value: object) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    return value.replace("\x00", "").strip() or None if isinstance(value, str) else None
