"""UBFC-rPPG, "DATASET_2" (Bobbia et al., Pattern Recognition Letters 2019, "Unsupervised
skin tissue segmentation for remote photoplethysmography").

Layout (names matched case-insensitively)::

    <root>/subject1/vid.avi
    <root>/subject1/ground_truth.txt   line 1: PPG samples, line 2: heart rate (bpm),
                                       line 3: time stamps (s); values separated by spaces

Every folder under ``root`` that holds ``vid.avi`` is a recording (id = subject = folder name).
The PPG is resampled linearly onto the video's frames (frame rate and count read from the
container header), its duration (from the time stamps) checked against the video's; the mean
of line 2 is the reference heart rate. Crop ``"face"``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bigsmall.data.schema import DataIssue, DataReport, Labels, Recording, RecordingRef, VideoRef
from bigsmall.data.sources._common import (
    LENGTH_TOLERANCE_SEC,
    MAX_NAN_GAP_SEC,
    bridge_nan_gaps,
    check_duration,
    child_ci,
    fail,
    probe,
    stretch_to_frames,
)
from bigsmall.data.sources.base import report_issue, require_root
from bigsmall.video.frame_archive import natural_sort_key

NAME = "ubfc_rppg"
VIDEO_NAME = "vid.avi"
LABEL_NAME = "ground_truth.txt"
#: Lines of ground_truth.txt: PPG, heart rate, time stamps.
N_LINES = 3


def read_ground_truth(path: Path, rec_id: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(ppg, heart_rate_bpm, times_sec)``, each ``(N,)`` float64, from ``ground_truth.txt``."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise fail(rec_id, path, f"unreadable label file: {exc}") from exc
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) < N_LINES:
        raise fail(
            rec_id,
            path,
            f"unreadable label file: {len(lines)} lines, expected {N_LINES} (PPG, HR, time "
            "stamps; UBFC DATASET_1 files are not supported)",
        )
    try:
        ppg, hr, times = (np.array(line.replace(",", " ").split(), float) for line in lines[:3])
    except ValueError as exc:
        raise fail(rec_id, path, f"unreadable label file: {exc}") from exc
    if not ppg.size == times.size:
        raise fail(
            rec_id, path, f"unreadable label file: {ppg.size} PPG samples but {times.size} times"
        )
    if ppg.size < 2:
        raise fail(rec_id, path, "empty label file: fewer than 2 PPG samples")
    return ppg, hr, times


class UBFCrPPGSource:
    """UBFC-rPPG DATASET_2 layout → :class:`Recording` s (see the module docstring)."""

    name = NAME

    def list_recordings(
        self,
        root: str | Path,
        report: DataReport | None = None,
        *,
        length_tolerance_sec: float = LENGTH_TOLERANCE_SEC,
        max_nan_gap_sec: float = MAX_NAN_GAP_SEC,
    ) -> list[RecordingRef]:
        root = require_root(root, NAME)
        options = {"length_tolerance_sec": length_tolerance_sec, "max_nan_gap_sec": max_nan_gap_sec}
        refs: list[RecordingRef] = []
        folders = sorted(
            (p for p in root.iterdir() if p.is_dir()), key=lambda p: natural_sort_key(p.name)
        )
        for folder in folders:
            video = child_ci(folder, VIDEO_NAME)
            if video is None:
                continue
            labels = child_ci(folder, LABEL_NAME)
            if labels is None:
                issue = DataIssue(folder.name, folder / LABEL_NAME, "missing label file")
                report_issue(report, issue)
                continue
            refs.append(
                RecordingRef(
                    folder.name, folder.name, NAME, {"video": video, "labels": labels}, options
                )
            )
        return refs

    def load(self, ref: RecordingRef) -> Recording:
        video_path, label_path = ref.paths["video"], ref.paths["labels"]
        info = probe(video_path, ref.id)
        ppg, hr, times = read_ground_truth(label_path, ref.id)
        step_sec = float(np.median(np.diff(times)))
        if not step_sec > 0:
            raise fail(ref.id, label_path, "unreadable label file: time stamps do not increase")
        label_sec = float(times[-1] - times[0]) + step_sec
        check_duration(
            ref.id,
            label_path,
            label_sec,
            info.frame_count / info.fps,
            ref.options["length_tolerance_sec"],
        )
        ppg = bridge_nan_gaps(
            ppg, 1.0 / step_sec, ref.options["max_nan_gap_sec"], ref.id, label_path, "PPG"
        )
        finite_hr = hr[np.isfinite(hr)]
        labels = Labels(
            fs=info.fps,
            n_frames=info.frame_count,
            bvp=stretch_to_frames(ppg, info.frame_count),
            bvp_kind="ppg",
            heart_rate_bpm=float(finite_hr.mean()) if finite_hr.size else None,
        )
        video = VideoRef("file", video_path, fps=info.fps)
        meta = {"label_file": str(label_path), "label_samples": int(ppg.size)}
        return Recording(ref.id, ref.subject, NAME, video, labels, crop="face", meta=meta)
