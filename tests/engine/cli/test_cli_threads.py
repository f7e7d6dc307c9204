"""`photoatlas index --threads N --timings`: the cores indexing may use, remembered, and where the time went."""

from __future__ import annotations

from pathlib import Path

from engine.cli.main import main
from engine.settings import LibrarySettings
from tests.conftest import model_options


def test_threads_are_remembered_and_timings_printed(tmp_path: Path, tiny_model, make_photo, capsys) -> None:
    photos = tmp_path / "photos"
    for i in range(3):
        make_photo(photos / f"p{i}.jpg", color=(40 * i, 90, 200 - 40 * i))
    lib = tmp_path / "lib"
    argv = ["--library", str(lib), "index", str(photos), *model_options(tiny_model)]
    code = main([*argv, "--threads", "1", "--image-runtime", "torch", "--timings", "--no-progress"])
    out = capsys.readouterr().out
    assert code == 0 and "added 3" in out
    assert "first batch embedded and saved after" in out and "  model:" in out and "image tower: torch-fp32" in out
    saved = LibrarySettings.load(lib)
    assert saved.threads == 1 and saved.image_runtime == "torch"


def test_negative_threads_are_refused(tmp_path: Path, tiny_model, capsys) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    code = main(
        ["--library", str(tmp_path / "lib"), "index", str(photos), *model_options(tiny_model), "--threads", "-1"]
    )
    assert code == 1 and "--threads" in capsys.readouterr().err
