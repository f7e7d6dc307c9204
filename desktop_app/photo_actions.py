"""What the user can do to selected photos in the grid: open, move to an album, new album, remove, cover.

Every command goes through the service's album operations, so the window and the CLI agree, and each
can be undone with Ctrl+Z.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QModelIndex, QObject, QPoint, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QInputDialog, QMenu, QWidget

from desktop_app.models import SidebarEntry
from desktop_app.photo_viewer import PhotoViewer, open_in_system_viewer, show_in_folder
from desktop_app.service import LibraryService
from desktop_app.thumbnail_grid import ThumbnailGrid

MOVE_MENU_ALBUMS = 25  # the largest albums listed in "Move to album"; the rest through "Other album…"


def ask_album_name(parent: QWidget, count: int) -> str | None:
    """The new album's name ("" = let PhotoAtlas name it), or None when the user cancels."""
    what = f"{count} photo{'s' if count != 1 else ''}"
    name, ok = QInputDialog.getText(
        parent, "New album", f"Name of the new album with {what}\n(leave empty to let PhotoAtlas name it):"
    )
    return " ".join(name.split()) if ok else None


def choose_album(parent: QWidget, albums: list[SidebarEntry]) -> int | None:
    labels = [f"{a.title}  ({a.size})" for a in albums]
    label, ok = QInputDialog.getItem(parent, "Move to album", "Move the selected photos to:", labels, 0, False)
    return albums[labels.index(label)].album_id if ok else None


class PhotoActions(QObject):
    """The grid's commands; they act on the grid's selection and the sidebar entry being shown.

    Args:
        service: the engine.
        grid: the thumbnail grid.
        current_entry: the sidebar entry whose photos the grid shows (None for search results).
        albums: the sidebar's album entries, largest first.
    """

    def __init__(
        self,
        service: LibraryService,
        grid: ThumbnailGrid,
        current_entry: Callable[[], SidebarEntry | None],
        albums: Callable[[], list[SidebarEntry]],
        parent: QWidget,
    ) -> None:
        super().__init__(parent)
        self._service = service
        self._grid = grid
        self._current_entry = current_entry
        self._albums = albums
        self._window = parent
        self.viewer: PhotoViewer | None = None
        view = grid.view
        self.open = self._action("Open", self.open_current, QKeySequence(Qt.Key.Key_Return))
        new_key, delete_key = QKeySequence("Ctrl+N"), QKeySequence(QKeySequence.StandardKey.Delete)
        self.new_album = self._action("New album from selection…", self.new_album_from_selection, new_key)
        self.remove = self._action("Remove from album", self.remove_selected, delete_key)
        self.remove.setToolTip("Take the photos out of their album into Other (the files stay where they are)")
        self.set_cover = self._action("Use as album cover", self.use_as_cover)
        self.show_folder = self._action("Show in folder", self.show_selected_in_folder)
        self.open_external = self._action("Open with system viewer", self.open_selected_externally)
        self.open_stack = self._action("Open stack", self.open_selected_stack)
        self.open_stack.setToolTip("Show every photo of this burst or set of copies")
        self.stack_cover = self._action("Show on top of stack", self.use_as_stack_cover)
        self.unstack = self._action("Unstack", self.unstack_selected)
        self.unstack.setToolTip("Show these photos one by one from now on (Undo stacks them again)")
        view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        view.customContextMenuRequested.connect(self.show_menu)
        view.doubleClicked.connect(self.open_index)

    def _action(self, text: str, slot: Callable[[], object], shortcut: QKeySequence | None = None) -> QAction:
        action = QAction(text, self._grid.view)
        if shortcut is not None:
            action.setShortcut(shortcut)
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self._grid.view.addAction(action)
        action.triggered.connect(slot)
        return action

    def selected(self) -> list[int]:
        return self._grid.selected_photo_ids()

    def current_album_id(self) -> int | None:
        entry = self._current_entry()
        return entry.album_id if entry is not None else None

    def update_enabled(self) -> None:
        selected = self.selected()
        entry = self._current_entry()
        self.open.setEnabled(bool(selected))
        self.new_album.setEnabled(bool(selected))
        # From "Other" there is nothing to remove the photos from.
        self.remove.setEnabled(bool(selected) and not (entry is not None and entry.kind == "other"))
        self.set_cover.setEnabled(len(selected) == 1 and self.current_album_id() is not None)
        self.show_folder.setEnabled(len(selected) == 1)
        self.open_external.setEnabled(len(selected) == 1)
        stack = self._service.stack_photos(selected[0]) if len(selected) == 1 else []
        self.open_stack.setEnabled(bool(stack) and self._service.stack_count(selected[0]) > 1)
        self.stack_cover.setEnabled(bool(stack) and stack[0] != selected[0])
        self.unstack.setEnabled(bool(stack))

    def move_menu(self, parent: QMenu) -> QMenu:
        """ "Move to album ▸": the largest albums (not the one shown), then "Other album…" for the rest."""
        menu = parent.addMenu("Move to album")
        menu.setObjectName("moveToAlbumMenu")
        shown = self.current_album_id()
        targets = [a for a in self._albums() if a.album_id is not None and a.album_id != shown]
        for entry in targets[:MOVE_MENU_ALBUMS]:
            action = menu.addAction(f"{entry.title}  ({entry.size})")
            action.triggered.connect(lambda _checked=False, album=entry.album_id: self.move_selected(album))
        if len(targets) > MOVE_MENU_ALBUMS:
            menu.addSeparator()
            other = menu.addAction("Other album…")
            other.triggered.connect(lambda: self.move_selected(choose_album(self._window, targets)))
        menu.setEnabled(bool(targets) and bool(self.selected()))
        return menu

    def build_menu(self) -> QMenu:
        self.update_enabled()
        menu = QMenu(self._grid.view)
        menu.addAction(self.open)
        if self.open_stack.isEnabled():
            menu.addAction(self.open_stack)
        menu.addSeparator()
        self.move_menu(menu)
        menu.addAction(self.new_album)
        menu.addAction(self.remove)
        menu.addAction(self.set_cover)
        if self.unstack.isEnabled():
            menu.addAction(self.stack_cover)
            menu.addAction(self.unstack)
        menu.addSeparator()
        menu.addAction(self.show_folder)
        menu.addAction(self.open_external)
        return menu

    def show_menu(self, position: QPoint) -> None:
        view = self._grid.view
        index = view.indexAt(position)
        if index.isValid() and not view.selectionModel().isSelected(index):
            view.setCurrentIndex(index)  # a right click on an unselected photo acts on that photo
        self.build_menu().exec(view.viewport().mapToGlobal(position))

    # -- commands --------------------------------------------------------------------------------

    def open_index(self, index: QModelIndex) -> None:
        if not index.isValid():
            return
        photo_id = self._grid.model.photo_id(index.row())
        if self._service.stack_count(photo_id) > 1:  # a stack's tile opens to show its photos
            self.show_stack(photo_id)
        else:
            self.open_viewer(photo_id)

    def show_stack(self, photo_id: int) -> None:
        """Show every photo of the stack this tile stands for, its cover first."""
        photos = self._service.stack_photos(photo_id)
        if photos:
            entry = self._current_entry()
            self._service.unfold()
            self._grid.show_photos(photos, "Stack", "No photos here.")  # the caption adds "· 4 photos"
            self._grid.set_back(entry.title if entry is not None else "Search results")

    def open_selected_stack(self) -> None:
        photos = self.selected()
        if len(photos) == 1:
            self.show_stack(photos[0])

    def use_as_stack_cover(self) -> None:
        photos = self.selected()
        if len(photos) == 1:
            self._service.set_stack_cover(photos[0])

    def unstack_selected(self) -> None:
        photos = self.selected()
        if len(photos) == 1:
            self._service.unstack(photos[0])

    def open_current(self) -> None:
        index = self._grid.view.currentIndex()
        if index.isValid():
            self.open_index(index)

    def open_viewer(self, photo_id: int) -> PhotoViewer:
        if self.viewer is not None:
            self.viewer.close()
        self.viewer = PhotoViewer(self._service, self._grid.model.ids(), photo_id, self._window)
        self.viewer.destroyed.connect(self._forget_viewer)
        self.viewer.show()
        return self.viewer

    def _forget_viewer(self) -> None:
        self.viewer = None

    def move_selected(self, album_id: int | None) -> None:
        photos = self.selected()
        if photos and album_id is not None:
            self._service.move(photos, album_id)

    def new_album_from_selection(self) -> None:
        photos = self.selected()
        if not photos:
            return
        name = ask_album_name(self._window, len(photos))
        if name is not None:
            self._service.split(photos, name or None)

    def remove_selected(self) -> None:
        photos = self.selected()
        if photos:
            self._service.remove(photos)

    def use_as_cover(self) -> None:
        photos, album = self.selected(), self.current_album_id()
        if len(photos) == 1 and album is not None:
            self._service.set_cover(album, photos[0])

    def _single_path(self) -> str | None:
        photos = self.selected()
        details = self._service.photo_details(photos[0]) if len(photos) == 1 else None
        return details.path if details is not None else None

    def show_selected_in_folder(self) -> None:
        path = self._single_path()
        if path:
            show_in_folder(path)

    def open_selected_externally(self) -> None:
        path = self._single_path()
        if path:
            open_in_system_viewer(path)
