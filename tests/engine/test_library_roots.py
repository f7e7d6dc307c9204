"""Folder verbs of the facade: removing a photo folder and retrying skipped files (the window's Settings and
Skipped files dialog use them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import InvalidInputError
from tests.conftest import snapshot_tree


def test_removing_a_folder_forgets_its_photos_and_touches_no_file(library, make_photo, tmp_path: Path) -> None:
    kept, dropped = tmp_path / "photos" / "kept", tmp_path / "photos" / "dropped"
    for i in range(3):
        make_photo(kept / f"k{i}.jpg", color=(200, 30 * i, 30))
        make_photo(dropped / f"d{i}.jpg", color=(30, 30 * i, 200))
    (dropped / "broken.jpg").write_bytes(b"not an image")
    library.index([kept, dropped], embed=False)
    files = snapshot_tree(tmp_path / "photos")
    assert library.skipped_files() and len(library.photos()) == 6

    assert library.remove_root(dropped) == 3
    assert library.roots() == [kept.resolve()]
    assert sorted(p.path for p in library.photos()) == sorted(bytes(p) for p in sorted(kept.glob("*.jpg")))
    assert library.skipped_files() == []  # its skipped files go with it
    assert snapshot_tree(tmp_path / "photos") == files, "originals are never touched"
    with pytest.raises(InvalidInputError, match="not one of this library's folders"):
        library.remove_root(dropped)


def test_try_again_reads_a_fixed_file_and_keeps_a_broken_one(library, make_photo, tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    make_photo(folder / "fine.jpg")
    (folder / "later.jpg").write_bytes(b"")
    (folder / "broken.jpg").write_bytes(b"not an image")
    library.index([folder], embed=False)
    assert {s.path.name for s in library.skipped_files()} == {"later.jpg", "broken.jpg"}
    make_photo(folder / "later.jpg", color=(10, 200, 10))  # the copy finished
    library.retry_skipped([s.path for s in library.skipped_files()], embed=False)
    assert {s.path.name for s in library.skipped_files()} == {"broken.jpg"}
    assert len(library.photos()) == 2
