"""The grid's photo commands (context menu and keys), the viewer, and browsing by library folder."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtWidgets import QMenu

from desktop_app import photo_actions
from desktop_app.main_window import MainWindow
from desktop_app.photo_viewer import PhotoViewer, describe_time, read_preview

from .conftest import SmallLibrary


def select_photos(window: MainWindow, photo_ids: list[int]) -> None:
    view, model = window.grid.view, window.grid_model
    view.clearSelection()
    for photo in photo_ids:
        index = model.index(model.ids().index(photo))
        view.selectionModel().select(index, QItemSelectionModel.SelectionFlag.Select)
        view.selectionModel().setCurrentIndex(index, QItemSelectionModel.SelectionFlag.NoUpdate)


def move_menu_titles(window: MainWindow) -> list[str]:
    menu = window.photo_actions.build_menu()
    move = next(a.menu() for a in menu.actions() if a.menu() is not None)
    assert isinstance(move, QMenu)
    return [a.text() for a in move.actions()]


def test_move_to_album_from_the_context_menu(window: MainWindow, small_library: SmallLibrary) -> None:
    beach, forest = small_library.albums["Beach"], small_library.albums["Forest"]
    window.sidebar.select_key(("album", beach))
    photo = small_library.photo_ids["beach"][0]
    select_photos(window, [photo])
    titles = move_menu_titles(window)
    assert not any(t.startswith("Beach") for t in titles), "the album shown is not a target"
    assert any(t.startswith("Forest") for t in titles)
    menu = window.photo_actions.build_menu()
    move = next(a.menu() for a in menu.actions() if a.menu() is not None)
    next(a for a in move.actions() if a.text().startswith("Forest")).trigger()
    assert photo in window.service.album(forest).members
    assert window.grid_model.rowCount() == 2, "the grid of Beach no longer shows the moved photo"


def test_new_album_from_selection(window: MainWindow, small_library: SmallLibrary, monkeypatch) -> None:
    loose = small_library.photo_ids["loose"]
    window.sidebar.select_key(("other", None))
    select_photos(window, loose)
    monkeypatch.setattr(photo_actions, "ask_album_name", lambda parent, count: "  Garden  party ")
    window.photo_actions.update_enabled()
    assert window.photo_actions.new_album.isEnabled()
    assert not window.photo_actions.remove.isEnabled(), "nothing to remove photos in Other from"
    window.photo_actions.new_album.trigger()
    album = next(a for a in window.service.albums() if a.name == "Garden party")
    assert sorted(album.members) == sorted(loose) and album.user_named


def test_cancelling_the_new_album_name_changes_nothing(window: MainWindow, small_library: SmallLibrary, monkeypatch):
    before = window.service.albums()
    select_photos(window, small_library.photo_ids["loose"])
    monkeypatch.setattr(photo_actions, "ask_album_name", lambda parent, count: None)
    window.photo_actions.new_album.trigger()
    assert window.service.albums() == before


def test_delete_key_removes_from_the_album_and_undo_restores(
    window: MainWindow, small_library: SmallLibrary, qtbot
) -> None:
    beach = small_library.albums["Beach"]
    window.sidebar.select_key(("album", beach))
    photos = small_library.photo_ids["beach"][:2]
    select_photos(window, photos)
    window.grid.view.setFocus()
    qtbot.keyClick(window.grid.view, Qt.Key.Key_Delete)
    assert window.service.album(beach).size == 1
    assert set(photos) <= set(window.service.album(None).members)
    window.undo_action.trigger()
    assert window.service.album(beach).size == 3


def test_use_as_album_cover(window: MainWindow, small_library: SmallLibrary) -> None:
    beach = small_library.albums["Beach"]
    window.sidebar.select_key(("album", beach))
    photo = small_library.photo_ids["beach"][2]
    select_photos(window, [photo])
    window.photo_actions.update_enabled()
    assert window.photo_actions.set_cover.isEnabled()
    window.photo_actions.set_cover.trigger()
    assert window.service.album(beach).cover == photo
    select_photos(window, small_library.photo_ids["beach"][:2])
    window.photo_actions.update_enabled()
    assert not window.photo_actions.set_cover.isEnabled(), "a cover is one photo"


def test_double_click_opens_the_viewer_and_arrows_step(window: MainWindow, small_library: SmallLibrary, qtbot) -> None:
    beach = small_library.albums["Beach"]
    window.sidebar.select_key(("album", beach))
    first = window.grid_model.index(0)
    window.grid.view.doubleClicked.emit(first)
    viewer = window.photo_actions.viewer
    assert isinstance(viewer, PhotoViewer)
    qtbot.waitExposed(viewer)
    assert viewer.photo_id == window.grid_model.photo_id(0)
    assert viewer.album_label.text() == "Beach"
    assert viewer.date_label.text() == "Sat 01 Jul 2023, 12:00"
    assert viewer.size_label.text() == "64 × 48"
    assert viewer.file_label.text().startswith("beach") and not viewer.previous_button.isEnabled()
    qtbot.waitUntil(lambda: viewer.image_label.pixmap() is not None and not viewer.image_label.pixmap().isNull())
    qtbot.keyClick(viewer, Qt.Key.Key_Right)
    assert viewer.photo_id == window.grid_model.photo_id(1) and viewer.position_label.text() == "2 of 3"
    qtbot.keyClick(viewer, Qt.Key.Key_End)
    assert viewer.position == 2 and not viewer.next_button.isEnabled()
    opened: list[str] = []
    viewer._folder_opener = lambda path: opened.append(path) or True
    viewer.folder_button.click()
    assert opened == [window.service.photo_path(viewer.photo_id)]
    viewer.close()
    qtbot.waitUntil(lambda: window.photo_actions.viewer is None)


def test_viewer_reads_a_preview_and_falls_back_to_the_thumbnail(tmp_path, make_photo, window: MainWindow) -> None:
    big = make_photo(tmp_path / "big.jpg", size=(3000, 1000))
    image = read_preview(str(big), None, side=600)
    assert (image.width(), image.height()) == (600, 200)
    junk = tmp_path / "not-really.jpg"
    junk.write_bytes(b"not an image")
    photo = window.grid_model.photo_id(0)
    fallback = window.service.thumbnail_file(photo)
    assert not read_preview(str(junk), fallback).isNull()
    assert read_preview(str(junk), None).isNull()
    assert describe_time(None) == "Unknown" and describe_time("garbage") == "garbage"


def test_library_folder_in_the_sidebar_shows_its_photos(window: MainWindow) -> None:
    folder = window.service.photo_folders()[0]
    assert window.sidebar.select_key(("folder", folder))
    assert window.grid_model.rowCount() == 9
    assert window.grid.caption.text().startswith("photos")


def test_years_in_the_sidebar_show_their_photos(window: MainWindow, small_library: SmallLibrary) -> None:
    assert window.service.photos_by_year() == {"2023": window.service.all_photo_ids()}
    assert window.sidebar.select_key(("year", "2023"))
    assert window.grid_model.rowCount() == 9 and window.grid.caption.text().startswith("2023")
