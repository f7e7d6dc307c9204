"""Settings: photo folders, CLIP model and weights, device, DAC refinement, thumbnails.

Engine settings are the library's own (saved as TOML by the engine); the in-memory thumbnail budget is
the window's, kept in QSettings. The device in use is found through the service on a pool thread,
because asking torch about CUDA costs its import.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QRunnable, QSettings, QStandardPaths, Qt, QThreadPool, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop_app.qt_compat import emit
from desktop_app.service import LibraryService
from engine.settings import (
    DEFAULT_MODEL,
    DEFAULT_PRETRAINED,
    LibrarySettings,
    ModelSpec,
    cluster_address_problem,
    path_map_pairs,
)

DEVICES = (("Automatic", "auto"), ("CPU", "cpu"), ("NVIDIA GPU (CUDA)", "cuda"), ("Apple GPU (MPS)", "mps"))
COMMON_MODELS = ("ViT-B-32", "ViT-B-16", "ViT-L-14")
CHECKPOINT_FILTER = "CLIP checkpoints (*.safetensors *.pt *.pth *.bin);;All files (*)"
CONFIG_FILTER = "open_clip model configs (*.json);;All files (*)"
CACHE_MB_KEY = "thumbnails/memory_mb"
WATCH_KEY = "watch/enabled"
DEFAULT_CACHE_MB = 256


@dataclass(frozen=True)
class SettingsChoice:
    """What the user chose in the dialog."""

    engine: LibrarySettings
    memory_mb: int
    watch: bool = True

    def model_changed(self, before: LibrarySettings) -> bool:
        return self.engine.model != before.model


class _ProbeSignals(QObject):
    found = Signal(str, str)  # which label, its text


class _Probe(QRunnable):
    """Compute a label's text on a pool thread (a torch import, a walk of the thumbnail folder)."""

    def __init__(self, label: str, describe: Callable[[], str], signals: _ProbeSignals) -> None:
        super().__init__()
        self.label, self.describe, self.signals = label, describe, signals

    def run(self) -> None:
        emit(self.signals.found, self.label, self.describe())


def standard_folder(location: QStandardPaths.StandardLocation) -> str:
    """Where a file picker opens: the user's folder of that kind (Pictures, Downloads), else the home folder;
    never the program's working directory."""
    folder = QStandardPaths.writableLocation(location)
    return folder if folder and Path(folder).is_dir() else str(Path.home())


def memory_budget_mb(settings: QSettings) -> int:
    """The thumbnail memory budget the user chose, in MB."""
    try:
        return max(32, int(settings.value(CACHE_MB_KEY, DEFAULT_CACHE_MB)))
    except (TypeError, ValueError):
        return DEFAULT_CACHE_MB


def folder_size_mb(folder: Path) -> float:
    total = 0
    for path in folder.rglob("*"):
        try:
            if path.is_file():
                total += path.stat().st_size
        except OSError:
            continue
    return total / 1e6


def _note(text: str) -> QLabel:
    """A word-wrapped explanation for a settings section."""
    note = QLabel(text)
    note.setWordWrap(True)
    return note


def _form_then(box: QGroupBox, form: QFormLayout, *below: QWidget) -> QGroupBox:
    """`box` holding `form`, then `below` under it. Word-wrapped labels go below, outside the form: a
    QFormLayout row gives a word-wrapped label too little height, clipping it."""
    column = QVBoxLayout(box)
    column.addLayout(form)
    for widget in below:
        column.addWidget(widget)
    return box


class SettingsDialog(QDialog):
    """The settings window; `choice()` is what to apply after it is accepted.

    Args:
        settings: the library's engine settings now.
        folders: the library's photo folders (added through "Add folder…", removed through "Remove…").
        thumbnail_dir: where the thumbnail cache lives.
        window_settings: the window's QSettings (thumbnail memory budget).
        describe_device: the text for a requested device ("In use: cuda"); called on a pool thread.
    """

    addFolderRequested = Signal()
    removeFolderRequested = Signal(str)

    def __init__(
        self,
        settings: LibrarySettings,
        folders: list[str],
        thumbnail_dir: Path,
        window_settings: QSettings,
        parent: QWidget | None = None,
        describe_device: Callable[[str], str] = LibraryService.describe_device,
    ) -> None:
        super().__init__(parent)
        self._describe_device = describe_device
        self.folder_source: Callable[[], list[str]] | None = None
        self.setObjectName("settingsDialog")
        self.setWindowTitle("PhotoAtlas settings")
        self._settings = settings
        self._thumbnail_dir = thumbnail_dir
        # The sections scroll and OK / Cancel stay in view: on a laptop screen of 768 pixels the sections are
        # taller than the screen.
        sections = QWidget()
        inner = QVBoxLayout(sections)
        inner.setContentsMargins(0, 0, 0, 0)
        inner.addWidget(self._folders_box(folders, bool(window_settings.value(WATCH_KEY, True, type=bool))))
        inner.addWidget(self._model_box(settings))
        inner.addWidget(self._albums_box(settings))
        inner.addWidget(self._cluster_box(settings))
        inner.addWidget(self._thumbnails_box(settings, memory_budget_mb(window_settings)))
        self.sections = QScrollArea()
        self.sections.setWidget(sections)
        self.sections.setWidgetResizable(True)
        self.sections.setFrameShape(QFrame.Shape.NoFrame)
        self.sections.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.sections, 1)
        layout.addWidget(buttons)
        self._probe_signals = _ProbeSignals()  # no parent: outlives the dialog if a probe is slow
        self._probe_signals.found.connect(self._on_probed)
        # Word-wrapped notes need the height that goes with the dialog's width: Qt's minimum size does not know
        # it (and the rows of the model's form get squashed), so the dialog starts at its full size hint.
        self.setMinimumWidth(560)
        sections.setMinimumWidth(sections.sizeHint().width())
        margins = layout.contentsMargins()
        full = sections.sizeHint().height() + buttons.sizeHint().height() + layout.spacing()
        full += margins.top() + margins.bottom()
        screen = self.screen().availableGeometry().height() if self.screen() is not None else full
        height = min(full, max(320, screen - 80))  # the whole dialog where the screen allows, else it scrolls
        self.setMinimumHeight(min(height, 480))
        self.resize(max(560, sections.sizeHint().width() + margins.left() + margins.right()), height)
        self.probe_device()
        folder = self._thumbnail_dir
        self._probe("cache_usage", lambda: f"{folder_size_mb(folder):.1f} MB on disk")

    # -- sections --------------------------------------------------------------------------------

    def _folders_box(self, folders: list[str], watch: bool) -> QGroupBox:
        box = QGroupBox("Photo folders")
        self.watch = QCheckBox("Watch these folders")
        self.watch.setToolTip("New, edited, moved and deleted photos are brought in as soon as they change")
        self.watch.setChecked(watch)
        self.folder_list = QListWidget()
        self.folder_list.setMaximumHeight(90)
        self.folder_list.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.folder_list.itemSelectionChanged.connect(self._update_folder_buttons)
        add = QPushButton("Add folder…")
        add.clicked.connect(lambda: emit(self.addFolderRequested))
        self.remove_folder_button = QPushButton("Remove…")
        self.remove_folder_button.setToolTip("Stop following the selected folder; its files stay where they are")
        self.remove_folder_button.clicked.connect(self._remove_folder)
        note = _note("PhotoAtlas only reads these folders; it never changes, moves or deletes your photos.")
        layout = QVBoxLayout(box)
        row = QHBoxLayout()
        row.addWidget(self.folder_list, 1)
        buttons = QVBoxLayout()
        buttons.addWidget(add)
        buttons.addWidget(self.remove_folder_button)
        buttons.addStretch(1)
        row.addLayout(buttons)
        layout.addLayout(row)
        layout.addWidget(self.watch)
        layout.addWidget(note)
        self.set_folders(folders)
        return box

    def set_folders(self, folders: list[str]) -> None:
        """Show the library's folders (after one was added or removed)."""
        self.folder_list.clear()
        for folder in folders:
            self.folder_list.addItem(folder)
            item = self.folder_list.item(self.folder_list.count() - 1)
            item.setToolTip(folder)
        self._update_folder_buttons()

    def reload_folders(self) -> None:
        """Show the folders `folder_source` gives now (set by the window; a folder was added or removed)."""
        if self.folder_source is not None:
            self.set_folders(self.folder_source())

    def _update_folder_buttons(self) -> None:
        self.remove_folder_button.setEnabled(bool(self.folder_list.selectedItems()))

    def _remove_folder(self) -> None:
        for item in self.folder_list.selectedItems()[:1]:
            emit(self.removeFolderRequested, item.text())

    def _model_box(self, settings: LibrarySettings) -> QGroupBox:
        box = QGroupBox("CLIP model")
        spec = settings.model
        self.model_name = QComboBox()
        self.model_name.setEditable(True)
        self.model_name.addItems(COMMON_MODELS)
        self.model_name.setCurrentText(spec.name)
        self.use_tag = QRadioButton("Download weights:")
        self.use_file = QRadioButton("Weights file on this computer:")
        group = QButtonGroup(box)
        group.addButton(self.use_tag)
        group.addButton(self.use_file)
        self.tag = QLineEdit(DEFAULT_PRETRAINED if spec.pretrained_is_file else spec.pretrained)
        self.weights_file = QLineEdit(spec.pretrained if spec.pretrained_is_file else "")
        self.weights_file.setPlaceholderText("e.g. open_clip_model.safetensors")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self.browse_weights)
        (self.use_file if spec.pretrained_is_file else self.use_tag).setChecked(True)
        self.offline = QCheckBox("Work offline (never download weights)")
        self.offline.setChecked(settings.offline)
        self.device = QComboBox()
        for label, value in DEVICES:
            self.device.addItem(label, value)
        self.device.setCurrentIndex(max(0, self.device.findData(settings.device)))
        self.device.currentIndexChanged.connect(lambda _i: self.probe_device())
        self.threads = QSpinBox()
        cores = os.cpu_count() or 2
        self.threads.setRange(0, cores)
        automatic = LibrarySettings(threads=0).index_threads()
        self.threads.setSpecialValueText(f"Automatic ({automatic} of {cores})")
        self.threads.setValue(min(settings.threads, cores))
        self.threads.setToolTip(
            "How many CPU cores indexing may use, to read photos and run the model; "
            "automatic leaves one free on computers with more than 2"
        )
        self.device_label = QLabel("In use: checking…")
        self.device_label.setObjectName("deviceInUse")
        self.device_label.setWordWrap(True)  # "Not available: …" can be long; outside the form, so it wraps
        self.model_config = QLineEdit(spec.config or "")
        self.model_config.setPlaceholderText("Only for a model open_clip does not know")
        self.model_config.setToolTip("A JSON model config (open_clip's format) that defines a custom model")
        browse_config = QPushButton("Browse…")
        browse_config.clicked.connect(self.browse_config)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Model", self.model_name)
        config_row = QHBoxLayout()
        config_row.addWidget(self.model_config, 1)
        config_row.addWidget(browse_config)
        form.addRow("Model config file:", config_row)
        form.addRow(self.use_tag, self.tag)
        file_row = QHBoxLayout()
        file_row.addWidget(self.weights_file, 1)
        file_row.addWidget(browse)
        form.addRow(self.use_file, file_row)
        form.addRow("", self.offline)
        form.addRow("Device", self.device)
        form.addRow("CPU cores for indexing", self.threads)
        note = _note(
            "Changing the model embeds every photo again (on this computer, nothing is uploaded). The new model "
            "is tried on one photo first; if it does not load, the current one stays."
        )
        return _form_then(box, form, self.device_label, note)

    def _albums_box(self, settings: LibrarySettings) -> QGroupBox:
        box = QGroupBox("Albums")
        self.dac_refine = QCheckBox("Refine albums with DAC after each re-cluster (experimental)")
        self.dac_refine.setChecked(settings.dac_refine)
        self.dac_refine.setToolTip(
            "Learns from your corrections; slower re-clusters. Your names, merges, moves and pins are never overridden"
        )
        QVBoxLayout(box).addWidget(self.dac_refine)
        return box

    def _cluster_box(self, settings: LibrarySettings) -> QGroupBox:
        box = QGroupBox("Compute cluster")
        self.compute_cluster = QLineEdit(settings.compute_cluster)
        self.compute_cluster.setObjectName("computeCluster")
        self.compute_cluster.setPlaceholderText("Off (this computer only)")
        self.compute_cluster.setToolTip(
            "A Ray cluster that decodes and embeds new photos and fits the albums: local, auto, "
            "the head's address such as 192.168.1.20:6379, or ray://host:10001. Empty: off"
        )
        self.cluster_path_map = QLineEdit(settings.cluster_path_map)
        self.cluster_path_map.setObjectName("clusterPathMap")
        self.cluster_path_map.setPlaceholderText("e.g. /Volumes/photos=/mnt/photos")
        self.cluster_path_map.setToolTip(
            "Where the cluster's computers see your photo folders; photos they cannot see are sent to them"
        )
        form = QFormLayout()
        form.addRow("Cluster address", self.compute_cluster)
        form.addRow("Photo folders there", self.cluster_path_map)
        note = _note(
            "Off by default. With a cluster, your computer still keeps the catalog: it sends only new or changed "
            "photos and saves each result as it comes back, so stopping never loses finished work."
        )
        return _form_then(box, form, note)

    def _thumbnails_box(self, settings: LibrarySettings, memory_mb: int) -> QGroupBox:
        box = QGroupBox("Thumbnails")
        self.thumbnail_size = QSpinBox()
        self.thumbnail_size.setRange(128, 1024)
        self.thumbnail_size.setSingleStep(64)
        self.thumbnail_size.setSuffix(" px")
        self.thumbnail_size.setValue(settings.thumbnail_size)
        self.thumbnail_size.setToolTip("Long side of new thumbnails; existing ones are kept")
        self.memory_mb = QSpinBox()
        self.memory_mb.setRange(32, 8192)
        self.memory_mb.setSingleStep(64)
        self.memory_mb.setSuffix(" MB")
        self.memory_mb.setValue(memory_mb)
        self.memory_mb.setToolTip("Memory for thumbnails on screen; more keeps scrolling back instant")
        # A path has no spaces to wrap at: a read-only field scrolls it, the tooltip shows it whole.
        self.cache_label = QLineEdit(str(self._thumbnail_dir))
        self.cache_label.setReadOnly(True)
        self.cache_label.setToolTip(str(self._thumbnail_dir))
        self.cache_label.setCursorPosition(0)
        self.cache_usage = QLabel("Measuring…")
        open_button = QPushButton("Open folder")
        open_button.clicked.connect(lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(self._thumbnail_dir))))
        form = QFormLayout(box)
        form.addRow("Size", self.thumbnail_size)
        form.addRow("Memory", self.memory_mb)
        location = QHBoxLayout()
        location.addWidget(self.cache_label, 1)
        location.addWidget(open_button)
        form.addRow("Disk cache", location)
        form.addRow("", self.cache_usage)
        return box

    # -- behaviour -------------------------------------------------------------------------------

    def browse_weights(self) -> None:
        start = self.weights_file.text().strip() or standard_folder(QStandardPaths.StandardLocation.DownloadLocation)
        path, _ = QFileDialog.getOpenFileName(self, "Choose CLIP weights", start, CHECKPOINT_FILTER)
        if path:
            self.weights_file.setText(path)
            self.use_file.setChecked(True)

    def browse_config(self) -> None:
        start = self.model_config.text().strip() or standard_folder(QStandardPaths.StandardLocation.DownloadLocation)
        path, _ = QFileDialog.getOpenFileName(self, "Choose a model config", start, CONFIG_FILTER)
        if path:
            self.model_config.setText(path)
            if not self.model_name.currentText().strip() or self.model_name.currentText() in COMMON_MODELS:
                self.model_name.setCurrentText(Path(path).stem)

    def probe_device(self) -> None:
        self.device_label.setText("In use: checking…")
        requested, describe = str(self.device.currentData()), self._describe_device
        self._probe("device_label", lambda: describe(requested))

    def _probe(self, label: str, describe: Callable[[], str]) -> None:
        QThreadPool.globalInstance().start(_Probe(label, describe, self._probe_signals))

    def _on_probed(self, label: str, text: str) -> None:
        getattr(self, label).setText(text)

    def validation_error(self) -> str | None:
        """Why the choice cannot be applied, or None when it can."""
        if not self.model_name.currentText().strip():
            return "Choose a model name, e.g. ViT-B-32."
        config = self.model_config.text().strip()
        if config and not Path(config).expanduser().is_file():
            return f"The model config file {config} does not exist."
        if self.use_file.isChecked():
            path = self.weights_file.text().strip()
            if not path or not Path(path).expanduser().is_file():
                return f"The weights file {path or '(none)'} does not exist."
        elif not self.tag.text().strip():
            return "Name the weights to download, e.g. laion2b_s34b_b79k."
        cluster_problem = cluster_address_problem(self.compute_cluster.text())
        if cluster_problem is not None:
            return f"Compute cluster: {cluster_problem}."
        try:
            path_map_pairs(self.cluster_path_map.text())
        except ValueError as exc:
            return f"Photo folders there: write your folder, '=', and the cluster's folder, not {exc.args[0]!r}."
        return None

    def accept(self) -> None:
        problem = self.validation_error()
        if problem is not None:
            from desktop_app.messages import show_error

            show_error(self, problem)
            return
        super().accept()

    def choice(self) -> SettingsChoice:
        name = self.model_name.currentText().strip() or DEFAULT_MODEL
        if self.use_file.isChecked():
            pretrained = str(Path(self.weights_file.text().strip()).expanduser().resolve())
        else:
            pretrained = self.tag.text().strip()
        config = self.model_config.text().strip()
        spec = ModelSpec(name, pretrained, str(Path(config).expanduser().resolve()) if config else None)
        engine = self._settings.replace(
            model=spec,
            device=str(self.device.currentData()),
            offline=self.offline.isChecked(),
            dac_refine=self.dac_refine.isChecked(),
            thumbnail_size=self.thumbnail_size.value(),
            threads=self.threads.value(),
            compute_cluster="" if self.compute_cluster.text().strip() == "off" else self.compute_cluster.text().strip(),
            cluster_path_map=self.cluster_path_map.text().strip(),
        )
        return SettingsChoice(engine, self.memory_mb.value(), self.watch.isChecked())
