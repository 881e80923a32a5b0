"""The one schema every dataset source loads into: :class:`Recording`, :class:`Labels`, issues.

A :class:`Recording` holds a *reference* to its video (:class:`VideoRef`: a file, a folder of
frames or a zip of frames, optionally a frame range) plus its labels already resampled to the
video's frames. Nothing here decodes video: decoding happens later, in the preprocessing
pipeline, which reads ``Recording.video``.

Label order is defined here and only here: :meth:`Labels.au_matrix` returns the AU columns in
the order the model expects (:data:`bigsmall.constants.AU_NAMES` by default), with ``-1`` for
action units the dataset did not code.

Bad data is described by a :class:`DataIssue` (recording id, path, one line). Sources raise a
:class:`RecordingError` carrying it; :class:`DataReport` collects issues so that a run skips the
recording, counts it in its summary and never drops it silently (``strict=True`` turns every
issue into a :class:`bigsmall.errors.DatasetError`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from bigsmall.constants import AU_NAMES
from bigsmall.errors import DatasetError

VideoKind = Literal["file", "frame_dir", "frame_zip"]
BvpKind = Literal["ppg", "blood_pressure", "pseudo_pos"]
CropKind = Literal["face", "bp4d"]

VIDEO_KINDS: tuple[str, ...] = ("file", "frame_dir", "frame_zip")
BVP_KINDS: tuple[str, ...] = ("ppg", "blood_pressure", "pseudo_pos")
CROP_KINDS: tuple[str, ...] = ("face", "bp4d")

#: Value of an AU label for a frame that was not coded.
AU_NOT_CODED: int = -1


@dataclass(frozen=True)
class VideoRef:
    """Where a recording's frames are; nothing is decoded.

    Attributes:
        kind: ``"file"`` (a container PyAV can open), ``"frame_dir"`` (a folder of image files,
            natural-sorted by name) or ``"frame_zip"`` (image members of a zip archive).
        path: the file, folder or zip.
        fps: frame rate; ``None`` means read it from the container.
        member_prefix: for ``frame_zip``, only members whose name starts with this prefix
            (e.g. ``"F001/T1/"``) belong to the recording.
        frame_range: ``(start, stop)`` 0-based, stop exclusive, of the frames that belong to the
            recording (e.g. BP4D+'s AU-coded segment), or ``None`` for all frames.
    """

    kind: VideoKind
    path: Path
    fps: float | None = None
    member_prefix: str | None = None
    frame_range: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        if self.kind not in VIDEO_KINDS:
            raise ValueError(f"VideoRef.kind must be one of {VIDEO_KINDS}, got {self.kind!r}")
        object.__setattr__(self, "path", Path(self.path))
        if self.frame_range is not None:
            start, stop = (int(v) for v in self.frame_range)
            if not 0 <= start < stop:
                raise ValueError(
                    f"VideoRef.frame_range must satisfy 0 <= start < stop, got {start, stop}"
                )
            object.__setattr__(self, "frame_range", (start, stop))


@dataclass
class Labels:
    """Per-video-frame labels, aligned to the recording's frames (``T`` of them).

    Attributes:
        fs: sampling rate of every array here, equal to the video frame rate (Hz).
        bvp: ``(T,)`` float64 pulse waveform, or ``None``.
        bvp_kind: what ``bvp`` measures: ``"ppg"``, ``"blood_pressure"`` (BP4D+) or
            ``"pseudo_pos"`` (a POS pseudo-label computed from the video).
        resp: ``(T,)`` float64 respiration waveform, or ``None``.
        au: ``(T, len(au_names))`` int8 occurrence, 1/0, ``-1`` = not coded; or ``None``.
        au_names: names of the columns of ``au`` (any order; use :meth:`au_matrix`).
        heart_rate_bpm: reference mean heart rate of the recording, if the dataset gives one.
        breathing_rate_bpm: reference mean breathing rate, if the dataset gives one.
    """

    fs: float
    n_frames: int
    bvp: np.ndarray | None = None
    bvp_kind: BvpKind = "ppg"
    resp: np.ndarray | None = None
    au: np.ndarray | None = None
    au_names: tuple[str, ...] = ()
    heart_rate_bpm: float | None = None
    breathing_rate_bpm: float | None = None

    def __post_init__(self) -> None:
        if not self.fs > 0:
            raise ValueError(f"Labels.fs must be positive, got {self.fs}")
        if self.bvp_kind not in BVP_KINDS:
            raise ValueError(f"Labels.bvp_kind must be one of {BVP_KINDS}, got {self.bvp_kind!r}")
        for name in ("bvp", "resp"):
            value = getattr(self, name)
            if value is None:
                continue
            value = np.asarray(value, dtype=np.float64)
            if value.shape != (self.n_frames,):
                raise ValueError(
                    f"Labels.{name} has shape {value.shape}, expected ({self.n_frames},)"
                )
            setattr(self, name, value)
        self.au_names = tuple(self.au_names)
        if self.au is not None:
            au = np.asarray(self.au, dtype=np.int8)
            if au.shape != (self.n_frames, len(self.au_names)):
                raise ValueError(
                    f"Labels.au has shape {au.shape}, "
                    f"expected ({self.n_frames}, {len(self.au_names)})"
                )
            if not np.isin(au, (AU_NOT_CODED, 0, 1)).all():
                raise ValueError("Labels.au values must be 1, 0 or -1 (not coded)")
            self.au = au
        elif self.au_names:
            raise ValueError("Labels.au_names given without Labels.au")

    def au_matrix(self, names: Sequence[str] = AU_NAMES) -> np.ndarray:
        """AU occurrence in the order ``names``: ``(T, len(names))`` int8, -1 = not coded."""
        out = np.full((self.n_frames, len(names)), AU_NOT_CODED, dtype=np.int8)
        if self.au is None:
            return out
        column = {name: i for i, name in enumerate(self.au_names)}
        for j, name in enumerate(names):
            if name in column:
                out[:, j] = self.au[:, column[name]]
        return out


@dataclass
class Recording:
    """One video with its labels, as every source returns it.

    Attributes:
        id: unique within its source (e.g. ``"F001_T1"``), safe as a file name.
        subject: subject id used for subject-disjoint splits.
        source: name of the source that produced it (e.g. ``"bp4d_plus"``).
        video: where the frames are (see :class:`VideoRef`).
        labels: labels aligned to the frames of ``video`` (its ``frame_range`` if set).
        crop: how the pipeline frames the face: ``"face"`` (detector + enlarged box) or
            ``"bp4d"`` (the bottom W×W square of a portrait frame, no detection); the names are
            crop modes of :data:`bigsmall.video.framing.CROP_MODES`.
        meta: free-form metadata (task, paths of label files, notes).
    """

    id: str
    subject: str
    source: str
    video: VideoRef
    labels: Labels
    crop: CropKind = "face"
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.crop not in CROP_KINDS:
            raise ValueError(f"Recording.crop must be one of {CROP_KINDS}, got {self.crop!r}")

    @property
    def n_frames(self) -> int:
        return self.labels.n_frames

    @property
    def fs(self) -> float:
        return self.labels.fs


@dataclass(frozen=True)
class RecordingRef:
    """A recording found by ``Source.list_recordings``; ``Source.load`` reads its labels.

    Attributes:
        id, subject, source: as in :class:`Recording`.
        paths: the files this recording is made of, by role (``"video"``, ``"labels"`` ...).
        options: source options that ``load`` needs (e.g. the AU occurrence threshold).
    """

    id: str
    subject: str
    source: str
    paths: dict[str, Path] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DataIssue:
    """One problem with one recording: it is skipped and counted, never silently dropped."""

    recording_id: str
    path: Path | str
    message: str

    def __str__(self) -> str:
        return f"{self.recording_id}: {self.path}: {self.message}"


class RecordingError(DatasetError):
    """A recording cannot be used; carries the :class:`DataIssue` that describes why."""

    def __init__(self, issue: DataIssue) -> None:
        super().__init__(str(issue))
        self.issue = issue


class DataReport:
    """Collects :class:`DataIssue` s of a run; with ``strict=True`` the first one is raised."""

    def __init__(self, strict: bool = False) -> None:
        self.strict = strict
        self.issues: list[DataIssue] = []
        self.n_ok = 0

    def add(self, issue: DataIssue) -> None:
        """Record ``issue``; raise it as a :class:`RecordingError` when strict."""
        if self.strict:
            raise RecordingError(issue)
        self.issues.append(issue)

    def __len__(self) -> int:
        return len(self.issues)

    def __bool__(self) -> bool:  # a report is truthy even when empty
        return True

    def summary(self) -> str:
        """One line: recordings used and skipped (with the most common reasons)."""
        if not self.issues:
            return f"{self.n_ok} recordings used, none skipped"
        reasons = Counter(issue.message.split(":")[0] for issue in self.issues)
        top = "; ".join(f"{n}× {reason}" for reason, n in reasons.most_common(3))
        return f"{self.n_ok} recordings used, {len(self.issues)} skipped ({top})"

    def lines(self) -> list[str]:
        """One line per issue, for logs and run summaries."""
        return [str(issue) for issue in self.issues]
