"""``python -m bigsmall`` runs the command-line interface."""

from bigsmall.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
