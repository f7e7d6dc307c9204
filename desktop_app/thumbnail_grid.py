"""The photo grid: a QListView in icon mode over `PhotoGridModel`, a painting delegate and a zoom slider."""

from __future__ import annotations

from PySide6.QtCore import (
    QEvent,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    QRect,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QPainter, QPalette, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QListView,
    QPushButton,
    QSlider,
    QStackedWidget,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from desktop_app.models import ROLE_BADGE, ROLE_LOADED, ROLE_PHOTO_ID, PhotoGridModel
from desktop_app.qt_compat import emit
from desktop_app.thumbnails import ThumbnailLoader

Index = QModelIndex | QPersistentModelIndex

MIN_ZOOM, MAX_ZOOM, DEFAULT_ZOOM = 64, 320, 160
_PADDING = 6


class ThumbnailDelegate(QStyledItemDelegate):
    """Paints one thumbnail fitted in a square cell; a flat tile while it loads."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.icon_size = DEFAULT_ZOOM

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        side = self.icon_size + 2 * _PADDING
        return QSize(side, side)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        painter.save()
        cell = QRect(option.rect).adjusted(_PADDING // 2, _PADDING // 2, -_PADDING // 2, -_PADDING // 2)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        if selected:
            highlight = option.palette.color(QPalette.ColorRole.Highlight)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(highlight.red(), highlight.green(), highlight.blue(), 70))
            painter.drawRoundedRect(cell, 6, 6)
        area = cell.adjusted(_PADDING // 2, _PADDING // 2, -_PADDING // 2, -_PADDING // 2)
        pixmap = index.data(Qt.ItemDataRole.DecorationRole)
        if index.data(ROLE_LOADED) and pixmap is not None and not pixmap.isNull():
            size = pixmap.size().scaled(area.size(), Qt.AspectRatioMode.KeepAspectRatio)
            target = QRect(QPoint(0, 0), size)
            target.moveCenter(area.center())
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            painter.drawPixmap(target, pixmap)
        else:
            target = area.adjusted(4, 4, -4, -4)
            painter.fillRect(target, QColor("#e4e4e4"))
        badge = index.data(ROLE_BADGE)
        if badge:
            self._paint_badge(painter, target, str(badge))
        if selected:
            painter.setPen(QPen(option.palette.color(QPalette.ColorRole.Highlight), 3))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(cell.adjusted(1, 1, -1, -1), 6, 6)
        painter.restore()

    def _paint_badge(self, painter: QPainter, picture: QRect, text: str) -> None:
        """A video's length (or LIVE, RAW) in a dark pill at the picture's bottom-right corner."""
        metrics = painter.fontMetrics()
        width, height = metrics.horizontalAdvance(text) + 10, metrics.height() + 2
        pill = QRect(picture.right() - width - 3, picture.bottom() - height - 3, width, height)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(0, 0, 0, 160))
        painter.drawRoundedRect(pill, height / 2, height / 2)
        painter.setPen(QColor("white"))
        painter.drawText(pill, Qt.AlignmentFlag.AlignCenter, text)


class ThumbnailGrid(QWidget):
    """The central grid with its zoom slider; shows a message instead of an empty grid.

    Signals:
        zoomChanged(pixels): the thumbnail size changed.
        backRequested(): the user asked to leave an opened stack (the Back button, Backspace, Esc, Alt+Left).
    """

    zoomChanged = Signal(int)
    backRequested = Signal()

    def __init__(self, loader: ThumbnailLoader, model: PhotoGridModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.loader = loader
        self.model = model
        self.view = QListView()
        self.view.setObjectName("photoGrid")
        self.view.setViewMode(QListView.ViewMode.IconMode)
        self.view.setUniformItemSizes(True)  # layout of 100k items without asking each one its size
        self.view.setResizeMode(QListView.ResizeMode.Adjust)
        self.view.setMovement(QListView.Movement.Static)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setSpacing(0)
        # Photos drag onto sidebar albums (and, as files, into other applications).
        self.view.setDragEnabled(True)
        self.view.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.view.setDefaultDropAction(Qt.DropAction.CopyAction)
        self.delegate = ThumbnailDelegate(self.view)
        self.view.setItemDelegate(self.delegate)
        self.view.setModel(model)
        self.view.viewport().installEventFilter(self)

        self.empty_label = QLabel()
        self.empty_label.setObjectName("emptyLabel")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.empty_label.setStyleSheet("color: palette(mid); font-size: 16pt; padding: 40px;")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.view)
        self.stack.addWidget(self.empty_label)

        self.caption = QLabel()
        self.caption.setObjectName("gridCaption")
        self.caption.setStyleSheet("font-weight: 600;")
        self.zoom = QSlider(Qt.Orientation.Horizontal)
        self.zoom.setRange(MIN_ZOOM, MAX_ZOOM)
        self.zoom.setFixedWidth(160)
        self.zoom.setToolTip("Thumbnail size")
        self.zoom.valueChanged.connect(self.set_zoom)
        # Shown while an opened stack fills the grid: the way back to where it was opened from.
        self.back_button = QPushButton()
        self.back_button.setObjectName("gridBack")
        self.back_button.setFlat(True)
        self.back_button.hide()
        self.back_button.clicked.connect(lambda: emit(self.backRequested))
        self.view.installEventFilter(self)  # Backspace, Esc and Alt+Left go back too
        top = QHBoxLayout()
        top.setContentsMargins(8, 4, 8, 4)
        top.addWidget(self.back_button)
        top.addWidget(self.caption, 1)
        top.addWidget(QLabel("Size"))
        top.addWidget(self.zoom)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(top)
        layout.addWidget(self.stack, 1)

        # Queued requests of photos scrolled out of view are dropped, after scrolling settles a little.
        self._retain_timer = QTimer(self, singleShot=True, interval=80)
        self._retain_timer.timeout.connect(self._retain_visible)
        self.view.verticalScrollBar().valueChanged.connect(self._retain_timer.start)
        self.zoom.setValue(DEFAULT_ZOOM)
        self.set_zoom(DEFAULT_ZOOM)

    def show_photos(
        self, ids: list[int], caption: str, empty_text: str = "No photos here yet.", count: int | None = None
    ) -> None:
        """Show these photos (or `empty_text` when there are none) under a caption; `count` is how many photos
        they stand for when some tiles are stacks (default: one each)."""
        if ids != self.model.ids():  # unchanged photos keep their scroll position and selection
            self.model.set_ids(ids)
            self.view.scrollToTop()
        self.back_button.hide()  # a new view; `set_back` offers the way back when there is one
        count = len(ids) if count is None else count
        self.caption.setText(f"{caption}  ·  {count} photo{'s' if count != 1 else ''}" if count else caption)
        self.empty_label.setText(empty_text)
        self.stack.setCurrentWidget(self.view if ids else self.empty_label)

    def set_back(self, place: str) -> None:
        """Offer a way back to `place` (the album, folder or search the shown stack was opened from)."""
        self.back_button.setText(f"◀ {place}")
        self.back_button.setToolTip(f"Back to {place} (Backspace)")
        self.back_button.show()

    @property
    def showing_empty_text(self) -> bool:
        return self.stack.currentWidget() is self.empty_label

    def selected_photo_ids(self) -> list[int]:
        return [int(i.data(ROLE_PHOTO_ID)) for i in self.view.selectionModel().selectedIndexes()]

    def select_photo_ids(self, ids: list[int]) -> None:
        """Select these photos where they are shown (a change of the album reloaded the grid)."""
        wanted = set(ids)
        if not wanted or set(self.selected_photo_ids()) == wanted & set(self.model.ids()):
            return
        selection = QItemSelection()
        for row, photo_id in enumerate(self.model.ids()):
            if photo_id in wanted:
                index = self.model.index(row)
                selection.select(index, index)
        self.view.selectionModel().select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)

    def set_zoom(self, pixels: int) -> None:
        pixels = max(MIN_ZOOM, min(MAX_ZOOM, int(pixels)))
        if self.zoom.value() != pixels:
            self.zoom.setValue(pixels)  # comes back here through valueChanged
            return
        self.delegate.icon_size = pixels
        self.view.setIconSize(QSize(pixels, pixels))
        self._fit_columns()
        emit(self.zoomChanged, pixels)

    def _fit_columns(self) -> None:
        """Spread the columns over the whole width, so no wide empty strip is left on the right."""
        side = self.delegate.icon_size + 2 * _PADDING
        width = self.view.viewport().width() - 2
        if not self.view.verticalScrollBar().isVisible():  # the layout keeps room for a scroll bar to come
            width -= self.view.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        columns = max(1, width // side)
        cell = QSize(max(side, width // columns), side)
        if self.view.gridSize() != cell:
            self.view.setGridSize(cell)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.view.viewport() and event.type() == QEvent.Type.Resize:
            self._fit_columns()
        if watched is self.view and event.type() == QEvent.Type.KeyPress and self.back_button.isVisible():
            key, alt = event.key(), bool(event.modifiers() & Qt.KeyboardModifier.AltModifier)  # type: ignore[attr-defined]
            if key in (Qt.Key.Key_Backspace, Qt.Key.Key_Escape) or (alt and key == Qt.Key.Key_Left):
                self.back_button.click()
                return True
        return super().eventFilter(watched, event)

    def _retain_visible(self) -> None:
        rect = self.view.viewport().rect()
        first = self.view.indexAt(rect.topLeft() + QPoint(_PADDING, _PADDING))
        last = self.view.indexAt(rect.bottomRight() - QPoint(_PADDING, _PADDING))
        start = first.row() if first.isValid() else 0
        end = last.row() if last.isValid() else self.model.rowCount() - 1
        self.loader.retain(self.model.photo_id(row) for row in range(start, min(end, start + 2000) + 1))
