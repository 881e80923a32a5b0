"""``bigsmall synth``: write the built-in synthetic dataset (videos + exact labels)."""

from __future__ import annotations

import argparse
import re

_SIZE_PATTERN = re.compile(r"^(\d+)x(\d+)$")


def _size(text: str) -> tuple[int, int]:
    match = _SIZE_PATTERN.match(text)
    if not match:
        raise argparse.ArgumentTypeError(f"size must look like 320x240, got {text!r}")
    return int(match.group(1)), int(match.group(2))


def _pair(text: str) -> tuple[float, float]:
    """``LOW,HIGH`` -> (low, high) floats (argparse type)."""
    try:
        low, high = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected LOW,HIGH (e.g. 4,18), got {text!r}") from None
    return low, high


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "synth",
        help="generate synthetic face videos with known pulse, breathing and AUs",
        description=(
            "Render face videos (procedural faces, or your photos with --faces) with an "
            "injected pulse (skin colour), breathing (head/shoulder motion) and 12 action "
            "units, written in the folder layout: OUT/dataset.json and per video "
            "OUT/S001/S001_T1.mp4 + .csv (time_s, ppg, resp, AU01..AU24) + .json."
        ),
    )
    parser.add_argument("--out", required=True, help="output folder (created atomically)")
    parser.add_argument("--subjects", type=int, default=10, help="number of subjects (default 10)")
    parser.add_argument(
        "--seconds", type=float, default=30.0, help="seconds per video (default 30)"
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--trials-per-subject", type=int, default=1, help="videos per subject")
    parser.add_argument("--fps", type=float, default=30.0, help="frame rate (default 30)")
    parser.add_argument("--size", type=_size, default=(320, 240), help="WIDTHxHEIGHT (320x240)")
    parser.add_argument(
        "--faces",
        default=None,
        help="folder of real face photos/videos to animate (optional labels.csv: file,aus)",
    )
    parser.add_argument(
        "--face-share",
        type=float,
        default=1.0,
        help="share of subjects drawn from --faces; the rest are procedural (default 1)",
    )
    parser.add_argument(
        "--no-pulse",
        dest="pulse",
        action="store_false",
        help="render no pulse (null videos for calibrating a quality gate; no ppg labels)",
    )
    parser.add_argument(
        "--au-events-per-min",
        type=_pair,
        default=(4.0, 18.0),
        metavar="LOW,HIGH",
        help="range of each video's expression-event rate (default 4,18)",
    )
    parser.add_argument(
        "--au-event-sec",
        type=_pair,
        default=(0.8, 6.0),
        metavar="LOW,HIGH",
        help="range of one expression event's duration in s (default 0.8,6)",
    )
    parser.add_argument(
        "--au-strength",
        type=float,
        default=1.0,
        help="multiplier of every AU's skin displacement and shading (default 1)",
    )
    parser.add_argument("--workers", type=int, default=1, help="parallel processes (default 1)")
    parser.add_argument("--overwrite", action="store_true", help="replace a non-empty --out")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import time

    from tqdm import tqdm

    from bigsmall.data.synthetic import SynthConfig, generate_dataset
    from bigsmall.data.synthetic.generate import check_arguments

    width, height = args.size
    config = SynthConfig(
        subjects=args.subjects,
        seconds=args.seconds,
        seed=args.seed,
        trials_per_subject=args.trials_per_subject,
        fps=args.fps,
        width=width,
        height=height,
        faces_dir=args.faces,
        face_share=args.face_share,
        pulse=args.pulse,
        au_events_per_min=args.au_events_per_min,
        au_event_sec=args.au_event_sec,
        au_strength=args.au_strength,
    )
    check_arguments(args.out, config, args.overwrite)
    total = config.subjects * config.trials_per_subject
    start = time.perf_counter()
    with tqdm(total=total, unit="video", desc="synth") as bar:
        manifest = generate_dataset(
            args.out, config, workers=max(args.workers, 1), overwrite=args.overwrite,
            progress=bar.update,
        )  # fmt: skip
    elapsed = time.perf_counter() - start
    frames = sum(int(v["frames"]) for v in manifest["videos"])
    print(
        f"wrote {total} videos ({frames} frames) to {args.out} in {elapsed:.1f} s "
        f"({frames / max(elapsed, 1e-9):.0f} frames/s)"
    )
    return 0
