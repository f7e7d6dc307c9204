"""How fast the window opens and scrolls on a big library: a 100k-photo synthetic catalog against 1k.

Each size runs in a fresh interpreter (so imports and caches count as on a real start), offscreen:
- import: importing the window's modules (no torch: that loads later, in the background);
- open: `LibraryService` opening the catalog;
- window: building `MainWindow` (sidebar with every album, the grid of all photos);
- first paint: from `show()` until the grid has painted once;
- data(): the grid model's cost per call for the roles a paint asks for;
- scroll: repainting the grid after jumping one page, median over 60 pages spread over the library,
  and the time until the thumbnails of the last page are on screen;
- rename: an album action as the user feels it: the engine's rename, then the sidebar and grid reloaded.

    python bench/window_speed.py [--sizes 1000 100000] [--albums 300]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def build_catalog(directory: Path, n: int, n_albums: int, n_thumbnails: int = 64) -> None:
    """A catalog of `n` photos in `n_albums` albums (10% in Other), thumbnails shared round-robin."""
    from PIL import Image

    from engine.library import Library

    with Library(directory) as library:
        catalog = library.catalog
        root = directory.parent / "photos"
        root_id = catalog.add_root(os.fsencode(str(root)))
        thumbs = library.thumbnails.directory / "bench"
        thumbs.mkdir(parents=True, exist_ok=True)
        for i in range(n_thumbnails):
            colour = (37 * i % 256, 91 * i % 256, 53 * i % 256)
            Image.new("RGB", (320, 240), colour).save(thumbs / f"{i}.jpg", quality=85)
        now = time.time()
        photos, thumbnails, members = [], [], []
        for i in range(n):
            h = f"{i:064x}"
            day = f"20{10 + i * 15 // n:02d}-{1 + i % 12:02d}-{1 + i % 28:02d}T12:00:00"
            photos.append((root_id, os.fsencode(f"{root}/{i // 1000:03d}/IMG_{i:06d}.jpg"), 1, 1, h, 4000, 3000, day))
            thumbnails.append((h, f"bench/{i % n_thumbnails}.jpg", 320, 240, now))
            members.append((h, None if i % 10 == 0 else 1 + i % n_albums, now))
        with catalog.transaction() as db:
            db.executemany(
                "INSERT INTO photos(root_id, path, size, mtime_ns, hash, width, height, taken_at, taken_at_source,"
                " added_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'exif', 0, 0)",
                photos,
            )
            db.executemany(
                "INSERT INTO thumbnails(hash, path, width, height, created_at) VALUES (?, ?, ?, ?, ?)", thumbnails
            )
            db.executemany(
                "INSERT INTO albums(name, created_at, updated_at) VALUES (?, ?, ?)",
                [(f"Album {a}", now, now) for a in range(1, n_albums + 1)],
            )
            db.executemany(
                "INSERT INTO album_members(hash, album_id, source, updated_at) VALUES (?, ?, 'auto', ?)", members
            )


def measure(directory: Path) -> dict[str, float]:
    """Run in the child: open the window on `directory` and time it."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    started = time.perf_counter()
    from PySide6.QtCore import QEvent, QObject, QSettings
    from PySide6.QtWidgets import QApplication

    from desktop_app import main_window
    from desktop_app.main_window import MainWindow
    from desktop_app.models import ROLE_LOADED
    from desktop_app.service import LibraryService

    main_window.MODEL_CHECK_DELAY_MS = 10**9  # measure the window, not the background model check
    app = QApplication.instance() or QApplication([])
    imported = time.perf_counter()
    service = LibraryService(directory)
    opened = time.perf_counter()
    settings = QSettings(str(directory / "bench-window.ini"), QSettings.Format.IniFormat)
    window = MainWindow(service, settings)
    built = time.perf_counter()

    painted: list[float] = []

    class PaintWatch(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint:
                painted.append(time.perf_counter())
            return False

    watch = PaintWatch()
    window.grid.view.viewport().installEventFilter(watch)
    window.resize(1280, 800)
    shown = time.perf_counter()
    window.show()
    while not painted:
        app.processEvents()
    first_paint = painted[0] - shown

    model = window.grid_model
    rows = model.rowCount()
    calls = min(rows, 20_000)
    t0 = time.perf_counter()
    for row in range(calls):
        model.data(model.index(row), ROLE_LOADED)
    data_us = (time.perf_counter() - t0) / calls * 1e6

    bar = window.grid.view.verticalScrollBar()
    page_times = []
    for step in range(60):
        bar.setValue(bar.maximum() * step // 59)
        t0 = time.perf_counter()
        window.grid.view.viewport().repaint()
        page_times.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    deadline = t0 + 20
    view = window.grid.view
    last_page = [view.indexAt(view.viewport().rect().center())]
    while time.perf_counter() < deadline:
        app.processEvents()
        if all(i.isValid() and i.data(ROLE_LOADED) for i in last_page):
            break
    thumbs_ready = time.perf_counter() - t0
    album = next(a for a in service.albums() if a.id is not None)
    t0 = time.perf_counter()
    service.rename(album.id, "Renamed by the benchmark")
    app.processEvents()
    rename_s = time.perf_counter() - t0
    window.close()
    service.close()
    return {
        "rename_s": rename_s,
        "photos": rows,
        "albums": len(service.albums()) - 1,
        "import_s": imported - started,
        "open_s": opened - imported,
        "window_s": built - opened,
        "first_paint_s": first_paint,
        "data_us": data_us,
        "scroll_repaint_ms": statistics.median(page_times) * 1e3,
        "scroll_repaint_max_ms": max(page_times) * 1e3,
        "thumbs_ready_s": thumbs_ready,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 100_000])
    parser.add_argument("--albums", type=int, default=300)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child)))
        return
    results = []
    with tempfile.TemporaryDirectory() as scratch:
        for n in args.sizes:
            directory = Path(scratch) / f"lib-{n}" / "library"
            t0 = time.perf_counter()
            build_catalog(directory, n, min(args.albums, max(1, n // 50)))
            built = time.perf_counter() - t0
            out = subprocess.run(
                [sys.executable, __file__, "--child", str(directory)], capture_output=True, text=True, check=True
            ).stdout
            result = json.loads(out.strip().splitlines()[-1])
            result["build_s"] = built
            results.append(result)
    print(f"window speed, offscreen, {os.cpu_count()} CPUs (first size is the baseline)")
    header = (
        f"{'photos':>8} {'albums':>6} {'import':>7} {'open':>6} {'window':>7} {'1st paint':>9} "
        f"{'data()':>8} {'scroll med/max':>15} {'thumbs':>7} {'rename':>7}"
    )
    print(header)
    for r in results:
        print(
            f"{r['photos']:>8,} {r['albums']:>6} {r['import_s']:>6.2f}s {r['open_s']:>5.2f}s {r['window_s']:>6.2f}s "
            f"{r['first_paint_s']:>8.3f}s {r['data_us']:>6.2f}µs "
            f"{r['scroll_repaint_ms']:>6.1f}/{r['scroll_repaint_max_ms']:>5.1f} ms "
            f"{r['thumbs_ready_s']:>6.2f}s {r['rename_s']:>6.2f}s"
        )


if __name__ == "__main__":
    main()
