"""What one prediction returns: the summary fields, per-frame signals and rates over time."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from bigsmall.constants import AU_NAMES

#: Per-frame columns of ``signals.csv`` / :attr:`PredictionResult.frames`, in order.
FRAME_COLUMNS: tuple[str, ...] = (
    "time_s",
    "ppg",
    "resp",
    "beat",
    *AU_NAMES,
    "box_x",
    "box_y",
    "box_w",
    "box_h",
    "face_found",
)
#: Columns of ``rates.csv`` / :attr:`PredictionResult.rates`.
RATE_COLUMNS: tuple[str, ...] = (
    "time_s",
    "heart_rate_bpm",
    "pulse_snr_db",
    "breathing_rate_bpm",
    "breathing_snr_db",
)
#: An AU counts as present on a frame when its probability reaches this.
AU_PRESENT_PROBABILITY: float = 0.5
#: Keys of ``summary.json``, in order.
SUMMARY_KEYS: tuple[str, ...] = (
    "video",
    "heart_rate_bpm",
    "breathing_rate_bpm",
    "hrv",
    "au_occurrence",
    "face_found_fraction",
    "fps",
    "duration_sec",
    "frames",
    "signal_quality",
    "warnings",
    "model",
    "method",
)


def _clean(value: Any) -> Any:
    """JSON-safe: NaN/inf → None, NumPy scalars → Python, recursively."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@dataclass
class PredictionResult:
    """Measurements of one video.

    Attributes:
        heart_rate_bpm, breathing_rate_bpm: whole-video rates per minute; ``None`` when the
            signal is too weak to trust (see ``warnings`` and ``signal_quality``).
        hrv: heart-rate variability of the pulse (``mean_ibi_ms``, ``sdnn_ms``, ``rmssd_ms``,
            ``beats``, ``intervals_kept``, ``beat_consistency`` (of the two pulse estimates'
            mean wave, or of the one estimate); with two pulse estimates also
            the beat-timing ``jitter_ms`` removed from SDNN and RMSSD and its ``jitter_share``
            of RMSSD²), or ``None`` when the pulse is not good enough (see ``warnings``);
            beats are marked in ``frames["beat"]``.
        au_occurrence: fraction of frames with a face where each AU's probability is ≥ 0.5,
            by AU name (``None`` for methods without AUs).
        face_found_fraction: fraction of frames where a face was found.
        fps, duration_sec: frame rate and length of the video (``None`` for a still image).
        frame_count: number of frames (``frames`` in ``summary.json``; 1 for a still image).
        signal_quality: SNR (dB) and label of the pulse and of the breathing, the thresholds,
            and which signal the breathing rate comes from.
        warnings: plain sentences about anything that limits the results.
        model: ``{"name", "weights", "version", "backend"}``.
        method: "bigsmall" or the classic rPPG method used.
        frames: per-frame :class:`pandas.DataFrame` with :data:`FRAME_COLUMNS`.
        rates: rates over time, :class:`pandas.DataFrame` with :data:`RATE_COLUMNS`.
        source: the video path, or "array" for frames passed in memory.
    """

    heart_rate_bpm: float | None
    breathing_rate_bpm: float | None
    au_occurrence: dict[str, float] | None
    face_found_fraction: float
    fps: float | None
    duration_sec: float | None
    frame_count: int
    signal_quality: dict[str, Any]
    warnings: list[str]
    model: dict[str, Any]
    method: str
    frames: pd.DataFrame = field(repr=False)
    rates: pd.DataFrame = field(repr=False)
    source: str = "array"
    hrv: dict[str, float] | None = None

    @property
    def still_image(self) -> bool:
        """True for a photo's result (no frame rate: AUs only)."""
        return self.fps is None

    def summary(self) -> dict[str, Any]:
        """The ``summary.json`` dict (keys :data:`SUMMARY_KEYS`, JSON-safe values)."""
        values = {
            "video": self.source,
            "heart_rate_bpm": self.heart_rate_bpm,
            "breathing_rate_bpm": self.breathing_rate_bpm,
            "hrv": self.hrv,
            "au_occurrence": self.au_occurrence,
            "face_found_fraction": self.face_found_fraction,
            "fps": self.fps,
            "duration_sec": self.duration_sec,
            "frames": self.frame_count,
            "signal_quality": self.signal_quality,
            "warnings": list(self.warnings),
            "model": self.model,
            "method": self.method,
        }
        return _clean({k: values[k] for k in SUMMARY_KEYS})
