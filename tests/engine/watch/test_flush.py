"""Batches during a long copy: the watcher delivers the files that have settled every few seconds while files
keep arriving, and never a file that is still growing. Driven by a fake clock, without the watcher's thread."""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace

import pytest

import engine.watch.watcher
from engine.watch.watcher import ChangeBatch, LibraryWatcher


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(engine.watch.watcher, "time", SimpleNamespace(monotonic=fake.monotonic, time=time.time))
    return fake


def camera_import(
    root: Path, clock: Clock, watcher: LibraryWatcher, files: int = 13, every: float = 0.5
) -> tuple[list[tuple[float, ChangeBatch]], dict[Path, float]]:
    """One photo lands every `every` s and one file grows all along; returns the batches (with the fake time
    they closed) and when each file last changed."""
    batches: list[tuple[float, ChangeBatch]] = []
    changed: dict[Path, float] = {}
    growing = root / "growing.jpg"
    start = clock.now
    step = 0.1
    while clock.now - start < files * every + 10:
        elapsed = clock.now - start
        landing = round(elapsed / every, 6)
        if landing == int(landing) and int(landing) < files:
            path = root / f"IMG_{int(landing):03d}.jpg"
            path.write_bytes(b"\xff\xd8" + bytes([int(landing)]) * 100)
            watcher._note([path], False)
            changed[path] = clock.now
            if int(landing) < files - 1:  # the big file keeps growing until the last photo lands
                with open(growing, "ab") as handle:
                    handle.write(b"x" * 1000)
                watcher._note([growing], False)
                changed[growing] = clock.now
        batch = watcher._close_batch()
        if batch is not None:
            batches.append((clock.now - start, batch))
        clock.now = round(clock.now + step, 6)
    return batches, {p: t - start for p, t in changed.items()}


def test_settled_files_are_delivered_while_the_copy_goes_on(tmp_path: Path, clock: Clock) -> None:
    watcher = LibraryWatcher([tmp_path], quiet_seconds=2.0, settle_seconds=1.0, flush_seconds=3.0, reconcile=False)
    batches, changed = camera_import(tmp_path, clock, watcher)
    last_landing = max(changed.values())
    assert batches and batches[0][0] < last_landing, "the first photos were delivered during the import"
    delivered = [p for _, b in batches for p in b.paths]
    assert sorted(delivered) == sorted(changed), "every file delivered exactly once"
    for closed, batch in batches:
        for path in batch.paths:
            assert closed - changed[path] >= watcher.settle_seconds, f"{path.name} delivered before it settled"
    growing_batch = next(t for t, b in batches if tmp_path / "growing.jpg" in b.paths)
    assert growing_batch >= changed[tmp_path / "growing.jpg"] + watcher.settle_seconds


def test_a_short_burst_is_still_one_batch(tmp_path: Path, clock: Clock) -> None:
    watcher = LibraryWatcher([tmp_path], quiet_seconds=2.0, settle_seconds=1.0, flush_seconds=3.0, reconcile=False)
    batches, changed = camera_import(tmp_path, clock, watcher, files=4, every=0.2)
    assert len(batches) == 1 and sorted(batches[0][1].paths) == sorted(changed)


def test_without_flushing_the_import_waits_for_its_end(tmp_path: Path, clock: Clock) -> None:
    """What the watcher did before: the whole import held until it went quiet."""
    watcher = LibraryWatcher([tmp_path], quiet_seconds=2.0, settle_seconds=1.0, flush_seconds=60, reconcile=False)
    batches, changed = camera_import(tmp_path, clock, watcher)
    assert batches[0][0] > max(changed.values())
