"""`python -m bot.cli`, as the end-to-end run starts it (tests/test_e2e.py)."""

import sys

from bot.cli import main

sys.exit(main())
