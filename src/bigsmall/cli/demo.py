"""``bigsmall demo``: measure a generated face video with a known pulse and breathing.

Needs no data and no network: a synthetic face video with an injected pulse and breathing is
rendered locally, measured like any other video, and the true and measured rates printed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from bigsmall.cli.predict import (
    add_model_arguments,
    add_pulse_argument,
    breathing_origin,
    positive_float,
)

DEFAULT_OUT = "bigsmall-demo"
DEMO_VIDEO = "demo.mp4"
TRUTH_FILE = "truth.json"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="measure a generated face video with a known pulse and breathing (no data needed)",
        description=(
            "Render a short synthetic face video with a known heart rate and breathing rate, "
            "run `predict` on it and print the true and measured rates. Writes the video, "
            "truth.json and the usual predict outputs into --out (default ./bigsmall-demo). "
            "Uses the shipped BigSmall weights when present, else POS (pulse) + head motion "
            "(breathing)."
        ),
    )
    parser.add_argument("--out", default=DEFAULT_OUT, metavar="DIR", help="output folder")
    parser.add_argument(
        "--seconds", type=positive_float, default=30.0, help="video length in s (default 30)"
    )
    parser.add_argument("--seed", type=int, default=None, help="random seed of the video")
    add_model_arguments(parser)
    add_pulse_argument(parser)
    parser.set_defaults(func=run, method=None)


def _choose_method(args: argparse.Namespace) -> str:
    if args.method is not None:
        return args.method
    from bigsmall.predict.runner import shipped_weights_path

    if args.checkpoint is not None or shipped_weights_path().is_file():
        return "bigsmall"
    print(
        "bigsmall demo: no BigSmall weights ship with this install; measuring with POS "
        "(pulse) and head motion (breathing) instead",
        file=sys.stderr,
    )
    return "pos"


def run(args: argparse.Namespace) -> int:
    from bigsmall.cli.predict import make_predictor
    from bigsmall.errors import ConfigError
    from bigsmall.output_dir import MARKER, atomic_dir, is_own_output
    from bigsmall.predict.demo_video import DEMO_SEED, make_demo_video
    from bigsmall.predict.outputs import write_result_files

    out = Path(args.out)
    if out.is_dir() and any(out.iterdir()) and not is_own_output(out):
        if not (out / DEMO_VIDEO).is_file() or not (out / TRUTH_FILE).is_file():
            raise ConfigError(f"{out}: folder exists and was not made by bigsmall demo; pass --out")
        (out / MARKER).write_text("{}\n")  # a demo folder of an earlier version: ours
    args.method = _choose_method(args)
    start = time.perf_counter()
    with atomic_dir(out, overwrite=True, written_by="bigsmall demo") as tmp:
        video = tmp / DEMO_VIDEO
        seed = DEMO_SEED if args.seed is None else args.seed
        truth = make_demo_video(video, seconds=args.seconds, seed=seed)
        rendered = time.perf_counter() - start
        result = make_predictor(args).predict(video)
        result.source = str(out / DEMO_VIDEO)
        write_result_files(result, tmp)
        truth_info = {
            "heart_rate_bpm": round(truth.heart_rate_bpm, 2),
            "breathing_rate_bpm": round(truth.breathing_rate_bpm, 2),
            "seconds": args.seconds,
            "seed": seed,
        }
        (tmp / TRUTH_FILE).write_text(json.dumps(truth_info, indent=2) + "\n")
    elapsed = time.perf_counter() - start

    def line(what: str, true: float, measured: float | None, unit: str) -> str:
        if measured is None:
            return f"{what}: true {true:.1f} {unit}, measured: not reported (signal too weak)"
        return (
            f"{what}: true {true:.1f} {unit}, measured {measured:.1f} {unit} "
            f"(error {measured - true:+.1f})"
        )

    source = breathing_origin(result)
    print(f"demo video: {out / DEMO_VIDEO} ({args.seconds:g} s, rendered in {rendered:.1f} s)")
    print(f"method: {result.method}; breathing from {source}")
    print(line("heart rate", truth.heart_rate_bpm, result.heart_rate_bpm, "bpm"))
    print(line("breathing rate", truth.breathing_rate_bpm, result.breathing_rate_bpm, "/min"))
    for warning in result.warnings:
        print(f"  warning: {warning}")
    print(f"report: {out / 'report.html'} (and report.png, summary.json); took {elapsed:.1f} s")
    return 0
