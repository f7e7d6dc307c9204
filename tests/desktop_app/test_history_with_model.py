"""The issue's scenario in the window, with the tiny CLIP model: the user's album survives Fewer and More, Ctrl+Z
undoes the re-cluster (not the move before it), Redo re-applies it, and the summary strip's Undo reverts one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from desktop_app.main_window import MainWindow
from desktop_app.service import LibraryService, ReclusterMode
from engine.library import Library

from .conftest import open_window

COLOURS = [(230, 200, 40), (220, 30, 30), (30, 160, 60), (40, 60, 220)]
SUNNY = "Sunny Stars 2021"


@pytest.fixture
def clustered_window(qtbot, tmp_path: Path, tiny_model: dict[str, str], make_photo) -> Iterator[MainWindow]:
    """24 photos of 4 colours in 4 albums (the tiny model, k = 4), and the window over them."""
    for n in range(24):
        make_photo(tmp_path / "photos" / f"p{n:02d}.jpg", color=COLOURS[n % 4])
    with Library(tmp_path / "library") as library:
        library.set_model(tiny_model["name"], tiny_model["pretrained"], tiny_model["config"])
        library.index([tmp_path / "photos"])
        library.recluster(4)
    service = LibraryService(tmp_path / "library")
    window = open_window(qtbot, service, tmp_path / "w.ini")
    yield window
    window.close()
    assert window.loader.wait_for_done()
    assert service.close()


def state(service: LibraryService) -> dict[str, list[int]]:
    """Albums by name with their photos ("Other" included): what undo must put back exactly."""
    return {a.name: sorted(a.members) for a in service.albums()}


def recluster(window: MainWindow, qtbot, mode: ReclusterMode) -> None:
    with qtbot.waitSignal(window.service.operationUndoable, timeout=60_000):
        window.recluster(mode)
    qtbot.waitUntil(lambda: not window.service.busy, timeout=10_000)


@pytest.mark.slow
def test_fewer_then_undo_redo_more_and_the_strip_undo(clustered_window: MainWindow, qtbot) -> None:
    window, service = clustered_window, clustered_window.service
    albums = [a for a in service.albums() if a.id is not None]
    assert len(albums) == 4
    sunny, other = albums[0], albums[1]
    assert service.rename(sunny.id, SUNNY)
    assert service.move(other.members[:2], sunny.id)  # the user's photos, moved one by one
    mine = set(service.album(sunny.id).members)
    before = state(service)

    recluster(window, qtbot, "fewer")
    assert set(service.album(sunny.id).members) >= mine, "the user's album keeps every photo it had"
    assert service.album(sunny.id).name == SUNNY
    strip = window.summary_notice
    assert strip.isVisible() and strip.action_button.isVisible() and strip.action_button.text() == "Undo"
    assert "photos →" not in strip.message.text().splitlines()[0], "what changed, by album name, comes first"
    after_fewer = state(service)

    window.undo_action.trigger()  # Ctrl+Z undoes the re-cluster, not the move before it
    assert window.statusBar().currentMessage() == "Undone: Re-cluster into fewer albums"
    assert state(service) == before
    assert not strip.action_button.isVisible(), "the strip's Undo goes once its re-cluster is undone"
    window.redo_action.trigger()
    assert window.statusBar().currentMessage().startswith("Redone: Re-cluster")
    assert state(service) == after_fewer

    recluster(window, qtbot, "more")
    assert service.album(sunny.id) is not None, "More never retires the user's album"
    assert set(service.album(sunny.id).members) >= mine and service.album(sunny.id).name == SUNNY
    qtbot.mouseClick(strip.action_button, Qt.MouseButton.LeftButton)
    assert window.statusBar().currentMessage().startswith("Undone: Re-cluster")
    assert state(service) == after_fewer
    dialog = window.history_actions.open_history()
    kinds = [dialog.tree.topLevelItem(i).toolTip(1).splitlines()[-1] for i in range(dialog.tree.topLevelItemCount())]
    assert kinds[:4] == ["(recluster)", "(recluster)", "(move)", "(rename)"]
    dialog.close()
