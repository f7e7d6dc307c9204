"""`python -m engine` is the `photoatlas` command."""

import sys

from engine.cli.main import main

sys.exit(main())
