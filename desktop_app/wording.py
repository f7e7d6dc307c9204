"""The window's words for the engine's messages.

The engine speaks to the command line: its errors and summaries end with the command that fixes a problem
("run photoatlas index first"). The window must name its own buttons and menus instead, and must never show
errno or exception text except behind "Show details". The engine's text stays as the CLI prints it; the
service passes everything it shows through `for_window` (errors) and `lines_for_window` (summaries).
"""

from __future__ import annotations

import re
from collections.abc import Callable

RESCAN = "File → Rescan folders"
ADD_FOLDER = "File → Add folder…"
REFINE_NAMES = "Album → Refine album names"
NAME_ALBUMS = "Album → Name albums"  # the same menu item while the albums wait for their first names
NAME_CANCELLED = f"The albums keep their provisional names for now. {NAME_ALBUMS} names them whenever you like."
REFINE_CANCELLED = (
    f"The album names stay as they are, from a quicker first pass. {REFINE_NAMES} refines them whenever you like."
)

OFFLINE_DOWNLOAD = (
    "PhotoAtlas could not reach the internet to download the model. Check the connection and click "
    "Download now again, or choose a weights file you already have with Use a weights file…"
)
DOWNLOAD_FAILED = (
    "The download of the model did not finish. Click Download now to continue where it stopped, or choose a "
    "weights file you already have with Use a weights file…"
)
NOTHING_EMBEDDED = (
    "No photo has been analysed by the CLIP model yet, so there is nothing to sort into albums. "
    f"Make sure the model is ready (the notice above the photos), then use {RESCAN}."
)
NO_FOLDERS = f"There are no photo folders yet: add one with {ADD_FOLDER}"
NO_ALBUMS = "There are no albums yet: click Re-cluster first."

# Signs that a message was written for a terminal, or is a raw system error.
_SHELL = re.compile(r"photoatlas\s|(?<![\w-])--[a-z]|\[Errno\s*-?\d+\]|Traceback|\w+Error:")
_NETWORK = re.compile(
    r"Errno -[23]\b|Name or service not known|Temporary failure in name resolution|nodename nor servname|"
    r"getaddrinfo failed|Network is unreachable|No route to host|Connection refused|timed out|"
    r"Failed to establish|connect to the internet|check your connection|Internet connection",
    re.IGNORECASE,
)

# (pattern on the engine's message, the window's sentence) — the first that matches wins.
_ERRORS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"nothing is embedded yet|no embedded photos to cluster"), NOTHING_EMBEDDED),
    (re.compile(r"no photo folders yet"), NO_FOLDERS),
    (re.compile(r"no (clustering|albums) yet: run photoatlas recluster"), NO_ALBUMS),
    (re.compile(r"some photos have no thumbnail yet"), f"Some photos have no thumbnail yet: use {RESCAN} first."),
    (
        re.compile(r"indexing cancelled"),
        f"Cancelled. The photos finished so far are saved; {RESCAN} continues with the others.",
    ),
    (
        re.compile(r"device '(\w+)' was requested but"),
        "The graphics card chosen in Settings is not available on this computer: choose Automatic as the "
        "Device in File → Settings…",
    ),
    (
        re.compile(r"unknown model architecture '?([^';]+)'?;"),
        r"PhotoAtlas does not know the model \1: choose one such as ViT-B-32 in File → Settings…, or give the "
        "model config file of a custom one there.",
    ),
    (
        re.compile(r"the checkpoint file (.+) does not exist"),
        r"The weights file \1 is not there any more: choose it again in File → Settings… (Weights file on this "
        "computer).",
    ),
    (
        re.compile(r"unknown pretrained weights '?([^']+)'? for (\S+); known tags: none"),
        r"There are no weights to download for \2: choose a weights file in File → Settings…",
    ),
    # The compute cluster (File → Settings…, "Compute cluster"): the window's way on is the setting and Rescan.
    (
        re.compile(r"the compute cluster at (\S+) went away"),
        r"The compute cluster at \1 went away; every photo finished so far is saved. "
        f"{RESCAN} continues on the cluster once it is back, or on this computer once the Cluster address in File → "
        "Settings… is cleared.",
    ),
    (
        re.compile(r"(?:no compute cluster answers at|could not join the compute cluster at) (\S+?)(?: \(|[;:] )"),
        r"PhotoAtlas could not reach the compute cluster at \1. Check that it is started and that the address "
        "in File → Settings… (Cluster address) is right, or clear it there to work on this computer.",
    ),
    (
        re.compile(
            r"Ray is not installed|has no CPU or GPU to lend|worker of the compute cluster (could not start|failed)"
        ),
        "The compute cluster cannot do this work (Show details says why): clear the Cluster address in File → "
        "Settings… to work on this computer.",
    ),
    (
        re.compile(r"the vocabulary would be empty"),
        "The list of words for naming albums would be empty: keep at least one word.",
    ),
]


def sentence(text: str) -> str:
    """`text` as a sentence: a capital first letter and a full stop."""
    text = " ".join(text.split())
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?…" else text + "."


def _model_missing(message: str) -> str | None:
    """The engine's "weights are not on this computer and could not be downloaded …" advice, in the window's words."""
    match = re.search(r"the CLIP weights (\S+) are not on this computer and could not be downloaded", message)
    if match is None:
        return None
    how = (
        "Offline mode is on (File → Settings…), so it was not downloaded"
        if "work offline" in message
        else "Click Download now to get it"
    )
    return (
        f"The CLIP model {match.group(1)} is not on this computer yet. {how}, or choose a weights file you "
        "already have with Use a weights file…"
    )


def _strip_command(message: str) -> str:
    """Drop the clauses of a message that tell the user to type something."""
    parts = re.split(r"(?<=[.;:])\s+|\s+\((?=[^)]*photoatlas)", message)
    kept = [p for p in parts if not _SHELL.search(p)]
    text = " ".join(kept).strip().rstrip(":;,")
    return text or "The operation did not succeed"


def for_window(message: str, details: str = "") -> tuple[str, str]:
    """An engine message as the window shows it: (a sentence that names the window's controls, details).

    The original text goes to the details whenever the sentence hides part of it.
    """
    if not message:
        return message, details
    for pattern, words in _ERRORS:
        match = pattern.search(message)
        if match:
            return match.expand(words), details or message
    missing = _model_missing(message)
    if missing is not None:
        return missing, details or message
    if re.search(r"download", message, re.IGNORECASE) and (_NETWORK.search(message) or re.search(r"Errno", message)):
        return OFFLINE_DOWNLOAD if _NETWORK.search(message) else DOWNLOAD_FAILED, details or message
    if re.search(r"the download stopped at|cannot continue the download", message):
        return DOWNLOAD_FAILED, details or message
    if message.startswith("Unexpected error:"):
        return (
            "Something went wrong inside PhotoAtlas; the operation did not finish. Show details has what to "
            "include in a bug report.",
            details or message,
        )
    if _SHELL.search(message):
        return sentence(_strip_command(message)), details or message
    return sentence(message), details


_LINES: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(r"albums are not named: the model is unavailable"),
        "Albums are not named yet because the CLIP model is not available; Re-cluster names them once it is.",
    ),
    (
        re.compile(r"^(\S+ of your photos are in Other): photoatlas recluster would sort them"),
        r"\1: Re-cluster would sort them",
    ),
]


def line_for_window(line: str) -> str:
    """One line of an engine summary, without commands to type."""
    for pattern, words in _LINES:
        if pattern.search(line):
            return pattern.sub(words, line) if "\\1" in words else words
    if _SHELL.search(line):
        return _strip_command(line)
    return line


def lines_for_window(lines: list[str]) -> list[str]:
    return [line_for_window(line) for line in lines]


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' * (count != 1)}"


def _sorted_into(m: re.Match[str]) -> str:
    photos, albums = int(m["photos"]), int(m["albums"] or m["k"])
    return f"{_plural(photos, 'photo')} sorted into {_plural(albums, 'album')}."


def _album_counts(m: re.Match[str]) -> str | None:
    """What the album counts add to the lines by album name beside them (new, changed, removed): Other and the
    user's placements."""
    out = []
    if int(m["other"]):
        out.append(f"{_plural(int(m['other']), 'photo')} fit no album and wait in Other.")
    if int(m["kept"]):
        out.append(f"{_plural(int(m['kept']), 'placement')} of yours kept.")
    return " ".join(out) or None


def _indexed(m: re.Match[str]) -> str:
    done = [(int(m[word]), word) for word in ("added", "updated", "moved", "removed") if int(m[word])]
    if not done:
        return "No new or changed photos."
    (first, word), rest = done[0], done[1:]
    return sentence(", ".join([f"{_plural(first, 'photo')} {word}", *(f"{count} {w}" for count, w in rest)]))


def _new_photos(m: re.Match[str]) -> str | None:
    joined, waiting = int(m[1]), int(m[2])
    parts = [f"{_plural(joined, 'new photo')} joined albums"] if joined else []
    parts += [f"{waiting} wait in Other"] if waiting else []
    return sentence(", ".join(parts)) or None


# The engine's lines of counts and seconds, as the window's summary says them: (pattern, sentence or None to
# leave the line to "Show details"). Lines no pattern matches are shown as they are.
_SUMMARY: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str | None]]] = [
    (
        re.compile(
            r"^(?P<photos>\d+) photos → (?P<k>\d+) clusters \([^)]*\)(?:: (?P<albums>\d+) albums?,[^;]*)?; [\d.]+ s$"
        ),
        _sorted_into,
    ),
    (
        re.compile(
            r"^albums: (?P<created>\d+) created, (?P<grown>\d+) grown, (?P<shrunk>\d+) shrunk, (?P<retired>\d+) "
            r"retired; (?P<other>\d+) photos in Other; (?P<kept>\d+) placements of yours kept$"
        ),
        _album_counts,
    ),
    (
        re.compile(r"^named (\d+) albums? and \d+ clusters? from \d+ candidate names[^;]*; [\d.]+ s$"),
        lambda m: f"{_plural(int(m[1]), 'album')} named.",
    ),
    (
        re.compile(
            r"^added (?P<added>\d+), updated (?P<updated>\d+), moved (?P<moved>\d+), unchanged \d+, "
            r"removed (?P<removed>\d+); embedded \d+ in [\d.]+ s$"
        ),
        _indexed,
    ),
    (
        re.compile(r"^skipped (\d+):$"),
        lambda m: f"{_plural(int(m[1]), 'file')} could not be read: Show skipped files says why.",
    ),
    (re.compile(r"^  \d+ × "), lambda m: None),
    (
        re.compile(r"^refined (\d+) photos in (\d+) albums with DAC \(\d+ epochs\); [\d.]+ s$"),
        lambda m: f"{_plural(int(m[2]), 'album')} refined from your corrections.",
    ),
    (re.compile(r"^your decisions as pairs: "), lambda m: None),
    (
        re.compile(r"^(\d+) stacks \((\d+) bursts, (\d+) sets of copies\); \d+ photos folded behind their covers; "),
        lambda m: f"{_plural(int(m[2]), 'burst')} and {_plural(int(m[3]), 'set')} of copies found.",
    ),
    (
        re.compile(r"^new photos: (\d+) joined albums, (\d+) wait in Other$"),
        _new_photos,
    ),
]


def summary_for_window(lines: list[str]) -> tuple[list[str], list[str]]:
    """An operation's summary (lines already in the window's words) as the window shows it: (sentences to read,
    the engine's lines of counts those sentences stand for, as it wrote them, for "Show details")."""
    shown: list[str] = []
    details: list[str] = []
    for line in lines:
        for pattern, say in _SUMMARY:
            match = pattern.search(line)
            if match:
                said = say(match)
                if said:
                    shown.append(said)
                details.append(line)
                break
        else:
            shown.append(line)
    return shown, details
