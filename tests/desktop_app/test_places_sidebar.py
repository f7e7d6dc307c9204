"""Places in the window (issue 20): the sidebar lists countries with their counts, opens a country to its
cities, and clicking a place shows its photos; the viewer says where a photo was taken."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
import shiboken6
from PySide6.QtCore import Qt

from desktop_app.main_window import MainWindow
from desktop_app.photo_viewer import PhotoViewer, describe_time
from desktop_app.places_sidebar import AWAY_FROM_TOWNS, place_rows, place_tooltip
from desktop_app.service import LibraryService
from desktop_app.sidebar import arrow_rect
from engine.library import Library
from engine.places.summary import CountryPlaces
from tests.engine.places.gps_photos import NICE, OFF_CORSICA, PARIS, ZURICH, gps_photo

from .conftest import window_over

JULY = dt.datetime(2023, 7, 14, 10, 0)


@pytest.fixture
def places_service(tmp_path: Path, qtbot) -> Iterator[LibraryService]:
    photos = tmp_path / "photos"
    for i in range(3):
        gps_photo(photos / f"nice{i}.jpg", NICE, taken=JULY + dt.timedelta(days=i), offset="+02:00")
    gps_photo(photos / "paris.jpg", PARIS, taken=JULY)
    gps_photo(photos / "boat.jpg", OFF_CORSICA, taken=JULY)
    for i in range(2):
        gps_photo(photos / f"zurich{i}.jpg", ZURICH, taken=JULY)
    gps_photo(photos / "plain.jpg", None, taken=JULY)
    with Library(tmp_path / "library") as library:
        library.index([photos], embed=False)
    svc = LibraryService(tmp_path / "library")
    yield svc
    assert svc.close(), "a background operation was left running"


@pytest.fixture
def places_window(qtbot, places_service: LibraryService, tmp_path: Path) -> Iterator[MainWindow]:
    yield from window_over(qtbot, places_service, tmp_path / "window.ini")


def _places(window: MainWindow) -> list[tuple[str, int, int]]:
    return [(e.title, e.size, e.depth) for e in window.album_model.entries() if e.kind == "place"]


def test_place_rows_open_a_country_to_its_cities() -> None:
    countries = [
        CountryPlaces("France", 5, (("Nice", 3), ("Paris", 1), (None, 1))),
        CountryPlaces("Switzerland", 2, (("Zürich", 2),)),
    ]
    closed = place_rows(countries, set())
    assert [(r.title, r.count, r.depth, r.expandable) for r in closed] == [
        ("France", 5, 0, True),
        ("Switzerland", 2, 0, True),
    ]
    opened = place_rows(countries, {"France"})
    assert [(r.title, r.count, r.depth) for r in opened] == [
        ("France", 5, 0),
        ("Nice", 3, 1),
        ("Paris", 1, 1),
        (AWAY_FROM_TOWNS, 1, 1),
        ("Switzerland", 2, 0),
    ]
    assert len({r.key for r in opened}) == len(opened)
    assert place_tooltip("France", "Nice", 3) == "3 photos taken in Nice, France"
    assert place_tooltip("France", "", 1) == "1 photo taken in France, away from any town"


def test_sidebar_lists_countries_and_opens_them_to_cities(places_window: MainWindow, qtbot) -> None:
    window = places_window
    assert _places(window) == [("France", 5, 0), ("Switzerland", 2, 0)]
    row = window.album_model.row_of(("place", "France"))
    assert row is not None
    entry = window.album_model.entry(row)
    rect = window.sidebar.visualRect(window.album_model.index(row))
    qtbot.mouseClick(window.sidebar.viewport(), Qt.MouseButton.LeftButton, pos=arrow_rect(rect, entry).center())
    assert _places(window) == [
        ("France", 5, 0),
        ("Nice", 3, 1),
        ("Paris", 1, 1),
        (AWAY_FROM_TOWNS, 1, 1),
        ("Switzerland", 2, 0),
    ]
    assert window.album_model.index(row).data(Qt.ItemDataRole.ToolTipRole).endswith("5 photos taken in France")


def test_clicking_a_place_shows_its_photos(places_window: MainWindow, places_service: LibraryService) -> None:
    window = places_window
    window.album_model.set_place_expanded("France", True)
    assert window.sidebar.select_key(("place", "France\x1fNice"))
    shown = {Path(places_service.photo_path(i)).stem for i in window.grid_model.ids()}
    assert shown == {"nice0", "nice1", "nice2"}
    assert window.grid.caption.text().startswith("Nice")
    assert window.sidebar.select_key(("place", "Switzerland"))
    assert {Path(places_service.photo_path(i)).stem for i in window.grid_model.ids()} == {"zurich0", "zurich1"}


def test_keys_open_and_close_a_country(places_window: MainWindow, qtbot) -> None:
    window = places_window
    assert window.sidebar.select_key(("place", "France"))
    window.sidebar.setFocus()
    qtbot.keyClick(window.sidebar, Qt.Key.Key_Right)
    assert len(_places(window)) == 5
    qtbot.keyClick(window.sidebar, Qt.Key.Key_Down)
    assert window.sidebar.current_entry().title == "Nice"
    qtbot.keyClick(window.sidebar, Qt.Key.Key_Left)
    assert window.sidebar.current_entry().key == ("place", "France"), "Left goes up to the country"
    qtbot.keyClick(window.sidebar, Qt.Key.Key_Left)
    assert len(_places(window)) == 2


def test_a_library_without_gps_has_no_places_rows(window: MainWindow) -> None:
    assert _places(window) == []


def test_viewer_shows_the_place_and_time_zone(places_window: MainWindow, places_service: LibraryService, qtbot) -> None:
    ids = places_service.all_photo_ids()
    by_stem = {Path(places_service.photo_path(i)).stem: i for i in ids}
    viewer = PhotoViewer(places_service, ids, by_stem["nice0"], places_window)
    viewer.show()
    qtbot.waitExposed(viewer)
    try:
        assert viewer.place_label.text() == "Nice, France"
        assert viewer.date_label.text() == "Fri 14 Jul 2023, 10:00 (UTC+02:00)"
    finally:
        if shiboken6.isValid(viewer) and viewer.isVisible():
            viewer.close()
    details = places_service.photo_details(by_stem["plain"])
    assert details is not None and details.place == ""
    assert places_service.photo_details(by_stem["boat"]).place == "Corsica, France"  # type: ignore[union-attr]


def test_describe_time_with_and_without_offset() -> None:
    assert describe_time("2023-07-14T10:00:00", -330) == "Fri 14 Jul 2023, 10:00 (UTC-05:30)"
    assert describe_time("2023-07-14T10:00:00") == "Fri 14 Jul 2023, 10:00"
