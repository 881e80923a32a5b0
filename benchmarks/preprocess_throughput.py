"""Throughput and peak memory of BigSmall preprocessing versus decoding alone.

Builds (or takes with --video) a 640x360 30 fps H.264 clip showing the face photo from
../shared/data/faces/single_face.jpg moving and pulsing (a drawn face when that file is absent),
then runs, each in a fresh subprocess for a clean peak RSS:

* decode-only: ``bigsmall.video.read_video`` (PyAV, RGB frame batches), nothing else;
* full: ``bigsmall.video.build_bigsmall_inputs`` (decode + face detection every K frames +
  crop + 144x144 Big frames + 9x9 Small frames + face RGB trace).

Prints medians of ``--repeats`` runs side by side (wall-clock frames/s and CPU time per frame,
which is steadier on a shared machine), and peak RSS for a 60 s and a longer clip
(``--long-sec``, default 180 s) to show memory is flat in video length.

    .venv/bin/python benchmarks/preprocess_throughput.py [--video clip.mp4] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
FACE_PHOTO = ROOT.parent / "shared" / "data" / "faces" / "single_face.jpg"
WIDTH, HEIGHT, FPS = 640, 360, 30
PULSE_HZ = 1.2
PULSE_DEPTH = 0.02
MOTION_PERIOD_SEC = 10.0
MOTION_AMPLITUDE_PX = 90
FACE_HEIGHT_FRAC = 0.85


def _face_image() -> np.ndarray:
    import cv2

    target_h = round(HEIGHT * FACE_HEIGHT_FRAC)
    if FACE_PHOTO.is_file():
        bgr = cv2.imread(str(FACE_PHOTO))
        scale = target_h / bgr.shape[0]
        bgr = cv2.resize(bgr, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    # Drawn fallback: skin ellipse, eyes, brows, mouth on grey.
    image = np.full((target_h, round(target_h * 0.8), 3), 90, np.uint8)
    h, w = image.shape[:2]
    cv2.ellipse(image, (w // 2, h // 2), (w // 3, h * 2 // 5), 0, 0, 360, (205, 160, 135), -1)
    for sx in (-1, 1):
        cv2.ellipse(image, (w // 2 + sx * w // 8, h * 2 // 5), (w // 18, h // 30), 0, 0, 360,
                    (40, 30, 30), -1)  # fmt: skip
    cv2.ellipse(image, (w // 2, h * 2 // 3), (w // 8, h // 30), 0, 0, 360, (150, 70, 70), -1)
    return image


def make_video(path: Path, duration_sec: float) -> None:
    """Write a 640x360 30 fps H.264 clip of a moving face with a 1.2 Hz brightness pulse."""
    import av

    face = _face_image().astype(np.float32)
    fh, fw = face.shape[:2]
    background = np.full((HEIGHT, WIDTH, 3), 70, np.float32)
    n_frames = round(duration_sec * FPS)
    container = av.open(str(path), "w")
    stream = container.add_stream("libx264", rate=FPS)
    stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
    stream.options = {"preset": "veryfast", "crf": "23"}
    rng = np.random.default_rng(0)
    for i in range(n_frames):
        t_sec = i / FPS
        x0 = (WIDTH - fw) // 2 + round(
            MOTION_AMPLITUDE_PX * np.sin(2 * np.pi * t_sec / MOTION_PERIOD_SEC)
        )
        y0 = (HEIGHT - fh) // 2
        frame = background.copy()
        gain = 1.0 + PULSE_DEPTH * np.sin(2 * np.pi * PULSE_HZ * t_sec)
        frame[y0 : y0 + fh, x0 : x0 + fw] = face * gain
        frame += rng.normal(0.0, 1.5, (1, 1, 1)).astype(np.float32)
        rgb = np.clip(frame, 0, 255).astype(np.uint8)
        for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)
    container.close()


def _worker(mode: str, video: str) -> None:
    """Run one measurement in this process and print a JSON line."""
    sys.path.insert(0, str(ROOT / "src"))
    from bigsmall.video import build_bigsmall_inputs, read_video

    usage0 = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    extra: dict[str, float] = {}
    if mode == "decode":
        n_frames = sum(len(batch) for batch in read_video(video))
    else:
        inputs = build_bigsmall_inputs(video)
        n_frames = len(inputs)
        extra["face_found_frac"] = float(inputs.face_found.mean())
    elapsed = time.perf_counter() - start
    usage1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu_sec = sum(getattr(usage1, f) - getattr(usage0, f) for f in ("ru_utime", "ru_stime"))
    extra["cpu_ms_per_frame"] = 1000 * cpu_sec / n_frames
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"frames": n_frames, "sec": elapsed, "peak_rss_mb": peak_mb, **extra}))


def _run(mode: str, video: Path) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--worker", mode, "--video", str(video)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, help="clip to measure (default: build one)")
    parser.add_argument("--duration-sec", type=float, default=60.0)
    parser.add_argument("--long-sec", type=float, default=180.0, help="0 to skip")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--worker", choices=("decode", "full"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        _worker(args.worker, str(args.video))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        video = args.video
        if video is None:
            video = Path(tmp) / "bench.mp4"
            start = time.perf_counter()
            make_video(video, args.duration_sec)
            print(f"built {video.name}: {args.duration_sec:.0f} s 640x360 30 fps H.264 "
                  f"in {time.perf_counter() - start:.1f} s")  # fmt: skip
        runs: dict[str, list[dict[str, float]]] = {"decode": [], "full": []}
        for _ in range(args.repeats):  # interleaved so load changes hit both alike
            for mode in runs:
                runs[mode].append(_run(mode, video))
        fps = {m: statistics.median(r["frames"] / r["sec"] for r in rs) for m, rs in runs.items()}
        peak = {m: max(r["peak_rss_mb"] for r in rs) for m, rs in runs.items()}
        n_frames = int(runs["full"][0]["frames"])
        print(f"\n{n_frames} frames, median of {args.repeats} runs (each in a fresh process)")
        cpu = {m: statistics.median(r["cpu_ms_per_frame"] for r in rs) for m, rs in runs.items()}
        print(
            f"{'':22s}{'frames/s':>9s}{'x real time':>13s}{'CPU ms/frame':>14s}{'peak RSS MB':>13s}"
        )
        for mode, label in (("decode", "decode only"), ("full", "full preprocessing")):
            print(f"{label:22s}{fps[mode]:9.0f}{fps[mode] / FPS:13.1f}{cpu[mode]:14.2f}"
                  f"{peak[mode]:13.0f}")  # fmt: skip
        all_fps = {m: [round(r["frames"] / r["sec"]) for r in rs] for m, rs in runs.items()}
        face_frac = runs["full"][0]["face_found_frac"]
        print(f"full / decode-only: {fps['full'] / fps['decode']:.0%} (wall), "
              f"{cpu['decode'] / cpu['full']:.0%} (CPU time); face found on "
              f"{face_frac:.0%} of frames; every run's frames/s: {all_fps}")  # fmt: skip
        if args.long_sec > 0 and args.video is None:
            long_video = Path(tmp) / "bench_long.mp4"
            make_video(long_video, args.long_sec)
            long_run = _run("full", long_video)
            print(f"memory flatness: peak RSS {peak['full']:.0f} MB at {args.duration_sec:.0f} s, "
                  f"{long_run['peak_rss_mb']:.0f} MB at {args.long_sec:.0f} s "
                  f"({long_run['frames'] / long_run['sec']:.0f} frames/s)")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
