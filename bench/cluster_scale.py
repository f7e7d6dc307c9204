"""Time and peak memory of CPPClusterer (fit + predict) against KMeans as the library grows.

Usage:
    python bench/cluster_scale.py [--sizes 2000 10000 50000 100000] [--threads 2] [--device auto]

Each (method, size) runs in a fresh subprocess so that its peak resident memory (VmHWM, which sees
torch's allocations, unlike tracemalloc) is its own. The data (synthetic CLIP-like, D=512, 12 clusters,
float32) is generated once per size into bench/_data/ and loaded by the child, so the peak includes the
200 MB of features at 100k but not the generator's temporaries. CPP chooses k itself (the app's path);
KMeans is given the true k with n_init=10, on the CPU. On a GPU (`--device cuda`, or `auto` where one is) CPP
trains and encodes there, and its row also gives the GPU's peak allocated memory; `bench/gpu_check.sh` runs the
GPU rows in one call.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA_DIR = ROOT / "bench" / "_data"


def _peak_mib() -> float:
    """This process's own peak resident memory. Not ru_maxrss: Linux carries the parent's resident size at fork
    through exec into it, so a parent that had just generated 1M photos' features (13.7 GiB of temporaries)
    made the child's peak read 13.7 GiB, against 4.0 GiB once the data was cached (VmHWM is per address space)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # elsewhere: the best there is


def _child(method: str, path: str, threads: int, device: str) -> None:
    """Fit and predict one method on one saved data set; print a JSON line."""
    import torch

    torch.set_num_threads(threads)
    x = np.load(path)
    used = "cpu"
    start = time.perf_counter()
    if method == "cpp":
        from engine.cluster import CPPClusterer

        model = CPPClusterer(random_state=0, device=device).fit(x)
        k = model.n_clusters_
        used = model.device_
    else:
        from sklearn.cluster import KMeans

        model = KMeans(n_clusters=12, n_init=10, random_state=0).fit(x)
        k = 12
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    model.predict(x)
    predict_s = time.perf_counter() - start
    peak_mib = _peak_mib()
    # fit and predict return arrays on the host, so the GPU's work is done when the clock stops.
    gpu_peak_mib = torch.cuda.max_memory_allocated() / 2**20 if used.startswith("cuda") else None
    print(
        json.dumps(
            {
                "fit_s": fit_s,
                "predict_s": predict_s,
                "peak_mib": peak_mib,
                "k": k,
                "device": used,
                "gpu_peak_mib": gpu_peak_mib,
            }
        )
    )


def _run(method: str, path: Path, threads: int, device: str) -> dict:
    cmd = [sys.executable, __file__, "--child", method, str(path), "--threads", str(threads), "--device", device]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="+", type=int, default=[2000, 10000, 50000, 100000])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--kmeans-max", type=int, default=100000, help="skip the k-means baseline above this n")
    parser.add_argument("--device", default="auto", help="where CPP trains: auto (a GPU if there is one), cpu, cuda")
    parser.add_argument("--child", nargs=2, metavar=("METHOD", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child[0], args.child[1], args.threads, args.device)
        return

    from bench.datasets import synthetic_clip_like

    DATA_DIR.mkdir(parents=True, exist_ok=True)
    rows = []
    for n in args.sizes:
        path = DATA_DIR / f"scale_{n}.npy"
        if not path.exists():
            x, _ = synthetic_clip_like(n=n, n_clusters=12, seed=0)
            np.save(path, x)
        cpp = _run("cpp", path, args.threads, args.device)
        gpu_peak = "–" if cpp["gpu_peak_mib"] is None else f"{cpp['gpu_peak_mib']:.0f}"
        cpp_cells = (
            f"| {n} | {cpp['device']} | {cpp['k']} | {cpp['fit_s']:.1f} | {cpp['predict_s']:.2f} "
            f"| {cpp['peak_mib']:.0f} | {gpu_peak} "
        )
        if n > args.kmeans_max:
            rows.append(cpp_cells + "| – | – | – | – | – |")
        else:
            km = _run("kmeans", path, args.threads, "cpu")
            rows.append(
                cpp_cells + f"| {km['fit_s']:.1f} | {km['predict_s']:.2f} | {km['peak_mib']:.0f} "
                f"| {(cpp['fit_s'] + cpp['predict_s']) / (km['fit_s'] + km['predict_s']):.1f} "
                f"| {cpp['peak_mib'] / km['peak_mib']:.2f} |"
            )
        print(f"done n={n}: {rows[-1]}", flush=True)
    print()
    print(
        "| n | CPP device | CPP k | CPP fit s | CPP predict s | CPP peak MiB | CPP GPU peak MiB | KMeans fit s "
        "| KMeans predict s | KMeans peak MiB | time ratio CPP/KMeans | memory ratio CPP/KMeans |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
