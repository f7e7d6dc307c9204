"""Does the fast image tower change what PhotoAtlas does? The toy CLIP with each runtime against fp32 PyTorch.

zero-shot: the toy world's 36 concepts (6 colours × 6 shapes) × `--per-concept` photos, top-1 accuracy of
           "a photo of a {colour} {shape}" prompts, and each photo's cosine to its fp32 embedding;
clustering: a toy library of 12 concepts × 30 photos indexed through `Library.index` with the runtime
           forced, then `recluster()` (k chosen by coding length): ACC (Hungarian) and the chosen k.

  python bench/embed_fidelity.py [--per-concept 10] [--runtimes torch torch-int8 onnx-int8 onnx-fp32 openvino]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SHARED = Path(__file__).resolve().parents[2] / "shared"
TOYCLIP = SHARED / "models" / "toyclip"
MAKE_LIBRARY = SHARED / "toyworld" / "make_library.py"
COLOURS = ["red", "green", "blue", "yellow", "orange", "black"]
SHAPES = ["circle", "square", "triangle", "star", "hexagon", "cross"]
CLUSTER_CONCEPTS = [f"{c}:{s}" for c, s in zip(COLOURS * 2, SHAPES + SHAPES[::-1], strict=True)]


def make_photos(folder: Path, concepts: list[str], per_concept: int, seed: int) -> dict[str, str]:
    drawn = ["--per-concept", str(per_concept), "--seed", str(seed), "--concepts", ",".join(concepts)]
    made = subprocess.run(
        [sys.executable, str(MAKE_LIBRARY), str(folder), *drawn], capture_output=True, text=True, check=True
    ).stdout
    return {str((folder / rel).resolve()): concept for rel, concept in json.loads(made).items()}


def accuracy(truth: list[str], predicted: list[int | None]) -> float:
    """Clustering accuracy with the best one-to-one matching of clusters to concepts ("Other" is wrong)."""
    from scipy.optimize import linear_sum_assignment

    concepts = sorted(set(truth))
    clusters = sorted({p for p in predicted if p is not None})
    counts = np.zeros((len(clusters), len(concepts)))
    for t, p in zip(truth, predicted, strict=True):
        if p is not None:
            counts[clusters.index(p), concepts.index(t)] += 1
    rows, cols = linear_sum_assignment(-counts)
    return float(counts[rows, cols].sum() / len(truth))


def zero_shot(runtimes: list[str], per_concept: int, work: Path) -> list[dict]:
    from PIL import Image

    from engine.embed.embedder import Embedder, load_embedder
    from engine.settings import ModelSpec

    spec = ModelSpec("toyclip", str(TOYCLIP / "toyclip.safetensors"), str(TOYCLIP / "toyclip.json"))
    loaded = load_embedder(spec, device="cpu")
    truth = make_photos(work / "zero-shot", [f"{c}:{s}" for c in COLOURS for s in SHAPES], per_concept, 11)
    paths = sorted(truth)
    batch = [loaded.preprocess(Image.open(p).convert("RGB")) for p in paths]
    labels = [f"{c} {s}" for c in COLOURS for s in SHAPES]
    text = loaded.embed_texts([f"a photo of a {label}" for label in labels])
    rows, reference = [], None
    for name in runtimes:
        embedder = Embedder(spec, loaded.model, loaded.preprocess, loaded.tokenizer, "cpu", loaded.key)
        embedder.use_image_runtime(name, work / "cache")
        images = np.concatenate([embedder.embed_images(batch[i : i + 32]) for i in range(0, len(batch), 32)])
        used = embedder.runtime_choice.name if embedder.runtime_choice else "torch-fp32"
        reference = images if reference is None else reference
        cosine = np.sum(images * reference, axis=1)
        predicted = np.argmax(images @ text.T, axis=1)
        top1 = float(np.mean([labels[i] == truth[p] for i, p in zip(predicted, paths, strict=True)]))
        rows.append(
            {
                "runtime": used,
                "photos": len(paths),
                "top1": top1,
                "cos_min": cosine.min(),
                "cos_median": np.median(cosine),
            }
        )
        print(
            f"  zero-shot {used:<11} top-1 {top1:.3f}  cosine to fp32 min {cosine.min():.5f} median "
            f"{np.median(cosine):.5f}  ({len(paths)} photos)",
            flush=True,
        )
    return rows


def clustering(runtimes: list[str], work: Path) -> list[dict]:
    import engine.embed.runtime
    import engine.index.indexer
    from engine.library import Library
    from engine.paths import display

    engine.embed.runtime.BUILD_MIN_WORK = 0  # the toy tower is tiny: force the export it would never pay for
    engine.index.indexer.runtime_cache_dir = lambda: work / "cache"  # type: ignore[attr-defined]
    truth = make_photos(work / "cluster-photos", CLUSTER_CONCEPTS, 30, 5)
    rows = []
    for name in runtimes:
        library = Library(work / f"lib-{name}")
        library.set_model("toyclip", str(TOYCLIP / "toyclip.safetensors"), str(TOYCLIP / "toyclip.json"))
        library.update_settings(library.settings.replace(image_runtime=name))
        words = work / "shapes.txt"  # the toy CLIP knows colours and shapes only: the album names' word list
        words.write_text("\n".join(f"{c} {s}" for c in COLOURS for s in SHAPES), "utf-8")
        library.set_vocabulary(library.vocabulary_choice().use_file(words))
        summary = library.index([work / "cluster-photos"])
        used = (summary.runtime or "image tower: torch-fp32").split(": ")[1].split(" ")[0]
        result = library.recluster()
        album = {p: a.id for a in library.albums.albums() for p in a.members}
        photos = library.photos()
        acc = accuracy([truth[display(r.path)] for r in photos], [album.get(r.id) for r in photos])
        rows.append({"runtime": used, "photos": len(photos), "k": result.k, "acc": acc})
        print(f"  clustering {used:<11} k {result.k} (true 12)  ACC {acc:.3f}  ({len(photos)} photos)", flush=True)
        library.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-concept", type=int, default=10)
    parser.add_argument("--runtimes", nargs="+", default=["torch", "torch-int8", "onnx-int8", "onnx-fp32", "openvino"])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="embed-fidelity-") as tmp:
        work = Path(tmp)
        figures = {
            "zero_shot": zero_shot(args.runtimes, args.per_concept, work),
            "clustering": clustering(args.runtimes, work),
        }
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, default=float))


if __name__ == "__main__":
    main()
