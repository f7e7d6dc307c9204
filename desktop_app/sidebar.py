"""The album sidebar: cover, title (automatic names in italic), markers and size per row; names edit in place."""

from __future__ import annotations

import os

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QDragEnterEvent,
    QDragLeaveEvent,
    QDragMoveEvent,
    QDropEvent,
    QFont,
    QIcon,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPalette,
    QPen,
    QPixmap,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QListView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from desktop_app.drag_data import dragged_albums, dragged_photos
from desktop_app.models import ROLE_ENTRY, ROLE_PINNED, ROLE_SIZE, ROLE_WEAK, AlbumListModel, EntryKey, SidebarEntry
from desktop_app.qt_compat import emit

COVER = 36
ROW_HEIGHT = COVER + 10
ARROW = 14  # the disclosure arrow of a folder with subfolders
INDENT = 16  # per level of subfolder


def folder_indent(entry: SidebarEntry) -> int:
    """How far a row's icon and title move right: folders make room for their arrow and their level."""
    return ARROW + entry.depth * INDENT if entry.kind in ("folder", "place") else 0


def arrow_rect(rect: QRect, entry: SidebarEntry) -> QRect:
    """Where a folder row's disclosure arrow is (clicking it shows or hides the subfolders)."""
    left = rect.left() + 4 + entry.depth * INDENT
    return QRect(left, rect.top(), ARROW, rect.height())


PIN_MARK = "\u2691"  # ⚑
WEAK_MARK = "?"

Index = QModelIndex | QPersistentModelIndex


class AlbumDelegate(QStyledItemDelegate):
    """Paints a sidebar row; the editor (a line edit of the album's name) covers the title."""

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        return QSize(200, ROW_HEIGHT)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        entry: SidebarEntry = index.data(ROLE_ENTRY)
        style = option.widget.style() if option.widget else QApplication.style()
        background = QStyleOptionViewItem(option)
        self.initStyleOption(background, index)
        background.text = ""
        background.icon = QIcon()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, background, painter, option.widget)
        painter.save()
        rect = option.rect
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        text_role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        text_color = option.palette.color(text_role)
        dim = QColor(text_color)
        dim.setAlpha(150)

        indent = folder_indent(entry)
        cover_rect = QRect(rect.left() + 6 + indent, rect.top() + (rect.height() - COVER) // 2, COVER, COVER)
        previous = index.model().index(index.row() - 1, 0).data(ROLE_ENTRY) if index.row() > 0 else None
        if (
            entry.kind in ("folder", "year", "place", "duplicates")
            and previous is not None
            and previous.kind != entry.kind
        ):
            painter.setPen(dim)  # a rule before the library folders, the places, the years and Duplicates
            painter.drawLine(rect.left() + 6, rect.top(), rect.right() - 6, rect.top())
        if entry.kind in ("folder", "place") and entry.expandable:
            painter.setPen(dim)
            painter.drawText(arrow_rect(rect, entry), int(Qt.AlignmentFlag.AlignCenter), "▾" if entry.expanded else "▸")
        if entry.kind == "folder":
            folder_icon = style.standardIcon(QStyle.StandardPixmap.SP_DirIcon)
            folder_icon.paint(painter, cover_rect.adjusted(6, 6, -6, -6))
        else:
            self._paint_cover(painter, cover_rect, index.data(Qt.ItemDataRole.DecorationRole), entry)

        size_text = f"{index.data(ROLE_SIZE):,}"
        metrics = option.fontMetrics
        size_width = metrics.horizontalAdvance(size_text) + 10
        painter.setPen(dim)
        painter.drawText(
            QRect(rect.right() - size_width, rect.top(), size_width - 6, rect.height()),
            int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight),
            size_text,
        )
        marks = (PIN_MARK + " " if index.data(ROLE_PINNED) else "") + (WEAK_MARK if index.data(ROLE_WEAK) else "")
        marks_width = metrics.horizontalAdvance(marks) + 6 if marks else 0
        if marks:
            painter.drawText(
                QRect(rect.right() - size_width - marks_width, rect.top(), marks_width, rect.height()),
                int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight),
                marks,
            )
        font = QFont(option.font)
        custom = index.data(Qt.ItemDataRole.FontRole)
        if custom is not None:
            font.setItalic(custom.italic())
        if entry.kind in ("all", "other"):
            font.setBold(True)
        painter.setFont(font)
        painter.setPen(dim if index.data(ROLE_WEAK) else text_color)
        title_rect = self.title_rect(rect).adjusted(indent, 0, -size_width - marks_width, 0)
        title = painter.fontMetrics().elidedText(str(index.data()), Qt.TextElideMode.ElideRight, title_rect.width())
        painter.drawText(title_rect, int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft), title)
        if isinstance(option.widget, AlbumSidebar) and option.widget.drop_row == index.row():
            # The row a drag would drop on: a clear frame, since the drop changes albums.
            painter.setPen(QPen(option.palette.color(QPalette.ColorRole.Highlight), 2))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(rect.adjusted(1, 1, -2, -2), 4, 4)
        painter.restore()

    @staticmethod
    def title_rect(rect: QRect) -> QRect:
        return QRect(rect.left() + COVER + 14, rect.top(), rect.width() - COVER - 14, rect.height())

    def updateEditorGeometry(self, editor: QWidget, option: QStyleOptionViewItem, index: Index) -> None:
        area = self.title_rect(option.rect)
        height = editor.sizeHint().height()
        editor.setGeometry(area.left(), area.center().y() - height // 2, area.width() - 6, height)

    @staticmethod
    def _paint_cover(painter: QPainter, target: QRect, pixmap: QPixmap | None, entry: SidebarEntry) -> None:
        if pixmap is None or pixmap.isNull():
            painter.fillRect(target, QColor("#dcdcdc"))
            return
        # Centre-crop to a square so covers line up whatever their aspect.
        side = min(pixmap.width(), pixmap.height())
        source = QRect(QPoint((pixmap.width() - side) // 2, (pixmap.height() - side) // 2), QSize(side, side))
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.drawPixmap(target, pixmap, source)


class AlbumSidebar(QListView):
    """The list of "All photos", albums and "Other"; several albums can be selected to merge them.

    Drops are handled here rather than by the model, because their meaning is an album action: photos
    dropped on an album move there (on "Other": out of their album), albums dropped on an album merge
    into it. The view only reports them; the window carries them out through the service.

    Signals:
        photosDropped(photo_ids, entry): photos from the grid were dropped on an album or "Other".
        albumsDropped(album_ids, entry): albums were dropped on another album.
    """

    photosDropped = Signal(list, object)
    albumsDropped = Signal(list, object)

    def __init__(self, model: AlbumListModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("albumSidebar")
        self.setModel(model)
        self.setItemDelegate(AlbumDelegate(self))
        self.setUniformItemSizes(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked | QAbstractItemView.EditTrigger.EditKeyPressed)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.setMinimumWidth(220)
        self.setDragEnabled(True)
        self.setAcceptDrops(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.setDefaultDropAction(Qt.DropAction.CopyAction)
        self.setDropIndicatorShown(False)  # the delegate frames the target row instead
        self.drop_row: int | None = None

    # -- the folder tree ---------------------------------------------------------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:
        index = self.indexAt(event.position().toPoint())
        entry = self.album_model().entry(index.row()) if index.isValid() else None
        if (
            entry is not None
            and entry.expandable
            and event.button() == Qt.MouseButton.LeftButton
            and arrow_rect(self.visualRect(index), entry).contains(event.position().toPoint())
        ):
            if entry.kind == "place" and entry.place is not None:
                self.album_model().set_place_expanded(entry.place.country, not entry.expanded)
            else:
                self.album_model().set_folder_expanded(entry.folder or "", not entry.expanded)
            self.select_key(entry.key)
            return
        super().mousePressEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Right opens a folder's subfolders, Left closes them (or goes to the parent folder), as in a tree."""
        entry = self.current_entry()
        key = event.key()
        if entry is not None and entry.kind == "place" and entry.place and key in (Qt.Key.Key_Right, Qt.Key.Key_Left):
            country = entry.place.country
            if key == Qt.Key.Key_Right and entry.expandable and not entry.expanded:
                self.album_model().set_place_expanded(country, True)
            elif key == Qt.Key.Key_Left and entry.expanded:
                self.album_model().set_place_expanded(country, False)
            elif key == Qt.Key.Key_Left and entry.depth > 0:
                self.select_key(("place", country))
                return
            self.select_key(entry.key)
            return
        if entry is not None and entry.kind == "folder" and key in (Qt.Key.Key_Right, Qt.Key.Key_Left):
            folder = entry.folder or ""
            if key == Qt.Key.Key_Right and entry.expandable and not entry.expanded:
                self.album_model().set_folder_expanded(folder, True)
                self.select_key(entry.key)
            elif key == Qt.Key.Key_Left and entry.expanded:
                self.album_model().set_folder_expanded(folder, False)
                self.select_key(entry.key)
            elif key == Qt.Key.Key_Left and entry.depth > 0:
                self.select_key(("folder", os.path.dirname(folder)))
            return
        super().keyPressEvent(event)

    # -- drops -----------------------------------------------------------------------------------

    def drop_target(self, event: QDropEvent | QDragMoveEvent) -> SidebarEntry | None:
        """The entry a drag over `event`'s position would drop on, or None when it cannot drop there."""
        index = self.indexAt(event.position().toPoint())
        if not index.isValid():
            return None
        entry = self.album_model().entry(index.row())
        data = event.mimeData()
        if dragged_photos(data):
            return entry if entry.kind in ("album", "other") else None
        albums = dragged_albums(data)
        if albums and entry.album_id is not None and entry.album_id not in albums:
            return entry
        return None

    def _set_drop_row(self, row: int | None) -> None:
        if row != self.drop_row:
            self.drop_row = row
            self.viewport().update()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if dragged_photos(event.mimeData()) or dragged_albums(event.mimeData()):
            event.setDropAction(Qt.DropAction.CopyAction)
            event.accept()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        target = self.drop_target(event)
        self._set_drop_row(self.album_model().row_of(target.key) if target is not None else None)
        if target is None:
            event.ignore()
            return
        event.setDropAction(Qt.DropAction.CopyAction)
        event.accept()

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:
        self._set_drop_row(None)
        event.accept()

    def dropEvent(self, event: QDropEvent) -> None:
        self._set_drop_row(None)
        target = self.drop_target(event)
        if target is None:
            event.ignore()
            return
        event.setDropAction(Qt.DropAction.CopyAction)
        event.accept()
        photos = dragged_photos(event.mimeData())
        if photos:
            emit(self.photosDropped, photos, target)
        else:
            emit(self.albumsDropped, dragged_albums(event.mimeData()), target)

    def album_model(self) -> AlbumListModel:
        model = self.model()
        assert isinstance(model, AlbumListModel)
        return model

    def current_entry(self) -> SidebarEntry | None:
        index = self.currentIndex()
        return self.album_model().entry(index.row()) if index.isValid() else None

    def selected_entries(self) -> list[SidebarEntry]:
        rows = sorted(i.row() for i in self.selectionModel().selectedRows())
        return [self.album_model().entry(row) for row in rows]

    def select_key(self, key: EntryKey) -> bool:
        """Make the row with this key current (and the only selection); False when it is gone."""
        row = self.album_model().row_of(key)
        if row is None:
            return False
        self.setCurrentIndex(self.album_model().index(row))
        return True
