"""The viewer's keys (issue 16, item 9): arrows, Home/End, Space, Esc, F and the wheel work whatever has focus."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import shiboken6
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QAbstractButton, QApplication

from desktop_app.main_window import MainWindow
from desktop_app.photo_viewer import PhotoViewer

from .conftest import SmallLibrary


@pytest.fixture
def viewer(window: MainWindow, small_library: SmallLibrary, qtbot) -> Iterator[PhotoViewer]:
    ids = window.service.all_photo_ids()
    view = PhotoViewer(window.service, ids, ids[0], window)
    view.show()
    qtbot.waitExposed(view)
    yield view
    if shiboken6.isValid(view) and view.isVisible():  # deleted on close
        view.close()


def _key(viewer: PhotoViewer, qtbot, key: Qt.Key) -> None:
    """Press a key as a user would: it goes to whatever widget has the focus."""
    target = QApplication.focusWidget() or viewer
    qtbot.keyClick(target, key)


def test_buttons_take_no_focus_so_they_cannot_eat_keys(viewer: PhotoViewer) -> None:
    for button in viewer.findChildren(QAbstractButton):
        assert button.focusPolicy() == Qt.FocusPolicy.NoFocus, button.text()


@pytest.mark.parametrize("focused", ["next", "previous", "folder", "close"])
def test_keys_step_whatever_has_focus(viewer: PhotoViewer, qtbot, focused: str) -> None:
    button = {
        "next": viewer.next_button,
        "previous": viewer.previous_button,
        "folder": viewer.folder_button,
        "close": viewer.findChildren(QAbstractButton)[-1],
    }[focused]
    viewer.activateWindow()
    button.setFocus(Qt.FocusReason.OtherFocusReason)
    _key(viewer, qtbot, Qt.Key.Key_Right)
    assert viewer.position == 1
    _key(viewer, qtbot, Qt.Key.Key_Space)
    assert viewer.position == 2, "Space is Next, not a button press"
    _key(viewer, qtbot, Qt.Key.Key_Left)
    assert viewer.position == 1
    _key(viewer, qtbot, Qt.Key.Key_End)
    assert viewer.position == len(viewer.photo_ids) - 1
    _key(viewer, qtbot, Qt.Key.Key_Home)
    assert viewer.position == 0
    assert viewer.isVisible()


def test_f_toggles_full_screen_and_esc_leaves_it_then_closes(viewer: PhotoViewer, qtbot) -> None:
    viewer.next_button.setFocus()
    _key(viewer, qtbot, Qt.Key.Key_F)
    qtbot.waitUntil(lambda: viewer.isFullScreen())
    _key(viewer, qtbot, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not viewer.isFullScreen())
    assert viewer.isVisible()
    _key(viewer, qtbot, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not viewer.isVisible())


def _wheel(widget, dy: int) -> None:
    pos = QPointF(widget.rect().center())
    event = QWheelEvent(
        pos,
        widget.mapToGlobal(pos),
        QPoint(),
        QPoint(0, dy),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(widget, event)


def test_the_wheel_steps_over_the_photo_and_the_buttons(viewer: PhotoViewer) -> None:
    _wheel(viewer.image_label, -120)
    assert viewer.position == 1
    _wheel(viewer.next_button, -120)
    assert viewer.position == 2
    _wheel(viewer.image_label, 120)
    assert viewer.position == 1
    _wheel(viewer.image_label, -40)  # a touchpad's small steps add up to one
    assert viewer.position == 1
    _wheel(viewer.image_label, -80)
    assert viewer.position == 2
