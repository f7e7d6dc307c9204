"""The album tables: albums, where each photo is placed (by content hash), and the action history.

This module is the only writer of `albums`, `album_members` and `album_actions`, and the one place that
states what the machine may change. The user's decisions are data here:
- a placement with source 'user' (a move, split, removal or merge) is the user's: the machine never
  replaces or deletes it (`machine_place`, `machine_add`);
- an album the user named, or pinned, keeps its name: automatic names never overwrite it
  (`set_machine_names`); a pinned album takes no new photos from the machine (`open_album_ids`);
- a pinned album's photos, and a user placement, follow a photo whose file was edited (`follow_edit`).
Which photos a re-cluster keeps where they are is planned in `engine.albums.reconcile`, from the states
this owner lists (`live_states`, `placements`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from engine.catalog.connection import Connection

# Album fields an action may change and its undo may restore.
ACTION_FIELDS = ("name", "user_named", "cover_hash", "cover_user", "pinned", "merged", "retired_at")

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


@dataclass(frozen=True)
class AlbumFlags:
    """What protects a live album from the machine."""

    pinned: bool
    merged: bool
    user_named: bool


@dataclass(frozen=True)
class MachineName:
    """An automatic album name with its confidence and runner-up candidates."""

    name: str
    confidence: float
    generic: bool
    alternatives: tuple[str, ...]


@dataclass(frozen=True)
class ActionRecord:
    """One entry of the action history, with the JSON that undoing it needs."""

    id: int
    kind: str
    description: str
    undo: str


class AlbumTables:
    """Owner of `albums`, `album_members` and `album_actions` (`catalog.albums`)."""

    def __init__(self, connection: Connection) -> None:
        self._c = connection

    # -- albums: reads ----------------------------------------------------------------------------

    def live(self) -> list[AlbumRow]:
        """Every album not retired, in id order."""
        rows = self._c.execute(
            "SELECT id, name, user_named, pinned, cover_hash, confidence, generic, alternatives FROM albums"
            " WHERE retired_at IS NULL ORDER BY id"
        )
        return [
            AlbumRow(r[0], r[1], bool(r[2]), bool(r[3]), r[4], r[5], bool(r[6]), tuple(json.loads(r[7]))) for r in rows
        ]

    def live_names(self) -> dict[int, str]:
        """Album id → name, for every live album."""
        return dict(self._c.execute("SELECT id, name FROM albums WHERE retired_at IS NULL ORDER BY id").fetchall())

    def live_states(self) -> dict[int, AlbumFlags]:
        """Album id → what protects it, for every live album."""
        rows = self._c.execute("SELECT id, pinned, merged, user_named FROM albums WHERE retired_at IS NULL")
        return {a: AlbumFlags(bool(p), bool(m), bool(u)) for a, p, m, u in rows}

    def frozen_names(self) -> dict[int, str]:
        """Live albums whose name the machine keeps (the user named or pinned them): id → name."""
        rows = self._c.execute("SELECT id, name FROM albums WHERE retired_at IS NULL AND (user_named=1 OR pinned=1)")
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

    def create(self, name: str, *, user_named: bool = False, cover_hash: str | None = None) -> int:
        """A new live album; the machine's albums start unnamed by the user."""
        now = time.time()
        cur = self._c.execute(
            "INSERT INTO albums(name, user_named, cover_hash, created_at, updated_at) VALUES(?,?,?,?,?)",
            (name, int(user_named), cover_hash, now, now),
        )
        return int(cur.lastrowid)

    def update(self, album_id: int, **values: object) -> None:
        """Set fields of an album (a user action, or an undo putting values back)."""
        assert values and set(values) <= set(ACTION_FIELDS)
        sets = ", ".join(f"{k}=?" for k in values)
        self._c.execute(f"UPDATE albums SET {sets}, updated_at=? WHERE id=?", (*values.values(), time.time(), album_id))

    def retire(self, album_ids: Iterable[int]) -> None:
        now = time.time()
        self._c.executemany(
            "UPDATE albums SET retired_at=?, updated_at=? WHERE id=?", [(now, now, a) for a in album_ids]
        )

    def revive(self, album_id: int) -> None:
        """Bring a retired album back (a user placement into it was restored)."""
        self._c.execute(
            "UPDATE albums SET retired_at=NULL, updated_at=? WHERE id=? AND retired_at IS NOT NULL",
            (time.time(), album_id),
        )

    def rename_quietly(self, album_id: int, name: str) -> None:
        """Change a name to keep live names distinct (a qualifier after an undo), not an action of its own."""
        self._c.execute("UPDATE albums SET name=? WHERE id=?", (name, album_id))

    def set_machine_names(self, names: dict[int, MachineName]) -> None:
        """Store automatic names; an album the user named, or pinned, keeps its name."""
        now = time.time()
        self._c.executemany(
            "UPDATE albums SET name=?, confidence=?, generic=?, alternatives=?, updated_at=?"
            " WHERE id=? AND user_named=0 AND pinned=0",
            [
                (n.name, float(n.confidence), int(n.generic), json.dumps(list(n.alternatives)), now, album_id)
                for album_id, n in names.items()
            ],
        )

    def set_machine_cover(self, album_id: int, cover_hash: str) -> None:
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

    def other_share(self, model_id: int) -> float:
        """The share of the embedded contents that sit in no live album."""
        total, placed = self._c.execute(
            "SELECT COUNT(DISTINCT p.hash), COUNT(DISTINCT m.hash) FROM photos p"
            " JOIN embeddings e ON e.hash = p.hash AND e.model_id = ?"
            " LEFT JOIN album_members m ON m.hash = p.hash AND m.album_id IS NOT NULL"
            " AND m.album_id IN (SELECT id FROM albums WHERE retired_at IS NULL)",
            (model_id,),
        ).fetchone()
        return 0.0 if not total else 1.0 - placed / total

    # -- placements: writes -----------------------------------------------------------------------

    def place(self, hash_: str, album_id: int | None, source: str) -> None:
        """The user's placement (source 'user'), or an undo putting a placement back as it was."""
        self._c.execute(
            "INSERT OR REPLACE INTO album_members(hash, album_id, source, updated_at) VALUES(?,?,?,?)",
            (hash_, album_id, source, time.time()),
        )

    def unplace(self, hash_: str) -> None:
        """Forget a placement (an undo of the action that made it)."""
        self._c.execute("DELETE FROM album_members WHERE hash=?", (hash_,))

    def machine_place(self, hash_: str, album_id: int | None) -> None:
        """The machine's placement after a re-cluster: a photo the user placed is never moved, and a photo of
        a pinned album never leaves it; None takes the machine's placement away (the photo is in Other)."""
        if album_id is None:
            self._c.execute(
                "DELETE FROM album_members WHERE hash=? AND source='auto'"
                " AND album_id NOT IN (SELECT id FROM albums WHERE pinned=1)",
                (hash_,),
            )
            return
        self._c.execute(
            "INSERT INTO album_members(hash, album_id, source, updated_at) VALUES(?,?,'auto',?)"
            " ON CONFLICT(hash) DO UPDATE SET album_id=excluded.album_id, source='auto',"
            " updated_at=excluded.updated_at WHERE album_members.source='auto' AND (album_members.album_id IS NULL"
            " OR album_members.album_id NOT IN (SELECT id FROM albums WHERE pinned=1))",
            (hash_, album_id, time.time()),
        )

    def machine_add(self, hash_: str, album_id: int) -> bool:
        """A new photo joins an album; a photo already placed (by anyone) stays where it is."""
        cur = self._c.execute(
            "INSERT OR IGNORE INTO album_members(hash, album_id, source, updated_at) VALUES(?,?,'auto',?)",
            (hash_, album_id, time.time()),
        )
        return cur.rowcount > 0

    def follow_edit(self, old_hash: str, new_hash: str) -> bool:
        """A photo's file was edited in place: the user's placement of it, or a pinned album's hold on it,
        follows the new content (True); a machine placement does not, so the next assignment weighs it again
        (False). The old content's placement stays, in case that content comes back."""
        row = self._c.execute(
            "SELECT m.album_id, m.source, COALESCE(a.pinned, 0) FROM album_members m"
            " LEFT JOIN albums a ON a.id = m.album_id WHERE m.hash=?",
            (old_hash,),
        ).fetchone()
        if row is None or not (row[1] == "user" or row[2]):
            return False
        self._c.execute(
            "INSERT OR IGNORE INTO album_members(hash, album_id, source, updated_at) VALUES(?,?,?,?)",
            (new_hash, row[0], row[1], time.time()),
        )
        return True

    # -- action history ---------------------------------------------------------------------------

    def record_action(self, kind: str, description: str, undo: str) -> None:
        self._c.execute(
            "INSERT INTO album_actions(kind, description, undo, created_at) VALUES(?,?,?,?)",
            (kind, description, undo, time.time()),
        )

    def latest_action(self) -> ActionRecord | None:
        """The latest action not yet undone."""
        row = self._c.execute(
            "SELECT id, kind, description, undo FROM album_actions WHERE undone=0 ORDER BY id DESC LIMIT 1"
        ).fetchone()
        return ActionRecord(*row) if row else None

    def mark_undone(self, action_id: int) -> None:
        self._c.execute("UPDATE album_actions SET undone=1 WHERE id=?", (action_id,))

    def history(self, limit: int) -> list[tuple[int, str, bool]]:
        """The latest actions: (id, description, undone)."""
        rows = self._c.execute(
            "SELECT id, description, undone FROM album_actions ORDER BY id DESC LIMIT ?", (limit,)
        ).fetchall()
        return [(r[0], r[1], bool(r[2])) for r in rows]

    def standing_undo_records(self, kinds: Sequence[str]) -> list[str]:
        """The undo JSON of every action of these kinds not undone, oldest first."""
        marks = ",".join("?" * len(kinds))
        rows = self._c.execute(
            f"SELECT undo FROM album_actions WHERE undone=0 AND kind IN ({marks}) ORDER BY id", tuple(kinds)
        )
        return [r[0] for r in rows]
