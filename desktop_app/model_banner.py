"""The notice shown while the CLIP weights are missing: download them, or use a file already here.

Everything else keeps working meanwhile: photos are added, thumbnailed and browsable by folder and date;
only albums and search wait for the model.
"""

from __future__ import annotations

from PySide6.QtCore import QStandardPaths, Signal
from PySide6.QtWidgets import QFileDialog, QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from desktop_app.qt_compat import emit
from desktop_app.settings_dialog import CHECKPOINT_FILTER, standard_folder


def choose_weights_file(parent: QWidget) -> str | None:
    start = standard_folder(QStandardPaths.StandardLocation.DownloadLocation)
    path, _ = QFileDialog.getOpenFileName(parent, "Choose CLIP weights", start, CHECKPOINT_FILTER)
    return path or None


class ModelBanner(QFrame):
    """A strip above the photos: what is missing, and the two ways out.

    Signals:
        downloadRequested(): the user wants the weights downloaded now.
        fileChosen(path): the user picked a checkpoint file on this computer.
    """

    downloadRequested = Signal()
    fileChosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("modelBanner")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet("#modelBanner { background: palette(alternate-base); }")
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.download_button = QPushButton("Download now")
        self.download_button.clicked.connect(lambda: emit(self.downloadRequested))
        self.file_button = QPushButton("Use a weights file…")
        self.file_button.clicked.connect(self._choose_file)
        self.dismiss_button = QPushButton("Not now")
        self.dismiss_button.clicked.connect(self.hide)
        layout = QHBoxLayout(self)
        layout.addWidget(self.message, 1)
        layout.addWidget(self.download_button)
        layout.addWidget(self.file_button)
        layout.addWidget(self.dismiss_button)
        self.hide()

    def show_missing(self, reason: str, offline: bool) -> None:
        """Explain what is missing; downloading is offered unless the library is set to work offline."""
        self.message.setText(
            f"{reason}\nPhotoAtlas needs it to sort your photos into albums and to search them. Your photos "
            "are still added and can be browsed by folder and date meanwhile."
        )
        self.download_button.setEnabled(not offline)
        self.download_button.setToolTip("Offline mode is on (Settings)" if offline else "About 600 MB, once")
        self.show()

    def _choose_file(self) -> None:
        path = choose_weights_file(self)
        if path:
            emit(self.fileChosen, path)
