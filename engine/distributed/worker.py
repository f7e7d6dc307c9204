"""What runs on the cluster: an actor that loads the model once, then reads, decodes, thumbnails and embeds
the photos it is sent, and returns everything the desktop's catalog needs (never the pixels).

The actor is a plain class here; `engine.distributed.session` makes it a Ray actor, so this module imports no
Ray and can be tested in one process.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from engine.media.decode import DecodedPhoto, DecodeOptions, DecodeResult, decode_file
from engine.settings import ModelSpec


@dataclass(frozen=True)
class Job:
    """One file to process. `path` is the path the worker reads (mapped), or, with `data`, only its name."""

    key: int  # the desktop's index of the work item
    path: str
    size: int
    mtime_ns: int
    data: bytes | None = None


@dataclass(frozen=True)
class JobResult:
    """What became of one job. `result` carries no pixels; `thumbnail` is the JPEG the desktop stores."""

    key: int
    result: DecodeResult | None  # None when the worker could not see the file (`unreachable`)
    thumbnail: bytes | None = None
    vector: np.ndarray | None = None  # the unit embedding of a decoded photo (a video's frames averaged)

    @property
    def unreachable(self) -> bool:
        return self.result is None


@dataclass(frozen=True)
class WorkerOptions:
    """How the workers decode and embed: the same settings a local run uses."""

    spec: ModelSpec
    thumbnail_size: int
    max_pixels: int
    batch_size: int = 0  # images per model call; 0 picks one for the worker's device
    device: str = "auto"
    offline: bool = True
    # Threads decoding in the actor: 1 for a CPU actor (one per core); a GPU actor gets its node's cores per GPU,
    # since one core decodes about 22 camera JPEGs/s and the GPU embeds over 1,000.
    decode_threads: int = 1


def unit_vectors(embed: Any, results: Sequence[DecodedPhoto], batch_size: int) -> list[np.ndarray]:
    """One unit vector per photo; a video's sampled frames are averaged and re-normalised, as the indexer does."""
    inputs: list[Any] = []
    spans: list[tuple[int, int]] = []
    for result in results:
        frames = result.model_input if isinstance(result.model_input, list) else [result.model_input]
        spans.append((len(inputs), len(inputs) + len(frames)))
        inputs.extend(frames)
    if not inputs:
        return []
    step = max(1, batch_size)
    embedded = np.concatenate([embed(inputs[i : i + step]) for i in range(0, len(inputs), step)])
    vectors = []
    for start, end in spans:
        mean = embedded[start:end].mean(axis=0)
        vectors.append((mean / max(float(np.linalg.norm(mean)), 1e-12)).astype(np.float32))
    return vectors


class EmbedWorker:
    """Loads the model once (on a GPU in fp16 when the actor has one, else on one CPU core) and processes jobs."""

    def __init__(self, options: WorkerOptions, complete: frozenset[str] = frozenset()) -> None:
        from engine.embed.embedder import load_embedder
        from engine.embed.preprocess import numpy_tail
        from engine.paths import model_cache_dir

        self.options = options
        self.complete = complete
        device = options.device
        if device == "auto":
            device = "cuda" if _has_gpu() else "cpu"
        if device == "cpu":
            import torch

            # One actor per core: its own decoding and model share that core.
            torch.set_num_threads(1)
        self.embedder = load_embedder(options.spec, device, options.offline, model_cache_dir())
        self.batch_size = options.batch_size or self.embedder.default_batch_size()
        self.decode = DecodeOptions(
            thumbnail_size=options.thumbnail_size,
            model_input_size=self.embedder.image_size,
            preprocess=numpy_tail(self.embedder.preprocess),
            max_pixels=options.max_pixels,
        )

    def describe(self) -> dict[str, Any]:
        """Where this actor runs and on what, for the progress line and the benchmark."""
        import socket

        return {"host": socket.gethostname(), "pid": os.getpid(), "device": self.embedder.device}

    def process(self, jobs: Sequence[Job]) -> list[JobResult]:
        """Read, decode, thumbnail and embed `jobs`; a bad file becomes a skipped result, never an error."""
        with tempfile.TemporaryDirectory(prefix="photoatlas-job-") as scratch:
            if self.options.decode_threads > 1:
                with ThreadPoolExecutor(self.options.decode_threads, thread_name_prefix="photoatlas-decode") as pool:
                    decoded = list(pool.map(lambda job: self._decode_job(job, Path(scratch)), jobs))
            else:
                decoded = [self._decode_job(job, Path(scratch)) for job in jobs]
        photos = [r for _, r, _ in decoded if isinstance(r, DecodedPhoto)]
        vectors = iter(unit_vectors(self.embedder.embed_images, photos, self.batch_size))
        out = []
        for job, result, thumbnail in decoded:
            if result is None:
                out.append(JobResult(job.key, None))
                continue
            vector = next(vectors) if isinstance(result, DecodedPhoto) else None
            if isinstance(result, DecodedPhoto):
                result = dataclasses.replace(result, model_input=None)  # pixels stay on the worker
            out.append(JobResult(job.key, result, thumbnail, vector))
        return out

    def _decode_job(self, job: Job, scratch: Path) -> tuple[Job, DecodeResult | None, bytes | None]:
        if job.data is None and not os.path.exists(job.path):
            return job, None, None  # not seen here: the desktop sends the bytes instead
        return self._decode(job, scratch)

    def _decode(self, job: Job, scratch: Path) -> tuple[Job, DecodeResult, bytes | None]:
        thumbnails: list[bytes] = []

        def keep_thumbnail(hash_: str, jpeg: bytes) -> str:
            thumbnails.append(jpeg)
            return hash_  # the desktop stores it and puts its own relpath in the catalog

        path = Path(job.path)
        if job.data is not None:
            # The bytes the desktop read: decoded from a private copy carrying the original's name and time, so
            # the format, the hash and a date taken from the file time are what a local run finds.
            path = scratch / f"{job.key}{Path(job.path).suffix}"
            path.write_bytes(job.data)
            os.utime(path, ns=(job.mtime_ns, job.mtime_ns))
        result = decode_file(path, self.decode, keep_thumbnail, self.complete)
        if job.data is not None:
            result = dataclasses.replace(result, path=Path(job.path), size=job.size, mtime_ns=job.mtime_ns)
        return job, result, thumbnails[0] if thumbnails else None


def _has_gpu() -> bool:
    try:
        import torch

        return bool(torch.cuda.is_available())
    except ImportError:
        return False
