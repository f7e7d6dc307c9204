"""The `photoatlas` command: a subcommand runs the engine's CLI; no subcommand opens the window.

It lives in desktop_app because only this side may know about the window; the engine's CLI stays
headless. Qt is imported only when the window is really opened.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from engine import cli_main, cli_parser


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    parsed, _ = cli_parser().parse_known_args(args)
    if parsed.command is not None or any(a in ("-h", "--help", "--version") for a in args):
        return cli_main(args)
    try:
        from desktop_app.main import run_app  # type: ignore[import-not-found]
    except ImportError:  # the window arrives with the desktop issue; until then show the commands
        code = cli_main(args)
        print("\nThe PhotoAtlas window is not part of this version yet; use the commands above.", file=sys.stderr)
        return code
    return int(run_app(parsed.library))


if __name__ == "__main__":
    sys.exit(main())
