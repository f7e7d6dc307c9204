"""The catalog's one SQLite connection and its transactions, shared by every table owner."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager


class Connection:
    """One SQLite connection in autocommit mode; writes go inside `transaction`."""

    _db: sqlite3.Connection

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic batch: everything inside commits together or not at all."""
        if self._db.in_transaction:  # nested use joins the outer transaction
            yield self._db
            return
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def execute(self, sql: str, params: Iterable[object] = ()) -> sqlite3.Cursor:
        """Run one statement; for the table owners and for tests (engine code outside `catalog/` never
        writes SQL: it calls the owners' named methods)."""
        return self._db.execute(sql, tuple(params))

    def executemany(self, sql: str, rows: Iterable[Iterable[object]]) -> sqlite3.Cursor:
        """Run one statement for each row of parameters."""
        return self._db.executemany(sql, [tuple(r) for r in rows])
