"""``bigsmall gradients CONFIG``: angles between per-task gradients (the paper's Fig. 6D)."""

from __future__ import annotations

import argparse

from bigsmall.cli.run import add_config_arguments


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "gradients",
        help="angles between per-task gradients of the shared parameters (paper Fig. 6D)",
    )
    add_config_arguments(parser)
    parser.add_argument("--epochs", type=int, default=1, help="train this many epochs first")
    parser.add_argument("--batches", type=int, default=20, help="batches averaged per task")
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
