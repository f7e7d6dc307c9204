"""The model on a thread of its own, between the decoding workers and the catalog writer.

While the model embeds one batch, the indexer's thread goes on collecting decoded photos for the next one and
commits the batch before, so neither the decoding nor the catalog keeps the model waiting. One batch is at the
model at a time; batches are committed in the order they were made, each photo with its embedding, on the
indexer's thread (the only one that touches the catalog).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Generic, TypeVar

import numpy as np

Item = TypeVar("Item")


class ModelPipeline(Generic[Item]):
    """Hands batches to the model's thread and commits them when their embeddings are back.

    Args:
        embed: one unit vector per item of a batch (runs on the model's thread).
        commit: writes items with their vectors and items without any, in one transaction (the caller's thread).
        stages: where the seconds spent waiting for the model are added ("waiting for the model").
        threaded: False when nothing is embedded (no model thread is started).
    """

    def __init__(
        self,
        embed: Callable[[list[Item]], Sequence[np.ndarray]],
        commit: Callable[[list[Item], list[Item], Sequence[np.ndarray]], None],
        stages: Counter[str],
        *,
        threaded: bool = True,
    ) -> None:
        self.embed = embed
        self.commit = commit
        self.stages = stages
        self.model = ThreadPoolExecutor(max_workers=1, thread_name_prefix="photoatlas-model") if threaded else None
        self.pending: tuple[list[Item], Future[Sequence[np.ndarray]]] | None = None

    def submit(self, to_embed: list[Item], to_write: list[Item]) -> None:
        """Commit `to_write` now and hand `to_embed` to the model once the batch it has is committed."""
        if to_write:
            self.commit([], to_write, [])
        if not to_embed:
            return
        self.finish()
        if self.model is None:
            raise RuntimeError("photos to embed, but the pipeline was made without a model")
        self.pending = (to_embed, self.model.submit(self.embed, to_embed))

    def commit_finished(self) -> None:
        """Commit the batch at the model if its embeddings are back (never waits)."""
        if self.pending is not None and self.pending[1].done():
            self.finish()

    def finish(self) -> None:
        """Wait for the batch at the model and commit it; raises what the model raised."""
        if self.pending is None:
            return
        to_embed, future = self.pending
        self.pending = None
        waited = time.perf_counter()
        vectors = future.result()
        self.stages["waiting for the model"] += time.perf_counter() - waited
        self.commit(to_embed, [], vectors)

    def close(self) -> None:
        """Stop the model's thread after its current batch (not committed when the run ends in an error)."""
        if self.model is not None:
            self.model.shutdown(wait=True, cancel_futures=True)
