"""Fixtures for the window's tests: a small library built without CLIP, the service, the window."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, QThreadPool

from desktop_app.main_window import MainWindow
from desktop_app.service import LibraryService
from desktop_app.settings_dialog import WATCH_KEY
from engine.library import Library

COLOURS = {
    "beach": (230, 200, 120),
    "forest": (40, 140, 60),
    "city": (120, 120, 140),
    "loose": (200, 60, 60),
}


@dataclass
class SmallLibrary:
    """A library folder and what was put in it: 3 beach photos in "Beach", 2 forest in "Forest",
    2 city photos in an automatically named album, 2 loose photos in "Other"."""

    directory: Path
    photos: Path
    albums: dict[str, int]
    photo_ids: dict[str, list[int]]


def build_small_library(tmp_path: Path, make_photo) -> SmallLibrary:
    photos = tmp_path / "photos"
    counts = {"beach": 3, "forest": 2, "city": 2, "loose": 2}
    day = 0
    for group, count in counts.items():
        for n in range(count):
            day += 1
            make_photo(photos / group / f"{group}{n}.jpg", color=COLOURS[group], taken=dt.datetime(2023, 7, day, 12))
    directory = tmp_path / "library"
    with Library(directory) as library:
        library.index([photos], embed=False)
        ids: dict[str, list[int]] = {g: [] for g in counts}
        for row in library.photos():
            ids[Path(row.path.decode()).parent.name].append(row.id)
        albums = {
            "Beach": library.albums.split(ids["beach"], name="Beach"),
            "Forest": library.albums.split(ids["forest"], name="Forest"),
            "auto": library.albums.split(ids["city"]),  # named "New album 1", automatic
        }
    return SmallLibrary(directory, photos, albums, ids)


@pytest.fixture
def small_library(tmp_path: Path, make_photo) -> SmallLibrary:
    return build_small_library(tmp_path, make_photo)


@pytest.fixture
def service(small_library: SmallLibrary, qtbot) -> Iterator[LibraryService]:
    svc = LibraryService(small_library.directory)
    yield svc
    assert svc.close(), "a background operation was left running"


@pytest.fixture
def empty_service(tmp_path: Path, qtbot) -> Iterator[LibraryService]:
    svc = LibraryService(tmp_path / "empty-library")
    yield svc
    assert svc.close(), "a background operation was left running"


def open_window(qtbot, service: LibraryService, settings_file: Path, watch: bool = False) -> MainWindow:
    """The window over `service`; folder watching is off unless a test is about it (it runs a rescan)."""
    settings = QSettings(str(settings_file), QSettings.Format.IniFormat)
    settings.setValue(WATCH_KEY, watch)
    window = MainWindow(service, settings)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def window_over(qtbot, service: LibraryService, settings_file: Path) -> Iterator[MainWindow]:
    """A window fixture's body: `open_window`, then closed with no thumbnail load left running."""
    win = open_window(qtbot, service, settings_file)
    yield win
    win.close()
    assert win.loader.wait_for_done(), "thumbnail loads were left running"


@pytest.fixture
def window(qtbot, service: LibraryService, tmp_path: Path) -> Iterator[MainWindow]:
    yield from window_over(qtbot, service, tmp_path / "window.ini")


@pytest.fixture(autouse=True)
def no_qt_threads_left() -> Iterator[None]:
    """Fail a test that leaves work running on Qt's global pool.

    The wait is generous because a model check may be importing open_clip (seconds on a busy machine);
    work that never ends still fails the test.
    """
    yield
    assert QThreadPool.globalInstance().waitForDone(30_000)
    assert QThreadPool.globalInstance().activeThreadCount() == 0
