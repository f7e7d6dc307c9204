"""The Settings dialog's "Compute cluster" section: off by default, checked before it is applied."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from desktop_app.settings_dialog import SettingsDialog
from engine.settings import LibrarySettings


@pytest.fixture
def dialog(qtbot, tmp_path: Path) -> SettingsDialog:
    box = SettingsDialog(
        LibrarySettings(), [], tmp_path, QSettings(str(tmp_path / "w.ini"), QSettings.Format.IniFormat)
    )
    qtbot.addWidget(box)
    return box


def test_the_cluster_is_off_by_default(dialog: SettingsDialog) -> None:
    assert dialog.compute_cluster.text() == "" and dialog.cluster_path_map.text() == ""
    assert dialog.choice().engine.compute_cluster == ""


def test_an_address_and_a_path_map_are_carried(dialog: SettingsDialog) -> None:
    dialog.compute_cluster.setText(" 192.168.1.20:6379 ")
    dialog.cluster_path_map.setText("/Volumes/photos=/mnt/photos")
    assert dialog.validation_error() is None
    engine = dialog.choice().engine
    assert engine.compute_cluster == "192.168.1.20:6379"
    assert engine.cluster_path_map == "/Volumes/photos=/mnt/photos"


@pytest.mark.parametrize(
    ("address", "path_map", "words"),
    [("192.168.1.20", "", "host:port"), ("local", "/Volumes/photos", "cluster's folder")],
)
def test_a_malformed_entry_is_refused_in_words(dialog: SettingsDialog, address: str, path_map: str, words: str) -> None:
    dialog.compute_cluster.setText(address)
    dialog.cluster_path_map.setText(path_map)
    problem = dialog.validation_error()
    assert problem is not None and words in problem and "photoatlas" not in problem
    dialog.accept()
    assert dialog.result() != SettingsDialog.DialogCode.Accepted


def test_the_window_saves_the_cluster_with_the_library(window, monkeypatch) -> None:
    from desktop_app import main_window

    dialog = window.open_settings()
    dialog.compute_cluster.setText("local")
    dialog.cluster_path_map.setText("/Volumes/photos=/mnt/photos")
    monkeypatch.setattr(main_window, "ask_yes_no", lambda parent, title, question: False)
    dialog.accept()
    saved = LibrarySettings.load(window.service.directory)
    assert saved.compute_cluster == "local" and saved.cluster_path_map == "/Volumes/photos=/mnt/photos"
    assert window.service.settings.compute_cluster == "local"
