"""``python -m symgraph``: the command line."""

from .cli import main

raise SystemExit(main())
