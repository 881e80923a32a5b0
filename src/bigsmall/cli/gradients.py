"""``bigsmall gradients CONFIG``: angles between per-task gradients (the paper's Fig. 6D)."""

from __future__ import annotations

import argparse

from bigsmall.cli.run import add_config_arguments


def _positive(text: str) -> int:
    value = int(text) if text.lstrip("-").isdigit() else 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "gradients",
        help="angles between per-task gradients of the shared parameters (paper Fig. 6D)",
    )
    add_config_arguments(parser)
    parser.add_argument(
        "--epochs", type=_positive, default=1, help="train this many epochs first (>= 1)"
    )
    parser.add_argument(
        "--batches", type=_positive, default=20, help="batches averaged per task (>= 1)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from bigsmall.config import load_config
    from bigsmall.experiment import run_gradients
    from bigsmall.training.allocator import keep_freed_memory

    cfg = load_config(args.config, args.overrides)
    keep_freed_memory()
    run_gradients(
        cfg, fold=args.fold or 1, epochs=args.epochs, batches=args.batches, device=args.device
    )
    return 0
