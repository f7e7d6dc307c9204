"""The library watcher with a real watchdog observer on temp folders: bursts, renames, moves, deletions,
slow writes, edits, an unmounted root, changes made while closed, and the polling fallback.

Clustering is the fast k-means stand-in of the album tests; embeddings come from the tiny test model, and
every embedding is counted, so "embedded exactly once" is checked, not assumed. Waits poll a condition with
a generous deadline; nothing asserts on time.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

import engine.watch.watcher
from engine.errors import InvalidInputError
from engine.naming.vocabulary import VocabularyChoice
from engine.paths import display
from engine.watch.apply import WatchReport, apply_batch
from engine.watch.fs import network_fs_type
from engine.watch.watcher import ChangeBatch, LibraryWatcher
from tests.engine.albums.test_album_properties import VOCABULARY, album_of, use_fake_clusterer

COLOURS = [(220, 30, 30), (30, 200, 40), (30, 40, 220)]
DEADLINE_S = 20.0
FAST = {"quiet_seconds": 0.3, "settle_seconds": 0.3, "root_check_seconds": 0.1, "poll_seconds": 0.1}


def photo(path: Path, i: int) -> Path:
    """A photo of colour i % 3 with its own mark: distinct content, close to its colour's other photos."""
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.new("RGB", (64, 48), tuple(min(255, c + i % 7) for c in COLOURS[i % 3]))
    image.putpixel((i % 64, (i * 7) % 48), (i % 256, 255 - i % 256, 7))
    image.save(path, "JPEG", quality=95)
    return path


class Session:
    """A clustered library with a running watcher; the test thread is the catalog writer."""

    def __init__(self, library, root: Path, **options: object) -> None:
        self.library, self.root = library, root
        self.reports: list[WatchReport] = []
        self.watcher = library.watcher(**{**FAST, **options})
        self.watcher.start()

    def until(self, condition: Callable[[], bool], what: str) -> list[WatchReport]:
        """Apply batches as they come until `condition` holds; returns the reports of this wait."""
        start = len(self.reports)
        deadline = time.monotonic() + DEADLINE_S
        while time.monotonic() < deadline:
            batch = self.watcher.next_batch(timeout=0.05)
            if batch is not None:
                self.reports.append(apply_batch(self.library, batch))
            if batch is None and condition():
                return self.reports[start:]
        pytest.fail(f"timed out waiting for: {what}; reports: {[r.lines() for r in self.reports[start:]]}")

    def in_step(self) -> bool:
        """Whether the catalog lists exactly the photos on disk."""
        on_disk = sorted(str(p) for p in self.root.rglob("*.jpg"))
        return sorted(display(r.path) for r in self.library.photos()) == on_disk

    def by_name(self) -> dict[str, object]:
        return {Path(display(r.path)).name: r for r in self.library.photos()}

    def where(self) -> dict[int, int | None]:
        return album_of(self.library.albums.albums())

    def stop(self) -> None:
        self.watcher.stop()


@pytest.fixture
def clustered(library, tmp_path: Path, monkeypatch) -> tuple[object, Path, Counter[str]]:
    """A library of 12 photos in three colours, clustered into three albums; returns it, its root and a
    counter of how many times each content was embedded (from the first embedding on)."""
    use_fake_clusterer(monkeypatch)
    library.set_vocabulary(VocabularyChoice(replacement=VOCABULARY))
    root = tmp_path / "photos"
    for i in range(12):
        photo(root / f"img{i:03d}.jpg", i)
    embedded: Counter[str] = Counter()
    embedder = library.embedder()
    real = embedder.embed_images

    def counting(batch):
        embedded["images"] += len(batch)
        return real(batch)

    monkeypatch.setattr(embedder, "embed_images", counting)
    library.index([root])
    library.recluster(k=3)
    assert len([a for a in library.albums.albums() if a.id is not None]) == 3
    return library, root, embedded


@pytest.fixture
def session(clustered):
    library, root, _ = clustered
    s = Session(library, root)
    s.until(lambda: bool(s.reports) and s.reports[0].batch.reason == "startup", "the startup check")
    yield s
    s.stop()


@pytest.mark.slow  # waits for the real observer's batches
def test_burst_rename_move_and_delete(clustered, session: Session, tmp_path: Path) -> None:
    library, root, embedded = clustered
    assert session.reports[0].summary.added == 0 and embedded["images"] == 12, "start: nothing to do"
    before = session.by_name()
    albums_before = session.where()

    # A burst of 8 photos, copied in from elsewhere: one batch, each embedded once, each assigned.
    staging = tmp_path / "camera"
    for i in range(12, 20):
        photo(staging / f"new{i:03d}.jpg", i)
    for i in range(12, 20):
        shutil.copy(staging / f"new{i:03d}.jpg", root / f"new{i:03d}.jpg")
    reports = session.until(lambda: library.catalog.count_photos() == 20, "the burst")
    assert [r.summary.added for r in reports] == [8], "a burst is one batch"
    assert embedded["images"] == 20
    weighed = {
        r[0]
        for r in library.catalog.execute(
            "SELECT photo_id FROM cluster_members WHERE clustering_id = (SELECT MAX(id) FROM clusterings)"
        )
    }
    new_ids = {p.id for name, p in session.by_name().items() if name.startswith("new")}
    assert new_ids <= weighed, "every new photo was weighed by the incremental assignment"
    assert reports[0].assignment is not None and reports[0].assignment.assigned + reports[0].assignment.to_other == 8

    # Rename one and move another into a subfolder: same photo, same album, nothing embedded again.
    os.rename(root / "img001.jpg", root / "renamed.jpg")
    (root / "2024" / "trip").mkdir(parents=True)
    os.rename(root / "img002.jpg", root / "2024" / "trip" / "img002.jpg")
    session.until(session.in_step, "the rename and move")
    after = session.by_name()
    assert after["renamed.jpg"].id == before["img001.jpg"].id
    assert after["img002.jpg"].id == before["img002.jpg"].id
    assert display(after["img002.jpg"].path).endswith(os.path.join("2024", "trip", "img002.jpg"))
    where = session.where()
    assert where[before["img001.jpg"].id] == albums_before[before["img001.jpg"].id]
    assert where[before["img002.jpg"].id] == albums_before[before["img002.jpg"].id]
    assert embedded["images"] == 20 and sum(r.summary.moved for r in session.reports) == 2

    # Delete one: it leaves its album, its placement is kept for when it comes back.
    gone = before["img003.jpg"]
    album = albums_before[gone.id]
    (root / "img003.jpg").unlink()
    session.until(session.in_step, "the deletion")
    assert gone.id not in session.where() and album is not None
    assert library.catalog.execute("SELECT album_id FROM album_members WHERE hash=?", (gone.hash,)).fetchone() == (
        album,
    )

    # The end state: every file on disk is in the catalog once, embedded, and listed in one album or Other.
    on_disk = sorted(str(p) for p in root.rglob("*.jpg"))
    rows = library.photos()
    assert sorted(display(r.path) for r in rows) == on_disk
    assert all(r.embedded for r in rows)
    assert set(session.where()) == {r.id for r in rows}
    count = library.catalog.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0]
    assert count == embedded["images"] == 20


@pytest.mark.slow  # writes a photo over 2 s, then waits out the 1.5 s settle time
def test_a_file_is_read_only_once_it_has_stopped_growing(clustered, tmp_path: Path) -> None:
    library, root, embedded = clustered
    # Each pause is longer than the quiet period, shorter than the time a file must stay unchanged.
    s = Session(library, root, quiet_seconds=0.2, settle_seconds=1.5)
    try:
        s.until(lambda: bool(s.reports), "the startup check")
        data = photo(tmp_path / "slow.jpg", 30).read_bytes()
        chunk = len(data) // 4 + 1
        with open(root / "slow.jpg", "wb") as handle:
            for start in range(0, len(data), chunk):
                handle.write(data[start : start + chunk])
                handle.flush()
                os.fsync(handle.fileno())
                time.sleep(0.5)
        s.until(lambda: "slow.jpg" in s.by_name(), "the slow write")
        slow = s.by_name()["slow.jpg"]
        assert slow.size == len(data) and slow.embedded
        assert embedded["images"] == 13, "the slow photo was embedded once, when complete"
        assert all(not r.summary.skipped for r in s.reports) and library.catalog.skipped() == []
        assert [r.summary.added for r in s.reports] == [0, 1]
    finally:
        s.stop()


@pytest.mark.slow  # waits for the real observer's batches
def test_the_same_content_coming_back_finds_its_album(clustered, session: Session, tmp_path: Path) -> None:
    _, root, _ = clustered
    before = session.by_name()["img004.jpg"]
    album = session.where()[before.id]
    shutil.move(root / "img004.jpg", tmp_path / "img004.jpg")  # moved out of the library: a deletion
    session.until(lambda: "img004.jpg" not in session.by_name(), "the photo leaving")
    shutil.move(tmp_path / "img004.jpg", root / "back.jpg")
    session.until(lambda: "back.jpg" in session.by_name(), "the photo coming back")
    back = session.by_name()["back.jpg"]
    assert back.hash == before.hash and session.where()[back.id] == album


def test_edited_photo_is_embedded_again_and_reassigned_unless_the_user_placed_it(clustered, session: Session) -> None:
    library, root, embedded = clustered
    photos = session.by_name()
    edited, placed = photos["img005.jpg"], photos["img006.jpg"]
    albums = [a.id for a in library.albums.albums() if a.id is not None]
    target = next(a for a in albums if a != session.where()[placed.id])
    library.albums.move([placed.id], target)  # the user's decision
    weighed_before = library.catalog.execute(
        "SELECT COUNT(*) FROM cluster_members WHERE photo_id=?", (edited.id,)
    ).fetchone()[0]
    assert weighed_before == 1

    photo(root / "img005.jpg", 5 + 3 * 7)  # same colour, other content
    photo(root / "img006.jpg", 6 + 3 * 7)
    session.until(
        lambda: all(session.by_name()[n].hash != p.hash for n, p in (("img005.jpg", edited), ("img006.jpg", placed))),
        "the edits",
    )
    now = session.by_name()
    assert now["img005.jpg"].id == edited.id and now["img006.jpg"].id == placed.id
    assert embedded["images"] == 14 and sum(r.summary.updated for r in session.reports) == 2
    assert session.where()[placed.id] == target, "the user's placement follows the edited photo"
    # The machine weighed the edited photo again with its new content.
    row = library.catalog.execute(
        "SELECT COUNT(*) FROM cluster_members WHERE photo_id=? AND clustering_id=(SELECT MAX(id) FROM clusterings)",
        (edited.id,),
    ).fetchone()
    assert row == (1,)
    assert library.catalog.execute(
        "SELECT source FROM album_members WHERE hash=?", (now["img006.jpg"].hash,)
    ).fetchone() == ("user",)


@pytest.mark.slow  # waits for the real observer's batches
def test_an_unmounted_root_keeps_its_photos_and_is_rescanned_when_back(clustered, tmp_path: Path, caplog) -> None:
    library, root, embedded = clustered
    caplog.set_level(logging.INFO, logger="engine.watch.watcher")
    s = Session(library, root)
    try:
        s.until(lambda: bool(s.reports), "the startup check")
        albums_before = s.where()
        away = tmp_path / "unplugged"
        os.rename(root, away)  # the drive is unplugged
        s.until(lambda: s.watcher.modes()[root] == "unavailable", "the root to be seen gone")
        photo(away / "added-while-away.jpg", 40)
        (away / "img007.jpg").unlink()
        # Batches may still come (events of the vanished folder): none may delete anything, not even one
        # that names the root's files outright.
        s.until(lambda: True, "a look")
        report = apply_batch(library, ChangeBatch(paths=(root / "img000.jpg", root / "img011.jpg", root)))
        assert report.summary.removed == 0 and report.summary.unavailable_roots == [str(root)]
        assert any("not available" in line for line in report.lines())
        assert library.catalog.count_photos() == 12 and s.where() == albums_before
        assert all(r.summary.removed == 0 for r in s.reports)

        os.rename(away, root)  # plugged in again
        s.until(s.in_step, "the rescan")
        assert s.watcher.modes()[root] in ("native", "polling")
        assert any(r.batch.rescan_roots == (root,) for r in s.reports)
        where = s.where()
        assert all(where[p] == a for p, a in albums_before.items() if p in where)
        assert len(where) == 12 and embedded["images"] == 13
        assert "is not available" in caplog.text and "is back" in caplog.text

        photo(root / "after.jpg", 41)  # watched again
        s.until(lambda: "after.jpg" in s.by_name(), "a new photo after the return")
    finally:
        s.stop()


def test_startup_catches_up_with_changes_made_while_closed(clustered) -> None:
    library, root, embedded = clustered
    before = {Path(display(r.path)).name: r for r in library.photos()}
    os.rename(root / "img008.jpg", root / "img008-renamed.jpg")
    (root / "img009.jpg").unlink()
    photo(root / "while-closed.jpg", 50)
    s = Session(library, root)
    try:
        (report,) = s.until(lambda: bool(s.reports), "the startup check")
        assert report.batch.reason == "startup" and report.batch.rescan_roots == (root,)
        assert (report.summary.added, report.summary.moved, report.summary.removed) == (1, 1, 1)
        now = s.by_name()
        assert now["img008-renamed.jpg"].id == before["img008.jpg"].id and "img009.jpg" not in now
        assert embedded["images"] == 13
    finally:
        s.stop()


def test_falls_back_to_polling_when_native_events_fail(clustered, monkeypatch, caplog) -> None:
    library, root, embedded = clustered
    caplog.set_level(logging.INFO, logger="engine.watch.watcher")

    class NoEvents(engine.watch.watcher.Observer):
        def schedule(self, *args, **kwargs):
            raise OSError(28, "inotify watch limit reached")

    monkeypatch.setattr(engine.watch.watcher, "Observer", NoEvents)
    s = Session(library, root)
    try:
        assert s.watcher.modes() == {root: "polling"}
        assert "native file events are not available" in caplog.text and "polling it" in caplog.text
        s.until(lambda: bool(s.reports), "the startup check")
        photo(root / "polled.jpg", 60)
        s.until(lambda: "polled.jpg" in s.by_name(), "the polled photo")
        assert embedded["images"] == 13
    finally:
        s.stop()


def test_forced_polling_sees_changes(clustered) -> None:
    library, root, _ = clustered
    s = Session(library, root, poll=True)
    try:
        assert s.watcher.modes() == {root: "polling"}
        s.until(lambda: bool(s.reports), "the startup check")
        os.rename(root / "img010.jpg", root / "polled-rename.jpg")
        s.until(s.in_step, "the rename")
        assert sum(r.summary.moved for r in s.reports) == 1
    finally:
        s.stop()


def test_hidden_files_other_files_and_the_library_folder_are_ignored(tmp_path: Path) -> None:
    root = tmp_path / "photos"
    library_dir = root / "library"
    library_dir.mkdir(parents=True)
    batches: list[ChangeBatch] = []
    watcher = LibraryWatcher([root], exclude=[library_dir], reconcile=False, on_batch=batches.append, **FAST)
    watcher.start()
    try:
        photo(root / ".hidden.jpg", 1)
        photo(root / "@eaDir" / "thumb.jpg", 2)
        photo(library_dir / "thumbnails" / "t.jpg", 3)
        (root / "notes.txt").write_text("not a photo")
        photo(root / "real.jpg", 4)
        deadline = time.monotonic() + DEADLINE_S
        while not batches and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        watcher.stop()
    assert [b.paths for b in batches] == [(root / "real.jpg",)]


def test_network_file_systems_are_recognised() -> None:
    mounts = (
        "/dev/sda1 / ext4 rw 0 0\n"
        "server:/export /mnt/nas nfs4 rw 0 0\n"
        "//box/photos /mnt/my\\040share cifs rw 0 0\n"
        "user@host:/pics /home/u/remote fuse.sshfs rw 0 0\n"
        "/dev/sdb1 /media/usb fuseblk rw 0 0\n"
    )
    assert network_fs_type(Path("/mnt/nas/2023"), mounts) == "nfs4"
    assert network_fs_type(Path("/mnt/my share/x"), mounts) == "cifs"
    assert network_fs_type(Path("/home/u/remote"), mounts) == "fuse.sshfs"
    assert network_fs_type(Path("/media/usb/DCIM"), mounts) is None
    assert network_fs_type(Path("/home/u/Pictures"), mounts) is None


def test_a_library_without_folders_cannot_be_watched(library) -> None:
    with pytest.raises(InvalidInputError, match="no photo folders"):
        library.watcher()


def test_a_move_seen_from_its_new_end_alone_keeps_the_photo(clustered) -> None:
    """watchdog may report the new name of a moved file in one batch and the old name's deletion in the next."""
    library, root, embedded = clustered
    before = {Path(display(r.path)).name: r for r in library.photos()}
    os.rename(root / "img011.jpg", root / "later.jpg")
    summary = library.index_changes([root / "later.jpg"])
    assert (summary.added, summary.moved, summary.removed) == (0, 1, 0)
    summary = library.index_changes([root / "img011.jpg"])  # the old end, late: nothing left to do
    assert (summary.added, summary.moved, summary.removed) == (0, 0, 0)
    after = {Path(display(r.path)).name: r for r in library.photos()}
    assert after["later.jpg"].id == before["img011.jpg"].id and "img011.jpg" not in after
    assert embedded["images"] == 12
