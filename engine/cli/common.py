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
