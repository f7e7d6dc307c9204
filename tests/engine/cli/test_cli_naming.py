"""`photoatlas vocab`, `name` and `search` through the CLI with the tiny (meaningless) test model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.cli.main import main


@pytest.fixture
def indexed(library, tmp_path: Path, make_photo):
    for i in range(12):
        make_photo(tmp_path / "photos" / f"p{i:02d}.jpg", color=(20 * i, 200 - 10 * i, 90))
    library.index([tmp_path / "photos"])
    return library


def run(capsys, library, *argv: str) -> tuple[int, str, str]:
    code = main(["--library", str(library.directory), *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.slow  # the whole built-in vocabulary through the tiny CLIP, and a real clustering
def test_vocab_edits_round_trip_and_rename_automatic_names(indexed, tmp_path: Path, capsys) -> None:
    code, out, _ = run(capsys, indexed, "vocab", "list", "--json")
    builtin = json.loads(out)
    assert code == 0 and len(builtin) > 3000 and {"term", "category"} <= set(builtin[0])

    words = tmp_path / "mine.txt"
    words.write_text("# my places\nGrandma's garden\nLisbon\n\nLisbon\n", "utf-8")
    code, out, _ = run(capsys, indexed, "vocab", "use", str(words), "--no-progress")
    assert code == 0 and "2 terms" in out
    code, out, _ = run(capsys, indexed, "vocab", "add", "Harbour", "--no-progress")
    assert code == 0 and "3 terms" in out

    code, out, _ = run(capsys, indexed, "cluster", "--k", "2", "--no-progress")
    assert code == 0
    code, out, _ = run(capsys, indexed, "albums", "--json")
    albums = [a for a in json.loads(out) if a["id"] is not None]
    assert {a["name"].lower() for a in albums} <= {"grandma's garden", "lisbon", "harbour"} | {
        a["name"].lower() for a in albums if a["generic"]
    }
    # A user-given name survives a vocabulary change; automatic names are recomputed.
    assert run(capsys, indexed, "rename", str(albums[0]["id"]), "Summer")[0] == 0
    code, out, _ = run(capsys, indexed, "vocab", "reset", "--no-progress")
    assert code == 0 and "named" in out
    code, out, _ = run(capsys, indexed, "albums", "--json")
    renamed = {a["id"]: a for a in json.loads(out)}
    assert renamed[albums[0]["id"]]["name"] == "Summer" and renamed[albums[0]["id"]]["user_named"] is True

    code, _, err = run(capsys, indexed, "vocab", "remove", "no such term at all")
    assert code == 1 and "is not in the vocabulary" in err


def test_search_json_and_bad_arguments(indexed, capsys) -> None:
    code, out, _ = run(capsys, indexed, "search", "a", "red", "photo", "--json", "--limit", "5", "--no-progress")
    results = json.loads(out)
    assert code == 0 and len(results) <= 5
    assert all(set(r) == {"id", "path", "score"} for r in results)
    assert [r["score"] for r in results] == sorted((r["score"] for r in results), reverse=True)
    code, _, err = run(capsys, indexed, "search", "x", "--limit", "0")
    assert code == 1 and "--limit" in err
    code, _, err = run(capsys, indexed, "search", "   ")
    assert code == 1 and "empty" in err


def test_name_without_clusters_is_harmless(indexed, capsys) -> None:
    code, out, _ = run(capsys, indexed, "name", "--no-progress")
    assert code == 0 and "named 0" in out
