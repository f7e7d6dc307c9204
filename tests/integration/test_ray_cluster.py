"""A real two-node Ray cluster on loopback only: index and re-cluster a toy library through it, kill the worker
node mid-run, stop the cluster mid-run and finish on this computer.

The cluster runs in a network namespace this test makes (only `lo`, up), inside a PID namespace too, so every
Ray process dies with it even when the test fails; `cluster_scenario.py` does the work there.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.library import Library
from engine.paths import display
from tests.conftest import SHARED

TOYCLIP = SHARED / "models" / "toyclip"
MAKE_LIBRARY = SHARED / "toyworld" / "make_library.py"
# Not named after Ray: `ray stop` kills every process whose command line looks like Ray's.
SCENARIO = Path(__file__).with_name("cluster_scenario.py")


def _can_unshare() -> bool:
    if not shutil.which("unshare") or not shutil.which("ip"):
        return False
    probe = subprocess.run(["unshare", "--net", "--pid", "--fork", "true"], capture_output=True)
    return probe.returncode == 0


pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (TOYCLIP / "toyclip.safetensors").exists(), reason="../shared is absent"),
    pytest.mark.skipif(not _can_unshare(), reason="needs root for unshare --net (and iproute2, util-linux)"),
]
ray = pytest.importorskip("ray")


def _photos(folder: Path, per_concept: int, seed: int) -> dict[str, str]:
    out = subprocess.run(
        [sys.executable, str(MAKE_LIBRARY), str(folder), "--per-concept", str(per_concept), "--seed", str(seed)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {str((folder / rel).resolve()): concept for rel, concept in json.loads(out).items()}


def _library(path: Path) -> Library:
    library = Library(path)
    library.set_model("toyclip", str(TOYCLIP / "toyclip.safetensors"), str(TOYCLIP / "toyclip.json"))
    library.update_settings(library.settings.replace(batch_size=4))  # small chunks: many commits per run
    return library


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, dict[str, str], dict[str, str]]:
    work = tmp_path_factory.mktemp("ray")
    # 72 photos whose albums are stable: the same fit on features with 3e-4 noise, float16-rounded or computed
    # on one thread gives the same partition (a smaller set had two close groups that such noise swapped).
    small = _photos(work / "photos", 12, 3)
    big = _photos(work / "photos-big", 10, 6)
    for name in ("lib-local", "lib-ray", "lib-kill", "lib-stop"):
        _library(work / name).close()
    with Library(work / "lib-local") as local:
        local.index([work / "photos"])
        local.recluster(names_later=True)
    out = work / "report.json"
    command = ["unshare", "--net", "--pid", "--fork", "--kill-child", "--mount-proc"]
    # No token: the cluster is reachable from this namespace only (and ~/.ray is left alone).
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "disabled"}
    env["PYTHONPATH"] = str(Path(__file__).parents[2])
    done = subprocess.run(
        [*command, sys.executable, str(SCENARIO), str(work), str(out)],
        capture_output=True,
        text=True,
        timeout=420,
        env=env,
    )
    assert out.exists(), done.stderr[-3000:]
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(out.read_text())
    assert "crash" not in report, report["crash"]
    return work, report, small, big


def _rows(library: Library) -> dict[str, tuple[str, np.ndarray]]:
    ids, vectors = library.embeddings()
    by_id = dict(zip(ids, vectors, strict=True))
    return {display(r.path): (r.hash, by_id[r.id]) for r in library.photos()}


def test_the_cluster_is_reachable_only_on_loopback(scenario) -> None:
    _, report, _, _ = scenario
    interfaces = [line.split(":")[0].strip() for line in report["interfaces"] if line.strip()]
    assert interfaces == ["lo"]


def test_embeddings_from_the_cluster_equal_the_local_ones(scenario) -> None:
    work, report, small, _ = scenario
    assert report["plain"]["embedded"] == len(small), report["plain"]
    assert any("2 workers on 2 nodes" in line for line in report["plain"]["lines"]), report["plain"]["lines"]
    with Library(work / "lib-local") as local, Library(work / "lib-ray") as remote:
        here, there = _rows(local), _rows(remote)
        assert set(here) == set(there) == set(small)
        for path, (hash_, vector) in here.items():
            assert there[path][0] == hash_
            assert float(vector @ there[path][1]) >= 0.999, path
        # Thumbnails were made on the workers and stored here.
        assert all(remote.thumbnail_file(hash_) is not None for hash_, _ in there.values())


# Measured 1.0 here with the default training, and 0.93 (2 or 3 of 72 photos in another album) with a shorter
# warm-up tried on the way; a wrong vector or a mixed-up photo brings it near 0.
AGREEMENT = 0.85


def _album_of(library: Library) -> dict[str, int]:
    paths = {r.id: display(r.path) for r in library.photos()}
    return {paths[p]: i for i, album in enumerate(library.albums.albums()) for p in album.members}


def _agreement(one: Library, other: Library) -> float:
    """How alike two libraries' albums are (adjusted Rand index over the photos, 1.0: the same albums).

    Not equality: embeddings equal to cosine 0.999 (float16 on the way to a remote fit) may move a photo or
    two between albums, as any retraining on nearly equal features may (bench/RESULTS-ray.md)."""
    from sklearn.metrics import adjusted_rand_score

    a, b = _album_of(one), _album_of(other)
    assert set(a) == set(b)
    paths = sorted(a)
    return float(adjusted_rand_score([a[p] for p in paths], [b[p] for p in paths]))


def test_albums_from_the_clusters_embeddings_match_the_local_ones(scenario, tmp_path: Path) -> None:
    work, _, _, _ = scenario
    shutil.copytree(work / "lib-ray", tmp_path / "copy")
    with Library(work / "lib-local") as local, Library(tmp_path / "copy") as copy:
        copy.recluster(names_later=True)  # fitted here, on the embeddings the cluster made
        assert _agreement(local, copy) >= AGREEMENT


def test_albums_fitted_on_the_cluster_match_the_local_ones(scenario) -> None:
    work, report, _, _ = scenario
    assert report["recluster"]["device"] == "cpu" and report["recluster"]["bytes_sent"] > 0
    sent = report["recluster"]["bytes_sent"]
    assert 0 < sent <= 72 * 64 * 2 and sent % (64 * 2) == 0  # the features (64-D), once, as float16
    with Library(work / "lib-local") as local, Library(work / "lib-ray") as remote:
        assert _agreement(local, remote) >= AGREEMENT


def _complete_once(library: Library, truth: dict[str, str]) -> None:
    rows = library.photos()
    paths = [display(r.path) for r in rows]
    assert sorted(paths) == sorted(truth)  # every photo once: none lost, none doubled
    ids, _ = library.embeddings()
    assert sorted(ids) == sorted(r.id for r in rows)


def test_killing_the_worker_node_mid_run_loses_nothing_and_doubles_nothing(scenario) -> None:
    work, report, _, big = scenario
    kill = report["kill"]
    assert "error" not in kill, kill
    assert report["killed"] >= 2 and kill["fired_after"] < len(big)  # the raylet and its actor, mid-run
    assert kill["embedded"] == len(big)
    assert any("workers were lost" in line for line in kill["lines"]), kill["lines"]
    with Library(work / "lib-kill") as library:
        _complete_once(library, big)


def test_stopping_the_cluster_mid_run_leaves_a_catalog_the_next_local_run_completes(scenario) -> None:
    work, report, _, big = scenario
    stop = report["stop"]
    assert stop.get("type") == "ComputeClusterError", stop
    assert "went away" in stop["error"] and "saved" in stop["error"]
    assert stop["fired_after"] < len(big)
    after = report["after_stop_local"]
    assert "error" not in after, after
    assert 0 < after["embedded"] < len(big)  # what the cluster committed was kept, the rest done here
    with Library(work / "lib-stop") as library:
        _complete_once(library, big)
