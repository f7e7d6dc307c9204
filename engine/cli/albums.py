"""Album commands: list, rename, merge, move, split, remove, pin, undo, redo, history, recluster, export."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

from engine.cli.common import Handler, latest_done_id, print_json, print_undo_hint, run_with_bar
from engine.errors import InvalidInputError

if TYPE_CHECKING:
    from engine.albums.recluster import ReclusterSummary
    from engine.albums.store import Album
    from engine.cli.progress_bar import BarProgress
    from engine.library import Library


def add_commands(commands: argparse._SubParsersAction) -> dict[str, Handler]:
    """Add the parsers; returns the handler of each command."""
    albums = commands.add_parser("albums", help='list the albums ("Other" holds photos in no album)')
    albums.add_argument("--json", action="store_true", help="print a JSON array")

    rename = commands.add_parser("rename", help="give an album your own name (never replaced by the machine)")
    rename.add_argument("album", help="album id or exact name")
    rename.add_argument("name", nargs="+", help="the new name")

    merge = commands.add_parser("merge", help="merge albums into one (stays merged after re-clustering)")
    merge.add_argument("albums", nargs="+", metavar="ALBUM", help="source albums, then the album to merge INTO")

    move = commands.add_parser("move", help="move photos (ids from photoatlas photos) into an album")
    move.add_argument("items", nargs="+", metavar="ARG", help="photo ids, then the album")

    split = commands.add_parser("split", help="make a new album from photos")
    split.add_argument("photos", nargs="+", type=int, metavar="PHOTO")
    split.add_argument("--name", help="the new album's name (default: named automatically)")

    remove = commands.add_parser("remove", help="take photos out of their album into Other")
    remove.add_argument("photos", nargs="+", type=int, metavar="PHOTO")

    pin = commands.add_parser("pin", help="freeze an album: re-clustering never changes its photos")
    pin.add_argument("album")
    unpin = commands.add_parser("unpin", help="let re-clustering update an album again")
    unpin.add_argument("album")

    commands.add_parser("undo", help="undo the latest action (a re-cluster, refine, naming or import too)")
    commands.add_parser("redo", help="re-apply the action undone last")
    history = commands.add_parser("history", help="the latest actions, newest first, and what undo and redo would do")
    history.add_argument("--limit", type=int, default=20, help="at most this many actions (default 20)")
    history.add_argument("--json", action="store_true", help="print a JSON array")

    recluster = commands.add_parser(
        "recluster", help="group the photos into albums: the first time, after new photos, or to change the count"
    )
    count = recluster.add_mutually_exclusive_group()
    count.add_argument("--k", type=int, help="number of albums")
    count.add_argument("--more", action="store_true", help="more, smaller albums (next best on the curve)")
    count.add_argument("--fewer", action="store_true", help="fewer, larger albums")
    recluster.add_argument("--no-progress", action="store_true", help="no progress bar")

    export = commands.add_parser("export", help="copy an album's originals into a folder")
    export.add_argument("album")
    export.add_argument("destination", type=Path)
    export.add_argument("--link", choices=["hard", "sym"], help="hard or symbolic links instead of copies")
    return {
        "albums": _cmd_albums,
        "rename": _cmd_rename,
        "merge": _cmd_merge,
        "move": _cmd_move,
        "split": _cmd_split,
        "remove": _cmd_remove,
        "pin": _cmd_pin,
        "unpin": _cmd_pin,
        "undo": _cmd_undo,
        "redo": _cmd_redo,
        "history": _cmd_history,
        "recluster": _cmd_recluster,
        "export": _cmd_export,
    }


def album_json(album: Album) -> dict[str, object]:
    return {
        "id": album.id,
        "name": album.name,
        "user_named": album.user_named,
        "pinned": album.pinned,
        "size": album.size,
        "cover": album.cover,
        "date_from": album.date_from,
        "date_to": album.date_to,
        "members": album.members,
        "confidence": None if album.confidence is None else round(album.confidence, 4),
        "generic": album.generic,
    }


def _cmd_albums(library: Library, args: argparse.Namespace) -> int:
    albums = library.albums.albums()
    if args.json:
        print_json([album_json(a) for a in albums])
        return 0
    if not albums:
        print("No albums yet: run photoatlas recluster")
    for a in albums:
        marks = ("📌 " if a.pinned else "") + ("" if a.user_named or a.id is None else "~")
        ident = "" if a.id is None else f"{a.id:>5}"
        doubt = "  (unsure: no name fits well)" if a.generic else ""
        print(f"{ident:>5} {a.size:>7} photos  {marks}{a.title}{doubt}")
    if any(a.id is not None and not a.user_named for a in albums):
        print("(~ automatic name; rename to keep your own)")
    return 0


def _cmd_rename(library: Library, args: argparse.Namespace) -> int:
    name = library.albums.rename(args.album, " ".join(args.name))
    print(f"renamed to '{name}'")
    return 0


def _cmd_merge(library: Library, args: argparse.Namespace) -> int:
    if len(args.albums) < 2:
        raise InvalidInputError("name the albums to merge, then the album to merge them into")
    target = library.albums.merge(args.albums[:-1], args.albums[-1])
    print(f"merged into {_album(library, target)}")
    return 0


def _album(library: Library, album_id: int) -> str:
    """'album 7 “Beach”': the id the commands take, and the name people know it by."""
    name = next((a.name for a in library.albums.albums() if a.id == album_id), None)
    return f"album {album_id} “{name}”" if name is not None else f"album {album_id}"


def _photo_ids(values: list[str]) -> list[int]:
    try:
        return [int(v) for v in values]
    except ValueError as exc:
        raise InvalidInputError(f"photo ids are numbers (see photoatlas photos): {exc}") from exc


def _cmd_move(library: Library, args: argparse.Namespace) -> int:
    if len(args.items) < 2:
        raise InvalidInputError("name the photos to move, then the album")
    album = library.albums.move(_photo_ids(args.items[:-1]), args.items[-1])
    print(f"moved {len(args.items) - 1} photo(s) to {_album(library, album)}")
    return 0


def _cmd_split(library: Library, args: argparse.Namespace) -> int:
    album = library.albums.split(args.photos, args.name)
    print(f"new {_album(library, album)}")
    return 0


def _cmd_remove(library: Library, args: argparse.Namespace) -> int:
    library.albums.remove(args.photos)
    print(f"moved {len(args.photos)} photo(s) to Other")
    return 0


def _cmd_pin(library: Library, args: argparse.Namespace) -> int:
    pinned = args.command == "pin"
    album = library.albums.pin(args.album, pinned)
    print(f"{_album(library, album)} {'pinned' if pinned else 'unpinned'}")
    return 0


def _cmd_undo(library: Library, args: argparse.Namespace) -> int:
    # An action that cannot be undone raises with the reason: "photoatlas: error: …", exit 1, nothing changed.
    description = library.albums.undo()
    print(f"undone: {description}" if description else "nothing to undo")
    return 0


def _cmd_redo(library: Library, args: argparse.Namespace) -> int:
    description = library.albums.redo()
    print(f"redone: {description}" if description else "nothing to redo")
    return 0


def next_steps(library: Library, limit: int = 50) -> tuple[int | None, int | None]:
    """The ids of the actions `undo` and `redo` would act on now (None: nothing to undo or redo).

    Redoable actions are the undone ones above every done one; `redo` re-applies the one undone last, the
    lowest of them.
    """
    while True:
        entries = library.albums.history(limit)
        redo = None
        for entry in entries:  # newest first
            if not entry.undone:
                return entry.id, redo
            if entry.redoable:
                redo = entry.id
        if len(entries) < limit:
            return None, redo
        limit *= 4


def _local_time(created_at: float) -> str:
    return dt.datetime.fromtimestamp(created_at).astimezone().isoformat(timespec="seconds")


def _cmd_history(library: Library, args: argparse.Namespace) -> int:
    if args.limit < 1:
        raise InvalidInputError("--limit must be at least 1")
    entries = library.albums.history(args.limit)
    undo, redo = next_steps(library)
    if args.json:
        print_json(
            [
                {
                    "id": e.id,
                    "kind": e.kind,
                    "description": e.description,
                    "undone": e.undone,
                    "next": "undo" if e.id == undo else "redo" if e.id == redo else None,
                    "created_at": _local_time(e.created_at),
                }
                for e in entries
            ]
        )
        return 0
    if not entries:
        print("No actions yet.")
    for e in entries:
        when = dt.datetime.fromtimestamp(e.created_at).strftime("%Y-%m-%d %H:%M")
        mark = "  ← next undo" if e.id == undo else "  ← next redo" if e.id == redo else ""
        print(f"{e.id:>5}  {when}  {e.kind:<9}  {e.description}{'  (undone)' if e.undone else ''}{mark}")
    return 0


def _cmd_recluster(library: Library, args: argparse.Namespace) -> int:
    if args.k is not None and args.k < 1:
        raise InvalidInputError("--k must be at least 1")
    return recluster_then_name(library, args, more=args.more, fewer=args.fewer)


def recluster_then_name(library: Library, args: argparse.Namespace, **options: bool) -> int:
    """Re-cluster and print the albums at once; the first time with a model, name them next ("naming…") from
    one prompt per term and print the names; then refine the names from the whole prompt ensemble while it
    is not cached (Ctrl-C there keeps the names printed; the next run resumes)."""
    from engine.errors import ModelUnavailableError

    before = latest_done_id(library)
    done: list[ReclusterSummary] = []

    def recluster(bar: BarProgress) -> ReclusterSummary:
        done.append(library.recluster(args.k, progress=bar, names_later=True, **options))
        return done[0]

    code = run_with_bar(args, "step", recluster)
    if done[0].names_pending:
        print("naming…", flush=True)
        run_with_bar(args, "term", lambda bar: library.name(bar, quick=True))
    refine = not library.vocabulary_embedded()  # read from the catalog: no model loads when all is cached
    if refine and not done[0].names_pending:
        try:
            refine = library.embedder() is not None
        except ModelUnavailableError:  # said in the summary: the albums keep provisional names
            refine = False
    if refine:
        print("refining the names from the whole prompt ensemble (once per model; Ctrl-C keeps the names above)…")
        try:
            run_with_bar(args, "term", lambda bar: library.name(bar))
        except KeyboardInterrupt:
            print("\nstopped: the names above stay; the next recluster or photoatlas name resumes refining them")
    print_undo_hint(library, before)
    return code


def _cmd_export(library: Library, args: argparse.Namespace) -> int:
    summary = library.export_album(args.album, args.destination, args.link)
    for line in summary.lines():
        print(line)
    return 0
