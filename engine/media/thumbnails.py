"""The thumbnail disk cache: one small JPEG per photo content hash, written atomically."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


class ThumbnailCache:
    """Thumbnails under `directory`, named by content hash so copies and moved files share one."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def relpath(self, hash_: str) -> str:
        # Two-character fan-out keeps folders small in libraries of 100k photos.
        return f"{hash_[:2]}/{hash_}.jpg"

    def path(self, hash_: str) -> Path:
        return self.directory / self.relpath(hash_)

    def exists(self, hash_: str) -> bool:
        return self.path(hash_).is_file()

    def write(self, hash_: str, jpeg: bytes) -> str:
        """Store a thumbnail (temp file + rename, so a reader never sees half a file); returns its relpath."""
        target = self.path(hash_)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".jpg")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(jpeg)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return self.relpath(hash_)

    def read(self, hash_: str) -> bytes | None:
        try:
            return self.path(hash_).read_bytes()
        except FileNotFoundError:
            return None

    def size_on_disk(self) -> int:
        return sum(p.stat().st_size for p in self.directory.rglob("*.jpg")) if self.directory.exists() else 0
