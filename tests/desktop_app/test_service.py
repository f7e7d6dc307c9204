"""LibraryService: album actions through the engine, long operations on the worker, progress and cancel."""

from __future__ import annotations

import threading

from desktop_app.service import LibraryService
from engine.errors import Cancelled
from engine.library import Library
from engine.progress import check_cancelled

from .conftest import SmallLibrary


def names_and_sizes(service: LibraryService) -> list[tuple[str, int]]:
    return [(a.name, a.size) for a in service.albums()]


def test_lists_albums_largest_first_then_other(service: LibraryService) -> None:
    assert names_and_sizes(service) == [("Beach", 3), ("Forest", 2), ("New album 1", 2), ("Other", 2)]
    assert len(service.all_photo_ids()) == 9


def test_thumbnail_files_exist_on_disk(service: LibraryService) -> None:
    for photo_id in service.all_photo_ids():
        path = service.thumbnail_file(photo_id)
        assert path is not None and path.is_file()
    assert service.thumbnail_file(10**9) is None


def test_merge_then_undo_restores(service: LibraryService, small_library: SmallLibrary, qtbot) -> None:
    beach, forest = small_library.albums["Beach"], small_library.albums["Forest"]
    with qtbot.waitSignal(service.albumsChanged):
        assert service.merge([forest], beach)
    assert names_and_sizes(service)[:2] == [("Beach", 5), ("New album 1", 2)]
    with Library(small_library.directory) as fresh:  # it is in the catalog, not only in the service
        assert [a.name for a in fresh.albums.albums()] == ["Beach", "New album 1", "Other"]
    with qtbot.waitSignal(service.albumsChanged):
        assert service.undo() is not None
    assert names_and_sizes(service) == [("Beach", 3), ("Forest", 2), ("New album 1", 2), ("Other", 2)]


def test_engine_error_becomes_operation_failed(service: LibraryService, small_library: SmallLibrary, qtbot) -> None:
    with qtbot.waitSignal(service.operationFailed) as failed:
        assert not service.rename(small_library.albums["Forest"], "beach")
    assert "already named" in failed.args[0]


def test_undo_with_nothing_to_undo(empty_service: LibraryService) -> None:
    assert empty_service.undo() is None


def test_pin_split_move_remove(service: LibraryService, small_library: SmallLibrary) -> None:
    beach = small_library.albums["Beach"]
    assert service.pin(beach, True)
    assert service.album(beach).pinned
    loose = small_library.photo_ids["loose"]
    new_id = service.split(loose[:1], name="Picnic")
    assert new_id is not None and service.album(new_id).size == 1
    assert service.move(loose[1:], new_id)
    assert service.album(new_id).size == 2
    assert service.remove(loose)
    assert service.album(new_id).size == 0


def test_index_runs_on_the_worker(service: LibraryService, small_library: SmallLibrary, make_photo, qtbot) -> None:
    folder = small_library.photos.parent / "more"
    for n in range(2):
        make_photo(folder / f"new{n}.jpg", color=(10, 10, 200 + n))
    busy: list[bool] = []
    service.busyChanged.connect(busy.append)
    with qtbot.waitSignal(service.operationFinished, timeout=20_000) as finished:
        assert service.index_folders([folder], embed=False)
        assert service.busy and service.operation_title == "Adding photos"
    assert finished.args[0][0].startswith("added 2")
    assert busy == [True, False] and not service.busy
    assert len(service.all_photo_ids()) == 11
    assert len(service.photo_folders()) == 2


def test_progress_signals_and_cancel_raise_cancelled_in_the_worker(service: LibraryService, qtbot) -> None:
    reached, release = threading.Event(), threading.Event()
    raised: list[BaseException] = []
    progress: list[tuple[str, int, int]] = []
    service.progress.connect(lambda *args: progress.append(args))

    def job(library: Library, reporter) -> list[str]:
        reporter.phase("Counting", 2)
        reporter.advance(1)
        reporter.advance(1)  # done == total: always reported
        reached.set()
        release.wait(10)
        try:
            check_cancelled(reporter)
        except Cancelled as exc:
            raised.append(exc)
            raise
        return ["not cancelled"]

    with qtbot.waitSignal(service.operationCancelled, timeout=10_000):
        assert service.start_operation("Counting", job)
        assert reached.wait(10)
        service.cancel()
        release.set()
    assert len(raised) == 1
    assert ("Counting", 0, 2) in progress and ("Counting", 2, 2) in progress
    assert not service.busy


def test_one_long_operation_at_a_time(service: LibraryService, qtbot) -> None:
    release = threading.Event()
    with qtbot.waitSignal(service.operationFinished, timeout=10_000):
        assert service.start_operation("Waiting", lambda library, reporter: [str(release.wait(10))])
        with qtbot.waitSignal(service.operationFailed) as refused:
            assert not service.start_operation("Second", lambda library, reporter: [])
        release.set()
    assert "Waiting is still running" in refused.args[0]


def test_worker_errors_become_messages(service: LibraryService, qtbot) -> None:
    def broken(library: Library, reporter) -> list[str]:
        raise RuntimeError("boom")

    with qtbot.waitSignal(service.operationFailed, timeout=10_000) as failed:
        service.start_operation("Broken", broken)
    message, details = failed.args
    assert "went wrong" in message and "boom" in details, "a sentence; the exception behind Show details"
    assert "Traceback" in details and "RuntimeError" in details, "a bug comes with details for a report"


def test_recluster_without_embeddings_reports_the_engine_advice(service: LibraryService, qtbot) -> None:
    with qtbot.waitSignal(service.operationFailed, timeout=10_000) as failed:
        assert service.recluster("auto")
    assert "File → Rescan folders" in failed.args[0], "in the window's words"
    assert "Traceback" not in failed.args[1], "an engine error is advice, not a traceback"


def test_export_copies_an_album(service: LibraryService, small_library: SmallLibrary, tmp_path, qtbot) -> None:
    destination = tmp_path / "exported"
    with qtbot.waitSignal(service.operationFinished, timeout=10_000) as finished:
        assert service.export_album(small_library.albums["Forest"], destination)
    assert finished.args[0][0].startswith("exported to")
    assert len(list(destination.iterdir())) == 2


def test_indexing_announces_changed_photos(service: LibraryService, small_library: SmallLibrary, qtbot) -> None:
    with qtbot.waitSignals([service.photosChanged, service.albumsChanged], order="strict", timeout=20_000):
        service.index_folders([small_library.photos], embed=False)
