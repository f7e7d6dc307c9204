"""The command line of the engine (`photoatlas COMMAND`, also `python -m engine COMMAND`)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine import __version__
from engine.cli.common import Handler, print_json, run_with_bar
from engine.errors import Cancelled, InvalidInputError, PhotoAtlasError
from engine.paths import display

if TYPE_CHECKING:  # the library (and its heavy imports) loads only when a command runs
    from engine.albums.clusters import ClusterInfo
    from engine.library import Library

EXIT_ERROR = 1
RAY_HELP = (
    "decode and embed on a Ray compute cluster: local (Ray on this computer), auto, the head's host:port or "
    "ray://host:10001; off for this computer only (default: the library's compute_cluster setting)"
)
RAY_FIT_HELP = "fit the clustering on a Ray compute cluster (local, auto, host:port or ray://host:10001)"
EXIT_INTERRUPTED = 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="photoatlas",
        description="PhotoAtlas: organise a photo library into albums with CLIP. Originals are never modified.",
    )
    parser.add_argument("--version", action="version", version=f"photoatlas {__version__}")
    parser.add_argument(
        "--library",
        type=Path,
        default=None,
        metavar="DIR",
        help="the library's folder (catalog, settings, thumbnails); default: the platform's user data folder",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    index = commands.add_parser("index", help="add photo folders and catalog, thumbnail and embed their photos")
    index.add_argument(
        "paths",
        nargs="*",
        type=Path,
        metavar="PATH",
        help="folders to add and scan (default: rescan the library's folders)",
    )
    index.add_argument("--model", help="open_clip architecture, e.g. ViT-B-32 (remembered by the library)")
    index.add_argument("--pretrained", help="pretrained tag (downloaded once) or a local checkpoint file")
    index.add_argument("--model-config", help="JSON config registering a custom open_clip architecture")
    index.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"], help="where the model runs")
    index.add_argument(
        "--offline",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="never download model weights (remembered once the index succeeds)",
    )
    index.add_argument(
        "--no-embed",
        action="store_true",
        help="catalog and thumbnail only, without the CLIP model (embed later with index)",
    )
    index.add_argument("--batch-size", type=int, help="images per model call (default: by device)")
    index.add_argument("--workers", type=int, help="parallel decoding threads (default: --threads)")
    index.add_argument(
        "--threads",
        type=int,
        metavar="N",
        help="CPU cores indexing may use, for decoding and the model (default: all but one above 2 cores)",
    )
    index.add_argument(
        "--image-runtime",
        choices=["auto", "torch", "torch-int8", "onnx-int8", "onnx-fp32", "openvino"],
        help="how the model's image tower runs on a CPU (default: auto, the fastest that embeds like fp32)",
    )
    index.add_argument("--no-progress", action="store_true", help="no progress bar")
    index.add_argument("--timings", action="store_true", help="also print where the time went")
    index.add_argument("--ray", metavar="ADDRESS", help=RAY_HELP)

    photos = commands.add_parser("photos", help="list the photos of the library")
    photos.add_argument("--json", action="store_true", help="print a JSON array")

    places = commands.add_parser("places", help="where the photos were taken: countries and cities, with counts")
    places.add_argument("--json", action="store_true", help="print a JSON array of countries with their cities")

    status = commands.add_parser("status", help="summarise the library")
    status.add_argument("--json", action="store_true", help="print a JSON object")

    # One verb per job: `recluster` groups the photos into albums (the first time too) and `albums` lists them.
    # The older `cluster` and `clusters` keep working for scripts, out of the help (no help= hides a command).
    cluster = commands.add_parser("cluster", description="the same as photoatlas recluster")
    cluster.add_argument("--k", type=int, help="number of clusters (default: chosen automatically)")
    cluster.add_argument("--no-progress", action="store_true", help="no progress bar")
    cluster.add_argument("--ray", metavar="ADDRESS", help=RAY_FIT_HELP)

    clusters = commands.add_parser("clusters", description="the machine's clusters behind the albums")
    clusters.add_argument("--json", action="store_true", help="print a JSON array")

    commands.add_parser("init", help="create an empty library (index creates one too)")

    skipped = commands.add_parser("skipped", help="list files that were not cataloged, with the reason")
    skipped.add_argument("--json", action="store_true", help="print a JSON array")

    from engine.cli import albums as cli_albums
    from engine.cli import model as cli_model
    from engine.cli import naming as cli_naming
    from engine.cli import refine as cli_refine
    from engine.cli import watch as cli_watch

    COMMANDS.update(cli_naming.add_commands(commands))
    COMMANDS.update(cli_albums.add_commands(commands))
    COMMANDS.update(cli_watch.add_commands(commands))
    COMMANDS.update(cli_model.add_commands(commands))
    COMMANDS.update(cli_refine.add_commands(commands))
    from engine.cli import stacks as cli_stacks

    COMMANDS.update(cli_stacks.add_commands(commands))
    commands.choices["recluster"].add_argument("--ray", metavar="ADDRESS", help=RAY_FIT_HELP)
    _list_in_order(commands)
    return parser


# The order `--help` lists the commands in: the order a user meets them, from the first index on.
HELP_ORDER = (
    "index",
    "status",
    "albums",
    "recluster",
    "rename",
    "merge",
    "move",
    "split",
    "remove",
    "pin",
    "unpin",
    "undo",
    "redo",
    "history",
    "search",
    "export",
    "watch",
    "photos",
    "places",
    "duplicates",
    "stacks",
    "unstack",
    "stack-cover",
    "skipped",
    "name",
    "vocab",
    "refine",
    "model",
    "init",
)

# Commands that may create the library they are given; every other one needs an existing library, so that a
# mistyped --library is an error instead of a new empty library.
CREATING = frozenset({"index", "init"})


def _list_in_order(commands: argparse._SubParsersAction) -> None:
    # argparse lists subcommands in the order they were added, which follows the modules that add them.
    rank = {name: n for n, name in enumerate(HELP_ORDER)}
    commands._choices_actions.sort(key=lambda action: rank.get(action.dest, len(rank)))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:  # the `photoatlas` launcher opens the window instead when it is installed
        parser.print_help()
        return 0
    try:
        from engine.library import Library

        if args.command == "index":
            _check_new_library_folders(args)
        with Library(args.library, create=args.command in CREATING) as library:
            if args.command in ("recluster", "cluster") and args.ray:
                # For this run only: the fit goes to the cluster; the setting on disk is unchanged.
                library.update_settings(library.settings.replace(compute_cluster=args.ray), save=False)
            return COMMANDS[args.command](library, args)
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print(
            "\nphotoatlas: interrupted; finished work is saved. Run the same command again to continue.",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    except Cancelled as exc:
        print(f"photoatlas: {exc}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except PhotoAtlasError as exc:
        print(f"photoatlas: error: {exc}", file=sys.stderr)
        return EXIT_ERROR


def _check_new_library_folders(args: argparse.Namespace) -> None:
    """A new library knows no folder yet: a missing one is a mistake, caught before the library is created."""
    from engine.catalog import CATALOG_FILE
    from engine.paths import default_library_dir

    directory = Path(args.library or default_library_dir()).expanduser()
    if (directory / CATALOG_FILE).is_file():
        return  # the library checks them itself: a known folder that is missing is only "not available"
    for path in args.paths:
        if not path.expanduser().exists():
            raise InvalidInputError(f"no folder at {display(path.expanduser().resolve())}; check the path")


def _cmd_index(library: Library, args: argparse.Namespace) -> int:
    if args.threads is not None and args.threads < 0:
        raise InvalidInputError("--threads must be 0 (automatic) or more")
    if args.model or args.pretrained or args.model_config:
        # Remembered at once: a weights file is loaded and tried before it is kept, and the photos this run
        # embeds before an interruption are embedded with it, so a rerun without the options goes on with it.
        library.set_model(args.model, args.pretrained, args.model_config)
    # The other options apply to this run; the library remembers them only once the run has succeeded.
    changes = {
        k: v
        for k, v in {
            "device": args.device,
            "offline": args.offline,
            "batch_size": args.batch_size,
            "decode_workers": args.workers,
            "threads": args.threads,
            "image_runtime": args.image_runtime,
        }.items()
        if v is not None
    }
    if changes:
        library.update_settings(library.settings.replace(**changes), save=False)
    summaries = []

    def index(bar: Any) -> Any:
        summaries.append(library.index(args.paths, embed=not args.no_embed, progress=bar, cluster=args.ray))
        return summaries[-1]

    code = run_with_bar(args, "photo", index)
    if args.timings:
        for line in summaries[-1].timing_lines():
            print(line)
    if changes:
        library.save_settings()
    return code


def _cmd_init(library: Library, args: argparse.Namespace) -> int:
    if library.created:
        print(f"Created an empty library at {display(library.directory)}; add photos with photoatlas index PATH")
    else:
        print(f"There is already a library at {display(library.directory)}; it was left as it is")
    return 0


def _cmd_photos(library: Library, args: argparse.Namespace) -> int:
    rows = library.photos()
    album_of = {pid: a.id for a in library.albums.albums() if a.id is not None for pid in a.members}
    stack_of = library.stacks.stack_of_photo()
    if args.json:
        out = [
            {
                "id": r.id,
                "path": display(r.path),
                "hash": r.hash,
                "taken_at": r.taken_at,
                "width": r.width,
                "height": r.height,
                "embedded": r.embedded,
                "album": album_of.get(r.id),
                # The stack (burst or copies) the photo is folded into, null when it stands alone.
                "stack": stack_of.get(r.id),
                "kind": r.kind,
                "duration": r.duration,
                # The item's other files: the RAW of a RAW+JPEG pair, a Live Photo's MOV.
                "files": [display(p) for p in (r.path, *r.companions)],
                # Where it was taken ({city, region, country}, city null at sea), null when unknown.
                "place": r.place.as_dict() if r.place is not None else None,
                "utc_offset": r.utc_offset,
            }
            for r in rows
        ]
        print_json(out)
        return 0
    for r in rows:
        mark = " " if r.embedded else "*"
        kind = f"{r.kind} {r.duration:.1f} s" if r.duration is not None and r.kind == "video" else r.kind
        print(f"{r.id:>7} {mark} {r.taken_at or '-':<25} {r.width:>5}×{r.height:<5} {kind:<12} {display(r.path)}")
    if any(not r.embedded for r in rows):
        print("(* not embedded yet)")
    return 0


def _cmd_places(library: Library, args: argparse.Namespace) -> int:
    countries = library.places()
    if args.json:
        print_json(
            [
                {
                    "country": c.country,
                    "count": c.count,
                    "cities": [{"city": city, "count": n} for city, n in c.cities],
                }
                for c in countries
            ]
        )
        return 0
    if not countries:
        print("No places yet: none of the photos carries a GPS position (or none was taken near a town).")
        return 0
    for c in countries:
        print(f"{c.count:>7}  {c.country}")
        for city, n in c.cities:
            print(f"{n:>7}    {city or '(away from towns)'}")
    return 0


def _cmd_status(library: Library, args: argparse.Namespace) -> int:
    status = library.status()
    if args.json:
        data = dict(status.__dict__)
        data["model"] = dict(status.model.__dict__)
        print_json(data)
        return 0
    print(f"Library:     {status.directory}")
    print(f"Folders:     {', '.join(status.roots) if status.roots else '(none yet: photoatlas index FOLDER)'}")
    print(f"Photos:      {status.photos} ({status.embedded} embedded)")
    print(
        f"Skipped:     {sum(status.skipped.values())}"
        + (f" ({', '.join(f'{n} {r}' for r, n in sorted(status.skipped.items()))})" if status.skipped else "")
    )
    print(f"Model:       {status.model.name} / {display(status.model.pretrained)}")
    print(f"Disk:        catalog {status.catalog_bytes / 1e6:.1f} MB, thumbnails {status.thumbnail_bytes / 1e6:.1f} MB")
    for notice in status.notices:
        print(f"Note:        {notice}")
    if status.names_pending:
        print("Names:       the albums still have provisional names (naming was stopped): photoatlas name")
    elif status.names_refinable:
        print("Names:       from a quicker first pass (their refinement was stopped): photoatlas name refines them")
    return 0


def _cmd_skipped(library: Library, args: argparse.Namespace) -> int:
    from engine.media.skip_reasons import Skip

    rows = library.skipped()
    if args.json:
        print_json([{"path": display(p), "reason": r, "detail": d} for p, r, d in rows])
        return 0
    for path, reason, detail in rows:
        print(f"{display(path)}: {Skip(reason, detail).describe()}")
    return 0


def _cmd_cluster(library: Library, args: argparse.Namespace) -> int:
    from engine.cli.albums import recluster_then_name

    if args.k is not None and args.k < 1:
        raise InvalidInputError("--k must be at least 1")
    return recluster_then_name(library, args)


def _cluster_json(c: ClusterInfo) -> dict[str, object]:
    return {
        "id": c.id,
        "size": c.size,
        "members": c.members,
        "name": c.name,
        "confidence": None if c.confidence is None else round(c.confidence, 4),
        "date_from": c.date_from,
        "date_to": c.date_to,
    }


def _cmd_clusters(library: Library, args: argparse.Namespace) -> int:
    clusters = library.clusters()
    if args.json:
        print_json([_cluster_json(c) for c in clusters])
        return 0
    if not clusters:
        print("No clusters yet: run photoatlas recluster")
    for c in clusters:
        label = "Other" if c.id is None else (c.title or f"cluster {c.id}")
        doubt = " (generic: no candidate name fits well)" if c.generic else ""
        print(f"{c.size:>7} photos  {label}{doubt}")
    return 0


COMMANDS: dict[str, Handler] = {
    "cluster": _cmd_cluster,
    "clusters": _cmd_clusters,
    "index": _cmd_index,
    "init": _cmd_init,
    "photos": _cmd_photos,
    "places": _cmd_places,
    "status": _cmd_status,
    "skipped": _cmd_skipped,
}


if __name__ == "__main__":
    sys.exit(main())
