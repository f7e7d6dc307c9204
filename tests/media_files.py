"""Videos, RAW (DNG) files and Live Photo pairs written by the tests themselves: PyAV encodes clips from
Pillow drawings (or toy-world frames), and a minimal DNG is written with tifffile so that LibRaw reads it."""

from __future__ import annotations

import os
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

Frame = Callable[[int], Image.Image]


def solid_frames(color: tuple[int, int, int], size: tuple[int, int] = (160, 96), mark: int = 0) -> Frame:
    """Frames of one colour with a small square moving across (so frames differ), marked by `mark`."""

    def frame(i: int) -> Image.Image:
        image = Image.new("RGB", size, color)
        draw = ImageDraw.Draw(image)
        x = (i * 7 + mark * 13) % max(1, size[0] - 16)
        draw.rectangle((x, 8 + mark % 40, x + 15, 23 + mark % 40), fill=tuple(255 - c for c in color))
        return image

    return frame


def write_video(
    path: Path,
    frames: Frame,
    count: int = 20,
    fps: int = 10,
    codec: str = "libx264",
    gop: int = 10,
    rotation: int | None = None,
    creation_time: str | None = None,
    audio: bool = False,
    container_format: str | None = None,
) -> Path:
    """Encode `count` frames into a clip (container from the extension unless `container_format`)."""
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    first = frames(0)
    with av.open(os.fspath(path), "w", format=container_format) as out:
        if creation_time:
            out.metadata["creation_time"] = creation_time
        stream = out.add_stream(codec, rate=fps)
        stream.width, stream.height = first.size
        stream.pix_fmt = "yuv420p"
        if codec in ("libx264", "mpeg4", "libvpx"):
            stream.options = {"g": str(gop)}
        if rotation is not None:
            stream.set_display_rotation(rotation)
        sound = out.add_stream("aac", rate=16000) if audio else None
        for i in range(count):
            image = first if i == 0 else frames(i)
            for packet in stream.encode(av.VideoFrame.from_image(image)):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
        if sound is not None:
            _write_audio(out, sound, seconds=count / fps)
    return path


def write_audio_only(path: Path, seconds: float = 1.0) -> Path:
    """An M4A-like MP4 with sound and no picture."""
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(os.fspath(path), "w", format="mp4") as out:
        sound = out.add_stream("aac", rate=16000)
        _write_audio(out, sound, seconds)
    return path


def _write_audio(out, sound, seconds: float) -> None:
    import av

    samples = int(16000 * seconds)
    t = np.arange(samples, dtype=np.float32) / 16000
    tone = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32).reshape(1, -1)
    step = 1024
    for start in range(0, samples, step):
        frame = av.AudioFrame.from_ndarray(tone[:, start : start + step], format="fltp", layout="mono")
        frame.sample_rate = 16000
        for packet in sound.encode(frame):
            out.mux(packet)
    for packet in sound.encode():
        out.mux(packet)


def write_empty_video_stream(path: Path) -> Path:
    """A container whose video stream holds no frame at all (zero length)."""
    import av

    with av.open(os.fspath(path), "w") as out:
        stream = out.add_stream("libx264", rate=10)
        stream.width, stream.height = 64, 48
        stream.pix_fmt = "yuv420p"
        out.start_encoding()  # writes the header: a valid file that holds no frame
    return path


def with_unknown_codec(source: Path, target: Path) -> Path:
    """An AVI whose video is tagged with a codec no FFmpeg knows (its fourcc replaced)."""
    data = source.read_bytes()
    for tag in (b"FMP4", b"XVID", b"DIVX", b"MP4V", b"mp4v"):
        data = data.replace(tag, b"ZZZ9")
    target.write_bytes(data)
    return target


def write_dng(
    path: Path,
    rgb: np.ndarray,
    preview: np.ndarray | None = None,
    taken: str = "2021:05:06 07:08:09",
    camera: tuple[str, str] = ("PhotoAtlas", "Test Cam"),
) -> Path:
    """A minimal DNG that LibRaw reads: the picture as RGGB Bayer data (16 bit), and optionally an 8-bit RGB
    preview in IFD 0 (as cameras embed one), with make, model and date.

    Args:
        rgb: H×W×3 uint8 picture; the sensor values are its colours through an RGGB mosaic.
        preview: H'×W'×3 uint8 camera preview; None writes the sensor data in IFD 0 without preview.
    """
    import tifffile

    path.parent.mkdir(parents=True, exist_ok=True)
    h, w, _ = rgb.shape
    h, w = h // 2 * 2, w // 2 * 2
    values = rgb[:h, :w].astype(np.uint16) * 257
    cfa = np.empty((h, w), np.uint16)
    cfa[0::2, 0::2] = values[0::2, 0::2, 0]
    cfa[0::2, 1::2] = values[0::2, 1::2, 1]
    cfa[1::2, 0::2] = values[1::2, 0::2, 1]
    cfa[1::2, 1::2] = values[1::2, 1::2, 2]
    identity = (10000, 10000, 0, 10000, 0, 10000, 0, 10000, 10000, 10000, 0, 10000, 0, 10000, 0, 10000, 10000, 10000)
    common = [
        (50706, "B", 4, (1, 4, 0, 0), True),  # DNGVersion
        (50708, "s", 0, f"{camera[0]} {camera[1]}", True),  # UniqueCameraModel
        (271, "s", 0, camera[0], True),  # Make
        (272, "s", 0, camera[1], True),  # Model
        (306, "s", 0, taken, True),  # DateTime
    ]
    sensor = [
        (33421, "H", 2, (2, 2), True),  # CFARepeatPatternDim
        (33422, "B", 4, (0, 1, 1, 2), True),  # CFAPattern: RGGB
        (50717, "I", 1, (65535,), True),  # WhiteLevel
        (50721, "2i", 9, identity, True),  # ColorMatrix1
        (50778, "H", 1, (21,), True),  # CalibrationIlluminant1: D65
        (50728, "2I", 3, (1, 1, 1, 1, 1, 1), True),  # AsShotNeutral: daylight
    ]
    with tifffile.TiffWriter(path) as tif:
        if preview is None:
            tif.write(cfa, photometric=32803, subfiletype=0, extratags=common + sensor)
        else:
            tif.write(preview, photometric="rgb", subfiletype=1, extratags=common, subifds=1)
            tif.write(cfa, photometric=32803, subfiletype=0, extratags=sensor)
    return path


def picture(
    color: tuple[int, int, int], size: tuple[int, int] = (384, 256), seed_path: Path | None = None
) -> np.ndarray:
    """An H×W×3 uint8 picture: a colour with a lighter band, marked uniquely by `seed_path`."""
    image = Image.new("RGB", size, color)
    draw = ImageDraw.Draw(image)
    draw.rectangle(
        (size[0] // 4, size[1] // 3, size[0] // 2, size[1] // 2), fill=tuple(min(255, c + 60) for c in color)
    )
    if seed_path is not None:
        crc = zlib.crc32(os.fsencode(seed_path))
        x, y = crc % (size[0] - 8), (crc >> 12) % (size[1] - 8)
        draw.rectangle((x, y, x + 7, y + 7), fill=tuple(255 - c for c in color))
    return np.asarray(image)


def same_bytes(paths: Sequence[Path]) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in paths}
