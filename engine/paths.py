"""File-system paths as the catalog stores them, and where a library keeps its files.

Paths are stored as the exact bytes the OS gave (os.fsencode): a file name that is not valid UTF-8
still round-trips, and nothing is lost by decoding. Shown to people and in JSON they are decoded with
replacement characters.
"""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_cache_path, user_data_path

APP_NAME = "PhotoAtlas"


def to_db(path: str | os.PathLike[str]) -> bytes:
    """The catalog key of a path: its bytes as the OS sees them."""
    return os.fsencode(os.fspath(path))


def from_db(raw: bytes) -> Path:
    """The path a catalog key stands for."""
    return Path(os.fsdecode(raw))


def display(path: str | os.PathLike[str] | bytes) -> str:
    """A printable (valid UTF-8) form of a path; undecodable bytes become U+FFFD."""
    raw = path if isinstance(path, bytes) else to_db(path)
    return raw.decode("utf-8", errors="replace")


def default_library_dir() -> Path:
    """Where the default library lives when the user names none."""
    return user_data_path(APP_NAME, appauthor=False) / "library"


def model_cache_dir() -> Path:
    """Where downloaded model weights are kept; shared by all libraries of the user."""
    return user_cache_path(APP_NAME, appauthor=False) / "models"


def runtime_cache_dir() -> Path:
    """Where the image tower exported for a faster CPU runtime is kept, per model (beside the weights)."""
    return model_cache_dir() / "runtimes"
