"""The binding work-around: emitting many signals never wears out `True` (PySide6 6.12.0's emit defect)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from PySide6.QtCore import QObject, Signal

import desktop_app
from desktop_app.qt_compat import emit, emit_leaks_true


class _Emitter(QObject):
    ticked = Signal(str, int, int)


def test_many_emits_keep_true_alive(qtbot) -> None:
    emitter = _Emitter()
    received: list[int] = []
    emitter.ticked.connect(lambda phase, done, total: received.append(done))
    emit_leaks_true()  # measured before counting
    before = sys.getrefcount(True)
    for n in range(5_000):
        emit(emitter.ticked, "phase", n, 5_000)
    assert len(received) == 5_000
    assert abs(sys.getrefcount(True) - before) <= 2


def test_the_app_emits_only_through_the_helper() -> None:
    offenders = []
    for path in Path(desktop_app.__file__).parent.rglob("*.py"):
        if path.name == "qt_compat.py":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"\.emit\(", line):
                offenders.append(f"{path.name}:{number}: {line.strip()}")
    assert offenders == []
