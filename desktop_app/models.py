"""Qt item models: the photo grid (photo ids only) and the album sidebar."""

from __future__ import annotations

import os
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from PySide6.QtCore import QAbstractListModel, QMimeData, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QFont, QPixmap

from desktop_app.drag_data import ALBUMS_MIME, PHOTOS_MIME, albums_mime, photos_mime
from desktop_app.photo_rows import UNDATED
from desktop_app.places_sidebar import PlaceRow, place_rows, place_tooltip
from desktop_app.qt_compat import emit
from desktop_app.service import LibraryService
from desktop_app.thumbnails import ThumbnailLoader, placeholder_pixmap
from engine import Album

Index = QModelIndex | QPersistentModelIndex
ROLE_PHOTO_ID = Qt.ItemDataRole.UserRole + 1
ROLE_LOADED = Qt.ItemDataRole.UserRole + 2
ROLE_BADGE = Qt.ItemDataRole.UserRole + 3  # a video's length, "LIVE" or "RAW", painted on the thumbnail
ROLE_ENTRY = Qt.ItemDataRole.UserRole + 10
ROLE_SIZE = Qt.ItemDataRole.UserRole + 11
ROLE_WEAK = Qt.ItemDataRole.UserRole + 12
ROLE_PINNED = Qt.ItemDataRole.UserRole + 13


class PhotoGridModel(QAbstractListModel):
    """A list of photo ids; thumbnails come lazily from the loader, a placeholder meanwhile.

    Holds nothing per photo but its id (a compact int array), so 100k photos cost under a megabyte.
    """

    def __init__(
        self,
        loader: ThumbnailLoader,
        describe: Callable[[int], str] | None = None,
        parent: Any = None,
        badge: Callable[[int], str] | None = None,
    ) -> None:
        super().__init__(parent)
        self._ids = array("q")
        self._loader = loader
        self._describe = describe
        self._badge = badge
        self._waiting: dict[int, int] = {}  # photo id → row that asked for its thumbnail
        self.placeholder = placeholder_pixmap()
        loader.loaded.connect(self._on_loaded)

    def set_ids(self, ids: Iterable[int]) -> None:
        self.beginResetModel()
        self._ids = array("q", ids)
        self._waiting.clear()
        self.endResetModel()

    def ids(self) -> list[int]:
        return self._ids.tolist()

    def photo_id(self, row: int) -> int:
        return self._ids[row]

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._ids)

    def flags(self, index: Index) -> Qt.ItemFlag:
        flags = super().flags(index)
        return flags | Qt.ItemFlag.ItemIsDragEnabled if index.isValid() else flags

    def mimeTypes(self) -> list[str]:
        return [PHOTOS_MIME, "text/uri-list"]

    def mimeData(self, indexes: list[QModelIndex]) -> QMimeData:  # type: ignore[override]
        rows = sorted({i.row() for i in indexes if i.isValid()})
        ids = [self._ids[row] for row in rows]
        paths = [self._describe(i) for i in ids] if self._describe is not None else []
        return photos_mime(ids, paths)

    def supportedDragActions(self) -> Qt.DropAction:
        # Copy: a drop never asks this model to remove rows; the engine decides what a drop means.
        return Qt.DropAction.CopyAction

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._ids):
            return None
        photo_id = self._ids[index.row()]
        if role == Qt.ItemDataRole.DecorationRole:
            pixmap = self._loader.pixmap(photo_id)
            if pixmap is None:
                self._waiting[photo_id] = index.row()
                return self.placeholder
            return pixmap
        if role == ROLE_PHOTO_ID:
            return photo_id
        if role == ROLE_LOADED:
            return self._loader.pixmap(photo_id) is not None
        if role == ROLE_BADGE:
            return self._badge(photo_id) if self._badge is not None else ""
        if role == Qt.ItemDataRole.ToolTipRole and self._describe is not None:
            return self._describe(photo_id)
        return None

    def _on_loaded(self, photo_id: int) -> None:
        row = self._waiting.pop(photo_id, None)
        if row is not None and row < len(self._ids) and self._ids[row] == photo_id:
            index = self.index(row)
            emit(self.dataChanged, index, index, [Qt.ItemDataRole.DecorationRole, ROLE_LOADED])


EntryKind = Literal["all", "album", "other", "folder", "year", "place", "duplicates"]
EntryKey = tuple[str, int | str | None]


@dataclass(frozen=True)
class SidebarEntry:
    """One row of the sidebar: "All photos", an album, "Other", or a library folder."""

    kind: EntryKind
    album: Album | None
    size: int
    cover: int | None
    folder: str | None = None  # a library folder or one of its subfolders, for kind "folder"
    year: str | None = None  # "2023", or "Undated", for kind "year"
    depth: int = 0  # a subfolder's level under its library folder
    expandable: bool = False  # a folder with subfolders (a country with cities)
    expanded: bool = False
    place: PlaceRow | None = None  # a country or one of its cities, for kind "place"

    @property
    def key(self) -> EntryKey:
        if self.kind == "folder":
            return (self.kind, self.folder)
        if self.kind == "year":
            return (self.kind, self.year)
        if self.kind == "place":
            assert self.place is not None
            return (self.kind, self.place.key)
        return (self.kind, self.album.id if self.album else None)

    @property
    def album_id(self) -> int | None:
        return self.album.id if self.kind == "album" and self.album else None

    @property
    def title(self) -> str:
        if self.kind == "all":
            return "All photos"
        if self.kind == "folder":
            assert self.folder is not None
            return Path(self.folder).name or self.folder
        if self.kind == "year":
            assert self.year is not None
            return self.year
        if self.kind == "place":
            assert self.place is not None
            return self.place.title
        if self.kind == "duplicates":
            return "Duplicates"
        assert self.album is not None
        return "Other" if self.kind == "other" else self.album.title

    @property
    def weak(self) -> bool:
        """An automatic name the engine is not confident about: worth renaming."""
        return self.kind == "album" and self.album is not None and self.album.generic and not self.album.user_named


ALBUM_ORDER_KEY = "sidebar/album_order"
ALBUM_ORDERS = {"name": "Name", "date": "Date (newest first)", "size": "Size (largest first)"}
DEFAULT_ALBUM_ORDER = "name"


def sort_albums(albums: list[Album], order: str) -> list[Album]:
    """Albums in the user's order, ties by id (so a row never jumps on its own); "Other" (id None) last."""
    live = [a for a in albums if a.id is not None]
    other = [a for a in albums if a.id is None]
    if order == "size":
        live.sort(key=lambda a: (-a.size, a.id))
    elif order == "date":
        live.sort(key=lambda a: a.id or 0)
        live.sort(key=lambda a: a.date_to or a.date_from or "", reverse=True)  # stable: undated last
    else:
        live.sort(key=lambda a: (a.name.casefold(), a.id))
    return live + other


class AlbumListModel(QAbstractListModel):
    """The sidebar: "All photos", the albums (in the user's order), "Other", the library folders, then the years.

    Album names edit in place. Folders and years let the user browse photos even before (or without) albums.
    """

    def __init__(self, service: LibraryService, loader: ThumbnailLoader, parent: Any = None) -> None:
        super().__init__(parent)
        self._service = service
        self._loader = loader
        self._entries: list[SidebarEntry] = []
        self.order = DEFAULT_ALBUM_ORDER
        self._expanded: set[str] = set()  # folders whose subfolders are shown
        self._expanded_places: set[str] = set()  # countries whose cities are shown
        self._italic = QFont()
        self._italic.setItalic(True)
        loader.loaded.connect(self._on_loaded)
        self.reload()

    def reload(self) -> None:
        """Re-read the albums; rows change in place when the list keeps its shape (a rename, a pin)."""
        ids = self._service.all_photo_ids()
        entries = [SidebarEntry("all", None, len(ids), ids[0] if ids else None)]
        for album in sort_albums(self._service.albums(), self.order):
            cover = album.cover if album.cover is not None else (album.members[0] if album.members else None)
            entries.append(SidebarEntry("album" if album.id is not None else "other", album, album.size, cover))
        for folder in self._service.photo_folders():
            entries += self._folder_tree(folder)
        for place in place_rows(self._service.places(), self._expanded_places):
            ids_in = self._service.place_photo_ids(place.country, place.city)
            entries.append(
                SidebarEntry(
                    "place",
                    None,
                    place.count,
                    ids_in[0] if ids_in else None,
                    depth=place.depth,
                    expandable=place.expandable,
                    expanded=place.expanded,
                    place=place,
                )
            )
        for year, ids_in in self._service.photos_by_year().items():
            entries.append(SidebarEntry("year", None, len(ids_in), ids_in[0], year=year))
        duplicates = self._service.duplicates()
        if duplicates:  # sets of files that hold one picture; the count is the sets
            entries.append(SidebarEntry("duplicates", None, len(duplicates), duplicates[0].files[0].photo_id))
        if [e.key for e in entries] == [e.key for e in self._entries]:
            self._entries = entries
            if entries:
                emit(self.dataChanged, self.index(0), self.index(len(entries) - 1))
            return
        self.beginResetModel()
        self._entries = entries
        self.endResetModel()

    def _folder_tree(self, root: str) -> list[SidebarEntry]:
        """A library folder's row, and below it the rows of the subfolders the user opened."""
        children: dict[str, list[str]] = {}
        for sub in self._service.subfolders(root):
            children.setdefault(os.path.dirname(sub), []).append(sub)
        rows: list[SidebarEntry] = []

        def add(folder: str, depth: int) -> None:
            ids_in = self._service.folder_photo_ids(folder)
            expanded = folder in self._expanded
            cover = ids_in[0] if ids_in else None
            rows.append(
                SidebarEntry("folder", None, len(ids_in), cover, folder, None, depth, folder in children, expanded)
            )
            if expanded:
                for child in children.get(folder, []):
                    add(child, depth + 1)

        add(root, 0)
        return rows

    def set_folder_expanded(self, folder: str, expanded: bool) -> None:
        """Show (or hide) a folder's subfolders below it."""
        if expanded != (folder in self._expanded):
            (self._expanded.add if expanded else self._expanded.discard)(folder)
            self.reload()

    def set_place_expanded(self, country: str, expanded: bool) -> None:
        """Show (or hide) a country's cities below it."""
        if expanded != (country in self._expanded_places):
            (self._expanded_places.add if expanded else self._expanded_places.discard)(country)
            self.reload()

    def set_order(self, order: str) -> None:
        """Sort the albums by "name", "date" or "size"."""
        if order in ALBUM_ORDERS and order != self.order:
            self.order = order
            self.reload()

    def entries(self) -> list[SidebarEntry]:
        return list(self._entries)

    def entry(self, row: int) -> SidebarEntry:
        return self._entries[row]

    def row_of(self, key: EntryKey) -> int | None:
        return next((row for row, e in enumerate(self._entries) if e.key == key), None)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._entries)

    def flags(self, index: Index) -> Qt.ItemFlag:
        flags = super().flags(index)
        if not index.isValid():
            return flags
        kind = self._entries[index.row()].kind
        if kind == "album":
            flags |= Qt.ItemFlag.ItemIsEditable | Qt.ItemFlag.ItemIsDragEnabled | Qt.ItemFlag.ItemIsDropEnabled
        elif kind == "other":
            flags |= Qt.ItemFlag.ItemIsDropEnabled
        return flags

    def mimeTypes(self) -> list[str]:
        return [ALBUMS_MIME]

    def mimeData(self, indexes: list[QModelIndex]) -> QMimeData:  # type: ignore[override]
        rows = sorted({i.row() for i in indexes if i.isValid()})
        return albums_mime([a for a in (self._entries[r].album_id for r in rows) if a is not None])

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.CopyAction

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._entries):
            return None
        entry = self._entries[index.row()]
        album = entry.album
        if role == Qt.ItemDataRole.DisplayRole:
            return entry.title
        if role == Qt.ItemDataRole.EditRole:
            return album.name if album else entry.title
        if role == Qt.ItemDataRole.DecorationRole:
            return self._cover(entry)
        if role == Qt.ItemDataRole.FontRole and entry.kind == "album" and album and not album.user_named:
            return self._italic  # the machine's name; the user's own names are upright
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(entry)
        if role == ROLE_ENTRY:
            return entry
        if role == ROLE_SIZE:
            return entry.size
        if role == ROLE_WEAK:
            return entry.weak
        if role == ROLE_PINNED:
            return bool(album and album.pinned)
        return None

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or not index.isValid():
            return False
        entry = self._entries[index.row()]
        name = " ".join(str(value).split())
        if entry.album_id is None or not name or (entry.album and name == entry.album.name):
            return False
        return self._service.rename(entry.album_id, name)  # albumsChanged → reload refreshes the row

    def _cover(self, entry: SidebarEntry) -> QPixmap | None:
        if entry.cover is None:
            return None
        return self._loader.pixmap(entry.cover)

    @staticmethod
    def _tooltip(entry: SidebarEntry) -> str:
        if entry.kind == "duplicates":
            return f"{entry.size} sets of files that hold the same picture, to tidy up in your file manager"
        lines = [entry.title, f"{entry.size} photo{'s' if entry.size != 1 else ''}"]
        if entry.kind == "album" and entry.album is not None:
            if entry.album.pinned:
                lines.append("Pinned: re-clustering leaves it as it is")
            if entry.weak:
                lines.append("A tentative name: rename it (F2)")
            elif not entry.album.user_named:
                lines.append("Named automatically")
        if entry.kind == "other":
            lines.append("Photos in no album")
        if entry.kind == "folder":
            lines = [entry.folder or "", f"{entry.size} photo{'s' if entry.size != 1 else ''}", "A library folder"]
        if entry.kind == "place" and entry.place is not None:
            lines = [entry.title, place_tooltip(entry.place.country, entry.place.city, entry.size)]
        if entry.kind == "year":
            lines.append("Photos taken that year" if entry.year != UNDATED else "Photos without a capture date")
        return "\n".join(lines)

    def _on_loaded(self, photo_id: int) -> None:
        for row, entry in enumerate(self._entries):
            if entry.cover == photo_id:
                index = self.index(row)
                emit(self.dataChanged, index, index, [Qt.ItemDataRole.DecorationRole])
