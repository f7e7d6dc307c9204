"""The cluster's actor, run in this process (no Ray): reading by path or from bytes gives the same result as the
local indexer, thumbnails and embeddings included; an unseen path is reported, not guessed."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.distributed.worker import EmbedWorker, Job, WorkerOptions, unit_vectors
from engine.media.decode import DecodedPhoto, SkippedFile
from engine.settings import ModelSpec
from tests.conftest import SHARED

TOYCLIP = SHARED / "models" / "toyclip"
pytestmark = pytest.mark.skipif(not (TOYCLIP / "toyclip.safetensors").exists(), reason="../shared is absent")


@pytest.fixture(scope="module")
def worker() -> EmbedWorker:
    spec = ModelSpec("toyclip", str(TOYCLIP / "toyclip.safetensors"), str(TOYCLIP / "toyclip.json"))
    return EmbedWorker(WorkerOptions(spec, thumbnail_size=64, max_pixels=10_000_000, device="cpu"))


def _photo(path: Path, colour: str) -> Path:
    Image.new("RGB", (96, 64), colour).save(path, "JPEG")
    os.utime(path, ns=(1_600_000_000 * 10**9, 1_600_000_000 * 10**9))
    return path


def test_by_path_and_by_bytes_give_the_same_photo(worker: EmbedWorker, tmp_path: Path) -> None:
    photo = _photo(tmp_path / "red.jpg", "red")
    st = photo.stat()
    by_path, by_bytes = worker.process(
        [
            Job(0, str(photo), st.st_size, st.st_mtime_ns),
            Job(1, str(photo), st.st_size, st.st_mtime_ns, photo.read_bytes()),
        ]
    )
    for got in (by_path, by_bytes):
        assert isinstance(got.result, DecodedPhoto) and got.result.model_input is None  # no pixels travel back
        assert got.result.path == photo and got.result.mtime_ns == st.st_mtime_ns
        assert got.thumbnail is not None and got.thumbnail[:2] == b"\xff\xd8"
    assert by_path.result.hash == by_bytes.result.hash and by_path.result.meta == by_bytes.result.meta
    assert float(by_path.vector @ by_bytes.vector) > 0.9999
    assert abs(float(np.linalg.norm(by_path.vector)) - 1) < 1e-5


def test_the_embedding_is_the_local_models(worker: EmbedWorker, tmp_path: Path) -> None:
    from engine.embed.embedder import load_embedder
    from engine.embed.preprocess import numpy_tail

    photo = _photo(tmp_path / "blue.jpg", "blue")
    st = photo.stat()
    (got,) = worker.process([Job(0, str(photo), st.st_size, st.st_mtime_ns)])
    local = load_embedder(worker.options.spec, "cpu")
    with Image.open(photo) as image:
        expected = local.embed_images([numpy_tail(local.preprocess)(image.convert("RGB"))])[0]
    assert float(got.vector @ expected) >= 0.999


def test_a_path_the_worker_cannot_see_is_reported_and_a_bad_file_is_skipped(
    worker: EmbedWorker, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8not a jpeg at all")
    unseen, bad = worker.process([Job(0, "/nowhere/x.jpg", 10, 1), Job(1, str(broken), 18, broken.stat().st_mtime_ns)])
    assert unseen.unreachable and unseen.vector is None
    assert isinstance(bad.result, SkippedFile) and bad.vector is None


def test_a_videos_frames_are_averaged_and_renormalised() -> None:
    class Photo:
        def __init__(self, model_input: object) -> None:
            self.model_input = model_input

    def embed(batch: list[np.ndarray]) -> np.ndarray:
        return np.stack(batch)

    still, clip = Photo(np.array([1.0, 0.0])), Photo([np.array([1.0, 0.0]), np.array([0.0, 1.0])])
    vectors = unit_vectors(embed, [still, clip], batch_size=1)  # type: ignore[list-item]
    assert np.allclose(vectors[0], [1, 0]) and np.allclose(vectors[1], [2**-0.5, 2**-0.5])


def test_decoding_threads_give_the_same_results_in_the_same_order(worker: EmbedWorker, tmp_path: Path) -> None:
    import dataclasses

    photos = [_photo(tmp_path / f"{colour}.jpg", colour) for colour in ("red", "green", "blue", "white")]
    jobs = [Job(i, str(p), p.stat().st_size, p.stat().st_mtime_ns) for i, p in enumerate(photos)]
    one = worker.process(jobs)
    threaded = EmbedWorker.__new__(EmbedWorker)
    threaded.__dict__ |= worker.__dict__ | {"options": dataclasses.replace(worker.options, decode_threads=3)}
    many = threaded.process(jobs)
    assert [r.key for r in many] == [0, 1, 2, 3]
    for a, b in zip(one, many, strict=True):
        assert a.result.hash == b.result.hash and float(a.vector @ b.vector) > 0.9999
