"""`photoatlas recluster` the first time with a model: the albums first, then "naming…", then the names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.cli.main import main
from engine.naming.vocabulary import VocabularyChoice

TERMS = ("beach", "mountain", "cat", "receipt", "birthday party", "snow", "car", "garden")


@pytest.fixture
def indexed(library, tmp_path: Path, make_photo):
    colours = [(220, 30, 30), (30, 200, 40), (30, 40, 220)]
    for n in range(12):
        make_photo(tmp_path / "photos" / f"p{n:02d}.jpg", color=colours[n % 3])
    library.set_vocabulary(VocabularyChoice(replacement=TERMS))
    library.index([tmp_path / "photos"])
    return library


def run(capsys, library, *argv: str) -> tuple[int, list[str]]:
    code = main(["--library", str(library.directory), *argv])
    return code, capsys.readouterr().out.splitlines()


def where(lines: list[str], start: str) -> int:
    return next(i for i, line in enumerate(lines) if line.startswith(start))


def test_first_recluster_prints_albums_then_naming_then_names(indexed, capsys) -> None:
    code, lines = run(capsys, indexed, "recluster", "--no-progress")
    assert code == 0
    albums, naming = where(lines, "12 photos → "), lines.index("naming…")
    named, refining = where(lines, "named "), where(lines, "refining the names")
    assert albums < where(lines, "naming the albums next") < naming < named < refining
    assert "one prompt each" in lines[named] and "is now" in lines[named + 1]
    assert indexed.vocabulary_embedded()  # refined from the whole ensemble before the command ended

    code, lines = run(capsys, indexed, "albums", "--json")
    assert not any(a["name"].startswith("Album ") for a in json.loads("\n".join(lines)) if a["id"] is not None)

    # Cached now: the next re-cluster names its albums itself, with nothing to print after.
    code, lines = run(capsys, indexed, "recluster", "--no-progress")
    assert code == 0 and "naming…" not in lines and not any(line.startswith("refining") for line in lines)
    assert any(line.startswith("named ") for line in lines)
