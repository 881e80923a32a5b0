"""``folder``: any directory of your own videos, with optional per-video labels.

This is the layout a user with their own recordings writes, and what ``bigsmall synth``
writes.

Videos (``.mp4 .avi .mov .mkv .webm``, case-insensitive), either flat or one folder per
subject::

    <root>/<name>.mp4              subject = <name>
    <root>/<subject>/<name>.mp4    subject = <subject> (the first folder under root)

Beside each video, optionally:

``<name>.csv`` — labels, one row per sample, any sampling rate, rows in any order:

    ==============  =======================================================================
    column          meaning
    ==============  =======================================================================
    ``time_s``      time of the sample in seconds from the video's first frame (required)
    ``ppg``         pulse waveform (float; any units), optional
    ``resp``        respiration waveform (float; any units), optional
    ``AU01`` ...    action-unit occurrence 0/1 (empty = not coded), any subset of
                    ``AU01 AU02 AU04 AU06 AU07 AU09 AU10 AU12 AU14 AU15 AU17 AU23 AU24 AU25
                    AU26`` (``AU1`` is read as ``AU01``)
    ==============  =======================================================================

    Waveforms are interpolated linearly at the frame times ``i / fps``; AUs take the nearest
    sample. Missing waveform values (empty cells) up to 0.5 s are bridged linearly. Labels
    must cover the video: a CSV that starts later or ends earlier than the video (or runs
    past its end) by more than 0.5 s (option ``length_tolerance_sec``) is reported and the
    video skipped. Other columns are kept
    out of the labels and listed in ``meta["ignored_columns"]``.

``<name>.json`` — sidecar, all keys optional::

    {"heart_rate_bpm": 72.0, "breathing_rate_bpm": 15.0, "subject": "alice", "fps": 30.0,
     ...any other metadata...}

    ``fps`` overrides the container's frame rate; ``subject`` overrides the folder rule;
    everything else lands in ``Recording.meta``.

Recording id: the video's path under root without extension, ``/`` replaced by ``__``
(``alice/take1.mp4`` → ``alice__take1``). Crop ``"face"``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bigsmall.constants import AU_NAMES, DISFA_AU_NAMES
from bigsmall.data.schema import (
    AU_NOT_CODED,
    DataIssue,
    DataReport,
    Labels,
    Recording,
    RecordingError,
    RecordingRef,
    VideoRef,
)
from bigsmall.data.sources._common import (
    TimedLabelSource,
    bridge_nan_gaps,
    fail,
    probe,
)
from bigsmall.data.sources.base import report_issue
from bigsmall.signal.timing import nearest_index
from bigsmall.video.frame_archive import natural_sort_key

NAME = "folder"
VIDEO_EXTENSIONS: tuple[str, ...] = (".mp4", ".avi", ".mov", ".mkv", ".webm")
TIME_COLUMN = "time_s"
#: Waveform columns: CSV column -> Labels field.
WAVE_COLUMNS: dict[str, str] = {"ppg": "bvp", "resp": "resp"}
#: AU columns accepted, in the order stored in ``Labels.au_names``.
KNOWN_AUS: tuple[str, ...] = tuple(
    sorted(set(AU_NAMES) | set(DISFA_AU_NAMES), key=lambda name: int(name[2:]))
)
#: Sidecar keys with a meaning; the rest is free-form metadata.
SIDECAR_KEYS: tuple[str, ...] = ("heart_rate_bpm", "breathing_rate_bpm", "subject", "fps")
_AU_COLUMN = re.compile(r"^au0*(\d+)$", re.IGNORECASE)
ID_SEPARATOR = "__"


def _read_sidecar(path: Path, rec_id: str) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise fail(rec_id, path, f"unreadable sidecar: {exc}") from exc
    if not isinstance(data, dict):
        raise fail(rec_id, path, "unreadable sidecar: expected a JSON object")
    return data


def _au_name(column: str) -> str | None:
    match = _AU_COLUMN.match(column.strip())
    return f"AU{int(match.group(1)):02d}" if match else None


class FolderSource(TimedLabelSource):
    """A folder of videos with optional label CSVs and sidecars (see the module docstring)."""

    name = NAME

    def find_recordings(
        self, root: Path, report: DataReport | None, options: dict[str, Any]
    ) -> list[RecordingRef]:
        videos = sorted(
            (p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in VIDEO_EXTENSIONS),
            key=lambda p: tuple(natural_sort_key(part) for part in p.relative_to(root).parts),
        )
        refs: list[RecordingRef] = []
        for video in videos:
            relative = video.relative_to(root).with_suffix("")
            rec_id = ID_SEPARATOR.join(relative.parts)
            subject = relative.parts[0]
            paths: dict[str, Path] = {"video": video}
            for role, suffix in (("labels", ".csv"), ("sidecar", ".json")):
                candidate = video.with_suffix(suffix)
                if candidate.is_file():
                    paths[role] = candidate
            if "sidecar" in paths:
                try:
                    sidecar = _read_sidecar(paths["sidecar"], rec_id)
                except RecordingError as exc:
                    report_issue(report, exc.issue)
                    continue
                subject = str(sidecar.get("subject", subject))
            refs.append(RecordingRef(rec_id, subject, NAME, paths, options))
        if not refs and report is not None:
            report.add(DataIssue(NAME, root, f"no videos ({' '.join(VIDEO_EXTENSIONS)}) found"))
        return refs

    def load(self, ref: RecordingRef) -> Recording:
        video_path = ref.paths["video"]
        info = probe(video_path, ref.id)
        sidecar = _read_sidecar(ref.paths["sidecar"], ref.id) if "sidecar" in ref.paths else {}
        fps = float(sidecar.get("fps") or info.fps)
        if not fps > 0:
            raise fail(ref.id, ref.paths.get("sidecar", video_path), f"invalid fps {fps}")
        n_frames = info.frame_count
        fields: dict[str, Any] = {}
        meta: dict[str, Any] = {k: v for k, v in sidecar.items() if k not in SIDECAR_KEYS}
        if "labels" in ref.paths:
            fields, ignored = _read_labels(ref, fps, n_frames)
            if ignored:
                meta["ignored_columns"] = ignored
        rates = {
            key: float(sidecar[key])
            for key in ("heart_rate_bpm", "breathing_rate_bpm")
            if sidecar.get(key) is not None
        }
        labels = Labels(fs=fps, n_frames=n_frames, bvp_kind="ppg", **fields, **rates)
        video = VideoRef("file", video_path, fps=fps if "fps" in sidecar else None)
        return Recording(ref.id, ref.subject, NAME, video, labels, crop="face", meta=meta)


def _read_labels(ref: RecordingRef, fps: float, n_frames: int) -> tuple[dict[str, Any], list[str]]:
    """Label CSV → Labels fields resampled to the frame times, and the ignored columns."""
    path = ref.paths["labels"]
    try:
        table = pd.read_csv(path)
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise fail(ref.id, path, f"unreadable label file: {exc}") from exc
    columns = {str(c).strip().lower(): c for c in table.columns}
    if TIME_COLUMN not in columns:
        raise fail(ref.id, path, f"unreadable label file: no '{TIME_COLUMN}' column")
    times = pd.to_numeric(table[columns[TIME_COLUMN]], errors="coerce").to_numpy(np.float64)
    if times.size < 2 or not np.isfinite(times).all():
        raise fail(ref.id, path, f"unreadable label file: '{TIME_COLUMN}' needs >= 2 numbers")
    order = np.argsort(times, kind="stable")
    times = times[order]
    if np.any(np.diff(times) <= 0):
        raise fail(ref.id, path, f"unreadable label file: repeated '{TIME_COLUMN}' values")
    frame_times = np.arange(n_frames, dtype=np.float64) / fps
    tolerance = ref.options["length_tolerance_sec"]
    late_start, early_end = times[0] - frame_times[0], frame_times[-1] - times[-1]
    if late_start > tolerance or early_end > tolerance:
        raise fail(
            ref.id,
            path,
            f"labels shorter than video: {TIME_COLUMN} {times[0]:.2f}..{times[-1]:.2f} s, video "
            f"0..{frame_times[-1]:.2f} s (tolerance {tolerance:g} s)",
        )
    if times[-1] - frame_times[-1] > tolerance:
        raise fail(
            ref.id,
            path,
            f"labels longer than video: {TIME_COLUMN} ends at {times[-1]:.2f} s, video at "
            f"{frame_times[-1]:.2f} s (tolerance {tolerance:g} s)",
        )
    label_fs = (times.size - 1) / (times[-1] - times[0])
    fields: dict[str, Any] = {}
    used = {TIME_COLUMN}
    for column, field_name in WAVE_COLUMNS.items():
        if column not in columns:
            continue
        used.add(column)
        values = pd.to_numeric(table[columns[column]], errors="coerce").to_numpy(np.float64)[order]
        values = bridge_nan_gaps(
            values, label_fs, ref.options["max_nan_gap_sec"], ref.id, path, column
        )
        fields[field_name] = np.interp(frame_times, times, values)
    au_columns = {name: columns[key] for key in columns if (name := _au_name(key)) in KNOWN_AUS}
    used.update(key for key in columns if _au_name(key) in KNOWN_AUS)
    if au_columns:
        names = tuple(name for name in KNOWN_AUS if name in au_columns)
        nearest = nearest_index(times, frame_times)
        au = np.empty((n_frames, len(names)), dtype=np.int8)
        for j, name in enumerate(names):
            raw = pd.to_numeric(table[au_columns[name]], errors="coerce").to_numpy()[order]
            bad = np.isfinite(raw) & ~np.isin(raw, (0, 1))
            if bad.any():
                raise fail(
                    ref.id, path, f"unreadable label file: {name} has values other than 0/1/empty"
                )
            coded = np.where(np.isfinite(raw), raw, AU_NOT_CODED).astype(np.int8)
            au[:, j] = coded[nearest]
        fields["au"], fields["au_names"] = au, names
    ignored = [str(columns[key]) for key in columns if key not in used]
    return fields, ignored
