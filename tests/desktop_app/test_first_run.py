"""First run with the tiny test model: choose a folder, index in the background, albums appear;
and the missing-weights path: a plain notice, the window keeps working, a local file fixes it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from desktop_app import main_window, model_banner
from desktop_app.main_window import MainWindow
from desktop_app.service import LibraryService
from engine.library import Library

from .conftest import open_window

COLOURS = [(220, 30, 30), (30, 200, 40), (30, 40, 220)]


def photos(tmp_path: Path, make_photo, count: int = 12) -> Path:
    folder = tmp_path / "photos"
    for n in range(count):
        make_photo(folder / f"p{n}.jpg", color=COLOURS[n % 3])
    return folder


def library_with_model(tmp_path: Path, tiny_model: dict[str, str], pretrained: str | None = None) -> Path:
    with Library(tmp_path / "library") as library:
        library.set_model(tiny_model["name"], pretrained or tiny_model["pretrained"], tiny_model["config"])
    return tmp_path / "library"


@pytest.fixture
def first_window(qtbot, tmp_path: Path, tiny_model):
    service = LibraryService(library_with_model(tmp_path, tiny_model))
    window = open_window(qtbot, service, tmp_path / "w.ini")
    yield window
    window.close()
    assert window.loader.wait_for_done()
    assert service.close()


@pytest.mark.slow
def test_first_run_indexes_in_the_background_and_albums_appear(
    first_window: MainWindow, tmp_path: Path, make_photo, qtbot, monkeypatch
) -> None:
    window = first_window
    folder = photos(tmp_path, make_photo)
    assert window.pages.currentWidget() is window.welcome
    with qtbot.waitSignal(window.service.modelReady, timeout=30_000):  # the local checkpoint is found
        window.service.check_model()
    monkeypatch.setattr(main_window, "choose_folders", lambda parent: [str(folder)])
    with qtbot.waitSignal(window.service.operationFinished, timeout=120_000) as finished:
        window.welcome.button.click()
        assert window.operation_bar.isVisible() and window.service.busy
    lines = finished.args[0]
    assert any("embedded 12" in line for line in lines)
    assert any("clusters" in line for line in lines), "a first run ends with albums"
    assert window.pages.currentWidget() is window.splitter
    albums = [e for e in window.album_model.entries() if e.kind == "album"]
    assert (
        albums
        and sum(e.size for e in albums) + sum(e.size for e in window.album_model.entries() if e.kind == "other") == 12
    )
    assert not window.model_banner.isVisible()


@pytest.mark.slow
def test_missing_weights_say_so_and_a_local_file_fixes_it(
    qtbot, tmp_path: Path, tiny_model, make_photo, monkeypatch
) -> None:
    moved = tmp_path / "elsewhere.pt"
    shutil.copyfile(tiny_model["pretrained"], moved)
    gone = tmp_path / "gone.pt"
    shutil.copyfile(tiny_model["pretrained"], gone)
    service = LibraryService(library_with_model(tmp_path, tiny_model, str(gone)))
    gone.unlink()  # the checkpoint the library was set up with has disappeared
    window = open_window(qtbot, service, tmp_path / "w.ini")
    try:
        with qtbot.waitSignal(service.modelMissing, timeout=30_000) as missing:
            service.check_model()
        assert "gone.pt" in missing.args[0]
        assert window.model_banner.isVisible() and window.model_banner.download_button.isEnabled()
        # Photos are still added and browsable without the model.
        with qtbot.waitSignal(service.operationFinished, timeout=60_000) as added:
            service.index_folders([photos(tmp_path, make_photo, 6)])
        assert any("without albums" in line for line in added.args[0])
        assert window.grid_model.rowCount() == 6
        folder = service.photo_folders()[0]
        assert window.sidebar.select_key(("folder", folder)) and window.grid_model.rowCount() == 6
        # "Use a weights file…": the photos are embedded and grouped, the notice goes away.
        monkeypatch.setattr(model_banner, "choose_weights_file", lambda parent: str(moved))
        with (
            qtbot.waitSignal(service.modelReady, timeout=30_000),
            qtbot.waitSignal(service.operationFinished, timeout=120_000) as fixed,
        ):
            window.model_banner.file_button.click()
        assert any("embedded 6" in line for line in fixed.args[0])
        assert not window.model_banner.isVisible()
        assert service.settings.model.pretrained == str(moved.resolve())
    finally:
        window.close()
        assert window.loader.wait_for_done()
        assert service.close()


def test_offline_library_offers_no_download(window: MainWindow) -> None:
    window.model_banner.show_missing("The CLIP model is not on this computer yet.", offline=True)
    assert window.model_banner.isVisible() and not window.model_banner.download_button.isEnabled()
    assert "Offline" in window.model_banner.download_button.toolTip()
    window.model_banner.dismiss_button.click()
    assert not window.model_banner.isVisible()
