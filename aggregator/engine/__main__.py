"""Entry point for `python -m aggregator.engine`."""

import sys

from aggregator.engine.cli import main

sys.exit(main())
