"""The embedding tables: models, image embeddings (by content hash), thumbnails and vocabulary text features."""

from __future__ import annotations

import time
from collections.abc import Iterable

import numpy as np

from engine.catalog.connection import Connection


class EmbeddingTables(Connection):
    """Owner of `models`, `embeddings`, `thumbnails` and `term_embeddings`; mixed into `Catalog`."""

    # -- models and embeddings -------------------------------------------------------------------

    def model_id(self, key: str, dim: int) -> int:
        """The id of a model by its identity key, registering it if new."""
        with self.transaction() as db:
            db.execute("INSERT OR IGNORE INTO models(key, dim, added_at) VALUES(?,?,?)", (key, dim, time.time()))
            return db.execute("SELECT id FROM models WHERE key=?", (key,)).fetchone()[0]

    def find_model_id(self, key: str) -> int | None:
        row = self._db.execute("SELECT id FROM models WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def put_embeddings(self, model_id: int, items: Iterable[tuple[str, np.ndarray]]) -> None:
        self._db.executemany(
            "INSERT OR REPLACE INTO embeddings(hash, model_id, vector) VALUES(?,?,?)",
            [(h, model_id, np.asarray(v, dtype="<f4").tobytes()) for h, v in items],
        )

    def embeddings(self, model_id: int) -> tuple[np.ndarray, np.ndarray]:
        """Photo ids and their embeddings (rows aligned) for every embedded photo."""
        rows = self._db.execute(
            "SELECT p.id, e.vector FROM photos p JOIN embeddings e ON e.hash=p.hash AND e.model_id=? ORDER BY p.id",
            (model_id,),
        ).fetchall()
        ids = np.array([r[0] for r in rows], dtype=np.int64)
        if not rows:
            return ids, np.zeros((0, 0), dtype=np.float32)
        return ids, np.stack([np.frombuffer(r[1], dtype="<f4") for r in rows]).astype(np.float32)

    # -- vocabulary text features ---------------------------------------------------------------

    def put_term_embeddings(self, model_id: int, items: Iterable[tuple[str, np.ndarray]]) -> None:
        """Store prompt-ensemble text features by the digest of their prompts."""
        with self.transaction():
            self.executemany(
                "INSERT OR REPLACE INTO term_embeddings(model_id, prompt_key, vector) VALUES(?,?,?)",
                [(model_id, key, np.asarray(v, dtype="<f4").tobytes()) for key, v in items],
            )

    def term_embeddings(self, model_id: int, keys: set[str]) -> dict[str, np.ndarray]:
        """The cached text features among `keys`."""
        rows = self._db.execute("SELECT prompt_key, vector FROM term_embeddings WHERE model_id=?", (model_id,))
        return {key: np.frombuffer(blob, dtype="<f4") for key, blob in rows if key in keys}

    def term_keys(self, model_id: int) -> set[str]:
        """The prompt keys whose text features are cached for the model (no vector is read)."""
        rows = self._db.execute("SELECT prompt_key FROM term_embeddings WHERE model_id=?", (model_id,))
        return {key for (key,) in rows}

    # -- thumbnails ------------------------------------------------------------------------------

    def put_thumbnail(self, hash_: str, relpath: str, width: int, height: int) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO thumbnails(hash, path, width, height, created_at) VALUES(?,?,?,?,?)",
            (hash_, relpath, width, height, time.time()),
        )

    def thumbnail_path(self, hash_: str) -> str | None:
        row = self._db.execute("SELECT path FROM thumbnails WHERE hash=?", (hash_,)).fetchone()
        return row[0] if row else None
