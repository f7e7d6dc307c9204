"""Watch latency: seconds from a photo landing in a watched folder to it showing in an album, headless.

Builds a clustered library, starts `LibraryWatcher` on it with the same apply loop as `photoatlas watch`,
then lands photos in the watched folder (an atomic rename, as a finished copy or download looks) and times
each until the catalog has it in an album (or decided for "Other"). Two runs per debounce setting:
  one at a time: each photo lands after the previous one is filed (the figure for "a photo shows up");
  burst: all photos land at once (one batch, each photo timed from its own landing);
  import: a camera import, one photo copied in place every 0.5 s (`--interval`) while the watcher works
  (each photo timed from the start of its copy): batches must flush while files keep arriving.

The clock stops when the photo is filed: in an album, or decided for "Other" by the incremental assignment
(the same transaction either way); the "in albums" column says how many joined an album. The model is the
toy CLIP of ../shared/models/toyclip (it knows coloured shapes) when present, else a tiny random open_clip.

    python bench/watch_latency.py [--files 20] [--quiet-seconds 2 0.5] [--per-concept 8] [--poll]
        [--modes one burst import] [--interval 0.5] [--flush-seconds S]   (S = 30: the watcher before issue 18)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SHARED = Path(__file__).resolve().parents[2] / "shared"
TOYCLIP = SHARED / "models" / "toyclip"
MAKE_LIBRARY = SHARED / "toyworld" / "make_library.py"
CONCEPTS = "red:circle,green:square,blue:triangle,yellow:star,orange:hexagon,black:cross"


def make_photos(folder: Path, per_concept: int, seed: int) -> None:
    if MAKE_LIBRARY.exists():
        subprocess.run(
            [sys.executable, str(MAKE_LIBRARY), str(folder), "--per-concept", str(per_concept), "--seed", str(seed)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        return
    from PIL import Image

    colours = [(220, 30, 30), (30, 200, 40), (30, 40, 220), (230, 220, 40), (240, 140, 20), (20, 20, 20)]
    folder.mkdir(parents=True, exist_ok=True)
    for c, colour in enumerate(colours):
        for i in range(per_concept):
            image = Image.new("RGB", (160, 120), colour)
            image.putpixel((i, seed), (i % 256, seed % 256, 7))
            image.save(folder / f"IMG_{seed:02d}{c:02d}{i:04d}.jpg", quality=92)


def set_model(library, folder: Path) -> str:
    if (TOYCLIP / "toyclip.safetensors").exists():
        library.set_model("toyclip", str(TOYCLIP / "toyclip.safetensors"), str(TOYCLIP / "toyclip.json"))
        return "toyclip (../shared/models/toyclip)"
    import open_clip
    import torch

    config = {
        "embed_dim": 32,
        "vision_cfg": {"image_size": 32, "layers": 1, "width": 32, "patch_size": 8, "head_width": 16},
        "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1},
    }
    config_path = folder / "photoatlas-tiny.json"
    config_path.write_text(json.dumps(config))
    open_clip.add_model_config(config_path)
    torch.manual_seed(0)
    checkpoint = folder / "tiny.pt"
    torch.save(open_clip.create_model("photoatlas-tiny", pretrained=None).state_dict(), checkpoint)
    library.set_model("photoatlas-tiny", str(checkpoint), str(config_path))
    return "tiny random open_clip model (toyclip not found)"


def filed(library, path: Path) -> bool | None:
    """True when the photo is in an album, False when it was decided for "Other", None when not filed yet."""
    row = library.catalog.execute(
        "SELECT p.id, m.album_id FROM photos p LEFT JOIN album_members m ON m.hash = p.hash WHERE p.path = ?",
        (os.fsencode(path),),
    ).fetchone()
    if row is None:
        return None
    if row[1] is not None:
        return True
    seen = library.catalog.execute(
        "SELECT 1 FROM cluster_members WHERE photo_id = ? AND clustering_id = (SELECT MAX(id) FROM clusterings)",
        (row[0],),
    ).fetchone()
    return False if seen else None


def run(
    library, watcher, sources: list[Path], root: Path, mode: str, interval: float = 0.5, timeout: float = 120.0
) -> dict:
    """Land `sources` in the watched folder and time each until filed; mode "one", "burst" or "import"."""
    import threading

    from engine.watch.apply import apply_batch

    landed: dict[Path, float] = {}
    done: dict[Path, tuple[float, bool]] = {}
    batches = 0

    def land(source: Path) -> None:
        target = root / "incoming" / source.name
        landed[target] = time.time()
        os.replace(source, target)  # atomic: the photo appears complete, as a finished copy does

    def pump(until) -> None:
        nonlocal batches
        deadline = time.monotonic() + timeout
        while not until():
            if time.monotonic() > deadline:
                raise TimeoutError(f"photos not filed after {timeout} s: {sorted(set(landed) - set(done))}")
            batch = watcher.next_batch(timeout=0.01)
            if batch is None:
                continue
            apply_batch(library, batch)
            batches += 1
            now = time.time()
            for target, at in list(landed.items()):  # the importer's thread adds to it meanwhile
                if target not in done and (state := filed(library, target)) is not None:
                    done[target] = (now - at, state)

    def copy(source: Path) -> None:
        target = root / "incoming" / source.name
        landed[target] = time.time()
        shutil.copyfile(source, target)  # written in place, as a camera import or a file manager copies

    if mode == "import":
        # A camera import: one photo copied every `interval` seconds while the watcher and the library work.
        def importer() -> None:
            for source in sources:
                copy(source)
                time.sleep(interval)

        thread = threading.Thread(target=importer, daemon=True)
        thread.start()
        pump(lambda: len(done) == len(sources))
        thread.join()
    elif mode == "burst":
        for source in sources:
            land(source)
        pump(lambda: len(done) == len(sources))
    else:
        for source in sources:
            land(source)
            pump(lambda: len(done) == len(landed))
    seconds = sorted(s for s, _ in done.values())
    return {
        "median": statistics.median(seconds),
        "p90": seconds[min(len(seconds) - 1, round(0.9 * (len(seconds) - 1)))],
        "min": seconds[0],
        "max": seconds[-1],
        "in_albums": sum(joined for _, joined in done.values()),
        "files": len(seconds),
        "batches": batches,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--quiet-seconds", type=float, nargs="+", default=[2.0, 0.5])
    parser.add_argument("--per-concept", type=int, default=8, help="photos per concept in the starting library")
    parser.add_argument("--poll", action="store_true", help="poll instead of native events")
    parser.add_argument("--poll-seconds", type=float, default=1.0)
    parser.add_argument("--modes", nargs="+", default=["one", "burst", "import"], choices=["one", "burst", "import"])
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between copies in the import run")
    parser.add_argument("--flush-seconds", type=float, help="the watcher's flush interval (default: its own)")
    args = parser.parse_args()

    from engine.library import Library
    from engine.naming.vocabulary import VocabularyChoice

    work = Path(tempfile.mkdtemp(prefix="photoatlas-watch-bench-"))
    try:
        root, staging = work / "photos", work / "staging"
        make_photos(root, args.per_concept, seed=1)
        (root / "incoming").mkdir()
        library = Library(work / "library")
        model = set_model(library, work)
        names = [pair.replace(":", " ") for pair in CONCEPTS.split(",")]
        library.set_vocabulary(VocabularyChoice(replacement=tuple(names)))
        started = time.monotonic()
        indexed = library.index([root])
        clustered = library.recluster(k=len(names))
        setup = time.monotonic() - started
        print(f"model: {model}; device: {library.settings.device}")
        print(f"library: {indexed.added} photos indexed and clustered in {setup:.1f} s: {clustered.lines()[0]}")
        print(f"landing {args.files} photos per run, {'polling' if args.poll else 'native events'}")
        print()
        print(
            f"{'quiet s':>8} {'settle s':>8} {'run':<14} {'median s':>9} {'p90 s':>7} {'min s':>6} {'max s':>6} "
            f"{'median-quiet':>12} {'in albums':>9} {'batches':>7}"
        )
        seed = 2
        for quiet in args.quiet_seconds:
            settle = min(1.0, max(quiet, 0.1))  # as `photoatlas watch` sets it
            for mode in args.modes:
                seed += 1
                batch_dir = staging / f"seed{seed}"
                make_photos(batch_dir, -(-args.files // 6), seed=seed)
                sources = sorted(batch_dir.rglob("*.jpg"))[: args.files]
                watcher = library.watcher(
                    quiet_seconds=quiet,
                    settle_seconds=settle,
                    poll=args.poll,
                    poll_seconds=args.poll_seconds,
                    reconcile=False,
                    **({"flush_seconds": args.flush_seconds} if args.flush_seconds else {}),
                )
                watcher.start()
                try:
                    figures = run(library, watcher, sources, root, mode, args.interval)
                finally:
                    watcher.stop()
                name = {"one": "one at a time", "burst": "burst", "import": f"import {args.interval:g} s"}[mode]
                print(
                    f"{quiet:>8.1f} {settle:>8.1f} {name:<14} {figures['median']:>9.2f} {figures['p90']:>7.2f} "
                    f"{figures['min']:>6.2f} {figures['max']:>6.2f} {figures['median'] - quiet:>12.2f} "
                    f"{figures['in_albums']:>4}/{figures['files']:<4} {figures['batches']:>7}"
                )
        library.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
