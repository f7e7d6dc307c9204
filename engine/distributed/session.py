"""Connecting to a Ray cluster, and leaving it: the only module that calls `ray.init` and `ray.shutdown`."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from typing import Any

from engine.distributed.address import ClusterAddress
from engine.distributed.errors import ComputeClusterError

# Ray on this computer only (`--ray local`): small object store, no dashboard, no usage reports.
LOCAL_OBJECT_STORE_BYTES = 256 * 1024 * 1024
INSTALL_ADVICE = "install PhotoAtlas's cluster support first (pip install 'photoatlas[ray]')"


def import_ray() -> Any:
    """Ray, imported on first use only; raises `ComputeClusterError` saying how to install it."""
    try:
        import ray
    except ImportError as exc:
        raise ComputeClusterError(f"Ray is not installed: {INSTALL_ADVICE}") from exc
    return ray


class ClusterSession:
    """A connection to a cluster for one run; a context manager that always disconnects.

    Args:
        address: where the cluster is.
        local_cpus: CPUs Ray may use when `address` is "local".
    """

    def __init__(self, address: ClusterAddress, local_cpus: int = 1) -> None:
        self.address = address
        self.local_cpus = max(1, local_cpus)
        self.ray: Any = None

    def __enter__(self) -> ClusterSession:
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def connect(self) -> None:
        ray = import_ray()
        self.address.check_reachable()
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        # Ray's own chatter (worker logs, autoscaler lines) stays out of the CLI's output and the window's.
        kwargs: dict[str, Any] = {"logging_level": logging.ERROR, "log_to_driver": False}
        try:
            if self.address.is_local:
                ray.init(
                    num_cpus=self.local_cpus,
                    object_store_memory=LOCAL_OBJECT_STORE_BYTES,
                    include_dashboard=False,
                    **kwargs,
                )
            else:
                ray.init(address=self.address.text, **kwargs)
        except (ConnectionError, RuntimeError, ValueError, TimeoutError) as exc:
            with contextlib.suppress(Exception):
                ray.shutdown()
            raise ComputeClusterError(
                f"could not join the compute cluster at {self.address.text}: {_first_line(exc)}; check that the "
                "cluster is started and the address is right, or work on this computer without a cluster"
            ) from exc
        self.ray = ray

    def close(self) -> None:
        if self.ray is not None:
            with contextlib.suppress(Exception):
                self.ray.shutdown()
            self.ray = None

    def resources(self) -> dict[str, float]:
        """The cluster's CPUs and GPUs now (alive nodes only)."""
        assert self.ray is not None
        total = self.ray.cluster_resources()
        return {"CPU": float(total.get("CPU", 0.0)), "GPU": float(total.get("GPU", 0.0))}

    def nodes(self) -> int:
        assert self.ray is not None
        return sum(1 for node in self.ray.nodes() if node.get("Alive"))

    def is_alive(self) -> bool:
        """Whether the cluster's head still answers (checked without Ray, which would wait a minute)."""
        if self.address.is_local:
            return True
        gcs = _gcs_address(self.ray)
        if gcs is None and self.address.host_port is not None:
            gcs = "{}:{}".format(*self.address.host_port)
        if not gcs:
            return True
        try:
            ClusterAddress(gcs).check_reachable(timeout=2.0)
        except ComputeClusterError:
            return False
        return True


def _gcs_address(ray: Any) -> str | None:
    with contextlib.suppress(Exception):
        return str(ray.get_runtime_context().gcs_address)
    return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


@contextlib.contextmanager
def connected(address: ClusterAddress, local_cpus: int = 1) -> Iterator[ClusterSession]:
    """A `ClusterSession` connected for the `with` block."""
    session = ClusterSession(address, local_cpus)
    session.connect()
    try:
        yield session
    finally:
        session.close()
