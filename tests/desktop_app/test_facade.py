"""The window reaches the engine through its facade only: `engine`'s public names, errors, settings, progress."""

from __future__ import annotations

import ast
from pathlib import Path

import engine
from desktop_app.service import LibraryService
from engine import Library

from .conftest import SmallLibrary

DESKTOP_APP = Path(__file__).resolve().parents[2] / "desktop_app"
ALLOWED = {"engine", "engine.errors", "engine.settings", "engine.progress"}


def _engine_imports() -> list[tuple[str, str, list[str]]]:
    found = []
    for path in sorted(DESKTOP_APP.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):  # lazy and TYPE_CHECKING imports count too
            if isinstance(node, ast.Import):
                found += [(path.name, a.name, []) for a in node.names if a.name.split(".")[0] == "engine"]
            elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "engine":
                found.append((path.name, node.module or "", [a.name for a in node.names]))
    return found


def test_the_window_imports_only_the_engines_public_modules_and_names() -> None:
    imports = _engine_imports()
    assert imports, "the scan found the window's engine imports"
    assert [(f, m) for f, m, _ in imports if m not in ALLOWED] == []
    names = {n for _, m, ns in imports if m == "engine" for n in ns}
    assert names <= set(engine.__all__)


def test_every_public_name_resolves() -> None:
    for name in engine.__all__:
        assert getattr(engine, name) is not None, name


def test_folders_thumbnails_skipped_and_history_through_the_facade(
    service: LibraryService, small_library: SmallLibrary
) -> None:
    assert service.photo_folders() == [str(small_library.photos.resolve())]
    assert service.thumbnail_directory.is_dir()
    assert service.rename(small_library.albums["Forest"], "Woods")
    with Library(small_library.directory) as library:
        assert library.roots() == [small_library.photos.resolve()]
        assert library.skipped() == []
        latest = library.history(1)[0]
        assert (latest.kind, latest.description, latest.undone) == ("rename", "Rename “Forest” to “Woods”", False)
        photo = library.photos()[0]
        assert library.thumbnail_file(photo.hash) == service.thumbnail_file(photo.id)
        assert library.thumbnail_file("0" * 16) is None


def test_the_device_probe_goes_through_the_service() -> None:
    assert LibraryService.describe_device("cpu") == "In use: cpu"
    assert LibraryService.describe_device("tpu").startswith("Not available: unknown device 'tpu'")
