"""Listing a library root: which image files exist, with their size and modification time.

Listing only stats files; reading and decoding happen later in parallel workers. Folder problems
(unreadable, symlink loops) are reported, and the folders that could not be listed are named so that
the photos the catalog knows under them are not mistaken for deleted ones.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from engine.media.skip_reasons import Skip
from engine.progress import NullProgress, ProgressReporter, check_cancelled

IMAGE_EXTENSIONS = frozenset(
    {".jpg", ".jpeg", ".jpe", ".png", ".webp", ".tif", ".tiff", ".bmp", ".gif", ".heic", ".heif", ".hif"}
)

# Folders that hold no user photos: caches and metadata of NAS boxes, OSes and other photo tools.
SYSTEM_FOLDERS = frozenset(
    {
        "@eaDir",
        "#recycle",
        "$RECYCLE.BIN",
        "System Volume Information",
        "__MACOSX",
        "lost+found",
        "Thumbs.db",
        "node_modules",
    }
)


@dataclass(frozen=True)
class ListedFile:
    """An image file found by the listing."""

    path: Path
    size: int
    mtime_ns: int


@dataclass
class RootListing:
    """What listing one root found."""

    root: Path
    available: bool = True
    files: list[ListedFile] = field(default_factory=list)
    problems: list[tuple[Path, Skip]] = field(default_factory=list)
    # Folders whose content is unknown this time: their catalog entries must be kept as they are.
    unlisted_dirs: list[Path] = field(default_factory=list)

    def is_under_unlisted(self, path: Path) -> bool:
        return any(path.is_relative_to(d) for d in self.unlisted_dirs)


def is_image_name(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS


def _is_hidden(entry: os.DirEntry[str]) -> bool:
    if entry.name.startswith(".") or entry.name in SYSTEM_FOLDERS:
        return True
    attrs = getattr(entry.stat(follow_symlinks=False), "st_file_attributes", 0)  # Windows only
    return bool(attrs & getattr(stat, "FILE_ATTRIBUTE_HIDDEN", 0) or attrs & getattr(stat, "FILE_ATTRIBUTE_SYSTEM", 0))


def list_root(root: Path, exclude: Iterable[Path] = (), progress: ProgressReporter | None = None) -> RootListing:
    """List every image file under `root`, following folder links without looping.

    Args:
        root: the library root to walk.
        exclude: folders never to enter (the library's own data, when it lies inside a root).
        progress: advanced once per folder; checked for cancellation.
    """
    progress = progress or NullProgress()
    listing = RootListing(root=root)
    excluded = {os.path.normcase(os.path.abspath(p)) for p in exclude}
    try:
        root_stat = os.stat(root)
    except OSError:
        listing.available = False
        return listing
    if not stat.S_ISDIR(root_stat.st_mode):
        listing.available = False
        return listing
    seen_dirs = {(root_stat.st_dev, root_stat.st_ino)}
    pending = [root]
    while pending:
        check_cancelled(progress)
        folder = pending.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError as exc:
            listing.problems.append((folder, Skip("unreadable-folder", exc.strerror or str(exc))))
            listing.unlisted_dirs.append(folder)
            continue
        for entry in sorted(entries, key=lambda e: e.name):
            path = Path(entry.path)
            try:
                if _is_hidden(entry):
                    continue
                if entry.is_dir(follow_symlinks=True):
                    if os.path.normcase(os.path.abspath(path)) in excluded:
                        continue
                    st = entry.stat(follow_symlinks=True)
                    key = (st.st_dev, st.st_ino)
                    if key in seen_dirs:
                        # Only a link can reach a folder twice; its target is scanned once already.
                        target = os.fsdecode(os.readlink(path)) if entry.is_symlink() else ""
                        listing.problems.append((path, Skip("symlink-loop", target)))
                        continue
                    seen_dirs.add(key)
                    pending.append(path)
                elif is_image_name(entry.name):
                    if entry.is_symlink() and not os.path.exists(path):
                        listing.problems.append((path, Skip("broken-link")))
                        continue
                    st = entry.stat(follow_symlinks=True)
                    if stat.S_ISREG(st.st_mode):
                        listing.files.append(ListedFile(path, st.st_size, st.st_mtime_ns))
            except FileNotFoundError:
                continue  # removed while we looked: as if it had never been there
            except OSError as exc:
                listing.problems.append((path, Skip(_os_reason(exc), exc.strerror or str(exc))))
                if entry.is_dir(follow_symlinks=False):
                    listing.unlisted_dirs.append(path)
        progress.advance(1)
    return listing


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "permission-denied"
    if isinstance(exc, FileNotFoundError):
        return "vanished"
    if exc.errno == 40:  # ELOOP: too many levels of symbolic links
        return "symlink-loop"
    return "read-error"
