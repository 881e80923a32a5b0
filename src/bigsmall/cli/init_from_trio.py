"""``bigsmall init-from-trio``: a BigSmall initialised from the authors' released trio."""

from __future__ import annotations

import argparse
from pathlib import Path

from bigsmall.constants import OFFICIAL_FOLDS, SHIFTS, TRIO_SMALL_SOURCES


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "init-from-trio",
        help="build BigSmall weights from the released Big_AU / Small_Heart / Small_Resp",
        description=(
            "Copy the Big branch and AU head from Big_AU, the Small branch and PPG head from "
            "Small_Heart (or Small_Resp with --small-from resp) and the respiration head from "
            "Small_Resp of one fold into a 'bigsmall' model, as the starting point for "
            "fine-tuning. The heads then read Big+Small features they were not trained on: "
            "fine-tune before use."
        ),
    )
    parser.add_argument(
        "weights_dir", type=Path, metavar="WEIGHTS_DIR", help="folder of the released .pth files"
    )
    parser.add_argument("--fold", type=int, default=1, choices=OFFICIAL_FOLDS, help="subject fold")
    parser.add_argument("--out", required=True, type=Path, metavar="FILE.safetensors")
    parser.add_argument("--n-segment", type=int, default=3, help="frames per window N")
    parser.add_argument("--shift", default="wtsm", choices=SHIFTS, help="Small-branch shift")
    parser.add_argument(
        "--small-from",
        default="heart",
        choices=TRIO_SMALL_SOURCES,
        help="which released Small model's convolutions to keep (default heart)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import json

    from bigsmall.models.official import OFFICIAL_FILES, bigsmall_from_trio
    from bigsmall.models.weights import save_safetensors

    model = bigsmall_from_trio(
        args.weights_dir,
        fold=args.fold,
        n_segment=args.n_segment,
        shift=args.shift,
        small_from=args.small_from,
    )
    sources = [p.format(fold=args.fold) for p in OFFICIAL_FILES.values()]
    metadata = {
        "format": "bigsmall-safetensors-v1",
        "model": "bigsmall",
        "model_kwargs": json.dumps(
            {"n_segment": args.n_segment, "shift": args.shift}, sort_keys=True
        ),
        "source_file": ",".join(sources),
        "init": f"trio fold {args.fold}, small convs from {args.small_from}",
    }
    path = save_safetensors(model, args.out, metadata=metadata)
    print(f"{args.weights_dir} fold {args.fold} -> {path} (bigsmall, small from {args.small_from})")
    return 0
