"""Exporting an album: copies or links, never overwriting, never into the library's folders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine.errors import InvalidInputError
from engine.paths import from_db
from tests.conftest import snapshot_tree
from tests.engine.albums.test_album_properties import FakePhotos, fake_photos, use_fake_clusterer


@pytest.fixture
def exportable(library, monkeypatch) -> tuple[object, FakePhotos, object]:
    """Two albums of fake photos whose originals are real files; returns (library, photos, largest album)."""
    use_fake_clusterer(monkeypatch)
    photos = fake_photos(library, seed=2, blobs=2)
    photos.add([0] * 7 + [1] * 5, files=True)
    library.recluster(k=2)
    return library, photos, library.albums.albums()[0]


def originals(library, album) -> dict[int, Path]:
    paths = {r.id: from_db(r.path) for r in library.photos()}
    return {photo_id: paths[photo_id] for photo_id in album.members}


def test_copy(exportable, tmp_path: Path) -> None:
    library, photos, album = exportable
    before = snapshot_tree(photos.root)
    summary = library.export_album(album.name, tmp_path / "out" / "new folder")
    assert summary.copied == album.size == 7 and summary.linked == 0 and not summary.missing
    out = tmp_path / "out" / "new folder"
    for path in originals(library, album).values():
        copy = out / path.name
        assert copy.read_bytes() == path.read_bytes() and not copy.is_symlink()
        assert copy.stat().st_ino != path.stat().st_ino
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in originals(library, album).values())
    assert snapshot_tree(photos.root) == before, "originals are never written"
    assert summary.lines()[0].startswith("exported to") and "7 copied" in summary.lines()[0]


def test_hard_links(exportable, tmp_path: Path) -> None:
    library, _, album = exportable
    summary = library.export_album(album.id, tmp_path / "out", link="hard")
    assert summary.linked == 7 and summary.copied == 0
    for path in originals(library, album).values():
        assert os.path.samefile(tmp_path / "out" / path.name, path)
    assert "7 linked" in summary.lines()[0]


def test_symbolic_links(exportable, tmp_path: Path) -> None:
    library, _, album = exportable
    summary = library.export_album(album.id, tmp_path / "out", link="sym")
    assert summary.linked == 7
    for path in originals(library, album).values():
        link = tmp_path / "out" / path.name
        assert link.is_symlink() and Path(os.readlink(link)) == path and link.read_bytes() == path.read_bytes()


def test_name_collisions_are_renamed_and_nothing_is_overwritten(exportable, tmp_path: Path) -> None:
    library, _, album = exportable
    out = tmp_path / "out"
    out.mkdir()
    first, second = sorted(originals(library, album).values())[:2]
    (out / first.name).write_bytes(b"mine")
    (out / f"{first.stem} (2){first.suffix}").write_bytes(b"mine too")
    (out / f"{second.name}.partial").write_bytes(b"my own partial file")
    summary = library.export_album(album.id, out)
    assert summary.copied == 7 and summary.renamed == 1
    assert (out / first.name).read_bytes() == b"mine"
    assert (out / f"{first.stem} (2){first.suffix}").read_bytes() == b"mine too"
    assert (out / f"{first.stem} (3){first.suffix}").read_bytes() == first.read_bytes()
    assert (out / f"{second.name}.partial").read_bytes() == b"my own partial file"
    assert (out / second.name).read_bytes() == second.read_bytes()
    assert "1 renamed" in summary.lines()[0]
    # Exporting again renames every photo rather than overwrite the first export.
    files = snapshot_tree(out)
    again = library.export_album(album.id, out, link="sym")
    assert again.linked == 7 and again.renamed == 7
    assert {p: b for p, b in snapshot_tree(out).items() if p in files} == files
    assert not [p for p in out.iterdir() if p.name.endswith(".partial") and p.name != f"{second.name}.partial"]


def test_photos_with_the_same_file_name_both_exported(exportable, tmp_path: Path) -> None:
    library, photos, album = exportable
    a, b = album.members[:2]
    paths = originals(library, album)
    twin = photos.root / "other folder" / paths[a].name
    twin.parent.mkdir()
    twin.write_bytes(b"a different photo with the same name")
    with library.catalog.transaction() as db:
        db.execute("UPDATE photos SET path=? WHERE id=?", (bytes(twin), b))
    summary = library.export_album(album.id, tmp_path / "out")
    assert summary.copied == 7 and summary.renamed == 1
    exported = {p.read_bytes() for p in (tmp_path / "out").iterdir()}
    assert twin.read_bytes() in exported and paths[a].read_bytes() in exported


def test_missing_original_is_reported_and_the_others_exported(exportable, tmp_path: Path) -> None:
    library, _, album = exportable
    gone = originals(library, album)[album.members[3]]
    gone.unlink()
    summary = library.export_album(album.id, tmp_path / "out")
    assert summary.copied == 6 and len(summary.missing) == 1 and gone.name in summary.missing[0]
    assert not (tmp_path / "out" / gone.name).exists()
    assert any("not exported" in line and gone.name in line for line in summary.lines())


@pytest.mark.parametrize(
    "where",
    ["the photo folder", "inside the photo folder", "the library folder", "inside the library folder", "link"],
)
def test_export_into_the_library_is_refused_with_nothing_written(exportable, tmp_path: Path, where: str) -> None:
    library, photos, album = exportable
    destination = {
        "the photo folder": photos.root,
        "inside the photo folder": photos.root / "export",
        "the library folder": library.directory,
        "inside the library folder": library.directory / "export" / "deeper",
        "link": tmp_path / "innocent-looking",
    }[where]
    if where == "link":
        destination.symlink_to(photos.root / "sub", target_is_directory=True)
    before_photos, before_library = snapshot_tree(photos.root), snapshot_tree(library.directory)
    with pytest.raises(InvalidInputError, match="never writes to"):
        library.export_album(album.id, destination)
    assert snapshot_tree(photos.root) == before_photos and snapshot_tree(library.directory) == before_library
    assert not (photos.root / "export").exists() and not (photos.root / "sub").exists()
    assert not (library.directory / "export").exists()


def test_bad_export_arguments(exportable, tmp_path: Path) -> None:
    library, _, album = exportable
    a_file = tmp_path / "a file"
    a_file.write_bytes(b"x")
    with pytest.raises(InvalidInputError, match="not a folder"):
        library.export_album(album.id, a_file)
    with pytest.raises(InvalidInputError, match="cannot create"):
        library.export_album(album.id, a_file / "below a file")
    with pytest.raises(InvalidInputError, match="no album"):
        library.export_album("no such album", tmp_path / "out")
    with pytest.raises(InvalidInputError, match="--link"):
        library.export_album(album.id, tmp_path / "out", link="soft")
    assert not (tmp_path / "out").exists() and a_file.read_bytes() == b"x"
