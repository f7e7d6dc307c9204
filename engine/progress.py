"""Progress reporting and cancellation for long engine operations, with no GUI dependency.

Long operations take an optional `progress` object of any type with these three methods (duck typed,
like Orange's TaskState), so the same code drives the CLI's progress bar and the window's.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from engine.errors import Cancelled


@runtime_checkable
class ProgressReporter(Protocol):
    """What a long operation calls to say how far it is and to learn whether to stop."""

    def phase(self, name: str, total: int | None = None) -> None:
        """A new stage begins; `total` units of work, or None when unknown."""

    def advance(self, done: int = 1) -> None:
        """`done` more units of the current stage are finished."""

    def is_cancelled(self) -> bool:
        """True once the user asked to stop."""


class NullProgress:
    """Reports nowhere and never cancels: the default when the caller passes no reporter."""

    def phase(self, name: str, total: int | None = None) -> None:
        pass

    def advance(self, done: int = 1) -> None:
        pass

    def is_cancelled(self) -> bool:
        return False


class RecordingProgress(NullProgress):
    """Keeps every phase and the units done in each; optionally cancels after a number of units.

    Useful to tests and to callers that want a summary of what happened.
    """

    def __init__(self, cancel_after: int | None = None) -> None:
        self.phases: list[tuple[str, int | None]] = []
        self.done: dict[str, int] = {}
        self._cancel_after = cancel_after
        self._units = 0

    def phase(self, name: str, total: int | None = None) -> None:
        self.phases.append((name, total))
        self.done.setdefault(name, 0)

    def advance(self, done: int = 1) -> None:
        self._units += done
        if self.phases:
            self.done[self.phases[-1][0]] += done

    def is_cancelled(self) -> bool:
        return self._cancel_after is not None and self._units >= self._cancel_after


def ensure_progress(progress: ProgressReporter | None) -> ProgressReporter:
    """The reporter to use: the caller's, or one that does nothing."""
    return progress if progress is not None else NullProgress()


def check_cancelled(progress: ProgressReporter) -> None:
    """Raise `Cancelled` if the user asked to stop; call at safe points between units of work."""
    if progress.is_cancelled():
        raise Cancelled("cancelled by the user")
