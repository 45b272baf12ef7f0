"""``python -m bayesbg``: the ``bayesbg`` command line."""

from bayesbg.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
