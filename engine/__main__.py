"""`python -m engine` is the `photoatlas` command."""

import sys

from engine.cli import main

sys.exit(main())
