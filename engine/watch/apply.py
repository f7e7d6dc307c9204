"""Applying a watcher's batch to the library: the step that writes, run on the caller's catalog writer.

The watcher (`engine.watch.watcher`) only collects paths; this is where they are cataloged through the same
Indexer as `photoatlas index` (a moved file is recognised by content and keeps its identity and albums; a
deleted one leaves its albums but its placement is kept for when it comes back; an edited one is embedded
again and re-assigned unless the user placed it), then new photos join their best album at once.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from engine.index.indexer import IndexSummary
from engine.progress import ProgressReporter

if TYPE_CHECKING:
    from engine.albums.new_photos import AssignSummary
    from engine.watch.watcher import ChangeBatch


class BatchTarget(Protocol):
    """What a batch is applied to: the library's index and assignment verbs (`engine.Library` has them)."""

    def index_changes(
        self,
        changed: Iterable[Path],
        rescan: Sequence[Path] = (),
        *,
        assign: bool = True,
        embed: bool = True,
        progress: ProgressReporter | None = None,
    ) -> IndexSummary: ...

    def assign_new_photos(self) -> AssignSummary | None: ...


_TITLES = {"changes": "changes", "startup": "startup check", "root-back": "folder back"}


@dataclass(frozen=True)
class WatchReport:
    """What applying one batch did."""

    batch: ChangeBatch
    summary: IndexSummary
    assignment: AssignSummary | None
    finished_at: float  # time.time()

    @property
    def suggest_recluster(self) -> bool:
        return self.assignment is not None and self.assignment.suggest_recluster

    @property
    def changed(self) -> bool:
        """Whether the catalog changed (the window refreshes its views only then)."""
        s = self.summary
        return bool(s.added or s.updated or s.moved or s.removed or s.embedded)

    def lines(self) -> list[str]:
        """The report for people: one line of counts, then album and warning lines when there are any."""
        s, batch = self.summary, self.batch
        skipped = sum(s.skipped.values())
        events = f"{batch.events} event{'s' * (batch.events != 1)}, " if batch.events else ""
        head = (
            f"{_TITLES.get(batch.reason, batch.reason)} ({events}{len(batch.paths)} path(s)"
            f"{f', {len(batch.rescan_roots)} folder(s) rescanned' if batch.rescan_roots else ''}): "
            f"added {s.added}, edited {s.updated}, moved {s.moved}, deleted {s.removed}"
            f"{f', skipped {skipped}' if skipped else ''}; embedded {s.embedded} in {s.seconds:.1f} s"
        )
        out = [head]
        if self.assignment is not None:
            out.extend(self.assignment.lines())
        out.extend(f"not available (unmounted or missing), its photos kept: {r}" for r in s.unavailable_roots)
        return out


def apply_batch(
    library: BatchTarget, batch: ChangeBatch, progress: ProgressReporter | None = None, *, embed: bool = True
) -> WatchReport:
    """Catalog, thumbnail and embed what a batch names, then assign new and edited photos to albums.

    Run it on the thread that owns the library's catalog writes. Raises `Cancelled` (after committing the
    finished photos) when `progress` asks to stop; what is left is found by the next start's rescan.
    With `embed` False (no model yet) photos are cataloged and thumbnailed only; a later index embeds them.
    """
    summary = library.index_changes(batch.paths, batch.rescan_roots, assign=False, embed=embed, progress=progress)
    changed = summary.added or summary.updated or summary.embedded
    assignment = library.assign_new_photos() if embed and changed else None
    return WatchReport(batch, summary, assignment, time.time())
