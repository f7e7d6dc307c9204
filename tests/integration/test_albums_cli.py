"""Albums end to end through the command line, with the tiny test model and real clustering.

index → cluster → rename → merge → move/remove → bad arguments → new photos (index again) → recluster →
export → undo; `albums --json` and `photos --json` are checked after every step.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from PIL import Image

from tests.conftest import model_options, snapshot_tree
from tests.toy import Cli as ToyCli

ALBUM_KEYS = {"id", "name", "user_named", "pinned", "size", "cover", "date_from", "date_to", "members"}
COLOURS = [(220, 30, 30), (30, 200, 40), (30, 40, 220)]


class Cli(ToyCli):
    """The shared runner, with the album listing checked against the photo listing."""

    def albums(self) -> list[dict]:
        albums = json.loads(self("albums", "--json"))
        photos = json.loads(self("photos", "--json"))
        check_listing(albums, photos)
        return albums

    def album_of(self) -> dict[int, int | None]:
        return {p["id"]: p["album"] for p in json.loads(self("photos", "--json"))}


def check_listing(albums: list[dict], photos: list[dict]) -> None:
    """Every photo in exactly one album or in Other; the listing agrees with `photos --json`."""
    assert all(set(a) >= ALBUM_KEYS for a in albums)
    ids = [a["id"] for a in albums]
    assert None not in ids[:-1], '"Other" (id null) comes last, once at most'
    members = [m for a in albums for m in a["members"]]
    assert sorted(members) == sorted(p["id"] for p in photos), "no photo lost or listed twice"
    where = {m: a["id"] for a in albums for m in a["members"]}
    assert {p["id"]: p["album"] for p in photos} == where
    for a in albums:
        assert a["size"] == len(a["members"])
        if a["id"] is None:
            assert a["name"] == "Other" and not a["user_named"] and not a["pinned"] and a["cover"] is None
        else:
            assert a["cover"] in a["members"] and a["name"]
            assert a["date_from"] <= a["date_to"]
    names = [a["name"].casefold() for a in albums if a["id"] is not None]
    assert len(set(names)) == len(names)


def make_photos(folder: Path, per_colour: int, start: int) -> None:
    """Photos in three colours, each with its own shade, mark and capture date: the same on every run (the
    `make_photo` fixture marks photos by a salted hash of their path), so the clustering is too."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(start, start + per_colour * len(COLOURS)):
        colour = COLOURS[i % len(COLOURS)]
        image = Image.new("RGB", (64, 48), tuple(min(255, c + i % 40) for c in colour))
        image.putpixel((i % 64, (i * 7) % 48), (i % 256, 255 - i % 256, 7))
        exif = image.getexif()
        exif.get_ifd(0x8769)[0x9003] = dt.datetime(2021 + i % 3, 1 + i % 12, 1 + i % 27, 12).strftime(
            "%Y:%m:%d %H:%M:%S"
        )
        image.save(folder / f"img{i:03d}.jpg", "JPEG", exif=exif)


@pytest.mark.slow
def test_albums_end_to_end(tmp_path: Path, tiny_model, capsys) -> None:
    photos_dir = tmp_path / "photos"
    make_photos(photos_dir, 8, 0)
    cli = Cli(capsys, tmp_path / "lib")
    cli("index", str(photos_dir), *model_options(tiny_model), "--no-progress")

    # Before any clustering every photo is in "Other".
    (other,) = cli.albums()
    assert other["id"] is None and other["size"] == 24

    out = cli("cluster", "--k", "3", "--no-progress")
    assert "24 photos → 3 clusters (as requested)" in out and re.search(r"albums: [23] created", out)
    albums = cli.albums()
    real = [a for a in albums if a["id"] is not None]
    assert len(real) >= 2 and not any(a["user_named"] or a["pinned"] for a in real)
    if len(real) == 2:  # a cluster too small to keep: make a third album by hand
        cli("split", *map(str, real[1]["members"][: real[1]["size"] // 2]))
        real = [a for a in cli.albums() if a["id"] is not None]
    a, b, c = real[:3]

    # rename (by id), then by the new name in another case
    assert "renamed to 'Holidays'" in cli("rename", str(a["id"]), "Holidays")
    cli("rename", "HOLIDAYS", "Summer", "holidays")
    albums = cli.albums()
    renamed = next(x for x in albums if x["id"] == a["id"])
    assert renamed["name"] == "Summer holidays" and renamed["user_named"] and renamed["members"] == a["members"]

    # merge c into b (by name)
    assert f"merged into album {b['id']}" in cli("merge", c["name"], str(b["id"]))
    albums = cli.albums()
    assert c["id"] not in [x["id"] for x in albums]
    merged = next(x for x in albums if x["id"] == b["id"])
    assert sorted(merged["members"]) == sorted(b["members"] + c["members"])

    # move a photo of a into b; take another out into Other; confirm a third where it is (the user's now)
    moved, removed, kept = a["members"][:3]
    cli("move", str(kept), str(a["id"]))
    assert f"moved 1 photo(s) to album {b['id']}" in cli("move", str(moved), str(b["id"]))
    cli("remove", str(removed))
    where = cli.album_of()
    assert where[moved] == b["id"] and where[removed] is None
    cli.albums()

    # bad arguments: one clear line each, and nothing changes
    listing = cli("albums", "--json")
    assert "no album '999'" in cli("rename", "999", "x", code=1)
    assert "cannot be empty" in cli("rename", str(a["id"]), " ", code=1)
    assert "into itself" in cli("merge", str(b["id"]), str(b["id"]), code=1)
    assert "no photo with id 99999" in cli("move", "99999", str(b["id"]), code=1)
    assert "no album 'Nowhere'" in cli("move", str(moved), "Nowhere", code=1)
    assert "already named" in cli("rename", str(b["id"]), "summer HOLIDAYS", code=1)
    # "more albums" walks the curve the first clustering kept, and undo takes it back exactly
    assert "placements of yours kept" in cli("recluster", "--more", "--no-progress")
    assert "undone: Re-cluster into more albums" in cli("undo")
    before_photos = snapshot_tree(photos_dir)
    assert "never writes to" in cli("export", str(a["id"]), str(photos_dir / "exported"), code=1)
    assert "never writes to" in cli("export", str(a["id"]), str(tmp_path / "lib" / "out"), code=1)
    assert snapshot_tree(photos_dir) == before_photos and not (photos_dir / "exported").exists()
    assert cli("albums", "--json") == listing

    # new photos: indexing again places them at once (or in Other)
    make_photos(photos_dir / "new", 2, 100)
    out = cli("index", "--no-progress")
    assert "new photos:" in out
    albums = cli.albums()
    assert sum(x["size"] for x in albums) == 30
    where = cli.album_of()
    assert where[moved] == b["id"] and where[removed] is None
    assert all(where[m] == b["id"] for m in b["members"] + c["members"])

    # re-cluster twice (chosen k, then the next k up): the user's decisions stay
    for argv in (["recluster", "--no-progress"], ["recluster", "--k", "4", "--no-progress"]):
        out = cli(*argv)
        assert "placements of yours kept" in out and "created" in out and "retired" in out
        albums = cli.albums()
        where = cli.album_of()
        holidays = next(x for x in albums if x["id"] == a["id"])
        assert holidays["name"] == "Summer holidays" and holidays["user_named"]
        assert where[moved] == b["id"] and where[removed] is None and where[kept] == a["id"]
        assert all(where[m] == b["id"] for m in b["members"] + c["members"]), "the merge stays merged"

    # export: copies, then symbolic links next to them (renamed, nothing overwritten)
    target = next(x for x in cli.albums() if x["id"] == b["id"])
    out = cli("export", "summer holidays", str(tmp_path / "export"))
    holidays = next(x for x in cli.albums() if x["id"] == a["id"])
    assert f"{holidays['size']} copied" in out and len(list((tmp_path / "export").iterdir())) == holidays["size"]
    out = cli("export", str(target["id"]), str(tmp_path / "export"), "--link", "sym")
    assert f"{target['size']} linked" in out
    assert len(list((tmp_path / "export").iterdir())) == holidays["size"] + target["size"]

    # undo walks back the latest actions in order: the two re-clusters, the new photos, then the removal
    assert "undone: Re-cluster into 4 albums" in cli("undo")
    assert "undone: Re-cluster" in cli("undo")
    out = cli("undo")
    if "joined albums" in out:  # indexing placed new photos: an action of its own
        out = cli("undo")
    assert "undone: Move 1 photo to Other" in out
    assert cli.album_of()[removed] == a["id"]
    history = cli("history")
    assert "(undone)" in history.splitlines()[0] and "Rename" in history
