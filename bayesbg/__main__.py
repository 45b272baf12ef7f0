"""``python -m bayesbg``: the ``bayesbg`` command line."""

from bayesbg.cli import main

raise SystemExit(main())
