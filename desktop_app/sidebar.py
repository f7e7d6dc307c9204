"""The album sidebar: cover, title (automatic names in italic), markers and size per row; names edit in place."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPoint, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QListView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from desktop_app.models import ROLE_ENTRY, ROLE_PINNED, ROLE_SIZE, ROLE_WEAK, AlbumListModel, SidebarEntry

COVER = 36
ROW_HEIGHT = COVER + 10
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

        cover_rect = QRect(rect.left() + 6, rect.top() + (rect.height() - COVER) // 2, COVER, COVER)
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
        if entry.kind != "album":
            font.setBold(True)
        painter.setFont(font)
        painter.setPen(dim if index.data(ROLE_WEAK) else text_color)
        title_rect = self.title_rect(rect).adjusted(0, 0, -size_width - marks_width, 0)
        title = painter.fontMetrics().elidedText(str(index.data()), Qt.TextElideMode.ElideRight, title_rect.width())
        painter.drawText(title_rect, int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft), title)
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
    """The list of "All photos", albums and "Other"; several albums can be selected to merge them."""

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

    def select_key(self, key: tuple[str, int | None]) -> bool:
        """Make the row with this key current (and the only selection); False when it is gone."""
        row = self.album_model().row_of(key)
        if row is None:
            return False
        self.setCurrentIndex(self.album_model().index(row))
        return True
