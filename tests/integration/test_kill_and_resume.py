"""A real SIGKILL in the middle of indexing, then a rerun: no duplicates, no losses, all embedded."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import model_options

ROOT = Path(__file__).resolve().parents[2]


def photoatlas(*args: str, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "engine", *args], env=env, cwd=ROOT, **kwargs)


@pytest.mark.slow  # indexes 120 photos in a CLI process, kills it, then indexes again
def test_kill_during_index_then_resume(tmp_path: Path, tiny_model, make_photo) -> None:
    photos = tmp_path / "photos"
    for i in range(120):
        make_photo(photos / f"{i // 30}" / f"p{i:03d}.jpg", size=(96, 72), color=(i * 2, 90, 255 - i * 2))
    lib = str(tmp_path / "lib")
    model = [
        *model_options(tiny_model),
        "--batch-size",
        "4",
        "--no-progress",
    ]
    catalog = Path(lib) / "catalog.sqlite"
    proc = photoatlas(
        "--library", lib, "index", str(photos), *model, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    # Kill as soon as some batches are committed (or at the latest after 20 s).
    deadline = time.monotonic() + 20
    import sqlite3

    while time.monotonic() < deadline and proc.poll() is None:
        if catalog.exists():
            try:
                with sqlite3.connect(catalog, timeout=0.1) as db:
                    if db.execute("SELECT COUNT(*) FROM photos").fetchone()[0] >= 8:
                        break
            except sqlite3.Error:
                pass
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    rerun = photoatlas("--library", lib, "index", "--no-progress", stdout=subprocess.PIPE, text=True)
    out, _ = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, out
    listing = photoatlas("--library", lib, "photos", "--json", stdout=subprocess.PIPE, text=True)
    rows = json.loads(listing.communicate(timeout=60)[0])
    assert len(rows) == 120 and len({r["path"] for r in rows}) == 120
    assert all(r["embedded"] for r in rows)
