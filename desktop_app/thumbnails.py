"""Thumbnails for the views: read from the engine's disk cache on pool threads, kept in a bounded LRU.

Workers only read files into `QImage`s (safe off the GUI thread); the GUI thread turns them into
`QPixmap`s. Requests are de-duplicated, the newest is served first (it is what is on screen), and queued
requests for photos that scrolled away can be dropped with `retain`.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable
from pathlib import Path

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal
from PySide6.QtGui import QColor, QImage, QImageReader, QPainter, QPixmap

from desktop_app.qt_compat import emit

DEFAULT_CACHE_BYTES = 256 * 1024 * 1024
DEFAULT_THREADS = 4


class PixmapLru:
    """Pixmaps by photo id, least recently used dropped first once `max_bytes` is exceeded."""

    def __init__(self, max_bytes: int = DEFAULT_CACHE_BYTES) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[int, QPixmap] = OrderedDict()
        self._bytes = 0

    @staticmethod
    def cost(pixmap: QPixmap) -> int:
        return max(1, pixmap.width() * pixmap.height() * 4)

    def get(self, key: int) -> QPixmap | None:
        pixmap = self._items.get(key)
        if pixmap is not None:
            self._items.move_to_end(key)
        return pixmap

    def put(self, key: int, pixmap: QPixmap) -> None:
        old = self._items.pop(key, None)
        if old is not None:
            self._bytes -= self.cost(old)
        self._items[key] = pixmap
        self._bytes += self.cost(pixmap)
        while self._bytes > self.max_bytes and len(self._items) > 1:
            self.drop_oldest()

    def drop_oldest(self) -> None:
        _, dropped = self._items.popitem(last=False)
        self._bytes -= self.cost(dropped)

    def clear(self) -> None:
        self._items.clear()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: int) -> bool:
        return key in self._items

    @property
    def bytes(self) -> int:
        return self._bytes


def placeholder_pixmap(size: int = 64, color: str = "#d9d9d9") -> QPixmap:
    """The flat square shown while a thumbnail loads."""
    pixmap = QPixmap(size, size)
    pixmap.fill(QColor(color))
    return pixmap


def missing_pixmap(size: int = 64) -> QPixmap:
    """Shown for a photo without a readable thumbnail: a grey square with a cross."""
    pixmap = placeholder_pixmap(size, "#c8c8c8")
    painter = QPainter(pixmap)
    painter.setPen(QColor("#9a9a9a"))
    painter.drawLine(size // 3, size // 3, 2 * size // 3, 2 * size // 3)
    painter.drawLine(2 * size // 3, size // 3, size // 3, 2 * size // 3)
    painter.end()
    return pixmap


class _LoadSignals(QObject):
    done = Signal(int, QImage)


class _LoadTask(QRunnable):
    def __init__(self, photo_id: int, path: Path, signals: _LoadSignals) -> None:
        super().__init__()
        self.photo_id, self.path, self.signals = photo_id, path, signals

    def run(self) -> None:
        reader = QImageReader(str(self.path))
        reader.setAutoTransform(True)
        emit(self.signals.done, self.photo_id, reader.read())  # a null image when unreadable


class ThumbnailLoader(QObject):
    """Loads thumbnails by photo id; `loaded(photo_id)` says a pixmap is now available.

    Args:
        resolve: the thumbnail file of a photo id (None when it has none); called on the GUI thread.
        max_bytes: memory bound of the pixmap cache.
        threads: parallel file reads.
    """

    loaded = Signal(int)

    def __init__(
        self,
        resolve: Callable[[int], Path | None],
        max_bytes: int = DEFAULT_CACHE_BYTES,
        threads: int = DEFAULT_THREADS,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._resolve = resolve
        self._cache = PixmapLru(max_bytes)
        self._missing: set[int] = set()
        self._queue: OrderedDict[int, Path] = OrderedDict()
        self._in_flight: set[int] = set()
        self._threads = threads
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(threads)
        self._signals = _LoadSignals(self)
        self._signals.done.connect(self._on_done)
        self.missing = missing_pixmap()

    def pixmap(self, photo_id: int) -> QPixmap | None:
        """The thumbnail if loaded (or the "missing" image); otherwise None, and a load is queued."""
        pixmap = self._cache.get(photo_id)
        if pixmap is not None:
            return pixmap
        if photo_id in self._missing:
            return self.missing
        self.request(photo_id)
        return None

    def request(self, photo_id: int) -> None:
        if photo_id in self._in_flight or photo_id in self._cache or photo_id in self._missing:
            return
        if photo_id in self._queue:
            self._queue.move_to_end(photo_id)
            return
        path = self._resolve(photo_id)
        if path is None:
            self._missing.add(photo_id)
            return
        self._queue[photo_id] = path
        self._pump()

    def retain(self, photo_ids: Iterable[int]) -> None:
        """Drop queued requests (not yet started) for photos other than these."""
        keep = set(photo_ids)
        for photo_id in [p for p in self._queue if p not in keep]:
            del self._queue[photo_id]

    def set_memory_budget(self, max_bytes: int) -> None:
        """Change the memory bound of the pixmap cache; shrinking drops the least recently used at once."""
        self._cache.max_bytes = max_bytes
        while self._cache.bytes > max_bytes and len(self._cache) > 1:
            self._cache.drop_oldest()

    @property
    def memory_budget(self) -> int:
        return self._cache.max_bytes

    def clear(self) -> None:
        """Forget every loaded pixmap and queued request (e.g. after the library changed)."""
        self._queue.clear()
        self._cache.clear()
        self._missing.clear()

    @property
    def pending(self) -> int:
        return len(self._queue) + len(self._in_flight)

    def wait_for_done(self, timeout_ms: int = 5_000) -> bool:
        """Stop queued loads and wait for those running (call before the application quits)."""
        self._queue.clear()
        return self._pool.waitForDone(timeout_ms)

    def _pump(self) -> None:
        while self._queue and len(self._in_flight) < self._threads:
            photo_id, path = self._queue.popitem(last=True)  # newest first: it is on screen now
            self._in_flight.add(photo_id)
            self._pool.start(_LoadTask(photo_id, path, self._signals))

    def _on_done(self, photo_id: int, image: QImage) -> None:
        self._in_flight.discard(photo_id)
        if image.isNull():
            self._missing.add(photo_id)
        else:
            self._cache.put(photo_id, QPixmap.fromImage(image, Qt.ImageConversionFlag.NoFormatConversion))
        emit(self.loaded, photo_id)
        self._pump()
