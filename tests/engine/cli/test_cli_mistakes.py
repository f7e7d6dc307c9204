"""Mistakes on the command line are caught in words (issue 16, items 4, 5, 6 and 13)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import engine.library
from engine.cli.main import build_parser, main
from engine.library import Library
from tests.conftest import model_options


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("command", [["status"], ["albums"], ["photos"], ["recluster"], ["model", "status"]])
def test_a_mistyped_library_is_an_error_not_a_new_library(tmp_path: Path, capsys, command: list[str]) -> None:
    typo = tmp_path / "libary"
    code, out, err = run(capsys, "--library", str(typo), *command)
    assert code == 1 and out == ""
    assert f"no library at {typo}; create one with photoatlas index PATH" in err
    assert not typo.exists(), "nothing is created"


def test_library_pointing_at_a_file_is_a_clear_error(tmp_path: Path, capsys) -> None:
    file = tmp_path / "notes.txt"
    file.write_text("hello")
    for command in (["status"], ["index", str(tmp_path)], ["init"]):
        code, _, err = run(capsys, "--library", str(file), *command)
        assert code == 1 and "is a file, not a library folder" in err and "Traceback" not in err
    assert file.read_text() == "hello"


def test_init_creates_a_library_once_and_index_creates_one_too(tmp_path: Path, tiny_model, make_photo, capsys) -> None:
    lib = str(tmp_path / "lib")
    code, out, _ = run(capsys, "--library", lib, "init")
    assert code == 0 and "Created an empty library" in out
    code, out, _ = run(capsys, "--library", lib, "init")
    assert code == 0 and "already a library" in out
    assert run(capsys, "--library", lib, "status")[0] == 0
    make_photo(tmp_path / "photos" / "a.jpg")
    other = str(tmp_path / "other")
    code, out, _ = run(capsys, "--library", other, "index", str(tmp_path / "photos"), "--no-embed", "--no-progress")
    assert code == 0 and "added 1" in out
    assert run(capsys, "--library", other, "status")[0] == 0


def test_the_window_still_creates_its_library_on_first_launch(tmp_path: Path) -> None:
    with Library(tmp_path / "first" / "library") as library:  # create=True is the default
        assert library.created and (tmp_path / "first" / "library").is_dir()
    with Library(tmp_path / "first" / "library", create=False) as library:
        assert not library.created


def test_indexing_a_folder_that_does_not_exist_is_an_error(tmp_path: Path, make_photo, capsys) -> None:
    lib = str(tmp_path / "lib")
    missing = tmp_path / "no" / "such" / "folder"
    code, _, err = run(capsys, "--library", lib, "index", str(missing), "--no-embed", "--no-progress")
    assert code == 1 and f"no folder at {missing}" in err
    assert not Path(lib).exists(), "nor is a new library created for it"
    assert run(capsys, "--library", lib, "init")[0] == 0
    code, _, err = run(capsys, "--library", lib, "index", str(missing), "--no-embed", "--no-progress")
    assert code == 1 and f"no folder at {missing}" in err
    with Library(lib) as library:
        assert library.roots() == [], "a mistyped folder is not added to the library"


def test_a_known_folder_missing_later_stays_not_available(tmp_path: Path, make_photo, capsys) -> None:
    lib = str(tmp_path / "lib")
    photos = tmp_path / "photos"
    make_photo(photos / "a.jpg")
    assert run(capsys, "--library", lib, "index", str(photos), "--no-embed", "--no-progress")[0] == 0
    photos.rename(tmp_path / "unplugged")
    for again in ([str(photos)], []):
        code, out, _ = run(capsys, "--library", lib, "index", *again, "--no-embed", "--no-progress")
        assert code == 0 and "root not available" in out
    with Library(lib) as library:
        assert library.roots() == [photos] and len(library.photos()) == 1, "its photos are kept"


def test_index_offline_without_weights_says_so_once_and_remembers_nothing(
    tmp_path: Path, make_photo, capsys, monkeypatch
) -> None:
    monkeypatch.setattr(engine.library, "model_cache_dir", lambda: tmp_path / "empty-cache")
    lib = str(tmp_path / "lib")
    make_photo(tmp_path / "photos" / "a.jpg")
    code, _, err = run(capsys, "--library", lib, "index", str(tmp_path / "photos"), "--offline", "--no-progress")
    assert code == 1
    assert err.count("photoatlas: error") == 1 and err.count("work offline") == 1, err
    assert "connection" not in err.lower() and "internet" not in err.lower(), err
    assert "photoatlas model download" in err
    with Library(lib) as library:
        assert library.settings.offline is False, "an option of a failed command is not remembered"


def test_index_options_are_remembered_once_the_index_succeeds(tmp_path: Path, tiny_model, make_photo, capsys) -> None:
    lib = str(tmp_path / "lib")
    make_photo(tmp_path / "photos" / "a.jpg")
    code, _, _ = run(capsys, "--library", lib, "index", str(tmp_path / "nowhere"), "--offline", "--no-progress")
    assert code == 1
    with Library(lib) as library:
        assert library.settings.offline is False
    argv = ["--library", lib, "index", str(tmp_path / "photos"), *model_options(tiny_model), "--offline"]
    code, out, _ = run(capsys, *argv, "--no-progress")
    assert code == 0 and "embedded 1" in out
    with Library(lib) as library:
        assert library.settings.offline is True and library.settings.model.name == tiny_model["name"]


def test_help_has_one_verb_per_job_in_the_order_a_user_meets_them(capsys) -> None:
    text = build_parser().format_help()
    listed = [m.group(1) for line in text.splitlines() if (m := re.match(r"^    (\w+)\s", line))]
    assert listed[:5] == ["index", "status", "albums", "recluster", "rename"]
    assert "cluster" not in listed and "clusters" not in listed
    # The old verbs still work.
    assert build_parser().parse_args(["cluster", "--k", "2"]).command == "cluster"
    assert build_parser().parse_args(["clusters", "--json"]).command == "clusters"


def test_status_json_of_a_created_library(tmp_path: Path, capsys) -> None:
    lib = str(tmp_path / "lib")
    assert run(capsys, "--library", lib, "init")[0] == 0
    code, out, _ = run(capsys, "--library", lib, "status", "--json")
    assert code == 0 and json.loads(out)["photos"] == 0
