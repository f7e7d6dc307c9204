"""The Duplicates view: a sidebar entry listing files that hold one picture, and "Show in folder"."""

from __future__ import annotations

from pathlib import Path

from desktop_app.duplicates_view import file_size
from desktop_app.main_window import MainWindow
from desktop_app.service import LibraryService

from .conftest import SmallLibrary, open_window
from .test_stacks import add_copies


def test_the_duplicates_entry_lists_the_copies_and_shows_their_folder(
    qtbot, small_library: SmallLibrary, tmp_path
) -> None:
    add_copies(small_library)
    service = LibraryService(small_library.directory)
    window: MainWindow = open_window(qtbot, service, tmp_path / "window.ini")
    opened: list[str] = []
    window.duplicates_view._open_folder = opened.append
    try:
        assert window.sidebar.select_key(("duplicates", None))
        assert window.content.currentWidget() is window.duplicates_view
        view = window.duplicates_view
        assert "never deletes" in view.caption.text() and "Show in folder" in view.caption.text()
        assert "photoatlas" not in view.caption.text(), "the window never asks to type a command"
        assert view.tree.topLevelItemCount() == 1
        group = view.tree.topLevelItem(0)
        assert group.text(0).startswith("3 exact copies")
        folders = {Path(group.child(n).text(3)).name for n in range(group.childCount())}
        assert folders == {"beach", "backup", "export"}
        assert not view.show_button.isEnabled()
        group.child(1).setSelected(True)
        assert view.show_button.isEnabled()
        view.show_button.click()
        assert len(opened) == 1 and Path(opened[0]).name == "beach0.jpg" and Path(opened[0]).exists()

        # Back to the photos: the grid returns.
        window.sidebar.select_key(("all", None))
        assert window.content.currentWidget() is window.grid
    finally:
        window.close()
        assert window.loader.wait_for_done()
        assert service.close()


def test_no_duplicates_no_entry(window: MainWindow) -> None:
    assert not window.sidebar.select_key(("duplicates", None))


def test_sizes_read_as_people_say_them() -> None:
    assert file_size(840) == "840 bytes"
    assert file_size(84_000) == "84 KB"
    assert file_size(2_400_000) == "2.4 MB"
