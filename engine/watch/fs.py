"""What the watcher needs to know about file systems: which ones raise no events, whether a file or a
root is there (and the same one), and a quiet shutdown of watchdog's inotify threads."""

from __future__ import annotations

import contextlib
import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

# File systems whose changes made elsewhere raise no local events (inotify sees only this machine's writes);
# FUSE ones appear as "fuse.NAME".
NETWORK_FS_TYPES = frozenset(
    {"nfs", "nfs4", "cifs", "smb", "smb2", "smb3", "smbfs", "sshfs", "afs", "9p", "davfs", "ncpfs", "ceph", "glusterfs"}
    | {"rclone", "s3fs", "gcsfuse", "gvfsd-fuse"}
)

FOLDER = (-1, -1)  # the "stat" of a folder: its content is listed when the batch is applied

Stat = tuple[int, int] | None


def network_fs_type(path: Path, mounts: str | None = None) -> str | None:
    """The network file-system type `path` lies on, from Linux's /proc/mounts; None if local or unknown.

    Args:
        path: a folder.
        mounts: the text of /proc/mounts (read from the system when None).
    """
    if mounts is None:
        try:
            mounts = Path("/proc/mounts").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None  # not Linux: native events are tried, and polling follows if they fail
    real = Path(os.path.realpath(path))
    best: tuple[int, str] | None = None
    for line in mounts.splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        # /proc/mounts escapes spaces and the like as octal (\040).
        point = Path(fields[1].encode("latin-1", "backslashreplace").decode("unicode_escape"))
        if real.is_relative_to(point) and (best is None or len(point.parts) > best[0]):
            best = (len(point.parts), fields[2])
    if best is None:
        return None
    fs = best[1].lower()
    return fs if fs.removeprefix("fuse.") in NETWORK_FS_TYPES else None


def file_state(path: Path) -> Stat:
    """(size, mtime) of a file, `FOLDER` for a folder, None when nothing is there."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return FOLDER if stat.S_ISDIR(st.st_mode) else (st.st_size, st.st_mtime_ns)


def folder_identity(root: Path) -> tuple[int, int] | None:
    """Device and inode of a root folder, None when it is not there: a different folder mounted or moved
    into the same place is a different root, to be rescanned."""
    try:
        st = os.stat(root)
    except OSError:
        return None
    return (st.st_dev, st.st_ino) if stat.S_ISDIR(st.st_mode) else None


class _DropInactiveReads(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "called when the thread is inactive" not in str(record.msg)


@contextlib.contextmanager
def quiet_inotify_shutdown() -> Iterator[None]:
    """watchdog logs an error when a stopping inotify emitter's last blocking read returns; it is harmless,
    and would read like a failure at every clean Ctrl-C."""
    logger, quiet = logging.getLogger("watchdog.observers.inotify"), _DropInactiveReads()
    logger.addFilter(quiet)
    try:
        yield
    finally:
        logger.removeFilter(quiet)
