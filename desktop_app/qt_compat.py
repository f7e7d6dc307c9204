"""Work-arounds for defects of the Qt binding; every signal the app emits from Python goes through `emit`.

PySide6 6.12.0's `SignalInstance.emit` returns `True` without taking a reference to it, so each emit from
Python drops one reference to the `True` singleton. Python 3.11's `True` is not immortal: after some
thousands of emits (progress ticks, loaded thumbnails) the interpreter aborts with "bool_dealloc:
deallocating True or False". 6.11 is fine. `emit` measures the defect once and pays the reference back.
"""

from __future__ import annotations

import ctypes
import sys
import threading
from typing import Any

from PySide6.QtCore import QObject, Signal, SignalInstance

_PROBE_EMITS = 8
_lock = threading.Lock()
_leak: int | None = None


class _Probe(QObject):
    fired = Signal()


def emit_leaks_true() -> bool:
    """True when this binding's `emit` drops a reference to `True` (measured once, on first use)."""
    global _leak
    with _lock:
        probe = _Probe()
        for _ in range(3):  # another thread touching `True` meanwhile blurs a measurement: try again
            if _leak is not None:
                break
            before = sys.getrefcount(True)
            for _ in range(_PROBE_EMITS):
                probe.fired.emit()
            lost = before - sys.getrefcount(True)
            _give_back(max(lost, 0))
            if lost in (0, _PROBE_EMITS):
                _leak = int(lost == _PROBE_EMITS)
        if _leak is None:
            _leak = 0
        return _leak == 1


def _give_back(references: int) -> None:
    for _ in range(references):
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(True))


def emit(signal: SignalInstance, *args: Any) -> None:
    """`signal.emit(*args)`, repairing the reference the defective binding drops."""
    signal.emit(*args)
    if emit_leaks_true():
        _give_back(1)
