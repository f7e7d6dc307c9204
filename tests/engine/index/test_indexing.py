"""Rescans, moves, edits, deletions, copies and resuming after an interruption."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

import engine.media.decode
from engine.errors import Cancelled
from engine.paths import display
from engine.progress import RecordingProgress


def by_name(library) -> dict[str, object]:
    return {os.path.basename(display(r.path)): r for r in library.photos()}


@pytest.fixture
def root(tmp_path: Path, make_photo) -> Path:
    folder = tmp_path / "photos"
    for i in range(6):
        make_photo(folder / f"p{i}.jpg", color=(40 * i, 100, 200 - 30 * i), taken=dt.datetime(2021, 5, i + 1, 12))
    return folder


def test_index_catalogs_thumbnails_and_embeds_everything(library, root: Path) -> None:
    summary = library.index([root])
    assert (summary.added, summary.embedded, summary.removed) == (6, 6, 0)
    rows = library.photos()
    assert all(r.embedded for r in rows)
    assert [r.taken_at for r in rows] == [f"2021-05-0{i + 1}T12:00:00" for i in range(6)]
    _, vectors = library.embeddings()
    assert vectors.shape == (6, 32) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    for r in rows:
        assert library.thumbnails.exists(r.hash)


def test_unchanged_files_are_not_read_again(library, root: Path, monkeypatch) -> None:
    library.index([root])
    reads: list[Path] = []
    real = engine.media.decode.read_snapshot
    monkeypatch.setattr(engine.media.decode, "read_snapshot", lambda p: reads.append(p) or real(p))
    summary = library.index()  # no paths: rescan the known roots
    assert summary.unchanged == 6 and reads == []


def test_moved_and_renamed_files_keep_their_identity(library, root: Path, monkeypatch) -> None:
    library.index([root])
    before = by_name(library)
    (root / "sub").mkdir()
    os.rename(root / "p1.jpg", root / "sub" / "moved.jpg")
    os.rename(root / "p2.jpg", root / "renamed.jpg")
    summary = library.index([root])
    after = by_name(library)
    assert summary.moved == 2 and summary.added == 0 and summary.removed == 0 and summary.embedded == 0
    assert after["moved.jpg"].id == before["p1.jpg"].id
    assert after["renamed.jpg"].id == before["p2.jpg"].id
    assert "p1.jpg" not in after


def test_edited_file_gets_a_new_embedding(library, root: Path, make_photo) -> None:
    library.index([root])
    old = by_name(library)["p3.jpg"]
    make_photo(root / "p3.jpg", size=(80, 60), color=(1, 250, 1))
    summary = library.index([root])
    new = by_name(library)["p3.jpg"]
    assert summary.updated == 1 and summary.embedded == 1
    assert new.id == old.id and new.hash != old.hash and new.embedded and (new.width, new.height) == (80, 60)


def test_deleted_files_leave_the_catalog_but_never_the_disk(library, root: Path) -> None:
    library.index([root])
    (root / "p4.jpg").unlink()
    summary = library.index([root])
    assert summary.removed == 1 and "p4.jpg" not in by_name(library)
    assert len(list(root.iterdir())) == 5


def test_unmounted_root_keeps_its_photos(library, root: Path, tmp_path: Path) -> None:
    library.index([root])
    shutil.move(root, tmp_path / "elsewhere")
    summary = library.index()
    assert summary.unavailable_roots and summary.removed == 0 and len(library.photos()) == 6


def test_copies_share_one_embedding(library, root: Path) -> None:
    shutil.copyfile(root / "p0.jpg", root / "copy-of-p0.jpg")
    summary = library.index([root])
    rows = by_name(library)
    assert summary.added == 7 and rows["copy-of-p0.jpg"].hash == rows["p0.jpg"].hash
    assert rows["copy-of-p0.jpg"].embedded


def test_cancelled_index_resumes_without_duplicates_or_losses(library, root: Path, make_photo) -> None:
    for i in range(40):
        make_photo(root / "many" / f"m{i:02d}.jpg", color=(i * 6, 255 - i * 6, 90))
    library.update_settings(library.settings.replace(batch_size=8))
    with pytest.raises(Cancelled):
        library.index([root], progress=RecordingProgress(cancel_after=20))
    partial = len(library.photos())
    assert 0 < partial < 46
    summary = library.index([root])
    rows = library.photos()
    assert len(rows) == 46 and len({display(r.path) for r in rows}) == 46
    assert all(r.embedded for r in rows)
    assert summary.added == 46 - partial


def test_crash_mid_batch_loses_only_the_uncommitted_batch(library, root: Path, monkeypatch) -> None:
    real = library.embedder().embed_images
    calls = {"n": 0}

    def crash_on_second_batch(batch):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt  # as if the user pressed Ctrl-C right inside the model call
        return real(batch)

    library.update_settings(library.settings.replace(batch_size=2))
    monkeypatch.setattr(library.embedder(), "embed_images", crash_on_second_batch)
    with pytest.raises(KeyboardInterrupt):
        library.index([root])
    assert len(library.photos()) == 2
    monkeypatch.undo()
    library.index([root])
    assert len(library.photos()) == 6 and all(r.embedded for r in library.photos())


def test_index_without_model_catalogs_and_embeds_later(library, root: Path) -> None:
    summary = library.index([root], embed=False)
    assert summary.added == 6 and not any(r.embedded for r in library.photos())
    summary = library.index()
    assert summary.embedded == 6 and all(r.embedded for r in library.photos())


def test_photo_folder_inside_library_folder_is_refused(library) -> None:
    from engine.errors import InvalidInputError

    inner = library.directory / "thumbnails"
    inner.mkdir(exist_ok=True)
    with pytest.raises(InvalidInputError):
        library.index([inner])
