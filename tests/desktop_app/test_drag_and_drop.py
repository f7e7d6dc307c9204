"""Drag and drop: photos from the grid onto an album (move) or "Other" (remove), albums onto an album (merge)."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QPointF, Qt
from PySide6.QtGui import QDragLeaveEvent, QDragMoveEvent, QDropEvent

from desktop_app.drag_data import ALBUMS_MIME, PHOTOS_MIME, albums_mime, dragged_albums, dragged_photos, photos_mime
from desktop_app.main_window import MainWindow
from desktop_app.models import EntryKey

from .conftest import SmallLibrary


def row_centre(window: MainWindow, key: EntryKey) -> QPointF:
    row = window.album_model.row_of(key)
    assert row is not None, key
    return QPointF(window.sidebar.visualRect(window.album_model.index(row)).center())


def drop(window: MainWindow, key: EntryKey, data: QMimeData) -> bool:
    """Drop `data` on the sidebar row with this key; True if accepted.

    Qt delivers a drop only during a real drag session (which needs a mouse and blocks in `QDrag.exec`),
    so the test calls the handler Qt would call, with the event Qt would build.
    """
    event = QDropEvent(
        row_centre(window, key),
        Qt.DropAction.CopyAction,
        data,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    event.setAccepted(False)
    window.sidebar.dropEvent(event)
    return event.isAccepted()


def drag_move_event(position: QPointF, data: QMimeData) -> QDragMoveEvent:
    args = (Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    try:
        return QDragMoveEvent(position, *args)  # PySide6 6.12 takes a QPointF (its QPoint form is deprecated)
    except TypeError:
        return QDragMoveEvent(position.toPoint(), *args)  # earlier PySide6 has only the QPoint form


def grid_drag_data(window: MainWindow, photo_ids: list[int]) -> QMimeData:
    """What the grid's model puts in a drag of these photos (as `QAbstractItemView.startDrag` asks it)."""
    model = window.grid_model
    rows = [model.ids().index(p) for p in photo_ids]
    return model.mimeData([model.index(r) for r in rows])


def test_the_grid_drags_photo_ids_and_their_files(window: MainWindow, small_library: SmallLibrary) -> None:
    beach = small_library.photo_ids["beach"]
    data = grid_drag_data(window, beach[:2])
    assert dragged_photos(data) == beach[:2]
    assert sorted(u.toLocalFile() for u in data.urls()) == sorted(window.service.photo_path(p) for p in beach[:2])
    assert window.grid_model.flags(window.grid_model.index(0)) & Qt.ItemFlag.ItemIsDragEnabled
    assert window.grid.view.dragEnabled()


def test_dropping_photos_on_an_album_moves_them_and_undo_puts_them_back(
    window: MainWindow, small_library: SmallLibrary
) -> None:
    forest, loose = small_library.albums["Forest"], small_library.photo_ids["loose"]
    assert drop(window, ("album", forest), grid_drag_data(window, loose))
    assert sorted(window.service.album(forest).members) == sorted(small_library.photo_ids["forest"] + loose)
    assert window.service.album(None) is None, "Other is empty, so it is not listed"
    assert "Moved 2 photos" in window.statusBar().currentMessage()
    window.undo_action.trigger()
    assert sorted(window.service.album(None).members) == sorted(loose)


def test_dropping_photos_on_other_takes_them_out_of_their_album(
    window: MainWindow, small_library: SmallLibrary
) -> None:
    beach = small_library.photo_ids["beach"]
    assert drop(window, ("other", None), photos_mime(beach[:1]))
    assert beach[0] in window.service.album(None).members
    assert beach[0] not in window.service.album(small_library.albums["Beach"]).members


def test_drops_that_mean_nothing_are_refused(window: MainWindow, small_library: SmallLibrary) -> None:
    before = window.service.albums()
    beach, forest = small_library.albums["Beach"], small_library.albums["Forest"]
    assert not drop(window, ("all", None), photos_mime(small_library.photo_ids["loose"]))
    assert not drop(window, ("album", beach), albums_mime([beach]))  # onto itself
    assert not drop(window, ("other", None), albums_mime([forest]))
    folder = window.service.photo_folders()[0]
    assert not drop(window, ("folder", folder), photos_mime(small_library.photo_ids["loose"]))
    plain = QMimeData()
    plain.setText("hello")
    assert not drop(window, ("album", beach), plain)
    assert window.service.albums() == before


def test_dropping_an_album_on_another_merges_them(window: MainWindow, small_library: SmallLibrary) -> None:
    beach, forest = small_library.albums["Beach"], small_library.albums["Forest"]
    row = window.album_model.row_of(("album", forest))
    data = window.album_model.mimeData([window.album_model.index(row)])
    assert dragged_albums(data) == [forest]
    assert drop(window, ("album", beach), data)
    assert window.service.album(forest) is None
    assert window.service.album(beach).size == 5
    assert window.sidebar.current_entry().album_id == beach
    window.undo_action.trigger()
    assert window.service.album(forest).size == 2


def test_the_row_under_a_drag_is_framed_until_it_leaves(window: MainWindow, small_library: SmallLibrary) -> None:
    beach = small_library.albums["Beach"]
    data = photos_mime(small_library.photo_ids["loose"])
    move = drag_move_event(row_centre(window, ("album", beach)), data)
    window.sidebar.dragMoveEvent(move)
    assert move.isAccepted()
    assert window.sidebar.drop_row == window.album_model.row_of(("album", beach))
    window.sidebar.dragLeaveEvent(QDragLeaveEvent())
    assert window.sidebar.drop_row is None


def test_mime_types_are_our_own(window: MainWindow) -> None:
    assert PHOTOS_MIME in window.grid_model.mimeTypes()
    assert window.album_model.mimeTypes() == [ALBUMS_MIME]
    assert dragged_photos(None) == [] and dragged_albums(albums_mime([3])) == [3]
