"""The main window: sidebar ↔ grid, album commands, search, undo, progress, welcome view, geometry."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtWidgets import QApplication

from desktop_app import album_actions, main_window, pickers
from desktop_app.main_window import MainWindow
from desktop_app.models import PhotoGridModel
from desktop_app.qt_compat import emit
from desktop_app.service import LibraryService
from desktop_app.thumbnail_grid import ThumbnailGrid
from desktop_app.thumbnails import ThumbnailLoader

from .conftest import SmallLibrary, open_window


def sidebar_titles(window: MainWindow) -> list[str]:
    model = window.album_model
    return [model.index(r).data() for r in range(model.rowCount())]


def test_opens_on_all_photos(window: MainWindow) -> None:
    assert window.pages.currentWidget() is window.splitter
    assert window.sidebar.current_entry().kind == "all"
    assert window.grid_model.rowCount() == 9
    assert "All photos" in window.grid.caption.text()
    assert QApplication.instance() is not None


def test_selecting_an_album_shows_its_photos(window: MainWindow, small_library: SmallLibrary) -> None:
    assert window.sidebar.select_key(("album", small_library.albums["Beach"]))
    assert window.grid_model.rowCount() == 3
    assert sorted(window.grid_model.ids()) == sorted(small_library.photo_ids["beach"])
    assert window.grid.caption.text().startswith("Beach")
    window.sidebar.select_key(("other", None))
    assert sorted(window.grid_model.ids()) == sorted(small_library.photo_ids["loose"])


def test_inline_rename_keeps_the_album_selected(window: MainWindow, small_library: SmallLibrary, qtbot) -> None:
    forest = small_library.albums["Forest"]
    window.sidebar.select_key(("album", forest))
    window.album_actions.rename.trigger()  # F2
    editor = window.sidebar.focusWidget()
    assert editor is not None and editor.text() == "Forest"
    editor.setText("Woods")
    qtbot.keyClick(editor, Qt.Key.Key_Return)  # the delegate commits on the next event loop turn
    qtbot.waitUntil(lambda: window.service.album(forest).name == "Woods", timeout=2_000)
    assert window.sidebar.current_entry().title == "Woods"
    assert window.grid.caption.text().startswith("Woods")


def test_merge_into_then_undo(window: MainWindow, small_library: SmallLibrary, qtbot, monkeypatch) -> None:
    beach, forest = small_library.albums["Beach"], small_library.albums["Forest"]
    window.sidebar.select_key(("album", forest))
    monkeypatch.setattr(album_actions, "choose_merge_target", lambda parent, sources, candidates: beach)
    window.album_actions.update_enabled()
    assert window.album_actions.merge.isEnabled()
    window.album_actions.merge.trigger()
    assert "Forest" not in sidebar_titles(window)
    assert window.sidebar.current_entry().album_id == beach
    assert window.grid_model.rowCount() == 5

    window.undo_action.trigger()  # Ctrl+Z
    assert "Forest" in sidebar_titles(window)
    assert window.statusBar().currentMessage() == "Undone: Merge “Forest” into “Beach”"  # by name, not id
    for _ in range(3):  # the three splits that made the fixture's albums
        window.undo_action.trigger()
    assert sidebar_titles(window) == ["All photos", "Other", "photos", "2023"]  # folder and year stay
    assert not window.undo_action.isEnabled()
    window.history_actions.undo_latest()
    assert window.statusBar().currentMessage() == "Nothing to undo"


def test_merge_several_selected_albums(window: MainWindow, small_library: SmallLibrary, monkeypatch) -> None:
    model = window.album_model
    selection = window.sidebar.selectionModel()
    window.sidebar.select_key(("album", small_library.albums["Forest"]))
    selection.select(model.index(3), selection.SelectionFlag.Select)  # the automatic album
    seen: list[list[str]] = []

    def choose(parent, sources, candidates) -> int:
        seen.append([s.title for s in sources])
        return small_library.albums["Forest"]

    monkeypatch.setattr(album_actions, "choose_merge_target", choose)
    window.album_actions.merge.trigger()
    assert seen == [["Forest", "New album 1 · Jul 2023"]]
    assert window.service.album(small_library.albums["Forest"]).size == 4


def test_pin_from_the_menu_actions(window: MainWindow, small_library: SmallLibrary) -> None:
    window.sidebar.select_key(("album", small_library.albums["Beach"]))
    window.album_actions.update_enabled()
    assert window.album_actions.pin.text() == "Pin"
    window.album_actions.pin.trigger()
    assert window.service.album(small_library.albums["Beach"]).pinned
    window.album_actions.update_enabled()
    assert window.album_actions.pin.text() == "Unpin"


def test_search_without_matches_says_so(window: MainWindow, qtbot, monkeypatch) -> None:
    service = window.service

    def fake_search(query: str, limit: int = 200) -> bool:  # the real one needs CLIP weights
        QTimer.singleShot(0, lambda: emit(service.searchFinished, query, []))
        return True

    monkeypatch.setattr(service, "search", fake_search)
    qtbot.keyClicks(window.search_box, "zebra")
    with qtbot.waitSignal(service.searchFinished):
        qtbot.keyClick(window.search_box, Qt.Key.Key_Return)
    assert window.grid.showing_empty_text
    assert "No good matches" in window.grid.empty_label.text()
    window.search_box.clear()
    assert not window.grid.showing_empty_text
    assert window.grid_model.rowCount() == 9


def test_search_results_fill_the_grid(window: MainWindow, small_library: SmallLibrary, qtbot, monkeypatch) -> None:
    service, hits = window.service, small_library.photo_ids["beach"][:2]

    def fake_search(query: str, limit: int = 200) -> bool:
        QTimer.singleShot(0, lambda: emit(service.searchFinished, query, hits))
        return True

    monkeypatch.setattr(service, "search", fake_search)
    window.search_box.setText("sand")
    with qtbot.waitSignal(service.searchFinished):
        window.search()
    assert window.grid_model.ids() == hits
    assert "sand" in window.grid.caption.text()


def test_progress_bar_and_cancel_during_a_long_operation(window: MainWindow, qtbot) -> None:
    service, bar = window.service, window.operation_bar
    started = threading.Event()

    def job(library, reporter) -> list[str]:
        reporter.phase("Indexing photos", 100)
        started.set()
        while not reporter.is_cancelled():
            time.sleep(0.01)
        reporter.advance(1)
        from engine.progress import check_cancelled

        check_cancelled(reporter)
        return []

    assert service.start_operation("Adding photos", job)
    assert bar.isVisibleTo(window) and not window.add_folder_action.isEnabled()
    assert started.wait(10)
    qtbot.waitUntil(lambda: bar.bar.maximum() == 100, timeout=5_000)
    assert "Indexing photos" in bar.phase_label.text()
    with qtbot.waitSignal(service.operationCancelled, timeout=10_000):
        qtbot.mouseClick(bar.cancel_button, Qt.MouseButton.LeftButton)
    assert not bar.isVisibleTo(window) and window.add_folder_action.isEnabled()
    assert "cancelled" in window.statusBar().currentMessage()


def test_welcome_view_for_an_empty_library(empty_service: LibraryService, qtbot, tmp_path: Path, monkeypatch) -> None:
    window = open_window(qtbot, empty_service, tmp_path / "w.ini")
    assert window.pages.currentWidget() is window.welcome
    assert window.welcome.button.text() == "Choose photo folders…"
    asked: list[list[str]] = []
    monkeypatch.setattr(main_window, "choose_folders", lambda parent: [str(tmp_path / "pics")])
    monkeypatch.setattr(empty_service, "index_folders", lambda paths: asked.append(list(paths)) or True)
    qtbot.mouseClick(window.welcome.button, Qt.MouseButton.LeftButton)
    assert asked == [[str(tmp_path / "pics")]]
    window.close()
    assert window.loader.wait_for_done()


def test_welcome_gives_way_once_photos_are_added(
    empty_service: LibraryService, qtbot, tmp_path: Path, make_photo
) -> None:
    window = open_window(qtbot, empty_service, tmp_path / "w.ini")
    make_photo(tmp_path / "pics" / "a.jpg")
    with qtbot.waitSignal(empty_service.operationFinished, timeout=20_000):
        empty_service.index_folders([tmp_path / "pics"], embed=False)
    assert window.pages.currentWidget() is window.splitter
    assert window.grid_model.rowCount() == 1
    window.close()
    assert window.loader.wait_for_done()


def test_geometry_and_zoom_are_remembered(service: LibraryService, qtbot, tmp_path: Path) -> None:
    settings = tmp_path / "geometry.ini"
    first = open_window(qtbot, service, settings)
    first.resize(700, 500)  # inside the offscreen screen (800 × 600)
    first.grid.zoom.setValue(100)
    first.close()
    second = open_window(qtbot, service, settings)
    assert (second.width(), second.height()) == (700, 500)
    assert second.grid.delegate.icon_size == 100
    for window in (first, second):
        window.close()
        assert window.loader.wait_for_done()


def test_grid_stays_responsive_with_100k_photos(qtbot) -> None:
    looked_up: list[int] = []
    loader = ThumbnailLoader(lambda photo_id: looked_up.append(photo_id))  # no thumbnails: "missing"
    grid = ThumbnailGrid(loader, PhotoGridModel(loader))
    qtbot.addWidget(grid)
    grid.resize(1000, 700)
    grid.show()
    qtbot.waitExposed(grid)
    started = time.perf_counter()
    grid.show_photos(list(range(1, 100_001)), "Everything")
    grid.grab()  # a full layout and paint
    grid.view.scrollToBottom()
    grid.grab()
    elapsed = time.perf_counter() - started
    assert grid.model.rowCount() == 100_000
    assert elapsed < 2.0, f"showing 100k photos took {elapsed:.2f} s"
    assert len(looked_up) < 500  # only the rows on screen asked for a thumbnail
    assert grid.view.indexAt(QPoint(20, 20)).row() > 90_000
    assert loader.wait_for_done()


def test_zoom_changes_the_icon_size(window: MainWindow) -> None:
    window.grid.zoom.setValue(96)
    assert window.grid.view.iconSize().width() == 96
    assert window.grid.view.gridSize().width() > 96


def test_one_error_dialog_with_details_for_bugs(window: MainWindow, qtbot) -> None:
    from PySide6.QtWidgets import QMessageBox

    emit(window.service.operationFailed, "Unexpected error: RuntimeError: boom", "Traceback (most recent call last)")
    box = next(w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible())
    assert box.text() == "Unexpected error: RuntimeError: boom"
    assert box.detailedText().startswith("Traceback")
    box.close()


def test_window_icon_and_about_box(window: MainWindow) -> None:
    import engine
    from desktop_app.about import about_text, app_icon

    assert not app_icon().isNull() and {16, 256} <= {s.width() for s in app_icon().availableSizes()}
    assert not window.windowIcon().isNull()
    assert f"PhotoAtlas {engine.__version__}" in about_text(window.service.directory)
    window.about_action.trigger()
    box = next(w for w in QApplication.topLevelWidgets() if w.windowTitle() == "About PhotoAtlas" and w.isVisible())
    box.close()


def test_the_folder_picker_opens_in_pictures_and_takes_several_folders(window, tmp_path, monkeypatch, qtbot) -> None:
    from PySide6.QtCore import QStandardPaths
    from PySide6.QtWidgets import QAbstractItemView, QListView

    pictures = tmp_path / "Pictures"
    pictures.mkdir()
    monkeypatch.setattr(QStandardPaths, "writableLocation", staticmethod(lambda location: str(pictures)))
    dialog = pickers.folder_picker(window)
    qtbot.addWidget(dialog)
    assert Path(dialog.directory().absolutePath()) == pictures
    views = [v for v in dialog.findChildren(QListView) if v.objectName() == "listView"]
    assert views and all(v.selectionMode() == QAbstractItemView.SelectionMode.ExtendedSelection for v in views), (
        "several folders at once"
    )
    monkeypatch.setattr(QStandardPaths, "writableLocation", staticmethod(lambda location: ""))
    assert pickers.start_folder() == str(Path.home())


def test_adding_several_folders_indexes_them_all(window, tmp_path, make_photo, monkeypatch, qtbot) -> None:
    folders = [tmp_path / "a", tmp_path / "b"]
    for n, folder in enumerate(folders):
        make_photo(folder / f"p{n}.jpg")
    monkeypatch.setattr(main_window, "choose_folders", lambda parent: [str(f) for f in folders])
    with qtbot.waitSignal(window.service.operationFinished, timeout=30_000):
        window.add_folder_action.trigger()
    assert len(window.service.photo_folders()) == 3


def test_the_weights_picker_opens_in_downloads_not_the_working_directory(tmp_path, monkeypatch) -> None:
    from PySide6.QtCore import QStandardPaths
    from PySide6.QtWidgets import QFileDialog

    from desktop_app import model_banner

    downloads = tmp_path / "Downloads"
    downloads.mkdir()
    monkeypatch.setattr(QStandardPaths, "writableLocation", staticmethod(lambda location: str(downloads)))
    opened: list[str] = []
    monkeypatch.setattr(
        QFileDialog,
        "getOpenFileName",
        staticmethod(lambda parent, title, start, filters: opened.append(start) or ("", "")),
    )
    assert model_banner.choose_weights_file(None) is None
    assert opened == [str(downloads)]
