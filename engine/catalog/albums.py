"""The album tables: albums, where each photo is placed (by content hash), and the action history.

This module is the only writer of `albums`, `album_members` and `album_actions`, and the one place that
states what the machine may change. The user's decisions are data here:
- an album the user named, merged into, created or pinned is the user's (`user_owned`): the machine never
  takes a photo out of it (`machine_place`), never retires it and never renames it (`set_machine_names`);
  it may add new photos to it, unless it is pinned (`open_album_ids`);
- a placement with source 'user' (a move, split, removal or merge) is the user's: the machine never
  replaces or deletes it (`machine_place`, `machine_add`);
- a user placement, and a user album's hold on a photo, follow a photo whose file was edited
  (`follow_edit`).
Which photos a re-cluster keeps where they are is planned in `engine.albums.reconcile`, from the states
this owner lists (`live_states`, `placements`).

Every change made inside `action` is journaled here, whoever makes it (a user action, a re-cluster, naming,
new photos), so that every action can be undone and redone exactly (`undo_state`, `redo_state`, `apply`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from engine.catalog.clusterings import ClusteringTables
from engine.catalog.connection import Connection

# Album fields an action may change, and undo and redo put back.
ACTION_FIELDS = (
    "name",
    "user_named",
    "user_owned",
    "cover_hash",
    "cover_user",
    "pinned",
    "merged",
    "retired_at",
    "confidence",
    "generic",
    "alternatives",
)
# An action's state: done, undone (redo re-applies it), undone and superseded by a newer action.
DONE, UNDONE, SUPERSEDED = 0, 1, 2

Placement = tuple[int | None, str]  # (album id or None for "Other", source 'user' | 'auto')


@dataclass(frozen=True)
class AlbumRow:
    """One live album as stored."""

    id: int
    name: str
    user_named: bool
    pinned: bool
    cover_hash: str | None
    confidence: float | None
    generic: bool
    alternatives: tuple[str, ...]
    user_owned: bool = False


@dataclass(frozen=True)
class AlbumFlags:
    """What protects a live album from the machine."""

    pinned: bool
    merged: bool
    user_named: bool
    user_owned: bool = False


@dataclass(frozen=True)
class MachineName:
    """An automatic album name with its confidence and runner-up candidates."""

    name: str
    confidence: float
    generic: bool
    alternatives: tuple[str, ...]


@dataclass
class Journal:
    """The album state an action touched, as it was before it (to undo it) or after it (to redo it).

    Attributes:
        albums: album id → the fields the action changed, with their values.
        members: content hash → its placement (None: placed nowhere).
        created: albums the action created (undo retires them, redo brings them back).
        clustering: the active clustering, when the action replaced it (`clustering_changed`).
    """

    albums: dict[int, dict[str, object]] = field(default_factory=dict)
    members: dict[str, Placement | None] = field(default_factory=dict)
    created: list[int] = field(default_factory=list)
    clustering: int | None = None
    clustering_changed: bool = False
    seen: list[int] = field(default_factory=list)  # photos the clustering first weighed in this action
    weighed: dict[int, int] = field(default_factory=dict)  # after it: those photos' clusters, for redo
    description: str | None = None  # set inside an action to word it from what it did; not stored here

    @property
    def empty(self) -> bool:
        return not (self.albums or self.members or self.created or self.clustering_changed)

    def to_json(self) -> str:
        data: dict[str, object] = {
            "albums": {str(k): v for k, v in self.albums.items()},
            "members": {h: list(v) if v is not None else None for h, v in self.members.items()},
            "created": self.created,
        }
        if self.clustering_changed:
            data["clustering"] = self.clustering
        if self.seen:
            data["seen"] = self.seen
        if self.weighed:
            data["weighed"] = {str(k): v for k, v in self.weighed.items()}
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str) -> Journal:
        data = json.loads(text)
        return cls(
            {int(k): v for k, v in data["albums"].items()},
            {h: (v[0], v[1]) if v is not None else None for h, v in data["members"].items()},
            list(data["created"]),
            data.get("clustering"),
            "clustering" in data,
            list(data.get("seen", [])),
            {int(k): int(v) for k, v in data.get("weighed", {}).items()},
        )


@dataclass(frozen=True)
class HistoryEntry:
    """One action as the history lists it; `undone` ones newer than every done one can be redone."""

    id: int
    kind: str
    description: str
    undone: bool
    created_at: float  # time.time()
    redoable: bool = False  # undone, and not superseded by a newer action: `redo` can re-apply it


@dataclass(frozen=True)
class ActionRecord:
    """One entry of the action history, with the states that undoing and redoing it put back."""

    id: int
    kind: str
    description: str
    before: Journal
    after: Journal | None  # None: recorded by PhotoAtlas 0.1.0, which kept no redo state
    undone: int
    created_at: float


class AlbumTables:
    """Owner of `albums`, `album_members` and `album_actions` (`catalog.albums`)."""

    def __init__(self, connection: Connection, clusterings: ClusteringTables) -> None:
        self._c = connection
        self._clusterings = clusterings
        self._journal: Journal | None = None

    # -- albums: reads ----------------------------------------------------------------------------

    def live(self) -> list[AlbumRow]:
        """Every album not retired, in id order."""
        rows = self._c.execute(
            "SELECT id, name, user_named, pinned, cover_hash, confidence, generic, alternatives, user_owned"
            " FROM albums WHERE retired_at IS NULL ORDER BY id"
        )
        return [
            AlbumRow(r[0], r[1], bool(r[2]), bool(r[3]), r[4], r[5], bool(r[6]), tuple(json.loads(r[7])), bool(r[8]))
            for r in rows
        ]

    def live_names(self) -> dict[int, str]:
        """Album id → name, for every live album."""
        return dict(self._c.execute("SELECT id, name FROM albums WHERE retired_at IS NULL ORDER BY id").fetchall())

    def live_states(self) -> dict[int, AlbumFlags]:
        """Album id → what protects it, for every live album."""
        rows = self._c.execute("SELECT id, pinned, merged, user_named, user_owned FROM albums WHERE retired_at IS NULL")
        return {a: AlbumFlags(bool(p), bool(m), bool(u), bool(o)) for a, p, m, u, o in rows}

    def frozen_names(self) -> dict[int, str]:
        """Live albums whose name the machine keeps (the user's albums): id → name."""
        rows = self._c.execute("SELECT id, name FROM albums WHERE retired_at IS NULL AND user_owned=1")
        return dict(rows.fetchall())

    def open_album_ids(self) -> set[int]:
        """Live albums the machine may add photos to (not pinned)."""
        return {r[0] for r in self._c.execute("SELECT id FROM albums WHERE retired_at IS NULL AND pinned = 0")}

    def fields(self, album_id: int, names: Sequence[str]) -> dict[str, object]:
        """The current values of some fields of an album (for an action's undo record)."""
        assert set(names) <= set(ACTION_FIELDS)
        row = self._c.execute(f"SELECT {', '.join(names)} FROM albums WHERE id=?", (album_id,)).fetchone()
        return dict(zip(names, row, strict=True))

    def name_holder(self, name: str, exclude: int | None = None) -> int | None:
        """The live album (other than `exclude`) already named `name`, ignoring case."""
        row = self._c.execute(
            "SELECT id FROM albums WHERE retired_at IS NULL AND name = ? COLLATE NOCASE AND id IS NOT ?",
            (name, exclude),
        ).fetchone()
        return row[0] if row else None

    def name_flags(self) -> dict[int, tuple[str, bool]]:
        """Live album id → (name, named by the user)."""
        rows = self._c.execute("SELECT id, name, user_named FROM albums WHERE retired_at IS NULL")
        return {r[0]: (r[1], bool(r[2])) for r in rows}

    def covers(self) -> list[tuple[int, str | None]]:
        """(album id, cover hash) of every live album."""
        return self._c.execute("SELECT id, cover_hash FROM albums WHERE retired_at IS NULL").fetchall()

    # -- albums: writes (inside the caller's transaction) -------------------------------------------

    def create(
        self, name: str, *, user_named: bool = False, user_owned: bool = False, cover_hash: str | None = None
    ) -> int:
        """A new live album: the user's (`user_owned`) when the user made it, else the machine's."""
        now = time.time()
        cur = self._c.execute(
            "INSERT INTO albums(name, user_named, user_owned, cover_hash, created_at, updated_at) VALUES(?,?,?,?,?,?)",
            (name, int(user_named), int(user_owned), cover_hash, now, now),
        )
        album_id = int(cur.lastrowid)
        if self._journal is not None:
            self._journal.created.append(album_id)
        return album_id

    def update(self, album_id: int, **values: object) -> None:
        """Set fields of an album (a user action, or undo and redo putting values back)."""
        assert values and set(values) <= set(ACTION_FIELDS)
        self._save_fields(album_id, list(values))
        sets = ", ".join(f"{k}=?" for k in values)
        self._c.execute(f"UPDATE albums SET {sets}, updated_at=? WHERE id=?", (*values.values(), time.time(), album_id))

    def retire(self, album_ids: Iterable[int]) -> None:
        """Take albums out of the sidebar (their photos are then in Other); ids stay, for undo."""
        for album_id in album_ids:
            self.update(album_id, retired_at=time.time())

    def revive(self, album_id: int) -> None:
        """Bring a retired album back (a user placement into it was restored)."""
        if self.fields(album_id, ["retired_at"])["retired_at"] is not None:
            self.update(album_id, retired_at=None)

    def rename_quietly(self, album_id: int, name: str) -> None:
        """Change a name to keep live names distinct (a qualifier after an undo), as part of that action."""
        self._save_fields(album_id, ["name"])
        self._c.execute("UPDATE albums SET name=? WHERE id=?", (name, album_id))

    def set_machine_names(self, names: dict[int, MachineName]) -> None:
        """Store automatic names; the user's albums keep their names."""
        now = time.time()
        rows = self._c.execute("SELECT id FROM albums WHERE user_owned=0").fetchall()
        machine = {r[0] for r in rows}
        for album_id in names:
            if album_id in machine:
                self._save_fields(album_id, ["name", "confidence", "generic", "alternatives"])
        self._c.executemany(
            "UPDATE albums SET name=?, confidence=?, generic=?, alternatives=?, updated_at=?"
            " WHERE id=? AND user_owned=0",
            [
                (n.name, float(n.confidence), int(n.generic), json.dumps(list(n.alternatives)), now, album_id)
                for album_id, n in names.items()
            ],
        )

    def set_machine_cover(self, album_id: int, cover_hash: str) -> None:
        self._save_fields(album_id, ["cover_hash"])
        self._c.execute("UPDATE albums SET cover_hash=? WHERE id=?", (cover_hash, album_id))

    # -- placements: reads ------------------------------------------------------------------------

    def placement(self, hash_: str) -> Placement | None:
        row = self._c.execute("SELECT album_id, source FROM album_members WHERE hash=?", (hash_,)).fetchone()
        return (row[0], row[1]) if row else None

    def placements(self) -> dict[str, Placement]:
        """Where every placed photo is now: hash → (live album or None for Other, source)."""
        rows = self._c.execute(
            "SELECT m.hash, m.album_id, m.source FROM album_members m"
            " LEFT JOIN albums a ON a.id = m.album_id WHERE m.album_id IS NULL OR a.retired_at IS NULL"
        )
        return {h: (album, source) for h, album, source in rows}

    def album_of_hash(self) -> dict[str, int | None]:
        """hash → album id (live or not) for every placement."""
        return dict(self._c.execute("SELECT hash, album_id FROM album_members").fetchall())

    def member_hashes(self, album_ids: Sequence[int]) -> list[str]:
        marks = ",".join("?" * len(album_ids))
        return [r[0] for r in self._c.execute(f"SELECT hash FROM album_members WHERE album_id IN ({marks})", album_ids)]

    def sizes(self) -> dict[int | None, int]:
        """Placements per album id (None: placed in Other)."""
        return dict(self._c.execute("SELECT album_id, COUNT(*) FROM album_members GROUP BY album_id").fetchall())

    def photos_in_time_order(self) -> Iterator[tuple[int, str, str | None, int | None, str | None]]:
        """(photo id, hash, capture time, album id or None, source or None) of every photo, earliest first."""
        return iter(
            self._c.execute(
                "SELECT p.id, p.hash, p.taken_at, m.album_id, m.source FROM photos p"
                " LEFT JOIN album_members m ON m.hash = p.hash ORDER BY p.taken_at IS NULL, p.taken_at, p.id"
            )
        )

    def live_member_vectors(self, model_id: int) -> tuple[list[str], list[int], np.ndarray]:
        """Hashes, albums and CLIP features of the photos placed in live albums (one row per content)."""
        rows = self._c.execute(
            "SELECT m.hash, m.album_id, e.vector FROM album_members m JOIN albums a ON a.id = m.album_id"
            " JOIN (SELECT hash FROM photos GROUP BY hash) p ON p.hash = m.hash"
            " JOIN embeddings e ON e.hash = m.hash AND e.model_id = ? WHERE a.retired_at IS NULL",
            (model_id,),
        ).fetchall()
        if not rows:
            return [], [], np.zeros((0, 0), dtype=np.float32)
        vectors = np.stack([np.frombuffer(r[2], dtype="<f4") for r in rows]).astype(np.float32)
        return [r[0] for r in rows], [r[1] for r in rows], vectors

    def waiting_share(self, model_id: int, since: float) -> float:
        """The share of the embedded contents that sit in no live album and were added after `since`: new
        photos waiting in Other. Photos a re-cluster itself left in Other (odd photos that fit no album) or
        that the user put there are not counted: another re-cluster would not move them."""
        total, waiting = self._c.execute(
            "SELECT COUNT(DISTINCT p.hash), COUNT(DISTINCT CASE WHEN m.hash IS NULL AND p.added_at > ?"
            " THEN p.hash END) FROM photos p"
            " JOIN embeddings e ON e.hash = p.hash AND e.model_id = ?"
            " LEFT JOIN album_members m ON m.hash = p.hash AND m.album_id IS NOT NULL"
            " AND m.album_id IN (SELECT id FROM albums WHERE retired_at IS NULL)",
            (since, model_id),
        ).fetchone()
        return 0.0 if not total else waiting / total

    # -- placements: writes -----------------------------------------------------------------------

    def place(self, hash_: str, album_id: int | None, source: str) -> None:
        """The user's placement (source 'user'), or undo and redo putting a placement back as it was."""
        self._save_placement(hash_)
        self._c.execute(
            "INSERT OR REPLACE INTO album_members(hash, album_id, source, updated_at) VALUES(?,?,?,?)",
            (hash_, album_id, source, time.time()),
        )

    def unplace(self, hash_: str) -> None:
        """Forget a placement (an undo of the action that made it)."""
        self._save_placement(hash_)
        self._c.execute("DELETE FROM album_members WHERE hash=?", (hash_,))

    def machine_place(self, hash_: str, album_id: int | None) -> None:
        """The machine's placement after a re-cluster: a photo the user placed is never moved, and a photo of
        a user's album never leaves it; None takes the machine's placement away (the photo is in Other)."""
        self._save_placement(hash_)
        if album_id is None:
            self._c.execute(
                "DELETE FROM album_members WHERE hash=? AND source='auto'"
                " AND album_id NOT IN (SELECT id FROM albums WHERE user_owned=1)",
                (hash_,),
            )
            return
        self._c.execute(
            "INSERT INTO album_members(hash, album_id, source, updated_at) VALUES(?,?,'auto',?)"
            " ON CONFLICT(hash) DO UPDATE SET album_id=excluded.album_id, source='auto',"
            " updated_at=excluded.updated_at WHERE album_members.source='auto' AND (album_members.album_id IS NULL"
            " OR album_members.album_id NOT IN (SELECT id FROM albums WHERE user_owned=1))",
            (hash_, album_id, time.time()),
        )

    def machine_add(self, hash_: str, album_id: int) -> bool:
        """A new photo joins an album; a photo already placed (by anyone) stays where it is."""
        self._save_placement(hash_)
        cur = self._c.execute(
            "INSERT OR IGNORE INTO album_members(hash, album_id, source, updated_at) VALUES(?,?,'auto',?)",
            (hash_, album_id, time.time()),
        )
        return cur.rowcount > 0

    def follow_edit(self, old_hash: str, new_hash: str) -> bool:
        """A photo's file was edited in place: the user's placement of it, or a user album's hold on it,
        follows the new content (True); a machine placement does not, so the next assignment weighs it again
        (False). The old content's placement stays, in case that content comes back."""
        row = self._c.execute(
            "SELECT m.album_id, m.source, COALESCE(a.user_owned, 0) FROM album_members m"
            " LEFT JOIN albums a ON a.id = m.album_id WHERE m.hash=?",
            (old_hash,),
        ).fetchone()
        if row is None or not (row[1] == "user" or row[2]):
            return False
        self._save_placement(new_hash)
        self._c.execute(
            "INSERT OR IGNORE INTO album_members(hash, album_id, source, updated_at) VALUES(?,?,?,?)",
            (new_hash, row[0], row[1], time.time()),
        )
        return True

    # -- actions and their history ---------------------------------------------------------------

    @contextmanager
    def action(self, kind: str, description: str) -> Iterator[Journal]:
        """One action, atomic: every album change inside it (by any writer) is journaled, and the action is
        recorded with what undoing and redoing it put back. Nothing is recorded when nothing changed; a new
        action drops what could be redone. `journal.description` may be set inside to a better sentence."""
        if self._journal is not None:  # nested: part of the outer action
            yield self._journal
            return
        with self._c.transaction():
            before_clustering = self._clusterings.current_id()
            journal = Journal()
            self._journal = journal
            try:
                yield journal
            finally:
                self._journal = None
            after_clustering = self._clusterings.current_id()
            if after_clustering != before_clustering:
                journal.clustering, journal.clustering_changed = before_clustering, True
            if journal.empty:
                return
            after = Journal(created=list(journal.created))
            for album_id, saved in journal.albums.items():
                after.albums[album_id] = self.fields(album_id, list(saved))
            for album_id in journal.created:
                after.albums[album_id] = self.fields(album_id, ACTION_FIELDS)
            after.members = {h: self.placement(h) for h in journal.members}
            after.clustering, after.clustering_changed = after_clustering, journal.clustering_changed
            after.weighed = self._clusterings.clusters_of(journal.seen)
            text = journal.description or description
            self._c.execute("UPDATE album_actions SET undone=? WHERE undone=?", (SUPERSEDED, UNDONE))
            self._c.execute(
                "INSERT INTO album_actions(kind, description, undo, redo, created_at) VALUES(?,?,?,?,?)",
                (kind, text, journal.to_json(), after.to_json(), time.time()),
            )

    def _save_fields(self, album_id: int, names: Sequence[str]) -> None:
        """Journal an album's fields before the running action changes them (once per action)."""
        journal = self._journal
        if journal is None or album_id in journal.created:
            return
        saved = journal.albums.setdefault(album_id, {})
        missing = [f for f in names if f not in saved]
        if missing:
            saved.update(self.fields(album_id, missing))

    def note_seen(self, photo_id: int) -> None:
        """The current clustering weighed a new photo in the running action: undoing it forgets that, so the
        photo is weighed again by the next assignment."""
        if self._journal is not None:
            self._journal.seen.append(photo_id)

    def _save_placement(self, hash_: str) -> None:
        journal = self._journal
        if journal is not None and hash_ not in journal.members:
            journal.members[hash_] = self.placement(hash_)

    def latest_done(self) -> ActionRecord | None:
        """The action `undo` would revert."""
        return self._record("WHERE undone=0 ORDER BY id DESC LIMIT 1")

    def next_to_redo(self) -> ActionRecord | None:
        """The action `redo` would re-apply: the one undone last (undone actions sit above all done ones)."""
        return self._record("WHERE undone=1 ORDER BY id LIMIT 1")

    def _record(self, where: str) -> ActionRecord | None:
        row = self._c.execute(
            f"SELECT id, kind, description, undo, redo, undone, created_at FROM album_actions {where}"
        ).fetchone()
        if row is None:
            return None
        after = Journal.from_json(row[4]) if row[4] else None
        return ActionRecord(row[0], row[1], row[2], Journal.from_json(row[3]), after, row[5], row[6])

    def can_restore(self, state: Journal) -> bool:
        """Whether the clustering a state refers to is still kept."""
        return not state.clustering_changed or state.clustering is None or self._clusterings.exists(state.clustering)

    def apply(self, state: Journal, *, undoing: bool) -> set[int]:
        """Put a journaled state back: undoing retires the albums the action created, redoing brings them back
        (with their fields). Returns the albums whose names may now clash."""
        for album_id, values in state.albums.items():
            if values:
                self.update(album_id, **values)
        revived: set[int] = set()
        for hash_, placement in state.members.items():
            if placement is None:
                self.unplace(hash_)
            else:
                self.place(hash_, placement[0], placement[1])
                if undoing and placement[0] is not None and placement[1] == "user":
                    revived.add(placement[0])
        if undoing:
            for photo_id in state.seen:
                self._clusterings.forget_photo(photo_id)
            self.retire(state.created)
            # A re-cluster since the action may have retired the album a photo of the user's goes back to
            # (it had lost its automatic photos): the user's placement brings it back.
            for album_id in revived - set(state.created):
                self.revive(album_id)
        if state.clustering_changed:
            self._clusterings.activate(state.clustering)
        if not undoing:
            # Redoing new photos' placement: the clustering weighed them again, as when the action ran.
            self._clusterings.restore_seen(state.weighed)
        return set(state.albums) | revived

    def mark(self, action_id: int, undone: int) -> None:
        self._c.execute("UPDATE album_actions SET undone=? WHERE id=?", (undone, action_id))

    def history(self, limit: int) -> list[HistoryEntry]:
        """The latest actions, newest first."""
        rows = self._c.execute(
            "SELECT id, kind, description, undone, created_at FROM album_actions ORDER BY id DESC LIMIT ?", (limit,)
        ).fetchall()
        return [HistoryEntry(r[0], r[1], r[2], r[3] != DONE, r[4], r[3] == UNDONE) for r in rows]

    def standing_undo_records(self, kinds: Sequence[str]) -> list[str]:
        """The undo JSON of every action of these kinds not undone, oldest first."""
        marks = ",".join("?" * len(kinds))
        rows = self._c.execute(
            f"SELECT undo FROM album_actions WHERE undone=0 AND kind IN ({marks}) ORDER BY id", tuple(kinds)
        )
        return [r[0] for r in rows]
