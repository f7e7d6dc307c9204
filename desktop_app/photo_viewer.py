"""The photo viewer: one photo large, with its file, date, camera and album; arrows step through the grid.

The image is decoded on a pool thread at screen size (Qt's reader scales JPEGs while decoding and applies
the EXIF orientation); formats Qt cannot read (HEIC, odd TIFFs, RAW, videos) fall back to the cached
thumbnail, so the viewer always shows something. A video (or a Live Photo's motion) plays in the window
where Qt Multimedia is installed, else in the system's player, at the press of a button.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QRunnable, QSize, Qt, QThreadPool, QUrl, Signal
from PySide6.QtGui import (
    QDesktopServices,
    QImage,
    QImageReader,
    QKeyEvent,
    QKeySequence,
    QPixmap,
    QResizeEvent,
    QShortcut,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QAbstractButton,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop_app.photo_rows import PhotoDetails, format_duration
from desktop_app.qt_compat import emit
from desktop_app.service import LibraryService

WHEEL_STEP = 120  # one notch of a mouse wheel; a touchpad sends smaller deltas that add up
PREVIEW_SIDE = 2560  # decode at most this long side: sharp on a 4K screen, cheap on a 50 MP photo


def read_preview(path: str, fallback: Path | None, side: int = PREVIEW_SIDE) -> QImage:
    """The photo at most `side` pixels long, upright; the thumbnail when Qt cannot decode the file."""
    reader = QImageReader(path)
    reader.setAutoTransform(True)
    size = reader.size()
    if size.isValid() and max(size.width(), size.height()) > side:
        reader.setScaledSize(size.scaled(QSize(side, side), Qt.AspectRatioMode.KeepAspectRatio))
    image = reader.read()
    if image.isNull() and fallback is not None:
        image = QImage(str(fallback))
    return image


class _PreviewSignals(QObject):
    loaded = Signal(int, QImage)


class _PreviewTask(QRunnable):
    def __init__(self, photo_id: int, path: str, fallback: Path | None, signals: _PreviewSignals) -> None:
        super().__init__()
        self.photo_id, self.path, self.fallback, self.signals = photo_id, path, fallback, signals

    def run(self) -> None:
        emit(self.signals.loaded, self.photo_id, read_preview(self.path, self.fallback))


def describe_time(taken_at: str | None, utc_offset: int | None = None) -> str:
    """ "Sat 15 Jul 2023, 12:00" from the catalog's ISO time (local where taken), with its time zone when known
    ("…, 12:00 (UTC+02:00)"); "Unknown" without one."""
    if not taken_at:
        return "Unknown"
    try:
        moment = dt.datetime.fromisoformat(taken_at)
    except ValueError:
        return taken_at
    text = moment.strftime("%a %d %b %Y, %H:%M")
    if utc_offset is not None:
        sign = "+" if utc_offset >= 0 else "-"
        hours, minutes = divmod(abs(utc_offset), 60)
        text += f" (UTC{sign}{hours:02d}:{minutes:02d})"
    return text


def open_in_system_viewer(path: str) -> bool:
    return QDesktopServices.openUrl(QUrl.fromLocalFile(path))


def describe_kind(details: PhotoDetails) -> str:
    """The item's kind in words, with a clip's length: "Video · 0:12", "Live Photo", "RAW + JPEG"."""
    if details.kind == "video":
        length = format_duration(details.duration)
        return f"Video · {length}" if length else "Video"
    if details.kind == "live":
        return "Live Photo"
    if details.kind == "raw":
        return "RAW + JPEG" if len(details.files) > 1 else "RAW"
    return "Photo"


def inline_playback_available() -> bool:
    """Whether Qt Multimedia is installed, to play clips inside the window (PySide6-Essentials lacks it)."""
    import importlib.util

    try:
        return importlib.util.find_spec("PySide6.QtMultimediaWidgets") is not None
    except (ImportError, ValueError):
        return False


def show_in_folder(path: str) -> bool:
    """Open the folder holding the photo in the system's file manager."""
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(Path(path).parent)))


class PhotoViewer(QDialog):
    """A window showing one photo of a sequence (the grid's current photos).

    Args:
        service: where photo details come from.
        photo_ids: the sequence Left/Right step through.
        start: the photo shown first.
    """

    def __init__(
        self, service: LibraryService, photo_ids: Sequence[int], start: int, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("photoViewer")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.service = service
        self.photo_ids = list(photo_ids)
        self.position = self.photo_ids.index(start) if start in self.photo_ids else 0
        self.details: PhotoDetails | None = None
        self._image = QImage()
        # No parent: a decode still running when the viewer closes holds the signals alive until it ends.
        self._signals = _PreviewSignals()
        self._signals.loaded.connect(self._on_loaded)
        self._opener: Callable[[str], bool] = open_in_system_viewer
        self._folder_opener: Callable[[str], bool] = show_in_folder
        self._player_opener: Callable[[str], bool] = open_in_system_viewer
        self._inline = inline_playback_available()
        self._player: object | None = None  # a QMediaPlayer, made at the first inline playback

        self.image_label = QLabel()
        self.image_label.setObjectName("viewerImage")
        self.image_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image_label.setMinimumSize(320, 240)
        self.image_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.image_label.setStyleSheet("background: palette(dark);")

        self.file_label, self.date_label, self.camera_label = QLabel(), QLabel(), QLabel()
        self.size_label, self.album_label, self.folder_label = QLabel(), QLabel(), QLabel()
        self.kind_label, self.files_label = QLabel(), QLabel()
        self.place_label = QLabel()
        self.files_label.setObjectName("viewerFiles")
        for label in (self.file_label, self.folder_label, self.files_label):
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        info = QFormLayout()
        info.addRow("File", self.file_label)
        info.addRow("Kind", self.kind_label)
        info.addRow("Files", self.files_label)  # an item of several files: the JPEG with its RAW, a Live MOV
        self._info = info
        info.addRow("Folder", self.folder_label)
        info.addRow("Taken", self.date_label)
        info.addRow("Place", self.place_label)
        info.addRow("Camera", self.camera_label)
        info.addRow("Size", self.size_label)
        info.addRow("Album", self.album_label)
        self.position_label = QLabel()

        self.previous_button = QPushButton("◀ Previous")
        self.next_button = QPushButton("Next ▶")
        self.folder_button = QPushButton("Show in folder")
        self.open_button = QPushButton("Open with system viewer")
        self.play_button = QPushButton("Play video")
        self.play_button.setObjectName("viewerPlay")
        self.play_button.clicked.connect(self.play)
        self.previous_button.clicked.connect(lambda: self.step(-1))
        self.next_button.clicked.connect(lambda: self.step(1))
        self.folder_button.clicked.connect(lambda: self.details and self._folder_opener(self.details.path))
        self.open_button.clicked.connect(lambda: self.details and self._opener(self.details.path))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)

        side = QVBoxLayout()
        side.addLayout(info)
        side.addStretch(1)
        side.addWidget(self.position_label)
        nav = QHBoxLayout()
        nav.addWidget(self.previous_button)
        nav.addWidget(self.next_button)
        side.addLayout(nav)
        side.addWidget(self.play_button)
        side.addWidget(self.folder_button)
        side.addWidget(self.open_button)
        side.addWidget(buttons)
        side_panel = QWidget()
        side_panel.setLayout(side)
        side_panel.setFixedWidth(280)
        self.picture_stack = QStackedWidget()  # the picture, or the clip playing in its place
        self.picture_stack.addWidget(self.image_label)
        layout = QHBoxLayout(self)
        layout.addWidget(self.picture_stack, 1)
        layout.addWidget(side_panel)
        self.resize(1100, 720)
        self._wheel_delta = 0
        self._bind_keys()
        self.show_current()

    def _bind_keys(self) -> None:
        """The viewer's keys work whatever has focus: buttons take none (so arrows and Space cannot move
        focus or press them), and the keys are shortcuts of the whole dialog, which win over a focused child."""
        for button in self.findChildren(QAbstractButton):
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # the dialog itself holds the focus, so the keys stay here
        for child in self.findChildren(QWidget):  # the wheel steps photos over the buttons and labels too
            child.installEventFilter(self)
        keys: list[tuple[Qt.Key, Callable[[], None]]] = [
            (Qt.Key.Key_Left, lambda: self.step(-1)),
            (Qt.Key.Key_PageUp, lambda: self.step(-1)),
            (Qt.Key.Key_Backspace, lambda: self.step(-1)),
            (Qt.Key.Key_Right, lambda: self.step(1)),
            (Qt.Key.Key_PageDown, lambda: self.step(1)),
            (Qt.Key.Key_Space, lambda: self.step(1)),
            (Qt.Key.Key_Home, lambda: self.step(-len(self.photo_ids))),
            (Qt.Key.Key_End, lambda: self.step(len(self.photo_ids))),
            (Qt.Key.Key_F, self.toggle_full_screen),
            (Qt.Key.Key_F11, self.toggle_full_screen),
            (Qt.Key.Key_Escape, self._escape),
        ]
        self._keys = dict(keys)
        self._shortcuts = []
        for key, slot in keys:
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)
            self._shortcuts.append(shortcut)
        self.setToolTip("")
        self.position_label.setToolTip("←/→ or the wheel: previous/next · Home/End · F: full screen · Esc: close")

    def toggle_full_screen(self) -> None:
        if self.isFullScreen():
            self.showNormal()
        else:
            self.showFullScreen()

    def _escape(self) -> None:
        """Esc leaves full screen first, then closes the viewer."""
        if self.isFullScreen():
            self.showNormal()
        else:
            self.close()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # The shortcuts serve the viewer while it is the active window; this serves keys sent to it directly.
        slot = self._keys.get(Qt.Key(event.key())) if event.modifiers() == Qt.KeyboardModifier.NoModifier else None
        if slot is None:
            super().keyPressEvent(event)
        else:
            slot()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Wheel and isinstance(event, QWheelEvent):
            self.wheelEvent(event)
            return True
        return super().eventFilter(watched, event)

    def wheelEvent(self, event: QWheelEvent) -> None:
        self._wheel_delta += event.angleDelta().y() or event.angleDelta().x()
        while abs(self._wheel_delta) >= WHEEL_STEP:
            forward = self._wheel_delta < 0  # wheel down (towards the user): the next photo
            self.step(1 if forward else -1)
            self._wheel_delta += WHEEL_STEP if forward else -WHEEL_STEP
        event.accept()

    @property
    def photo_id(self) -> int:
        return self.photo_ids[self.position]

    def step(self, delta: int) -> None:
        """Show the previous (-1) or next (+1) photo of the sequence, stopping at its ends."""
        position = max(0, min(len(self.photo_ids) - 1, self.position + delta))
        if position != self.position:
            self.position = position
            self.show_current()

    def play(self) -> bool:
        """Play the video (or the Live Photo's motion): in the window with Qt Multimedia, else the system's player."""
        clip = self.details.motion_path if self.details is not None else None
        if clip is None:
            return False
        if self._inline and self._play_inline(clip):
            return True
        return self._player_opener(clip)

    def _play_inline(self, clip: str) -> bool:
        try:
            from PySide6.QtMultimedia import QAudioOutput, QMediaPlayer
            from PySide6.QtMultimediaWidgets import QVideoWidget
        except ImportError:
            self._inline = False
            return False
        if self._player is None:
            video = QVideoWidget()
            video.installEventFilter(self)
            self.picture_stack.addWidget(video)
            player = QMediaPlayer(self)
            audio = QAudioOutput(player)
            player.setAudioOutput(audio)
            player.setVideoOutput(video)
            self._player = player
        player = self._player
        player.setSource(QUrl.fromLocalFile(clip))  # type: ignore[attr-defined]
        self.picture_stack.setCurrentIndex(1)
        player.play()  # type: ignore[attr-defined]
        return True

    def _stop_playing(self) -> None:
        if self._player is not None:
            self._player.stop()  # type: ignore[attr-defined]
        self.picture_stack.setCurrentWidget(self.image_label)

    def _show_files(self, files: Sequence[str]) -> None:
        """The "Files" row lists an item's files when it has several (a JPEG with its RAW, a Live Photo's MOV);
        for a single file it is hidden rather than left empty."""
        self.files_label.setText("\n".join(Path(f).name for f in files) if len(files) > 1 else "")
        self._info.setRowVisible(self.files_label, len(files) > 1)

    def show_current(self) -> None:
        self._stop_playing()
        self.details = details = self.service.photo_details(self.photo_id)
        self.previous_button.setEnabled(self.position > 0)
        self.next_button.setEnabled(self.position < len(self.photo_ids) - 1)
        self.position_label.setText(f"{self.position + 1} of {len(self.photo_ids)}")
        focused = self.focusWidget()
        if focused is None or not focused.isEnabled():  # a button that just got disabled drops the focus
            self.setFocus(Qt.FocusReason.OtherFocusReason)
        if details is None:  # removed from the library meanwhile
            self.setWindowTitle("Photo no longer in the library")
            self.image_label.setText("This photo is no longer in the library.")
            for label in (
                self.file_label,
                self.folder_label,
                self.date_label,
                self.camera_label,
                self.kind_label,
                self.place_label,
            ):
                label.clear()
            self._show_files([])
            self.folder_button.setEnabled(False)
            self.open_button.setEnabled(False)
            self.play_button.setVisible(False)
            return
        self.setWindowTitle(f"{details.file_name} — PhotoAtlas")
        self.file_label.setText(details.file_name)
        self.kind_label.setText(describe_kind(details))
        self._show_files(details.files)
        self.folder_label.setText(details.folder)
        clip = details.motion_path
        self.play_button.setVisible(clip is not None)
        where = "" if self._inline else " in system player"
        self.play_button.setText(("Play motion" if details.kind == "live" else "Play video") + where)
        self.date_label.setText(describe_time(details.taken_at, details.utc_offset))
        self.place_label.setText(details.place or "Unknown")
        self.camera_label.setText(details.camera or "Unknown")
        self.size_label.setText(f"{details.width} × {details.height}" if details.width else "Unknown")
        self.album_label.setText(details.album_title)
        self.folder_button.setEnabled(True)
        self.open_button.setEnabled(True)
        self._image = QImage()
        thumbnail = self.service.thumbnail_file(self.photo_id)
        if thumbnail is not None:
            self._image = QImage(str(thumbnail))  # a sharp version replaces it as soon as it is decoded
        self._render()
        task = _PreviewTask(self.photo_id, details.path, thumbnail, self._signals)
        QThreadPool.globalInstance().start(task)

    def _on_loaded(self, photo_id: int, image: QImage) -> None:
        if photo_id == self.photo_id and not image.isNull():
            self._image = image
            self._render()

    def _render(self) -> None:
        if self._image.isNull():
            self.image_label.setPixmap(QPixmap())
            self.image_label.setText("No preview for this file.")
            return
        smooth = Qt.TransformationMode.SmoothTransformation
        scaled = self._image.scaled(self.image_label.size(), Qt.AspectRatioMode.KeepAspectRatio, smooth)
        self.image_label.setPixmap(QPixmap.fromImage(scaled))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._render()
