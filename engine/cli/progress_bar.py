"""The command line's progress bar: a `ProgressReporter` drawn with tqdm on stderr."""

from __future__ import annotations

import sys
from typing import Any


class BarProgress:
    """Shows each phase as a bar with rate and ETA (a spinner-like counter when the total is unknown).

    Cancellation in the CLI is Ctrl-C, so `is_cancelled` is always False here; the engine commits work in
    batches, so an interrupt at any moment leaves a consistent catalog.
    """

    def __init__(self, enabled: bool | None = None, unit: str = "photo") -> None:
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.unit = unit
        self._bar: Any = None

    def phase(self, name: str, total: int | None = None) -> None:
        self.close()
        if not self.enabled:
            return
        from tqdm import tqdm

        unit = self.unit if total is not None else "folder"
        self._bar = tqdm(total=total, desc=name, unit=unit, dynamic_ncols=True, file=sys.stderr, leave=True)

    def advance(self, done: int = 1) -> None:
        if self._bar is not None:
            self._bar.update(done)

    def is_cancelled(self) -> bool:
        return False

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
