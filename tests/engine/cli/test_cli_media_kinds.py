"""`photos --json` tells each item's kind, duration and files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.conftest import model_options
from tests.engine.cli.test_cli import run
from tests.media_files import solid_frames, write_video

pytest.importorskip("av")


def test_photos_json_has_kind_duration_and_files(tmp_path: Path, tiny_model, make_photo, capsys) -> None:
    photos = tmp_path / "photos"
    make_photo(photos / "a.jpg")
    make_photo(photos / "IMG_1.jpg", color=(10, 200, 10))
    write_video(photos / "IMG_1.MOV", solid_frames((10, 200, 10)), count=15)
    write_video(photos / "clip.webm", solid_frames((10, 10, 200)), count=20, codec="libvpx")
    lib = str(tmp_path / "lib")
    code, _, err = run(capsys, "--library", lib, "index", str(photos), *model_options(tiny_model))
    assert code == 0, err
    code, out, _ = run(capsys, "--library", lib, "photos", "--json")
    by_name = {os.path.basename(p["path"]): p for p in json.loads(out)}
    assert {n: (p["kind"], p["duration"] is not None) for n, p in by_name.items()} == {
        "a.jpg": ("photo", False),
        "IMG_1.jpg": ("live", True),
        "clip.webm": ("video", True),
    }
    assert by_name["clip.webm"]["duration"] == pytest.approx(2.0, abs=0.2)
    assert [os.path.basename(f) for f in by_name["IMG_1.jpg"]["files"]] == ["IMG_1.jpg", "IMG_1.MOV"]
    code, out, _ = run(capsys, "--library", lib, "photos")
    assert "video 2.0 s" in out and "live" in out
