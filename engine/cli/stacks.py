"""Stack commands: duplicates, stacks, unstack, stack-cover."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from engine.cli.common import Handler, print_json
from engine.paths import display

if TYPE_CHECKING:
    from engine.library import Library


def add_commands(commands: argparse._SubParsersAction) -> dict[str, Handler]:
    """Add the parsers; returns the handler of each command."""
    duplicates = commands.add_parser(
        "duplicates", help="files that hold the same picture (exact and resized copies); nothing is deleted"
    )
    duplicates.add_argument("--json", action="store_true", help="print a JSON array")
    stacks = commands.add_parser("stacks", help="bursts and copies folded into one photo, with their covers")
    stacks.add_argument("--json", action="store_true", help="print a JSON array")
    unstack = commands.add_parser("unstack", help="show a stack's photos one by one (never stacked again)")
    unstack.add_argument("stack", type=int, help="stack id (see photoatlas stacks)")
    cover = commands.add_parser("stack-cover", help="show this photo on top of its stack")
    cover.add_argument("photo", type=int, help="photo id (see photoatlas photos)")
    return {"duplicates": _cmd_duplicates, "stacks": _cmd_stacks, "unstack": _cmd_unstack, "stack-cover": _cmd_cover}


def _size(count: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if count < 1000 or unit == "GB":
            return f"{count} {unit}" if unit == "bytes" else f"{count:.1f} {unit}"
        count /= 1000  # type: ignore[assignment]
    return str(count)


def _cmd_duplicates(library: Library, args: argparse.Namespace) -> int:
    sets = library.stacks.duplicates()
    if args.json:
        print_json(
            [
                {
                    "kind": d.kind,
                    "stack": d.stack,
                    "wasted_bytes": d.wasted_bytes,
                    "files": [
                        {
                            "photo": f.photo_id,
                            "path": display(f.path),
                            "size": f.size,
                            "width": f.width,
                            "height": f.height,
                            "taken_at": f.taken_at,
                        }
                        for f in d.files
                    ],
                }
                for d in sets
            ]
        )
        return 0
    if not sets:
        print("No duplicates: every file holds a picture of its own.")
        return 0
    total = sum(d.wasted_bytes for d in sets)
    print(f"{len(sets)} sets of duplicates; {_size(total)} in copies beyond the largest of each set.")
    print("PhotoAtlas never deletes a file: clean up in your file manager if you wish.")
    for d in sets:
        what = "exact copies" if d.kind == "exact" else "resized or re-encoded copies"
        print(f"\n{len(d.files)} {what}:")
        for f in d.files:
            print(f"  {f.photo_id:>7}  {f.width:>5}×{f.height:<5} {_size(f.size):>10}  {display(f.path)}")
    return 0


def _cmd_stacks(library: Library, args: argparse.Namespace) -> int:
    stacks = library.stacks.stacks()
    if args.json:
        print_json([{"id": s.id, "kind": s.kind, "cover": s.cover, "photos": list(s.photos)} for s in stacks])
        return 0
    if not stacks:
        print("No stacks: no bursts or copies were found.")
    for s in stacks:
        rest = " ".join(str(p) for p in s.photos[1:])
        print(f"{s.id:>5}  {s.kind:<9}  {s.size:>3} photos  cover {s.cover}  ({rest})")
    return 0


def _cmd_unstack(library: Library, args: argparse.Namespace) -> int:
    stack = library.stacks.unstack(args.stack)
    print(f"Unstacked {stack.size} photos; they stay apart. (photoatlas undo stacks them again)")
    return 0


def _cmd_cover(library: Library, args: argparse.Namespace) -> int:
    stack_id = library.stacks.set_cover(args.photo)
    print(f"Photo {args.photo} is now the cover of stack {stack_id}. (photoatlas undo puts the old cover back)")
    return 0
