"""The sidebar shows a library folder's subfolders as a tree (issue 16, item 11): closed at first, opened by
its arrow or the Right key, each subfolder showing the photos under it."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from desktop_app.main_window import MainWindow
from desktop_app.sidebar import arrow_rect

from .conftest import SmallLibrary


def _folders(window: MainWindow) -> list[tuple[str, int]]:
    return [(Path(e.folder or "").name, e.depth) for e in window.album_model.entries() if e.kind == "folder"]


def test_subfolders_open_by_their_arrow_and_show_their_photos(
    window: MainWindow, small_library: SmallLibrary, qtbot
) -> None:
    root = window.service.photo_folders()[0]
    assert _folders(window) == [("photos", 0)], "closed at first: the sidebar stays short"
    row = window.album_model.row_of(("folder", root))
    entry = window.album_model.entry(row)
    assert entry.expandable and not entry.expanded
    rect = window.sidebar.visualRect(window.album_model.index(row))
    qtbot.mouseClick(window.sidebar.viewport(), Qt.MouseButton.LeftButton, pos=arrow_rect(rect, entry).center())
    assert _folders(window) == [("photos", 0), ("beach", 1), ("city", 1), ("forest", 1), ("loose", 1)]
    beach = str(small_library.photos / "beach")
    assert window.sidebar.select_key(("folder", beach))
    assert window.grid_model.rowCount() == 3
    assert window.grid.caption.text().startswith("beach")


def test_right_opens_and_left_closes_a_folder(window: MainWindow, qtbot) -> None:
    root = window.service.photo_folders()[0]
    assert window.sidebar.select_key(("folder", root))
    window.sidebar.setFocus()
    qtbot.keyClick(window.sidebar, Qt.Key.Key_Right)
    assert len(_folders(window)) == 5
    assert window.sidebar.current_entry().key == ("folder", root)
    qtbot.keyClick(window.sidebar, Qt.Key.Key_Down)
    assert window.sidebar.current_entry().depth == 1
    qtbot.keyClick(window.sidebar, Qt.Key.Key_Left)
    assert window.sidebar.current_entry().key == ("folder", root), "Left goes up to the parent"
    qtbot.keyClick(window.sidebar, Qt.Key.Key_Left)
    assert _folders(window) == [("photos", 0)]
