"""What a drag carries: photo ids or album ids in PhotoAtlas's own MIME types (plus file URLs for others).

Dragging photos out of the grid also offers their files as URLs, so they can be dropped into a file
manager or another application (which copies them; the originals are never moved).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from PySide6.QtCore import QMimeData, QUrl

PHOTOS_MIME = "application/x-photoatlas-photo-ids"
ALBUMS_MIME = "application/x-photoatlas-album-ids"


def photos_mime(photo_ids: Sequence[int], paths: Iterable[str] = ()) -> QMimeData:
    """Mime data for dragged photos; `paths` (their files) become URLs for other applications."""
    data = QMimeData()
    data.setData(PHOTOS_MIME, json.dumps([int(i) for i in photo_ids]).encode())
    urls = [QUrl.fromLocalFile(p) for p in paths if p]
    if urls:
        data.setUrls(urls)
    return data


def albums_mime(album_ids: Sequence[int]) -> QMimeData:
    data = QMimeData()
    data.setData(ALBUMS_MIME, json.dumps([int(i) for i in album_ids]).encode())
    return data


def _ids(data: QMimeData | None, mime: str) -> list[int]:
    if data is None or not data.hasFormat(mime):
        return []
    try:
        values = json.loads(bytes(data.data(mime).data()).decode())
    except (UnicodeDecodeError, json.JSONDecodeError):
        return []
    return [int(v) for v in values if isinstance(v, int)] if isinstance(values, list) else []


def dragged_photos(data: QMimeData | None) -> list[int]:
    """Photo ids in a drag from PhotoAtlas's grid; [] for anything else."""
    return _ids(data, PHOTOS_MIME)


def dragged_albums(data: QMimeData | None) -> list[int]:
    """Album ids in a drag from PhotoAtlas's sidebar; [] for anything else."""
    return _ids(data, ALBUMS_MIME)
