"""`photoatlas watch`: keep the library in step with its folders until Ctrl-C."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from engine.cli.common import Handler
from engine.errors import Cancelled, InvalidInputError
from engine.paths import display
from engine.progress import NullProgress

if TYPE_CHECKING:
    from engine.library import Library

log = logging.getLogger("engine.watch.watcher")


def add_commands(commands: argparse._SubParsersAction) -> dict[str, Handler]:
    """Register the watch command."""
    watch = commands.add_parser(
        "watch",
        help="watch the library's folders: new, edited, moved and deleted photos are filed as they change",
        description="Watch every folder of the library until Ctrl-C. New photos are cataloged, embedded and put "
        "into their best album; moved ones keep their albums; deleted ones leave them. Changes made while "
        "nothing watched are caught up at start.",
    )
    # Also accepted after the command (`photoatlas watch --library DIR`); SUPPRESS keeps the global one.
    watch.add_argument("--library", type=Path, default=argparse.SUPPRESS, metavar="DIR", help=argparse.SUPPRESS)
    watch.add_argument(
        "--quiet-seconds",
        type=float,
        default=2.0,
        metavar="S",
        help="act once the folders have been quiet this long, so an import is one batch (default: 2)",
    )
    watch.add_argument("--poll", action="store_true", help="poll the folders instead of using file-system events")
    watch.add_argument("--poll-seconds", type=float, default=5.0, metavar="S", help="interval of polling (default: 5)")
    return {"watch": _cmd_watch}


class _StopFlag(NullProgress):
    """Cancels the batch being applied once Ctrl-C is pressed (finished photos are committed)."""

    def __init__(self) -> None:
        self.event = threading.Event()

    def is_cancelled(self) -> bool:
        return self.event.is_set()


@contextmanager
def _stop_on_signals(stop: _StopFlag) -> Iterator[None]:
    """Ctrl-C (or SIGTERM) asks for a clean stop; a second Ctrl-C interrupts at once."""

    def ask(signum: int, frame: FrameType | None) -> None:
        if stop.event.is_set():
            raise KeyboardInterrupt
        stop.event.set()

    signals = [signal.SIGINT] + ([signal.SIGTERM] if hasattr(signal, "SIGTERM") else [])
    previous = {s: signal.signal(s, ask) for s in signals}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


@contextmanager
def _log_to_stdout() -> Iterator[None]:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", datefmt="%H:%M:%S"))
    level, propagate = log.level, log.propagate
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    try:
        yield
    finally:
        log.removeHandler(handler)
        log.setLevel(level)
        log.propagate = propagate


def _cmd_watch(library: Library, args: argparse.Namespace) -> int:
    if args.quiet_seconds < 0 or args.poll_seconds <= 0:
        raise InvalidInputError("--quiet-seconds must be at least 0 and --poll-seconds more than 0")
    watcher = library.watcher(
        quiet_seconds=args.quiet_seconds,
        settle_seconds=min(1.0, max(args.quiet_seconds, 0.1)),
        poll=args.poll,
        poll_seconds=args.poll_seconds,
    )
    stop = _StopFlag()
    with _log_to_stdout(), _stop_on_signals(stop):
        watcher.start()
        try:
            for root, mode in watcher.modes().items():
                log.info("watching %s (%s)", display(root), mode)
            log.info("Ctrl-C stops")
            while not stop.event.is_set():
                batch = watcher.next_batch(timeout=0.2)
                if batch is None:
                    continue
                try:
                    report = library.apply_watch_batch(batch, stop)
                except Cancelled:
                    break
                for line in report.lines():
                    log.info(line)
        finally:
            watcher.stop()
        log.info("stopped; finished work is saved")
    return 0
