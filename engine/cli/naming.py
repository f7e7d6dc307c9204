"""Commands that name albums and search the library: `name`, `search`, `vocab`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from engine.cli.common import Handler, print_json, run_with_bar
from engine.errors import InvalidInputError
from engine.paths import display

if TYPE_CHECKING:
    from engine.library import Library


def add_commands(commands: argparse._SubParsersAction) -> dict[str, Handler]:
    """Add the parsers; returns the handler of each command."""
    name = commands.add_parser("name", help="(re)name the clusters from the vocabulary with CLIP's text tower")
    name.add_argument("--no-progress", action="store_true", help="no progress bar")

    search = commands.add_parser("search", help='find photos matching a text, e.g. "dog on the beach"')
    search.add_argument("query", nargs="+", help="what to look for")
    search.add_argument("--limit", type=int, default=50, help="at most this many photos (default 50)")
    search.add_argument("--json", action="store_true", help="print a JSON array")
    search.add_argument("--no-progress", action="store_true", help="no progress bar")

    vocab = commands.add_parser("vocab", help="the candidate names albums are named from")
    actions = vocab.add_subparsers(dest="vocab_action", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="add your own terms (quote terms with spaces)")
    add.add_argument("terms", nargs="+", metavar="TERM")
    remove = actions.add_parser("remove", help="remove terms")
    remove.add_argument("terms", nargs="+", metavar="TERM")
    listing = actions.add_parser("list", help="print the terms")
    listing.add_argument("--json", action="store_true", help="print a JSON array of {term, category}")
    use = actions.add_parser("use", help="replace the candidate list with your own (one term per line)")
    use.add_argument("file", type=Path)
    reset = actions.add_parser("reset", help="back to the built-in vocabulary")
    for action in (add, remove, use, reset):
        action.add_argument("--no-progress", action="store_true", help="no progress bar")
    return {"name": _cmd_name, "search": _cmd_search, "vocab": _cmd_vocab}


def _cmd_name(library: Library, args: argparse.Namespace) -> int:
    return run_with_bar(args, "term", lambda bar: library.name(progress=bar))


def _cmd_search(library: Library, args: argparse.Namespace) -> int:
    from engine.cli.progress_bar import BarProgress

    if args.limit < 1:
        raise InvalidInputError("--limit must be at least 1")
    progress = BarProgress(enabled=False if args.no_progress else None, unit="term")
    try:
        results = library.search(" ".join(args.query), limit=args.limit, progress=progress)
    finally:
        progress.close()
    if args.json:
        out = [{"id": r.id, "path": display(r.path), "score": round(r.score, 4)} for r in results]
        print_json(out)
        return 0
    if not results:
        print("No good matches.")
    for r in results:
        print(f"{r.score:6.3f}  {r.id:>7}  {display(r.path)}")
    return 0


def _cmd_vocab(library: Library, args: argparse.Namespace) -> int:
    action = args.vocab_action
    if action == "list":
        vocabulary = library.vocabulary()
        if args.json:
            print_json([{"term": t.text, "category": t.category} for t in vocabulary.terms])
        else:
            for term in vocabulary.terms:
                print(f"{term.category:<16} {term.text}")
            print(f"({len(vocabulary)} terms, version {vocabulary.version})", file=sys.stderr)
        return 0
    choice = library.vocabulary_choice()
    if action == "add":
        choice = choice.add(args.terms)
    elif action == "remove":
        choice = choice.remove(args.terms)
    elif action == "use":
        choice = choice.use_file(args.file)
    else:
        choice = choice.reset()
    vocabulary = library.set_vocabulary(choice)
    print(f"vocabulary: {len(vocabulary)} terms (version {vocabulary.version})")
    if not library.clusters():
        return 0
    # Only automatic names change: user-given album names are never touched by naming.
    return run_with_bar(args, "term", lambda bar: library.name(progress=bar))
