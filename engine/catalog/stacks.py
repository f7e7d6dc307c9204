"""The stack tables: the machine's stacks (bursts and copies), what the rules read from thumbnails, the
user's stack decisions and their history.

This module is the only reader and writer of `stacks`, `stack_members`, `stack_features`, `stack_choices`
and `stack_actions`. The machine's stacks are replaced whole by each recompute (`replace`), keeping the id of
a stack that lives on; the user's decisions (`stack_choices`: taken apart, chosen cover) are read by the rules
and written only by user actions, each journaled (`action`) so that undo and redo put it back exactly.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from engine.catalog.connection import Connection

DONE, UNDONE, SUPERSEDED = 0, 1, 2

Choice = tuple[bool, float | None]  # (apart, cover chosen at)


@dataclass(frozen=True)
class StackRow:
    """One stack as stored: members are (hash, copy group) pairs."""

    id: int
    kind: str
    cover_hash: str
    members: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class NewStack:
    """A stack the machine found, to store."""

    kind: str
    cover_hash: str
    copies: dict[str, int]  # member hash → copy group


@dataclass
class ChoiceJournal:
    """What a stack action touched, as it was before (undo) or after it (redo): the user's choices
    (hash → (apart, cover_at), None for no row) and the stacks it changed (id → kind, cover and member copy
    groups, None for no stack), so that undo and redo put both back without recomputing."""

    choices: dict[str, Choice | None] = field(default_factory=dict)
    stacks: dict[int, NewStack | None] = field(default_factory=dict)

    def to_json(self) -> str:
        stacks = {
            str(k): {"kind": v.kind, "cover": v.cover_hash, "copies": v.copies} if v is not None else None
            for k, v in self.stacks.items()
        }
        choices = {h: list(c) if c is not None else None for h, c in self.choices.items()}
        return json.dumps({"choices": choices, "stacks": stacks})

    @classmethod
    def from_json(cls, text: str) -> ChoiceJournal:
        data = json.loads(text)
        return cls(
            {h: (bool(c[0]), c[1]) if c is not None else None for h, c in data["choices"].items()},
            {
                int(k): NewStack(v["kind"], v["cover"], {h: int(g) for h, g in v["copies"].items()})
                if v is not None
                else None
                for k, v in data["stacks"].items()
            },
        )


@dataclass(frozen=True)
class StackAction:
    """One stack action of the history, with the states undo and redo put back."""

    id: int
    kind: str
    description: str
    before: ChoiceJournal
    after: ChoiceJournal
    undone: int
    created_at: float


class StackTables:
    """Owner of the stack tables (`catalog.stacks`)."""

    def __init__(self, connection: Connection) -> None:
        self._c = connection
        self._journal: ChoiceJournal | None = None

    # -- the machine's stacks ----------------------------------------------------------------------

    def all(self) -> list[StackRow]:
        """Every stack, in id order."""
        members: dict[int, list[tuple[str, int]]] = {}
        for hash_, stack_id, group in self._c.execute(
            "SELECT hash, stack_id, copy_group FROM stack_members ORDER BY stack_id, copy_group, hash"
        ):
            members.setdefault(stack_id, []).append((hash_, group))
        rows = self._c.execute("SELECT id, kind, cover_hash FROM stacks ORDER BY id").fetchall()
        return [StackRow(r[0], r[1], r[2], tuple(members.get(r[0], ()))) for r in rows]

    def get(self, stack_id: int) -> StackRow | None:
        return next((s for s in self.all() if s.id == stack_id), None)

    def stack_of_hash(self) -> dict[str, int]:
        """hash → stack id, for every stacked content."""
        return dict(self._c.execute("SELECT hash, stack_id FROM stack_members").fetchall())

    def covers(self) -> dict[int, str]:
        """stack id → cover hash."""
        return dict(self._c.execute("SELECT id, cover_hash FROM stacks").fetchall())

    def replace(self, stacks: Sequence[NewStack]) -> list[int]:
        """Store a recompute's stacks in place of the old ones, in one transaction; a new stack that shares
        members with an old one keeps its id (the one it shares most with). Returns the ids, aligned."""
        with self._c.transaction():
            old = self.stack_of_hash()
            ids: list[int] = []
            taken: set[int] = set()
            now = time.time()
            for stack in stacks:
                overlap: dict[int, int] = {}
                for hash_ in stack.copies:
                    if hash_ in old and old[hash_] not in taken:
                        overlap[old[hash_]] = overlap.get(old[hash_], 0) + 1
                if overlap:
                    stack_id = max(overlap, key=lambda s: (overlap[s], -s))
                    self._c.execute(
                        "UPDATE stacks SET kind=?, cover_hash=?, updated_at=? WHERE id=?",
                        (stack.kind, stack.cover_hash, now, stack_id),
                    )
                else:
                    cur = self._c.execute(
                        "INSERT INTO stacks(kind, cover_hash, updated_at) VALUES(?,?,?)",
                        (stack.kind, stack.cover_hash, now),
                    )
                    stack_id = int(cur.lastrowid)
                taken.add(stack_id)
                ids.append(stack_id)
            self._c.execute("DELETE FROM stack_members")
            gone = set(old.values()) - taken
            self._c.executemany("DELETE FROM stacks WHERE id=?", [(s,) for s in sorted(gone)])
            self._c.executemany(
                "INSERT INTO stack_members(hash, stack_id, copy_group) VALUES(?,?,?)",
                [
                    (h, stack_id, g)
                    for stack, stack_id in zip(stacks, ids, strict=True)
                    for h, g in stack.copies.items()
                ],
            )
        return ids

    def dissolve(self, stack_id: int) -> None:
        """Take a stack apart (the user unstacked it; its members are marked apart as well)."""
        self._save_stack(stack_id)
        self._c.execute("DELETE FROM stacks WHERE id=?", (stack_id,))

    def set_cover(self, stack_id: int, hash_: str) -> None:
        """Show a member as the stack's cover (the user chose it; the choice is recorded as well)."""
        self._save_stack(stack_id)
        self._c.execute("UPDATE stacks SET cover_hash=?, updated_at=? WHERE id=?", (hash_, time.time(), stack_id))

    def _save_stack(self, stack_id: int) -> None:
        journal = self._journal
        if journal is not None and stack_id not in journal.stacks:
            journal.stacks[stack_id] = self._stored(stack_id)

    def _stored(self, stack_id: int) -> NewStack | None:
        row = self.get(stack_id)
        return NewStack(row.kind, row.cover_hash, dict(row.members)) if row is not None else None

    def _put(self, stack_id: int, stack: NewStack | None) -> None:
        """Write one stack back as journaled; members another stack took since leave it for this one."""
        self._c.execute("DELETE FROM stacks WHERE id=?", (stack_id,))
        if stack is None:
            return
        self._c.execute(
            "INSERT INTO stacks(id, kind, cover_hash, updated_at) VALUES(?,?,?,?)",
            (stack_id, stack.kind, stack.cover_hash, time.time()),
        )
        for hash_, group in stack.copies.items():
            self._c.execute(
                "INSERT OR REPLACE INTO stack_members(hash, stack_id, copy_group) VALUES(?,?,?)",
                (hash_, stack_id, group),
            )
        # A stack left with one content and no copies is no stack.
        self._c.execute(
            "DELETE FROM stacks WHERE id IN (SELECT s.id FROM stacks s WHERE (SELECT COUNT(*) FROM stack_members m"
            " WHERE m.stack_id = s.id) = 0)"
        )

    # -- what the rules read from thumbnails --------------------------------------------------------

    def features(self, hashes: Iterable[str]) -> dict[str, tuple[np.ndarray, float]]:
        """hash → (signature, sharpness) for the hashes that have them."""
        wanted = set(hashes)
        out = {}
        for hash_, blob, sharpness in self._c.execute("SELECT hash, signature, sharpness FROM stack_features"):
            if hash_ in wanted:
                out[hash_] = (np.frombuffer(blob, dtype="<f4"), float(sharpness))
        return out

    def put_features(self, rows: Iterable[tuple[str, np.ndarray, float]]) -> None:
        with self._c.transaction():
            self._c.executemany(
                "INSERT OR REPLACE INTO stack_features(hash, signature, sharpness) VALUES(?,?,?)",
                [(h, np.asarray(s, dtype="<f4").tobytes(), float(v)) for h, s, v in rows],
            )

    # -- the user's decisions -----------------------------------------------------------------------

    def choices(self) -> tuple[set[str], dict[str, float]]:
        """(hashes taken apart, chosen covers: hash → when chosen)."""
        apart: set[str] = set()
        covers: dict[str, float] = {}
        for hash_, is_apart, cover_at in self._c.execute("SELECT hash, apart, cover_at FROM stack_choices"):
            if is_apart:
                apart.add(hash_)
            if cover_at is not None:
                covers[hash_] = float(cover_at)
        return apart, covers

    def choice(self, hash_: str) -> Choice | None:
        row = self._c.execute("SELECT apart, cover_at FROM stack_choices WHERE hash=?", (hash_,)).fetchone()
        return (bool(row[0]), row[1]) if row else None

    def set_choice(self, hash_: str, choice: Choice | None) -> None:
        """Write (or, None, forget) a user decision; inside `action` it is journaled for undo."""
        journal = self._journal
        if journal is not None and hash_ not in journal.choices:
            journal.choices[hash_] = self.choice(hash_)
        if choice is None or (not choice[0] and choice[1] is None):
            self._c.execute("DELETE FROM stack_choices WHERE hash=?", (hash_,))
        else:
            self._c.execute(
                "INSERT OR REPLACE INTO stack_choices(hash, apart, cover_at) VALUES(?,?,?)",
                (hash_, int(choice[0]), choice[1]),
            )

    # -- actions and their history -------------------------------------------------------------------

    @contextmanager
    def action(self, kind: str, description: str) -> Iterator[ChoiceJournal]:
        """One user action on stacks, atomic and journaled; nothing is recorded when nothing changed."""
        with self._c.transaction():
            journal = ChoiceJournal()
            self._journal = journal
            try:
                yield journal
            finally:
                self._journal = None
            if not (journal.choices or journal.stacks):
                return
            after = ChoiceJournal(
                {h: self.choice(h) for h in journal.choices}, {s: self._stored(s) for s in journal.stacks}
            )
            self._c.execute("UPDATE stack_actions SET undone=? WHERE undone=?", (SUPERSEDED, UNDONE))
            self._c.execute(
                "INSERT INTO stack_actions(kind, description, undo, redo, created_at) VALUES(?,?,?,?,?)",
                (kind, description, journal.to_json(), after.to_json(), time.time()),
            )

    def apply(self, state: ChoiceJournal) -> None:
        """Put a journaled state back (undo or redo)."""
        for hash_, choice in state.choices.items():
            self.set_choice(hash_, choice)
        for stack_id, stack in state.stacks.items():
            self._put(stack_id, stack)

    def latest_done(self) -> StackAction | None:
        return self._record("WHERE undone=0 ORDER BY id DESC LIMIT 1")

    def next_to_redo(self) -> StackAction | None:
        return self._record("WHERE undone=1 ORDER BY id LIMIT 1")

    def mark(self, action_id: int, undone: int) -> None:
        self._c.execute("UPDATE stack_actions SET undone=? WHERE id=?", (undone, action_id))

    def supersede_redoable(self) -> None:
        """A newer action of another kind was done: undone stack actions can no longer be redone."""
        self._c.execute("UPDATE stack_actions SET undone=? WHERE undone=?", (SUPERSEDED, UNDONE))

    def history(self, limit: int) -> list[tuple[int, str, str, int, float]]:
        """(id, kind, description, undone, created_at) of the latest actions, newest first."""
        return self._c.execute(
            "SELECT id, kind, description, undone, created_at FROM stack_actions ORDER BY id DESC LIMIT ?", (limit,)
        ).fetchall()

    def _record(self, where: str) -> StackAction | None:
        row = self._c.execute(
            f"SELECT id, kind, description, undo, redo, undone, created_at FROM stack_actions {where}"
        ).fetchone()
        if row is None:
            return None
        return StackAction(
            row[0], row[1], row[2], ChoiceJournal.from_json(row[3]), ChoiceJournal.from_json(row[4]), row[5], row[6]
        )
