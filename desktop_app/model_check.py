"""Whether the library's CLIP weights are on this computer, found on a pool thread.

`Library.weights_status` needs no network, but for a downloadable model it asks open_clip where the
weights live, and importing open_clip costs torch's import: seconds the GUI thread must not wait.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QRunnable, Signal

from desktop_app.qt_compat import emit
from engine.errors import PhotoAtlasError
from engine.settings import ModelSpec

if TYPE_CHECKING:
    from engine import WeightsStatus


class ModelSignals(QObject):
    ready = Signal()
    missing = Signal(str)


class ModelCheck(QRunnable):
    """Whether a model's weights are on this computer (no network; imports open_clip, hence a thread).

    Args:
        spec: the model.
        weights_status: the engine's verb that finds where a model's weights stand (`Library.weights_status`).
        signals: where the answer goes.
    """

    def __init__(
        self, spec: ModelSpec, weights_status: Callable[[ModelSpec], WeightsStatus], signals: ModelSignals
    ) -> None:
        super().__init__()
        self.spec, self.weights_status, self.signals = spec, weights_status, signals

    def run(self) -> None:
        try:
            status = self.weights_status(self.spec)
        except PhotoAtlasError as exc:
            emit(self.signals.missing, str(exc))
            return
        if status.path is not None:
            emit(self.signals.ready)
        elif self.spec.pretrained_is_file:
            emit(self.signals.missing, f"The weights file {self.spec.pretrained} is not there any more.")
        else:
            resumed = f" ({status.partial_bytes / 1e6:.0f} MB already downloaded)" if status.partial_bytes else ""
            emit(
                self.signals.missing,
                f"The CLIP model {self.spec.name}/{self.spec.pretrained} is not on this computer yet{resumed}.",
            )
