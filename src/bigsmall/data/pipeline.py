"""One recording → BigSmall inputs, training labels and evaluation waveforms (no caching here).

Narayanswamy et al., "BigSmall: Efficient Multi-Task Learning for Disparate Spatial and
Temporal Physiological Measurements", WACV 2024, with the preprocessing of rPPG-Toolbox
(Liu et al., NeurIPS 2023 D&B) that the paper's code uses:

* video → Big (uint8 144×144 face crops + the clip's mean/std, "Standardized" on load) and
  Small (9×9 "DiffNormalized" frames) in one decode pass, via
  :func:`bigsmall.video.build_bigsmall_inputs`;
* PPG and respiration labels diff-normalized over the whole recording
  (:func:`bigsmall.signal.filters.diff_normalize`); AUs as per-frame occurrence in
  :data:`bigsmall.constants.AU_NAMES` order (``-1`` = not coded);
* on BP4D+ (whose pulse is a blood-pressure wave) the PPG training label is the POS
  pseudo-PPG of the face's RGB trace (:func:`bigsmall.data.pseudo_labels.pos_pseudo_ppg`),
  while the recorded wave is kept for evaluation.

Frames come from ``Recording.video`` by kind (a registry): a container (``file``), a folder
of images (``frame_dir``) or a zip of images (``frame_zip``), limited to ``frame_range``.
If the decoded frame count differs from the labels' by at most
``PreprocessConfig.frame_mismatch_tolerance_sec`` both are cut to the shorter; a larger
difference is a :class:`~bigsmall.data.schema.RecordingError` ("labels mismatch").
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bigsmall.constants import AU_NAMES, BIG_FRAME_MODES, BVP_LABEL_OPTIONS
from bigsmall.data.pseudo_labels import pos_pseudo_ppg
from bigsmall.data.schema import DataIssue, Recording, RecordingError
from bigsmall.errors import (
    BigSmallError,
    ConfigError,
    NoFaceError,
    VideoError,
    VideoTooShortError,
)
from bigsmall.signal.filters import diff_normalize
from bigsmall.video.boxes import DEFAULT_ENLARGE_COEF
from bigsmall.video.crop import BIG_SIZE_HW
from bigsmall.video.face import create_detector
from bigsmall.video.frame_archive import read_frame_files, read_frame_zip
from bigsmall.video.framing import CROP_MODES
from bigsmall.video.inputs import (
    DEFAULT_EVERY_K_FRAMES,
    SMALL_SIZE_HW,
    BigSmallInputs,
    build_bigsmall_inputs,
)
from bigsmall.video.io import FrameBatch, VideoReader

#: Bumped whenever the pipeline's output for the same config changes (part of the cache key).
PIPELINE_VERSION: str = "1"
#: BigSmall's window length N (frames per chunk; Big uses frame 0 of each window).
DEFAULT_N_SEGMENT: int = 3
#: ``crop`` options: ``auto`` follows ``Recording.crop``; the others force a video crop mode.
CROP_OPTIONS: tuple[str, ...] = ("auto", *CROP_MODES)
#: Default tolerance between decoded frames and label length.
DEFAULT_FRAME_MISMATCH_TOLERANCE_SEC: float = 0.5


@dataclass(frozen=True)
class PreprocessConfig:
    """Everything that changes the cached arrays (its ``asdict`` is part of the cache key).

    Attributes:
        n_segment: window length N in frames (chunks of N, no overlap, remainder dropped).
        big_size: Big frame (height, width).
        small_size: Small frame (height, width).
        crop: one of :data:`CROP_OPTIONS`.
        detector: face detector name (:data:`bigsmall.video.face.DETECTORS`).
        every_k_frames: re-detect the face every this many frames.
        enlarge_coef: face box enlargement.
        big_frames: ``"first"`` stores only frame 0 of each window (what BigSmall's Big branch
            uses with temporal downsampling); ``"all"`` stores every frame.
        bvp_label: one of :data:`BVP_LABEL_OPTIONS`.
        au_names: AU columns of the ``au`` label, in model order.
        frame_mismatch_tolerance_sec: largest accepted difference between the decoded frame
            count and the labels' length.
        align: Big frames landmark-aligned as JAA-Net / JÂA-Net (Shao et al., ECCV 2018, IJCV
            2021) and the paper's † rows: similarity to a 49-point template, 200×200, centre
            176×176, resized to ``big_size`` (needs the ``align`` extra). Only the frames the
            network reads are aligned; the Small branch keeps the face crop.
    """

    n_segment: int = DEFAULT_N_SEGMENT
    big_size: tuple[int, int] = BIG_SIZE_HW
    small_size: tuple[int, int] = SMALL_SIZE_HW
    crop: str = "auto"
    detector: str = "haar"
    every_k_frames: int = DEFAULT_EVERY_K_FRAMES
    enlarge_coef: float = DEFAULT_ENLARGE_COEF
    big_frames: str = "first"
    bvp_label: str = "auto"
    au_names: tuple[str, ...] = AU_NAMES
    frame_mismatch_tolerance_sec: float = DEFAULT_FRAME_MISMATCH_TOLERANCE_SEC
    align: bool = False

    def __post_init__(self) -> None:
        checks = (
            (self.n_segment >= 1, f"n_segment must be >= 1, got {self.n_segment}"),
            (self.crop in CROP_OPTIONS, f"crop must be one of {CROP_OPTIONS}"),
            (self.big_frames in BIG_FRAME_MODES, f"big_frames must be one of {BIG_FRAME_MODES}"),
            (self.bvp_label in BVP_LABEL_OPTIONS, f"bvp_label must be one of {BVP_LABEL_OPTIONS}"),
            (self.every_k_frames >= 1, "every_k_frames must be >= 1"),
            (self.frame_mismatch_tolerance_sec >= 0, "frame_mismatch_tolerance_sec must be >= 0"),
            (
                not self.align or self.big_size[0] == self.big_size[1],
                f"align needs a square big_size, got {tuple(self.big_size)}",
            ),
        )
        for ok, message in checks:
            if not ok:
                raise ConfigError(f"preprocessing config: {message}")
        object.__setattr__(self, "big_size", tuple(int(v) for v in self.big_size))
        object.__setattr__(self, "small_size", tuple(int(v) for v in self.small_size))
        object.__setattr__(self, "au_names", tuple(self.au_names))


@dataclass
class PreprocessedRecording:
    """A recording ready for chunking (all arrays cover the same ``T`` frames).

    inputs: the :class:`BigSmallInputs` (Big uint8 (T', H, W, 3) with T' >= T, Small ...).
    n_frames: T, frames kept (decoded frames and labels agree on these).
    fps: frame rate (Hz).
    au: (T, K) int8 occurrence in ``PreprocessConfig.au_names`` order, -1 = not coded.
    bvp, resp: (T,) float32 diff-normalized training labels, or ``None``.
    bvp_eval, resp_eval: (T,) float32 recorded waveforms for evaluation, or ``None``.
    bvp_kind: what ``bvp`` was made from (``"ppg"``, ``"pseudo_pos"`` ...).
    bvp_eval_kind: what ``bvp_eval`` measures (e.g. ``"blood_pressure"`` on BP4D+).
    """

    recording: Recording
    inputs: BigSmallInputs
    n_frames: int
    fps: float
    au: np.ndarray
    bvp: np.ndarray | None
    resp: np.ndarray | None
    bvp_eval: np.ndarray | None
    resp_eval: np.ndarray | None
    bvp_kind: str | None
    bvp_eval_kind: str | None
    meta: dict[str, Any] = field(default_factory=dict)


def _issue(rec: Recording, message: str) -> RecordingError:
    return RecordingError(DataIssue(rec.id, rec.video.path, message))


# ---------------------------------------------------------------------------- frame sources
class _RangeVideoReader(VideoReader):
    """A :class:`VideoReader` that yields only frames ``[start, stop)`` of the container."""

    def __init__(self, path: Any, start: int, stop: int | None, thread_count: int = 0) -> None:
        super().__init__(path, max_frames=stop, thread_count=thread_count)
        self._start = start

    def iter_frames(self) -> Iterator[Any]:
        for index, item in enumerate(super().iter_frames()):
            if index >= self._start:
                yield item


def _file_source(rec: Recording, threads: int) -> tuple[Any, float | None]:
    start, stop = rec.video.frame_range or (0, None)
    return _RangeVideoReader(rec.video.path, start, stop, threads), None


def _frame_dir_source(rec: Recording, threads: int) -> tuple[Any, float | None]:
    fps = rec.video.fps or rec.labels.fs
    batches: Iterator[FrameBatch] = read_frame_files(
        rec.video.path, fps, frame_range=rec.video.frame_range
    )
    return batches, fps


def _frame_zip_source(rec: Recording, threads: int) -> tuple[Any, float | None]:
    fps = rec.video.fps or rec.labels.fs
    batches = read_frame_zip(
        rec.video.path, fps, rec.video.member_prefix, frame_range=rec.video.frame_range
    )
    return batches, fps


#: ``VideoRef.kind`` → opener ``(recording, decoder threads)`` returning (source for
#: ``build_bigsmall_inputs``, fps or None).
FRAME_SOURCES: dict[str, Callable[[Recording, int], tuple[Any, float | None]]] = {
    "file": _file_source,
    "frame_dir": _frame_dir_source,
    "frame_zip": _frame_zip_source,
}


# ---------------------------------------------------------------------------- labels
def _recorded_bvp(rec: Recording, inputs: BigSmallInputs, n: int) -> np.ndarray | None:
    bvp = rec.labels.bvp
    return None if bvp is None else bvp[:n]


def _pseudo_bvp(rec: Recording, inputs: BigSmallInputs, n: int) -> np.ndarray | None:
    hr_bpm = rec.labels.heart_rate_bpm
    if hr_bpm is None or not hr_bpm > 0:
        raise _issue(rec, "no heart rate: POS pseudo-PPG needs the recording's mean heart rate")
    try:
        return pos_pseudo_ppg(inputs.rgb[:n], rec.labels.fs, hr_bpm)
    except (BigSmallError, ValueError) as exc:
        raise _issue(rec, f"pseudo-PPG failed: {exc}") from exc


def _auto_bvp(rec: Recording, inputs: BigSmallInputs, n: int) -> np.ndarray | None:
    if rec.labels.bvp_kind == "blood_pressure":
        return _pseudo_bvp(rec, inputs, n)
    return _recorded_bvp(rec, inputs, n)


#: ``bvp_label`` → builder of the raw (not yet diff-normalized) PPG training wave.
BVP_LABELS: dict[str, Callable[[Recording, BigSmallInputs, int], np.ndarray | None]] = {
    "auto": _auto_bvp,
    "recorded": _recorded_bvp,
    "pseudo_pos": _pseudo_bvp,
}


def _bvp_kind(cfg: PreprocessConfig, rec: Recording) -> str:
    if cfg.bvp_label == "pseudo_pos" or (
        cfg.bvp_label == "auto" and rec.labels.bvp_kind == "blood_pressure"
    ):
        return "pseudo_pos"
    return rec.labels.bvp_kind


def _diff_label(wave: np.ndarray | None) -> np.ndarray | None:
    return None if wave is None else diff_normalize(wave).astype(np.float32)


def _f32(wave: np.ndarray | None, n: int) -> np.ndarray | None:
    return None if wave is None else np.asarray(wave[:n], np.float32)


# ---------------------------------------------------------------------------- pipeline
def crop_mode(cfg: PreprocessConfig, rec: Recording) -> str:
    """The :func:`build_bigsmall_inputs` crop mode for ``rec`` under ``cfg``."""
    return rec.crop if cfg.crop == "auto" else cfg.crop


def align_arguments(cfg: PreprocessConfig) -> dict[str, Any]:
    """:func:`build_bigsmall_inputs` arguments that align ``cfg``'s Big frames (none if off)."""
    if not cfg.align:
        return {}
    from bigsmall.video.align import AlignSpec, FaceAligner

    side = int(cfg.big_size[0])
    return {
        # the face crop's box is the tracked face enlarged by enlarge_coef
        "align": FaceAligner(AlignSpec(out=side), box_enlarge=cfg.enlarge_coef),
        "align_side": side,
        "align_stride": cfg.n_segment if cfg.big_frames == "first" else 1,
    }


def decode_inputs(rec: Recording, cfg: PreprocessConfig, decode_threads: int = 0) -> BigSmallInputs:
    """Decode ``rec``'s frames once into :class:`BigSmallInputs`; bad video → RecordingError.

    decode_threads: FFmpeg threads for container video (0 = one per core; 1 suits one
    process per core). Does not change the result.
    """
    try:
        source, fps = FRAME_SOURCES[rec.video.kind](rec, decode_threads)
        mode = crop_mode(cfg, rec)
        return build_bigsmall_inputs(
            source,
            crop=mode,
            detector=create_detector(cfg.detector) if mode == "face" else None,
            every_k_frames=cfg.every_k_frames,
            glide_box=False,  # the reference's box, held between detections
            enlarge_coef=cfg.enlarge_coef,
            size_hw=cfg.big_size,
            small_hw=cfg.small_size,
            fps=fps,
            **align_arguments(cfg),
        )
    except NoFaceError as exc:
        raise _issue(rec, f"no face: {exc}") from exc
    except VideoTooShortError as exc:
        raise _issue(rec, f"too short: {exc}") from exc
    except VideoError as exc:
        raise _issue(rec, f"unreadable video: {exc}") from exc


def preprocess_recording(
    rec: Recording, cfg: PreprocessConfig, decode_threads: int = 0
) -> PreprocessedRecording:
    """Decode ``rec`` and build its inputs and labels (``decode_threads``: see
    :func:`decode_inputs`).

    Raises:
        RecordingError: unreadable video, no face, too short, labels mismatch, or a label
            that cannot be built; the recording should be skipped and counted.
    """
    inputs = decode_inputs(rec, cfg, decode_threads)
    decoded = len(inputs)
    expected = rec.labels.n_frames
    fps = rec.labels.fs
    tolerance_frames = round(cfg.frame_mismatch_tolerance_sec * fps)
    if abs(decoded - expected) > tolerance_frames:
        raise _issue(
            rec,
            f"labels mismatch: video has {decoded} frames, labels {expected} "
            f"(tolerance {tolerance_frames})",
        )
    n = min(decoded, expected)
    if n < cfg.n_segment:
        raise _issue(rec, f"too short: {n} frames, a window needs {cfg.n_segment}")
    if n < decoded:  # labels end earlier: the inputs keep their whole-clip statistics
        inputs.small = inputs.small[:n]
        inputs.rgb = inputs.rgb[:n]
        inputs.boxes = inputs.boxes[:n]
        inputs.face_found = inputs.face_found[:n]
        inputs.timestamps_sec = inputs.timestamps_sec[:n]
    bvp_wave = BVP_LABELS[cfg.bvp_label](rec, inputs, n)
    labels = rec.labels
    return PreprocessedRecording(
        recording=rec,
        inputs=inputs,
        n_frames=n,
        fps=fps,
        au=labels.au_matrix(cfg.au_names)[:n],
        bvp=_diff_label(None if bvp_wave is None else bvp_wave[:n]),
        resp=_diff_label(None if labels.resp is None else labels.resp[:n]),
        bvp_eval=_f32(labels.bvp, n),
        resp_eval=_f32(labels.resp, n),
        bvp_kind=None if bvp_wave is None else _bvp_kind(cfg, rec),
        bvp_eval_kind=None if labels.bvp is None else labels.bvp_kind,
        meta={
            "decoded_frames": decoded,
            "label_frames": expected,
            "crop": crop_mode(cfg, rec),
            "face_found_fraction": float(np.mean(inputs.face_found[:n])),
            "truncated": bool(inputs.truncated),
        },
    )
