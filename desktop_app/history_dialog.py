"""Edit → History…: the latest actions, newest first, with Undo and Redo; undone ones are greyed."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QPalette
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_app.service import LibraryService

HISTORY_LIMIT = 200
COLUMN_WHEN, COLUMN_ACTION, COLUMN_NEXT = range(3)


def describe_time(created_at: float, now: float | None = None) -> str:
    """An action's time in local time: "Today 14:05", "Yesterday 09:12", "3 Mar 14:05", "3 Mar 2023 14:05"."""
    when = dt.datetime.fromtimestamp(created_at)
    today = dt.datetime.fromtimestamp(now).date() if now is not None else dt.date.today()
    clock = when.strftime("%H:%M")
    if when.date() == today:
        return f"Today {clock}"
    if when.date() == today - dt.timedelta(days=1):
        return f"Yesterday {clock}"
    day = f"{when.day} {when.strftime('%b')}"
    return f"{day} {clock}" if when.year == today.year else f"{day} {when.year} {clock}"


class HistoryDialog(QDialog):
    """The history of one library; its buttons trigger the window's Undo and Redo, and it follows every change.

    Args:
        service: where the history is read.
        undo, redo: the window's actions (their enabled state and tooltips are the buttons').
    """

    def __init__(self, service: LibraryService, undo: QAction, redo: QAction, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("History")
        self._service = service
        self.tree = QTreeWidget()
        self.tree.setObjectName("historyList")
        self.tree.setHeaderLabels(["When", "Action", ""])
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setColumnWidth(COLUMN_WHEN, 130)
        self.tree.setColumnWidth(COLUMN_ACTION, 420)
        self.empty_label = QLabel("Nothing yet: renames, merges, moves, re-clusters and imports are listed here.")
        self.empty_label.setWordWrap(True)
        self._undo, self._redo = undo, redo
        self.undo_button = QPushButton(undo.text())
        self.undo_button.clicked.connect(undo.trigger)
        self.redo_button = QPushButton(redo.text())
        self.redo_button.clicked.connect(redo.trigger)
        undo.changed.connect(self._follow_actions)  # a bound method: disconnected when the dialog goes
        redo.changed.connect(self._follow_actions)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        row = QHBoxLayout()
        row.addWidget(self.undo_button)
        row.addWidget(self.redo_button)
        row.addStretch(1)
        row.addWidget(close)
        column = QVBoxLayout(self)
        column.addWidget(self.tree, 1)
        column.addWidget(self.empty_label)
        column.addLayout(row)
        self.resize(680, 420)
        service.albumsChanged.connect(self.refresh)
        self.refresh()
        self._follow_actions()

    def _follow_actions(self) -> None:
        for button, action in ((self.undo_button, self._undo), (self.redo_button, self._redo)):
            button.setEnabled(action.isEnabled())
            button.setToolTip(action.toolTip())

    def refresh(self) -> None:
        """List the history again (after any change: an undo, a redo, a re-cluster, an import)."""
        entries = self._service.history(HISTORY_LIMIT)
        state = self._service.undo_state()
        grey = self.palette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
        self.tree.clear()
        for entry in entries:
            next_step = ""
            if state.undo is not None and entry.id == state.undo.id:
                next_step = "next Undo"
            elif state.redo is not None and entry.id == state.redo.id:
                next_step = "next Redo"
            text = f"{entry.description}  (undone)" if entry.undone else entry.description
            item = QTreeWidgetItem([describe_time(entry.created_at), text, next_step])
            item.setData(COLUMN_WHEN, Qt.ItemDataRole.UserRole, entry.id)
            item.setToolTip(COLUMN_ACTION, f"{entry.description}\n({entry.kind})")
            if entry.undone:
                for col in range(self.tree.columnCount()):
                    font = item.font(col)
                    font.setItalic(True)
                    item.setFont(col, font)
                    item.setForeground(col, grey)
            self.tree.addTopLevelItem(item)
        self.tree.setVisible(bool(entries))
        self.empty_label.setVisible(not entries)
