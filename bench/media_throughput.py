"""Indexing speed for videos and RAW files (issue 19): clips per second for 10 s 1080p clips, and RAW files per
second on the preview path (the camera's embedded preview) and the demosaic path (half-size LibRaw).

Generates its own media: H.264 1080p clips at 30 fps with a keyframe every second (as phones write them),
encoded with PyAV from moving Pillow drawings, and 12 MP DNGs written with tifffile, with and without a
1620×1080 camera preview. Each kind is indexed by `Library.index` with the toy CLIP (../shared/models/toyclip),
so the figures are the decode side (hash, seek, decode, thumbnail, preprocess) plus a tiny model; with
ViT-B-32 add its per-frame inference time (6 frames per clip). Decode workers: the library's default
(one per core).

    python bench/media_throughput.py [--clips 4] [--seconds 10] [--raws 6] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TOYCLIP = ROOT.parent / "shared" / "models" / "toyclip"


def make_clips(folder: Path, count: int, seconds: float, size: tuple[int, int] = (1920, 1080)) -> None:
    import av

    folder.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        with av.open(str(folder / f"clip{n}.mp4"), "w") as out:
            stream = out.add_stream("libx264", rate=30)
            stream.width, stream.height = size
            stream.pix_fmt = "yuv420p"
            stream.options = {"g": "30", "preset": "ultrafast"}
            for i in range(int(seconds * 30)):
                image = Image.new("RGB", size, (40 + 50 * n % 200, 90, 160))
                draw = ImageDraw.Draw(image)
                x = (i * 12) % (size[0] - 300)
                draw.ellipse((x, 300, x + 300, 600), fill=(240, 200, 30))
                for packet in stream.encode(av.VideoFrame.from_image(image)):
                    out.mux(packet)
            for packet in stream.encode():
                out.mux(packet)


def make_raws(folder: Path, count: int, preview: bool) -> None:
    from tests.media_files import write_dng

    rng = np.random.default_rng(1)
    for n in range(count):
        base = rng.integers(0, 255, (3, 4, 3), dtype=np.uint8)
        sensor = np.kron(base, np.ones((1000, 1000, 1), np.uint8))  # 4000×3000, 12 MP
        shown = np.asarray(Image.fromarray(sensor).resize((1620, 1080))) if preview else None
        write_dng(folder / f"raw{n}.dng", sensor, preview=shown)


def index_speed(folder: Path, library_dir: Path) -> tuple[int, float]:
    from engine.library import Library

    with Library(library_dir) as library:
        library.set_model("toyclip", str(TOYCLIP / "toyclip.safetensors"), str(TOYCLIP / "toyclip.json"))
        library.embedder()  # load the model before timing
        started = time.perf_counter()
        summary = library.index([folder])
        seconds = time.perf_counter() - started
    assert not summary.skipped, summary.lines()
    return summary.added, seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--raws", type=int, default=6)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    results: dict[str, object] = {"cores": os.cpu_count()}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        started = time.perf_counter()
        make_clips(work / "clips", args.clips, args.seconds)
        results["clip_encode_s"] = round(time.perf_counter() - started, 1)
        make_raws(work / "raw-preview", args.raws, preview=True)
        make_raws(work / "raw-demosaic", args.raws, preview=False)
        for name in ("clips", "raw-preview", "raw-demosaic"):
            added, seconds = index_speed(work / name, work / f"lib-{name}")
            results[name] = {"files": added, "seconds": round(seconds, 2), "per_second": round(added / seconds, 2)}
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"cores: {results['cores']}")
    for name in ("clips", "raw-preview", "raw-demosaic"):
        r = results[name]
        print(f"{name:<13} {r['files']:>3} files in {r['seconds']:>6.2f} s = {r['per_second']:.2f} files/s")  # type: ignore[index]


if __name__ == "__main__":
    main()
