"""Watching the folders from the window: new photos appear live, a rename during an import is kept,
the re-cluster notice, and no watcher thread left after closing."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from desktop_app.main_window import MainWindow
from desktop_app.service import LibraryService
from engine.library import Library

from .conftest import open_window

COLOURS = [(220, 30, 30), (30, 200, 40), (30, 40, 220)]
FAST = {"quiet_seconds": 0.3, "settle_seconds": 0.2, "root_check_seconds": 0.5}


@pytest.fixture
def watched(qtbot, tmp_path: Path, tiny_model, make_photo):
    photos = tmp_path / "photos"
    for n in range(9):
        make_photo(photos / f"p{n}.jpg", color=COLOURS[n % 3])
    with Library(tmp_path / "library") as library:
        library.set_model(tiny_model["name"], tiny_model["pretrained"], tiny_model["config"])
        library.index([photos])
        library.recluster(k=3)
    service = LibraryService(tmp_path / "library")
    window = open_window(qtbot, service, tmp_path / "w.ini")
    with qtbot.waitSignal(service.busyChanged, timeout=30_000, check_params_cb=lambda busy: not busy):
        assert service.start_watching(**FAST)  # its first batch: the start-up rescan (nothing new)
    yield window, photos
    window.close()
    assert window.loader.wait_for_done()
    assert service.close()
    assert not any(t.name == "photoatlas-watch" for t in threading.enumerate()), "the watcher thread is left"


@pytest.mark.slow
def test_a_photo_landing_in_a_folder_appears_in_the_window(watched, make_photo, qtbot) -> None:
    window, photos = watched
    service: LibraryService = window.service
    assert service.watching and len(service.all_photo_ids()) == 9
    with qtbot.waitSignal(service.watchReported, timeout=30_000) as reported:
        make_photo(photos / "new" / "fresh.jpg", color=COLOURS[0])
    assert "added 1" in reported.args[0][0]
    qtbot.waitUntil(lambda: len(service.all_photo_ids()) == 10, timeout=10_000)
    assert window.grid_model.rowCount() == 10, "All photos shows it without a manual refresh"
    new_id = next(i for i in service.all_photo_ids() if service.photo_path(i).endswith("fresh.jpg"))
    assert any(new_id in a.members for a in service.albums()), "in an album, or in Other"


@pytest.mark.slow
def test_a_rename_during_an_import_is_kept(watched, make_photo, qtbot, monkeypatch) -> None:
    window, photos = watched
    service: LibraryService = window.service
    started, release = threading.Event(), threading.Event()
    real_apply = Library.apply_watch_batch

    def slow_apply(library, batch, progress=None, **options):
        started.set()
        assert release.wait(30)
        return real_apply(library, batch, progress, **options)

    monkeypatch.setattr(Library, "apply_watch_batch", slow_apply)
    album = next(a for a in service.albums() if a.id is not None)
    with qtbot.waitSignal(service.watchReported, timeout=60_000):
        make_photo(photos / "late.jpg", color=COLOURS[1])
        qtbot.waitUntil(started.is_set, timeout=30_000)
        assert service.busy  # the import holds the worker...
        assert service.rename(album.id, "Renamed meanwhile")  # ...and the user renames at that moment
        release.set()
    assert service.album(album.id).name == "Renamed meanwhile"
    with Library(service.directory) as check:
        assert next(a for a in check.albums.albums() if a.id == album.id).name == "Renamed meanwhile"
        assert len(check.photos()) == 10


def test_many_photos_in_other_suggest_a_recluster(window: MainWindow, monkeypatch) -> None:
    asked: list[str] = []
    monkeypatch.setattr(window, "recluster", lambda mode: asked.append(mode))
    window.service.watchReported.emit(["added 40"], False)
    assert not window.recluster_notice.isVisible()
    window.service.watchReported.emit(["added 40"], True)
    assert window.recluster_notice.isVisible()
    window.recluster_notice.action_button.click()
    assert asked == ["auto"] and not window.recluster_notice.isVisible()


def test_watching_follows_the_setting(window: MainWindow, small_library, make_photo, qtbot) -> None:
    assert not window.service.watching, "the tests' windows start with watching off"
    failures: list[str] = []
    window.service.operationFailed.connect(lambda message, details: failures.append(message))
    dialog = window.open_settings()
    assert not dialog.watch.isChecked()
    dialog.watch.setChecked(True)
    dialog.accept()
    assert window.service.watching and window.watch_label.text() == "Watching 1 folder"
    # This library has no model: photos landing in its folder still come in (without albums), no error.
    with qtbot.waitSignal(window.service.watchReported, timeout=30_000):
        make_photo(small_library.photos / "later" / "new.jpg", color=(10, 10, 200))
    qtbot.waitUntil(lambda: len(window.service.all_photo_ids()) == 10, timeout=10_000)
    qtbot.waitUntil(lambda: not window.service.busy, timeout=30_000)
    assert failures == []
    dialog = window.open_settings()
    dialog.watch.setChecked(False)
    dialog.accept()
    assert not window.service.watching and window.watch_label.text() == ""


def test_the_status_bar_says_how_folders_are_watched() -> None:
    from desktop_app.main_window import describe_watching

    assert describe_watching({}) == ("", "")
    text, tip = describe_watching({"/a": "native", "/b": "polling", "/c": "unavailable"})
    assert text.startswith("Watching 3 folders") and "1 polled" in text and "1 not available" in text
    assert "/b: polling" in tip
    assert describe_watching({"/a": "native"})[0] == "Watching 1 folder"
