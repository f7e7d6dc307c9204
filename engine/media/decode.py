"""Decode a photo once: metadata, thumbnail and model input all come from a single reduced-size decode.

The file is read into memory once (a snapshot), hashed, and decoded from those bytes, so a file that
changes or vanishes mid-way can never produce a mixed result. JPEGs decode at reduced size (draft
mode: 1/2, 1/4 or 1/8 scale straight from the DCT), which is what makes a 12-megapixel photo cheap.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io
import os
import time
from collections.abc import Callable, Set
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from engine.catalog import PhotoMeta
from engine.media.scan import RAW_EXTENSIONS, VIDEO_EXTENSIONS
from engine.media.skip_reasons import Skip

# PhotoAtlas applies its own limit to the pixels actually decoded (after draft), which lets a huge JPEG
# panorama through at reduced scale while still refusing a PNG bomb; Pillow's header check would
# refuse both before draft mode gets a chance.
Image.MAX_IMAGE_PIXELS = None

EXIF_ORIENTATION = 0x0112
EXIF_DATETIME = 0x0132
EXIF_MAKE = 0x010F
EXIF_MODEL = 0x0110
EXIF_IFD = 0x8769
EXIF_DATETIME_ORIGINAL = 0x9003
EXIF_OFFSET_TIME_ORIGINAL = 0x9011

# A file touched this recently that fails to decode is watched a moment: is it still being copied in?
RECENTLY_WRITTEN_S = 10.0
SETTLE_S = 0.3  # how long a freshly written file that fails to decode is watched for growth

_heif_registered = False


@dataclass(frozen=True)
class Snapshot:
    """The bytes of a file as read once, with the size and mtime they belong to."""

    data: bytes
    size: int
    mtime_ns: int
    hash: str


@dataclass(frozen=True)
class DecodedPhoto:
    """A photo read and decoded: everything the catalog and the model need."""

    path: Path
    size: int
    mtime_ns: int
    hash: str
    meta: PhotoMeta
    thumbnail_relpath: str | None
    thumbnail_size: tuple[int, int] | None
    # A torch tensor (C, H, W) from the model's own preprocessing, or None; for a video, a list of them
    # (its sampled frames), whose embeddings are averaged.
    model_input: Any


@dataclass(frozen=True)
class KnownContent:
    """A file whose content (hash) the catalog already has fully processed: nothing to decode."""

    path: Path
    size: int
    mtime_ns: int
    hash: str


@dataclass(frozen=True)
class SkippedFile:
    path: Path
    size: int
    mtime_ns: int
    skip: Skip


DecodeResult = DecodedPhoto | KnownContent | SkippedFile
_Read = TypeVar("_Read")


def content_hash(data: bytes) -> str:
    """The identity of a photo's content: a moved or renamed file keeps it, an edited file changes it."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def read_snapshot(path: Path) -> Snapshot:
    """Read a whole file once, checking it did not change while being read.

    Raises:
        OSError: when the file cannot be read; `ChangedWhileReading` when it changed meanwhile.
    """
    before = os.stat(path)
    with open(path, "rb") as handle:
        data = handle.read()
    after = os.stat(path)
    if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns) or len(data) != after.st_size:
        raise ChangedWhileReading(path)
    return Snapshot(data, after.st_size, after.st_mtime_ns, content_hash(data))


class ChangedWhileReading(OSError):
    """The file's size or mtime moved while it was being read."""


def read_or_skip(path: Path, read: Callable[[Path], _Read]) -> _Read | SkippedFile:
    """`read(path)` (a snapshot or a hash of the file), or the skipped file saying why it could not be read."""
    try:
        return read(path)
    except ChangedWhileReading:
        return SkippedFile(path, 0, 0, Skip("changing"))
    except FileNotFoundError:
        return SkippedFile(path, 0, 0, Skip("vanished"))
    except PermissionError as exc:
        return SkippedFile(path, 0, 0, Skip("permission-denied", exc.strerror or ""))
    except OSError as exc:
        return SkippedFile(path, 0, 0, Skip("read-error", exc.strerror or str(exc)))


def settled_result(path: Path, size: int, mtime_ns: int, hash_: str, complete_hashes: Set[str]) -> DecodeResult | None:
    """What a read file comes to without decoding: skipped when empty, known when the catalog has its content
    fully processed; None when it must be decoded."""
    if size == 0:
        return SkippedFile(path, 0, mtime_ns, Skip("empty"))
    if hash_ in complete_hashes:
        return KnownContent(path, size, mtime_ns, hash_)
    return None


def _ensure_heif() -> None:
    global _heif_registered
    if not _heif_registered:
        try:
            from pillow_heif import register_heif_opener

            register_heif_opener()
        except ImportError:  # HEIC files are then reported as unsupported, the rest works
            pass
        _heif_registered = True


@dataclass(frozen=True)
class DecodeOptions:
    """How to decode: thumbnail size, the model's input transform and the pixel limit."""

    thumbnail_size: int = 320
    model_input_size: int = 224
    preprocess: Callable[[Image.Image], Any] | None = None
    max_pixels: int = 180_000_000
    video_frames: int = 6  # frames sampled over a clip for its embedding (see docs/algorithms.md)


def decode_file(
    path: Path,
    options: DecodeOptions,
    write_thumbnail: Callable[[str, bytes], str] | None,
    complete_hashes: frozenset[str] | set[str] = frozenset(),
) -> DecodeResult:
    """Read, hash and decode one file; never raises for a bad file, returns a `SkippedFile` instead.

    Videos and RAW files are decoded by their own modules (`video`, `raw`).

    Args:
        path: the file.
        options: decode options.
        write_thumbnail: stores thumbnail JPEG bytes under a hash and returns the stored relpath.
        complete_hashes: contents the catalog already has fully processed; such a file is not decoded.
    """
    suffix = path.suffix.lower()
    if suffix in VIDEO_EXTENSIONS:
        from engine.media.video import decode_video

        return decode_video(path, options, write_thumbnail, complete_hashes)
    if suffix in RAW_EXTENSIONS:
        from engine.media.raw import decode_raw

        return decode_raw(path, options, write_thumbnail, complete_hashes)
    snap = read_or_skip(path, read_snapshot)
    if isinstance(snap, SkippedFile):
        return snap
    settled = settled_result(path, snap.size, snap.mtime_ns, snap.hash, complete_hashes)
    if settled is not None:
        return settled
    try:
        return _decode_snapshot(path, snap, options, write_thumbnail)
    except _Refused as refused:
        return SkippedFile(path, snap.size, snap.mtime_ns, refused.skip)
    except UnidentifiedImageError:
        return SkippedFile(path, snap.size, snap.mtime_ns, Skip("not-an-image"))
    except (OSError, SyntaxError, ValueError, IndexError, EOFError, Image.DecompressionBombError) as exc:
        # Pillow reports damaged data through several exception types depending on the format.
        message = str(exc) or type(exc).__name__
        if still_changing(path, snap):
            return SkippedFile(path, 0, 0, Skip("changing"))
        if "truncated" in message:
            return SkippedFile(path, snap.size, snap.mtime_ns, Skip("truncated", _truncation_detail(message)))
        return SkippedFile(path, snap.size, snap.mtime_ns, Skip("corrupt", message[:200]))


def still_changing(path: Path, snap: Snapshot) -> bool:
    """Whether a file that failed to decode is still being written: its size or mtime moved since it was read.

    A file written moments ago gets a short pause to show it: a copy in progress keeps growing, while a
    complete but broken file stays as it is and is reported as broken on this first scan. A copy that
    stalls longer is re-read anyway once it changes again (skips are keyed on size and mtime).
    """
    for pause in (0.0, SETTLE_S):
        time.sleep(pause)
        try:
            now = os.stat(path)
        except OSError:
            return True
        if (now.st_size, now.st_mtime_ns) != (snap.size, snap.mtime_ns):
            return True
        if time.time() - snap.mtime_ns / 1e9 >= RECENTLY_WRITTEN_S:
            return False
    return False


def _truncation_detail(message: str) -> str:
    """Pillow's "image file is truncated (N bytes not processed)" without the words the reason already says."""
    detail = message.removeprefix("image file is truncated").strip().removeprefix("(").removesuffix(")")
    return detail[:200]


class _Refused(Exception):
    def __init__(self, skip: Skip) -> None:
        super().__init__(skip.describe())
        self.skip = skip


def _decode_snapshot(
    path: Path, snap: Snapshot, options: DecodeOptions, write_thumbnail: Callable[[str, bytes], str] | None
) -> DecodedPhoto:
    if path.suffix.lower() in {".heic", ".heif", ".hif"}:
        _ensure_heif()
    with Image.open(io.BytesIO(snap.data)) as image:
        if image.format is None:
            raise _Refused(Skip("unsupported", path.suffix))
        exif = image.getexif()
        orientation = _int_or_none(exif.get(EXIF_ORIENTATION))
        width, height = image.size
        if orientation in (5, 6, 7, 8):  # rotated by 90°: displayed the other way round
            width, height = height, width
        need = max(options.thumbnail_size, options.model_input_size)
        if image.format == "JPEG":
            image.draft("RGB", (need, need))
        decoded_pixels = image.size[0] * image.size[1]
        if decoded_pixels > options.max_pixels:
            raise _Refused(
                Skip(
                    "too-large",
                    f"{width}×{height} = {width * height / 1e6:.0f} MP, limit {options.max_pixels / 1e6:.0f} MP",
                )
            )
        image.load()
        oriented = ImageOps.exif_transpose(image) if orientation not in (None, 1) else image
        rgb = _to_rgb(oriented)
    meta = PhotoMeta(
        width=width,
        height=height,
        taken_at=_taken_at(exif),
        taken_at_source="exif",
        orientation=orientation,
        camera=_camera(exif),
    )
    if meta.taken_at is None:
        meta = PhotoMeta(width, height, file_time(snap.mtime_ns), "file", orientation, meta.camera)
    meta = with_location(meta, exif)
    thumb_rel, thumb_size = None, None
    if write_thumbnail is not None:
        thumb = rgb.copy()
        thumb.thumbnail((options.thumbnail_size, options.thumbnail_size), Image.Resampling.BICUBIC, reducing_gap=2.0)
        buffer = io.BytesIO()
        thumb.save(buffer, "JPEG", quality=85, optimize=False)
        thumb_rel = write_thumbnail(snap.hash, buffer.getvalue())
        thumb_size = thumb.size
    model_input = options.preprocess(rgb) if options.preprocess is not None else None
    return DecodedPhoto(path, snap.size, snap.mtime_ns, snap.hash, meta, thumb_rel, thumb_size, model_input)


def _to_rgb(image: Image.Image) -> Image.Image:
    """RGB pixels; transparency is flattened onto white, as a viewer would show it."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):  # 16-bit or float greyscale: scale to 8 bit
        pixels = np.asarray(image, dtype=np.float32)
        if pixels.max(initial=0) > 255:
            pixels = pixels / 257.0
        return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "L").convert("RGB")
    return image.convert("RGB") if image.mode != "RGB" else image


def _int_or_none(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None


def _text(value: object) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    if not isinstance(value, str):
        return None
    value = value.replace("\x00", "").strip()
    return value or None


def _taken_at(exif: Image.Exif) -> str | None:
    """Capture time as ISO 8601 from EXIF (DateTimeOriginal, else DateTime), with its offset if given."""
    try:
        sub = exif.get_ifd(EXIF_IFD)
    except (KeyError, ValueError, TypeError, OSError):
        sub = {}
    for raw in (sub.get(EXIF_DATETIME_ORIGINAL), exif.get(EXIF_DATETIME)):
        text = _text(raw)
        if not text:
            continue
        try:
            when = dt.datetime.strptime(text[:19], "%Y:%m:%d %H:%M:%S")
        except ValueError:
            continue
        offset = _text(sub.get(EXIF_OFFSET_TIME_ORIGINAL))
        iso = when.isoformat()
        if offset and len(offset) == 6 and offset[0] in "+-":
            iso += offset
        return iso
    return None


def with_location(meta: PhotoMeta, exif: Image.Exif) -> PhotoMeta:
    """`meta` with the GPS position and UTC offset that the EXIF gives (engine.places.gps reads them).

    A photo with no capture time of its own but a GPS fix and a known offset is dated by the fix: the
    file's time is when it was copied, in this computer's time zone, not when and where it was taken.
    """
    from engine.places.gps import gps_time, read_exif

    local = None
    if meta.taken_at_source == "exif" and meta.taken_at:
        try:
            local = dt.datetime.fromisoformat(meta.taken_at)
        except ValueError:
            local = None
    found = read_exif(exif, local)
    location = found.location
    meta = dataclasses.replace(
        meta,
        latitude=location.latitude if location else None,
        longitude=location.longitude if location else None,
        utc_offset=found.utc_offset,
    )
    if meta.taken_at_source == "file" and found.utc_offset is not None:
        try:
            fix = gps_time(exif.get_ifd(0x8825))
        except (KeyError, ValueError, TypeError, OSError):
            fix = None
        if fix is not None:
            local_fix = fix + dt.timedelta(minutes=found.utc_offset)
            meta = dataclasses.replace(meta, taken_at=local_fix.isoformat(), taken_at_source="gps")
    return meta


def read_location(path: Path) -> tuple[float | None, float | None, int | None]:
    """(latitude, longitude, UTC offset) of a still from its metadata alone: the header is parsed, no pixel
    is decoded, so photos catalogued before places existed get them cheaply. (None, None, None) when the file
    says nothing or cannot be read."""
    if path.suffix.lower() in {".heic", ".heif", ".hif"}:
        _ensure_heif()
    try:
        with Image.open(path) as image:
            exif = image.getexif()
            taken = _taken_at(exif)
    except (OSError, SyntaxError, ValueError, UnidentifiedImageError, Image.DecompressionBombError):
        return None, None, None
    meta = with_location(PhotoMeta(0, 0, taken, "exif" if taken else "file", None, None), exif)
    return meta.latitude, meta.longitude, meta.utc_offset


def file_time(mtime_ns: int) -> str:
    return dt.datetime.fromtimestamp(mtime_ns / 1e9).replace(microsecond=0).isoformat()


def _camera(exif: Image.Exif) -> str | None:
    make, model = _text(exif.get(EXIF_MAKE)), _text(exif.get(EXIF_MODEL))
    if make and model and model.lower().startswith(make.lower()):
        return model  # "Canon" + "Canon EOS R5" reads better as the model alone
    return " ".join(p for p in (make, model) if p) or None
