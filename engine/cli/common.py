"""What every command module of the CLI shares."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from engine.cli.progress_bar import BarProgress

if TYPE_CHECKING:
    from engine.library import Library

Handler = Callable[["Library", argparse.Namespace], int]


def run_with_bar(args: argparse.Namespace, unit: str, operation: Callable[[BarProgress], Any]) -> int:
    """Run a long library operation under a progress bar, then print its summary lines."""
    progress = BarProgress(enabled=False if getattr(args, "no_progress", False) else None, unit=unit)
    try:
        summary = operation(progress)
    finally:
        progress.close()
    for line in summary.lines():
        print(line)
    return 0


def print_json(data: object) -> None:
    """One JSON document on stdout (non-ASCII kept readable), newline-terminated."""
    json.dump(data, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")


def latest_done_id(library: Library) -> int:
    """The id of the action `undo` would revert now (0 when none): what a verb's new action comes after."""
    return next((e.id for e in library.albums.history(200) if not e.undone), 0)


def print_undo_hint(library: Library, before: int) -> None:
    """After a re-cluster or refinement that changed the albums (it recorded an action): how to put them back."""
    if latest_done_id(library) > before:
        print("(photoatlas undo puts the albums back as they were; photoatlas history lists every change)")
