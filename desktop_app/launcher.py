"""The `photoatlas` command: a subcommand runs the engine's CLI; no subcommand opens the window.

It lives in desktop_app because only this side may know about the window; the engine's CLI stays
headless. Qt is imported only when the window is really opened, and only after a check that the system
libraries Qt needs on Linux are there (`platform_check`): a missing one ends with the packages to install
and exit status 1, instead of Qt's abort.
"""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Sequence

from engine import cli_main, cli_parser


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    parsed, _ = cli_parser().parse_known_args(args)
    if parsed.command is not None or any(a in ("-h", "--help", "--version") for a in args):
        return cli_main(args)
    # Before anything imports Qt: without its X11 libraries Qt aborts with a message that names the wrong one.
    from desktop_app import platform_check

    missing = platform_check.check_window_libraries()
    problem = missing.message() if missing else platform_check.no_display_message(os.environ, platform.system())
    if problem is not None:
        print(problem, file=sys.stderr)
        return 1
    try:
        from desktop_app.main import run_app  # type: ignore[import-not-found]
    except ImportError as error:
        unloadable = platform_check.from_load_error(str(error), platform_check.read_os_release())
        if unloadable is not None:  # a system library the check could not see: PySide6 itself failed to load
            print(unloadable.message(), file=sys.stderr)
            return 1
        code = cli_main(args)  # no window in this installation: show the commands
        print("\nThe PhotoAtlas window is not part of this version yet; use the commands above.", file=sys.stderr)
        return code
    return int(run_app(parsed.library))


if __name__ == "__main__":
    sys.exit(main())
