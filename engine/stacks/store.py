"""Stacks as the window and the command line see them, the Duplicates list, and the user's stack actions.

Unstacking and choosing a cover are the user's decisions: recorded in `stack_choices` (the rules read them on
every recompute, so the machine never undoes them) and applied at once to the stored stacks, in one journaled
action that `photoatlas undo` reverts like an album action (see `engine.albums.store.AlbumStore.undo`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from engine.catalog import Catalog, PhotoRow
from engine.catalog.albums import SUPERSEDED
from engine.errors import InvalidInputError
from engine.stacks.rules import BURST


@dataclass(frozen=True)
class Stack:
    """One stack: its photos (ids, the cover first, then in time order) and kind ('burst' or 'duplicate')."""

    id: int
    kind: str
    cover: int  # photo id
    photos: tuple[int, ...]

    @property
    def size(self) -> int:
        return len(self.photos)


@dataclass(frozen=True)
class DuplicateFile:
    """One file of a set of duplicates."""

    photo_id: int
    path: bytes
    size: int  # bytes on disk
    width: int
    height: int
    taken_at: str | None


@dataclass(frozen=True)
class DuplicateSet:
    """Files that hold one picture: 'exact' (the same bytes) or 'near' (resized or re-encoded copies).

    Files are listed largest first: the first is the one a user most likely keeps."""

    kind: str
    stack: int | None
    files: tuple[DuplicateFile, ...]

    @property
    def wasted_bytes(self) -> int:
        """What deleting every file but the first would free."""
        return sum(f.size for f in self.files[1:])


class StackStore:
    """Stack queries and the user's stack actions on one catalog."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    # -- queries ---------------------------------------------------------------------------------

    def stacks(self, rows: list[PhotoRow] | None = None) -> list[Stack]:
        """Every stack with its photos; a stack whose files are all gone is left out."""
        rows = rows if rows is not None else self.catalog.photos()
        by_hash: dict[str, list[PhotoRow]] = {}
        for row in rows:  # rows come in time order
            by_hash.setdefault(row.hash, []).append(row)
        order = {r.id: n for n, r in enumerate(rows)}
        out = []
        for stored in self.catalog.stacks.all():
            photos = [r.id for h, _ in stored.members for r in by_hash.get(h, [])]
            if len(photos) < 2:
                continue
            photos.sort(key=lambda p: order[p])
            covers = [r.id for r in by_hash.get(stored.cover_hash, [])]
            cover = covers[0] if covers else photos[0]
            photos.remove(cover)
            out.append(Stack(stored.id, stored.kind, cover, (cover, *photos)))
        return out

    def stack_of_photo(self) -> dict[int, int]:
        """photo id → stack id, for every stacked photo."""
        return {p: s.id for s in self.stacks() for p in s.photos}

    def get(self, stack_id: int) -> Stack:
        for stack in self.stacks():
            if stack.id == stack_id:
                return stack
        raise InvalidInputError(f"no stack {stack_id}: see photoatlas photos --json (field 'stack')")

    def duplicates(self) -> list[DuplicateSet]:
        """Every set of files holding one picture, exact copies and near copies, most space wasted first."""
        rows = self.catalog.photos()
        by_hash: dict[str, list[PhotoRow]] = {}
        for row in rows:
            by_hash.setdefault(row.hash, []).append(row)
        out: list[DuplicateSet] = []
        listed: set[str] = set()
        for stored in self.catalog.stacks.all():
            groups: dict[int, list[str]] = {}
            for hash_, group in stored.members:
                groups.setdefault(group, []).append(hash_)
            for hashes in groups.values():
                files = [r for h in hashes for r in by_hash.get(h, [])]
                if len(files) < 2:
                    continue
                listed.update(hashes)
                kind = "exact" if len(hashes) == 1 else "near"
                out.append(DuplicateSet(kind, stored.id, _files(files)))
        # Exact copies are a fact about the files, listed even when the user unstacked them.
        for hash_, files in by_hash.items():
            if len(files) > 1 and hash_ not in listed:
                out.append(DuplicateSet("exact", None, _files(files)))
        out.sort(key=lambda d: (-d.wasted_bytes, d.files[0].path))
        return out

    # -- user actions ----------------------------------------------------------------------------

    def unstack(self, stack_id: int) -> Stack:
        """Take a stack apart: its photos show one by one, and the machine never stacks them again."""
        stack = self.get(stack_id)
        hashes = self._hashes(stack.photos)
        what = "burst" if stack.kind == BURST else "copies"
        with self.catalog.stacks.action("unstack", f"Unstack {stack.size} photos ({what})"):
            for hash_ in hashes:
                current = self.catalog.stacks.choice(hash_)
                self.catalog.stacks.set_choice(hash_, (True, current[1] if current else None))
            self.catalog.stacks.dissolve(stack_id)
            self._supersede_album_redo()
        return stack

    def set_cover(self, photo_id: int) -> int:
        """Show a photo as its stack's cover; the machine keeps the choice. Returns the stack id."""
        hash_ = self.catalog.hash_of(int(photo_id))
        if hash_ is None:
            raise InvalidInputError(f"no photo with id {photo_id}: see photoatlas photos")
        stack_id = self.catalog.stacks.stack_of_hash().get(hash_)
        if stack_id is None:
            raise InvalidInputError(f"photo {photo_id} is in no stack")
        stack = self.get(stack_id)
        with self.catalog.stacks.action("stack-cover", f"Show photo {photo_id} on top of its stack of {stack.size}"):
            current = self.catalog.stacks.choice(hash_)
            self.catalog.stacks.set_choice(hash_, (current[0] if current else False, time.time()))
            self.catalog.stacks.set_cover(stack_id, hash_)
            self._supersede_album_redo()
        return stack_id

    # -- helpers ---------------------------------------------------------------------------------

    def _hashes(self, photo_ids: tuple[int, ...]) -> list[str]:
        by_id = self.catalog.hashes_by_id()
        return list(dict.fromkeys(by_id[p] for p in photo_ids))

    def _supersede_album_redo(self) -> None:
        """A new action drops what could be redone, album actions included: one history, one line."""
        albums = self.catalog.albums
        while (action := albums.next_to_redo()) is not None:
            albums.mark(action.id, SUPERSEDED)


def _files(rows: list[PhotoRow]) -> tuple[DuplicateFile, ...]:
    files = [DuplicateFile(r.id, r.path, r.size, r.width, r.height, r.taken_at) for r in rows]
    files.sort(key=lambda f: (-(f.width * f.height), -f.size, f.path))
    return tuple(files)
