"""Run inside a fresh network and PID namespace by test_ray_cluster.py: start a two-node Ray cluster on
loopback only, index toy libraries through it (plain, killing the worker node mid-run, stopping the cluster
mid-run) and write what happened as JSON. Every Ray process dies with the namespace, whatever happens here.

Usage: python ray_scenario.py WORKDIR OUT.json
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from engine.errors import PhotoAtlasError
from engine.library import Library
from engine.progress import NullProgress

HEAD_PORT = 6391
WORKER_NODE_MANAGER_PORT = 6392
RAY = Path(sys.executable).with_name("ray")
# Small: this runs on shared 2-core machines and in CI.
NODE = ["--num-cpus=1", "--object-store-memory=78643200", "--node-ip-address=127.0.0.1", "--disable-usage-stats"]
ADDRESS = f"127.0.0.1:{HEAD_PORT}"


def ray_cmd(*args: str) -> None:
    done = subprocess.run([str(RAY), *args], capture_output=True, text=True, timeout=120)
    if done.returncode:
        raise RuntimeError(f"ray {' '.join(args)} failed:\n{done.stderr[-2000:]}")


def start_cluster(temp: str) -> None:
    ray_cmd("start", "--head", f"--port={HEAD_PORT}", "--include-dashboard=false", f"--temp-dir={temp}", *NODE)
    ray_cmd("start", f"--address={ADDRESS}", f"--node-manager-port={WORKER_NODE_MANAGER_PORT}", *NODE)


def worker_node_pids() -> list[int]:
    """The worker node's raylet and every process it started (its actors): what dies with the machine."""
    raylets, parents = [], {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ")
            parents[int(entry)] = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if b"/raylet" in cmdline and f"--node_manager_port={WORKER_NODE_MANAGER_PORT}".encode() in cmdline:
            raylets.append(int(entry))
    return raylets + [pid for pid, parent in parents.items() if parent in raylets]


class OnFirstCommit(NullProgress):
    """Does `action` once, right after the first chunk from the cluster is committed (mid-run, by design)."""

    def __init__(self, action: Callable[[], None]) -> None:
        self.action = action
        self.fired_after: int | None = None
        self.units = 0
        self.on_cluster = False

    def phase(self, name: str, total: int | None = None) -> None:
        self.on_cluster = name.startswith("Indexing photos on the compute cluster")

    def advance(self, done: int = 1) -> None:
        if not self.on_cluster:  # listing the folders advances too
            return
        self.units += done
        if self.fired_after is None:
            self.fired_after = self.units
            self.action()


def run_index(library_dir: Path, photos: Path, cluster: str, progress: NullProgress | None = None) -> dict:
    started = time.monotonic()
    with Library(library_dir) as library:
        try:
            summary = library.index([photos], progress=progress, cluster=cluster)
            return {"lines": summary.lines(), "embedded": summary.embedded, "s": time.monotonic() - started}
        except PhotoAtlasError as exc:
            return {"error": str(exc), "type": type(exc).__name__, "s": time.monotonic() - started}


def main(workdir: Path, out: Path) -> None:
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    report: dict = {"interfaces": Path("/proc/net/dev").read_text().split("\n")[2:]}
    temp = tempfile.mkdtemp(prefix="pa-ray-")  # short: Ray's socket paths must fit in 107 bytes
    try:
        started = time.monotonic()
        start_cluster(temp)
        report["cluster_start_s"] = time.monotonic() - started
        # 1. A plain run through both nodes, then the albums fitted on the cluster.
        report["plain"] = run_index(workdir / "lib-ray", workdir / "photos", ADDRESS)
        with Library(workdir / "lib-ray") as library:
            library.update_settings(library.settings.replace(compute_cluster=ADDRESS), save=False)
            started = time.monotonic()
            fit = library._remote_fit()
            library._remote_fit = lambda: fit  # type: ignore[method-assign]  # to read what it sent
            summary = library.recluster(names_later=True)
            report["recluster"] = {"lines": summary.lines(), "s": time.monotonic() - started}
            report["recluster"] |= {"device": fit.device, "bytes_sent": fit.bytes_sent}

        out.write_text(json.dumps(report, indent=1))  # what is known so far, should the next step crash

        # 2. The worker node dies (its raylet and actors SIGKILLed) after the first chunk is committed.
        def kill_worker_node() -> None:
            pids = worker_node_pids()
            report["killed"] = len(pids)
            for pid in pids:
                os.kill(pid, signal.SIGKILL)

        kill = OnFirstCommit(kill_worker_node)
        report["kill"] = run_index(workdir / "lib-kill", workdir / "photos-big", ADDRESS, kill)
        report["kill"]["fired_after"] = kill.fired_after

        out.write_text(json.dumps(report, indent=1))  # what is known so far, should the next step crash

        # 3. The whole cluster stops after the first chunk; the next run finishes on this computer.
        stop = OnFirstCommit(lambda: ray_cmd("stop", "--force"))
        report["stop"] = run_index(workdir / "lib-stop", workdir / "photos-big", ADDRESS, stop)
        report["stop"]["fired_after"] = stop.fired_after
        report["after_stop_local"] = run_index(workdir / "lib-stop", workdir / "photos-big", "off")
    except Exception:
        report["crash"] = traceback.format_exc()
    finally:
        subprocess.run([str(RAY), "stop", "--force"], capture_output=True, timeout=120)
        out.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
