"""Stacks in the window: copies of one picture show as one tile with a count, open to show the rest, and
unstack (undoably) from the grid's menu."""

from __future__ import annotations

import shutil

from PySide6.QtCore import QThreadPool

from desktop_app.main_window import MainWindow
from desktop_app.service import LibraryService
from engine.library import Library

from .conftest import SmallLibrary, open_window
from .test_photo_actions import select_photos


def add_copies(small_library: SmallLibrary) -> list[int]:
    """Two more files with the bytes of beach0.jpg (a backup folder and an export), indexed; their ids."""
    original = small_library.photos / "beach" / "beach0.jpg"
    for folder in ("backup", "export"):
        (small_library.photos / folder).mkdir()
        shutil.copy2(original, small_library.photos / folder / "beach0.jpg")
    with Library(small_library.directory) as library:
        library.index([small_library.photos], embed=False)
        same = {r.hash for r in library.photos() if r.path.endswith(b"beach/beach0.jpg")}
        return [r.id for r in library.photos() if r.hash in same]


def test_copies_fold_into_one_tile_that_opens_and_unstacks(qtbot, small_library: SmallLibrary, tmp_path) -> None:
    copies = add_copies(small_library)
    assert len(copies) == 3
    service = LibraryService(small_library.directory)
    window: MainWindow = open_window(qtbot, service, tmp_path / "window.ini")
    try:
        window.sidebar.select_key(("all", None))
        tiles = window.grid_model.ids()
        assert window.grid.caption.text().endswith("11 photos"), "the caption counts photos, not tiles"
        shown = [p for p in tiles if p in copies]
        assert len(shown) == 1 and len(tiles) == 9, "11 files, three of them one picture"
        assert service.photo_badge(shown[0]) == "3 photos"

        # Double-click opens the stack: every copy, one by one.
        window.photo_actions.open_index(window.grid_model.index(tiles.index(shown[0])))
        assert sorted(window.grid_model.ids()) == sorted(copies)
        assert window.grid.caption.text() == "Stack  ·  3 photos"
        assert service.photo_badge(shown[0]) == ""

        # Unstack from the menu: the copies show one by one from now on; Undo folds them again.
        select_photos(window, [copies[1]])
        window.photo_actions.update_enabled()
        assert window.photo_actions.unstack.isEnabled()
        window.photo_actions.unstack.trigger()
        window.sidebar.select_key(("all", None))
        assert set(copies) <= set(window.grid_model.ids())
        assert service.undo() is not None
        window.sidebar.select_key(("all", None))
        assert len([p for p in window.grid_model.ids() if p in copies]) == 1
        assert (small_library.photos / "backup" / "beach0.jpg").read_bytes() == (
            small_library.photos / "beach" / "beach0.jpg"
        ).read_bytes()
    finally:
        window.close()
        assert window.loader.wait_for_done()
        assert service.close()
        QThreadPool.globalInstance().waitForDone(10_000)


def test_a_stack_in_an_album_counts_its_photos_there(qtbot, small_library: SmallLibrary, tmp_path) -> None:
    copies = add_copies(small_library)
    service = LibraryService(small_library.directory)
    window: MainWindow = open_window(qtbot, service, tmp_path / "window.ini")
    try:
        window.sidebar.select_key(("album", small_library.albums["Beach"]))
        tiles = window.grid_model.ids()
        assert len([p for p in tiles if p in copies]) == 1
        assert len(tiles) == 3, "three beach photos, one of them in three files"
    finally:
        window.close()
        assert window.loader.wait_for_done()
        assert service.close()


def test_an_operation_offers_to_undo_only_what_it_recorded_after_a_stack_action() -> None:
    """Stack actions are numbered apart (negative ids in the history): an unstack before a re-cluster must not
    make the re-cluster's "Undo" offer reach older re-clusters."""
    from desktop_app.worker import undoable
    from engine import HistoryEntry

    class Summary:
        def __init__(self) -> None:
            self.changes: list[str] = []

        def lines(self) -> list[str]:
            return ["done"]

    class FakeLibrary:
        def __init__(self) -> None:
            self.entries = [
                HistoryEntry(-1, "unstack", "Unstack 3 photos (burst)", False, 30.0),
                HistoryEntry(2, "recluster", "Re-cluster", False, 20.0),
                HistoryEntry(1, "recluster", "Re-cluster", False, 10.0),
            ]

        def history(self, limit: int) -> list[HistoryEntry]:
            return self.entries[:limit]

    library = FakeLibrary()

    def run(_library: object, _progress: object) -> Summary:
        library.entries = [HistoryEntry(3, "recluster", "Re-cluster", False, 40.0), *library.entries]
        return Summary()

    lines, recorded = undoable(run)(library, None)
    assert recorded == [3] and lines == ["done"]


def test_an_opened_stack_leads_back_where_it_was_opened(qtbot, small_library: SmallLibrary, tmp_path) -> None:
    """The Back button (or Backspace) leaves an opened stack for the album it was opened from, folded again."""
    from PySide6.QtCore import Qt

    copies = add_copies(small_library)
    service = LibraryService(small_library.directory)
    window: MainWindow = open_window(qtbot, service, tmp_path / "window.ini")
    try:
        window.sidebar.select_key(("all", None))
        tiles = window.grid_model.ids()
        assert not window.grid.back_button.isVisible()
        tile = next(p for p in tiles if p in copies)
        window.photo_actions.open_index(window.grid_model.index(tiles.index(tile)))
        assert window.grid.back_button.isVisible() and "All photos" in window.grid.back_button.text()
        window.grid.back_button.click()
        assert window.grid_model.ids() == tiles and service.photo_badge(tile) == "3 photos"
        assert not window.grid.back_button.isVisible()

        window.photo_actions.open_index(window.grid_model.index(tiles.index(tile)))
        window.grid.view.setFocus()
        qtbot.keyClick(window.grid.view, Qt.Key.Key_Backspace)
        assert window.grid_model.ids() == tiles
    finally:
        window.close()
        QThreadPool.globalInstance().waitForDone(10_000)
