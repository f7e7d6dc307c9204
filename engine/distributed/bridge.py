"""The Ray driver in a process of its own, between the desktop and the cluster.

Ray's driver ends its process when the cluster under it vanishes (its raylet killed, `ray stop`), so the driver
never runs in the desktop's process: a child process joins the cluster and streams results back through a
pipe. The desktop's catalog, window and CLI survive whatever happens to the cluster; when the child goes,
the run ends with a `ComputeClusterError` and everything committed so far stays.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import time
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.connection import Connection
from typing import Any

from engine.distributed.dispatch import ClusterDispatch, ClusterStats, FileToProcess
from engine.distributed.errors import ComputeClusterError
from engine.distributed.worker import JobResult, WorkerOptions
from engine.errors import Cancelled, PhotoAtlasError

POLL_S = 0.25
CLOSE_WAIT_S = 20.0


def _child(conn: Connection, dispatch: ClusterDispatch) -> None:
    """The bridge process: open, run the files it is sent, report everything back as plain messages."""
    cancelled = False

    def is_cancelled() -> bool:
        nonlocal cancelled
        while conn.poll():
            if conn.recv()[0] == "cancel":
                cancelled = True
        return cancelled

    try:
        _, options, complete = conn.recv()
        workers = dispatch.open(options, complete)
        conn.send(("opened", workers, dispatch.stats))
        _, files = conn.recv()
        for results in dispatch.run(files, is_cancelled):
            conn.send(("results", results, dispatch.stats))
        conn.send(("done", dispatch.stats))
    except Cancelled as exc:
        conn.send(("cancelled", str(exc), dispatch.stats))
    except PhotoAtlasError as exc:
        conn.send(("error", str(exc), dispatch.stats))
    except BaseException as exc:  # any other failure is reported, never a silent exit
        with contextlib.suppress(Exception):
            conn.send(("error", f"the compute cluster failed: {type(exc).__name__}: {exc}", dispatch.stats))
    finally:
        dispatch.close()


class RemoteIndexing:
    """Decoding, thumbnails and embeddings on a Ray cluster for one index run, driven from a child process
    (Ray ends its driver's process when the cluster dies under it). The child runs `dispatch`."""

    def __init__(self, dispatch: ClusterDispatch) -> None:
        self.address = dispatch.address
        self._dispatch = dispatch
        self.stats = ClusterStats()
        self._conn: Connection | None = None
        self._process: Any = None

    def open(self, options: WorkerOptions, complete: frozenset[str]) -> int:
        """Start the bridge, join the cluster and start its actors; returns how many were started."""
        address = self.address
        address.check_reachable()  # a wrong address is told at once, before a process is started
        context = multiprocessing.get_context("spawn")  # no fork of a process holding threads and a catalog
        self._conn, theirs = context.Pipe()
        self._process = context.Process(
            target=_child, args=(theirs, self._dispatch), name="photoatlas-cluster", daemon=True
        )
        self._process.start()
        theirs.close()
        self._conn.send(("open", options, complete))
        message = self._receive(lambda: False)
        if message[0] != "opened":
            raise ComputeClusterError(message[1])
        return int(message[1])

    def run(self, files: Iterable[FileToProcess], is_cancelled: Callable[[], bool]) -> Iterator[list[JobResult]]:
        """Process `files` on the cluster; yields results chunk by chunk as they come back, in any order.

        Raises:
            Cancelled: `is_cancelled` said so (results not yet yielded are dropped, to be redone next run).
            ComputeClusterError: the cluster went away or no worker could start; everything yielded is final.
        """
        assert self._conn is not None
        self._conn.send(("run", list(files)))
        while True:
            message = self._receive(is_cancelled)
            if message[0] == "results":
                yield message[1]
            elif message[0] == "done":
                return
            elif message[0] == "cancelled":
                raise Cancelled(message[1])
            else:
                raise ComputeClusterError(message[1])

    def _receive(self, is_cancelled: Callable[[], bool]) -> tuple[Any, ...]:
        assert self._conn is not None
        asked = False
        while True:
            if is_cancelled() and not asked:
                asked = True
                with contextlib.suppress(OSError):
                    self._conn.send(("cancel",))
            try:
                if self._conn.poll(POLL_S):
                    message = self._conn.recv()
                    self.stats = message[-1]
                    return message
            except (EOFError, OSError):
                pass
            else:
                if self._process.is_alive():
                    continue
            # The bridge ended without a word: Ray ended it when the cluster vanished under it.
            raise ComputeClusterError(
                f"the compute cluster at {self.address.text} went away; every photo finished so far is saved. "
                "Index again to continue on this computer without the cluster, or on the cluster once it is back"
            )

    def close(self) -> None:
        """Leave the cluster and end the bridge (killed if it does not end by itself)."""
        if self._process is None:
            return
        if self._conn is not None:
            with contextlib.suppress(OSError):
                self._conn.send(("cancel",))
            self._conn.close()
        deadline = time.monotonic() + CLOSE_WAIT_S
        while self._process.is_alive() and time.monotonic() < deadline:
            self._process.join(0.2)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(5)
        self._process = None
