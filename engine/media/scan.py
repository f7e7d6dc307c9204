"""Listing a library root: which photos, videos and RAW files exist, with their size and modification time.

Listing only stats files; reading and decoding happen later in parallel workers. Folder problems
(unreadable, symlink loops) are reported, and the folders that could not be listed are named so that
the photos the catalog knows under them are not mistaken for deleted ones.

Files that make one item are paired here, by name within a folder: a RAW and a JPEG (or HEIC) of the same
name are one photo shown through the JPEG, and a still with a MOV of the same name is a Live Photo. The
item's other files are its `companions`; they are never items of their own.
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
VIDEO_EXTENSIONS = frozenset({".mp4", ".mov", ".m4v", ".3gp", ".avi", ".mkv", ".webm"})
RAW_EXTENSIONS = frozenset({".dng", ".cr2", ".cr3", ".nef", ".arw", ".orf", ".rw2", ".raf", ".pef", ".srw"})
MEDIA_EXTENSIONS = IMAGE_EXTENSIONS | VIDEO_EXTENSIONS | RAW_EXTENSIONS
# A Live Photo's motion part: what iPhones write next to the HEIC or JPEG, under the same name.
MOTION_EXTENSIONS = frozenset({".mov"})

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
    """A media file found by the listing; with `companions`, the item's other files (RAW, motion MOV)."""

    path: Path
    size: int
    mtime_ns: int
    companions: tuple[ListedCompanion, ...] = ()


@dataclass(frozen=True)
class ListedCompanion:
    """One other file of an item: `role` 'raw' (the RAW of a RAW+JPEG pair) or 'motion' (a Live Photo's MOV)."""

    path: Path
    size: int
    mtime_ns: int
    role: str


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


def is_media_name(name: str) -> bool:
    """Whether a file name is one PhotoAtlas catalogs: a photo, a video or a RAW."""
    return os.path.splitext(name)[1].lower() in MEDIA_EXTENSIONS


def kind_of(path: Path | str, roles: Iterable[str] = ()) -> str:
    """An item's kind from its shown file's name and its companions' roles: "photo", "video", "live" or "raw"."""
    roles = set(roles)
    if "motion" in roles:
        return "live"
    suffix = os.path.splitext(path)[1].lower()
    if "raw" in roles or suffix in RAW_EXTENSIONS:
        return "raw"
    return "video" if suffix in VIDEO_EXTENSIONS else "photo"


def pair_companions(files: Iterable[ListedFile]) -> list[ListedFile]:
    """The listed files as items: in each folder, a still takes the RAW and the MOV of its own name along.

    A RAW without a still of its name, and any other video, stay items of their own. When several stills
    share a name (IMG_1.jpg and IMG_1.heic), the HEIC then the JPEG is the one shown, the other stays alone.
    """
    groups: dict[tuple[Path, str], list[ListedFile]] = {}
    for item in files:
        groups.setdefault((item.path.parent, _stem_key(item.path.name)), []).append(item)
    out: list[ListedFile] = []
    for group in groups.values():
        stills = sorted(
            (f for f in group if f.path.suffix.lower() in IMAGE_EXTENSIONS),
            key=lambda f: (_STILL_PREFERENCE.get(f.path.suffix.lower(), 9), f.path.name),
        )
        if not stills or len(group) == 1:
            out.extend(group)
            continue
        shown = stills[0]
        companions = []
        for other in group:
            suffix = other.path.suffix.lower()
            role = "raw" if suffix in RAW_EXTENSIONS else "motion" if suffix in MOTION_EXTENSIONS else None
            if other is shown:
                continue
            if role is None or any(c.role == role for c in companions):
                out.append(other)
            else:
                companions.append(ListedCompanion(other.path, other.size, other.mtime_ns, role))
        out.append(ListedFile(shown.path, shown.size, shown.mtime_ns, tuple(sorted(companions, key=lambda c: c.path))))
    out.sort(key=lambda f: f.path)
    return out


_STILL_PREFERENCE = {".heic": 0, ".heif": 0, ".hif": 0, ".jpg": 1, ".jpeg": 1, ".jpe": 1}


def _stem_key(name: str) -> str:
    # Cameras and phones write IMG_1234.JPG next to IMG_1234.CR2 or IMG_1234.MOV: names compare without case.
    return os.path.splitext(name)[0].casefold()


def same_name_siblings(path: Path) -> list[Path]:
    """The media files in `path`'s folder with the same name but another extension (which may pair with it)."""
    key = _stem_key(path.name)
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return []
    return [
        Path(e.path)
        for e in entries
        if e.name != path.name and _stem_key(e.name) == key and is_media_name(e.name) and not e.name.startswith(".")
    ]


def _is_hidden(entry: os.DirEntry[str]) -> bool:
    if entry.name.startswith(".") or entry.name in SYSTEM_FOLDERS:
        return True
    attrs = getattr(entry.stat(follow_symlinks=False), "st_file_attributes", 0)  # Windows only
    return bool(attrs & getattr(stat, "FILE_ATTRIBUTE_HIDDEN", 0) or attrs & getattr(stat, "FILE_ATTRIBUTE_SYSTEM", 0))


def list_root(root: Path, exclude: Iterable[Path] = (), progress: ProgressReporter | None = None) -> RootListing:
    """List every media file under `root`, following folder links without looping, paired into items.

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
                elif is_media_name(entry.name):
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
    listing.files = pair_companions(listing.files)
    return listing


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "permission-denied"
    if isinstance(exc, FileNotFoundError):
        return "vanished"
    if exc.errno == 40:  # ELOOP: too many levels of symbolic links
        return "symlink-loop"
    return "read-error"
