"""The item models: photo grid (lazy thumbnails) and album sidebar (names, sizes, inline rename)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap

from desktop_app.models import (
    ROLE_ENTRY,
    ROLE_LOADED,
    ROLE_PHOTO_ID,
    ROLE_PINNED,
    ROLE_SIZE,
    AlbumListModel,
    PhotoGridModel,
)
from desktop_app.service import LibraryService
from desktop_app.thumbnails import PixmapLru, ThumbnailLoader
from engine.library import Library

from .conftest import SmallLibrary


@pytest.fixture
def loader(service: LibraryService, qtbot) -> Iterator[ThumbnailLoader]:
    thumbnails = ThumbnailLoader(service.thumbnail_file)
    yield thumbnails
    assert thumbnails.wait_for_done()


def rows(model: AlbumListModel) -> list[tuple[str, int]]:
    return [(model.index(r).data(), model.index(r).data(ROLE_SIZE)) for r in range(model.rowCount())]


def test_sidebar_lists_albums_with_names_and_sizes(service: LibraryService, loader: ThumbnailLoader) -> None:
    model = AlbumListModel(service, loader)
    assert rows(model) == [
        ("All photos", 9),
        ("Beach", 3),  # the user's own names are shown as given
        ("Forest", 2),
        ("New album 1 · Jul 2023", 2),  # automatic names come with their dates
        ("Other", 2),
        ("photos", 9),  # the library folder, to browse by folder
        ("2023", 9),  # and the years, to browse by date
    ]
    folder = model.index(5).data(ROLE_ENTRY)
    assert folder.kind == "folder" and folder.folder.endswith("photos")
    automatic = model.index(3)
    assert automatic.data(Qt.ItemDataRole.FontRole).italic()  # the machine's name
    assert model.index(1).data(Qt.ItemDataRole.FontRole) is None  # the user's name: regular
    assert not model.flags(model.index(0)) & Qt.ItemFlag.ItemIsEditable
    assert model.flags(model.index(1)) & Qt.ItemFlag.ItemIsEditable
    assert not model.flags(model.index(4)) & Qt.ItemFlag.ItemIsEditable  # "Other"
    assert not model.flags(model.index(5)) & (Qt.ItemFlag.ItemIsEditable | Qt.ItemFlag.ItemIsDropEnabled)
    assert model.flags(model.index(4)) & Qt.ItemFlag.ItemIsDropEnabled  # photos dropped here leave their album


def test_album_model_passes_the_model_tester(service: LibraryService, loader: ThumbnailLoader, qtmodeltester) -> None:
    qtmodeltester.check(AlbumListModel(service, loader), force_py=True)


def test_rename_through_set_data_renames_in_the_engine(
    service: LibraryService, loader: ThumbnailLoader, small_library: SmallLibrary, qtbot
) -> None:
    model = AlbumListModel(service, loader)
    service.albumsChanged.connect(model.reload)
    index = model.index(3)
    assert index.data(Qt.ItemDataRole.EditRole) == "New album 1"
    with qtbot.waitSignal(service.albumsChanged):
        assert model.setData(index, "  Downtown   at night ")
    row = model.row_of(("album", small_library.albums["auto"]))  # sorted by name: it moves up
    assert row == 2 and model.index(row).data() == "Downtown at night"
    assert model.index(row).data(Qt.ItemDataRole.FontRole) is None  # now the user's name
    index = model.index(row)
    with Library(small_library.directory) as fresh:
        album = next(a for a in fresh.albums.albums() if a.id == small_library.albums["auto"])
        assert album.name == "Downtown at night" and album.user_named
    assert not model.setData(index, "Downtown at night")  # unchanged: nothing to do
    assert not model.setData(model.index(0), "All my photos")  # not an album


def test_pinned_marker(service: LibraryService, loader: ThumbnailLoader, small_library: SmallLibrary) -> None:
    model = AlbumListModel(service, loader)
    service.albumsChanged.connect(model.reload)
    assert not model.index(1).data(ROLE_PINNED)
    service.pin(small_library.albums["Beach"], True)
    assert model.index(1).data(ROLE_PINNED)
    assert "Pinned" in model.index(1).data(Qt.ItemDataRole.ToolTipRole)


def test_grid_model_gives_a_placeholder_then_the_thumbnail(
    service: LibraryService, loader: ThumbnailLoader, qtbot
) -> None:
    model = PhotoGridModel(loader, service.photo_path)
    model.set_ids(service.all_photo_ids())
    index = model.index(2)
    first = index.data(Qt.ItemDataRole.DecorationRole)
    assert first.cacheKey() == model.placeholder.cacheKey()
    assert not index.data(ROLE_LOADED)
    qtbot.waitUntil(lambda: index.data(ROLE_LOADED), timeout=5_000)
    real = index.data(Qt.ItemDataRole.DecorationRole)
    assert isinstance(real, QPixmap) and real.cacheKey() != model.placeholder.cacheKey()
    assert (real.width(), real.height()) == (64, 48)
    assert index.data(ROLE_PHOTO_ID) == service.all_photo_ids()[2]
    assert index.data(Qt.ItemDataRole.ToolTipRole).endswith(".jpg")


def test_grid_model_signals_the_loaded_row(service: LibraryService, loader: ThumbnailLoader, qtbot) -> None:
    model = PhotoGridModel(loader)
    model.set_ids(service.all_photo_ids())
    with qtbot.waitSignal(model.dataChanged, timeout=5_000) as changed:
        model.index(4).data(Qt.ItemDataRole.DecorationRole)
    assert changed.args[0].row() == 4


def test_grid_model_passes_the_model_tester(service: LibraryService, loader: ThumbnailLoader, qtmodeltester) -> None:
    model = PhotoGridModel(loader)
    model.set_ids(service.all_photo_ids())
    qtmodeltester.check(model, force_py=True)


def test_unknown_photo_shows_the_missing_image(loader: ThumbnailLoader) -> None:
    model = PhotoGridModel(loader)
    model.set_ids([10**9])
    model.index(0).data(Qt.ItemDataRole.DecorationRole)
    assert model.index(0).data(Qt.ItemDataRole.DecorationRole).cacheKey() == loader.missing.cacheKey()


def test_unreadable_thumbnail_becomes_missing(tmp_path: Path, qtbot) -> None:
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not a jpeg")
    loader = ThumbnailLoader(lambda photo_id: bad)
    with qtbot.waitSignal(loader.loaded, timeout=5_000):
        assert loader.pixmap(1) is None
    assert loader.pixmap(1).cacheKey() == loader.missing.cacheKey()
    assert loader.wait_for_done()


def test_loader_deduplicates_and_drops_scrolled_away_requests(tmp_path: Path, qtbot) -> None:
    resolved: list[int] = []

    def resolve(photo_id: int) -> Path:
        resolved.append(photo_id)
        return tmp_path / "none.jpg"

    loader = ThumbnailLoader(resolve, threads=1)
    for photo_id in [1, 2, 3, 2, 3, 4]:
        loader.request(photo_id)
    assert resolved == [1, 2, 3, 4]  # each photo looked up once
    loader.retain([4])
    assert loader.pending <= 2  # the one started, and 4
    qtbot.waitUntil(lambda: loader.pending == 0, timeout=5_000)
    assert loader.wait_for_done()


def test_pixmap_lru_is_bounded_by_bytes() -> None:
    one = QPixmap(10, 10)
    lru = PixmapLru(max_bytes=3 * PixmapLru.cost(one))
    for key in range(3):
        lru.put(key, QPixmap(10, 10))
    lru.get(0)  # recently used: survives
    lru.put(3, QPixmap(10, 10))
    assert 0 in lru and 1 not in lru and len(lru) == 3
    assert lru.bytes == 3 * PixmapLru.cost(one)


def test_weak_marker_only_for_tentative_automatic_names() -> None:
    from desktop_app.models import SidebarEntry
    from engine.albums.store import Album

    def entry(generic: bool, user_named: bool) -> SidebarEntry:
        album = Album(1, "Mixed photos", user_named, False, None, [1], generic=generic)
        return SidebarEntry("album", album, 1, None)

    assert entry(generic=True, user_named=False).weak
    assert not entry(generic=False, user_named=False).weak
    assert not entry(generic=True, user_named=True).weak
