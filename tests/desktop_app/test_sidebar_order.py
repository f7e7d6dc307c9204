"""The status bar and the sidebar stay true and still (issue 16, item 12): "Watching N folders" follows an added
folder; albums keep the order the user chose (name, date or size, remembered); a move or an undo keeps the
selection."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from PySide6.QtCore import QSettings

from desktop_app.main_window import MainWindow
from desktop_app.models import ALBUM_ORDER_KEY
from desktop_app.service import LibraryService

from .conftest import SmallLibrary, open_window


def _album_names(window: MainWindow) -> list[str]:
    return [e.album.name for e in window.album_model.entries() if e.kind == "album" and e.album]


def test_watching_label_counts_a_folder_added_later(qtbot, service: LibraryService, tmp_path: Path, make_photo) -> None:
    window = open_window(qtbot, service, tmp_path / "w.ini", watch=True)
    try:
        qtbot.waitUntil(lambda: window.watch_label.text().startswith("Watching 1 folder"), timeout=10_000)
        second = tmp_path / "more"
        make_photo(second / "one.jpg", taken=dt.datetime(2024, 1, 1, 12))
        qtbot.waitUntil(lambda: not service.busy, timeout=30_000)  # the watcher's start-up rescan
        with qtbot.waitSignal(service.operationFinished, timeout=30_000):
            assert service.index_folders([second], embed=False)
        qtbot.waitUntil(lambda: window.watch_label.text().startswith("Watching 2 folders"), timeout=10_000)
    finally:
        window.close()
        service.stop_watching()
        assert window.loader.wait_for_done()


def test_albums_keep_their_place_after_a_move(window: MainWindow, small_library: SmallLibrary, qtbot) -> None:
    window.set_album_order("name")
    before = _album_names(window)
    assert before == sorted(before, key=str.casefold)
    forest = small_library.albums["Forest"]
    assert window.sidebar.select_key(("album", forest))
    # Move every beach photo into Forest: by size it would now come first; by name it stays where it was.
    assert window.service.move(small_library.photo_ids["beach"], forest)
    assert _album_names(window) == [n for n in before if n != "Beach"] or _album_names(window) == before
    assert window.sidebar.current_entry().key == ("album", forest), "the selection stays"
    assert window.service.undo()
    assert _album_names(window) == before
    assert window.sidebar.current_entry().key == ("album", forest), "and stays after an undo"


def test_the_order_is_the_users_choice_and_is_remembered(
    window: MainWindow, small_library: SmallLibrary, qtbot, tmp_path: Path
) -> None:
    window.set_album_order("size")
    sizes = [e.size for e in window.album_model.entries() if e.kind == "album"]
    assert sizes == sorted(sizes, reverse=True)
    window.set_album_order("date")
    names = _album_names(window)
    assert names.index("Beach") > names.index("Forest"), "newest first: the forest photos are later"
    assert window.settings.value(ALBUM_ORDER_KEY) == "date"
    actions = {a.data(): a for a in window.album_order_actions}
    assert actions["date"].isChecked() and not actions["name"].isChecked()
    settings = QSettings(window.settings.fileName(), QSettings.Format.IniFormat)
    assert settings.value(ALBUM_ORDER_KEY) == "date"


def test_the_selection_stays_when_an_undo_brings_back_a_merged_album(
    window: MainWindow, small_library: SmallLibrary, qtbot
) -> None:
    beach, forest = small_library.albums["Beach"], small_library.albums["Forest"]
    assert window.sidebar.select_key(("album", beach))
    assert window.service.rename(beach, "Seaside")
    assert window.sidebar.current_entry().key == ("album", beach)
    assert window.service.undo()
    assert window.sidebar.current_entry() is not None
    assert window.sidebar.current_entry().key == ("album", beach)
    assert window.sidebar.select_key(("album", forest))
    assert window.service.merge([beach], forest)
    assert window.service.undo()
    assert window.sidebar.current_entry().key == ("album", forest)
