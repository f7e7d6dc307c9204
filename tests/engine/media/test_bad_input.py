"""Every kind of bad input is recorded as skipped with a reason; the scan carries on; originals are untouched."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

import pytest
from PIL import Image

import engine.media.decode
import engine.media.scan
from engine.paths import display
from tests.conftest import snapshot_tree

AN_HOUR_AGO = time.time() - 3600


def age(path: Path) -> Path:
    """Make a file look long finished (fresh files that fail to decode count as still being written)."""
    os.utime(path, (AN_HOUR_AGO, AN_HOUR_AGO))
    return path


def skips(library) -> dict[str, str]:
    return {os.path.basename(display(p)): reason for p, reason, _ in library.catalog.skipped()}


def photo_names(library) -> set[str]:
    return {os.path.basename(display(r.path)) for r in library.photos()}


@pytest.fixture
def root(tmp_path: Path, make_photo) -> Path:
    folder = tmp_path / "photos"
    make_photo(folder / "good.jpg")
    return folder


def jpeg_bytes(size: tuple[int, int] = (200, 150)) -> bytes:
    buffer = io.BytesIO()
    Image.effect_noise(size, 64).convert("RGB").save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def run_index(library, root: Path) -> None:
    before = snapshot_tree(root)
    library.index([root])
    assert snapshot_tree(root) == before, "originals must be byte-identical after a scan"
    assert "good.jpg" in photo_names(library), "the scan must carry on past bad files"


def test_corrupt_jpeg(library, root: Path) -> None:
    data = jpeg_bytes()
    # Keep the headers, scramble the entropy-coded data: a JPEG that opens but cannot decode.
    scrambled = data[:600] + bytes(b ^ 0x5A for b in data[600:-2]) + data[-2:]
    (root / "corrupt.jpg").write_bytes(scrambled)
    age(root / "corrupt.jpg")
    run_index(library, root)
    assert skips(library)["corrupt.jpg"] in {"corrupt", "not-an-image"}


def test_truncated_jpeg(library, root: Path) -> None:
    data = jpeg_bytes()
    (root / "truncated.jpg").write_bytes(data[: len(data) * 6 // 10])
    age(root / "truncated.jpg")
    run_index(library, root)
    assert skips(library)["truncated.jpg"] == "truncated"


def test_zero_byte_file(library, root: Path) -> None:
    (root / "empty.jpg").write_bytes(b"")
    run_index(library, root)
    assert skips(library)["empty.jpg"] == "empty"


def test_text_file_named_jpg(library, root: Path) -> None:
    (root / "notes.jpg").write_text("shopping list: milk, eggs\n")
    age(root / "notes.jpg")
    run_index(library, root)
    assert skips(library)["notes.jpg"] == "not-an-image"


def test_image_beyond_the_decompression_bomb_limit(library, root: Path) -> None:
    library.update_settings(library.settings.replace(max_megapixels=1.0))
    Image.new("RGB", (2000, 1500), (1, 2, 3)).save(root / "bomb.png")
    run_index(library, root)
    assert skips(library)["bomb.png"] == "too-large"
    detail = dict((os.path.basename(display(p)), d) for p, _, d in library.catalog.skipped())["bomb.png"]
    assert "2000×1500" in detail


def test_huge_jpeg_panorama_is_indexed_at_reduced_size(library, root: Path, make_photo) -> None:
    library.update_settings(library.settings.replace(max_megapixels=3.0))
    make_photo(root / "panorama.jpg", size=(8000, 1200))
    run_index(library, root)
    row = next(r for r in library.photos() if display(r.path).endswith("panorama.jpg"))
    assert (row.width, row.height) == (8000, 1200) and row.embedded


def test_unreadable_file(library, root: Path, monkeypatch: pytest.MonkeyPatch, make_photo) -> None:
    secret = make_photo(root / "secret.jpg")
    if os.geteuid() != 0:
        secret.chmod(0)
    else:  # root reads anything: simulate the permission error at the same place the OS would raise it
        real = engine.media.decode.read_snapshot

        def denied(path: Path):
            if path.name == "secret.jpg":
                raise PermissionError(13, "Permission denied")
            return real(path)

        monkeypatch.setattr(engine.media.decode, "read_snapshot", denied)
    run_index(library, root)
    assert skips(library)["secret.jpg"] == "permission-denied"
    secret.chmod(0o644)


def test_unreadable_folder_keeps_its_known_photos(library, root: Path, monkeypatch, make_photo) -> None:
    make_photo(root / "private" / "inside.jpg")
    library.index([root])
    assert "inside.jpg" in photo_names(library)
    private = root / "private"
    if os.geteuid() != 0:
        private.chmod(0)
    else:
        real = os.scandir

        def denied(path):
            if Path(path).name == "private":
                raise PermissionError(13, "Permission denied", str(path))
            return real(path)

        monkeypatch.setattr(engine.media.scan.os, "scandir", denied)
    run_index(library, root)
    assert skips(library)["private"] == "unreadable-folder"
    assert "inside.jpg" in photo_names(library), "an unreadable folder is not a deleted folder"
    private.chmod(0o755)


def test_file_deleted_between_listing_and_reading(library, root: Path, monkeypatch, make_photo) -> None:
    doomed = make_photo(root / "doomed.jpg")
    real = engine.media.decode.read_snapshot

    def delete_first(path: Path):
        if path.name == "doomed.jpg":
            path.unlink()
        return real(path)

    monkeypatch.setattr(engine.media.decode, "read_snapshot", delete_first)
    library.index([root])
    assert skips(library)["doomed.jpg"] == "vanished"
    assert not doomed.exists() and "good.jpg" in photo_names(library)


def test_file_growing_while_read_is_retried_later(library, root: Path, monkeypatch) -> None:
    growing = root / "growing.jpg"
    growing.write_bytes(jpeg_bytes())
    real_open = open

    class Appender:
        """A file being read while another program still appends to it."""

        def __init__(self, handle) -> None:
            self.handle = handle

        def __enter__(self):
            return self

        def __exit__(self, *exc) -> None:
            self.handle.close()

        def read(self, *args):
            data = self.handle.read(*args)
            with real_open(growing, "ab") as out:
                out.write(b"\0" * 10)
            return data

    def fake_open(path, mode="r", *args, **kwargs):
        handle = real_open(path, mode, *args, **kwargs)
        return Appender(handle) if Path(path).name == "growing.jpg" else handle

    monkeypatch.setattr(engine.media.decode, "open", fake_open, raising=False)
    library.index([root])
    assert skips(library)["growing.jpg"] == "changing"
    monkeypatch.undo()
    growing.write_bytes(jpeg_bytes())
    library.index([root])
    assert "growing.jpg" in photo_names(library) and "growing.jpg" not in skips(library)


def test_half_written_file_is_retried_once_complete(library, root: Path) -> None:
    data = jpeg_bytes()
    copying = root / "copying.jpg"
    copying.write_bytes(data[: len(data) // 2])  # fresh mtime, but not growing while read: broken as it stands
    library.index([root])
    assert skips(library)["copying.jpg"] == "truncated"
    copying.write_bytes(data)  # the copy completes: its size and mtime change, so it is read again
    library.index([root])
    assert "copying.jpg" in photo_names(library)


def test_non_utf8_and_very_long_names_are_indexed(library, root: Path, make_photo, capsys) -> None:
    from engine.cli.main import main

    odd = Path(os.fsdecode(os.fsencode(str(root)) + b"/caf\xe9-\xff.jpg"))
    make_photo(odd)
    long_dir = root
    for i in range(12):  # a deep path of long folder names, over 3000 bytes in all
        long_dir = long_dir / (f"{i:02d}-" + "d" * 240)
    make_photo(long_dir / ("n" * 245 + ".jpg"))
    run_index(library, root)
    assert len(library.photos()) == 3
    assert main(["--library", str(library.directory), "photos", "--json"]) == 0
    out = capsys.readouterr().out
    assert "caf\ufffd-\ufffd.jpg" in out and "n" * 245 in out


def test_symlink_loop(library, root: Path, make_photo) -> None:
    make_photo(root / "sub" / "inner.jpg")
    os.symlink(root, root / "sub" / "back-to-top")
    os.symlink("self-link", root / "self-link")
    run_index(library, root)
    assert photo_names(library) == {"good.jpg", "inner.jpg"}
    assert skips(library)["back-to-top"] == "symlink-loop"


def test_fresh_truncated_jpeg_is_truncated_on_the_first_scan_in_plain_words(library, root: Path) -> None:
    from engine.media.skip_reasons import Skip

    data = jpeg_bytes()
    (root / "cut.jpg").write_bytes(data[: len(data) * 6 // 10])  # just written, and complete as it is
    run_index(library, root)
    [(_, reason, detail)] = [row for row in library.catalog.skipped() if display(row[0]).endswith("cut.jpg")]
    assert reason == "truncated"
    text = Skip(reason, detail).describe()
    assert text.count("truncated") == 1, text
    # A catalog written before kept Pillow's whole message as the detail: shown once all the same.
    old = Skip("truncated", "image file is truncated (1 bytes not processed)").describe()
    assert old == "image file is truncated: 1 bytes not processed"


def test_file_growing_while_it_is_decoded_is_changing(library, root: Path, monkeypatch) -> None:
    data = jpeg_bytes()
    growing = root / "growing-later.jpg"
    growing.write_bytes(data[: len(data) // 2])
    real_decode = engine.media.decode._decode_snapshot

    def decode_while_the_copy_goes_on(path, snap, options, write_thumbnail):
        if path.name == "growing-later.jpg":
            with open(path, "ab") as out:  # the copy goes on after the bytes were read
                out.write(data[len(data) // 2 :])
        return real_decode(path, snap, options, write_thumbnail)

    monkeypatch.setattr(engine.media.decode, "_decode_snapshot", decode_while_the_copy_goes_on)
    library.index([root])
    assert skips(library)["growing-later.jpg"] == "changing"
    monkeypatch.undo()
    library.index([root])
    assert "growing-later.jpg" in photo_names(library)
