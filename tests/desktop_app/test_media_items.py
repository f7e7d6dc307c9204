"""Videos, Live Photos and RAW+JPEG pairs in the window: a badge on the thumbnail, the viewer's kind, files and
Play button (the system's player where Qt Multimedia is absent), stepping with ←/→ as for photos."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
import shiboken6
from PySide6.QtCore import Qt

from desktop_app.main_window import MainWindow
from desktop_app.models import ROLE_BADGE
from desktop_app.photo_rows import format_duration
from desktop_app.photo_viewer import PhotoViewer, describe_kind
from desktop_app.service import LibraryService
from engine import Library
from tests.media_files import picture, solid_frames, write_dng, write_video

from .conftest import open_window

pytest.importorskip("av")
pytest.importorskip("rawpy")


@pytest.fixture
def media_window(tmp_path: Path, make_photo, qtbot) -> Iterator[MainWindow]:
    photos = tmp_path / "photos"
    make_photo(photos / "a.jpg", taken=dt.datetime(2023, 7, 1, 12))
    write_video(photos / "b.mp4", solid_frames((20, 120, 220)), count=30, creation_time="2023-07-02T12:00:00Z")
    make_photo(photos / "IMG_3.jpg", color=(220, 200, 20), taken=dt.datetime(2023, 7, 3, 12))
    write_video(photos / "IMG_3.MOV", solid_frames((220, 200, 20)), count=15)
    make_photo(photos / "IMG_4.jpg", color=(20, 20, 200), taken=dt.datetime(2023, 7, 4, 12))
    write_dng(photos / "IMG_4.dng", picture((20, 20, 200)))
    with Library(tmp_path / "library") as library:
        library.index([photos], embed=False)
    service = LibraryService(tmp_path / "library")
    window = open_window(qtbot, service, tmp_path / "window.ini")
    yield window
    window.close()
    assert window.loader.wait_for_done()
    assert service.close()


def test_format_duration() -> None:
    assert [format_duration(s) for s in (None, 0.4, 7.2, 750, 3723)] == ["", "0:00", "0:07", "12:30", "1:02:03"]


def test_thumbnails_carry_a_badge_for_videos_live_photos_and_raws(media_window: MainWindow) -> None:
    service, model = media_window.service, media_window.grid_model
    model.set_ids(service.all_photo_ids())
    badges = {Path(service.photo_path(model.photo_id(r))).name: model.index(r).data(ROLE_BADGE) for r in range(4)}
    assert badges == {"a.jpg": "", "b.mp4": "0:03", "IMG_3.jpg": "LIVE", "IMG_4.jpg": "RAW"}


def test_the_viewer_plays_clips_and_lists_every_file_of_an_item(media_window: MainWindow, qtbot) -> None:
    service = media_window.service
    ids = service.all_photo_ids()
    viewer = PhotoViewer(service, ids, ids[0], media_window)
    played: list[str] = []
    viewer._inline = False  # as with PySide6-Essentials: no Qt Multimedia
    viewer._player_opener = lambda path: played.append(path) or True
    viewer.show()
    qtbot.waitExposed(viewer)
    try:
        viewer.show_current()
        kinds = []
        for _ in ids:
            details = viewer.details
            kinds.append((details.file_name, describe_kind(details), viewer.play_button.isVisibleTo(viewer)))
            # The "Files" row shows only for an item of several files, never empty.
            files_shown = viewer.files_label.isVisibleTo(viewer)
            assert files_shown == (len(details.files) > 1), (details.file_name, details.files)
            if viewer.play_button.isVisibleTo(viewer):
                qtbot.mouseClick(viewer.play_button, Qt.MouseButton.LeftButton)
            qtbot.keyClick(viewer, Qt.Key.Key_Right)  # the same stepping as for photos
        assert kinds == [
            ("a.jpg", "Photo", False),
            ("b.mp4", "Video · 0:03", True),
            ("IMG_3.jpg", "Live Photo", True),
            ("IMG_4.jpg", "RAW + JPEG", False),
        ]
        assert [Path(p).name for p in played] == ["b.mp4", "IMG_3.MOV"]
        assert viewer.files_label.text().split("\n") == ["IMG_4.jpg", "IMG_4.dng"]
        assert "system player" in viewer.play_button.text()
    finally:
        if shiboken6.isValid(viewer) and viewer.isVisible():
            viewer.close()
