"""How fast `photoatlas search` answers: the whole command (process start included) and the window's search
with the model already loaded, at 225 and 10 000 photos.

Speed does not depend on the weights, so the model is open_clip's ViT-B-32 with random weights saved to a
local checkpoint (no weights can be downloaded here). The 10k library is not indexed from images: photo rows
and synthetic CLIP-like embeddings are written straight through the catalog API (`build_library`), which is
all a search reads.

    .venv/bin/python bench/search_speed.py [--sizes 225,10000] [--repeats 3] [--work DIR]

Prints a Markdown table: the median of `--repeats` runs of the whole command, and the median in-process
search time once the model is loaded (what the window pays per query), with the machine's load (`uptime`).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

QUERIES = ("dog on the beach", "red circle", "birthday cake")


def make_checkpoint(folder: Path) -> Path:
    """ViT-B-32 with random weights (seed 0), saved once as safetensors."""
    path = folder / "vit-b-32-random.safetensors"
    if path.is_file():
        return path
    import open_clip
    import torch
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    model = open_clip.create_model("ViT-B-32", pretrained=None)
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(path.with_suffix(".tmp")))
    os.replace(path.with_suffix(".tmp"), path)
    return path


def build_library(directory: Path, n_photos: int, checkpoint: Path, seed: int = 0) -> Path:
    """A library of `n_photos` photo rows with synthetic unit embeddings under the ViT-B-32 checkpoint.

    Photo files are not written: search reads only the catalog (rows, embeddings, paths).
    """
    from engine.catalog.photos import PhotoMeta
    from engine.library import META_MODEL_KEY, META_MODEL_SPEC, Library, _spec_fingerprint

    if directory.exists():
        shutil.rmtree(directory)
    with Library(directory) as library:
        library.set_model("ViT-B-32", str(checkpoint))
        embedder = library.embedder()
        catalog = library.catalog
        model_id = catalog.model_id(embedder.key, embedder.dim)
        catalog.set_meta(META_MODEL_KEY, embedder.key)
        catalog.set_meta(META_MODEL_SPEC, _spec_fingerprint(library.settings.model))
        rng = np.random.default_rng(seed)
        # CLIP-like: a shared direction (CLIP's cone) plus per-photo spread, unit length.
        common = rng.standard_normal(embedder.dim)
        vectors = 0.6 * common / np.linalg.norm(common) + rng.standard_normal((n_photos, embedder.dim)) / np.sqrt(
            embedder.dim
        )
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        with catalog.transaction():
            root = catalog.add_root(b"/photos")
            rows = []
            for i in range(n_photos):
                digest = hashlib.blake2b(f"{seed}:{i}".encode(), digest_size=16).hexdigest()
                taken = f"20{10 + i % 15:02d}-{1 + i % 12:02d}-{1 + i % 28:02d}T10:00:00"
                meta = PhotoMeta(640, 480, taken, "exif", None, None)
                catalog.insert_photo(root, f"/photos/{i // 500:03d}/IMG_{i:05d}.jpg".encode(), 1000, 0, digest, meta)
                rows.append((digest, vectors[i]))
            catalog.put_embeddings(model_id, rows)
        library.search(QUERIES[0])  # the background captions' text features are cached from now on
    return directory


def cli_command(library: Path, query: str) -> list[str]:
    """`photoatlas --library DIR search QUERY` as installed (the launcher), else `python -m engine`."""
    script = Path(sys.executable).with_name("photoatlas")
    head = [str(script)] if script.is_file() else [sys.executable, "-m", "engine"]
    return [*head, "--library", str(library), "search", query, "--no-progress"]


def time_cli(library: Path, repeats: int) -> list[float]:
    times = []
    for r in range(repeats):
        command = cli_command(library, QUERIES[r % len(QUERIES)])
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return times


def time_in_process(library_dir: Path, repeats: int) -> tuple[float, list[float]]:
    """(seconds to open the library and load the model, search times with the model loaded)."""
    import engine.embed.embedder as embedder_module
    from engine.library import Library

    embedder_module._shared = None  # measure a real load, not the model kept from the previous library
    start = time.perf_counter()
    library = Library(library_dir, create=False)
    library.embedder()
    load = time.perf_counter() - start
    try:
        library.search("warm up")
        times = []
        for r in range(repeats):
            start = time.perf_counter()
            library.search(QUERIES[r % len(QUERIES)])
            times.append(time.perf_counter() - start)
    finally:
        library.close()
    return load, times


def uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "uptime unavailable"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="225,10000", help="library sizes, comma-separated")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--work", type=Path, default=Path("/tmp/photoatlas-bench-search"))
    parser.add_argument("--reuse", action="store_true", help="reuse libraries already built in --work")
    args = parser.parse_args()
    checkpoint = make_checkpoint(args.work)
    print(f"load before: {uptime()}")
    print(
        "| photos | CLI search, whole command (median of 3) | model load in process | search, model loaded (median) |"
    )
    print("|---:|---:|---:|---:|")
    for n in (int(s) for s in args.sizes.split(",")):
        directory = args.work / f"library-{n}"
        if not (args.reuse and directory.is_dir()):
            build_library(directory, n, checkpoint)
        cli = time_cli(directory, args.repeats)
        load, searches = time_in_process(directory, max(args.repeats, 5))
        print(
            f"| {n} | {statistics.median(cli):.2f} s ({', '.join(f'{t:.2f}' for t in cli)}) | {load:.2f} s "
            f"| {1000 * statistics.median(searches):.0f} ms |"
        )
    print(f"load after: {uptime()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
