"""Embedding throughput: the naive loop a newcomer writes vs PhotoAtlas's indexing pipeline, same run.

Makes a folder of camera-sized JPEGs (4000×3000 by default) from real photos (Debian's mate-backgrounds,
or scikit-image's sample images, or generated noise when neither is installed), then times:
  (a) naive: for each file, PIL open → open_clip preprocess → encode_image one at a time;
  (b) PhotoAtlas: `Library.index` (read + hash, draft-mode decode in parallel workers, thumbnail,
      batched inference, catalog writes).
Both use ViT-B-32 with random weights (speed does not depend on the weights).

    python bench/embed_throughput.py [--count 64] [--size 4000x3000] [--device auto] [--batch-size 0]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SOURCES = [Path("/usr/share/backgrounds/mate"), Path("/usr/share/backgrounds")]


def source_images() -> list[Path]:
    for folder in SOURCES:
        found = sorted(p for p in folder.rglob("*") if p.suffix.lower() in {".jpg", ".jpeg", ".png"})
        if found:
            return found
    return []


def make_photos(folder: Path, count: int, size: tuple[int, int]) -> str:
    sources = source_images()
    rng = random.Random(0)
    for i in range(count):
        if sources:
            with Image.open(sources[i % len(sources)]) as src:
                image = src.convert("RGB").resize(size, Image.Resampling.BICUBIC)
            origin = f"{len(sources)} real photos from {sources[0].parent}"
        else:
            image = Image.effect_noise(size, 60).convert("RGB")
            origin = "generated noise (install mate-backgrounds for real photos)"
        # A different crop offset per copy, so every file has its own content hash.
        image.putpixel((rng.randrange(size[0]), rng.randrange(size[1])), (i % 256, 0, 0))
        image.save(folder / f"IMG_{i:04d}.jpg", quality=92)
    return origin


def random_weights_checkpoint(folder: Path) -> Path:
    import open_clip
    import torch

    model = open_clip.create_model("ViT-B-32", pretrained=None)
    path = folder / "vit-b-32-random.pt"
    torch.save(model.state_dict(), path)
    return path


def naive(files: list[Path], checkpoint: Path, device: str) -> float:
    import open_clip
    import torch

    model, _, preprocess = open_clip.create_model_and_transforms("ViT-B-32", pretrained=str(checkpoint), device=device)
    model.eval()
    start = time.perf_counter()
    with torch.no_grad():
        for path in files:
            image = preprocess(Image.open(path)).unsqueeze(0).to(device)
            model.encode_image(image)
    return len(files) / (time.perf_counter() - start)


def pipeline(folder: Path, checkpoint: Path, device: str, batch_size: int, workers: int) -> tuple[float, float]:
    from engine.library import Library

    with tempfile.TemporaryDirectory() as lib_dir:
        library = Library(Path(lib_dir))
        library.set_model("ViT-B-32", str(checkpoint))
        library.update_settings(library.settings.replace(device=device, batch_size=batch_size, decode_workers=workers))
        library.embedder()  # load outside the timing, as the naive loop does
        start = time.perf_counter()
        summary = library.index([folder])
        elapsed = time.perf_counter() - start
        assert summary.embedded == summary.added, summary
        library.close()
        return summary.added / elapsed, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=64)
    parser.add_argument("--naive-count", type=int, default=0, help="files for the naive loop (default: all)")
    parser.add_argument("--size", default="4000x3000")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--batch-size", type=int, default=0)
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    import torch

    from engine.embed.embedder import select_device

    device = select_device(args.device)
    size = tuple(int(v) for v in args.size.split("x"))
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        photos = tmp_path / "photos"
        photos.mkdir()
        origin = make_photos(photos, args.count, size)  # type: ignore[arg-type]
        checkpoint = random_weights_checkpoint(tmp_path)
        files = sorted(photos.iterdir())[: args.naive_count or None]
        naive_rate = naive(files, checkpoint, device)
        rate, elapsed = pipeline(photos, checkpoint, device, args.batch_size, args.workers)
    figures = {
        "device": device,
        "torch_threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "photos": args.count,
        "size": args.size,
        "source": origin,
        "naive_img_per_s": round(naive_rate, 2),
        "pipeline_img_per_s": round(rate, 2),
        "speedup": round(rate / naive_rate, 2),
    }
    print(f"{args.count} JPEGs of {args.size} ({origin}); ViT-B-32 random weights on {device}")
    print(f"  naive loop (open, preprocess, encode one by one): {naive_rate:6.2f} img/s")
    print(f"  PhotoAtlas indexing pipeline:                     {rate:6.2f} img/s  ({elapsed:.1f} s)")
    print(f"  speed-up: {rate / naive_rate:.2f}×")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
