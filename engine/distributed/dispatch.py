"""Carrying an index run's files to the cluster's actors and streaming the results back, in any order.

The desktop (through `engine.distributed.bridge`) hands over the files its planner chose (only new or changed
content); each actor gets at most two chunks at a time, so results come back while the next chunk is already
being decoded. A chunk whose actor dies (its node killed or lost) is sent again to another actor: the desktop
commits a file only when its result is back, so nothing is lost and nothing is written twice. Files are read
by the workers at their mapped path, or sent as bytes once the workers turn out not to see them.
"""

from __future__ import annotations

import pickle
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from engine.distributed.address import ClusterAddress, PathMap
from engine.distributed.errors import ComputeClusterError
from engine.distributed.session import ClusterSession
from engine.distributed.worker import EmbedWorker, Job, JobResult, WorkerOptions
from engine.errors import Cancelled
from engine.media.decode import SkippedFile, read_or_skip, read_snapshot
from engine.settings import ModelSpec

IN_FLIGHT_PER_WORKER = 2  # chunks per actor: one being processed, one waiting, so no actor idles
WAIT_S = 0.5  # how long one wait for results lasts before cancellation and the cluster's health are checked
READY_WAIT_S = 60.0  # after the first actor is ready, how long the others get before work is spread
STALLED_S = 300.0  # no result and no ready worker for this long: give up with a message
SPAWN_ROUNDS = 3  # times the whole set of workers may be replaced after deaths before the run gives up


@dataclass(frozen=True)
class FileToProcess:
    key: int
    path: Path
    size: int
    mtime_ns: int


@dataclass
class ClusterStats:
    """What went over the network and how the cluster was used, for the summary and the benchmark."""

    workers: int = 0
    nodes: int = 0
    device: str = ""
    bytes_sent: int = 0
    bytes_received: int = 0
    files: int = 0
    resent: int = 0  # files sent again because their worker died
    workers_lost: int = 0
    sent_as_bytes: bool = False
    ready_s: float = 0.0  # from the first file handed over until the workers had loaded the model

    def lines(self, seconds: float) -> list[str]:
        per = max(1, self.files)
        rate = self.files / seconds if seconds > 0 else 0.0
        how = "sent as bytes" if self.sent_as_bytes else "read by the workers"
        steady = self.files / (seconds - self.ready_s) if seconds > self.ready_s else 0.0
        out = [
            f"compute cluster: {self.workers} workers on {self.nodes} nodes ({self.device}), ready after "
            f"{self.ready_s:.1f} s, then {steady:.1f} photos/s ({rate:.1f} overall); "
            f"files {how}; {self.bytes_sent / per / 1024:.1f} KiB sent and "
            f"{self.bytes_received / per / 1024:.1f} KiB back per photo"
        ]
        if self.workers_lost:
            out.append(f"{self.workers_lost} workers were lost; their {self.resent} photos were processed again")
        return out


class _Actor:
    def __init__(self, handle: Any, ready: Any) -> None:
        self.handle = handle
        self.ready_ref = ready
        self.ready = False
        self.busy = 0


class ClusterDispatch:
    """Decoding, thumbnails and embeddings on a Ray cluster, for one index run (runs in the bridge process).

    Args:
        address: the cluster.
        path_map: where the workers see this computer's folders.
        workers: actors to start; 0 starts one per GPU, or one per CPU core when the cluster has no GPU.
        local_cpus: CPUs Ray may use for `--ray local`.
        chunk: files per task; 0 picks 32 on CPUs and 256 on GPUs.
    """

    def __init__(
        self,
        address: ClusterAddress,
        path_map: PathMap | None = None,
        *,
        workers: int = 0,
        local_cpus: int = 1,
        chunk: int = 0,
    ) -> None:
        self.address = address
        self.path_map = path_map or PathMap()
        self.requested_workers = workers
        self.session = ClusterSession(address, local_cpus)
        self.chunk = chunk
        self.stats = ClusterStats()
        self._actors: list[_Actor] = []
        self._spawned = 0
        self._make_actor: Callable[[], _Actor] | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    def open(self, options: WorkerOptions, complete: frozenset[str]) -> int:
        """Join the cluster and start its actors (they load the model); returns how many were started."""
        self.session.connect()
        ray = self.session.ray
        resources = self.session.resources()
        gpus = int(resources["GPU"])
        count = gpus if gpus else int(resources["CPU"])
        if self.requested_workers > 0:
            count = min(self.requested_workers, count) if gpus else self.requested_workers
        if count < 1:
            self.close()
            raise ComputeClusterError(f"the compute cluster at {self.address.text} has no CPU or GPU to lend")
        self.chunk = self.chunk or (256 if gpus else 32)
        options = replace(options, spec=self._mapped(options.spec))
        complete_ref = ray.put(complete)
        # A GPU actor takes its share of the cores to decode for the GPU; a CPU actor is one core.
        cores = max(1, int(resources["CPU"] // gpus)) if gpus else 1
        options = replace(options, decode_threads=cores)
        actor_class = ray.remote(EmbedWorker).options(
            num_cpus=cores,
            num_gpus=1 if gpus else 0,
            # Deaths are handled here, chunk by chunk, so that a lost chunk is sent to a live actor at once.
            max_restarts=0,
            max_task_retries=0,
            scheduling_strategy="SPREAD",
        )
        device = "cuda" if gpus else "cpu"

        def make() -> _Actor:
            handle = actor_class.remote(_with_device(options, device), complete_ref)
            self._spawned += 1
            return _Actor(handle, handle.describe.remote())

        self._make_actor = make
        self._actors = [make() for _ in range(count)]
        self.stats.workers = count
        self.stats.nodes = self.session.nodes()
        self.stats.device = f"{gpus} GPU" if gpus else f"{count} CPU cores"
        return count

    def _mapped(self, spec: ModelSpec) -> ModelSpec:
        """The model's files where the workers see them (the same files give the same embeddings)."""
        pretrained = self.path_map.to_worker(spec.pretrained) if spec.pretrained_is_file else spec.pretrained
        config = self.path_map.to_worker(spec.config) if spec.config else None
        return ModelSpec(spec.name, pretrained, config)

    def close(self) -> None:
        """Leave the cluster (its actors end with this driver)."""
        self._actors = []
        self.session.close()

    # -- running ---------------------------------------------------------------------------------

    def run(self, files: Iterable[FileToProcess], is_cancelled: Callable[[], bool]) -> Iterator[list[JobResult]]:
        """Process `files` on the cluster; yields results chunk by chunk as they come back, in any order.

        Raises:
            Cancelled: `is_cancelled` said so (results not yet yielded are dropped, to be redone next run).
            ComputeClusterError: the cluster went away or no worker could start; everything yielded is final.
        """
        ray = self.session.ray
        pending: deque[FileToProcess] = deque(files)
        in_flight: dict[Any, tuple[_Actor, list[FileToProcess]]] = {}
        waiting = time.monotonic()
        self._await_actors(is_cancelled)
        self.stats.ready_s = time.monotonic() - waiting
        last_progress = time.monotonic()
        while pending or in_flight:
            if is_cancelled():
                raise Cancelled("indexing cancelled; finished photos are saved, run it again to continue")
            self._check_ready()
            for actor in self._actors:
                while actor.ready and actor.busy < IN_FLIGHT_PER_WORKER and pending:
                    chunk = [pending.popleft() for _ in range(min(self.chunk, len(pending)))]
                    jobs, unreadable = self._jobs(chunk)
                    if unreadable:
                        yield unreadable
                    if jobs:
                        in_flight[actor.handle.process.remote(jobs)] = (actor, chunk)
                        actor.busy += 1
            if not in_flight:
                if time.monotonic() - last_progress > STALLED_S or not self._actors:
                    raise self._lost("no worker of the cluster could start")
                if not self.session.is_alive():
                    raise self._lost("the cluster stopped answering")
                time.sleep(WAIT_S)
                continue
            done, _ = ray.wait(list(in_flight), num_returns=1, timeout=WAIT_S)
            if not done:
                if time.monotonic() - last_progress > 5.0 and not self.session.is_alive():
                    raise self._lost("the cluster stopped answering")
                if time.monotonic() - last_progress > STALLED_S:
                    raise self._lost("the cluster stopped making progress")
                continue
            for ref in done:
                actor, chunk = in_flight.pop(ref)
                actor.busy -= 1
                try:
                    results: list[JobResult] = ray.get(ref)
                except ray.exceptions.RayTaskError as exc:  # a bug on the worker, not a lost node
                    raise ComputeClusterError(f"a worker of the compute cluster failed: {exc}") from exc
                except ray.exceptions.RayError:
                    # The actor, its node or the object is gone: the chunk goes to another actor.
                    self._retire(actor, chunk, pending)
                    continue
                last_progress = time.monotonic()
                yield self._received(results, chunk, pending)

    def _jobs(self, chunk: list[FileToProcess]) -> tuple[list[Job], list[JobResult]]:
        """The jobs for a chunk, and the files this computer could not even read (results already)."""
        jobs, unreadable = [], []
        for item in chunk:
            if not self.stats.sent_as_bytes:
                path = self.path_map.to_worker(str(item.path))
                jobs.append(Job(item.key, path, item.size, item.mtime_ns))
                self.stats.bytes_sent += len(path.encode()) + 32
                continue
            snap = read_or_skip(item.path, read_snapshot)
            if isinstance(snap, SkippedFile):
                unreadable.append(JobResult(item.key, snap))
                continue
            jobs.append(Job(item.key, str(item.path), snap.size, snap.mtime_ns, snap.data))
            self.stats.bytes_sent += len(str(item.path).encode()) + 32 + len(snap.data)
        return jobs, unreadable

    def _received(
        self, results: list[JobResult], chunk: list[FileToProcess], pending: deque[FileToProcess]
    ) -> list[JobResult]:
        unseen = {r.key for r in results if r.unreachable}
        if unseen:
            # The workers do not see these files where the path map says: from now on send the bytes.
            self.stats.sent_as_bytes = True
            pending.extendleft(item for item in chunk if item.key in unseen)
        kept = [r for r in results if not r.unreachable]
        self.stats.files += len(kept)
        self.stats.bytes_received += sum(len(pickle.dumps(r, protocol=5)) for r in kept)
        return kept

    def _await_actors(self, is_cancelled: Callable[[], bool]) -> None:
        """Wait until every actor has loaded the model, or `READY_WAIT_S` after the first did, so that the
        work is spread over all of them from the start rather than taken by whichever loaded first."""
        first_ready: float | None = None
        started = time.monotonic()
        while self._actors and not all(a.ready for a in self._actors):
            if is_cancelled():
                raise Cancelled("indexing cancelled before the cluster's workers were ready; nothing was lost")
            self._check_ready()
            now = time.monotonic()
            if first_ready is None and any(a.ready for a in self._actors):
                first_ready = now
            if first_ready is not None and now - first_ready > READY_WAIT_S:
                return
            if now - started > STALLED_S:
                raise self._lost("no worker of the cluster could start")
            if not self.session.is_alive():
                raise self._lost("the cluster stopped answering")
            time.sleep(0.2)

    def _check_ready(self) -> None:
        ray = self.session.ray
        waiting = [a for a in self._actors if not a.ready]
        if not waiting:
            return
        done, _ = ray.wait([a.ready_ref for a in waiting], num_returns=len(waiting), timeout=0)
        for actor in waiting:
            if actor.ready_ref not in done:
                continue
            try:
                ray.get(actor.ready_ref)
                actor.ready = True
            except ray.exceptions.RayError as exc:
                if "creation task" in str(exc):  # its constructor raised (the model did not load): say why
                    raise ComputeClusterError(
                        f"a worker of the compute cluster could not start: {_cause(exc)}"
                    ) from exc
                self._retire(actor, [], None)

    def _retire(self, actor: _Actor, chunk: list[FileToProcess], pending: deque[FileToProcess] | None) -> None:
        if actor in self._actors:
            self._actors.remove(actor)
            self.stats.workers_lost += 1
        if pending is not None:
            pending.extendleft(reversed(chunk))
            self.stats.resent += len(chunk)
        if not self.session.is_alive():
            raise self._lost("the cluster stopped answering")
        if not self._actors and self._make_actor and self._spawned < SPAWN_ROUNDS * max(1, self.stats.workers):
            self._actors.append(self._make_actor())

    def _lost(self, what: str) -> ComputeClusterError:
        return ComputeClusterError(
            f"the compute cluster at {self.address.text} went away ({what}); every photo finished so far is "
            "saved. Run the index again to continue on this computer, or once the cluster is back, on it"
        )


def _with_device(options: WorkerOptions, device: str) -> WorkerOptions:
    return replace(options, device=device if options.device in ("auto", device) else options.device)


def _cause(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    useful = [line for line in text if "Error" in line]
    return (useful[-1] if useful else text[0] if text else type(exc).__name__)[:300]
