"""Which paths a batch of changes covers: the changed files and folders grouped by root, and listed.

The watcher's batches name a few changed paths; `list_changed` lists just those (folders whole, a media file
with the files of its name beside it) and says which catalog paths the listing speaks for.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from engine.media.scan import (
    SYSTEM_FOLDERS,
    ListedFile,
    RootListing,
    is_media_name,
    list_root,
    pair_companions,
    same_name_siblings,
)
from engine.media.skip_reasons import Skip
from engine.paths import to_db
from engine.progress import ProgressReporter


def group_by_root(paths: Iterable[Path], roots: Sequence[Path], exclude: Sequence[Path] = ()) -> dict[Path, list[Path]]:
    """The changed paths worth listing, by the innermost root holding them; the rest (outside every root,
    hidden, system folders, the library's own folder) are dropped, as a full listing would skip them."""
    out: dict[Path, list[Path]] = {}
    for path in paths:
        if any(path.is_relative_to(e) for e in exclude):
            continue
        holders = [r for r in roots if path.is_relative_to(r)]
        if not holders:
            continue
        root = max(holders, key=lambda r: len(r.parts))
        parts = path.relative_to(root).parts
        if any(p.startswith(".") or p in SYSTEM_FOLDERS for p in parts):
            continue
        out.setdefault(root, []).append(path)
    return out


def list_changed(
    root: Path, paths: Sequence[Path], exclude: Sequence[Path] = (), progress: ProgressReporter | None = None
) -> tuple[RootListing, Callable[[bytes], bool]]:
    """List only some paths under `root`: existing folders whole, existing media files with the files of their
    name beside them (a RAW and its JPEG, a Live Photo's still and MOV are one item, so a change to one is
    a change to the item).

    Returns the listing and the test of which catalog paths it covers: a covered path that is not listed
    is gone. A path that cannot be read is listed as unlisted, so what the catalog knows there is kept.
    """
    listing = RootListing(root=root)
    paths = list(paths)
    paths += [s for p in paths if is_media_name(p.name) for s in same_name_siblings(p)]
    scopes = _outermost(paths)
    for scope in scopes:
        try:
            st = os.stat(scope)
        except (FileNotFoundError, NotADirectoryError):
            continue  # deleted, or moved away: nothing listed, so its photos are gone
        except OSError as exc:
            listing.problems.append((scope, Skip(_reason(exc), exc.strerror or str(exc))))
            listing.unlisted_dirs.append(scope)
            continue
        if stat.S_ISDIR(st.st_mode):
            sub = list_root(scope, exclude=exclude, progress=progress)
            if not sub.available:  # went away between the stat and the listing
                listing.unlisted_dirs.append(scope)
            listing.files.extend(sub.files)
            listing.problems.extend(sub.problems)
            listing.unlisted_dirs.extend(sub.unlisted_dirs)
        elif stat.S_ISREG(st.st_mode) and is_media_name(scope.name):
            listing.files.append(ListedFile(scope, st.st_size, st.st_mtime_ns))
    listing.files = pair_companions(listing.files)
    covered = frozenset(to_db(s) for s in scopes)
    sep = os.fsencode(os.sep)

    def in_scope(key: bytes) -> bool:
        # Walk up the key's folders: a set lookup per level, however many paths the batch holds.
        while key:
            if key in covered:
                return True
            key = key[: max(key.rfind(sep), 0)]
        return False

    return listing, in_scope


def _outermost(paths: Iterable[Path]) -> list[Path]:
    """The paths without those lying under another of them (a folder's listing covers its content)."""
    chosen: set[Path] = set()
    for path in sorted(set(paths), key=lambda p: len(p.parts)):
        if not any(parent in chosen for parent in path.parents):
            chosen.add(path)
    return sorted(chosen)


def _reason(exc: OSError) -> str:
    return "permission-denied" if isinstance(exc, PermissionError) else "read-error"
