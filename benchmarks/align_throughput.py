"""Cost of landmark alignment (JAA-Net-style † inputs) beside BigSmall's plain face crop.

Builds (or takes with --video) a 640x360 30 fps H.264 clip of a moving face (the clip of
``benchmarks/preprocess_throughput.py``), decodes it once into memory, then times in one process:

* (a) plain: ``bigsmall.video.build_bigsmall_inputs(..., crop="face")`` — Haar face detection
  every K frames + tracking + crop + 144x144 Big frames (+ the Small frames and RGB trace);
* (b) (a) + dlib landmarks + alignment (:class:`bigsmall.video.align.FaceAligner`, 176 px crop
  resized to 144) on every frame, in the region around each tracked face crop as the pipeline
  searches it;
* (c) (a) + landmarks + alignment on 1 frame in 3 (BigSmall's Big branch reads one frame of
  each N = 3 window).

Needs the ``align`` extra. Prints frames/s side by side (medians of ``--repeats``), the ratios to
(a), and the split of one alignment into landmarks (HOG search + shape predictor) and warp.

    .venv/bin/python benchmarks/align_throughput.py [--video clip.mp4] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
FPS = 30


def _decode(video: Path) -> list:
    from bigsmall.video import read_video

    return list(read_video(video))


def _region(frame: np.ndarray, crop_xywh: np.ndarray) -> tuple[np.ndarray, object]:
    """The region searched around one tracked crop box (as the video pipeline cuts it: the crop
    box enlarged 2x, edge pixels replicated outside the frame) and the crop box inside it."""
    import cv2

    from bigsmall.video.aligned_big import align_region
    from bigsmall.video.boxes import Box

    region, hint = align_region(Box.from_array(crop_xywh), face_hint=True)
    x0, y0, x1, y1 = region.to_int()
    height, width = frame.shape[:2]
    cut = frame[max(y0, 0) : min(y1, height), max(x0, 0) : min(x1, width)]
    pads = (max(0, -y0), max(0, y1 - height), max(0, -x0), max(0, x1 - width))
    if any(pads):
        cut = cv2.copyMakeBorder(cut, *pads, cv2.BORDER_REPLICATE)
    return np.ascontiguousarray(cut), hint


def _align_loop(frames: list[np.ndarray], boxes: np.ndarray, stride: int) -> dict[str, float]:
    from bigsmall.video.align import AlignSpec, FaceAligner, align_face
    from bigsmall.video.landmarks import Landmarker

    landmarker = Landmarker(box_enlarge=1.5)
    spec = AlignSpec(out=144)
    aligner = FaceAligner(spec, landmarker)
    t_landmarks = t_warp = 0.0
    start = time.perf_counter()
    for i in range(0, len(frames), stride):
        region, hint = _region(frames[i], boxes[i])
        t0 = time.perf_counter()
        points = landmarker(region, hint)
        t1 = time.perf_counter()
        if points is not None:
            align_face(region, points, spec)
        t_warp += time.perf_counter() - t1
        t_landmarks += t1 - t0
    total = time.perf_counter() - start
    n_aligned = len(range(0, len(frames), stride))
    del aligner
    return {
        "sec": total,
        "aligned": n_aligned,
        "landmarks_ms": 1000 * t_landmarks / n_aligned,
        "warp_ms": 1000 * t_warp / n_aligned,
        "found": landmarker.stats["hog"] + landmarker.stats["mapped"],
        "hog": landmarker.stats["hog"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, help="clip to measure (default: build one)")
    parser.add_argument("--duration-sec", type=float, default=10.0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bigsmall.video import build_bigsmall_inputs
    from bigsmall.video.landmarks import landmarks_available
    from preprocess_throughput import make_video

    if not landmarks_available():
        print("needs the optional extra: pip install 'bigsmall[align]'")
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        video = args.video
        if video is None:
            video = Path(tmp) / "bench.mp4"
            make_video(video, args.duration_sec)
        batches = _decode(video)
    frames = [frame for batch in batches for frame in batch.frames]
    height, width = frames[0].shape[:2]
    print(f"{video.name}: {len(frames)} frames {width}x{height}, decoded once into memory")
    plain, every, third = [], [], []
    boxes = None
    for _ in range(args.repeats):  # interleaved so load changes hit all alike
        start = time.perf_counter()
        inputs = build_bigsmall_inputs(
            batches, crop="face", fps=FPS, threaded=False, big_sink="memory"
        )
        plain.append(time.perf_counter() - start)
        boxes = inputs.boxes
        every.append(_align_loop(frames, boxes, 1))
        third.append(_align_loop(frames, boxes, 3))
    n = len(frames)
    t_plain = statistics.median(plain)
    t_every = statistics.median(r["sec"] for r in every)
    t_third = statistics.median(r["sec"] for r in third)
    rows = []
    for label, extra_sec in (
        ("(a) plain Haar crop + resize 144", 0.0),
        ("(b) (a) + landmarks + align, all", t_every),
        ("(c) (a) + landmarks + align, 1 in 3", t_third),
    ):
        rows.append((label, n / (t_plain + extra_sec), t_plain / (t_plain + extra_sec)))
    print(f"\nmedian of {args.repeats} runs; frames/s of the whole clip")
    print(f"{'':40s}{'frames/s':>10s}{'x real time':>13s}{'vs (a)':>9s}")
    for label, fps, ratio in rows:
        print(f"{label:40s}{fps:10.0f}{fps / FPS:13.1f}{ratio:9.0%}")
    lm_ms = statistics.median(r["landmarks_ms"] for r in every)
    warp_ms = statistics.median(r["warp_ms"] for r in every)
    print(f"per aligned frame: landmarks {lm_ms:.2f} ms (dlib HOG search + 68-point "
          f"predictor), warp + crop + resize {warp_ms:.2f} ms; plain pipeline "
          f"{1000 * t_plain / n:.2f} ms/frame")  # fmt: skip
    print(f"landmarks found on {every[0]['found']}/{every[0]['aligned']} frames "
          f"(HOG box on {every[0]['hog']})")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
