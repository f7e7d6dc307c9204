"""Skipped files (issue 16, item 8): a view of the files that were not added (file, folder, reason in words,
when), "Show in folder", and "Try again" once a file is fixed; reached from File and from the summary."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from desktop_app.main_window import MainWindow
from desktop_app.skipped_dialog import SkippedFilesDialog

from .conftest import SmallLibrary


def _rescan(window: MainWindow, qtbot) -> list[str]:
    with qtbot.waitSignal(window.service.operationFinished, timeout=30_000) as finished:
        assert window.service.rescan()
    return finished.args[0]


def test_skipped_files_are_listed_shown_and_tried_again(
    window: MainWindow, small_library: SmallLibrary, make_photo, qtbot
) -> None:
    bad = small_library.photos / "beach" / "notes.jpg"
    bad.write_text("not a photo at all")
    lines = _rescan(window, qtbot)
    assert any(line.startswith("skipped 1") for line in lines)
    assert window.summary_notice.isVisible() and window.show_skipped_button.isVisible()
    file_menu = window.menuBar().actions()[0].menu()
    assert window.skipped_action in file_menu.actions()

    window.show_skipped_button.click()
    dialog = window.findChild(SkippedFilesDialog)
    assert dialog is not None and dialog.isVisible()
    assert dialog.table.topLevelItemCount() == 1
    row = dialog.table.topLevelItem(0)
    assert row.text(0) == "notes.jpg"
    assert Path(row.text(1)) == bad.parent
    assert row.text(2).startswith("Not an image"), "the reason in words, not a code"
    assert dt.date.today().strftime("%Y") in row.text(3)

    opened: list[Path] = []
    dialog._folder_opener = lambda path: opened.append(path) or True
    assert not dialog.folder_button.isEnabled(), "nothing selected yet"
    row.setSelected(True)
    dialog.folder_button.click()
    assert opened == [bad]

    bad.unlink()
    make_photo(bad, color=(230, 200, 120))  # the user fixed it
    with qtbot.waitSignal(window.service.operationFinished, timeout=30_000):
        dialog.retry_button.click()
    qtbot.waitUntil(lambda: dialog.table.topLevelItemCount() == 0)
    assert "every file" in dialog.intro.text()
    assert len(window.service.all_photo_ids()) == 10
    dialog.close()


def test_a_file_still_broken_stays_in_the_list(window: MainWindow, small_library: SmallLibrary, qtbot) -> None:
    (small_library.photos / "forest" / "empty.jpg").write_bytes(b"")
    _rescan(window, qtbot)
    window.skipped_action.trigger()
    dialog = window.findChild(SkippedFilesDialog)
    assert dialog.table.topLevelItemCount() == 1 and dialog.table.topLevelItem(0).text(2).startswith("Empty file")
    with qtbot.waitSignal(window.service.operationFinished, timeout=30_000):
        dialog.try_again()
    assert dialog.table.topLevelItemCount() == 1
    dialog.close()


def test_a_summary_without_skipped_files_offers_no_list(window: MainWindow, qtbot) -> None:
    _rescan(window, qtbot)
    assert not window.show_skipped_button.isVisible()
