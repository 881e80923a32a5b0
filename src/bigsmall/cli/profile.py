"""``bigsmall profile``: parameters and per-video-frame MACs of the registered models."""

from __future__ import annotations

import argparse

from bigsmall.constants import MAC_CONVENTIONS


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "profile",
        help="parameters and MACs per video frame of each model (Table 1 of the paper)",
        description=(
            "Count parameters and multiply-accumulates per video frame (what the paper calls "
            "FLOPs) with torch.utils.flop_counter and compare with Table 1 of the paper."
        ),
    )
    parser.add_argument(
        "--model",
        nargs="+",
        metavar="NAME",
        help="model names (default: every registered model)",
    )
    parser.add_argument(
        "--convention",
        default="thop",
        choices=MAC_CONVENTIONS,
        help="thop: conv bias and average pooling counted, as the paper (default); "
        "matmul: conv and linear multiply-accumulates only",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from bigsmall.models.profile import format_profile_table, profile_models

    # an unknown name raises ModelNotFoundError listing the registered names
    rows = profile_models(args.model, convention=args.convention)
    print(format_profile_table(rows))
    print(
        f"MACs per video frame, {args.convention} convention; paper = Table 1 of Narayanswamy "
        "et al. (WACV 2024). bigsmall: strict per-frame average (Big on 1 frame in N)."
    )
    return 0
