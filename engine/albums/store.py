"""Albums: the user's groups of photos, built from clusters, edited by the user, never overridden by the machine.

Every user action is one transaction that also records what undoing it restores, so `undo` walks back
through the actions in order. A photo's placement is stored by content hash with its source: 'user'
placements (moves, splits, removals, merges, and every member of a pinned album) are decisions that a
re-cluster keeps; 'auto' placements are the machine's and may change.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from engine.catalog import Catalog
from engine.errors import InvalidInputError

MAX_NAME_LENGTH = 200
_ALBUM_FIELDS = ("name", "user_named", "cover_hash", "cover_user", "pinned", "merged", "retired_at")


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
        db = self.catalog
        rows = db.execute(
            "SELECT id, name, user_named, pinned, cover_hash, confidence, generic, alternatives FROM albums"
            " WHERE retired_at IS NULL"
        ).fetchall()
        members: dict[int | None, list[int]] = {r[0]: [] for r in rows}
        members[None] = []
        first_time: dict[int | None, str] = {}
        last_time: dict[int | None, str] = {}
        user_counts: dict[int | None, int] = dict.fromkeys(members, 0)
        covers = {r[4] for r in rows if r[4]}
        cover_at: dict[str, tuple[int, int | None]] = {}  # chosen cover's hash → (first photo id, album)
        # One pass over the photos in time order (SQLite joins and sorts): at 100k photos this is what an
        # album action costs the window, so no per-photo dictionaries beyond the member lists.
        for photo_id, hash_, taken_at, album_id, source in db.execute(
            "SELECT p.id, p.hash, p.taken_at, m.album_id, m.source FROM photos p"
            " LEFT JOIN album_members m ON m.hash = p.hash ORDER BY p.taken_at IS NULL, p.taken_at, p.id"
        ):
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
        for album_id, name, user_named, pinned, cover_hash, confidence, generic, alternatives in rows:
            chosen = cover_at.get(cover_hash) if cover_hash else None
            cover = chosen[0] if chosen and chosen[1] == album_id else None
            out.append(
                Album(
                    album_id,
                    name,
                    bool(user_named),
                    bool(pinned),
                    cover if cover is not None else (members[album_id][0] if members[album_id] else None),
                    members[album_id],
                    first_time.get(album_id),
                    last_time.get(album_id),
                    confidence,
                    bool(generic),
                    tuple(json.loads(alternatives)),
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
        rows = self.catalog.execute("SELECT id, name FROM albums WHERE retired_at IS NULL").fetchall()
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
        rows = self.catalog.execute(
            "SELECT id, description, undone FROM album_actions ORDER BY id DESC LIMIT ?", (limit,)
        ).fetchall()
        return [(r[0], r[1], bool(r[2])) for r in rows]

    # -- user actions ----------------------------------------------------------------------------

    def rename(self, album: str | int, name: str) -> str:
        album_id = self.resolve(album)
        name = self._valid_name(name, exclude=album_id)
        with self._action("rename", f"rename album {album_id} to '{name}'") as (db, undo):
            self._save_album(db, undo, album_id, ("name", "user_named"))
            db.execute("UPDATE albums SET name=?, user_named=1, updated_at=? WHERE id=?", (name, time.time(), album_id))
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
        with self._action("merge", description) as (db, undo):
            now = time.time()
            self._save_album(db, undo, target, ("merged",))
            for album_id in source_ids:
                self._save_album(db, undo, album_id, ("retired_at",))
            hashes = self._member_hashes(db, [target, *source_ids])
            # Every photo of the merged album (the target's own as well as the sources') becomes the user's
            # placement: a re-cluster that would split them apart again leaves them where the merge put them.
            self._place(db, undo, hashes, target, "user")
            marks = ",".join("?" * len(source_ids))
            db.execute(f"UPDATE albums SET retired_at=?, updated_at=? WHERE id IN ({marks})", (now, now, *source_ids))
            db.execute("UPDATE albums SET merged=1, updated_at=? WHERE id=?", (now, target))
        return target

    def move(self, photo_ids: Sequence[int], album: str | int) -> int:
        """Put photos into an album, as the user's decision."""
        album_id = self.resolve(album)
        hashes = self._photo_hashes(photo_ids)
        with self._action("move", f"move {len(photo_ids)} photo(s) to album {album_id}") as (db, undo):
            self._place(db, undo, hashes, album_id, "user")
        return album_id

    def remove(self, photo_ids: Sequence[int]) -> None:
        """Take photos out of their albums into "Other", as the user's decision."""
        hashes = self._photo_hashes(photo_ids)
        with self._action("remove", f"move {len(photo_ids)} photo(s) to Other") as (db, undo):
            self._place(db, undo, hashes, None, "user")

    def split(self, photo_ids: Sequence[int], name: str | None = None) -> int:
        """A new album holding the given photos; named by the user, or automatically when no name is given."""
        hashes = self._photo_hashes(photo_ids)
        user_name = self._valid_name(name) if name is not None else None
        with self._action("split", f"split {len(photo_ids)} photo(s) into a new album") as (db, undo):
            now = time.time()
            cur = db.execute(
                "INSERT INTO albums(name, user_named, cover_hash, created_at, updated_at) VALUES(?,?,?,?,?)",
                (user_name or self._placeholder_name(db), int(user_name is not None), hashes[0], now, now),
            )
            album_id = int(cur.lastrowid)
            undo.created.append(album_id)
            self._place(db, undo, hashes, album_id, "user")
        return album_id

    def pin(self, album: str | int, pinned: bool = True) -> int:
        """Freeze (or unfreeze) an album: a pinned album's photos stay exactly as they are."""
        album_id = self.resolve(album)
        with self._action("pin", f"{'pin' if pinned else 'unpin'} album {album_id}") as (db, undo):
            self._save_album(db, undo, album_id, ("pinned",))
            db.execute("UPDATE albums SET pinned=?, updated_at=? WHERE id=?", (int(pinned), time.time(), album_id))
        return album_id

    def set_cover(self, album: str | int, photo_id: int) -> None:
        album_id = self.resolve(album)
        (hash_,) = self._photo_hashes([photo_id])
        row = self.catalog.execute("SELECT album_id FROM album_members WHERE hash=?", (hash_,)).fetchone()
        if row is None or row[0] != album_id:
            raise InvalidInputError(f"photo {photo_id} is not in album {album_id}: move it there first")
        with self._action("cover", f"set the cover of album {album_id}") as (db, undo):
            self._save_album(db, undo, album_id, ("cover_hash", "cover_user"))
            db.execute(
                "UPDATE albums SET cover_hash=?, cover_user=1, updated_at=? WHERE id=?", (hash_, time.time(), album_id)
            )

    def undo(self) -> str | None:
        """Undo the latest action not yet undone; returns its description, None when there is nothing."""
        with self.catalog.transaction() as db:
            row = db.execute(
                "SELECT id, description, undo FROM album_actions WHERE undone=0 ORDER BY id DESC LIMIT 1"
            ).fetchone()
            if row is None:
                return None
            action_id, description, payload = row
            undo = _Undo.from_json(payload)
            now = time.time()
            for album_id, values in undo.albums.items():
                if not values:
                    continue
                sets = ", ".join(f"{k}=?" for k in values)
                db.execute(f"UPDATE albums SET {sets}, updated_at=? WHERE id=?", (*values.values(), now, album_id))
            revived: set[int] = set()
            for hash_, before in undo.members.items():
                if before is None:
                    db.execute("DELETE FROM album_members WHERE hash=?", (hash_,))
                else:
                    db.execute(
                        "INSERT OR REPLACE INTO album_members(hash, album_id, source, updated_at) VALUES(?,?,?,?)",
                        (hash_, before[0], before[1], now),
                    )
                    if before[0] is not None and before[1] == "user":
                        revived.add(before[0])
            for album_id in undo.created:
                db.execute("UPDATE albums SET retired_at=? WHERE id=?", (now, album_id))
            # A re-cluster since the action may have retired the album a photo of the user's goes back to (it
            # had lost its automatic photos): the user's placement brings it back, as an album with the
            # user's photos is always kept.
            for album_id in revived - set(undo.created):
                db.execute(
                    "UPDATE albums SET retired_at=NULL, updated_at=? WHERE id=? AND retired_at IS NOT NULL",
                    (now, album_id),
                )
            self._settle_names(db, set(undo.albums) | revived)
            db.execute("UPDATE album_actions SET undone=1 WHERE id=?", (action_id,))
        return str(description)

    # -- helpers ---------------------------------------------------------------------------------

    class _ActionContext:
        def __init__(self, store: AlbumStore, kind: str, description: str) -> None:
            self.store, self.kind, self.description = store, kind, description
            self.undo = _Undo()

        def __enter__(self) -> tuple[sqlite3.Connection, _Undo]:
            self._tx = self.store.catalog.transaction()
            db = self._tx.__enter__()
            return db, self.undo

        def __exit__(self, *exc: object) -> None:
            if exc[0] is None:
                self.store.catalog.execute(
                    "INSERT INTO album_actions(kind, description, undo, created_at) VALUES(?,?,?,?)",
                    (self.kind, self.description, self.undo.to_json(), time.time()),
                )
            self._tx.__exit__(*exc)

    def _action(self, kind: str, description: str) -> AlbumStore._ActionContext:
        """One user action: its changes and its undo record commit together."""
        return AlbumStore._ActionContext(self, kind, description)

    def _save_album(self, db: sqlite3.Connection, undo: _Undo, album_id: int, fields: Sequence[str]) -> None:
        """Remember the fields an action changes, and only those: undoing a rename after a re-cluster must
        not bring back an album the re-cluster retired, nor the automatic name it replaced."""
        assert set(fields) <= set(_ALBUM_FIELDS)
        saved = undo.albums.setdefault(album_id, {})
        fields = [f for f in fields if f not in saved]
        if fields:
            row = db.execute(f"SELECT {', '.join(fields)} FROM albums WHERE id=?", (album_id,)).fetchone()
            saved.update(zip(fields, row, strict=True))

    def _place(
        self, db: sqlite3.Connection, undo: _Undo, hashes: Iterable[str], album_id: int | None, source: str
    ) -> None:
        now = time.time()
        for hash_ in hashes:
            if hash_ not in undo.members:
                before = db.execute("SELECT album_id, source FROM album_members WHERE hash=?", (hash_,)).fetchone()
                undo.members[hash_] = (before[0], before[1]) if before else None
            db.execute(
                "INSERT OR REPLACE INTO album_members(hash, album_id, source, updated_at) VALUES(?,?,?,?)",
                (hash_, album_id, source, now),
            )

    @staticmethod
    def _member_hashes(db: sqlite3.Connection, album_ids: Sequence[int]) -> list[str]:
        marks = ",".join("?" * len(album_ids))
        return [r[0] for r in db.execute(f"SELECT hash FROM album_members WHERE album_id IN ({marks})", album_ids)]

    def _photo_hashes(self, photo_ids: Sequence[int]) -> list[str]:
        """Content hashes of photos by id, in order, without repeats; unknown ids are an error."""
        if not photo_ids:
            raise InvalidInputError("name at least one photo (ids as in photoatlas photos)")
        hashes: list[str] = []
        for photo_id in dict.fromkeys(photo_ids):
            row = self.catalog.execute("SELECT hash FROM photos WHERE id=?", (int(photo_id),)).fetchone()
            if row is None:
                raise InvalidInputError(f"no photo with id {photo_id}: see photoatlas photos")
            if row[0] not in hashes:
                hashes.append(row[0])
        return hashes

    def _valid_name(self, name: str, exclude: int | None = None) -> str:
        name = " ".join(str(name).split())
        if not name:
            raise InvalidInputError("an album name cannot be empty")
        if len(name) > MAX_NAME_LENGTH:
            raise InvalidInputError(f"an album name is at most {MAX_NAME_LENGTH} characters")
        if name.isdigit():
            raise InvalidInputError("an album name cannot be only digits (albums are also named by id)")
        clash = self.catalog.execute(
            "SELECT id FROM albums WHERE retired_at IS NULL AND name = ? COLLATE NOCASE AND id IS NOT ?",
            (name, exclude),
        ).fetchone()
        if clash:
            raise InvalidInputError(f"album {clash[0]} is already named '{name}' (merge them with photoatlas merge)")
        return name

    @staticmethod
    def _settle_names(db: sqlite3.Connection, album_ids: Iterable[int]) -> None:
        """Keep live album names distinct after an undo brought an old name back (a re-cluster may have given
        it to another album since): an automatic name gives way with a qualifier, "Beach (2)"."""
        rows = db.execute("SELECT id, name, user_named FROM albums WHERE retired_at IS NULL").fetchall()
        names = {r[0]: (r[1], bool(r[2])) for r in rows}
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
                db.execute("UPDATE albums SET name=? WHERE id=?", (new_name, loser))
                names[loser] = (new_name, names[loser][1])

    @staticmethod
    def _placeholder_name(db: sqlite3.Connection) -> str:
        """A distinct provisional name for a split-off album until naming runs."""
        taken = {r[0].casefold() for r in db.execute("SELECT name FROM albums WHERE retired_at IS NULL")}
        number = 1
        while f"new album {number}" in taken:
            number += 1
        return f"New album {number}"
