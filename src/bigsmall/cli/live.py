"""``bigsmall live``: rolling heart rate, breathing rate and active AUs from a camera or file."""

from __future__ import annotations

import argparse
import sys
import time

from bigsmall.cli.predict import add_model_arguments, add_pulse_argument, positive_float


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "live",
        help="rolling HR, BR and active AUs from a camera (or a file played as one)",
        description=(
            "Print a live status line with heart rate, breathing rate, active AUs and the "
            "per-frame processing latency, updated every second; the first heart rate comes "
            "after about --window-sec seconds, the breathing rate after 20 s. Reads a camera "
            "through OpenCV (--camera N) or a video file (--video FILE)."
        ),
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--camera", type=int, default=None, metavar="N", help="camera index")
    source.add_argument("--video", default=None, metavar="FILE", help="video file as a camera")
    add_model_arguments(parser)
    add_pulse_argument(parser)
    parser.add_argument(
        "--window-sec", type=positive_float, default=10.0, help="heart-rate window (default 10)"
    )
    parser.add_argument(
        "--threads", type=int, default=1, help="CPU threads for the network (default 1)"
    )
    parser.add_argument(
        "--realtime",
        action="store_true",
        help="play --video at its frame rate (default: as fast as possible)",
    )
    parser.add_argument(
        "--seconds", type=positive_float, default=None, help="stop after this much video"
    )
    parser.add_argument("--show", action="store_true", help="also show a window (needs a display)")
    parser.set_defaults(func=run)


def _frames_from_camera(index: int):
    import cv2

    from bigsmall.errors import VideoNotFoundError

    try:  # OpenCV's own warnings would add lines to the one-line error below
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    except AttributeError:
        pass
    capture = cv2.VideoCapture(index)
    if not capture.isOpened():
        raise VideoNotFoundError(f"camera {index}: cannot be opened; check --camera or use --video")
    fps = capture.get(cv2.CAP_PROP_FPS) or 30.0

    def frames():
        try:
            while True:
                ok, bgr = capture.read()
                if not ok:
                    return
                yield cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        finally:
            capture.release()

    return fps, frames()


def _frames_from_file(path: str):
    """``(fps, frames)`` of a video file; a file that breaks off mid-stream ends the frames
    with a one-line :class:`VideoTruncatedError` (after the estimates shown so far)."""
    import warnings

    from bigsmall.errors import VideoTruncatedError, VideoTruncatedWarning
    from bigsmall.video.io import VideoReader

    reader = VideoReader(path, thread_count=1)

    def frames():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", VideoTruncatedWarning)
            for frame, _t in reader.iter_frames():
                yield reader.to_rgb(frame)
        if reader.ended_early:
            raise VideoTruncatedError(
                f"{path}: video is truncated or corrupt after frame {reader.frames_read}; the "
                "estimates above used only the frames before it"
            )

    return reader.info.fps, frames()


def run(args: argparse.Namespace) -> int:
    from bigsmall.errors import ConfigError
    from bigsmall.predict.live import BUFFER_SEC, LiveEstimator
    from bigsmall.predict.session import ModelSession

    if args.camera is None and args.video is None:
        args.camera = 0
    if args.threads < 1:
        raise ConfigError(f"--threads must be at least 1, got {args.threads}")
    if args.breathing in ("model", "fused") and args.method != "bigsmall":
        raise ConfigError(f"method {args.method!r} has no breathing model; use --breathing motion")
    fps, frames = _frames_from_file(args.video) if args.video else _frames_from_camera(args.camera)
    runner, sizes = None, {}
    if args.method == "bigsmall":
        session = ModelSession(
            args.checkpoint, args.fold, args.backend, args.device, args.align,
            lambda m: print(f"bigsmall: {m}", file=sys.stderr), threads=args.threads,
        )  # fmt: skip
        runner, backend = session.runner()
        print(
            f"model {session.loaded.name} ({session.loaded.weights}, {backend}); "
            f"crop {session.crop}"
            + (", landmark-aligned Big frames" if session.aligned else "")
            + (f", Big frames {session.big_scale:g} face widths" if session.big_scale else ""),
            file=sys.stderr,
        )
        sizes = {
            "n_segment": session.n_segment,
            "big_hw": session.big_hw,
            "small_hw": session.small_hw,
            "crop": session.crop,
            "pulse": args.pulse,
            "aligner": session.align_kwargs().get("align"),
        }
    else:
        import cv2

        cv2.setNumThreads(args.threads)
    estimator = LiveEstimator(
        fps,
        runner=runner,
        method=args.method,
        breathing=args.breathing or ("fused" if runner is not None else "motion"),
        window_sec=args.window_sec,
        **sizes,
    )
    show = _window(args.show)
    interactive = sys.stdout.isatty()
    limit = None if args.seconds is None else round(args.seconds * fps)
    start = time.perf_counter()
    status = None
    count = 0
    for frame in frames:
        if limit is not None and count >= limit:
            break
        if args.realtime and args.video:
            delay = count / fps - (time.perf_counter() - start)
            if delay > 0:
                time.sleep(delay)
        update = estimator.process(frame)
        count += 1
        if update is not None:
            status = update
            print(("\r" if interactive else "") + status.line(), end="" if interactive else "\n")
            sys.stdout.flush()
        if show is not None:
            show(frame, status)
    if interactive:
        print()
    if status is None:
        print(f"stream ended after {count} frames, before the first estimate")
    else:
        print(
            f"processed {count} frames at {status.frames_per_sec:.0f} frames/s "
            f"(median latency {status.latency_ms_median:.2f} ms/frame)"
        )
        if args.video:  # a file: also read it whole, as predict does
            whole = estimator.summary()
            seconds = min(count / fps, BUFFER_SEC)
            print(f"whole stream (last {seconds:.0f} s): {whole.readings()}")
    return 0


def _window(enabled: bool):
    """A function drawing the frame and status in an OpenCV window, or ``None``."""
    if not enabled:
        return None
    import cv2

    try:
        cv2.namedWindow("bigsmall live")
    except cv2.error:
        print(
            "bigsmall: no display here (or OpenCV without GUI); showing no window", file=sys.stderr
        )
        return None

    def show(frame, status) -> None:
        bgr = cv2.cvtColor(frame, cv2.COLOR_RGB2BGR)
        if status is not None:
            text = f"HR {status.heart_rate_bpm or '--'}  BR {status.breathing_rate_bpm or '--'}"
            cv2.putText(bgr, text, (10, 30), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (0, 255, 0), 2)
        cv2.imshow("bigsmall live", bgr)
        cv2.waitKey(1)

    return show
