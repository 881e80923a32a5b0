"""Helpers shared by the dataset sources: tolerant file lookup, parsing, resampling, checks.

Every check raises :class:`~bigsmall.data.schema.RecordingError` with a one-line
:class:`~bigsmall.data.schema.DataIssue` so that the caller can skip and count the recording.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from bigsmall.data.schema import DataIssue, DataReport, RecordingError, RecordingRef
from bigsmall.data.sources.base import require_root
from bigsmall.errors import VideoError
from bigsmall.video.probe import VideoProbe, probe_video

#: Default largest run of missing (NaN) label samples that is bridged by interpolation (s).
MAX_NAN_GAP_SEC: float = 0.5
#: Default largest difference between label and video durations that is accepted (s), for
#: labels stretched onto the frames (BP4D+, UBFC-rPPG) or counted per frame (DISFA).
LENGTH_TOLERANCE_SEC: float = 1.0
#: Default largest stretch of video without label samples at either end (s), for labels with
#: their own time stamps (PURE, folder); frames there take the nearest label value.
COVERAGE_TOLERANCE_SEC: float = 0.5


def fail(recording_id: str, path: Path | str, message: str) -> RecordingError:
    """The error a source raises for a recording that cannot be used."""
    return RecordingError(DataIssue(recording_id, path, message))


def child_ci(parent: Path, name: str) -> Path | None:
    """``parent / name`` matched case-insensitively (exact match first), or ``None``."""
    exact = parent / name
    if exact.exists():
        return exact
    if not parent.is_dir():
        return None
    lowered = name.lower()
    for child in sorted(parent.iterdir()):
        if child.name.lower() == lowered:
            return child
    return None


def path_ci(root: Path, *parts: str) -> Path | None:
    """``root / parts...`` with every component matched case-insensitively, or ``None``."""
    current: Path | None = root
    for part in parts:
        if current is None:
            return None
        current = child_ci(current, part)
    return current


def read_number_column(path: Path, recording_id: str) -> np.ndarray:
    """One number per line (a non-numeric first line is taken as a header): ``(N,)`` float64."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").split()
    except OSError as exc:
        raise fail(recording_id, path, f"unreadable label file: {exc}") from exc
    values: list[float] = []
    for i, token in enumerate(lines):
        try:
            values.append(float(token.strip().strip(",")))
        except ValueError:
            if i == 0:
                continue  # header line
            raise fail(
                recording_id, path, f"unreadable label file: line {i + 1} is {token!r}"
            ) from None
    if not values:
        raise fail(recording_id, path, "empty label file: no numbers in it")
    return np.asarray(values, dtype=np.float64)


def probe(path: Path, recording_id: str) -> VideoProbe:
    """:func:`probe_video` with video errors turned into a recording issue."""
    try:
        return probe_video(path)
    except VideoError as exc:
        raise fail(recording_id, path, f"unreadable video: {exc}") from exc


def stretch_to_frames(values: np.ndarray, n_frames: int) -> np.ndarray:
    """Resample a signal that spans the whole video onto its ``n_frames`` frames (linear).

    Frame ``i`` starts at fraction ``i / n_frames`` of the recording, so sample position
    ``i * N / n_frames`` of the ``N`` input samples. Returns ``(n_frames,)`` float64.
    """
    values = np.asarray(values, dtype=np.float64)
    positions = np.arange(n_frames, dtype=np.float64) * (values.size / n_frames)
    return np.interp(positions, np.arange(values.size, dtype=np.float64), values)


def check_duration(
    recording_id: str,
    path: Path,
    label_sec: float,
    video_sec: float,
    tolerance_sec: float,
) -> None:
    """Raise an issue when labels are shorter/longer than the video by more than the tolerance."""
    difference = label_sec - video_sec
    if abs(difference) > tolerance_sec:
        word = "longer" if difference > 0 else "shorter"
        raise fail(
            recording_id,
            path,
            f"labels {word} than video: {label_sec:.2f} s of labels vs {video_sec:.2f} s of video "
            f"(tolerance {tolerance_sec:g} s; option length_tolerance_sec)",
        )


def bridge_nan_gaps(
    values: np.ndarray, fs: float, max_gap_sec: float, recording_id: str, path: Path, what: str
) -> np.ndarray:
    """Fill NaN runs up to ``max_gap_sec`` by linear interpolation; longer runs are an issue."""
    values = np.asarray(values, dtype=np.float64)
    missing = ~np.isfinite(values)
    if not missing.any():
        return values
    if missing.all():
        raise fail(recording_id, path, f"NaN run: {what} has no finite value")
    edges = np.diff(np.concatenate(([0], missing.astype(np.int8), [0])))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    longest = int((stops - starts).max())
    if longest / fs > max_gap_sec:
        raise fail(
            recording_id,
            path,
            f"NaN run: {what} has {longest} missing samples in a row ({longest / fs:.2f} s > "
            f"{max_gap_sec:g} s allowed)",
        )
    index = np.arange(values.size)
    out = values.copy()
    out[missing] = np.interp(index[missing], index[~missing], values[~missing])
    return out


class TimedLabelSource:
    """Base of the sources whose labels carry their own time stamps (PURE, folder).

    :meth:`list_recordings` checks the root and takes the options these sources share, then
    leaves the layout to the subclass's :meth:`find_recordings`; every ref carries the options
    ``length_tolerance_sec`` (largest stretch of video without labels at either end, s) and
    ``max_nan_gap_sec`` (largest run of missing label samples bridged by interpolation, s).
    """

    name: str

    def list_recordings(
        self,
        root: str | Path,
        report: DataReport | None = None,
        *,
        length_tolerance_sec: float = COVERAGE_TOLERANCE_SEC,
        max_nan_gap_sec: float = MAX_NAN_GAP_SEC,
    ) -> list[RecordingRef]:
        """Recordings under ``root``; problems found while listing go to ``report``."""
        folder = require_root(root, self.name)
        options = {"length_tolerance_sec": length_tolerance_sec, "max_nan_gap_sec": max_nan_gap_sec}
        return self.find_recordings(folder, report, options)

    def find_recordings(
        self, root: Path, report: DataReport | None, options: dict[str, Any]
    ) -> list[RecordingRef]:
        """Recordings of the layout under the existing folder ``root``, with ``options``."""
        raise NotImplementedError
