"""The command line: index with a progress summary, photos --json, status, skipped, errors."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from engine.cli.main import main
from tests.conftest import model_options


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_index_then_photos_json_and_status(tmp_path: Path, tiny_model, make_photo, capsys) -> None:
    photos = tmp_path / "photos"
    make_photo(photos / "a.jpg", taken=dt.datetime(2022, 3, 4, 5, 6, 7))
    make_photo(photos / "b.png")
    (photos / "bad.jpg").write_bytes(b"")
    lib = str(tmp_path / "lib")
    code, out, _ = run(
        capsys,
        "--library",
        lib,
        "index",
        str(photos),
        *model_options(tiny_model),
        "--no-progress",
    )
    assert code == 0 and "added 2" in out and "empty file" in out
    # The library remembers its model: no options needed any more.
    code, out, _ = run(capsys, "--library", lib, "photos", "--json")
    rows = json.loads(out)
    assert code == 0 and len(rows) == 2
    assert set(rows[0]) == {
        *("id", "path", "hash", "taken_at", "width", "height", "embedded", "album"),
        *("kind", "duration", "files"),  # issue 19: videos, RAW and Live Photos
        *("place", "utc_offset"),  # issue 20: where it was taken, and its time zone
        "stack",  # issue 20: the burst or set of copies it is folded into (null: none)
    }
    first = next(r for r in rows if r["path"].endswith("a.jpg"))
    assert first["taken_at"] == "2022-03-04T05:06:07" and first["embedded"] is True and first["album"] is None
    assert Path(first["path"]).is_absolute()
    code, out, _ = run(capsys, "--library", lib, "status")
    assert code == 0 and "2 (2 embedded)" in out and "1 empty" in out
    code, out, _ = run(capsys, "--library", lib, "skipped", "--json")
    assert json.loads(out)[0]["reason"] == "empty"


def test_errors_are_one_clear_line(tmp_path: Path, capsys) -> None:
    code, _, err = run(capsys, "--library", str(tmp_path / "lib"), "index")
    assert code == 1 and err.startswith("photoatlas: error: no photo folders yet")
    code, _, err = run(
        capsys, "--library", str(tmp_path / "lib"), "index", str(tmp_path / "lib" / "x"), "--model", "nope"
    )
    assert code == 1 and "photoatlas: error:" in err and "Traceback" not in err


def test_version(capsys) -> None:
    try:
        main(["--version"])
    except SystemExit as stop:
        assert stop.code == 0
    assert "photoatlas 0.1.0" in capsys.readouterr().out


def test_status_says_when_naming_was_stopped_and_name_finishes_it(
    tmp_path: Path, tiny_model, make_photo, capsys
) -> None:
    from engine.library import Library

    photos = tmp_path / "photos"
    for n, colour in enumerate([(220, 30, 30), (30, 200, 40), (30, 40, 220)] * 3):
        make_photo(photos / f"p{n}.jpg", color=colour)
    lib = str(tmp_path / "lib")
    assert run(capsys, "--library", lib, "index", str(photos), *model_options(tiny_model), "--no-progress")[0] == 0
    with Library(lib) as library:  # albums committed with provisional names; the naming then never ran
        assert library.recluster(names_later=True).names_pending
    code, out, _ = run(capsys, "--library", lib, "status")
    assert code == 0 and "provisional names (naming was stopped): photoatlas name" in out
    assert json.loads(run(capsys, "--library", lib, "status", "--json")[1])["names_pending"] is True
    assert run(capsys, "--library", lib, "name", "--no-progress")[0] == 0
    code, out, _ = run(capsys, "--library", lib, "status")
    assert code == 0 and "provisional names" not in out and "Names:" not in out


def test_status_says_when_the_names_refinement_was_stopped(tmp_path: Path, tiny_model, make_photo, capsys) -> None:
    from engine.library import Library

    photos = tmp_path / "photos"
    for n, colour in enumerate([(220, 30, 30), (30, 200, 40), (30, 40, 220)] * 3):
        make_photo(photos / f"p{n}.jpg", color=colour)
    lib = str(tmp_path / "lib")
    assert run(capsys, "--library", lib, "index", str(photos), *model_options(tiny_model), "--no-progress")[0] == 0
    with Library(lib) as library:  # first names, then Ctrl-C during the refinement
        library.recluster(names_later=True)
        library.name(quick=True)
    code, out, _ = run(capsys, "--library", lib, "status")
    assert code == 0 and "quicker first pass (their refinement was stopped): photoatlas name refines them" in out
    assert json.loads(run(capsys, "--library", lib, "status", "--json")[1])["names_refinable"] is True
    assert run(capsys, "--library", lib, "name", "--no-progress")[0] == 0
    code, out, _ = run(capsys, "--library", lib, "status")
    assert code == 0 and "Names:" not in out


def test_status_explains_a_weights_file_that_went_away(tmp_path: Path, tiny_model, make_photo, capsys) -> None:
    import shutil

    photos = tmp_path / "photos"
    for n, colour in enumerate([(220, 30, 30), (30, 200, 40), (30, 40, 220)]):
        make_photo(photos / f"p{n}.jpg", color=colour)
    weights = tmp_path / "weights" / Path(tiny_model["pretrained"]).name
    weights.parent.mkdir()
    shutil.copy2(tiny_model["pretrained"], weights)
    mine = {**tiny_model, "pretrained": str(weights)}
    lib = str(tmp_path / "lib")
    assert run(capsys, "--library", lib, "index", str(photos), *model_options(mine), "--no-progress")[0] == 0
    moved = weights.rename(weights.with_suffix(".moved"))
    code, out, _ = run(capsys, "--library", lib, "status")
    assert code == 0 and "(0 embedded)" in out
    assert "is not there any more; the photos' embeddings are kept and count again once it is back" in out
    moved.rename(weights)  # back, untouched: its photos count as embedded again
    code, out, _ = run(capsys, "--library", lib, "status")
    assert code == 0 and "(3 embedded)" in out and "not there any more" not in out
