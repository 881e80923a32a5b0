"""Throughput and size of ``bigsmall preprocess`` on a synthetic dataset versus decoding alone.

Writes (or reuses, with --root) a synthetic dataset of ``--videos`` videos in the folder
layout (``bigsmall synth``), then measures, each ``--repeats`` times (medians reported):

* decode-only, 1 process: the videos decoded one after another in this process (FFmpeg's
  own threads);
* decode-only: every video decoded to RGB frames (:func:`bigsmall.video.read_video`) by a
  pool of ``--workers`` processes, already started (startup not timed);
* preprocess, warm pool: the same pool runs the cache's per-recording job (load labels,
  decode, face detection every K frames, crop, Big/Small inputs, labels, write the cache
  files) for every video into a fresh cache;
* preprocess, end to end: :func:`bigsmall.data.cache.preprocess_dataset` with ``--workers``
  processes, including listing, process startup and the manifest (what the CLI does).

Frames/s = decoded frames / wall-clock seconds. Also prints CPU ms per frame (sum over the
worker processes, steadier on a shared machine), and the cache's bytes on disk (every file,
JSON included) against float32 storage of the same windows as rPPG-Toolbox stores them
(Big and Small of every frame + AU/PPG/resp labels, all float32).

    .venv/bin/python benchmarks/preprocess_dataset.py [--root DIR] [--videos 10]
        [--seconds 15] [--size 320x240] [--workers 2] [--repeats 3] [--every-k 30]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any


def _decode(path: str) -> tuple[int, float]:
    from bigsmall.video import read_video

    cpu = time.process_time()
    frames = sum(len(batch) for batch in read_video(path))
    return frames, time.process_time() - cpu


def _preprocess(job: Any) -> tuple[int, float]:
    from bigsmall.data.cache import _run_job

    cpu = time.process_time()
    result = _run_job(job)
    if result["status"] != "done":
        raise RuntimeError(f"benchmark recording skipped: {result}")
    return int(result["decoded"]), time.process_time() - cpu


def _warm(_: int) -> int:
    import bigsmall.data.cache  # imports what a preprocessing worker imports
    import bigsmall.video  # noqa: F401

    return 0


def _timed_map(pool: Any, fn: Any, items: list[Any]) -> dict[str, float]:
    start = time.perf_counter()
    results = pool.map(fn, items, chunksize=1)
    wall = time.perf_counter() - start
    frames = sum(r[0] for r in results)
    cpu = sum(r[1] for r in results)
    return {"frames": frames, "fps": frames / wall, "cpu_ms_per_frame": 1e3 * cpu / frames}


def _median(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", default=None, help="dataset folder (generated if missing)")
    parser.add_argument("--videos", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--size", default="320x240")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--every-k", type=int, default=30)
    parser.add_argument("--big-frames", choices=("first", "all"), default="first")
    args = parser.parse_args()

    from bigsmall.data.cache import (
        _Job,
        directory_bytes,
        list_dataset,
        load_manifest,
        preprocess_dataset,
    )
    from bigsmall.data.pipeline import PreprocessConfig
    from bigsmall.data.synthetic import SynthConfig, generate_dataset

    work = Path(tempfile.mkdtemp(prefix="bigsmall_bench_"))
    root = Path(args.root) if args.root else work / "synth"
    width, height = (int(v) for v in args.size.split("x"))
    if not (root / "dataset.json").is_file():
        print(f"generating {args.videos} videos of {args.seconds:g} s at {args.size} in {root}")
        config = SynthConfig(
            subjects=args.videos, seconds=args.seconds, seed=0, width=width, height=height
        )
        generate_dataset(root, config, workers=args.workers, overwrite=True)
    arguments = json.loads((root / "dataset.json").read_text())["arguments"]
    args.size = f"{arguments['width']}x{arguments['height']}"  # of the dataset actually used
    cfg = PreprocessConfig(every_k_frames=args.every_k, big_frames=args.big_frames)
    refs, _ = list_dataset("folder", root)

    manifest: dict[str, Any] = {}
    e2e_runs = []
    for repeat in range(args.repeats):
        cache_root = work / f"e2e{repeat}"
        start = time.perf_counter()
        summary = preprocess_dataset(
            "folder", root, cache_root, cfg, workers=args.workers, progress=False
        )
        wall = time.perf_counter() - start
        e2e_runs.append(
            {"frames": summary.frames_processed, "fps": summary.frames_processed / wall}
        )
        manifest = load_manifest(summary.cache_dir)
        on_disk = directory_bytes(summary.cache_dir)
    skipped = manifest["skipped"]
    for issue in skipped:
        print(f"skipped {issue['id']}: {issue['message'][:120]}")
    good = {r["id"] for r in manifest["recordings"]}
    refs = [r for r in refs if r.id in good]
    videos = [str(r.paths["video"]) for r in refs]

    serial_runs = []
    for _ in range(args.repeats):  # one process, FFmpeg's own threads (one per core)
        start = time.perf_counter()
        results = [_decode(video) for video in videos]
        wall = time.perf_counter() - start
        frames = sum(r[0] for r in results)
        serial_runs.append({"frames": frames, "fps": frames / wall})

    context = multiprocessing.get_context("spawn")
    decode_runs, prep_runs = [], []
    with context.Pool(args.workers) as pool:
        pool.map(_warm, range(args.workers))
        for repeat in range(args.repeats):
            decode_runs.append(_timed_map(pool, _decode, videos))
            rec_root = work / f"warm{repeat}" / "rec"
            rec_root.mkdir(parents=True)
            jobs = [_Job("folder", ref, cfg, str(rec_root), 1) for ref in refs]
            prep_runs.append(_timed_map(pool, _preprocess, jobs))

    decode, prep, e2e = _median(decode_runs), _median(prep_runs), _median(e2e_runs)
    serial = _median(serial_runs)
    f32 = manifest["totals"]["float32_bytes"]
    result = {
        "videos": len(videos),
        "skipped": [i["id"] for i in skipped],
        "frames": int(decode["frames"]),
        "size": args.size,
        "workers": args.workers,
        "every_k": args.every_k,
        "big_frames": args.big_frames,
        "decode_fps": round(decode["fps"], 1),
        "decode_cpu_ms_per_frame": round(decode["cpu_ms_per_frame"], 3),
        "decode_1proc_fps": round(serial["fps"], 1),
        "preprocess_vs_decode_1proc": round(prep["fps"] / serial["fps"], 3),
        "cpu_ratio_decode_over_preprocess": round(
            decode["cpu_ms_per_frame"] / prep["cpu_ms_per_frame"], 3
        ),
        "preprocess_fps": round(prep["fps"], 1),
        "preprocess_cpu_ms_per_frame": round(prep["cpu_ms_per_frame"], 3),
        "preprocess_vs_decode": round(prep["fps"] / decode["fps"], 3),
        "end_to_end_fps": round(e2e["fps"], 1),
        "end_to_end_vs_decode": round(e2e["fps"] / decode["fps"], 3),
        "cache_bytes": on_disk,
        "float32_bytes": f32,
        "bytes_ratio": round(on_disk / f32, 4),
        "runs": {
            "decode_1proc": serial_runs,
            "decode": decode_runs,
            "preprocess": prep_runs,
            "end_to_end": e2e_runs,
        },
    }
    print(
        f"{len(videos)} videos (+{len(skipped)} skipped), {int(decode['frames'])} frames at "
        f"{args.size}, "
        f"{args.workers} workers, medians of {args.repeats}:"
    )
    print(
        f"  decode-only        {decode['fps']:8.0f} frames/s  "
        f"{decode['cpu_ms_per_frame']:.2f} CPU ms/frame"
    )
    print(f"  decode-only, 1 process {serial['fps']:8.0f} frames/s")
    print(
        f"  preprocess (warm)  {prep['fps']:8.0f} frames/s  "
        f"{prep['cpu_ms_per_frame']:.2f} CPU ms/frame  = {prep['fps'] / decode['fps']:.0%} "
        "of decode-only"
    )
    print(
        f"  preprocess (CLI)   {e2e['fps']:8.0f} frames/s  (incl. startup and skipped videos) "
        f"= {e2e['fps'] / decode['fps']:.0%} of decode-only"
    )
    print(
        f"  cache {on_disk / 2**20:.1f} MiB vs float32 {f32 / 2**20:.1f} MiB "
        f"= {on_disk / f32:.3f} (big_frames={args.big_frames})"
    )
    print(json.dumps({k: v for k, v in result.items() if k != "runs"}))
    shutil.rmtree(work, ignore_errors=True)  # caches (and a generated dataset without --root)


if __name__ == "__main__":
    main()
