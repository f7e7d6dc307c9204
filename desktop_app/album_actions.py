"""What the user can do to albums from the sidebar: rename, merge, pin, export (context menu and keys)."""

from __future__ import annotations

from PySide6.QtCore import QObject, QPoint, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMenu, QWidget

from desktop_app.models import SidebarEntry
from desktop_app.service import LibraryService
from desktop_app.sidebar import AlbumSidebar


def choose_merge_target(parent: QWidget, sources: list[SidebarEntry], candidates: list[SidebarEntry]) -> int | None:
    """Ask which album the selected ones merge into; its id, or None when the user cancels."""
    labels = [f"{c.title}  ({c.size})" for c in candidates]
    what = f"{len(sources)} albums" if len(sources) > 1 else f"“{sources[0].title}”"
    label, ok = QInputDialog.getItem(parent, "Merge albums", f"Merge {what} into:", labels, 0, False)
    if not ok:
        return None
    return candidates[labels.index(label)].album_id


def choose_export_folder(parent: QWidget, entry: SidebarEntry) -> str | None:
    folder = QFileDialog.getExistingDirectory(parent, f"Export “{entry.title}” to folder")
    return folder or None


class AlbumActions(QObject):
    """The album commands, shown in the sidebar's context menu; they act on the sidebar's selection."""

    def __init__(self, service: LibraryService, sidebar: AlbumSidebar, parent: QWidget) -> None:
        super().__init__(parent)
        self._service = service
        self._sidebar = sidebar
        self._window = parent
        self.rename = self._action("Rename", self.rename_current, QKeySequence(Qt.Key.Key_F2))
        self.merge = self._action("Merge into…", self.merge_selected)
        self.pin = self._action("Pin", self.toggle_pin)
        self.pin.setToolTip("A pinned album keeps exactly its photos when you re-cluster")
        self.export = self._action("Export…", self.export_current)
        sidebar.customContextMenuRequested.connect(self.show_menu)

    def _action(self, text: str, slot: object, shortcut: QKeySequence | None = None) -> QAction:
        action = QAction(text, self._sidebar)
        if shortcut is not None:
            action.setShortcut(shortcut)
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self._sidebar.addAction(action)
        action.triggered.connect(slot)
        return action

    def _albums_selected(self) -> list[SidebarEntry]:
        return [e for e in self._sidebar.selected_entries() if e.album_id is not None]

    def update_enabled(self) -> None:
        current = self._sidebar.current_entry()
        is_album = current is not None and current.album_id is not None
        albums = [e for e in self._sidebar.album_model().entries() if e.album_id is not None]
        self.rename.setEnabled(is_album and not self._service.busy)
        self.merge.setEnabled(bool(self._albums_selected()) and len(albums) > 1)
        self.pin.setEnabled(is_album)
        pinned = bool(current and current.album and current.album.pinned)
        self.pin.setText("Unpin" if pinned else "Pin")
        self.export.setEnabled(is_album and not self._service.busy)

    def show_menu(self, position: QPoint) -> None:
        index = self._sidebar.indexAt(position)
        if index.isValid() and not self._sidebar.selectionModel().isSelected(index):
            self._sidebar.setCurrentIndex(index)
        self.update_enabled()
        menu = QMenu(self._sidebar)
        for action in (self.rename, self.merge, self.pin):
            menu.addAction(action)
        menu.addSeparator()
        menu.addAction(self.export)
        menu.exec(self._sidebar.viewport().mapToGlobal(position))

    def rename_current(self) -> None:
        current = self._sidebar.currentIndex()
        entry = self._sidebar.current_entry()
        if entry is not None and entry.album_id is not None:
            self._sidebar.edit(current)

    def merge_selected(self) -> None:
        sources = self._albums_selected()
        if not sources:
            return
        every = [e for e in self._sidebar.album_model().entries() if e.album_id is not None]
        candidates = every if len(sources) > 1 else [e for e in every if e.key != sources[0].key]
        target = choose_merge_target(self._window, sources, candidates)
        if target is None:
            return
        ids = [e.album_id for e in sources if e.album_id is not None and e.album_id != target]
        if ids and self._service.merge(ids, target):
            self._sidebar.select_key(("album", target))

    def toggle_pin(self) -> None:
        entry = self._sidebar.current_entry()
        if entry is not None and entry.album_id is not None and entry.album is not None:
            self._service.pin(entry.album_id, not entry.album.pinned)

    def export_current(self) -> None:
        entry = self._sidebar.current_entry()
        if entry is None or entry.album_id is None:
            return
        folder = choose_export_folder(self._window, entry)
        if folder:
            self._service.export_album(entry.album_id, folder)
