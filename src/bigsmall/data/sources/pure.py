"""PURE (Stricker, Müller and Gross, RO-MAN 2014, "Non-contact video-based pulse rate
measurement on a mobile service robot").

Layout::

    <root>/01-01/01-01/Image1392643993642815000.png ...   frames, time stamp (ns) in the name
    <root>/01-01/01-01.json   {"/FullPackage": [{"Timestamp": ns, "Value": {"waveform": ...,
                              "pulseRate": ..., "o2saturation": ...}}, ...],
                               "/Image": [{"Timestamp": ns}, ...]}

Recording id ``"01-01"`` (subject ``"01"``, setup ``"01"``), 30 fps. The pulse-oximeter
waveform (≈ 60 Hz) is interpolated linearly at each frame's own time stamp (from the file
name, else from ``/Image`` when the counts agree); frames more than the tolerance outside the
waveform's time span are an issue. The mean ``pulseRate`` is the reference heart rate.
Crop ``"face"``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from bigsmall.data.schema import DataIssue, DataReport, Labels, Recording, RecordingRef, VideoRef
from bigsmall.data.sources._common import TimedLabelSource, bridge_nan_gaps, fail
from bigsmall.data.sources.base import report_issue
from bigsmall.errors import VideoError
from bigsmall.video.frame_archive import list_frame_files

NAME = "pure"
FPS: float = 30.0
NS_PER_SEC: float = 1e9
_RECORDING = re.compile(r"^(\d+)-(\d+)$")
_FRAME_TIME = re.compile(r"(\d{6,})")


def _frame_times_ns(files: list[Path], package: dict, rec_id: str, path: Path) -> np.ndarray:
    stamps = [_FRAME_TIME.search(f.stem) for f in files]
    if all(stamps):
        return np.array([int(m.group(1)) for m in stamps if m], dtype=np.int64)
    images = package.get("/Image") or []
    if len(images) != len(files):
        raise fail(
            rec_id,
            path,
            f"unreadable label file: {len(files)} frames without time stamps in their names and "
            f"{len(images)} /Image time stamps",
        )
    return np.array([int(image["Timestamp"]) for image in images], dtype=np.int64)


class PURESource(TimedLabelSource):
    """PURE layout → :class:`Recording` s (see the module docstring)."""

    name = NAME

    def find_recordings(
        self, root: Path, report: DataReport | None, options: dict[str, Any]
    ) -> list[RecordingRef]:
        refs: list[RecordingRef] = []
        for folder in sorted(p for p in root.iterdir() if p.is_dir() and _RECORDING.match(p.name)):
            rec_id = folder.name
            frames = folder / rec_id
            labels = folder / f"{rec_id}.json"
            if not frames.is_dir():
                report_issue(report, DataIssue(rec_id, frames, "missing video: no frame folder"))
                continue
            if not labels.is_file():
                report_issue(report, DataIssue(rec_id, labels, "missing label file"))
                continue
            subject = _RECORDING.match(rec_id).group(1)  # type: ignore[union-attr]
            refs.append(
                RecordingRef(rec_id, subject, NAME, {"video": frames, "labels": labels}, options)
            )
        return refs

    def load(self, ref: RecordingRef) -> Recording:
        frame_dir, label_path = ref.paths["video"], ref.paths["labels"]
        try:
            files = list_frame_files(frame_dir)
        except VideoError as exc:
            raise fail(ref.id, frame_dir, f"unreadable video: {exc}") from exc
        if not files:
            raise fail(ref.id, frame_dir, "unreadable video: no image frames in the folder")
        try:
            package = json.loads(label_path.read_text(encoding="utf-8"))
            samples = package["/FullPackage"]
            wave_ns = np.array([int(s["Timestamp"]) for s in samples], dtype=np.int64)
            wave = np.array([float(s["Value"]["waveform"]) for s in samples], dtype=np.float64)
            rates = np.array(
                [float(s["Value"].get("pulseRate", np.nan)) for s in samples], dtype=np.float64
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise fail(ref.id, label_path, f"unreadable label file: {exc!r}") from exc
        if wave.size < 2:
            raise fail(ref.id, label_path, "empty label file: fewer than 2 waveform samples")
        frame_ns = _frame_times_ns(files, package, ref.id, label_path)
        order = np.argsort(wave_ns, kind="stable")
        wave_ns, wave, rates = wave_ns[order], wave[order], rates[order]
        origin = frame_ns[0]
        frame_sec = (frame_ns - origin) / NS_PER_SEC
        wave_sec = (wave_ns - origin) / NS_PER_SEC
        tolerance = ref.options["length_tolerance_sec"]
        before = wave_sec[0] - frame_sec[0]
        after = frame_sec[-1] - wave_sec[-1]
        if before > tolerance or after > tolerance:
            raise fail(
                ref.id,
                label_path,
                "labels shorter than video: waveform covers "
                f"{wave_sec[0]:.2f}..{wave_sec[-1]:.2f} s, "
                f"frames {frame_sec[0]:.2f}..{frame_sec[-1]:.2f} s (tolerance {tolerance:g} s)",
            )
        wave_fs = (wave.size - 1) / max(wave_sec[-1] - wave_sec[0], 1.0 / NS_PER_SEC)
        wave = bridge_nan_gaps(
            wave, wave_fs, ref.options["max_nan_gap_sec"], ref.id, label_path, "waveform"
        )
        finite_rates = rates[np.isfinite(rates)]
        labels = Labels(
            fs=FPS,
            n_frames=len(files),
            bvp=np.interp(frame_sec, wave_sec, wave),
            bvp_kind="ppg",
            heart_rate_bpm=float(finite_rates.mean()) if finite_rates.size else None,
        )
        video = VideoRef("frame_dir", frame_dir, fps=FPS)
        meta = {
            "label_file": str(label_path),
            "setup": ref.id.split("-")[1],
            "frame_times_sec": frame_sec,
        }
        return Recording(ref.id, ref.subject, NAME, video, labels, crop="face", meta=meta)
