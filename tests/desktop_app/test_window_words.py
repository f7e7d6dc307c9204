"""The window never sends people to the shell: every message names a button or menu of the window, errors are
sentences, and technical text (errno, commands) stays behind "Show details". File → Rescan folders exists."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from desktop_app.main_window import MainWindow
from desktop_app.service import LibraryService
from desktop_app.wording import (
    ADD_FOLDER,
    NAME_ALBUMS,
    OFFLINE_DOWNLOAD,
    REFINE_NAMES,
    RESCAN,
    for_window,
    lines_for_window,
    summary_for_window,
)
from engine.albums.recluster import ReclusterSummary
from engine.index.indexer import IndexSummary
from engine.library import Library
from engine.naming.album_names import NamingSummary

from .conftest import SmallLibrary, open_window

SHELL = re.compile(r"photoatlas |run photoatlas|\s--[a-z]|Errno")

# What the engine says for the CLI (as of this writing), and what the window may show of it.
ENGINE_MESSAGES = [
    "nothing is embedded yet: run photoatlas index first",
    "no embedded photos to cluster: run photoatlas index first",
    "no photo folders yet: name one, e.g. photoatlas index ~/Pictures",
    "no clustering yet: run photoatlas recluster first",
    "no albums yet: run photoatlas recluster first",
    "some photos have no thumbnail yet: run photoatlas index first",
    "indexing cancelled; finished photos are saved, run it again to continue",
    "device 'cuda' was requested but no CUDA GPU is available; use --device auto",
    "the CLIP weights ViT-B-32/laion2b_s34b_b79k are not on this computer and could not be downloaded: "
    "offline. To fix it, connect to the internet so PhotoAtlas can download them (about 600 MB, once), or point "
    "it at a checkpoint file you already have: photoatlas index --model ViT-B-32 --pretrained "
    "/path/to/weights.safetensors PATH",
    "downloading the weights ViT-B-32/laion2b_s34b_b79k failed: [Errno -2] Name or service not known. Check the "
    "internet connection and run the download again: it continues where it stopped. Or use a checkpoint file "
    "you already have: photoatlas model use FILE",
    "unknown model architecture 'ViT-X'; use an open_clip name such as ViT-B-32, or register a custom one with "
    "--model-config FILE.json",
    "unknown pretrained weights 'openai' for photoatlas-tiny; known tags: none: pass a local checkpoint file "
    "with --pretrained",
    "the checkpoint file /tmp/w.safetensors does not exist",
    "the compute cluster at 10.0.0.5:6379 went away (the cluster stopped answering); every photo finished so far "
    "is saved. Run the index again to continue on this computer, or once the cluster is back, on it",
    "no compute cluster answers at 10.0.0.5:6379 (Connection refused); check that the cluster is started and the "
    "address is right, or work on this computer without a cluster",
    "could not join the compute cluster at auto: no running cluster; check that the cluster is started and the "
    "address is right, or work on this computer without a cluster",
    "Ray is not installed: install PhotoAtlas's cluster support first (pip install 'photoatlas[ray]')",
    "a worker of the compute cluster could not start: ModelUnavailableError: the weights are missing",
]


@pytest.mark.parametrize("engine_message", ENGINE_MESSAGES)
def test_engine_messages_become_sentences_about_the_window(engine_message: str) -> None:
    message, details = for_window(engine_message)
    assert not SHELL.search(message), message
    assert message[0].isupper() and message.rstrip()[-1] in ".…", message
    assert details == engine_message, "the engine's own text stays behind Show details"


def test_summary_lines_name_the_window_not_the_shell() -> None:
    lines = lines_for_window(
        [
            "indexed 3 photos",
            "40% of your photos are in Other: photoatlas recluster would sort them",
            "albums are not named: the model is unavailable (run photoatlas name later)",
        ]
    )
    assert lines[0] == "indexed 3 photos"
    assert lines[1] == "40% of your photos are in Other: Re-cluster would sort them"
    assert not any(SHELL.search(line) for line in lines)


# Counts with seconds, "→" and "clusters": how the engine's lines of statistics read, which the strip keeps for
# "Show details".
STATISTICS = re.compile(r"→|\bclusters?\b|\d s$|; ")


def test_summaries_are_sentences_with_the_engine_lines_behind_show_details() -> None:
    naming = NamingSummary(clusters=9, generic=0, terms=3509, seconds=0.1, albums=8, renamed=(("Album 1", "Beach"),))
    recluster = ReclusterSummary(
        photos=240, k=9, chosen=True, albums=8, grown={1: 20}, retired=[2], other=5, kept_decisions=2, seconds=3.3,
        naming=naming.lines()[0],
        changes=["“Beach”: +20 photos", "1 album emptied and removed: “Dunes” (into “Beach”)"],
    )  # fmt: skip
    lines = lines_for_window([*recluster.changes, *recluster.lines()[:3], *naming.lines()[1:]])
    shown, details = summary_for_window(lines)
    assert shown == [
        "“Beach”: +20 photos",
        "1 album emptied and removed: “Dunes” (into “Beach”)",
        "240 photos sorted into 8 albums.",
        "5 photos fit no album and wait in Other. 2 placements of yours kept.",
        "8 albums named.",
        "“Album 1” is now “Beach”",
    ]
    assert details == [line for line in lines if STATISTICS.search(line)] and len(details) == 3

    indexed = IndexSummary(added=240, updated=3, unchanged=7, embedded=240, seconds=6.0, skipped=Counter(bad=2))
    shown, details = summary_for_window(lines_for_window(indexed.lines()))
    assert shown == ["240 photos added, 3 updated.", "2 files could not be read: Show skipped files says why."]
    assert summary_for_window(IndexSummary(unchanged=7).lines())[0] == ["No new or changed photos."]
    for line in shown:
        assert not STATISTICS.search(line), line


def test_a_summary_the_table_does_not_know_is_shown_as_it_is() -> None:
    assert summary_for_window(["“Beach”: +2 photos"]) == (["“Beach”: +2 photos"], [])
    renamed = "“Beach” is now “Dunes · Jul 2023”: +4 photos, −9"  # an album the re-cluster renamed
    assert summary_for_window([renamed]) == ([renamed], [])


def test_recluster_with_nothing_embedded_names_rescan_folders(service: LibraryService, qtbot) -> None:
    with qtbot.waitSignal(service.operationFailed, timeout=10_000) as failed:
        assert service.recluster("auto")
    message, details = failed.args
    assert "File → Rescan folders" in message and not SHELL.search(message)
    assert "photoatlas index" in details, "the engine's words are still there for whoever looks"


def test_download_without_a_connection_is_a_sentence_with_details(
    service: LibraryService, qtbot, tmp_path: Path, monkeypatch
) -> None:
    import engine.embed.weights as weights

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # no weights cached here
    monkeypatch.setattr(weights, "_hub_endpoint", lambda: "http://photoatlas-no-such-host.invalid")
    with qtbot.waitSignal(service.operationFailed, timeout=60_000) as failed:
        assert service.download_model()
    message, details = failed.args
    assert message == OFFLINE_DOWNLOAD
    assert "Errno" in details or "failed" in details


def test_missing_weights_notice_is_one_sentence_without_commands(window: MainWindow, qtbot) -> None:
    engine_text = ENGINE_MESSAGES[8]
    window.service.modelMissing.emit(for_window(engine_text)[0])
    text = window.model_banner.message.text()
    assert not SHELL.search(text) and text[0].isupper()
    assert "Download now" in text and "Use a weights file" in text


@pytest.mark.parametrize("path", [RESCAN, ADD_FOLDER, REFINE_NAMES])
def test_the_menu_items_messages_name_exist(window: MainWindow, path: str) -> None:
    menu_title, item = path.split(" → ")
    menus = {action.text().replace("&", ""): action.menu() for action in window.menuBar().actions()}
    assert item in [action.text() for action in menus[menu_title].actions()]


def test_the_naming_item_says_what_it_would_do_and_is_enabled_only_then(window: MainWindow) -> None:
    album_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Album")
    album_menu.aboutToShow.emit()
    # The small library's albums were never named from the vocabulary: there is nothing to refine.
    assert window.service.naming_offered() is None and not window.refine_names_action.isEnabled()
    for due, path in (("quick", NAME_ALBUMS), ("full", REFINE_NAMES)):
        window.service.naming_offered = lambda due=due: due  # type: ignore[method-assign]
        album_menu.aboutToShow.emit()
        assert window.refine_names_action.isEnabled()
        assert window.refine_names_action in album_menu.actions()
        assert f"Album → {window.refine_names_action.text()}" == path  # the messages name it as it reads


def test_rescan_folders_indexes_the_library_folders(
    window: MainWindow, small_library: SmallLibrary, make_photo, qtbot
) -> None:
    make_photo(small_library.photos / "beach" / "new.jpg", color=(230, 200, 120))
    assert window.rescan_action.isEnabled() and window.rescan_action.text() == "Rescan folders"
    file_menu = window.menuBar().actions()[0].menu()
    assert window.rescan_action in file_menu.actions()
    with qtbot.waitSignal(window.service.operationFinished, timeout=30_000) as finished:
        window.rescan_action.trigger()
        assert window.service.busy and window.operation_bar.isVisible(), "progress, with Cancel"
        assert window.service.operation_title == "Rescanning folders"
    assert not any(SHELL.search(line) for line in finished.args[0])
    assert len(window.service.all_photo_ids()) == 10


def test_rescan_can_be_cancelled(window: MainWindow, qtbot) -> None:
    with qtbot.waitSignal(window.service.busyChanged, timeout=30_000, check_params_cb=lambda busy: not busy):
        window.rescan_action.trigger()
        window.operation_bar.cancel_button.click()


# -- 1: a weights file is tried before it is kept ---------------------------------------------------------------


def _library_with_tiny_model(tmp_path: Path, tiny_model: dict[str, str]) -> Path:
    with Library(tmp_path / "library") as library:
        library.set_model(tiny_model["name"], tiny_model["pretrained"], tiny_model["config"])
    return tmp_path / "library"


def _other_architecture(folder: Path) -> Path:
    """A checkpoint of a wider tiny model: the same keys, other shapes."""
    import json

    import open_clip
    import torch

    from tests.conftest import TINY_CONFIG

    wide = json.loads(json.dumps(TINY_CONFIG))
    wide["embed_dim"] = 48
    wide["vision_cfg"]["width"] = 48
    wide["text_cfg"]["width"] = 48
    config = folder / "photoatlas-tiny-wide.json"
    config.write_text(json.dumps(wide))
    open_clip.add_model_config(config)
    model = open_clip.create_model("photoatlas-tiny-wide", pretrained=None)
    checkpoint = folder / "wide.pt"
    torch.save(model.state_dict(), checkpoint)
    return checkpoint


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["text file", "other architecture"])
def test_a_wrong_weights_file_is_refused_and_the_notice_stays(
    qtbot, tmp_path: Path, tiny_model, monkeypatch, kind: str
) -> None:
    from desktop_app import model_banner

    service = LibraryService(_library_with_tiny_model(tmp_path, tiny_model))
    before = service.settings.model
    if kind == "text file":
        wrong = tmp_path / "notes.jpg"
        wrong.write_text("shopping list: milk, eggs\n")
    else:
        wrong = _other_architecture(tmp_path)
    window = open_window(qtbot, service, tmp_path / "w.ini")
    try:
        window.model_banner.show_missing("The CLIP model is not on this computer yet.", offline=False)
        monkeypatch.setattr(model_banner, "choose_weights_file", lambda parent: str(wrong))
        with qtbot.waitSignal(service.operationFailed, timeout=60_000) as failed:
            window.model_banner.file_button.click()
        message, _details = failed.args
        assert message[0].isupper() and not SHELL.search(message), message
        assert "Traceback" not in message and "Error" not in message, "what went wrong, in words"
        assert window.model_banner.file_button.isEnabled()
        assert service.settings.model == before, "the previous choice stays"
        with Library(service.directory) as library:
            assert library.settings.model == before, "and is what is saved"
        assert window.model_banner.isVisible(), "the notice stays"
    finally:
        window.close()
        assert window.loader.wait_for_done()
        assert service.close()
