"""The command line: `photoatlas` and its subcommands, one module per group of verbs."""

from __future__ import annotations

from engine.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
