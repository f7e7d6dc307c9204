"""Toy-world photos with known stacking truth: bursts, re-encoded copies and distinct photos of one concept.

A burst is one scene (one `render` with a fixed seed) shot several times a second or two apart: each frame
shifts a few pixels, changes exposure a little and gets fresh sensor noise; one frame in a burst may be
slightly out of focus, as real bursts are. A re-encoded copy is a frame saved again at half size and JPEG
quality 60. Distinct photos of one concept are separate renders (other background, position, size).
"""

from __future__ import annotations

import datetime as dt
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

SHARED = Path(__file__).resolve().parents[4] / "shared"
WORLD = SHARED / "toyworld"
# The concepts the toy CLIP tells apart (see bench/toy_libraries.py).
CONCEPTS = [(c, s) for c in ("red", "green", "blue", "yellow", "orange", "black") for s in ("circle", "square", "star")]


# A burst's scene is drawn this much larger than a frame, so that a frame can move within it.
MARGIN = 2


def render(colour: str, shape: str, seed: int, size: int = 480) -> Image.Image:
    """One scene of the toy world; the same seed draws the same scene."""
    if str(WORLD) not in sys.path:
        sys.path.insert(0, str(WORLD))
    from world import render as world_render  # type: ignore[import-not-found]

    return world_render(colour, shape, size, random.Random(seed))


def burst_frame(scene: Image.Image, rng: random.Random, blur: float = 0.0) -> Image.Image:
    """The scene (drawn `MARGIN` pixels larger on each side) shot again a moment later: the camera moved a
    few pixels, the exposure changed a little, the sensor noise is new."""
    dx, dy = rng.randint(0, 2 * MARGIN), rng.randint(0, 2 * MARGIN)
    size = scene.width - 2 * MARGIN
    frame = scene.crop((dx, dy, dx + size, dy + size))
    pixels = np.asarray(frame, dtype=np.float32) * rng.uniform(0.97, 1.03)
    pixels += np.random.default_rng(rng.randint(0, 2**31)).normal(0, 3, pixels.shape)
    frame = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")
    return frame.filter(ImageFilter.GaussianBlur(blur)) if blur else frame


def reencoded(image: Image.Image) -> Image.Image:
    """What another app saves: half the size (JPEG quality 60 is chosen when it is written)."""
    return image.resize((image.width // 2, image.height // 2), Image.Resampling.LANCZOS)


def save_jpeg(image: Image.Image, path: Path, when: dt.datetime, quality: int = 90) -> None:
    """A JPEG with its EXIF DateTimeOriginal, as a camera writes it."""
    exif = image.getexif()
    exif.get_ifd(0x8769)[0x9003] = when.strftime("%Y:%m:%d %H:%M:%S")
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, quality=quality, exif=exif)


@dataclass
class ToyLibrary:
    """Files written and their truth: `groups` lists the files that belong in one stack (two or more)."""

    files: list[Path] = field(default_factory=list)
    groups: list[list[Path]] = field(default_factory=list)
    bursts: list[list[Path]] = field(default_factory=list)
    copies: list[tuple[Path, Path]] = field(default_factory=list)  # (original, re-encoded copy)
    concept: dict[Path, str] = field(default_factory=dict)  # file → "colour shape"


def make_library(
    folder: Path, *, scenes: int = 12, singles_per_concept: int = 4, seed: int = 0, copies: bool = True
) -> ToyLibrary:
    """A library with known stacks: `scenes` bursts of 3–5 frames (one in three with a blurred frame), a
    re-encoded copy of every other burst's first frame and of some singles, and distinct single photos of
    the same concepts, `singles_per_concept` each, seconds to minutes apart. `copies` False leaves the copies
    out (a library of bursts and singles only)."""
    rng = random.Random(seed)
    out = ToyLibrary()
    start = dt.datetime(2023, 7, 1, 9, 0, 0)
    clock = start
    for scene_no in range(scenes):
        colour, shape = CONCEPTS[scene_no % len(CONCEPTS)]
        scene = render(colour, shape, seed * 1000 + scene_no, 480 + 2 * MARGIN)
        frames = rng.randint(3, 5)
        blurred = rng.randrange(frames) if scene_no % 3 == 0 else -1
        paths = []
        for f in range(frames):
            path = folder / "bursts" / f"B{scene_no:03d}_{f}.jpg"
            save_jpeg(burst_frame(scene, rng, 2.5 if f == blurred else 0.0), path, clock + dt.timedelta(seconds=f))
            paths.append(path)
        group = list(paths)
        if copies and scene_no % 2 == 0:
            copy = folder / "exports" / f"B{scene_no:03d}_0_small.jpg"
            with Image.open(paths[0]) as first:
                save_jpeg(reencoded(first.convert("RGB")), copy, clock + dt.timedelta(days=3), quality=60)
            group.append(copy)
            out.copies.append((paths[0], copy))
        out.files += group
        out.concept.update(dict.fromkeys(group, f"{colour} {shape}"))
        out.groups.append(group)
        out.bursts.append(paths)
        clock += dt.timedelta(hours=2)
    used = {CONCEPTS[i % len(CONCEPTS)] for i in range(scenes)}
    single_no = 0
    for colour, shape in sorted(used):
        for _ in range(singles_per_concept):
            path = folder / "singles" / f"S{single_no:04d}.jpg"
            # Distinct photos of one concept, some minutes apart: close in time, never one scene.
            save_jpeg(render(colour, shape, 10**6 + seed * 1000 + single_no), path, clock)
            out.files.append(path)
            out.concept[path] = f"{colour} {shape}"
            if copies and single_no % 5 == 0:
                copy = folder / "exports" / f"S{single_no:04d}_small.jpg"
                with Image.open(path) as original:
                    save_jpeg(reencoded(original.convert("RGB")), copy, clock, quality=60)
                out.files.append(copy)
                out.concept[copy] = f"{colour} {shape}"
                out.groups.append([path, copy])
                out.copies.append((path, copy))
            clock += dt.timedelta(seconds=rng.choice([3, 30, 300]))
            single_no += 1
    return out
