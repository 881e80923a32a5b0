"""``bigsmall preprocess``: a dataset → the resumable window cache used for training."""

from __future__ import annotations

import argparse

from bigsmall.constants import BIG_FRAME_MODES, BVP_LABEL_OPTIONS


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "preprocess",
        help="decode a dataset once into the BigSmall window cache (resumable, shardable)",
        description=(
            "Read every recording of --source under --root, build BigSmall's Big (uint8) and "
            "Small (float16) inputs and labels, and store them under --cache in a folder keyed "
            "by the preprocessing options and the files' identity. Re-running skips finished "
            "recordings. Bad recordings are skipped with one line each (--strict: error). "
            "Under torchrun (RANK/WORLD_SIZE) or with --shard K/N each process does its share."
        ),
    )
    parser.add_argument("--source", required=True, help="dataset source (e.g. folder, bp4d_plus)")
    parser.add_argument("--root", required=True, help="dataset folder")
    parser.add_argument("--cache", required=True, help="cache folder (created if needed)")
    parser.add_argument("--fold", type=int, default=None, help="also write foldK.json (1..3)")
    parser.add_argument("--workers", type=int, default=1, help="parallel processes (default 1)")
    parser.add_argument(
        "--shard", default=None, help="K/N: this machine's share (0-based K; default RANK)"
    )
    parser.add_argument("--strict", action="store_true", help="a bad recording is an error")
    parser.add_argument("--limit", type=int, default=None, help="only the first N recordings")
    parser.add_argument("--n-segment", type=int, default=3, help="window length N (default 3)")
    parser.add_argument(
        "--big-frames",
        choices=BIG_FRAME_MODES,
        default="first",
        help="store Big for frame 0 of each window (default) or for every frame",
    )
    parser.add_argument(
        "--crop",
        default="auto",
        help="auto (the dataset's framing: face detection, or BP4D+'s bottom square) or a "
        "video crop mode (face, bp4d, full, ...)",
    )
    parser.add_argument("--detector", default="haar", help="face detector (default haar)")
    parser.add_argument("--every-k", type=int, default=30, help="re-detect every K frames")
    parser.add_argument(
        "--bvp-label",
        choices=BVP_LABEL_OPTIONS,
        default="auto",
        help="PPG training label (auto: POS pseudo-PPG where the pulse is blood pressure)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import sys

    from bigsmall.data.cache import (
        parse_shard,
        preprocess_dataset,
        shard_from_env,
        write_fold_split,
    )
    from bigsmall.data.pipeline import PreprocessConfig
    from bigsmall.errors import ConfigError

    if args.workers < 1:
        raise ConfigError(f"--workers must be >= 1, got {args.workers}")
    cfg = PreprocessConfig(
        n_segment=args.n_segment,
        crop=args.crop,
        detector=args.detector,
        every_k_frames=args.every_k,
        big_frames=args.big_frames,
        bvp_label=args.bvp_label,
    )
    shard = parse_shard(args.shard) if args.shard else shard_from_env()
    summary = preprocess_dataset(
        args.source,
        args.root,
        args.cache,
        cfg,
        workers=args.workers,
        shard=shard,
        strict=args.strict,
        limit=args.limit,
        progress=not args.quiet,
        on_issue=lambda line: print(line, file=sys.stderr),
    )
    for line in summary.lines():
        print(line)
    if args.fold is not None and summary.manifest is None:
        print(f"fold {args.fold}: written once every shard has finished (re-run any shard)")
    elif args.fold is not None:
        split = write_fold_split(summary.cache_dir, args.fold, args.source)
        print(
            f"fold {args.fold}: {len(split['train'])} train, {len(split['test'])} test "
            f"recordings -> {summary.cache_dir / f'fold{args.fold}.json'}"
        )
    return 0
