"""``bigsmall predict``: AUs, pulse and breathing from face videos, written to a folder."""

from __future__ import annotations

import argparse
import glob
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bigsmall.constants import (
    BACKENDS,
    BREATHING_SOURCES,
    OFFICIAL_FOLDS,
    PREDICT_METHODS,
    PULSE_SOURCES,
)

if TYPE_CHECKING:  # the CLI imports the package's heavy parts only when a command runs
    from bigsmall.predict.result import PredictionResult

#: File suffixes taken as videos when a folder of videos is given.
VIDEO_SUFFIXES: frozenset[str] = frozenset(
    {".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv"}
)
_GLOB_CHARS = "*?["
DEFAULT_MANY_OUT = "bigsmall-predictions"


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text!r}")
    return value


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """Options shared by ``predict``, ``live`` and ``demo``."""
    parser.add_argument(
        "--method",
        default="bigsmall",
        choices=PREDICT_METHODS,
        help="bigsmall (the network, default) or a classic rPPG method (pulse only; "
        "breathing then from the face's and shoulders' motion)",
    )
    parser.add_argument(
        "--checkpoint",
        default=None,
        metavar="PATH",
        help="BigSmall weights (.safetensors or toolbox .pth), or a folder with the authors' "
        "Big_AU + Small_Heart + Small_Resp files (run as the trio; see --fold); default: the "
        "weights shipped with the package",
    )
    parser.add_argument(
        "--fold", type=int, default=1, choices=OFFICIAL_FOLDS, help="fold of a weights folder"
    )
    parser.add_argument(
        "--backend",
        default="auto",
        choices=BACKENDS,
        help="auto (fastest installed: ONNX Runtime when available), torch or onnx",
    )
    parser.add_argument("--device", default="cpu", help="torch device (default cpu)")
    parser.add_argument(
        "--breathing",
        default=None,
        choices=BREATHING_SOURCES,
        help="breathing from the face's vertical motion where it is clear, else the shoulders', "
        "else the face's and the network's respiration head read together (fused; default for "
        "bigsmall), from the motion alone (motion; default for classic methods) or the head "
        "alone (model)",
    )
    parser.add_argument(
        "--align",
        action="store_true",
        help="landmark-align the Big frames (JAA-Net style; needs pip install 'bigsmall[align]'); "
        "weights trained on aligned faces record it and are aligned without this flag",
    )


def add_pulse_argument(parser: argparse.ArgumentParser) -> None:
    """``--pulse``: how a whole video's heart rate is read (predict and demo)."""
    parser.add_argument(
        "--pulse",
        default="fused",
        choices=PULSE_SOURCES,
        help="bigsmall's heart rate from its PPG read together with POS on the face's skin "
        "colour (fused; default) or from its PPG alone (model)",
    )


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "predict",
        help="measure AUs, pulse and breathing from face videos",
        description=(
            "Measure facial action units, heart rate and breathing rate from a face video and "
            "write OUT/summary.json, signals.csv (per frame), rates.csv (over time), report.png "
            "and report.html. Several videos (a folder of videos, a glob, or several paths) "
            "give one sub-folder each plus OUT/summary.csv. The output folder appears only "
            "when the run succeeds. A heart rate needs at least 5 s of video with a face, a "
            "breathing rate at least 20 s (shorter: AUs only, and the summary says so)."
        ),
    )
    parser.add_argument(
        "videos",
        nargs="+",
        metavar="VIDEO",
        help="video file, photo, frame folder (with --fps), folder of videos and/or photos, or "
        "glob ('clips/*.mp4')",
    )
    parser.add_argument(
        "--out",
        default=None,
        metavar="DIR",
        help="output folder (default: ./<video name>_bigsmall, or ./bigsmall-predictions)",
    )
    add_model_arguments(parser)
    add_pulse_argument(parser)
    parser.add_argument(
        "--window-sec",
        type=positive_float,
        default=None,
        help="analysis window of the rates over time in s (default 10, or the whole video "
        "when shorter)",
    )
    parser.add_argument(
        "--fps",
        type=positive_float,
        default=None,
        help="frame rate of a frame folder, or of a file that has none (a raw .h264); for a "
        "file it replaces the file's own timing",
    )
    parser.add_argument(
        "--allow-truncated",
        action="store_true",
        help="analyse the frames before the damage of a truncated video instead of refusing it",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace a non-empty --out")
    parser.add_argument("--no-report", action="store_true", help="skip report.png/report.html")
    parser.add_argument(
        "--quiet", action="store_true", help="no progress bars (shown on a terminal from 60 s)"
    )
    parser.set_defaults(func=run)


def _folder_inputs(path: Path, photos: bool, mixed: bool) -> tuple[list[Path], list[Path]]:
    """The inputs in folder ``path`` (name order) and the photos left out: its videos, and with
    ``photos`` its photos too when it holds no video or (``mixed``) beside its videos; a folder
    of videos read without ``mixed`` leaves its photos out."""
    from bigsmall.video.io import IMAGE_SUFFIXES

    files = sorted(p for p in path.iterdir() if p.is_file())
    videos = [p for p in files if p.suffix.lower() in VIDEO_SUFFIXES]
    images = [p for p in files if p.suffix.lower() in IMAGE_SUFFIXES]
    if not photos:
        return videos, []
    if videos and not mixed:
        return videos, images
    return sorted(videos + images), []


def expand_inputs(
    items: list[str], fps: float | None = None, aus: bool = True
) -> tuple[list[Path], bool]:
    """Video (and photo) paths for the command-line ``items`` and whether this is a many-input
    run. A folder of photos is a frame folder of one video with ``fps``, else many photos; a
    folder of videos gives its photos too where the method reads AUs (``aus``: a classic
    method has nothing to read in a photo), and a line on stdout names those left out."""
    from bigsmall.errors import VideoNotFoundError

    videos: list[Path] = []
    many = len(items) > 1
    for item in items:
        path = Path(item)
        if not path.exists() and any(c in item for c in _GLOB_CHARS):
            matched = sorted(Path(p) for p in glob.glob(item) if Path(p).is_file())
            if not matched:
                raise VideoNotFoundError(f"{item}: no file matches this pattern; check the path")
            videos += matched
            many = True
        elif path.is_dir() and (found := _folder_inputs(path, fps is None, mixed=aus))[0]:
            taken, left = found
            videos += taken
            many = True
            if left:
                print(
                    f"{path}: {len(left)} photo(s) left out ({left[0].name}"
                    f"{', ...' if len(left) > 1 else ''}): a classic method reads no AUs from a "
                    "photo"
                )
        else:
            videos.append(path)
    return videos, many


def _still_image_line(result: object) -> str | None:
    """What a still image gave (its AUs: it has no rates), or None for a video."""
    if not result.still_image:
        return None
    active = [au for au, v in (result.au_occurrence or {}).items() if v >= 0.5]
    shown = " ".join(active) if active else "none of the 12"
    face = "a face" if result.face_found_fraction > 0 else "no face"
    return f"still image, {face}; AUs present: {shown}"


def breathing_origin(result: PredictionResult) -> str:
    """The breathing source in a word, and what a given rate was read from (e.g. "fused: shoulders
    motion"; the summary names it only when a rate is given)."""
    quality = result.signal_quality
    source = str(quality["breathing_source"]).split(" ", 1)[0]
    read_from = quality.get("breathing_read_from")
    return f"{source}: {read_from}" if read_from else source


def _print_result(result: object, out: Path) -> None:
    def fmt(value: object, unit: str) -> str:
        return "not reported" if value is None else f"{value:.1f} {unit}"

    quality = result.signal_quality
    if still := _still_image_line(result):
        print(f"{result.source}: {still} -> {out}")
        return
    source = breathing_origin(result)
    print(
        f"{result.source}: heart rate {fmt(result.heart_rate_bpm, 'bpm')} "
        f"(pulse {quality['pulse_quality']}), breathing {fmt(result.breathing_rate_bpm, '/min')} "
        f"({source}), face in {100 * result.face_found_fraction:.0f}% of "
        f"{result.frame_count} frames -> {out}"
    )
    for warning in result.warnings:
        print(f"  warning: {warning}")


def make_predictor(args: argparse.Namespace, window_sec: float | None = None) -> object:
    from bigsmall.predict import Predictor

    def log(message: str) -> None:
        print(f"bigsmall: {message}", file=sys.stderr)

    return Predictor(
        method=args.method,
        checkpoint=args.checkpoint,
        fold=args.fold,
        backend=args.backend,
        device=args.device,
        window_sec=window_sec,
        breathing=args.breathing,
        pulse=getattr(args, "pulse", "fused"),
        allow_truncated=getattr(args, "allow_truncated", False),
        align=getattr(args, "align", False),
        # Bars only on a terminal: in logs they are noise, and an error stays one line.
        progress=not getattr(args, "quiet", False) and sys.stderr.isatty(),
        log=log,
    )


def run(args: argparse.Namespace) -> int:
    from bigsmall.output_dir import check_out_dir
    from bigsmall.predict.outputs import write_many, write_outputs
    from bigsmall.predict.predictor import MODEL_METHOD

    videos, many = expand_inputs(args.videos, args.fps, aus=args.method == MODEL_METHOD)
    predictor = make_predictor(args, args.window_sec)
    if not many:
        video = videos[0]
        out = Path(args.out) if args.out else Path(f"{video.stem or video.name}_bigsmall")
        check_out_dir(out, args.overwrite, [video])
        result = predictor.predict(video, fps=args.fps)
        write_outputs(result, out, overwrite=args.overwrite, report=not args.no_report)
        _print_result(result, out)
        return 0
    out = Path(args.out or DEFAULT_MANY_OUT)
    check_out_dir(out, args.overwrite, videos)
    failures: list[str] = []
    done = [0]

    def step() -> str:
        done[0] += 1
        return f"[{done[0]}/{len(videos)}]"

    def on_error(path: Path, message: str) -> None:
        failures.append(message)
        print(f"bigsmall: error: {step()} {message}", file=sys.stderr)

    def predict_one(path: Path) -> object:
        result = predictor.predict(path, fps=args.fps)
        hr, br = result.heart_rate_bpm, result.breathing_rate_bpm
        rates = _still_image_line(result) or (
            f"HR {'--' if hr is None else f'{hr:.1f}'}, BR {'--' if br is None else f'{br:.1f}'}"
        )
        print(f"{step()} {path}: {rates}", flush=True)
        return result

    rows = write_many(
        videos,
        out,
        predict_one,
        on_error,
        overwrite=args.overwrite,
        report=not args.no_report,
    )
    ok = sum(row["status"] == "ok" for row in rows)
    print(f"{ok} of {len(rows)} inputs measured -> {out}/ (combined table: {out}/summary.csv)")
    return 0 if not failures else 2
