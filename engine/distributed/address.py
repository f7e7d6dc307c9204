"""What a user types to name a compute cluster and to say where workers see the photos."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import PurePosixPath

from engine.distributed.errors import ComputeClusterError
from engine.settings import cluster_address_problem, path_map_pairs

LOCAL = "local"
CONNECT_TIMEOUT_S = 3.0


@dataclass(frozen=True)
class ClusterAddress:
    """A cluster as `ray.init` takes it: "local" (Ray on this computer only), "auto", "host:port" of a
    running cluster's head, or "ray://host:10001" (Ray Client)."""

    text: str

    @classmethod
    def parse(cls, text: str) -> ClusterAddress:
        """The address, checked for form only; raises `ComputeClusterError` with an example when malformed."""
        problem = cluster_address_problem(text) if text.strip() not in ("", "off") else "no address given"
        if problem is not None:
            raise ComputeClusterError(problem)
        return cls(text.strip())

    @property
    def is_local(self) -> bool:
        return self.text == LOCAL

    @property
    def host_port(self) -> tuple[str, int] | None:
        """The head's host and port, when the address names one."""
        if self.text in (LOCAL, "auto"):
            return None
        host, _, port = self.text.removeprefix("ray://").rpartition(":")
        return host.strip("[]"), int(port)

    def check_reachable(self, timeout: float = CONNECT_TIMEOUT_S) -> None:
        """Fail fast when nothing listens at host:port: `ray.init` would wait a minute or more."""
        target = self.host_port
        if target is None:
            return
        try:
            with socket.create_connection(target, timeout=timeout):
                pass
        except OSError as exc:
            raise ComputeClusterError(
                f"no compute cluster answers at {self.text} ({exc.strerror or exc}); check that the cluster is "
                "started and the address is right, or work on this computer without a cluster"
            ) from exc


@dataclass(frozen=True)
class PathMap:
    """Where the cluster's workers see this computer's photo folders, e.g. `/Volumes/photos=/mnt/photos`.

    Several pairs are separated by ";". A path under no pair is sent as it is (the same path on the workers,
    as with `--ray local` or a shared mount at the same place).
    """

    pairs: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(cls, text: str) -> PathMap:
        try:
            pairs = path_map_pairs(text)
        except ValueError as exc:
            raise ComputeClusterError(
                f"{exc.args[0]!r} is not a path map entry; write this computer's folder, '=', and the workers' "
                "folder, e.g. /Volumes/photos=/mnt/photos"
            ) from None
        # The longest prefix wins, so a nested folder can be mapped apart from its parent.
        pairs.sort(key=lambda pair: len(pair[0]), reverse=True)
        return cls(tuple(pairs))

    def to_worker(self, path: str) -> str:
        """The path a worker reads for this computer's `path`."""
        for here, there in self.pairs:
            if path == here or path.startswith(here.rstrip("/") + "/"):
                return str(PurePosixPath(there) / os.path.relpath(path, here)) if path != here else there
        return path

    def text(self) -> str:
        return ";".join(f"{here}={there}" for here, there in self.pairs)
