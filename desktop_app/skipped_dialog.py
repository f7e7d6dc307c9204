"""The files PhotoAtlas did not add: which, where, why (in words) and when; show them in their folder, or try
them again once fixed (File → Skipped files…, or "Show skipped files" on a summary that reports some)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_app.service import LibraryService

PATH_ROLE = Qt.ItemDataRole.UserRole


def describe_when(seen_at: float) -> str:
    """ "3 Dec 2026, 10:42" in local time."""
    moment = dt.datetime.fromtimestamp(seen_at)
    return f"{moment.day} {moment:%b %Y, %H:%M}"


def open_folder(path: Path) -> bool:
    """The folder holding a file, in the system's file manager."""
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(path.parent)))


class SkippedFilesDialog(QDialog):
    """A list of the skipped files, refreshed after "Try again" (and whenever the photos change)."""

    def __init__(self, service: LibraryService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("skippedFiles")
        self.setWindowTitle("Skipped files")
        self.service = service
        self._folder_opener: Callable[[Path], bool] = open_folder
        self.intro = QLabel()
        self.intro.setWordWrap(True)
        self.table = QTreeWidget()
        self.table.setRootIsDecorated(False)
        self.table.setUniformRowHeights(True)
        self.table.setAlternatingRowColors(True)
        self.table.setSortingEnabled(True)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setHeaderLabels(["File", "Folder", "Why it was skipped", "When"])
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        header = self.table.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        header.setStretchLastSection(False)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.itemDoubleClicked.connect(lambda item, _col: self.show_in_folder())
        self.folder_button = QPushButton("Show in folder")
        self.folder_button.clicked.connect(self.show_in_folder)
        self.retry_button = QPushButton("Try again")
        self.retry_button.setToolTip("Read the selected files again (all of them when none is selected)")
        self.retry_button.clicked.connect(self.try_again)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.close)
        row = QHBoxLayout()
        row.addWidget(self.folder_button)
        row.addWidget(self.retry_button)
        row.addStretch(1)
        row.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addWidget(self.table, 1)
        layout.addLayout(row)
        self.resize(900, 420)
        service.photosChanged.connect(self.reload)
        service.busyChanged.connect(lambda _busy: self._update_buttons())
        self.reload()

    def reload(self) -> None:
        files = self.service.skipped_files()
        self.table.setSortingEnabled(False)
        self.table.clear()
        for skipped in files:
            item = QTreeWidgetItem(
                [
                    skipped.path.name,
                    str(skipped.path.parent),
                    skipped.reason[:1].upper() + skipped.reason[1:],
                    describe_when(skipped.seen_at),
                ]
            )
            item.setData(0, PATH_ROLE, str(skipped.path))
            for column in range(4):
                item.setToolTip(column, item.text(column))
            self.table.addTopLevelItem(item)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(1, Qt.SortOrder.AscendingOrder)
        for column in (0, 1, 3):
            self.table.resizeColumnToContents(column)
        self.table.setColumnWidth(1, min(self.table.columnWidth(1), 320))
        count = len(files)
        self.intro.setText(
            "PhotoAtlas added every file it found."
            if not count
            else f"{count} file{'s were' if count != 1 else ' was'} not added. PhotoAtlas never changes them; once "
            "a file is fixed (or finished copying), Try again reads it again."
        )
        self._update_buttons()

    def selected_paths(self) -> list[str]:
        return [item.data(0, PATH_ROLE) for item in self.table.selectedItems()]

    def all_paths(self) -> list[str]:
        return [self.table.topLevelItem(i).data(0, PATH_ROLE) for i in range(self.table.topLevelItemCount())]

    def show_in_folder(self) -> None:
        paths = self.selected_paths()
        if paths:
            self._folder_opener(Path(paths[0]))

    def try_again(self) -> bool:
        return self.service.retry_skipped(self.selected_paths() or self.all_paths())

    def _update_buttons(self) -> None:
        self.folder_button.setEnabled(len(self.table.selectedItems()) == 1)
        self.retry_button.setEnabled(self.table.topLevelItemCount() > 0 and not self.service.busy)
