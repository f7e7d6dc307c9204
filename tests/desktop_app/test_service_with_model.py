"""The long verbs that need CLIP, through the service and its worker, with the tiny test model."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop_app.service import LibraryService
from engine.library import Library


@pytest.fixture
def embedded_service(tmp_path: Path, tiny_model: dict[str, str], make_photo, qtbot):
    colours = [(220, 30, 30), (30, 200, 40), (30, 40, 220)]
    for n in range(12):
        make_photo(tmp_path / "photos" / f"p{n}.jpg", color=colours[n % 3])
    with Library(tmp_path / "library") as library:
        library.set_model(tiny_model["name"], tiny_model["pretrained"], tiny_model["config"])
    service = LibraryService(tmp_path / "library")
    yield service
    assert service.close()


@pytest.mark.slow
def test_index_recluster_and_search_through_the_worker(embedded_service: LibraryService, tmp_path: Path, qtbot) -> None:
    service = embedded_service
    phases: set[str] = set()
    service.progress.connect(lambda phase, done, total: phases.add(phase))
    with qtbot.waitSignal(service.operationFinished, timeout=60_000) as indexed:
        service.index_folders([tmp_path / "photos"])
    assert "embedded 12" in indexed.args[0][0]
    assert "Indexing photos" in phases

    with (
        qtbot.waitSignal(service.albumsChanged, timeout=60_000),
        qtbot.waitSignal(service.operationFinished, timeout=60_000) as clustered,
    ):
        service.recluster("auto")
    assert any("clusters" in line for line in clustered.args[0])  # what changed by name comes first
    assert sum(a.size for a in service.albums()) == 12

    with qtbot.waitSignal(service.searchFinished, timeout=60_000) as found:
        service.search("a red photo")
    query, ids = found.args
    assert query == "a red photo"
    assert set(ids) <= set(service.all_photo_ids())
