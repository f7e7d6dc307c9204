"""Why a file was skipped: short stable codes stored in the catalog, with the words shown to people."""

from __future__ import annotations

from dataclasses import dataclass

REASONS: dict[str, str] = {
    "empty": "empty file (0 bytes)",
    "not-an-image": "not an image, although its name says so",
    "corrupt": "corrupt image data",
    "truncated": "image file is truncated",
    "too-large": "image too large to decode safely (decompression-bomb guard)",
    "unsupported": "image format not supported on this installation",
    "permission-denied": "permission denied",
    "vanished": "file disappeared before it could be read",
    "changing": "file changed while being read (still being written?); retried on the next scan",
    "read-error": "the file could not be read",
    "unreadable-folder": "folder could not be listed",
    "symlink-loop": "link to a folder that is already being scanned (loop)",
    "broken-link": "link points to nothing",
    "not-a-video": "not a video, although its name says so",
    "no-video-stream": "no picture in this video file",
    "no-frames": "the video has no frames that can be decoded",
    "unsupported-codec": "video encoded in a format this installation cannot decode",
    "not-a-raw": "a RAW file the RAW decoder (LibRaw) cannot open",
}

# Reasons that last until the file itself changes, so an unchanged file is not re-read at every scan.
PERMANENT = frozenset(
    {
        "empty",
        "not-an-image",
        "corrupt",
        "truncated",
        "too-large",
        "symlink-loop",
        "not-a-video",
        "no-video-stream",
        "no-frames",
        "not-a-raw",
    }
)


@dataclass(frozen=True)
class Skip:
    """A file PhotoAtlas will not catalog, and why."""

    reason: str
    detail: str = ""

    @property
    def permanent(self) -> bool:
        return self.reason in PERMANENT

    def describe(self) -> str:
        text = REASONS.get(self.reason, self.reason)
        detail = self.detail
        if detail.lower().startswith(text.lower()):  # older catalogs stored Pillow's whole message as detail
            detail = detail[len(text) :].strip(" :()")
        return f"{text}: {detail}" if detail else text
