"""Fitting the clustering on a worker of the cluster (a GPU one when there is one): `recluster --ray`.

The embeddings travel once, as float16 (half the bytes: 1 GiB for 1M photos at 512-D; the fit is made on
float32 again, and on the toy world gives the same albums as a local fit). The fitted
estimator comes back as data (`engine.cluster.persist`, the form the catalog stores), so a head fitted on a
GPU is read back on this computer's CPU. Album rules are applied here on the desktop, as after any fit. As
for indexing, the Ray driver runs in a child process (`engine.distributed.bridge` says why).
"""

from __future__ import annotations

import contextlib
import multiprocessing
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

import numpy as np

from engine.distributed.address import ClusterAddress
from engine.distributed.errors import ComputeClusterError
from engine.distributed.session import ClusterSession
from engine.errors import Cancelled, PhotoAtlasError
from engine.progress import NullProgress, ProgressReporter

# fit(x, k, device, progress) -> (estimator, coding-length curve): the re-cluster's own fit, run remotely.
FitFunction = Callable[[np.ndarray, "int | None", str, ProgressReporter], tuple[Any, dict[int, float]]]


def run_fit(fit: FitFunction, x: np.ndarray, k: int | None, device: str) -> tuple[Any, dict[int, float]]:
    """The remote task's body: fit on float32 features (from the float16 sent); return data only."""
    from engine.cluster.persist import dump_estimator

    estimator, curve = fit(np.asarray(x, dtype=np.float32), k, device, NullProgress())
    return dump_estimator(estimator), curve


def _fit_child(conn: Connection, address: ClusterAddress, local_cpus: int, fit: FitFunction, x: Any, k: Any) -> None:
    """The child process: join the cluster, run the fit on a worker, send back the result or the error."""
    try:
        conn.send(("done", *_fit_on_cluster(address, local_cpus, fit, x, k)))
    except PhotoAtlasError as exc:
        conn.send(("error", str(exc)))
    except BaseException as exc:
        with contextlib.suppress(Exception):
            conn.send(("error", f"the clustering failed on the compute cluster: {type(exc).__name__}: {exc}"))


def _fit_on_cluster(
    address: ClusterAddress, local_cpus: int, fit: FitFunction, x: np.ndarray, k: int | None
) -> tuple[Any, dict[int, float], str, int]:
    session = ClusterSession(address, local_cpus)
    session.connect()
    try:
        ray = session.ray
        gpus = session.resources()["GPU"]
        device = "cuda" if gpus else "cpu"
        sent = np.ascontiguousarray(x, dtype=np.float16)
        task = ray.remote(run_fit).options(num_cpus=1, num_gpus=1 if gpus else 0, max_retries=2)
        ref = task.remote(fit, ray.put(sent), k, device)
        while not ray.wait([ref], timeout=5.0)[0]:
            if not session.is_alive():
                raise _lost(address)
        try:
            stored, curve = ray.get(ref)
        except ray.exceptions.RayTaskError as exc:
            raise ComputeClusterError(f"the clustering failed on the compute cluster: {exc}") from exc
        except ray.exceptions.RayError as exc:
            raise _lost(address) from exc
        return stored, curve, device, sent.nbytes
    finally:
        session.close()


class RemoteFit:
    """Fits one clustering on the cluster at `address` (joined for the fit and left after it)."""

    def __init__(self, address: ClusterAddress, local_cpus: int = 1) -> None:
        self.address = address
        self.local_cpus = local_cpus
        self.bytes_sent = 0
        self.device = ""

    def fit(
        self, fit: FitFunction, x: np.ndarray, k: int | None, progress: ProgressReporter
    ) -> tuple[Any, dict[int, float]]:
        """`fit(x, k, device, progress)` run on a worker; raises `ComputeClusterError` when the cluster fails."""
        from engine.cluster.persist import load_estimator

        self.address.check_reachable()
        progress.phase("Fitting the albums on the compute cluster")
        context = multiprocessing.get_context("spawn")
        ours, theirs = context.Pipe()
        child = context.Process(target=_fit_child, args=(theirs, self.address, self.local_cpus, fit, x, k), daemon=True)
        child.start()
        theirs.close()
        try:
            while not ours.poll(0.25):
                if progress.is_cancelled():
                    raise Cancelled("re-clustering cancelled; the albums are as they were")
                if not child.is_alive() and not ours.poll(0):
                    raise _lost(self.address)
            try:
                message = ours.recv()
            except (EOFError, OSError) as exc:
                raise _lost(self.address) from exc
        finally:
            ours.close()
            child.join(10)
            if child.is_alive():
                child.kill()
                child.join(5)
        if message[0] != "done":
            raise ComputeClusterError(message[1])
        stored, curve, self.device, self.bytes_sent = message[1:]
        return load_estimator(stored), {int(key): float(v) for key, v in curve.items()}


def _lost(address: ClusterAddress) -> ComputeClusterError:
    return ComputeClusterError(
        f"the compute cluster at {address.text} went away during the clustering; the albums are as they were. "
        "Re-cluster again on this computer, or on the cluster once it is back"
    )
