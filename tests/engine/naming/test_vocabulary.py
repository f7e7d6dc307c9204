"""The candidate vocabulary: the shipped lists, prompt templates and the user's saved edits."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from engine.errors import InvalidInputError
from engine.naming.vocabulary import (
    CATEGORIES,
    PROMPT_TEMPLATES,
    Term,
    VocabularyChoice,
    builtin_vocabulary,
    resources_dir,
    vocabulary_for,
)

LISTS = resources_dir() / "vocabulary"
TOY_COLOURS = ("red", "green", "blue", "yellow", "orange", "black")
TOY_SHAPES = ("circle", "square", "triangle", "star", "hexagon", "cross")


def raw_terms(path: Path) -> list[str]:
    """The file's terms read independently of the module under test."""
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


# --- the shipped lists ---


def test_every_list_has_a_source_header_and_a_sources_document() -> None:
    for name in (*CATEGORIES, "generic"):
        lines = (LISTS / f"{name}.txt").read_text(encoding="utf-8").splitlines()
        header = " ".join(line for line in lines[: lines.index(next(x for x in lines if not x.startswith("#")))])
        assert "Source:" in header and "licence" in header, name
    sources = (LISTS / "SOURCES.md").read_text(encoding="utf-8")
    assert all(f"{name}.txt" in sources for name in (*CATEGORIES, "generic"))
    assert "No benchmark answer key by construction" in sources


def test_builtin_lists_are_large_unique_and_clean() -> None:
    files = {category: raw_terms(LISTS / f"{category}.txt") for category in CATEGORIES}
    everything = [term for terms in files.values() for term in terms]
    assert all(files.values()), "every category has terms"
    assert len(everything) >= 3000
    assert len({t.casefold() for t in everything}) == len(everything), "no duplicates, ignoring case"
    assert not [t for t in everything if "_" in t or t != " ".join(t.split())]


def test_builtin_vocabulary_matches_the_files() -> None:
    vocabulary = builtin_vocabulary()
    expected = [(t, c) for c in CATEGORIES for t in raw_terms(LISTS / f"{c}.txt")]
    assert [(t.text, t.category) for t in vocabulary.terms] == expected
    assert len(vocabulary) == len(expected)
    assert vocabulary.generic and vocabulary.generic == tuple(raw_terms(LISTS / "generic.txt"))
    assert {"golden retriever", "birthday party", "beach", "receipt", "sunset"} <= set(vocabulary.names())


def test_no_toy_world_colour_shape_concept_is_a_builtin_term() -> None:
    names = {n.casefold() for n in builtin_vocabulary().names()}
    composites = {f"{c} {s}" for c in TOY_COLOURS for s in TOY_SHAPES}
    assert not names & (composites | {c + "s" for c in composites})


def test_no_benchmark_label_set_was_copied_as_a_whole() -> None:
    # Single words such as "sandal" occur naturally (ImageNet has them); the whole label set must not.
    fashion = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
    names = set(builtin_vocabulary().names())
    assert not set(fashion) <= names
    assert "T-shirt/top" not in names and "Ankle boot" not in names


def test_templates_take_the_term_once() -> None:
    assert set(PROMPT_TEMPLATES) == {*CATEGORIES, "user"}
    for category, templates in PROMPT_TEMPLATES.items():
        assert 4 <= len(templates) <= 8, category
        assert all(t.count("{}") == 1 for t in templates), category


def test_prompts_fill_the_templates_of_the_terms_category() -> None:
    vocabulary = builtin_vocabulary()
    term = next(t for t in vocabulary.terms if t.text == "golden retriever")
    assert term.category == "objects"
    assert vocabulary.prompts(term) == [t.replace("{}", "golden retriever") for t in PROMPT_TEMPLATES["objects"]]
    assert vocabulary.prompts(Term("{odd} term", "user"))[0] == "a photo of {odd} term."
    with pytest.raises(InvalidInputError):
        Term("dog", "no-such-category")


def test_version_is_stable_and_follows_the_terms() -> None:
    builtin = builtin_vocabulary()
    assert len(builtin.version) == 16 and int(builtin.version, 16) >= 0
    assert vocabulary_for(VocabularyChoice()).version == builtin.version
    # The same digest in a fresh process: it hashes content, not object ids or hash seeds.
    code = "from engine.naming.vocabulary import builtin_vocabulary as b; print(b().version)"
    fresh = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert fresh.stdout.strip() == builtin.version
    assert vocabulary_for(VocabularyChoice().add(["my grandmother's garden"])).version != builtin.version
    assert vocabulary_for(VocabularyChoice().remove(["beach"])).version != builtin.version


def test_importing_the_module_stays_light() -> None:
    code = "import sys, engine.naming.vocabulary; print('torch' in sys.modules, 'open_clip' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


# --- the user's edits ---


def test_add_remove_and_reset_round_trip_through_the_library(tmp_path: Path) -> None:
    choice = VocabularyChoice.load(tmp_path)
    assert choice == VocabularyChoice()
    choice = choice.add(["  Grandma's   garden ", "Lake Tahoe"]).remove(["BEACH", "Lake Tahoe"])
    assert choice.added == ("Grandma's garden",)
    assert choice.removed == ("beach",)  # recorded with the built-in spelling
    choice.save(tmp_path)
    assert VocabularyChoice.load(tmp_path) == choice
    assert not list(tmp_path.glob(".vocabulary-*")), "no temporary file left behind"

    vocabulary = vocabulary_for(VocabularyChoice.load(tmp_path))
    names = vocabulary.names()
    assert "beach" not in names and "Lake Tahoe" not in names
    assert names[-1] == "Grandma's garden" and vocabulary.terms[-1].category == "user"
    assert len(vocabulary) == len(builtin_vocabulary())

    choice.reset().save(tmp_path)
    assert vocabulary_for(VocabularyChoice.load(tmp_path)).version == builtin_vocabulary().version


def test_adding_a_removed_term_brings_it_back_once() -> None:
    choice = VocabularyChoice().remove(["beach"]).add(["Beach"])
    assert choice == VocabularyChoice()
    assert vocabulary_for(choice).names().count("beach") == 1
    # Adding what is already there, in any case, changes nothing.
    assert VocabularyChoice().add(["SUNSET", "sunset"]) == VocabularyChoice()
    assert VocabularyChoice().add("kite surfing").added == ("kite surfing",)  # a lone string is one term


def test_remove_matches_case_insensitively_and_names_unknown_terms() -> None:
    choice = VocabularyChoice().add(["Tide Pools"])
    assert choice.remove(["tide pools"]).added == ()
    with pytest.raises(InvalidInputError, match="'no such thing' is not in the vocabulary"):
        choice.remove(["beach", "no such thing"])
    with pytest.raises(InvalidInputError, match="'beach' is not in the vocabulary"):
        choice.remove(["beach"]).remove(["beach"])


def test_empty_terms_are_rejected() -> None:
    for bad in (["ok", "   "], [""], ["\t\n"]):
        with pytest.raises(InvalidInputError, match="cannot be empty"):
            VocabularyChoice().add(bad)


def test_use_file_replaces_the_builtin_list(tmp_path: Path) -> None:
    path = tmp_path / "mine.txt"
    path.write_bytes("\ufeff# my albums\n\nGrandpa's boat\n  Sailing  \nsailing\n# done\nCrème brûlée\n".encode())
    choice = VocabularyChoice().add(["x"]).remove(["beach"]).use_file(path)
    assert choice == VocabularyChoice(replacement=("Grandpa's boat", "Sailing", "Crème brûlée"))
    choice = choice.add(["kayak trip"]).remove(["sailing"])
    choice.save(tmp_path)
    vocabulary = vocabulary_for(VocabularyChoice.load(tmp_path))
    assert vocabulary.names() == ["Grandpa's boat", "Crème brûlée", "kayak trip"]
    assert {t.category for t in vocabulary.terms} == {"user"}
    assert vocabulary.generic == builtin_vocabulary().generic
    with pytest.raises(InvalidInputError, match="'beach' is not in the vocabulary"):
        choice.remove(["beach"])


def test_use_file_rejects_empty_missing_and_binary_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("# only a comment\n\n   \n", encoding="utf-8")
    with pytest.raises(InvalidInputError, match="has no terms"):
        VocabularyChoice().use_file(empty)
    with pytest.raises(InvalidInputError, match="cannot read vocabulary file"):
        VocabularyChoice().use_file(tmp_path / "missing.txt")
    with pytest.raises(InvalidInputError, match="cannot read vocabulary file"):
        VocabularyChoice().use_file(tmp_path)  # a folder
    binary = tmp_path / "photo.jpg"
    binary.write_bytes(b"\xff\xd8\xff\xe0 not text \x80\x81")
    with pytest.raises(InvalidInputError, match="not UTF-8"):
        VocabularyChoice().use_file(binary)


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        "[]",
        json.dumps({"format": 99, "added": []}),
        json.dumps({"format": 1, "added": "dog"}),
        json.dumps({"format": 1, "removed": [1, 2]}),
        json.dumps({"format": 1, "replacement": []}),
    ],
)
def test_a_corrupt_choice_file_is_a_clear_error(tmp_path: Path, content: str) -> None:
    (tmp_path / "vocabulary.json").write_text(content, encoding="utf-8")
    with pytest.raises(InvalidInputError, match=r"vocabulary\.json") as info:
        VocabularyChoice.load(tmp_path)
    assert "delete it" in str(info.value)


def test_save_replaces_the_previous_file(tmp_path: Path) -> None:
    VocabularyChoice().add(["first"]).save(tmp_path / "new-library")
    VocabularyChoice().add(["second"]).save(tmp_path / "new-library")
    assert VocabularyChoice.load(tmp_path / "new-library").added == ("second",)
    assert json.loads((tmp_path / "new-library" / "vocabulary.json").read_text())["format"] == 1
