"""Albums never wait for names: quick names from one prompt per term, the whole ensemble later, both cached."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import engine.naming.text_features as text_features
from engine.embed.embedder import Embedder
from engine.errors import Cancelled
from engine.naming.album_names import cached_vocabulary_features
from engine.naming.text_features import prompt_key
from engine.naming.vocabulary import PROMPT_TEMPLATES, USER_CATEGORY, VocabularyChoice
from engine.progress import RecordingProgress

TERMS = ("beach", "mountain", "cat", "receipt", "birthday party", "snow", "car", "garden")


@pytest.fixture
def indexed(library, tmp_path: Path, make_photo):
    """The tiny model's library with 12 photos in three colours and a small vocabulary of its own."""
    colours = [(220, 30, 30), (30, 200, 40), (30, 40, 220)]
    for n in range(12):
        make_photo(tmp_path / "photos" / f"p{n:02d}.jpg", color=colours[n % 3])
    library.set_vocabulary(VocabularyChoice(replacement=TERMS))
    library.index([tmp_path / "photos"])
    return library


def count_texts(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many prompts each call to the text tower embeds."""
    calls: list[int] = []
    real = Embedder.embed_texts

    def counting(self: Embedder, texts) -> np.ndarray:
        calls.append(len(texts))
        return real(self, texts)

    monkeypatch.setattr(Embedder, "embed_texts", counting)
    return calls


def machine_names(library) -> dict[int, str]:
    return {a.id: a.name for a in library.albums.albums() if a.id is not None}


def test_one_prompt_per_term_is_the_first_template_and_cached_apart_from_the_ensemble(indexed) -> None:
    vocabulary = indexed.vocabulary()
    quick, full = vocabulary.prompt_sets(ensemble=False), vocabulary.prompt_sets()
    assert [len(p) for p in quick] == [1] * len(TERMS)
    assert [len(p) for p in full] == [len(PROMPT_TEMPLATES[USER_CATEGORY])] * len(TERMS)
    assert [p[0] for p in quick] == [p[0] for p in full]
    assert {prompt_key(p) for p in quick}.isdisjoint({prompt_key(p) for p in full})

    assert not indexed.vocabulary_embedded(full=False)
    indexed.name(quick=True)
    assert indexed.vocabulary_embedded(full=False) and not indexed.vocabulary_embedded()
    model_id = indexed.model_id()
    features, is_full = cached_vocabulary_features(indexed.catalog, model_id, vocabulary)
    assert not is_full and features.shape == (len(TERMS), indexed.embedder().dim)
    np.testing.assert_allclose(features, indexed.embedder().embed_texts([p[0] for p in quick]), atol=1e-5)

    indexed.name()
    assert indexed.vocabulary_embedded()
    assert cached_vocabulary_features(indexed.catalog, model_id, vocabulary)[1] is True


def test_a_first_recluster_with_names_later_commits_the_albums_before_any_text_is_embedded(
    indexed, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = count_texts(monkeypatch)
    summary = indexed.recluster(names_later=True)
    assert summary.names_pending and calls == []  # the albums did not wait for the text tower
    assert summary.created and all(name.startswith("Album ") for name in machine_names(indexed).values())
    assert "naming the albums next" in "\n".join(summary.lines())
    assert [e.kind for e in indexed.history()] == ["recluster"]

    named = indexed.name(quick=True)
    assert sum(calls) == len(TERMS)  # one prompt per term
    assert named.quick and "one prompt each" in named.lines()[0]
    names = machine_names(indexed)
    assert not any(name.startswith("Album ") for name in names.values())
    assert {old for old, _ in named.renamed} <= {f"Album {n}" for n in range(1, 20)}
    entries = indexed.history()
    assert [(e.kind, e.description) for e in entries[:2]] == [("name", "Name albums"), ("recluster", "Re-cluster")]

    # "Name albums" is an action of its own: undo puts the provisional names back, redo the names.
    indexed.albums.undo()
    assert all(name.startswith("Album ") for name in machine_names(indexed).values())
    indexed.albums.redo()
    assert machine_names(indexed) == names


def test_naming_never_renames_an_album_the_user_named(indexed) -> None:
    indexed.recluster(names_later=True)
    mine = next(iter(machine_names(indexed)))
    indexed.albums.rename(mine, "Holidays")
    indexed.name(quick=True)
    indexed.name()
    assert machine_names(indexed)[mine] == "Holidays"


def test_with_the_vocabulary_cached_the_recluster_names_its_albums_itself(indexed, monkeypatch) -> None:
    indexed.name(quick=True)  # nothing clustered yet: this only embeds the vocabulary, one prompt per term
    calls = count_texts(monkeypatch)
    summary = indexed.recluster(names_later=True)
    assert not summary.names_pending and calls == []
    assert "named" in summary.naming
    assert not any(name.startswith("Album ") for name in machine_names(indexed).values())
    assert [e.kind for e in indexed.history()] == ["recluster"]  # one action, undone as one


def test_refining_with_the_ensemble_records_an_action_only_when_a_name_changes(indexed) -> None:
    indexed.recluster(names_later=True)
    indexed.name(quick=True)
    refined = indexed.name()
    assert not refined.quick
    kinds = [e.kind for e in indexed.history()]
    assert kinds[: 1 + bool(refined.renamed)] == ["name"] * (1 + bool(refined.renamed))
    before = len(indexed.history())
    again = indexed.name()  # cached, and the same names: nothing to record
    assert again.renamed == () and len(indexed.history()) == before


def test_the_default_recluster_still_names_inside_and_embeds_the_whole_ensemble(indexed, monkeypatch) -> None:
    calls = count_texts(monkeypatch)
    summary = indexed.recluster()
    assert not summary.names_pending and sum(calls) == len(TERMS) * len(PROMPT_TEMPLATES[USER_CATEGORY])
    assert indexed.vocabulary_embedded()
    assert [e.kind for e in indexed.history()] == ["recluster"]


def test_embedding_the_ensemble_resumes_where_a_cancel_stopped_it(indexed, monkeypatch) -> None:
    monkeypatch.setattr(text_features, "_PROMPTS_PER_CHUNK", 10)  # two terms' ensembles a chunk
    with pytest.raises(Cancelled):
        indexed.name(progress=RecordingProgress(cancel_after=4))
    model_id = indexed.model_id()
    keys = {prompt_key(p) for p in indexed.vocabulary().prompt_sets()}
    done = len(indexed.catalog.term_embeddings(model_id, keys))
    assert 0 < done < len(TERMS)
    calls = count_texts(monkeypatch)
    indexed.name()
    assert sum(calls) == (len(TERMS) - done) * len(PROMPT_TEMPLATES[USER_CATEGORY])


def test_a_refinement_a_stop_cut_short_is_due_until_done_unless_the_user_stopped_it(indexed) -> None:
    from engine.library import META_REFINE_DECLINED

    assert not indexed.names_refinement_due()  # no albums yet
    assert indexed.recluster(names_later=True).names_pending
    assert not indexed.names_refinement_due()  # the first names come first (`names_pending`)
    indexed.name(quick=True)  # then the command was killed before the refinement
    assert indexed.names_refinement_due() and indexed.names_refinable()
    indexed.decline_name_refinement()  # the user stopped it in the window
    assert not indexed.names_refinement_due()
    assert indexed.names_refinable()  # the user may still ask for it (Album → Refine album names)
    indexed.name()  # refined after all (Name albums, or a re-cluster's naming)
    assert not indexed.names_refinement_due() and not indexed.catalog.get_meta(META_REFINE_DECLINED)
    assert not indexed.names_refinable()


def test_no_refinement_is_due_when_the_user_named_every_album(indexed) -> None:
    indexed.recluster(names_later=True)
    indexed.name(quick=True)
    for number, album in enumerate(a for a in indexed.albums.albums() if a.id is not None):
        indexed.albums.rename(album.id, f"Mine {number}")
    assert not indexed.names_refinement_due() and not indexed.names_refinable()
