"""Albums: the user's groups of photos, built from clusters, edited by the user, never overridden by the machine.

Every action (the user's, and the machine's re-clusters, naming and new photos) is one transaction that
also records what undoing and redoing it put back (`engine.catalog.albums`), so `undo` and `redo` walk the
history in order. A photo's placement is stored by content hash with its source: 'user' placements (moves,
splits, removals, merges) are decisions that a re-cluster keeps; 'auto' placements are the machine's and
may change, except in an album the user named, merged into, created or pinned: that album is the user's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from engine.catalog import Catalog
from engine.catalog.albums import DONE, SUPERSEDED, UNDONE, HistoryEntry
from engine.catalog.places import Place
from engine.errors import InvalidInputError
from engine.places.summary import group_place

MAX_NAME_LENGTH = 200


@dataclass(frozen=True)
class Album:
    """One album as listed; `id` None is "Other" (photos in no album)."""

    id: int | None
    name: str
    user_named: bool
    pinned: bool
    cover: int | None  # photo id
    members: list[int]  # photo ids
    date_from: str | None = None
    date_to: str | None = None
    confidence: float | None = None
    generic: bool = False
    alternatives: tuple[str, ...] = ()
    user_members: int = 0  # photos the user placed here
    user_owned: bool = False  # the user named, merged into, created or pinned it: the machine keeps out
    place: str | None = None  # the city (else country) most of its photos were taken in (engine.places.summary)

    @property
    def size(self) -> int:
        return len(self.members)

    @property
    def title(self) -> str:
        """The name with its date span ("Beach · Jul 2023"); the user's own name is shown as given."""
        from engine.naming.album_names import parse_time
        from engine.naming.names import format_date_span
        from engine.places.summary import titled

        if self.user_named:
            return self.name
        return titled(self.name, self.place, format_date_span(parse_time(self.date_from), parse_time(self.date_to)))


class AlbumStore:
    """Album queries and user actions on one catalog."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    # -- queries ---------------------------------------------------------------------------------

    def albums(self) -> list[Album]:
        """Live albums, largest first, then "Other" (every photo in no live album) when it has photos."""
        rows = self.catalog.albums.live()
        members: dict[int | None, list[int]] = {r.id: [] for r in rows}
        members[None] = []
        first_time: dict[int | None, str] = {}
        last_time: dict[int | None, str] = {}
        user_counts: dict[int | None, int] = dict.fromkeys(members, 0)
        covers = {r.cover_hash for r in rows if r.cover_hash}
        cover_at: dict[str, tuple[int, int | None]] = {}  # chosen cover's hash → (first photo id, album)
        places = self.catalog.places.by_hash()
        member_places: dict[int | None, list[Place | None]] = {key: [] for key in members}
        # One pass over the photos in time order (SQLite joins and sorts): at 100k photos this is what an
        # album action costs the window, so no per-photo dictionaries beyond the member lists.
        for photo_id, hash_, taken_at, album_id, source in self.catalog.albums.photos_in_time_order():
            live = album_id is None or album_id in members  # an album retired since: its photos are in Other
            key = album_id if live else None
            members[key].append(photo_id)
            member_places[key].append(places.get(hash_))
            if taken_at:
                first_time.setdefault(key, taken_at)  # rows come in time order: first is earliest
                last_time[key] = taken_at
            if live and source == "user":
                user_counts[key] += 1
            if hash_ in covers and hash_ not in cover_at:
                cover_at[hash_] = (photo_id, key)
        out = []
        for row in rows:
            album_id = row.id
            chosen = cover_at.get(row.cover_hash) if row.cover_hash else None
            cover = chosen[0] if chosen and chosen[1] == album_id else None
            out.append(
                Album(
                    album_id,
                    row.name,
                    row.user_named,
                    row.pinned,
                    cover if cover is not None else (members[album_id][0] if members[album_id] else None),
                    members[album_id],
                    first_time.get(album_id),
                    last_time.get(album_id),
                    row.confidence,
                    row.generic,
                    row.alternatives,
                    user_counts[album_id],
                    row.user_owned,
                    group_place(member_places[album_id]),
                )
            )
        out.sort(key=lambda a: (-a.size, a.id))
        if members[None]:
            out.append(
                Album(None, "Other", False, False, None, members[None], first_time.get(None), last_time.get(None))
            )
        return out

    def resolve(self, ref: str | int) -> int:
        """An album id from an id or an exact name; `InvalidInputError` when none or several match."""
        text = str(ref).strip()
        rows = list(self.catalog.albums.live_names().items())
        if text.isdigit() and any(r[0] == int(text) for r in rows):
            return int(text)
        exact = [r[0] for r in rows if r[1] == text]
        if not exact:
            exact = [r[0] for r in rows if r[1].casefold() == text.casefold()]
        if len(exact) == 1:
            return exact[0]
        if len(exact) > 1:
            raise InvalidInputError(f"several albums are named '{text}' ({', '.join(map(str, exact))}): use the id")
        raise InvalidInputError(f"no album '{text}': see photoatlas albums")

    def history(self, limit: int = 20) -> list[HistoryEntry]:
        """The latest actions, newest first; undone ones newer than every done one can be redone."""
        entries = self.catalog.albums.history(limit)
        # Stack actions have ids of their own table: shown negative, so that an id names one action.
        entries += [
            HistoryEntry(-i, kind, text, undone != DONE, created, undone == UNDONE)
            for i, kind, text, undone, created in self.catalog.stacks.history(limit)
        ]
        entries.sort(key=lambda e: e.created_at, reverse=True)
        return entries[:limit]

    def _quoted(self, album_id: int | None) -> str:
        """An album as people know it, by name ("Other" for none)."""
        if album_id is None:
            return "Other"
        return f"“{self.catalog.albums.fields(album_id, ['name'])['name']}”"

    # -- user actions ----------------------------------------------------------------------------

    def rename(self, album: str | int, name: str) -> str:
        album_id = self.resolve(album)
        name = self._valid_name(name, exclude=album_id)
        with self.catalog.albums.action("rename", f"Rename {self._quoted(album_id)} to “{name}”"):
            self.catalog.albums.update(album_id, name=name, user_named=1, user_owned=1)
        return name

    def merge(self, sources: Sequence[str | int], into: str | int) -> int:
        """Move every photo of the source albums into `into` and retire the sources; stays merged."""
        target = self.resolve(into)
        source_ids = list(dict.fromkeys(self.resolve(s) for s in sources))
        if not source_ids:
            raise InvalidInputError("name at least one album to merge")
        if target in source_ids:
            raise InvalidInputError(f"cannot merge {self._quoted(target)} into itself")
        names = ", ".join(self._quoted(a) for a in source_ids)
        with self.catalog.albums.action("merge", f"Merge {names} into {self._quoted(target)}"):
            hashes = self.catalog.albums.member_hashes([target, *source_ids])
            # Every photo of the merged album (the target's own as well as the sources') becomes the user's
            # placement: a re-cluster that would split them apart again leaves them where the merge put them.
            self._place(hashes, target, "user")
            self.catalog.albums.retire(source_ids)
            self.catalog.albums.update(target, merged=1, user_owned=1)
        return target

    def move(self, photo_ids: Sequence[int], album: str | int) -> int:
        """Put photos into an album, as the user's decision."""
        album_id = self.resolve(album)
        hashes = self._photo_hashes(photo_ids)
        with self.catalog.albums.action("move", f"Move {_photos(len(photo_ids))} to {self._quoted(album_id)}"):
            self._place(hashes, album_id, "user")
        return album_id

    def remove(self, photo_ids: Sequence[int]) -> None:
        """Take photos out of their albums into "Other", as the user's decision."""
        hashes = self._photo_hashes(photo_ids)
        with self.catalog.albums.action("remove", f"Move {_photos(len(photo_ids))} to Other"):
            self._place(hashes, None, "user")

    def split(self, photo_ids: Sequence[int], name: str | None = None) -> int:
        """A new album, the user's, holding the given photos; named by the user, or provisionally."""
        hashes = self._photo_hashes(photo_ids)
        user_name = self._valid_name(name) if name is not None else None
        album_name = user_name or self._placeholder_name()
        with self.catalog.albums.action("split", f"New album “{album_name}” from {_photos(len(photo_ids))}"):
            album_id = self.catalog.albums.create(
                album_name, user_named=user_name is not None, user_owned=True, cover_hash=hashes[0]
            )
            self._place(hashes, album_id, "user")
        return album_id

    def pin(self, album: str | int, pinned: bool = True) -> int:
        """Freeze (or unfreeze) an album: a pinned album's photos stay exactly as they are."""
        album_id = self.resolve(album)
        with self.catalog.albums.action("pin", f"{'Pin' if pinned else 'Unpin'} {self._quoted(album_id)}"):
            self.catalog.albums.update(album_id, pinned=int(pinned), user_owned=1)
        return album_id

    def set_cover(self, album: str | int, photo_id: int) -> None:
        album_id = self.resolve(album)
        (hash_,) = self._photo_hashes([photo_id])
        placed = self.catalog.albums.placement(hash_)
        if placed is None or placed[0] != album_id:
            raise InvalidInputError(f"photo {photo_id} is not in {self._quoted(album_id)}: move it there first")
        with self.catalog.albums.action("cover", f"Set the cover of {self._quoted(album_id)}"):
            self.catalog.albums.update(album_id, cover_hash=hash_, cover_user=1)

    def undo(self) -> str | None:
        """Undo the latest action (a re-cluster included); returns its description, None when there is none.

        Raises:
            InvalidInputError: the latest action can no longer be undone (nothing changes; nothing older is).
        """
        tables = self.catalog.albums
        with self.catalog.transaction():
            action = tables.latest_done()
            stacked = self.catalog.stacks.latest_done()
            # Stack actions (unstack, stack cover) share the one history: the newer of the two goes first.
            if stacked is not None and (action is None or stacked.created_at >= action.created_at):
                self.catalog.stacks.apply(stacked.before)
                self.catalog.stacks.mark(stacked.id, UNDONE)
                return stacked.description
            if action is None:
                return None
            if not tables.can_restore(action.before):
                raise InvalidInputError(
                    f"“{action.description}” can no longer be undone: the albums it replaced were discarded"
                    " after newer re-clusters"
                )
            self._settle_names(tables.apply(action.before, undoing=True))
            # An action recorded by 0.1.0 kept no state to redo it from.
            tables.mark(action.id, UNDONE if action.after is not None else SUPERSEDED)
        return action.description

    def redo(self) -> str | None:
        """Re-apply the action undone last; returns its description, None when there is nothing to redo."""
        tables = self.catalog.albums
        with self.catalog.transaction():
            action = tables.next_to_redo()
            stacked = self.catalog.stacks.next_to_redo()
            if stacked is not None:
                done = tables.latest_done()
                if done is not None and done.created_at > stacked.created_at:
                    # An album action came after the stack action was undone: that branch of history is gone.
                    self.catalog.stacks.supersede_redoable()
                elif action is None or stacked.created_at <= action.created_at:
                    self.catalog.stacks.apply(stacked.after)
                    self.catalog.stacks.mark(stacked.id, DONE)
                    return stacked.description
            if action is None or action.after is None:
                return None
            if not tables.can_restore(action.after):
                raise InvalidInputError(f"“{action.description}” can no longer be redone")
            self._settle_names(tables.apply(action.after, undoing=False))
            tables.mark(action.id, DONE)
        return action.description

    # -- helpers ---------------------------------------------------------------------------------

    def _place(self, hashes: Iterable[str], album_id: int | None, source: str) -> None:
        for hash_ in hashes:
            self.catalog.albums.place(hash_, album_id, source)

    def _photo_hashes(self, photo_ids: Sequence[int]) -> list[str]:
        """Content hashes of photos by id, in order, without repeats; unknown ids are an error."""
        if not photo_ids:
            raise InvalidInputError("name at least one photo (ids as in photoatlas photos)")
        hashes: list[str] = []
        for photo_id in dict.fromkeys(photo_ids):
            hash_ = self.catalog.hash_of(int(photo_id))
            if hash_ is None:
                raise InvalidInputError(f"no photo with id {photo_id}: see photoatlas photos")
            if hash_ not in hashes:
                hashes.append(hash_)
        return hashes

    def _valid_name(self, name: str, exclude: int | None = None) -> str:
        name = " ".join(str(name).split())
        if not name:
            raise InvalidInputError("an album name cannot be empty")
        if len(name) > MAX_NAME_LENGTH:
            raise InvalidInputError(f"an album name is at most {MAX_NAME_LENGTH} characters")
        if name.isdigit():
            raise InvalidInputError("an album name cannot be only digits (albums are also named by id)")
        clash = self.catalog.albums.name_holder(name, exclude)
        if clash is not None:
            raise InvalidInputError(f"another album is already named “{name}”: merge them, or choose another name")
        return name

    def _settle_names(self, album_ids: Iterable[int]) -> None:
        """Keep live album names distinct after an undo brought an old name back (a re-cluster may have given
        it to another album since): an automatic name gives way with a qualifier, "Beach (2)"."""
        names = self.catalog.albums.name_flags()
        for album_id in sorted(album_ids):
            if album_id not in names:
                continue
            name, user_named = names[album_id]
            clashes = [a for a, (n, _) in names.items() if a != album_id and n.casefold() == name.casefold()]
            if not clashes:
                continue
            # The restored name is automatic, or another album's user name holds it: the restored one yields.
            yielding = [album_id] if not user_named or any(names[a][1] for a in clashes) else clashes
            for loser in yielding:
                taken = {n.casefold() for n, _ in names.values()}
                number = 2
                while f"{names[loser][0]} ({number})".casefold() in taken:
                    number += 1
                new_name = f"{names[loser][0]} ({number})"
                self.catalog.albums.rename_quietly(loser, new_name)
                names[loser] = (new_name, names[loser][1])

    def _placeholder_name(self) -> str:
        """A distinct provisional name for a split-off album until naming runs."""
        taken = {name.casefold() for name in self.catalog.albums.live_names().values()}
        number = 1
        while f"new album {number}" in taken:
            number += 1
        return f"New album {number}"


def _photos(count: int) -> str:
    return f"{count} photo{'s' * (count != 1)}"
