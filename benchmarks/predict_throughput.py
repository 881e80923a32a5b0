"""Throughput of ``bigsmall predict``: decode-only, model-only and end-to-end, torch and ONNX.

On a 640x360 30 fps H.264 clip (``--duration-sec``, 60 s by default) built like
``preprocess_throughput.py`` (the face photo from ../shared/data/faces/single_face.jpg moving and
pulsing, a drawn face when absent), or with ``--talking DIR`` from the real face videos in DIR
played in turn, letterboxed, crf 23 (the issue's check: ``--talking ../shared/data/faces_motion
--duration-sec 120``), or ``--video``; in one run, medians of ``--repeats``:

* decode-only: PyAV decoding every frame (``VideoReader.iter_frames``, FFmpeg's own threads),
  no conversion: the floor any pipeline pays;
* preprocess: ``build_bigsmall_inputs`` (decode + face tracking + crops + Big/Small inputs);
* model-only: the network over the prepared inputs, as ``Predictor`` runs it (windows of N
  frames, 64 windows per call), for each backend;
* end-to-end: ``Predictor(...).predict(video)`` for each backend, model already loaded (and the
  ONNX graph already exported and cached: a one-off cost, printed separately).

* live: :class:`bigsmall.predict.live.LiveEstimator` over the same clip frame by frame, pinned
  to one core (a subprocess with CPU affinity {0}, one model thread), for POS and BigSmall.

Targets: end-to-end ≥ 300 frames/s (10× real time) and ≥ 0.8 × 1/(1/decode +
1/model_best); live ≥ 150 frames/s on one core.

    .venv/bin/python benchmarks/predict_throughput.py [--video clip.mp4 | --talking DIR]
        [--duration-sec 120] [--repeats 3] [--checkpoint weights.safetensors]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_FPS = 300.0
TARGET_RATIO = 0.8
TARGET_LIVE_FPS = 150.0


def _build_video(path: Path, seconds: float) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    try:
        from preprocess_throughput import make_video
    except ImportError:  # fall back to the synthetic generator at the same size
        from bigsmall.predict.demo_video import make_demo_video

        make_demo_video(path, seconds=seconds, size_wh=(640, 360))
        return
    make_video(path, seconds)


def _build_talking_video(path: Path, clips_dir: Path, seconds: float) -> None:
    """The videos of ``clips_dir`` in turn, letterboxed into 640x360, to ``seconds`` at 30 fps."""
    import cv2
    import numpy as np

    from bigsmall.video.io import read_all
    from bigsmall.video.writer import VideoWriter

    clips = sorted(clips_dir.glob("*.mp4"))
    if not clips:
        raise SystemExit(f"{clips_dir}: no .mp4 videos")
    total, written = round(seconds * 30), 0
    with VideoWriter(path, 30.0, 640, 360, crf=23) as writer:
        while written < total:
            for clip in clips:
                for frame in read_all(clip).frames:
                    h, w = frame.shape[:2]
                    scale = min(640 / w, 360 / h)
                    size = (round(w * scale) // 2 * 2, round(h * scale) // 2 * 2)
                    small = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
                    canvas = np.zeros((360, 640, 3), np.uint8)
                    y0, x0 = (360 - size[1]) // 2, (640 - size[0]) // 2
                    canvas[y0 : y0 + size[1], x0 : x0 + size[0]] = small
                    writer.write(canvas)
                    written += 1
                    if written == total:
                        return


def _timed(fn, repeats: int) -> tuple[float, object]:
    times, value = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), value


def _weights(checkpoint: str | None, tmp: Path) -> Path:
    if checkpoint:
        return Path(checkpoint)
    from bigsmall.predict.runner import shipped_weights_path

    shipped = shipped_weights_path()
    if shipped.is_file():
        return shipped
    import torch

    from bigsmall.models import create_model
    from bigsmall.models.weights import save_safetensors

    torch.manual_seed(0)  # speed does not depend on the weights' values
    path = tmp / "random-bigsmall.safetensors"
    save_safetensors(create_model("bigsmall"), path)
    return path


def _live_worker(video: Path, method: str, backend: str, weights: str) -> None:
    """Run LiveEstimator over ``video`` on one core; print frames/s (processing only)."""
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    import cv2

    from bigsmall.predict.live import LiveEstimator
    from bigsmall.predict.session import ModelSession
    from bigsmall.video.io import VideoReader

    cv2.setNumThreads(1)
    runner, kwargs = None, {"method": method, "breathing": "motion"}
    if method == "bigsmall":  # as `bigsmall live` builds it: one model session
        session = ModelSession(weights, backend=backend, threads=1)
        runner, _ = session.runner()
        kwargs = {
            "n_segment": session.n_segment,
            "big_hw": session.big_hw,
            "small_hw": session.small_hw,
            "crop": session.crop,
            "breathing": "fused",
        }
    reader = VideoReader(video, thread_count=1)
    frames = [reader.to_rgb(f) for f, _ in reader.iter_frames()]  # decoded outside the timing
    estimator = LiveEstimator(reader.info.fps, runner=runner, **kwargs)
    status = None
    for frame in frames:
        status = estimator.process(frame) or status
    print(f"{status.frames_per_sec:.1f} {status.latency_ms_median:.3f} {status.latency_ms_p95:.3f}")


def _live(video: Path, method: str, backend: str, weights: Path) -> tuple[float, float, float]:
    import subprocess

    cmd = [sys.executable, __file__, "--live-worker", method, backend, str(weights),
           "--video", str(video)]  # fmt: skip
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    fps, median_ms, p95_ms = (float(v) for v in out.strip().splitlines()[-1].split())
    return fps, median_ms, p95_ms


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, help="clip to measure (default: build one)")
    parser.add_argument("--talking", type=Path, help="build the clip from these face videos")
    parser.add_argument("--duration-sec", type=float, default=60.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--checkpoint", default=None, help="weights (default: shipped/random)")
    parser.add_argument("--backends", nargs="+", default=["torch", "onnx"])
    parser.add_argument("--skip-live", action="store_true")
    parser.add_argument("--live-worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.live_worker:
        _live_worker(args.video, *args.live_worker)
        return 0

    from bigsmall.predict import Predictor
    from bigsmall.video import build_bigsmall_inputs
    from bigsmall.video.io import VideoReader

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        os.environ.setdefault("BIGSMALL_CACHE_DIR", str(tmp / "cache"))
        video = args.video
        if video is None:
            video = tmp / "bench.mp4"
            start = time.perf_counter()
            if args.talking:
                _build_talking_video(video, args.talking, args.duration_sec)
            else:
                _build_video(video, args.duration_sec)
            print(f"built {args.duration_sec:.0f} s 640x360 30 fps H.264 clip in "
                  f"{time.perf_counter() - start:.1f} s")  # fmt: skip
        weights = _weights(args.checkpoint, tmp)
        print(f"cpus: {os.cpu_count()}, load average: {os.getloadavg()[0]:.1f}; weights: {weights}")

        def decode() -> int:
            reader = VideoReader(video, thread_count=0)
            return sum(1 for _ in reader.iter_frames())

        sec, frames = _timed(decode, args.repeats)
        decode_fps = frames / sec
        print(f"decode-only       {decode_fps:8.0f} frames/s  ({frames} frames)")
        sec, inputs = _timed(lambda: build_bigsmall_inputs(video), args.repeats)
        print(f"preprocess        {frames / sec:8.0f} frames/s  (decode + face + crops + inputs)")

        model_fps: dict[str, float] = {}
        e2e_fps: dict[str, float] = {}
        for backend in args.backends:
            predictor = Predictor(checkpoint=weights, backend=backend, log=print)
            start = time.perf_counter()
            predictor._model_outputs(inputs)  # load, export (ONNX, once), warm up
            print(f"[{backend}] load + warm-up {time.perf_counter() - start:.1f} s (one-off)")
            sec, _ = _timed(lambda p=predictor: p._model_outputs(inputs), args.repeats)
            model_fps[backend] = frames / sec
            sec, result = _timed(lambda p=predictor: p.predict(video), args.repeats)
            e2e_fps[backend] = frames / sec
            print(f"[{backend}] model-only {model_fps[backend]:8.0f} frames/s, end-to-end "
                  f"{e2e_fps[backend]:6.0f} frames/s (HR {result.heart_rate_bpm})")  # fmt: skip
        best = max(model_fps, key=model_fps.get)
        bound = 1.0 / (1.0 / decode_fps + 1.0 / model_fps[best])
        print(f"\nbest model backend: {best} ({model_fps[best]:.0f} frames/s); "
              f"1/(1/decode + 1/model) = {bound:.0f} frames/s")  # fmt: skip
        for backend, fps in e2e_fps.items():
            ratio = fps / bound
            ok = fps >= TARGET_FPS and ratio >= TARGET_RATIO
            print(f"end-to-end {backend:5s} {fps:6.0f} frames/s = {fps / 30.0:4.1f}x real time, "
                  f"{ratio:.3f} of the bound -> {'meets' if ok else 'misses'} targets "
                  f"(>= {TARGET_FPS:.0f} frames/s and >= {TARGET_RATIO} of the bound)")  # fmt: skip
        if args.skip_live:
            return 0
        print("\nlive, one core (frames/s of processing; per-frame latency median / p95):")
        cases = [("pos", "torch"), *(("bigsmall", b) for b in args.backends)]
        for method, backend in cases:
            fps, median_ms, p95_ms = _live(video, method, backend, weights)
            label = method if method != "bigsmall" else f"bigsmall/{backend}"
            verdict = "meets" if fps >= TARGET_LIVE_FPS else "misses"
            print(f"live {label:15s} {fps:6.0f} frames/s, latency {median_ms:.2f} / {p95_ms:.2f} "
                  f"ms -> {verdict} >= {TARGET_LIVE_FPS:.0f} frames/s")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
