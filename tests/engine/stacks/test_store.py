"""Stacks on a real catalog: recompute, the Duplicates list, unstack and cover choices, undo and redo."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.albums.store import AlbumStore
from engine.catalog import Catalog, PhotoMeta
from engine.errors import InvalidInputError
from engine.media.thumbnails import ThumbnailCache
from engine.stacks.build import update_stacks
from engine.stacks.fold import representatives
from engine.stacks.store import StackStore
from tests.engine.stacks.test_rules import near, unit

DIM = 32


def jpeg(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB").save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


@dataclass
class Shelf:
    """A catalog with photos written directly: a content hash, its files, a CLIP vector and a thumbnail."""

    catalog: Catalog
    thumbnails: ThumbnailCache
    root: Path
    model_id: int
    rng: np.random.Generator = field(default_factory=lambda: np.random.default_rng(0))
    count: int = 0

    def photo(
        self,
        vector: np.ndarray,
        picture: np.ndarray,
        taken: str | None,
        size: tuple[int, int] = (480, 480),
        copies: int = 1,
    ) -> list[int]:
        """One content (hash) in `copies` files."""
        self.count += 1
        hash_ = f"h{self.count:04d}"
        root_id = self.catalog.add_root(bytes(self.root))
        ids = []
        with self.catalog.transaction():
            for c in range(copies):
                path = self.root / f"folder{c}" / f"p{self.count:04d}.jpg"
                meta = PhotoMeta(size[0], size[1], taken, "exif", None, None)
                ids.append(self.catalog.insert_photo(root_id, bytes(path), 1000 * self.count + c, 1, hash_, meta))
            self.catalog.put_embeddings(self.model_id, [(hash_, vector)])
        self.thumbnails.write(hash_, jpeg(picture))
        return ids

    def scene(self) -> tuple[np.ndarray, np.ndarray]:
        return unit(self.rng, DIM), self.rng.uniform(0, 255, (8, 8, 3)).repeat(16, 0).repeat(16, 1)

    def burst(self, frames: int, start: int, blurred: int | None = None) -> list[int]:
        vector, picture = self.scene()
        ids = []
        for f in range(frames):
            frame = picture + self.rng.normal(0, 2, picture.shape)
            if f == blurred:
                frame = np.asarray(
                    Image.fromarray(frame.clip(0, 255).astype(np.uint8)).resize((16, 16)).resize((128, 128)),
                    dtype=np.float32,
                )
            when = f"2023-07-01T10:{start:02d}:{f:02d}"
            ids += self.photo(near(vector, self.rng, 0.99), frame, when)
        return ids

    def update(self) -> None:
        update_stacks(self.catalog, self.model_id, self.thumbnails)


@pytest.fixture
def shelf(tmp_path: Path):
    catalog = Catalog(tmp_path / "catalog.sqlite")
    yield Shelf(catalog, ThumbnailCache(tmp_path / "thumbs"), tmp_path / "photos", catalog.model_id("fake", DIM))
    catalog.close()


def test_bursts_and_exact_copies_are_stacked_and_distinct_photos_are_not(shelf: Shelf) -> None:
    burst = shelf.burst(4, start=0, blurred=1)
    copies = shelf.photo(*shelf.scene(), "2023-07-02T10:00:00", copies=3)
    alone = [shelf.photo(*shelf.scene(), f"2023-07-01T10:00:0{i}")[0] for i in range(2)]  # seconds from the burst
    shelf.update()
    store = StackStore(shelf.catalog)
    stacks = {s.kind: s for s in store.stacks()}
    assert set(stacks) == {"burst", "duplicate"}
    assert set(stacks["burst"].photos) == set(burst)
    assert stacks["burst"].cover != burst[1], "the blurred frame is never the cover"
    assert set(stacks["duplicate"].photos) == set(copies)
    of = store.stack_of_photo()
    assert all(p not in of for p in alone)
    (exact,) = store.duplicates()
    assert exact.kind == "exact" and {f.photo_id for f in exact.files} == set(copies)
    assert exact.wasted_bytes == sum(f.size for f in exact.files[1:])


def test_a_recompute_keeps_stack_ids(shelf: Shelf) -> None:
    shelf.burst(3, start=0)
    shelf.update()
    (before,) = StackStore(shelf.catalog).stacks()
    shelf.burst(3, start=5)
    shelf.update()
    ids = [s.id for s in StackStore(shelf.catalog).stacks()]
    assert before.id in ids and len(ids) == 2


def test_unstack_is_kept_by_the_machine_and_undone_and_redone(shelf: Shelf) -> None:
    shelf.burst(3, start=0)
    shelf.update()
    stacks, albums = StackStore(shelf.catalog), AlbumStore(shelf.catalog)
    (stack,) = stacks.stacks()
    stacks.unstack(stack.id)
    assert stacks.stacks() == []
    shelf.update()
    assert stacks.stacks() == [], "a recompute never stacks what the user took apart"
    assert albums.history()[0].description.startswith("Unstack 3 photos")
    assert albums.undo().startswith("Unstack")
    assert [s.photos for s in stacks.stacks()] == [stack.photos]
    shelf.update()
    assert [s.id for s in stacks.stacks()] == [stack.id]
    assert albums.redo().startswith("Unstack")
    assert stacks.stacks() == []
    assert albums.undo() and albums.undo() is None


def test_a_chosen_cover_survives_a_recompute_and_is_undone(shelf: Shelf) -> None:
    burst = shelf.burst(3, start=0)
    shelf.update()
    stacks = StackStore(shelf.catalog)
    machine = stacks.stacks()[0].cover
    chosen = next(p for p in burst if p != machine)
    assert stacks.set_cover(chosen) == stacks.stacks()[0].id
    assert stacks.stacks()[0].cover == chosen
    shelf.update()
    assert stacks.stacks()[0].cover == chosen
    AlbumStore(shelf.catalog).undo()
    assert stacks.stacks()[0].cover == machine
    shelf.update()
    assert stacks.stacks()[0].cover == machine


def test_refusals_name_what_is_wrong(shelf: Shelf) -> None:
    (single,) = shelf.photo(*shelf.scene(), None)
    shelf.update()
    stacks = StackStore(shelf.catalog)
    with pytest.raises(InvalidInputError, match="no stack 7"):
        stacks.unstack(7)
    with pytest.raises(InvalidInputError, match="in no stack"):
        stacks.set_cover(single)
    with pytest.raises(InvalidInputError, match="no photo with id 999"):
        stacks.set_cover(999)


def test_clustering_fits_one_representative_per_stack(shelf: Shelf) -> None:
    burst = shelf.burst(4, start=0)
    (single,) = shelf.photo(*shelf.scene(), None)
    shelf.update()
    by_id = shelf.catalog.hashes_by_id()
    hashes = [by_id[p] for p in [*burst, single]]
    rep = representatives(shelf.catalog, hashes)
    cover = by_id[StackStore(shelf.catalog).stacks()[0].cover]
    assert {rep[h] for h in hashes[:4]} == {cover}
    assert rep[hashes[4]] == hashes[4]


def test_stack_and_album_actions_share_one_history(shelf: Shelf) -> None:
    burst = shelf.burst(3, start=0)
    (single,) = shelf.photo(*shelf.scene(), None)
    shelf.update()
    stacks, albums = StackStore(shelf.catalog), AlbumStore(shelf.catalog)
    albums.split([single], "Mine")
    (stack,) = stacks.stacks()
    stacks.unstack(stack.id)
    kinds = [e.kind for e in albums.history()]
    assert kinds[:2] == ["unstack", "split"]
    assert albums.history()[0].id < 0 < albums.history()[1].id, "one id names one action"
    assert albums.undo().startswith("Unstack") and len(stacks.stacks()) == 1
    assert albums.undo().startswith("New album") and [a.name for a in albums.albums() if a.id] == []
    assert albums.redo().startswith("New album")
    assert albums.redo().startswith("Unstack") and stacks.stacks() == []
    assert albums.redo() is None
    # A new album action after undoing a stack action: the stack action can no longer be redone.
    albums.undo()
    albums.rename("Mine", "Ours")
    assert albums.redo() is None
    assert [s.photos for s in stacks.stacks()] == [stack.photos]
    assert set(burst) == set(stack.photos)
