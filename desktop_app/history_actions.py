"""Undo, Redo and History… (Edit menu, toolbar, keys), and the Undo offered next to a re-cluster's summary.

Every action is in the history (the user's, re-clusters, refinements, naming, imports), so Undo reverts
whichever came last, and says which; Redo re-applies what was undone last.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QStatusBar, QWidget

from desktop_app.history_dialog import HistoryDialog
from desktop_app.notice_bar import NoticeBar
from desktop_app.service import LibraryService

MESSAGE_MS = 6_000


class HistoryActions(QObject):
    """The window's history commands; enabled only when there is something to undo or redo.

    Args:
        service: the engine.
        status: where "Undone: …", "Redone: …" and "Nothing to undo" are shown.
        summary: the strip that shows a long operation's summary; after a re-cluster it offers Undo.
    """

    def __init__(self, service: LibraryService, status: QStatusBar, summary: NoticeBar, parent: QWidget) -> None:
        super().__init__(parent)
        self._service = service
        self._status = status
        self._summary = summary
        self._window = parent
        self._summarised: list[int] = []  # the actions the summary's Undo reverts
        self.undo = QAction("Undo", parent)
        self.undo.setShortcut(QKeySequence.StandardKey.Undo)
        self.undo.triggered.connect(self.undo_latest)
        self.redo = QAction("Redo", parent)
        self.redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.redo.triggered.connect(self.redo_latest)
        self.history = QAction("History…", parent)
        self.history.setToolTip("Every change to the albums, newest first; undo and redo from there")
        self.history.triggered.connect(self.open_history)
        summary.accepted.connect(self.undo_summarised)
        service.operationFinished.connect(self._forget_summarised)
        service.operationUndoable.connect(self.offer_undo)

    def undo_latest(self) -> None:
        """Undo the latest action, a re-cluster too; when it cannot be undone the error dialog says why."""
        description = self._service.undo()
        if description:
            self._status.showMessage(f"Undone: {description}", MESSAGE_MS)
        elif self._service.undo_state().undo is None:
            self._status.showMessage("Nothing to undo", MESSAGE_MS)

    def redo_latest(self) -> None:
        description = self._service.redo()
        if description:
            self._status.showMessage(f"Redone: {description}", MESSAGE_MS)
        elif self._service.undo_state().redo is None:
            self._status.showMessage("Nothing to redo", MESSAGE_MS)

    def open_history(self) -> HistoryDialog:
        dialog = HistoryDialog(self._service, self.undo, self.redo, self._window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def update_enabled(self) -> None:
        """Undo and Redo say what they would do; the summary's Undo goes once it no longer reverts the latest."""
        state = self._service.undo_state()
        for action, entry, verb, keys in (
            (self.undo, state.undo, "Undo", "Ctrl+Z"),
            (self.redo, state.redo, "Redo", "Ctrl+Shift+Z"),
        ):
            action.setEnabled(entry is not None)
            tip = f"{verb}: {entry.description} ({keys})" if entry is not None else f"Nothing to {verb.lower()}"
            action.setToolTip(tip)
        if self._summarised and not self._service.actions_are_latest(self._summarised):
            self._forget_summarised()  # undone already, or other changes came after it

    def offer_undo(self, action_ids: list[int]) -> None:
        """The summary just shown is a re-cluster's (or a refinement's): offer to undo it from the strip."""
        self._summarised = list(action_ids)
        self._summary.set_action("Undo")
        self._summary.action_button.setToolTip("Put the albums back as they were before it")
        if not self._summary.isVisible():
            self._summary.show_notice("Re-clustered.")

    def undo_summarised(self) -> None:
        actions = self._summarised
        self._forget_summarised()
        undone = self._service.undo_actions(actions)
        if undone:
            self._status.showMessage(f"Undone: {'; '.join(undone)}", MESSAGE_MS)

    def _forget_summarised(self) -> None:
        self._summarised = []
        self._summary.set_action(None)
