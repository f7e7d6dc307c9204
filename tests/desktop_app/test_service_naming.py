"""Albums never wait for names in the window: albums first, then "Naming albums", then the ensemble refinement
in the background, which steps aside for any other operation."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

import engine.naming.text_features as text_features
from desktop_app.service import LibraryService
from desktop_app.wording import NAME_CANCELLED, REFINE_CANCELLED
from engine.embed.embedder import Embedder
from engine.errors import ModelUnavailableError
from engine.library import META_NAMES_PENDING, Library
from engine.naming.vocabulary import VocabularyChoice

TERMS = ("beach", "mountain", "cat", "receipt", "birthday party", "snow", "car", "garden")


@pytest.fixture
def naming_service(tmp_path: Path, tiny_model: dict[str, str], make_photo, qtbot):
    colours = [(220, 30, 30), (30, 200, 40), (30, 40, 220)]
    for n in range(12):
        make_photo(tmp_path / "photos" / f"p{n}.jpg", color=colours[n % 3])
    with Library(tmp_path / "library") as library:
        library.set_model(tiny_model["name"], tiny_model["pretrained"], tiny_model["config"])
        library.set_vocabulary(VocabularyChoice(replacement=TERMS))
    service = LibraryService(tmp_path / "library")
    yield service
    assert service.close()


def slow_text_tower(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    """Every text-tower call takes a while, two prompts at a time: the naming jobs last long enough to watch."""
    real = Embedder.embed_texts

    def slow(self: Embedder, texts) -> np.ndarray:
        time.sleep(seconds)
        return real(self, texts)

    monkeypatch.setattr(Embedder, "embed_texts", slow)
    monkeypatch.setattr(text_features, "_PROMPTS_PER_CHUNK", 2)


def record(service: LibraryService) -> tuple[list[str], list[tuple[list[str], list[str]]]]:
    """The titles of the operations as they start, and each summary with the album names when it came."""
    titles: list[str] = []
    summaries: list[tuple[list[str], list[str]]] = []
    service.busyChanged.connect(lambda busy: busy and titles.append(service.operation_title))
    service.operationFinished.connect(
        lambda lines: summaries.append((list(lines), [a.name for a in service.albums() if a.id is not None]))
    )
    return titles, summaries


def idle(service: LibraryService) -> bool:
    return service.operation_title == ""


def test_albums_appear_at_once_then_names_then_refined_names(naming_service, tmp_path: Path, qtbot) -> None:
    service = naming_service
    titles, summaries = record(service)
    undoable: list[list[int]] = []
    service.operationUndoable.connect(undoable.append)
    assert service.index_folders([tmp_path / "photos"])
    qtbot.waitUntil(lambda: "Refining album names" in titles and idle(service), timeout=120_000)

    assert titles[:3] == ["Adding photos", "Naming albums", "Refining album names"]
    lines, names = summaries[0]
    assert any("embedded 12" in line for line in lines)
    assert names and all(name.startswith("Album ") for name in names)  # the albums came with provisional names
    lines, names = summaries[1]
    assert "one prompt each" in lines[0]
    assert names and not any(name.startswith("Album ") for name in names)
    with Library(service.directory) as library:
        assert library.vocabulary_embedded()  # the whole ensemble, in the background
        kinds = [e.kind for e in library.history()]
    assert kinds[-2:] == ["name", "recluster"]
    assert undoable == []  # the first albums offer no Undo, their names none either


def test_a_recluster_names_its_albums_itself_once_the_vocabulary_is_cached(naming_service, tmp_path, qtbot) -> None:
    service = naming_service
    with Library(service.directory) as library:
        library.index([tmp_path / "photos"])
        library.name()  # the whole ensemble is cached: nothing is left to name afterwards
    titles, summaries = record(service)
    assert service.recluster("auto")
    qtbot.waitUntil(lambda: bool(summaries) and idle(service), timeout=60_000)
    qtbot.wait(50)
    assert titles == ["Re-clustering"] and idle(service)
    assert not any(name.startswith("Album ") for name in summaries[0][1])


def test_the_naming_jobs_step_aside_for_another_operation_and_resume(
    naming_service, tmp_path: Path, qtbot, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = naming_service
    slow_text_tower(monkeypatch, 0.3)
    titles, summaries = record(service)
    undoable: list[list[int]] = []
    service.operationUndoable.connect(undoable.append)
    assert service.index_folders([tmp_path / "photos"])
    qtbot.waitUntil(lambda: service.operation_title == "Naming albums", timeout=60_000)
    assert not service.busy  # the window's actions stay enabled while names are made
    assert service.recluster("auto")  # not refused: the naming job steps aside
    assert service.operation_title == "Re-clustering" and service.busy
    qtbot.waitUntil(lambda: service.operation_title == "Refining album names", timeout=60_000)
    assert not service.busy
    monkeypatch.undo()  # the search embeds a background vocabulary of its own: at full speed
    with qtbot.waitSignal(service.searchFinished, timeout=60_000):
        assert service.search("a red photo")
    qtbot.waitUntil(lambda: idle(service), timeout=120_000)
    assert titles == [
        "Adding photos",
        "Naming albums",
        "Re-clustering",
        "Naming albums",
        "Refining album names",
        "Searching",
        "Refining album names",
    ]
    assert not any(name.startswith("Album ") for name in summaries[-1][1])
    with Library(service.directory) as library:
        assert library.vocabulary_embedded()
        kinds = {e.id: e.kind for e in library.history()}
    # The re-cluster's Undo, offered again once its albums are named, reverts the names too.
    assert [kinds[i] for i in undoable[0]] == ["recluster"]
    assert sorted(kinds[i] for i in undoable[-1]) == ["name"] * (len(undoable[-1]) - 1) + ["recluster"]
    assert service.actions_are_latest(undoable[-1])


def test_cancelling_the_refinement_keeps_the_names_and_does_not_resume(
    naming_service, tmp_path: Path, qtbot, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = naming_service
    slow_text_tower(monkeypatch, 0.2)
    titles, _ = record(service)
    cancelled: list[str] = []
    service.operationCancelled.connect(cancelled.append)
    assert service.index_folders([tmp_path / "photos"])
    qtbot.waitUntil(lambda: service.operation_title == "Refining album names", timeout=60_000)
    service.cancel()
    qtbot.waitUntil(lambda: bool(cancelled) and idle(service), timeout=60_000)
    qtbot.wait(100)
    assert titles[-1] == "Refining album names" and idle(service)
    assert not any(a.name.startswith("Album ") for a in service.albums() if a.id is not None)


def test_albums_a_stop_left_unnamed_are_named_when_the_window_finds_the_model(naming_service, tmp_path, qtbot) -> None:
    service = naming_service
    with Library(service.directory) as library:
        library.index([tmp_path / "photos"])
        # The first albums, committed with provisional names; the command or window then stopped before naming.
        assert library.recluster(names_later=True).names_pending
        assert library.names_pending()
    titles, summaries = record(service)
    with qtbot.waitSignal(service.modelReady, timeout=60_000):
        service.check_model()  # as the window does after its first paint
    assert service.name_pending_albums()
    qtbot.waitUntil(lambda: "Naming albums" in titles and bool(summaries), timeout=60_000)
    assert titles[0] == "Naming albums"
    assert not any(name.startswith("Album ") for name in summaries[0][1])
    qtbot.waitUntil(lambda: idle(service), timeout=120_000)
    with Library(service.directory) as library:
        assert not library.names_pending()
    assert service.undo()  # the user takes the (last) names back: that choice holds, nothing names them again
    with Library(service.directory) as library:
        assert not library.names_pending()
    assert not service.name_pending_albums()


def test_nothing_to_name_starts_nothing(naming_service, tmp_path, qtbot) -> None:
    service = naming_service
    with Library(service.directory) as library:
        library.index([tmp_path / "photos"])
        library.recluster()  # names inside the re-cluster: nothing is left pending
        assert not library.names_pending()
    titles, _ = record(service)
    assert not service.name_pending_albums()
    qtbot.wait(100)
    assert titles == []


def test_a_recluster_that_names_its_albums_ends_an_earlier_stopped_naming(naming_service, tmp_path, qtbot) -> None:
    with Library(naming_service.directory) as library:
        library.index([tmp_path / "photos"])
        assert library.recluster(names_later=True).names_pending  # then stopped before naming
        library.name()  # the vocabulary is embedded from here on, as after any naming
        assert not library.names_pending()
        library.catalog.set_meta(META_NAMES_PENDING, "1")  # as if an older stop had left it
        library.recluster()  # names its albums itself, from the cached vocabulary
        assert not library.names_pending()
    assert not naming_service.name_pending_albums()


def _first_names_only(service: LibraryService, tmp_path: Path) -> None:
    """Albums with their first names (one prompt per term); a stop then cut the refinement short."""
    with Library(service.directory) as library:
        library.index([tmp_path / "photos"])
        assert library.recluster(names_later=True).names_pending
        library.name(quick=True)
        assert library.names_refinement_due()


def cancel_naming(service: LibraryService, title: str, qtbot, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Start the naming the window would start on opening, slowed down, and press Cancel once `title` runs;
    what `operationCancelled` said."""
    slow_text_tower(monkeypatch, 0.2)
    cancelled: list[str] = []
    service.operationCancelled.connect(cancelled.append)
    assert service.name_pending_albums()
    qtbot.waitUntil(lambda: service.operation_title == title, timeout=60_000)
    service.cancel()  # the user's Cancel
    qtbot.waitUntil(lambda: bool(cancelled) and idle(service), timeout=60_000)
    return cancelled


def test_a_refinement_a_stop_cut_short_resumes_when_the_window_finds_the_model(naming_service, tmp_path, qtbot) -> None:
    service = naming_service
    _first_names_only(service, tmp_path)
    titles, _ = record(service)
    with qtbot.waitSignal(service.modelReady, timeout=60_000):
        service.check_model()  # as the window does after its first paint
    assert service.name_pending_albums()
    qtbot.waitUntil(lambda: titles == ["Refining album names"] and idle(service), timeout=120_000)
    with Library(service.directory) as library:
        assert library.vocabulary_embedded() and not library.names_refinement_due()
    assert not service.name_pending_albums()


def test_a_refinement_the_user_stopped_is_not_started_again(
    naming_service, tmp_path: Path, qtbot, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = naming_service
    _first_names_only(service, tmp_path)
    cancelled = cancel_naming(service, "Refining album names", qtbot, monkeypatch)
    assert cancelled == [REFINE_CANCELLED]  # a sentence naming the menu item that resumes it
    with Library(service.directory) as library:
        assert not library.names_refinement_due()
    assert not service.name_pending_albums()
    assert service.naming_offered() == "full"


def test_refine_album_names_refines_them_after_the_user_stopped_it(naming_service, tmp_path: Path, qtbot) -> None:
    service = naming_service
    _first_names_only(service, tmp_path)
    with Library(service.directory) as library:
        library.decline_name_refinement()  # stopped in an earlier window
    titles, _ = record(service)
    undoable: list[list[int]] = []
    service.operationUndoable.connect(undoable.append)
    assert service.naming_offered() == "full"
    assert service.refine_names()  # Album → Refine album names
    assert service.naming_offered() != "full"  # not twice at once
    qtbot.waitUntil(lambda: titles == ["Refining album names"] and idle(service), timeout=120_000)
    with Library(service.directory) as library:
        assert library.vocabulary_embedded() and not library.names_refinable()
        kinds = {e.id: e.kind for e in library.history()}
    assert [[kinds[i] for i in ids] for ids in undoable] == [["name"]]  # the banner's Undo reverts the names
    assert service.naming_offered() != "full" and not service.refine_names()


def test_closing_the_window_during_the_refinement_leaves_it_due(
    naming_service, tmp_path: Path, qtbot, monkeypatch: pytest.MonkeyPatch
) -> None:
    _first_names_only(naming_service, tmp_path)
    slow_text_tower(monkeypatch, 0.2)
    window = LibraryService(naming_service.directory)
    assert window.name_pending_albums()
    qtbot.waitUntil(lambda: window.operation_title == "Refining album names", timeout=60_000)
    assert window.close()  # closing is no choice about the names: the next window refines them
    with Library(naming_service.directory) as library:
        assert library.names_refinement_due()


def test_refine_album_names_without_the_model_says_why(
    naming_service, tmp_path: Path, qtbot, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = naming_service
    _first_names_only(service, tmp_path)

    def unavailable(*args, **kwargs):
        raise ModelUnavailableError("the CLIP weights tiny/x are not on this computer and could not be downloaded")

    monkeypatch.setattr(Library, "name", unavailable)  # the weights went away since the window opened
    failures: list[str] = []
    service.operationFailed.connect(lambda message, details: failures.append(message))
    assert service.refine_names()
    qtbot.waitUntil(lambda: bool(failures) and idle(service), timeout=60_000)
    assert "photoatlas" not in failures[0] and "not on this computer" in failures[0]
    assert service.naming_offered() == "full"  # nothing changed: the item stays for later


def test_first_names_the_user_stopped_are_offered_from_the_album_menu(
    naming_service, tmp_path: Path, qtbot, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = naming_service
    with Library(service.directory) as library:
        library.index([tmp_path / "photos"])
        assert library.recluster(names_later=True).names_pending  # albums with provisional names
    titles, _ = record(service)
    assert cancel_naming(service, "Naming albums", qtbot, monkeypatch) == [NAME_CANCELLED]
    assert service.naming_offered() == "quick"  # Album → Name albums
    monkeypatch.undo()
    assert service.refine_names()
    qtbot.waitUntil(lambda: titles[-1] == "Refining album names" and idle(service), timeout=120_000)
    assert titles == ["Naming albums", "Naming albums", "Refining album names"]
    assert not any(a.name.startswith("Album ") for a in service.albums() if a.id is not None)
    assert service.naming_offered() is None
