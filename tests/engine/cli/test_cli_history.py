"""`photoatlas undo`, `redo` and `history`: every action can be undone and redone, and the CLI says which."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.albums.store import AlbumStore
from engine.cli.main import main
from engine.errors import InvalidInputError


@pytest.fixture
def lib(tmp_path: Path, make_photo) -> str:
    """A library of 4 photos, cataloged without CLIP (album actions need no model)."""
    for n in range(4):
        make_photo(tmp_path / "photos" / f"p{n}.jpg", color=(60 * n, 90, 200 - 40 * n))
    library = str(tmp_path / "lib")
    assert main(["--library", library, "index", str(tmp_path / "photos"), "--no-embed", "--no-progress"]) == 0
    return library


def run(capsys, lib: str, *argv: str) -> tuple[int, str, str]:
    code = main(["--library", lib, *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def history(capsys, lib: str) -> list[dict]:
    code, out, _ = run(capsys, lib, "history", "--json")
    assert code == 0
    return json.loads(out)


def test_undo_redo_and_history(lib: str, capsys) -> None:
    capsys.readouterr()
    code, out, _ = run(capsys, lib, "split", "1", "2", "--name", "Sunny Stars 2021")
    assert code == 0 and out.strip().endswith("“Sunny Stars 2021”")
    album = int(out.split()[2])
    code, out, _ = run(capsys, lib, "move", "3", str(album))
    assert code == 0 and "to album" in out and "“Sunny Stars 2021”" in out
    assert run(capsys, lib, "redo")[1] == "nothing to redo\n"

    code, out, _ = run(capsys, lib, "undo")
    assert code == 0 and out.startswith("undone: ") and "Sunny Stars 2021" in out
    entries = history(capsys, lib)
    assert [e["undone"] for e in entries] == [True, False]
    assert [e["next"] for e in entries] == ["redo", "undo"]
    assert set(entries[0]) == {"id", "kind", "description", "undone", "next", "created_at"}
    assert entries[0]["kind"] == "move" and entries[1]["kind"] == "split"
    assert entries[0]["created_at"][:2] == "20" and "T" in entries[0]["created_at"]

    code, out, _ = run(capsys, lib, "history")
    first, second = out.splitlines()
    assert "move" in first and "(undone)" in first and "next redo" in first
    assert "split" in second and "(undone)" not in second and "next undo" in second

    code, out, _ = run(capsys, lib, "redo")
    assert code == 0 and out.startswith("redone: ") and "Sunny Stars 2021" in out
    assert [e["undone"] for e in history(capsys, lib)] == [False, False]
    code, out, _ = run(capsys, lib, "albums", "--json")
    assert next(a for a in json.loads(out) if a["id"] == album)["size"] == 3


def test_a_new_action_after_undo_clears_redo(lib: str, capsys) -> None:
    run(capsys, lib, "split", "1", "--name", "One")
    run(capsys, lib, "split", "2", "--name", "Two")
    run(capsys, lib, "undo")
    run(capsys, lib, "split", "3", "--name", "Three")
    assert run(capsys, lib, "redo")[1] == "nothing to redo\n"
    entries = history(capsys, lib)
    assert entries[0]["next"] == "undo" and "redo" not in [e["next"] for e in entries]
    assert "next redo" not in run(capsys, lib, "history")[1]


def test_undo_and_history_with_nothing_done(lib: str, capsys) -> None:
    assert run(capsys, lib, "undo")[1] == "nothing to undo\n"
    assert run(capsys, lib, "history")[1] == "No actions yet.\n"
    assert history(capsys, lib) == []
    code, _, err = run(capsys, lib, "history", "--limit", "0")
    assert code == 1 and "--limit must be at least 1" in err


def test_an_action_that_cannot_be_undone_is_an_error_sentence(lib: str, capsys, monkeypatch) -> None:
    run(capsys, lib, "split", "1", "--name", "One")

    def refuse(store: AlbumStore) -> str:
        raise InvalidInputError("“Re-cluster into fewer albums” can no longer be undone")

    monkeypatch.setattr(AlbumStore, "undo", refuse)
    code, out, err = run(capsys, lib, "undo")
    assert code == 1 and out == ""
    assert err == "photoatlas: error: “Re-cluster into fewer albums” can no longer be undone\n"
