"""An item of several files (RAW+JPEG, Live Photo) is exported whole, its files keeping one name stem."""

from __future__ import annotations

from pathlib import Path

from engine.catalog import Companion
from engine.paths import from_db, to_db
from tests.conftest import snapshot_tree
from tests.engine.albums.test_export import exportable  # noqa: F401 - the fixture


def test_an_items_other_files_are_exported_with_it(exportable, tmp_path: Path) -> None:  # noqa: F811
    library, photos, album = exportable
    shown = from_db(next(r.path for r in library.photos() if r.id == album.members[0]))
    raw = shown.with_suffix(".DNG")
    raw.write_bytes(b"raw sensor data")
    with library.catalog.transaction():
        library.catalog.set_companions(album.members[0], [Companion(to_db(raw), "raw", raw.stat().st_size, 1)])
    before = snapshot_tree(photos.root)
    out = tmp_path / "out"
    out.mkdir()
    (out / raw.name).write_bytes(b"someone else's file")  # taken: both files of the item get a new stem
    summary = library.export_album(album.name, out)
    assert summary.copied == album.size + 1 and not summary.missing
    assert (out / f"{shown.stem} (2){shown.suffix}").read_bytes() == shown.read_bytes()
    assert (out / f"{shown.stem} (2).DNG").read_bytes() == b"raw sensor data"
    assert (out / raw.name).read_bytes() == b"someone else's file"
    assert snapshot_tree(photos.root) == before
