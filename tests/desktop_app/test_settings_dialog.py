"""The settings dialog: it shows the library's settings, validates, and applies through the service."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from desktop_app import main_window
from desktop_app.main_window import MainWindow
from desktop_app.settings_dialog import CACHE_MB_KEY, SettingsDialog, memory_budget_mb
from engine.settings import LibrarySettings, ModelSpec


@pytest.fixture
def dialog(qtbot, tmp_path: Path) -> SettingsDialog:
    settings = LibrarySettings(model=ModelSpec("ViT-B-16", "openai"), device="cpu", thumbnail_size=384)
    box = SettingsDialog(
        settings, ["/photos/a", "/photos/b"], tmp_path, QSettings(str(tmp_path / "w.ini"), QSettings.Format.IniFormat)
    )
    qtbot.addWidget(box)
    return box


def test_shows_the_current_settings(dialog: SettingsDialog, qtbot) -> None:
    assert dialog.folder_list.count() == 2
    assert dialog.model_name.currentText() == "ViT-B-16" and dialog.tag.text() == "openai"
    assert dialog.use_tag.isChecked() and not dialog.dac_refine.isChecked()
    assert dialog.device.currentData() == "cpu" and dialog.thumbnail_size.value() == 384
    # The device in use and the cache's size are found off the GUI thread (a torch import, a folder walk).
    qtbot.waitUntil(lambda: dialog.device_label.text() == "In use: cpu", timeout=30_000)
    qtbot.waitUntil(lambda: dialog.cache_usage.text() == "0.0 MB on disk", timeout=30_000)


def test_choice_carries_every_field(dialog: SettingsDialog, tmp_path: Path) -> None:
    weights = tmp_path / "mine.safetensors"
    weights.write_bytes(b"x")
    dialog.model_name.setCurrentText("ViT-B-32")
    dialog.weights_file.setText(str(weights))
    dialog.use_file.setChecked(True)
    dialog.offline.setChecked(True)
    dialog.dac_refine.setChecked(True)
    dialog.memory_mb.setValue(512)
    dialog.device.setCurrentIndex(dialog.device.findData("auto"))
    assert dialog.validation_error() is None
    choice = dialog.choice()
    assert choice.engine.model == ModelSpec("ViT-B-32", str(weights.resolve()), None)
    assert choice.engine.offline and choice.engine.dac_refine and choice.engine.device == "auto"
    assert choice.memory_mb == 512
    assert choice.model_changed(LibrarySettings(model=ModelSpec("ViT-B-16", "openai")))


def test_refuses_a_missing_weights_file(dialog: SettingsDialog) -> None:
    dialog.use_file.setChecked(True)
    dialog.weights_file.setText("/nowhere/weights.pt")
    assert "does not exist" in dialog.validation_error()
    dialog.accept()
    assert dialog.result() != SettingsDialog.DialogCode.Accepted
    dialog.use_tag.setChecked(True)
    dialog.tag.setText(" ")
    assert "Name the weights" in dialog.validation_error()


def test_applying_saves_engine_settings_and_memory_budget(window: MainWindow, monkeypatch) -> None:
    dialog = window.open_settings()
    dialog.dac_refine.setChecked(True)
    dialog.thumbnail_size.setValue(512)
    dialog.memory_mb.setValue(128)
    asked: list[str] = []
    monkeypatch.setattr(main_window, "ask_yes_no", lambda parent, title, question: asked.append(title) or False)
    dialog.accept()
    assert window.service.settings.dac_refine and window.service.settings.thumbnail_size == 512
    assert LibrarySettings.load(window.service.directory).dac_refine, "saved in the library"
    assert memory_budget_mb(window.settings) == 128 and window.loader.memory_budget == 128 * 1024 * 1024
    assert window.settings.value(CACHE_MB_KEY) is not None
    assert asked == [], "the model did not change, so nothing to re-embed"


def test_a_file_that_is_not_a_model_is_refused_and_the_model_stays(window: MainWindow, qtbot, tmp_path: Path) -> None:
    weights = tmp_path / "other.safetensors"
    weights.write_bytes(b"x")
    before = window.service.settings.model
    dialog = window.open_settings()
    dialog.weights_file.setText(str(weights))
    dialog.use_file.setChecked(True)
    with qtbot.waitSignal(window.service.operationFailed, timeout=60_000) as failed:
        dialog.accept()
    assert failed.args[0][0].isupper() and "photoatlas" not in failed.args[0]
    assert window.service.settings.model == before, "tried before it is kept"
    assert LibrarySettings.load(window.service.directory).model == before


def test_cores_for_indexing_are_shown_and_chosen(qtbot, tmp_path: Path) -> None:
    settings = LibrarySettings(model=ModelSpec("ViT-B-16", "openai"), threads=1)
    box = SettingsDialog(settings, [], tmp_path, QSettings(str(tmp_path / "w.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(box)
    assert box.threads.value() == 1 and box.choice().engine.threads == 1
    box.threads.setValue(0)
    assert box.threads.text().startswith("Automatic") and box.choice().engine.threads == 0
