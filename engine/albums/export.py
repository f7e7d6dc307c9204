"""Exporting an album: its originals copied (or linked) into a folder, never overwriting, never into the library.

An item of several files (a RAW with its JPEG, a Live Photo's still and MOV) is exported whole, its files
keeping one name stem so that other programs pair them again.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from engine.albums.store import AlbumStore
from engine.errors import InvalidInputError
from engine.paths import display, from_db

LINK_KINDS = ("hard", "sym")


@dataclass
class ExportSummary:
    """What an export did."""

    destination: Path
    copied: int = 0
    linked: int = 0
    renamed: int = 0  # written under a new name because the destination already had one
    missing: list[str] = field(default_factory=list)  # originals that are gone or unreadable

    def lines(self) -> list[str]:
        done = f"{self.linked} linked" if self.linked else f"{self.copied} copied"
        extra = f", {self.renamed} renamed to avoid overwriting" if self.renamed else ""
        lines = [f"exported to {display(self.destination)}: {done}{extra}"]
        lines += [f"  not exported (original unavailable): {path}" for path in self.missing]
        return lines


def export_album(
    store: AlbumStore, album: str | int, destination: Path, protected: list[Path], link: str | None = None
) -> ExportSummary:
    """Export the originals of an album into `destination` (created if needed).

    Args:
        protected: folders that must never be written to (the library's photo folders and its data).
        link: None to copy, "hard" for hard links, "sym" for symbolic links.
    """
    if link is not None and link not in LINK_KINDS:
        raise InvalidInputError(f"--link must be one of {', '.join(LINK_KINDS)}")
    album_id = store.resolve(album)
    destination = destination.expanduser().resolve()
    for folder in protected:
        folder = folder.expanduser().resolve()
        if destination == folder or destination.is_relative_to(folder):
            raise InvalidInputError(
                f"{display(destination)} is inside {display(folder)}, which PhotoAtlas never writes to; "
                "choose a folder outside your photo folders"
            )
    if destination.exists() and not destination.is_dir():
        raise InvalidInputError(f"{display(destination)} exists and is not a folder")
    members = next((a.members for a in store.albums() if a.id == album_id), [])
    paths = {photo_id: from_db(raw) for photo_id, raw in store.catalog.photo_paths(members).items()}
    companions = store.catalog.companions(members)
    try:
        destination.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidInputError(f"cannot create the folder {display(destination)}: {exc.strerror or exc}") from exc
    summary = ExportSummary(destination)
    for photo_id in members:
        source = paths[photo_id]
        if not source.is_file():
            summary.missing.append(display(source))
            continue
        others = [from_db(c.path) for c in companions.get(photo_id, [])]
        targets, renamed = _free_names(destination, [source, *others])
        for index, (file, target) in enumerate(zip([source, *others], targets, strict=True)):
            try:
                _write(file, target, link)
            except OSError as exc:
                summary.missing.append(f"{display(file)} ({exc.strerror or exc})")
                continue
            if index == 0:
                summary.renamed += renamed
            if link:
                summary.linked += 1
            else:
                summary.copied += 1
    return summary


def _free_names(folder: Path, files: list[Path]) -> tuple[list[Path], bool]:
    """Targets for one item's files, all free: `stem.ext`, or all `stem (2).ext`, … when any is taken."""
    if len(files) == 1:
        target, renamed = _free_name(folder, files[0].name)
        return [target], renamed
    stem = files[0].stem
    number = 1
    while True:
        suffix = "" if number == 1 else f" ({number})"
        targets = [folder / f"{stem}{suffix}{f.suffix}" for f in files]
        if len({t.name.casefold() for t in targets}) == len(targets) and not any(os.path.lexists(t) for t in targets):
            return targets, number > 1
        number += 1


def _free_name(folder: Path, name: str) -> tuple[Path, bool]:
    """`folder/name`, or `folder/stem (2).ext`, … when taken: an export never overwrites a file."""
    candidate = folder / name
    if not os.path.lexists(candidate):
        return candidate, False
    stem, suffix = Path(name).stem, Path(name).suffix
    number = 2
    while os.path.lexists(folder / f"{stem} ({number}){suffix}"):
        number += 1
    return folder / f"{stem} ({number}){suffix}", True


def _write(source: Path, target: Path, link: str | None) -> None:
    if link == "hard":
        os.link(source, target)
    elif link == "sym":
        os.symlink(source, target)
    else:
        # Copy to a temporary name first: an interrupted export never leaves a truncated photo behind. The
        # name is new (mkstemp), so no file of the user's (say "IMG_1.jpg.partial") is ever overwritten.
        fd, partial = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
        os.close(fd)
        try:
            shutil.copy2(source, partial)
            os.replace(partial, target)
        except BaseException:
            Path(partial).unlink(missing_ok=True)
            raise
