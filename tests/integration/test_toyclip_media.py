"""End to end with the toy CLIP: short videos of the toy world's concepts join the album of their concept's
photos, and a RAW+JPEG pair is one item."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.library import Library
from engine.paths import display
from tests.conftest import SHARED, snapshot_tree
from tests.media_files import write_dng, write_video

TOYCLIP = SHARED / "models" / "toyclip"
MAKE_LIBRARY = SHARED / "toyworld" / "make_library.py"

pytestmark = [
    pytest.mark.skipif(not (TOYCLIP / "toyclip.safetensors").exists(), reason="../shared is absent"),
    pytest.mark.slow,
]
pytest.importorskip("av")
pytest.importorskip("rawpy")

CONCEPTS = "red:circle,green:square,blue:triangle,yellow:star,orange:hexagon,black:cross"
VIDEOS_PER_CONCEPT = 3


def _panning_clip(path: Path, color: str, shape: str, rng: random.Random) -> None:
    """A 2-second clip of one toy-world scene, the camera panning across it."""
    sys.path.insert(0, str(SHARED / "toyworld"))
    from world import render

    scene = render(color, shape, 300, rng)

    def frame(i: int):
        x = min(i * 3, 60)
        return scene.crop((x, x // 2, x + 240, x // 2 + 240))

    write_video(path, frame, count=20, fps=10, gop=10)


@pytest.fixture(scope="module")
def toy_media(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("toy-media")
    photos = root / "photos"
    truth_json = subprocess.run(
        [sys.executable, str(MAKE_LIBRARY), str(photos), "--per-concept", "10", "--seed", "5", "--concepts", CONCEPTS],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    truth = {str((photos / rel).resolve()): concept for rel, concept in json.loads(truth_json).items()}
    rng = random.Random(11)
    videos = {}
    for pair in CONCEPTS.split(","):
        color, shape = pair.split(":")
        for i in range(VIDEOS_PER_CONCEPT):
            path = photos / "clips" / f"{color}-{shape}-{i}.mp4"
            _panning_clip(path, color, shape, rng)
            videos[str(path.resolve())] = f"{color} {shape}"
    # A RAW+JPEG pair: the camera's JPEG of a red circle beside its DNG (same name, same folder).
    pair_jpeg = next(Path(p) for p, c in truth.items() if c == "red circle")
    from PIL import Image

    with Image.open(pair_jpeg) as im:
        write_dng(pair_jpeg.with_suffix(".DNG"), np.asarray(im.convert("RGB")))
    before = snapshot_tree(photos)
    library = Library(root / "lib")
    library.set_model("toyclip", str(TOYCLIP / "toyclip.safetensors"), str(TOYCLIP / "toyclip.json"))
    summary = library.index([photos])
    library.recluster()
    yield library, truth, videos, pair_jpeg, summary
    assert snapshot_tree(photos) == before, "originals are never written"
    library.close()


def test_videos_join_the_album_of_their_concept(toy_media) -> None:
    library, truth, videos, _, summary = toy_media
    assert summary.added == len(truth) + len(videos) and not summary.skipped
    paths = {r.id: display(r.path) for r in library.photos()}
    albums = [a for a in library.albums.albums() if a.id is not None]
    right = 0
    for album in albums:
        photo_concepts = [truth[paths[m]] for m in album.members if paths[m] in truth]
        majority = max(set(photo_concepts), key=photo_concepts.count)
        right += sum(videos[paths[m]] == majority for m in album.members if paths[m] in videos)
    share = right / len(videos)
    assert share >= 0.9, f"only {right} of {len(videos)} videos are in their concept's album"


def test_a_raw_and_jpeg_pair_is_one_item(toy_media) -> None:
    library, _, _, pair_jpeg, _ = toy_media
    rows = [r for r in library.photos() if Path(display(r.path)).stem == pair_jpeg.stem]
    assert len(rows) == 1
    assert rows[0].kind == "raw" and display(rows[0].path) == str(pair_jpeg)
    assert [Path(display(p)).name for p in rows[0].companions] == [pair_jpeg.with_suffix(".DNG").name]
