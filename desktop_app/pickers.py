"""Questions and pickers the window asks with: yes or no, and photo folders (several at once, from Pictures)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QStandardPaths
from PySide6.QtWidgets import QAbstractItemView, QFileDialog, QListView, QMessageBox, QTreeView, QWidget

from desktop_app.settings_dialog import standard_folder


def ask_yes_no(parent: QWidget, title: str, question: str) -> bool:
    buttons = QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No
    return QMessageBox.question(parent, title, question, buttons) == QMessageBox.StandardButton.Yes


def start_folder() -> str:
    """Where the folder picker opens: the user's Pictures folder, else the home folder."""
    return standard_folder(QStandardPaths.StandardLocation.PicturesLocation)


def folder_picker(parent: QWidget | None) -> QFileDialog:
    """A folder picker that opens in Pictures and lets the user pick several folders (Ctrl/Shift-click).

    Qt's own dialog, because the platform's folder pickers choose one folder only.
    """
    dialog = QFileDialog(parent, "Choose folders of photos", start_folder())
    dialog.setFileMode(QFileDialog.FileMode.Directory)
    dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
    dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)
    dialog.setLabelText(QFileDialog.DialogLabel.Accept, "Add")
    for view in dialog.findChildren(QAbstractItemView):
        if isinstance(view, (QListView, QTreeView)) and view.objectName() in ("listView", "treeView"):
            view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
    return dialog


def choose_folders(parent: QWidget) -> list[str]:
    """Ask for one or more photo folders; [] when the user cancels."""
    dialog = folder_picker(parent)
    if dialog.exec() != QFileDialog.DialogCode.Accepted:
        return []
    return [folder for folder in dialog.selectedFiles() if Path(folder).is_dir()]
