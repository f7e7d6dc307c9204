"""The Duplicates view: files that hold the same picture, with their sizes and folders, to clean up by hand.

PhotoAtlas never deletes, moves or changes an original: this view lists exact copies (the same bytes) and
resized or re-encoded copies, largest file first, and opens a file's folder in the system's file manager.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from desktop_app.photo_viewer import show_in_folder
from desktop_app.service import LibraryService
from engine import DuplicateSet, display_path

ROLE_PATH = Qt.ItemDataRole.UserRole + 1
COLUMNS = ("File", "Size", "Dimensions", "Folder")


def file_size(count: float) -> str:
    """A size in the units people read: "840 KB", "2.4 MB"."""
    for unit in ("bytes", "KB", "MB", "GB"):
        if count < 1000 or unit == "GB":
            return f"{count:.0f} {unit}" if unit in ("bytes", "KB") else f"{count:.1f} {unit}"
        count /= 1000
    return f"{count:.1f} GB"


def set_title(found: DuplicateSet) -> str:
    what = "exact copies" if found.kind == "exact" else "resized or re-encoded copies"
    return f"{len(found.files)} {what}  ·  {file_size(found.wasted_bytes)} in the smaller ones"


class DuplicatesView(QWidget):
    """Sets of duplicate files; "Show in folder" opens the selected file's folder.

    Args:
        service: the engine.
        open_folder: how a folder is shown (the system's file manager; tests pass a recorder).
    """

    def __init__(
        self,
        service: LibraryService,
        open_folder: Callable[[str], object] = show_in_folder,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._service = service
        self._open_folder = open_folder
        self.caption = QLabel()
        self.caption.setObjectName("duplicatesCaption")
        self.caption.setWordWrap(True)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setRootIsDecorated(True)
        self.tree.setUniformRowHeights(True)
        self.tree.itemSelectionChanged.connect(self._update_enabled)
        self.tree.itemDoubleClicked.connect(lambda *_: self.show_selected_in_folder())
        self.show_button = QPushButton("Show in folder")
        self.show_button.setToolTip("Open the folder that holds this file, to keep or delete copies yourself")
        self.show_button.clicked.connect(self.show_selected_in_folder)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.show_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.caption)
        layout.addWidget(self.tree, 1)
        layout.addLayout(buttons)
        self._update_enabled()

    def reload(self) -> None:
        """List the duplicates again (after indexing or an undo)."""
        sets = self._service.duplicates()
        self.tree.clear()
        if not sets:
            self.caption.setText("No duplicates: every file holds a picture of its own.")
        else:
            wasted = sum(s.wasted_bytes for s in sets)
            self.caption.setText(
                f"{len(sets)} sets of files hold the same picture; the smaller copies take {file_size(wasted)}."
                " PhotoAtlas never deletes a file: select one and click Show in folder to tidy up yourself."
            )
        for found in sets:
            top = QTreeWidgetItem([set_title(found)])
            for n, f in enumerate(found.files):
                path = display_path(f.path)
                name = Path(path).name + ("  (largest)" if n == 0 and len(found.files) > 1 else "")
                child = QTreeWidgetItem([name, file_size(f.size), f"{f.width} × {f.height}", str(Path(path).parent)])
                child.setData(0, ROLE_PATH, path)
                child.setToolTip(0, path)
                top.addChild(child)
            self.tree.addTopLevelItem(top)
            top.setFirstColumnSpanned(True)  # the set's title runs across the columns
            top.setExpanded(True)
        for column in range(len(COLUMNS)):
            self.tree.resizeColumnToContents(column)
        self._update_enabled()

    def selected_path(self) -> str | None:
        items = self.tree.selectedItems()
        return items[0].data(0, ROLE_PATH) if items else None

    def show_selected_in_folder(self) -> None:
        path = self.selected_path()
        if path:
            self._open_folder(path)

    def _update_enabled(self) -> None:
        self.show_button.setEnabled(self.selected_path() is not None)
