"""Indexing on a Ray cluster against indexing here: throughput, fixed cost, overhead and bytes per photo.

A toy library (the toy world's 480×480 JPEGs, toy CLIP from ../shared) is indexed into a fresh library in each
mode, one after the other:

  local        `Library.index` on this computer (the reference);
  ray-local    `--ray local`: Ray started on this computer only, one actor per core;
  two-node     a head and a worker node on loopback, in a network namespace made here (`unshare -n`, only `lo`
               up; root needed), the workers reading the files by path;
  two-node-bytes  the same cluster with a path map to a folder the workers do not have, so every file is sent.

Reported per mode: wall seconds of the index call, the fixed part (model loaded here, cluster joined, actors
loaded) and the steady part, steady ms per photo, overhead per photo against local, KiB sent and received per
photo (the summary's own counts), and each worker's steady rate, the figure the 1M-photo estimate uses.

    python bench/ray_throughput.py [--count 96] [--json F]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
TOYCLIP = SHARED / "models" / "toyclip"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "integration"))


def make_photos(folder: Path, count: int) -> None:
    per = max(1, count // 6)
    subprocess.run(
        [sys.executable, str(SHARED / "toyworld" / "make_library.py"), str(folder), "--per-concept", str(per)],
        check=True,
        capture_output=True,
    )


def index_once(work: Path, name: str, photos: Path, cluster: str, path_map: str = "") -> dict:
    from engine.library import Library

    library = Library(work / name)
    library.set_model("toyclip", str(TOYCLIP / "toyclip.safetensors"), str(TOYCLIP / "toyclip.json"))
    library.update_settings(library.settings.replace(cluster_path_map=path_map))
    library.close()
    with Library(work / name) as library:
        started = time.perf_counter()
        summary = library.index([photos], cluster=cluster)
        wall = time.perf_counter() - started
    stages = dict(summary.stages)
    line = " ".join(summary.cluster)
    ready = re.search(r"ready after ([\d.]+) s", line)
    if ready:  # the cluster's steady part: after its actors loaded the model
        steady = stages.get("compute cluster", 0.0) - float(ready[1])
    else:
        steady = wall - stages.get("loading the model", 0.0)
    numbers = re.search(r"(\d+) workers on (\d+) nodes.*?([\d.]+) KiB sent and ([\d.]+) KiB back", line)
    out = {
        "mode": name,
        "photos": summary.embedded,
        "wall_s": round(wall, 2),
        "fixed_s": round(wall - steady, 2),
        "steady_s": round(steady, 2),
        "steady_ms_per_photo": round(1000 * steady / max(1, summary.embedded), 1),
        "line": line,
    }
    if numbers:
        workers = int(numbers[1])
        out |= {"workers": workers, "nodes": int(numbers[2]), "kib_sent": float(numbers[3])}
        out |= {"kib_back": float(numbers[4]), "per_worker_photos_s": round(summary.embedded / steady / workers, 2)}
    return out


def inside(work: Path, photos: Path, out: Path) -> None:
    """In the namespace: start the two-node cluster, index by path and by bytes, stop it."""
    import cluster_scenario as scenario

    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    results = []
    try:
        scenario.start_cluster(tempfile.mkdtemp(prefix="pa-ray-"))
        results.append(index_once(work, "two-node", photos, scenario.ADDRESS))
        results.append(index_once(work, "two-node-bytes", photos, scenario.ADDRESS, f"{photos}=/nonexistent"))
    finally:
        subprocess.run([str(scenario.RAY), "stop", "--force"], capture_output=True)
        out.write_text(json.dumps(results))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=96)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--inside", nargs=3, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inside:
        inside(*args.inside)
        return
    work = Path(tempfile.mkdtemp(prefix="pa-bench-ray-"))
    photos = work / "photos"
    make_photos(photos, args.count)
    load = [os.getloadavg()[0]]
    results = [index_once(work, "local", photos, "off"), index_once(work, "ray-local", photos, "local")]
    load.append(os.getloadavg()[0])
    out = work / "two-node.json"
    env = {**os.environ, "RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0", "PYTHONPATH": str(ROOT)}
    command = ["unshare", "--net", "--pid", "--fork", "--kill-child", "--mount-proc", sys.executable, __file__]
    subprocess.run([*command, "--inside", str(work), str(photos), str(out)], env=env, check=False, timeout=900)
    results += json.loads(out.read_text()) if out.exists() else []
    load.append(os.getloadavg()[0])
    local_ms = results[0]["steady_ms_per_photo"]
    for row in results:
        row["overhead_ms_per_photo"] = round(row["steady_ms_per_photo"] - local_ms, 1)
    print(f"load average (1 min) before / between / after: {load}")
    print(
        "| mode | photos | wall s | fixed s | steady s | steady ms/photo | overhead ms/photo | workers | "
        "per-worker photos/s | KiB sent/photo | KiB back/photo |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['mode']} | {r['photos']} | {r['wall_s']} | {r['fixed_s']} | {r['steady_s']} | "
            f"{r['steady_ms_per_photo']} | {r['overhead_ms_per_photo']} | {r.get('workers', '-')} | "
            f"{r.get('per_worker_photos_s', '-')} | {r.get('kib_sent', 0)} | {r.get('kib_back', 0)} |"
        )
    if args.json:
        args.json.write_text(json.dumps({"load": load, "results": results}, indent=1))


if __name__ == "__main__":
    main()
