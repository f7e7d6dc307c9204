"""Albums: the user's groups of photos, built from clusters, edited by the user, never overridden by the machine.

Every user action is one transaction that also records what undoing it restores, so `undo` walks back
through the actions in order. A photo's placement is stored by content hash with its source: 'user'
placements (moves, splits, removals, merges, and every member of a pinned album) are decisions that a
re-cluster keeps; 'auto' placements are the machine's and may change.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from engine.catalog import Catalog
from engine.errors import InvalidInputError

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

    @property
    def size(self) -> int:
        return len(self.members)

    @property
    def title(self) -> str:
        """The name with its date span ("Beach · Jul 2023"); the user's own name is shown as given."""
        from engine.naming.album_names import parse_time
        from engine.naming.names import format_date_span

        span = format_date_span(parse_time(self.date_from), parse_time(self.date_to))
        return f"{self.name} · {span}" if span and not self.user_named else self.name


@dataclass
class _Undo:
    """What one action changed, as the values to put back."""

    albums: dict[int, dict[str, object]] = field(default_factory=dict)
    members: dict[str, tuple[int | None, str] | None] = field(default_factory=dict)
    created: list[int] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(
            {
                "albums": {str(k): v for k, v in self.albums.items()},
                "members": {h: list(v) if v is not None else None for h, v in self.members.items()},
                "created": self.created,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> _Undo:
        data = json.loads(text)
        return cls(
            {int(k): v for k, v in data["albums"].items()},
            {h: (v[0], v[1]) if v is not None else None for h, v in data["members"].items()},
            list(data["created"]),
        )


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
        # One pass over the photos in time order (SQLite joins and sorts): at 100k photos this is what an
        # album action costs the window, so no per-photo dictionaries beyond the member lists.
        for photo_id, hash_, taken_at, album_id, source in self.catalog.albums.photos_in_time_order():
            live = album_id is None or album_id in members  # an album retired since: its photos are in Other
            key = album_id if live else None
            members[key].append(photo_id)
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

    def history(self, limit: int = 20) -> list[tuple[int, str, bool]]:
        """The latest actions: (id, description, undone)."""
        return self.catalog.albums.history(limit)

    # -- user actions ----------------------------------------------------------------------------

    def rename(self, album: str | int, name: str) -> str:
        album_id = self.resolve(album)
        name = self._valid_name(name, exclude=album_id)
        with self._action("rename", f"rename album {album_id} to '{name}'") as undo:
            self._save_album(undo, album_id, ("name", "user_named"))
            self.catalog.albums.update(album_id, name=name, user_named=1)
        return name

    def merge(self, sources: Sequence[str | int], into: str | int) -> int:
        """Move every photo of the source albums into `into` and retire the sources; stays merged."""
        target = self.resolve(into)
        source_ids = list(dict.fromkeys(self.resolve(s) for s in sources))
        if not source_ids:
            raise InvalidInputError("name at least one album to merge")
        if target in source_ids:
            raise InvalidInputError(f"cannot merge album {target} into itself")
        description = f"merge album{'s' if len(source_ids) > 1 else ''} {', '.join(map(str, source_ids))} into {target}"
        with self._action("merge", description) as undo:
            self._save_album(undo, target, ("merged",))
            for album_id in source_ids:
                self._save_album(undo, album_id, ("retired_at",))
            hashes = self.catalog.albums.member_hashes([target, *source_ids])
            # Every photo of the merged album (the target's own as well as the sources') becomes the user's
            # placement: a re-cluster that would split them apart again leaves them where the merge put them.
            self._place(undo, hashes, target, "user")
            self.catalog.albums.retire(source_ids)
            self.catalog.albums.update(target, merged=1)
        return target

    def move(self, photo_ids: Sequence[int], album: str | int) -> int:
        """Put photos into an album, as the user's decision."""
        album_id = self.resolve(album)
        hashes = self._photo_hashes(photo_ids)
        with self._action("move", f"move {len(photo_ids)} photo(s) to album {album_id}") as undo:
            self._place(undo, hashes, album_id, "user")
        return album_id

    def remove(self, photo_ids: Sequence[int]) -> None:
        """Take photos out of their albums into "Other", as the user's decision."""
        hashes = self._photo_hashes(photo_ids)
        with self._action("remove", f"move {len(photo_ids)} photo(s) to Other") as undo:
            self._place(undo, hashes, None, "user")

    def split(self, photo_ids: Sequence[int], name: str | None = None) -> int:
        """A new album holding the given photos; named by the user, or automatically when no name is given."""
        hashes = self._photo_hashes(photo_ids)
        user_name = self._valid_name(name) if name is not None else None
        with self._action("split", f"split {len(photo_ids)} photo(s) into a new album") as undo:
            album_id = self.catalog.albums.create(
                user_name or self._placeholder_name(), user_named=user_name is not None, cover_hash=hashes[0]
            )
            undo.created.append(album_id)
            self._place(undo, hashes, album_id, "user")
        return album_id

    def pin(self, album: str | int, pinned: bool = True) -> int:
        """Freeze (or unfreeze) an album: a pinned album's photos stay exactly as they are."""
        album_id = self.resolve(album)
        with self._action("pin", f"{'pin' if pinned else 'unpin'} album {album_id}") as undo:
            self._save_album(undo, album_id, ("pinned",))
            self.catalog.albums.update(album_id, pinned=int(pinned))
        return album_id

    def set_cover(self, album: str | int, photo_id: int) -> None:
        album_id = self.resolve(album)
        (hash_,) = self._photo_hashes([photo_id])
        placed = self.catalog.albums.placement(hash_)
        if placed is None or placed[0] != album_id:
            raise InvalidInputError(f"photo {photo_id} is not in album {album_id}: move it there first")
        with self._action("cover", f"set the cover of album {album_id}") as undo:
            self._save_album(undo, album_id, ("cover_hash", "cover_user"))
            self.catalog.albums.update(album_id, cover_hash=hash_, cover_user=1)

    def undo(self) -> str | None:
        """Undo the latest action not yet undone; returns its description, None when there is nothing."""
        tables = self.catalog.albums
        with self.catalog.transaction():
            action = tables.latest_action()
            if action is None:
                return None
            undo = _Undo.from_json(action.undo)
            for album_id, values in undo.albums.items():
                if values:
                    tables.update(album_id, **values)
            revived: set[int] = set()
            for hash_, before in undo.members.items():
                if before is None:
                    tables.unplace(hash_)
                else:
                    tables.place(hash_, before[0], before[1])
                    if before[0] is not None and before[1] == "user":
                        revived.add(before[0])
            tables.retire(undo.created)
            # A re-cluster since the action may have retired the album a photo of the user's goes back to (it
            # had lost its automatic photos): the user's placement brings it back, as an album with the
            # user's photos is always kept.
            for album_id in revived - set(undo.created):
                tables.revive(album_id)
            self._settle_names(set(undo.albums) | revived)
            tables.mark_undone(action.id)
        return str(action.description)

    # -- helpers ---------------------------------------------------------------------------------

    @contextmanager
    def _action(self, kind: str, description: str) -> Iterator[_Undo]:
        """One user action: its changes and its undo record commit together."""
        undo = _Undo()
        with self.catalog.transaction():
            yield undo
            self.catalog.albums.record_action(kind, description, undo.to_json())

    def _save_album(self, undo: _Undo, album_id: int, fields: Sequence[str]) -> None:
        """Remember the fields an action changes, and only those: undoing a rename after a re-cluster must
        not bring back an album the re-cluster retired, nor the automatic name it replaced."""
        saved = undo.albums.setdefault(album_id, {})
        fields = [f for f in fields if f not in saved]
        if fields:
            saved.update(self.catalog.albums.fields(album_id, fields))

    def _place(self, undo: _Undo, hashes: Iterable[str], album_id: int | None, source: str) -> None:
        for hash_ in hashes:
            if hash_ not in undo.members:
                undo.members[hash_] = self.catalog.albums.placement(hash_)
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
            raise InvalidInputError(f"album {clash} is already named '{name}' (merge them with photoatlas merge)")
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
