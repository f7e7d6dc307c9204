"""Videos, RAW files, RAW+JPEG pairs and Live Photos indexed like photos: one item each, embedded, resumable,
bad ones skipped with a reason, originals untouched; changes to one file of a pair change the item."""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path

import numpy as np
import pytest

import engine.media.video
from engine.paths import display
from tests.conftest import snapshot_tree
from tests.media_files import picture, solid_frames, write_audio_only, write_dng, write_video

pytest.importorskip("av")
pytest.importorskip("rawpy")

AN_HOUR_AGO = time.time() - 3600


def items(library) -> dict[str, object]:
    return {os.path.basename(display(r.path)): r for r in library.photos()}


def skips(library) -> dict[str, str]:
    return {os.path.basename(display(p)): reason for p, reason, _ in library.catalog.skipped()}


def age(*paths: Path) -> None:
    for path in paths:
        os.utime(path, (AN_HOUR_AGO, AN_HOUR_AGO))


@pytest.fixture
def root(tmp_path: Path, make_photo) -> Path:
    folder = tmp_path / "photos"
    make_photo(folder / "still.jpg", color=(200, 30, 30), taken=dt.datetime(2022, 1, 1, 12))
    write_video(folder / "clip.mp4", solid_frames((30, 200, 40)), count=30, creation_time="2022-02-02T10:00:00Z")
    write_dng(folder / "alone.dng", picture((20, 20, 200), seed_path=folder / "alone.dng"))
    make_photo(folder / "IMG_2.JPG", color=(30, 30, 200), taken=dt.datetime(2022, 3, 3, 12))
    write_dng(folder / "IMG_2.DNG", picture((30, 30, 200), seed_path=folder / "IMG_2.DNG"))
    make_photo(folder / "IMG_3.jpg", color=(220, 220, 20), taken=dt.datetime(2022, 4, 4, 12))
    write_video(folder / "IMG_3.MOV", solid_frames((220, 220, 20), mark=3), count=25)
    write_audio_only(folder / "voice.m4v")
    data = (folder / "clip.mp4").read_bytes()
    (folder / "cut.mp4").write_bytes(data[: len(data) // 2])
    age(folder / "voice.m4v", folder / "cut.mp4")
    return folder


def test_every_kind_becomes_one_item_embedded_like_a_photo(library, root: Path) -> None:
    before = snapshot_tree(root)
    summary = library.index([root])
    found = items(library)
    assert set(found) == {"still.jpg", "clip.mp4", "alone.dng", "IMG_2.JPG", "IMG_3.jpg"}
    assert {name: r.kind for name, r in found.items()} == {
        "still.jpg": "photo",
        "clip.mp4": "video",
        "alone.dng": "raw",
        "IMG_2.JPG": "raw",
        "IMG_3.jpg": "live",
    }
    assert found["clip.mp4"].duration == pytest.approx(3.0, abs=0.2)
    assert found["IMG_3.jpg"].duration == pytest.approx(2.5, abs=0.2)
    assert [os.path.basename(display(p)) for p in found["IMG_2.JPG"].companions] == ["IMG_2.DNG"]
    assert [os.path.basename(display(p)) for p in found["IMG_3.jpg"].companions] == ["IMG_3.MOV"]
    assert found["clip.mp4"].taken_at.startswith("2022-02-0")
    assert (summary.added, summary.embedded) == (5, 5)
    assert skips(library) == {"voice.m4v": "no-video-stream", "cut.mp4": "truncated"}
    _, vectors = library.embeddings()
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    assert all(library.thumbnails.exists(r.hash) for r in found.values())
    assert snapshot_tree(root) == before


def test_a_rescan_reads_nothing_again(library, root: Path, monkeypatch) -> None:
    library.index([root])
    monkeypatch.setattr(engine.media.video, "probe_video", lambda *a, **k: pytest.fail("read again"))
    summary = library.index()
    assert summary.unchanged == 5 and summary.added == 0


def test_a_video_embedding_is_the_normalised_mean_of_its_frames(library, root: Path) -> None:
    library.index([root])
    ids, vectors = library.embeddings()
    embedder = library.embedder()
    probe = engine.media.video.probe_video(
        root / "clip.mp4", 6, embedder.image_size, library.settings.thumbnail_size, 10**9
    )
    frames = engine.media.video.informative(probe.frames)
    mean = embedder.embed_images([embedder.preprocess(f) for f in frames]).mean(axis=0)
    mean /= np.linalg.norm(mean)
    clip_id = items(library)["clip.mp4"].id
    np.testing.assert_allclose(vectors[ids.index(clip_id)], mean, atol=1e-4)


def test_moved_videos_keep_their_identity_and_edits_of_one_file_change_the_item(library, root: Path) -> None:
    library.index([root])
    before = items(library)
    (root / "sub").mkdir()
    os.rename(root / "clip.mp4", root / "sub" / "clip-renamed.mp4")
    os.rename(root / "IMG_3.jpg", root / "sub" / "IMG_3.jpg")
    os.rename(root / "IMG_3.MOV", root / "sub" / "IMG_3.MOV")
    summary = library.index()
    after = items(library)
    assert summary.moved == 2 and summary.added == 0 and summary.removed == 0
    assert after["clip-renamed.mp4"].id == before["clip.mp4"].id
    assert after["IMG_3.jpg"].id == before["IMG_3.jpg"].id and after["IMG_3.jpg"].kind == "live"
    assert [os.path.basename(display(p)) for p in after["IMG_3.jpg"].companions] == ["IMG_3.MOV"]
    # The RAW of a pair deleted: the JPEG stays, a plain photo now.
    (root / "IMG_2.DNG").unlink()
    library.index()
    assert items(library)["IMG_2.JPG"].kind == "photo" and items(library)["IMG_2.JPG"].companions == ()
    # The JPEG of a RAW gone: the RAW stands alone.
    (root / "IMG_2.JPG").unlink()
    write_dng(root / "IMG_2.DNG", picture((30, 30, 200), seed_path=root / "IMG_2.DNG"))
    library.index()
    assert items(library)["IMG_2.DNG"].kind == "raw" and "IMG_2.JPG" not in items(library)


def test_watched_changes_pair_and_unpair_live_photos(library, root: Path, make_photo) -> None:
    library.index([root])
    still = make_photo(root / "IMG_9.jpg", color=(20, 200, 200), taken=dt.datetime(2022, 5, 5, 12))
    library.index_changes([still])
    assert items(library)["IMG_9.jpg"].kind == "photo"
    motion = write_video(root / "IMG_9.mov", solid_frames((20, 200, 200), mark=9), count=20)
    library.index_changes([motion])  # the watcher saw only the MOV arrive
    assert items(library)["IMG_9.jpg"].kind == "live" and "IMG_9.mov" not in items(library)
    motion.unlink()
    library.index_changes([motion])
    assert items(library)["IMG_9.jpg"].kind == "photo" and items(library)["IMG_9.jpg"].companions == ()


def test_a_live_photo_whose_motion_is_broken_is_a_photo_and_the_mov_is_skipped(library, root: Path) -> None:
    motion = root / "IMG_3.MOV"
    motion.write_bytes(motion.read_bytes()[:300])
    age(motion)
    library.index([root])
    assert items(library)["IMG_3.jpg"].kind == "photo"
    assert skips(library)["IMG_3.MOV"] == "truncated"
    library.index()  # the broken MOV stays recorded; the photo is not read again
    assert skips(library)["IMG_3.MOV"] == "truncated"


def test_an_interrupted_run_resumes_without_duplicates(library, root: Path) -> None:
    from engine.errors import Cancelled
    from engine.progress import RecordingProgress

    with pytest.raises(Cancelled):
        library.index([root], progress=RecordingProgress(cancel_after=3))  # one folder listed, two items done
    done = len(library.photos())
    assert 0 < done < 5
    summary = library.index()
    names = [os.path.basename(display(r.path)) for r in library.photos()]
    assert len(names) == len(set(names)) == 5
    assert summary.added == 5 - done and summary.embedded == 5 - done
