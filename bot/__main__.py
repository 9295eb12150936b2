"""``python -m bot``: the same command line as ``paperboy``."""

from bot.process.cli import main

raise SystemExit(main())
