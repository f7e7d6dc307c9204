"""`photoatlas refine`: DAC refinement of the albums, taught by the user's corrections."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from engine.cli.common import Handler, latest_done_id, print_json, print_undo_hint, run_with_bar
from engine.cli.progress_bar import BarProgress
from engine.errors import InvalidInputError

if TYPE_CHECKING:
    from engine.albums.refine import RefineSummary
    from engine.library import Library


def add_commands(commands: argparse._SubParsersAction) -> dict[str, Handler]:
    """Add the parser; returns the handler of the command."""
    refine = commands.add_parser(
        "refine",
        help="refine the albums with DAC, learning from your moves (your decisions are kept)",
    )
    refine.add_argument("--epochs", type=int, help="curriculum epochs (default: the published schedule, 46)")
    refine.add_argument(
        "--finetune-blocks",
        type=int,
        default=0,
        metavar="N",
        help="also train the last N blocks of CLIP's image tower (ViT models; meant for a GPU)",
    )
    refine.add_argument("--json", action="store_true", help="print a JSON object instead of the summary")
    refine.add_argument("--no-progress", action="store_true", help="no progress bar")
    return {"refine": _cmd_refine}


def refine_json(summary: RefineSummary) -> dict[str, object]:
    return {
        "photos": summary.photos,
        "albums": summary.albums,
        "epochs": summary.epochs,
        "must_link": summary.must_link,
        "cannot_link": summary.cannot_link,
        "agreement_before": round(summary.agreement_before, 4),
        "agreement_after": round(summary.agreement_after, 4),
        "changed": summary.changed,
        "albums_affected": summary.albums_affected,
        "created": summary.recluster.created if summary.recluster else [],
        "retired": summary.recluster.retired if summary.recluster else [],
        "seconds": round(summary.seconds, 2),
    }


def _cmd_refine(library: Library, args: argparse.Namespace) -> int:
    if args.epochs is not None and args.epochs < 1:
        raise InvalidInputError("--epochs must be at least 1")
    if args.finetune_blocks < 0:
        raise InvalidInputError("--finetune-blocks must be 0 or more")
    options: dict[str, object] = {} if args.epochs is None else {"epochs": args.epochs}
    if args.finetune_blocks:
        options["finetune_blocks"] = args.finetune_blocks
    if args.json:
        progress = BarProgress(enabled=False if args.no_progress else None, unit="epoch")
        try:
            summary = library.refine(progress=progress, **options)
        finally:
            progress.close()
        print_json(refine_json(summary))
        return 0
    before = latest_done_id(library)
    code = run_with_bar(args, "epoch", lambda bar: library.refine(progress=bar, **options))
    print_undo_hint(library, before)
    return code
