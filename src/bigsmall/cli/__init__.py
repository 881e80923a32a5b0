"""The ``bigsmall`` command line: a thin dispatcher.

Each sub-command lives in its own module ``bigsmall.cli.<name>`` exposing
``register(subparsers) -> None`` (adds its parser, sets ``func``) and keeps heavy imports inside
its run function so that ``bigsmall --help`` stays fast. User mistakes raise
:class:`bigsmall.errors.BigSmallError` and are printed as one line with exit status 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings
from collections.abc import Sequence

from bigsmall.errors import BigSmallError
from bigsmall.version import __version__

#: Sub-command modules, in the order ``--help`` lists them.
COMMANDS: tuple[str, ...] = (
    # one line per sub-command module, e.g. "profile",
    "profile",
    "export",
    "synth",
    "preprocess",
    "run",
    "gradients",
    "convert_checkpoint",
    "init_from_trio",
    "predict",
    "demo",
    "live",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bigsmall",
        description="Facial action units, pulse and breathing from face video (BigSmall).",
    )
    parser.add_argument("--version", action="version", version=f"bigsmall {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMANDS:
        importlib.import_module(f"bigsmall.cli.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with warnings.catch_warnings():
            # Libraries' warnings (numpy empty slices, matplotlib glyphs, torch deprecations)
            # are not the user's business: what matters reaches them as a result's warnings,
            # and every error is one line.
            if not sys.warnoptions:
                warnings.simplefilter("ignore")
            result = args.func(args)
    except BigSmallError as exc:
        print(f"bigsmall: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("bigsmall: interrupted", file=sys.stderr)
        return 130
    return int(result or 0)
