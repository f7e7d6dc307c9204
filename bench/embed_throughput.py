"""Embedding throughput: the whole `photoatlas index` command against the naive open_clip loop, back to back.

Camera-sized JPEGs (192 × 4000×3000 by default) are made once from Debian's mate-backgrounds (or generated
noise when it is not installed) and kept in bench/_data. ViT-B-32 with random weights (speed does not depend
on the weights). Each repeat runs, one right after the other, on the same files:

  naive   for each file: PIL open → open_clip preprocess → encode_image, one at a time (model load not timed);
  before  `photoatlas index` from another source tree (e.g. the last commit: `--before-tree /tmp/pa-before`),
          a fresh library, the whole command timed (process start and model load included);
  after   `photoatlas index` from this tree, the same way, with `--timings` (the stages' shares).

The ratio of each repeat uses its own sides, so both ran under the same load; the figures reported are the
medians of the repeats, with the load average measured before and after each side. The exported image tower
is built once, in a cold run before the repeats (its time is reported apart), into bench/_data/cache.

`--runtimes` times the image tower alone on the same photos, in each runtime installed (img/s at batch 32,
median of 3; cosine to fp32 PyTorch, min and median over every photo; install size).

    python bench/embed_throughput.py [--count 192] [--repeats 3] [--before-tree DIR] [--runtimes] [--json F]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT / "bench" / "_data"
SOURCES = [Path("/usr/share/backgrounds/mate"), Path("/usr/share/backgrounds")]


def load() -> str:
    one = os.getloadavg()[0]
    return f"{one:.2f}"


def source_images() -> list[Path]:
    for folder in SOURCES:
        found = sorted(p for p in folder.rglob("*") if p.suffix.lower() in {".jpg", ".jpeg", ".png"})
        if found:
            return found
    return []


def make_photos(count: int, size: tuple[int, int]) -> tuple[Path, str]:
    """The benchmark's photos, made once and kept in bench/_data."""
    sources = source_images()
    origin = (
        f"{len(sources)} photos from {SOURCES[0] if sources[0].is_relative_to(SOURCES[0]) else SOURCES[1]}"
        if sources
        else "generated noise"
    )
    folder = DATA / f"photos-{size[0]}x{size[1]}-{count}"
    if folder.is_dir() and len(list(folder.glob("*.jpg"))) == count:
        return folder, origin
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    rng = random.Random(0)
    for i in range(count):
        if sources:
            with Image.open(sources[i % len(sources)]) as src:
                image = src.convert("RGB").resize(size, Image.Resampling.BICUBIC)
        else:
            image = Image.effect_noise(size, 60).convert("RGB")
        image.putpixel((rng.randrange(size[0]), rng.randrange(size[1])), (i % 256, 0, 0))  # each its own hash
        image.save(tmp / f"IMG_{i:04d}.jpg", quality=92)
    shutil.rmtree(folder, ignore_errors=True)
    tmp.rename(folder)
    return folder, origin


def random_checkpoint(name: str = "ViT-B-32") -> Path:
    import open_clip
    import torch

    path = DATA / f"{name.lower()}-random.pt"
    if not path.is_file():
        torch.manual_seed(0)
        model = open_clip.create_model(name, pretrained=None)
        torch.save(model.state_dict(), path.with_suffix(".tmp"))
        path.with_suffix(".tmp").rename(path)
    return path


def naive(files: list[Path], checkpoint: Path, name: str = "ViT-B-32", device: str = "cpu") -> float:
    """Images per second of the loop a newcomer writes (the model load is not timed)."""
    import open_clip
    import torch

    model, _, preprocess = open_clip.create_model_and_transforms(name, pretrained=str(checkpoint), device=device)
    model.eval()
    start = time.perf_counter()
    with torch.no_grad():
        for path in files:
            model.encode_image(preprocess(Image.open(path)).unsqueeze(0).to(device)).cpu()
    return len(files) / (time.perf_counter() - start)


def cli_index(
    tree: Path,
    photos: Path,
    checkpoint: Path,
    extra: list[str],
    timings: bool,
    name: str = "ViT-B-32",
    device: str = "cpu",
) -> tuple[float, str]:
    """Seconds of the whole `photoatlas index` command run from `tree` on a fresh library, and its output."""
    env = {**os.environ, "XDG_CACHE_HOME": str(DATA / "cache"), "PYTHONPATH": str(tree)}
    with tempfile.TemporaryDirectory() as library:
        command = [sys.executable, "-m", "engine", "--library", library, "index", str(photos)]
        command += ["--model", name, "--pretrained", str(checkpoint), "--device", device, "--no-progress"]
        command += [*extra, *(["--timings"] if timings else [])]
        start = time.perf_counter()
        done = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True)
        elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"photoatlas index failed in {tree}:\n{done.stdout}\n{done.stderr}")
    return elapsed, done.stdout


def stage_shares(output: str) -> dict[str, float]:
    return {m[1]: float(m[2]) for m in re.finditer(r"^  ([a-z ]+): ([0-9.]+) s$", output, re.MULTILINE)}


def throughput(args: argparse.Namespace, photos: Path, checkpoint: Path) -> dict:
    files = sorted(photos.glob("*.jpg"))
    count = len(files)
    print(f"cold run (builds the exported image tower into bench/_data/cache), load {load()} ...", flush=True)
    on = {"name": args.model, "device": args.device}
    cold, cold_out = cli_index(ROOT, photos, checkpoint, args.after_args, True, **on)
    print(f"  {cold:.1f} s; {cold_out.strip().splitlines()[-1]}")
    rows = []
    for repeat in range(args.repeats):
        row: dict = {"repeat": repeat + 1}
        row["load_naive"] = load()
        row["naive"] = naive(files[: args.naive_count or None], checkpoint, args.model, args.device)
        if args.before_tree:
            row["load_before"] = load()
            seconds, _ = cli_index(args.before_tree, photos, checkpoint, [], False, **on)
            row["before"] = count / seconds
        row["load_after"] = load()
        seconds, out = cli_index(ROOT, photos, checkpoint, args.after_args, True, **on)
        row["after"] = count / seconds
        row["after_s"] = seconds
        row["stages"] = stage_shares(out)
        row["first_batch"] = re.search(r"first batch embedded and saved after ([0-9.]+) s", out)[1]  # type: ignore[index]
        row["runtime"] = out.strip().splitlines()[-1]
        row["load_end"] = load()
        rows.append(row)
        before = f", before {row['before']:.2f} img/s ({row['before'] / row['naive']:.2f}×)" if "before" in row else ""
        print(
            f"repeat {repeat + 1}: naive {row['naive']:.2f} img/s{before}, after {row['after']:.2f} img/s "
            f"({row['after'] / row['naive']:.2f}×); load {row['load_naive']} → {row['load_end']}",
            flush=True,
        )
    median = {key: statistics.median(r[key] for r in rows) for key in ("naive", "before", "after") if key in rows[0]}
    ratios = {
        f"{key}_ratio": statistics.median(r[key] / r["naive"] for r in rows)
        for key in ("before", "after")
        if key in rows[0]
    }
    last = rows[len(rows) // 2]
    print(f"\nmedians of {len(rows)}: " + ", ".join(f"{k} {v:.2f} img/s" for k, v in median.items()))
    print("ratios to naive (each repeat's own sides, median): " + ", ".join(f"{k} {v:.2f}×" for k, v in ratios.items()))
    total = sum(last["stages"].values()) or 1.0
    print(f"stages of the middle repeat's index ({last['after_s']:.1f} s, first batch {last['first_batch']} s):")
    for stage, seconds in sorted(last["stages"].items(), key=lambda kv: -kv[1]):
        print(f"  {stage:<24} {seconds:6.2f} s  {100 * seconds / total:5.1f} % of the stage seconds")
    return {"cold_s": cold, "repeats": rows, "median": median, "ratios": ratios}


def package_size(*names: str) -> float:
    """MiB on disk of installed packages (their import folders)."""
    total = 0
    for name in names:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            continue
        for folder in spec.submodule_search_locations:
            total += sum(f.stat().st_size for f in Path(folder).rglob("*") if f.is_file())
    return total / 2**20


def runtimes(photos: Path, checkpoint: Path, batch: int = 32) -> list[dict]:
    """The image tower alone in each runtime installed, on the photos' model inputs."""
    import numpy as np
    import open_clip
    import torch

    from engine.embed import runtime as rt
    from engine.embed.onnx_export import ensure_exported

    model, _, preprocess = open_clip.create_model_and_transforms("ViT-B-32", pretrained=str(checkpoint))
    model.eval()
    files = sorted(photos.glob("*.jpg"))
    inputs = []
    for path in files:
        with Image.open(path) as image:
            image.draft("RGB", (320, 320))
            inputs.append(preprocess(image.convert("RGB")))
    pixels = torch.stack(inputs).numpy()
    folder = DATA / "runtimes"
    started = time.perf_counter()
    ensure_exported(model, 224, folder, fp32=True, int8=importlib.util.find_spec("onnx") is not None)
    built = time.perf_counter() - started
    torch_int8 = None
    with torch.inference_mode():
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch_int8 = torch.ao.quantization.quantize_dynamic(model.visual, {torch.nn.Linear}, dtype=torch.qint8)
    threads = torch.get_num_threads()
    candidates: list[tuple[str, object, str]] = [
        ("torch fp32 (batched)", rt.TorchRuntime(model), "torch"),
        ("torch dynamic int8 (torch.ao, Linear)", _TorchModule(torch_int8), "torch"),
    ]
    if importlib.util.find_spec("onnxruntime"):
        candidates.append(
            ("ONNX Runtime fp32", rt.OnnxRuntime(folder / "image-tower-fp32.onnx", "onnx-fp32", threads), "ort")
        )
        if (folder / "image-tower-int8.onnx").is_file():
            candidates.append(
                ("ONNX Runtime int8", rt.OnnxRuntime(folder / "image-tower-int8.onnx", "onnx-int8", threads), "ort")
            )
    if importlib.util.find_spec("openvino"):
        candidates.append(
            ("OpenVINO (CPU plug-in defaults)", rt.OpenVinoRuntime(folder / "image-tower-fp32.onnx", threads), "ov")
        )
    sizes = {
        "torch": package_size("torch"),
        "ort": package_size("onnxruntime", "onnx", "ml_dtypes", "flatbuffers"),
        "ov": package_size("openvino"),
    }
    reference = np.concatenate([candidates[0][1].encode(pixels[i : i + batch]) for i in range(0, len(pixels), batch)])
    out = []
    for name, runtime, package in candidates:
        features = np.concatenate([runtime.encode(pixels[i : i + batch]) for i in range(0, len(pixels), batch)])
        cos = rt._cosines(reference, features)
        rates = []
        timed = pixels[: 2 * batch]
        for _ in range(3):
            start = time.perf_counter()
            for i in range(0, len(timed), batch):
                runtime.encode(timed[i : i + batch])
            rates.append(len(timed) / (time.perf_counter() - start))
        row = {
            "runtime": name,
            "img_per_s": statistics.median(rates),
            "cos_min": float(cos.min()),
            "cos_median": float(np.median(cos)),
            "install_mib": sizes[package],
            "load": load(),
        }
        out.append(row)
        print(
            f"  {name:<40} {row['img_per_s']:7.2f} img/s  cosine min {row['cos_min']:.5f} median "
            f"{row['cos_median']:.5f}  {row['install_mib']:6.0f} MiB  (load {row['load']})",
            flush=True,
        )
    print(f"  (export + int8 quantization took {built:.1f} s, once per model)")
    return out


class _TorchModule:
    def __init__(self, module: object) -> None:
        self.module = module

    def encode(self, pixels):  # type: ignore[no-untyped-def]
        import torch

        with torch.inference_mode():
            return self.module(torch.from_numpy(pixels)).float().numpy()  # type: ignore[operator]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=192)
    parser.add_argument("--naive-count", type=int, default=0, help="files for the naive loop (default: all)")
    parser.add_argument("--size", default="4000x3000")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--model", default="ViT-B-32", help="open_clip architecture, random weights (e.g. ViT-L-14)")
    parser.add_argument("--device", default="cpu", help="cpu, or cuda on a GPU machine")
    parser.add_argument("--before-tree", type=Path, help="a source tree to time as 'before' (git archive HEAD)")
    parser.add_argument(
        "--after-args", type=shlex.split, default=[], help='options for the "after" command: --after-args="--threads 1"'
    )
    parser.add_argument("--runtimes", action="store_true", help="only the runtime comparison table")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    import torch

    size = tuple(int(v) for v in args.size.split("x"))
    DATA.mkdir(parents=True, exist_ok=True)
    photos, origin = make_photos(args.count, size)  # type: ignore[arg-type]
    checkpoint = random_checkpoint(args.model)
    print(
        f"{args.count} JPEGs of {args.size} ({origin}); {args.model} random weights on {args.device}; "
        f"{os.cpu_count()} cores, torch {torch.__version__} with {torch.get_num_threads()} threads; load {load()}"
    )
    figures: dict = {"photos": args.count, "size": args.size, "source": origin, "cpu_count": os.cpu_count()}
    if args.runtimes:
        figures["runtimes"] = runtimes(photos, checkpoint)
    else:
        figures.update(throughput(args, photos, checkpoint))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, default=str))


if __name__ == "__main__":
    main()
