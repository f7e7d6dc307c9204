"""A screenshot of the real PhotoAtlas window on a populated library, for looking at, not for testing.

Draws a toy-world library (../shared/toyworld) of coloured shapes, embeds it with the toy CLIP
(../shared/models/toyclip), clusters and names the albums, makes a few user decisions (a rename, a pin),
then opens the window on a real X server and grabs the screen:

    xvfb-run -s "-screen 0 1440x900x24" .venv/bin/python bench/window_screenshot.py /tmp/photoatlas.png

Needs ../shared (the toy model and world); says so and stops without it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
TOYCLIP = SHARED / "models" / "toyclip"
sys.path.insert(0, str(ROOT))

CONCEPTS = "red:circle,green:square,blue:triangle,yellow:star,orange:hexagon,black:cross"
COLOURS = ("red", "green", "blue", "yellow", "orange", "black")
SHAPES = ("circle", "square", "triangle", "star", "hexagon", "cross")


def build_library(scratch: Path, per_concept: int) -> Path:
    from engine.library import Library
    from engine.naming.vocabulary import VocabularyChoice

    photos = scratch / "Pictures"
    maker = SHARED / "toyworld" / "make_library.py"
    subprocess.run(
        [sys.executable, str(maker), str(photos), "--per-concept", str(per_concept), "--concepts", CONCEPTS],
        check=True,
        capture_output=True,
    )
    directory = scratch / "library"
    with Library(directory) as library:
        library.set_model("toyclip", str(TOYCLIP / "toyclip.safetensors"), str(TOYCLIP / "toyclip.json"))
        # The toy model knows only its own world's words: name albums from them.
        terms = tuple(f"{c} {s}" for c in COLOURS for s in SHAPES)
        library.set_vocabulary(VocabularyChoice(replacement=terms))
        library.index([photos])
        print("\n".join(library.recluster().lines()))
        albums = [a for a in library.albums.albums() if a.id is not None]
        library.albums.rename(albums[0].id, "Holiday snaps")  # a name of the user's: upright, not italic
        library.albums.pin(albums[1].id, True)
    return directory


def grab(directory: Path, out: Path, settle_s: float) -> None:
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from desktop_app.main_window import MainWindow
    from desktop_app.service import LibraryService

    app = QApplication([])
    app.setApplicationName("PhotoAtlas")
    service = LibraryService(directory)
    window = MainWindow(service, QSettings(str(directory / "screenshot.ini"), QSettings.Format.IniFormat))
    window.resize(1400, 860)
    window.move(20, 20)
    window.show()
    row = window.album_model.row_of(("album", service.albums()[0].id))
    if row is not None:
        window.sidebar.setCurrentIndex(window.album_model.index(row))
    window.grid.view.selectAll()
    window.grid.view.clearSelection()
    deadline = time.monotonic() + settle_s
    while time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.02)
    screen = app.primaryScreen()
    assert screen is not None
    screen.grabWindow(0).save(str(out))
    print(f"saved {out} ({screen.size().width()}×{screen.size().height()}, platform {app.platformName()})")
    print(json.dumps([e.title for e in window.album_model.entries()]))
    window.close()
    service.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--per-concept", type=int, default=20)
    parser.add_argument("--settle", type=float, default=3.0, help="seconds for thumbnails to load before the grab")
    args = parser.parse_args()
    if not (TOYCLIP / "toyclip.safetensors").exists():
        sys.exit(f"{TOYCLIP} is absent: this script needs the toy CLIP from ../shared")
    with tempfile.TemporaryDirectory() as scratch:
        directory = build_library(Path(scratch), args.per_concept)
        grab(directory, args.out.resolve(), args.settle)


if __name__ == "__main__":
    main()
