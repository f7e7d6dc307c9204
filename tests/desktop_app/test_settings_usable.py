"""Settings (issue 16, item 10): Ctrl+, opens it on every platform, nothing in it is clipped, folders can be
removed (after a confirmation; the files stay), and a model config file can be given."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QAbstractButton, QAbstractSpinBox, QApplication, QComboBox, QLabel, QLineEdit, QSpinBox

from desktop_app import main_window
from desktop_app.main_window import MainWindow
from desktop_app.settings_dialog import SettingsDialog
from engine.settings import LibrarySettings, ModelSpec

from .conftest import SmallLibrary


def test_ctrl_comma_opens_settings_and_the_menu_shows_it(window: MainWindow, qtbot) -> None:
    assert QKeySequence("Ctrl+,") in window.settings_action.shortcuts()
    assert window.settings_action.shortcut().toString() == "Ctrl+,", "the menu shows the first shortcut"
    window.activateWindow()
    qtbot.keyClick(window.grid.view, Qt.Key.Key_Comma, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(
        lambda: isinstance(QApplication.activeModalWidget() or window.findChild(SettingsDialog), SettingsDialog)
    )
    dialog = window.findChild(SettingsDialog)
    assert dialog is not None and dialog.isVisible()
    dialog.reject()


def _clipped(dialog: SettingsDialog) -> list[str]:
    """Texts that do not fit where they are shown and have no tooltip to read them whole."""
    out = []
    for label in dialog.findChildren(QLabel):
        if not label.isVisible() or not label.text():
            continue
        if label.wordWrap():
            if label.height() + 3 < label.heightForWidth(label.width()):  # a whole line is missing
                out.append(label.text())
        elif label.sizeHint().width() > label.width() and not label.toolTip():
            out.append(label.text())
    for button in dialog.findChildren(QAbstractButton):
        if button.isVisible() and button.text() and button.sizeHint().width() > button.width() + 1:
            out.append(button.text())
    for field in [*dialog.findChildren(QLineEdit), *dialog.findChildren(QComboBox), *dialog.findChildren(QSpinBox)]:
        inner = isinstance(field.parent(), (QComboBox, QAbstractSpinBox))  # a combo's or spin box's own editor
        if field.isVisible() and not inner and field.height() < field.minimumSizeHint().height():
            out.append(f"{type(field).__name__} squashed")
    for line in dialog.findChildren(QLineEdit):
        fits = line.fontMetrics().horizontalAdvance(line.text()) < line.width() - 8
        if line.isVisible() and line.isReadOnly() and not fits and line.toolTip() != line.text():
            out.append(line.text())
    return out


def test_nothing_is_clipped_at_the_dialogs_own_size(qtbot, tmp_path: Path) -> None:
    cache = tmp_path / ("a-very-long-folder-name-for-the-thumbnail-cache-" * 3) / "thumbnails"
    settings = LibrarySettings(model=ModelSpec("ViT-B-16", "openai"), device="cpu")
    dialog = SettingsDialog(
        settings, ["/photos/a"], cache, QSettings(str(tmp_path / "w.ini"), QSettings.Format.IniFormat)
    )
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    note = next(lbl for lbl in dialog.findChildren(QLabel) if lbl.text().startswith("Changing the model"))
    assert note.isVisible()
    assert _clipped(dialog) == []
    dialog.resize(dialog.minimumSizeHint())
    qtbot.wait(50)
    assert _clipped(dialog) == [], "not even at its smallest"


def test_a_folder_can_be_removed_after_a_confirmation(
    window: MainWindow, small_library: SmallLibrary, monkeypatch, qtbot
) -> None:
    asked: list[str] = []
    monkeypatch.setattr(main_window, "ask_yes_no", lambda parent, title, question: asked.append(question) or True)
    dialog = window.open_settings()
    folder = window.service.photo_folders()[0]
    assert not dialog.remove_folder_button.isEnabled(), "nothing selected, nothing to remove"
    dialog.folder_list.setCurrentRow(0)
    assert dialog.remove_folder_button.isEnabled()
    with qtbot.waitSignal(window.service.photosChanged):
        dialog.remove_folder_button.click()
    assert asked and folder in asked[0] and "not" in asked[0], "the question says the files stay"
    assert window.service.photo_folders() == [] and window.service.all_photo_ids() == []
    assert dialog.folder_list.count() == 0
    assert (small_library.photos / "beach" / "beach0.jpg").is_file(), "originals untouched"
    dialog.reject()


def test_declining_keeps_the_folder(window: MainWindow, monkeypatch) -> None:
    monkeypatch.setattr(main_window, "ask_yes_no", lambda parent, title, question: False)
    dialog = window.open_settings()
    dialog.folder_list.setCurrentRow(0)
    dialog.remove_folder_button.click()
    assert len(window.service.photo_folders()) == 1 and len(window.service.all_photo_ids()) == 9
    dialog.reject()


def test_a_model_config_file_can_be_given(qtbot, tmp_path: Path) -> None:
    config = tmp_path / "my-model.json"
    config.write_text("{}")
    weights = tmp_path / "my.safetensors"
    weights.write_bytes(b"x")
    settings = LibrarySettings(model=ModelSpec("ViT-B-16", "openai"))
    dialog = SettingsDialog(settings, [], tmp_path, QSettings(str(tmp_path / "w.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(dialog)
    dialog.model_config.setText(str(tmp_path / "missing.json"))
    assert "config" in (dialog.validation_error() or "")
    dialog.model_config.setText(str(config))
    dialog.model_name.setCurrentText("my-model")
    dialog.weights_file.setText(str(weights))
    dialog.use_file.setChecked(True)
    assert dialog.validation_error() is None
    assert dialog.choice().engine.model == ModelSpec("my-model", str(weights.resolve()), str(config.resolve()))
