"""DISFA (Mavadati et al., IEEE Trans. Affective Computing 2013, "DISFA: A spontaneous facial
action intensity database").

Layout (folder names matched case-insensitively)::

    <root>/Videos_LeftCamera/LeftVideoSN001_comp.avi
    <root>/ActionUnit_Labels/SN001/SN001_au1.txt    lines "frame,intensity" (frame 1-based,
                                                    intensity 0-5)

8 AUs (:data:`bigsmall.constants.DISFA_AU_NAMES`); occurrence = intensity ≥ 2 (option
``threshold``); frames without a line are "not coded" (-1). 20 fps (frame rate and count read
from the container header). ``camera="right"`` uses ``Videos_RightCamera/RightVideoSN...``.
Crop ``"face"``.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from bigsmall.constants import DISFA_AU_NAMES
from bigsmall.data.schema import (
    AU_NOT_CODED,
    DataIssue,
    DataReport,
    Labels,
    Recording,
    RecordingRef,
    VideoRef,
)
from bigsmall.data.sources._common import LENGTH_TOLERANCE_SEC, child_ci, fail, probe
from bigsmall.data.sources.base import report_issue, require_root
from bigsmall.errors import ConfigError

NAME = "disfa"
#: Intensity from which an AU counts as present (the usual DISFA protocol).
OCCURRENCE_THRESHOLD: int = 2
CAMERAS: tuple[str, ...] = ("left", "right")
VIDEO_EXTENSIONS: tuple[str, ...] = (".avi", ".mp4")
_SUBJECT = re.compile(r"(SN\d+)", re.IGNORECASE)


def _video_folder(root: Path, camera: str) -> Path | None:
    for child in sorted(root.iterdir()):
        name = child.name.lower()
        if child.is_dir() and name.startswith("video") and camera in name:
            return child
    return None


def _label_file(folder: Path, subject: str, au_name: str) -> Path | None:
    number = int(au_name[2:])
    return child_ci(folder, f"{subject}_au{number}.txt")


def read_au_intensity(path: Path, rec_id: str) -> tuple[np.ndarray, np.ndarray]:
    """``(frame_index (0-based), intensity)`` int64 arrays from a ``SNxxx_auN.txt`` file."""
    try:
        raw = np.loadtxt(path, delimiter=",", ndmin=2, dtype=np.float64)
    except (OSError, ValueError) as exc:
        raise fail(rec_id, path, f"unreadable label file: {exc}") from exc
    if raw.shape[0] == 0 or raw.shape[1] < 2:
        raise fail(rec_id, path, "empty label file: expected lines 'frame,intensity'")
    if not np.isfinite(raw[:, :2]).all():
        raise fail(rec_id, path, "unreadable label file: non-numeric values")
    return raw[:, 0].astype(np.int64) - 1, raw[:, 1].astype(np.int64)


class DISFASource:
    """DISFA layout → :class:`Recording` s with AU labels only (see the module docstring)."""

    name = NAME

    def list_recordings(
        self,
        root: str | Path,
        report: DataReport | None = None,
        *,
        camera: str = "left",
        threshold: int = OCCURRENCE_THRESHOLD,
        length_tolerance_sec: float = LENGTH_TOLERANCE_SEC,
    ) -> list[RecordingRef]:
        if camera not in CAMERAS:
            raise ConfigError(f"disfa camera must be one of {CAMERAS}, got {camera!r}")
        root = require_root(root, NAME)
        videos = _video_folder(root, camera)
        labels = child_ci(root, "ActionUnit_Labels")
        if videos is None:
            raise fail(NAME, root, f"missing folder: no Videos_{camera.title()}Camera/")
        if labels is None:
            raise fail(NAME, root, "missing folder: no ActionUnit_Labels/")
        options = {"threshold": threshold, "length_tolerance_sec": length_tolerance_sec}
        refs: list[RecordingRef] = []
        for video in sorted(videos.iterdir()):
            match = _SUBJECT.search(video.stem)
            if not video.is_file() or video.suffix.lower() not in VIDEO_EXTENSIONS or not match:
                continue
            subject = match.group(1).upper()
            folder = child_ci(labels, subject)
            if folder is None:
                report_issue(report, DataIssue(subject, labels / subject, "missing label file"))
                continue
            files = {name: _label_file(folder, subject, name) for name in DISFA_AU_NAMES}
            missing = [name for name, path in files.items() if path is None]
            if missing:
                issue = DataIssue(subject, folder, f"missing label file: {', '.join(missing)}")
                report_issue(report, issue)
                continue
            paths: dict[str, Path] = {"video": video}
            paths.update({name: path for name, path in files.items() if path is not None})
            refs.append(RecordingRef(subject, subject, NAME, paths, options))
        return refs

    def load(self, ref: RecordingRef) -> Recording:
        video_path = ref.paths["video"]
        info = probe(video_path, ref.id)
        n_frames = info.frame_count
        tolerance_frames = round(ref.options["length_tolerance_sec"] * info.fps)
        threshold = ref.options["threshold"]
        au = np.full((n_frames, len(DISFA_AU_NAMES)), AU_NOT_CODED, dtype=np.int8)
        for j, name in enumerate(DISFA_AU_NAMES):
            path = ref.paths[name]
            index, intensity = read_au_intensity(path, ref.id)
            last = int(index.max()) + 1
            if index.min() < 0 or abs(last - n_frames) > tolerance_frames:
                word = "longer" if last > n_frames else "shorter"
                raise fail(
                    ref.id,
                    path,
                    f"labels {word} than video: {last} labelled frames, video has {n_frames}",
                )
            keep = index < n_frames
            au[index[keep], j] = (intensity[keep] >= threshold).astype(np.int8)
        labels = Labels(fs=info.fps, n_frames=n_frames, au=au, au_names=DISFA_AU_NAMES)
        video = VideoRef("file", video_path, fps=info.fps)
        meta = {"threshold": threshold, "label_folder": str(ref.paths[DISFA_AU_NAMES[0]].parent)}
        return Recording(ref.id, ref.subject, NAME, video, labels, crop="face", meta=meta)
