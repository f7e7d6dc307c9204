"""Undo, Redo and History… in the window: keys and menus, the history dialog, a re-cluster summary's Undo."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QApplication, QMessageBox, QToolBar

from desktop_app import worker
from desktop_app.history_dialog import COLUMN_ACTION, COLUMN_NEXT, HistoryDialog, describe_time
from desktop_app.main_window import MainWindow
from engine.albums.recluster import ReclusterSummary
from engine.albums.store import AlbumStore
from engine.errors import InvalidInputError
from engine.library import Library

from .conftest import SmallLibrary


def album_sizes(window: MainWindow) -> dict[str, int]:
    return {a.name: a.size for a in window.service.albums()}


def message(window: MainWindow) -> str:
    return window.statusBar().currentMessage()


def edit_menu_texts(window: MainWindow) -> list[str]:
    menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Edit")
    return [a.text() for a in menu.actions() if not a.isSeparator()]


def test_redo_is_in_the_edit_menu_and_toolbar_with_its_keys(window: MainWindow) -> None:
    assert edit_menu_texts(window)[:3] == ["Undo", "Redo", "History…"]
    toolbar = window.findChild(QToolBar, "mainToolbar")
    assert window.redo_action in toolbar.actions() and window.undo_action in toolbar.actions()
    keys = [k.toString() for k in window.redo_action.shortcuts()]
    assert keys == ["Ctrl+Shift+Z", "Ctrl+Y"]
    assert window.undo_action.shortcut().matches(QKeySequence(QKeySequence.StandardKey.Undo))


def test_undo_and_redo_are_enabled_only_when_there_is_something_to_do(
    window: MainWindow, small_library: SmallLibrary
) -> None:
    assert window.undo_action.isEnabled()  # the fixture's three new albums
    assert not window.redo_action.isEnabled()
    assert window.service.merge([small_library.albums["Forest"]], small_library.albums["Beach"])
    assert "Merge" in window.undo_action.toolTip() and "Forest" in window.undo_action.toolTip()

    window.undo_action.trigger()
    assert message(window).startswith("Undone: Merge") and "Forest" in message(window)
    assert window.redo_action.isEnabled() and "Forest" in window.redo_action.toolTip()
    window.redo_action.trigger()
    assert message(window).startswith("Redone: Merge")
    assert "Forest" not in album_sizes(window) and album_sizes(window)["Beach"] == 5
    assert not window.redo_action.isEnabled()

    window.undo_action.trigger()
    assert window.service.rename(small_library.albums["Forest"], "Woods")  # a new action: nothing to redo
    assert not window.redo_action.isEnabled()
    for _ in range(4):  # the rename, then the fixture's three new albums
        window.undo_action.trigger()
    assert not window.undo_action.isEnabled() and window.redo_action.isEnabled()
    window.history_actions.undo_latest()  # e.g. another window of the same library undid it meanwhile
    assert message(window) == "Nothing to undo"


def test_redo_keys_work_in_the_window(window: MainWindow, small_library: SmallLibrary, qtbot) -> None:
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=2_000)
    assert window.service.merge([small_library.albums["Forest"]], small_library.albums["Beach"])
    control = Qt.KeyboardModifier.ControlModifier
    qtbot.keyClick(window.grid.view, Qt.Key.Key_Z, control)
    assert "Forest" in album_sizes(window)
    qtbot.keyClick(window.grid.view, Qt.Key.Key_Z, control | Qt.KeyboardModifier.ShiftModifier)
    assert "Forest" not in album_sizes(window) and message(window).startswith("Redone:")
    qtbot.keyClick(window.grid.view, Qt.Key.Key_Z, control)
    qtbot.keyClick(window.grid.view, Qt.Key.Key_Y, control)
    assert "Forest" not in album_sizes(window)


def test_an_action_that_cannot_be_undone_says_why_and_nothing_changes(
    window: MainWindow, small_library: SmallLibrary, monkeypatch
) -> None:
    before = album_sizes(window)

    def refuse(store: object) -> str:
        raise InvalidInputError("“Re-cluster into fewer albums” can no longer be undone")

    monkeypatch.setattr(AlbumStore, "undo", refuse)
    window.undo_action.trigger()
    box = next(w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible())
    assert box.text() == "“Re-cluster into fewer albums” can no longer be undone." and not box.detailedText()
    box.close()
    assert message(window) != "Nothing to undo" and album_sizes(window) == before


def test_history_dialog_lists_newest_first_and_undoes_and_redoes(
    window: MainWindow, small_library: SmallLibrary, qtbot
) -> None:
    assert window.service.rename(small_library.albums["Forest"], "Woods")
    dialog = window.history_actions.open_history()
    assert isinstance(dialog, HistoryDialog) and dialog.isVisible()
    tree = dialog.tree

    def rows() -> list[tuple[str, str, bool]]:
        items = [tree.topLevelItem(i) for i in range(tree.topLevelItemCount())]
        return [(i.text(COLUMN_ACTION), i.text(COLUMN_NEXT), i.font(COLUMN_ACTION).italic()) for i in items]

    listed = rows()
    assert len(listed) == 4 and "Woods" in listed[0][0] and "Beach" in listed[-1][0]
    assert listed[0][1] == "next Undo" and not any(italic for *_, italic in listed)
    assert tree.topLevelItem(0).text(0).startswith("Today ")
    assert dialog.undo_button.isEnabled() and not dialog.redo_button.isEnabled()

    dialog.undo_button.click()
    listed = rows()
    assert listed[0][0].endswith("(undone)") and listed[0][1] == "next Redo" and listed[0][2]
    assert listed[1][1] == "next Undo" and not listed[1][2]
    assert "Forest" in album_sizes(window) and dialog.redo_button.isEnabled()

    dialog.redo_button.click()
    assert not rows()[0][0].endswith("(undone)") and "Woods" in album_sizes(window)
    assert not dialog.redo_button.isEnabled()
    with qtbot.waitSignal(dialog.destroyed):  # closed, it is deleted and follows the actions no more
        dialog.close()
    window.undo_action.trigger()
    assert window.redo_action.isEnabled()


def test_history_dialog_of_a_library_without_actions(empty_service, qtbot, tmp_path) -> None:
    from .conftest import open_window

    window = open_window(qtbot, empty_service, tmp_path / "w.ini")
    dialog = window.history_actions.open_history()
    assert dialog.tree.isHidden() and not dialog.empty_label.isHidden()
    assert not dialog.undo_button.isEnabled() and not dialog.redo_button.isEnabled()
    dialog.close()
    window.close()


def test_times_read_as_people_say_them() -> None:
    now = dt.datetime(2024, 5, 3, 18, 0).timestamp()
    assert describe_time(dt.datetime(2024, 5, 3, 9, 5).timestamp(), now) == "Today 09:05"
    assert describe_time(dt.datetime(2024, 5, 2, 23, 59).timestamp(), now) == "Yesterday 23:59"
    assert describe_time(dt.datetime(2024, 3, 1, 14, 0).timestamp(), now) == "1 Mar 14:00"
    assert describe_time(dt.datetime(2023, 12, 24, 8, 30).timestamp(), now) == "24 Dec 2023 08:30"


@pytest.fixture
def merging_recluster(small_library: SmallLibrary, monkeypatch) -> None:
    """`Library.recluster` replaced by an album change the window can undo (no CLIP model needed): it merges
    "Forest" into "Beach" on the worker and reports it, as a re-cluster reports what it changed."""

    def recluster(
        self: Library, k=None, *, more=False, fewer=False, progress=None, names_later=False
    ) -> SimpleNamespace:
        self.albums.merge([small_library.albums["Forest"]], small_library.albums["Beach"])
        counts = ReclusterSummary(photos=9, k=2, chosen=True, albums=2, seconds=0.1).lines()[0]  # the engine's words
        lines = [counts, "“Beach”: +2 photos", "“Forest” joined “Beach”"]
        return SimpleNamespace(lines=lambda: lines, changes=lines[1:], names_pending=False)

    monkeypatch.setattr(Library, "recluster", recluster)
    monkeypatch.setattr(Library, "refine", lambda self, progress=None, **options: recluster(self))
    monkeypatch.setattr(worker, "OPERATION_KINDS", worker.OPERATION_KINDS | {"merge"})


def run_recluster(window: MainWindow, qtbot) -> None:
    with qtbot.waitSignal(window.service.operationUndoable, timeout=30_000):
        window.recluster("fewer")
    qtbot.waitUntil(lambda: not window.service.busy, timeout=10_000)


@pytest.mark.usefixtures("merging_recluster")
def test_the_recluster_summary_offers_undo(window: MainWindow, qtbot) -> None:
    run_recluster(window, qtbot)
    strip = window.summary_notice
    assert strip.isVisible() and "“Beach”: +2 photos" in strip.message.text()
    assert strip.action_button.isVisible() and strip.action_button.text() == "Undo"
    assert album_sizes(window)["Beach"] == 5

    qtbot.mouseClick(strip.action_button, Qt.MouseButton.LeftButton)
    assert album_sizes(window)["Beach"] == 3 and album_sizes(window)["Forest"] == 2
    assert message(window).startswith("Undone: Merge") and not strip.isVisible()
    assert window.redo_action.isEnabled()


@pytest.mark.usefixtures("merging_recluster")
def test_the_recluster_summary_keeps_its_counts_behind_show_details(window: MainWindow, qtbot) -> None:
    run_recluster(window, qtbot)
    strip = window.summary_notice
    assert "→" not in strip.message.text() and "sorted into" in strip.message.text()
    assert strip.details_button.isVisible() and strip.details_button.text() == "Show details"
    assert not strip.details.isVisible()
    qtbot.mouseClick(strip.details_button, Qt.MouseButton.LeftButton)
    assert strip.details.isVisible() and "photos →" in strip.details.text()
    assert strip.details_button.text() == "Hide details"
    qtbot.mouseClick(strip.details_button, Qt.MouseButton.LeftButton)
    assert not strip.details.isVisible()


@pytest.mark.usefixtures("merging_recluster")
def test_the_summary_undo_goes_once_other_changes_follow(
    window: MainWindow, small_library: SmallLibrary, qtbot
) -> None:
    run_recluster(window, qtbot)
    strip = window.summary_notice
    assert strip.action_button.isVisible()
    assert window.service.rename(small_library.albums["Beach"], "Coast")  # now the latest action
    assert not strip.action_button.isVisible() and strip.isVisible()
    window.undo_action.trigger()  # the rename: the re-cluster is the latest again, but the offer stays gone
    assert window.service.undo_actions([10**6]) == []  # not the latest: refused, nothing changes
    box = next(w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible())
    assert "undo those first" in box.text()
    box.close()
    assert album_sizes(window)["Beach"] == 5


@pytest.mark.usefixtures("merging_recluster")
def test_refine_from_the_recluster_menu_offers_undo_too(window: MainWindow, qtbot) -> None:
    with qtbot.waitSignal(window.service.operationUndoable, timeout=30_000):
        window.refine_action.trigger()
    qtbot.waitUntil(lambda: not window.service.busy, timeout=10_000)
    assert window.summary_notice.action_button.isVisible()
    assert window.statusBar().currentMessage() == "“Beach”: +2 photos"  # what changed comes first
    window.summary_notice.action_button.click()
    assert album_sizes(window)["Forest"] == 2
