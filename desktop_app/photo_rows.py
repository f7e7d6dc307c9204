"""The library's photos as the window looks them up: by id, by folder, by year (a Qt-free snapshot of rows)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from engine import Album, PhotoRow, display_path

UNDATED = "Undated"


@dataclass(frozen=True)
class PhotoDetails:
    """What the viewer shows about one photo."""

    id: int
    path: str
    taken_at: str | None
    camera: str | None
    width: int
    height: int
    album_id: int | None
    album_title: str  # "Other" when in no album
    kind: str = "photo"  # "photo", "video", "live" or "raw"
    duration: float | None = None  # seconds, for a video or a Live Photo's motion
    files: tuple[str, ...] = ()  # every file of the item: the one shown first, then its RAW or motion MOV
    place: str = ""  # where it was taken ("Nice, France"), "" when unknown
    utc_offset: int | None = None  # minutes east of UTC at capture, None when unknown

    @property
    def motion_path(self) -> str | None:
        """The clip to play: the video itself, or a Live Photo's MOV; None for a still."""
        if self.kind == "video":
            return self.path
        if self.kind == "live":
            return next((f for f in self.files[1:] if Path(f).suffix.lower() == ".mov"), None)
        return None

    @property
    def file_name(self) -> str:
        return Path(self.path).name

    @property
    def folder(self) -> str:
        return str(Path(self.path).parent)


def format_duration(seconds: float | None) -> str:
    """A clip's length as a badge shows it: "0:07", "12:30", "1:02:03"."""
    if seconds is None:
        return ""
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class PhotoRows:
    """Every photo's row as the engine listed it, by capture time; folder and year lookups are cached.

    A snapshot: the service makes a new one when photos change.
    """

    def __init__(self, rows: Sequence[PhotoRow]) -> None:
        self.ids = [r.id for r in rows]
        self._rows = {r.id: r for r in rows}
        self._years: dict[str, list[int]] | None = None
        self._folders: dict[str, list[int]] = {}

    def row(self, photo_id: int) -> PhotoRow | None:
        return self._rows.get(photo_id)

    def path(self, photo_id: int) -> str:
        """The photo's path as text ("" for an unknown id)."""
        row = self._rows.get(photo_id)
        return display_path(row.path) if row is not None else ""

    def badge(self, photo_id: int) -> str:
        """The label a thumbnail carries: a video's length, "LIVE", "RAW", or "" for a plain photo."""
        row = self._rows.get(photo_id)
        if row is None:
            return ""
        if row.kind == "video":
            return format_duration(row.duration) or "VIDEO"
        return {"live": "LIVE", "raw": "RAW"}.get(row.kind, "")

    def hash_of(self, photo_id: int) -> str | None:
        row = self._rows.get(photo_id)
        return row.hash if row is not None else None

    def in_folder(self, folder: str) -> list[int]:
        """Photos under a folder (as `display_path` writes it), by capture time."""
        if folder not in self._folders:
            prefix = folder.rstrip(os.sep) + os.sep
            self._folders[folder] = [i for i in self.ids if display_path(self._rows[i].path).startswith(prefix)]
        return self._folders[folder]

    def subfolders(self, folder: str) -> list[str]:
        """The folders under `folder` that hold photos (directly or deeper), sorted by path."""
        base = folder.rstrip(os.sep)
        found: set[str] = set()
        for photo_id in self.in_folder(folder):
            parent = os.path.dirname(display_path(self._rows[photo_id].path))
            while len(parent) > len(base) and parent not in found:
                found.add(parent)
                parent = os.path.dirname(parent)
        return sorted(found, key=lambda f: f.casefold())

    def by_year(self) -> dict[str, list[int]]:
        """Photo ids by the year they were taken, newest year first, "Undated" last."""
        if self._years is None:
            years: dict[str, list[int]] = {}
            for photo_id in self.ids:
                taken = self._rows[photo_id].taken_at
                years.setdefault(taken[:4] if taken else UNDATED, []).append(photo_id)
            order = sorted((y for y in years if y != UNDATED), reverse=True) + ([UNDATED] if UNDATED in years else [])
            self._years = {y: years[y] for y in order}
        return self._years

    def details(self, photo_id: int, album: Album | None) -> PhotoDetails | None:
        """File, date, camera, size and album (None or id None: "Other") of a photo; None for an unknown id."""
        row = self._rows.get(photo_id)
        if row is None:
            return None
        in_album = album is not None and album.id is not None
        return PhotoDetails(
            photo_id,
            display_path(row.path),
            row.taken_at,
            row.camera,
            row.width,
            row.height,
            album.id if album is not None else None,
            album.title if in_album and album is not None else "Other",
            row.kind,
            row.duration,
            tuple(display_path(p) for p in (row.path, *row.companions)),
            row.place.label() if row.place is not None else "",
            row.utc_offset,
        )
