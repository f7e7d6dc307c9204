"""Cluster addresses and path maps: what a user types, checked and applied."""

from __future__ import annotations

import socket

import pytest

from engine.distributed.address import ClusterAddress, PathMap
from engine.distributed.errors import ComputeClusterError


@pytest.mark.parametrize("text", ["local", "auto", "10.0.0.5:6379", "ray://head.lan:10001", "[::1]:6379"])
def test_accepted_addresses(text: str) -> None:
    assert ClusterAddress.parse(text).text == text


@pytest.mark.parametrize("text", ["", "10.0.0.5", "head:port", "ray://:10001", "10.0.0.5:70000"])
def test_malformed_addresses_say_what_to_write(text: str) -> None:
    with pytest.raises(ComputeClusterError, match=r"host:port|no address"):
        ClusterAddress.parse(text)


def test_nothing_listening_fails_at_once_with_advice() -> None:
    with socket.socket() as probe:  # a free loopback port, closed again: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ComputeClusterError, match="no compute cluster answers") as caught:
        ClusterAddress.parse(f"127.0.0.1:{port}").check_reachable(timeout=1.0)
    assert "Traceback" not in str(caught.value)


def test_path_map_uses_the_longest_prefix_and_leaves_other_paths() -> None:
    paths = PathMap.parse("/Volumes/photos=/mnt/photos; /Volumes/photos/2020=/archive/2020")
    assert paths.to_worker("/Volumes/photos/a/b.jpg") == "/mnt/photos/a/b.jpg"
    assert paths.to_worker("/Volumes/photos/2020/x.jpg") == "/archive/2020/x.jpg"
    assert paths.to_worker("/Volumes/photosets/x.jpg") == "/Volumes/photosets/x.jpg"  # not under the folder
    assert paths.to_worker("/Volumes/photos") == "/mnt/photos"
    assert PathMap.parse("").to_worker("/a/b.jpg") == "/a/b.jpg"


def test_a_path_map_entry_without_two_sides_is_refused() -> None:
    with pytest.raises(ComputeClusterError, match="/Volumes/photos=/mnt/photos"):
        PathMap.parse("/Volumes/photos")
