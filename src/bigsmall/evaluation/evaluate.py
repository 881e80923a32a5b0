"""Evaluate per-recording predictions the paper's way (Narayanswamy et al., WACV 2024).

Each test recording is evaluated in one piece: its predicted PPG and respiration waveforms give
one heart rate and one breathing rate (see :mod:`bigsmall.evaluation.physiology`); the reference
rates come from the recorded waves the same way (BP4D+'s blood-pressure wave for the heart rate,
as the reference does). Rates are compared over recordings (MAE, RMSE, MAPE, Pearson, SNR); AUs
over all frames (F1, accuracy). Classic rPPG methods are evaluated by the same code from the
cached face RGB traces.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from bigsmall.data.dataset import CachedRecording
from bigsmall.evaluation.inference import RecordingOutputs
from bigsmall.evaluation.metrics import (
    AUMetrics,
    RateMetrics,
    au_metrics,
    rate_metrics,
    trivial_au_baselines,
)
from bigsmall.evaluation.physiology import recording_rates
from bigsmall.evaluation.settings import EvalSettings
from bigsmall.signal import extract_pulse


@dataclass
class MethodResult:
    """What one method achieved on the test recordings."""

    method: str
    per_recording: list[dict[str, Any]] = field(default_factory=list)
    heart: RateMetrics | None = None
    breathing: RateMetrics | None = None
    heart_snr_db: float | None = None
    au: AUMetrics | None = None

    def row(self) -> dict[str, Any]:
        """One flat table row (NaN where the method has no such output)."""
        nan = float("nan")
        h, b, a = self.heart, self.breathing, self.au
        return {
            "method": self.method,
            "recordings": h.n if h else (b.n if b else 0),
            "hr_mae": h.mae if h else nan,
            "hr_mae_se": h.mae_se if h else nan,
            "hr_rmse": h.rmse if h else nan,
            "hr_mape": h.mape if h else nan,
            "hr_pearson": h.pearson if h else nan,
            "hr_snr_db": self.heart_snr_db if self.heart_snr_db is not None else nan,
            "br_mae": b.mae if b else nan,
            "br_mae_se": b.mae_se if b else nan,
            "br_rmse": b.rmse if b else nan,
            "br_mape": b.mape if b else nan,
            "br_pearson": b.pearson if b else nan,
            "au_f1": a.mean_f1 if a else nan,
            "au_accuracy": a.mean_accuracy if a else nan,
        }


def _reference(
    wave: np.ndarray | None, eval_wave: np.ndarray | None
) -> tuple[np.ndarray, bool] | None:
    """The wave a reference rate is read from, and whether it is diff-normalized: the recorded
    wave when the cache keeps one (BP4D+'s blood pressure), else the training label."""
    if eval_wave is not None:
        return eval_wave, False
    if wave is not None:
        return wave, True
    return None


#: (task, rate kind, row prefix): the two rate tasks, evaluated the same way.
_RATE_TASKS: tuple[tuple[str, str, str], ...] = (
    ("bvp", "heart", "hr"),
    ("resp", "breathing", "br"),
)


def evaluate_outputs(
    method: str,
    outputs: Mapping[str, RecordingOutputs],
    recordings: Sequence[CachedRecording],
    settings: EvalSettings,
    *,
    predictions_diff_normalized: bool = True,
) -> MethodResult:
    """Rates and AU metrics of one method's per-recording outputs against the labels."""
    result = MethodResult(method)
    rates: dict[str, list[tuple[float, float, float]]] = {
        prefix: [] for _, _, prefix in _RATE_TASKS
    }
    au_logits, au_labels = [], []
    pred_settings = replace(settings, diff_normalized=predictions_diff_normalized)
    for rec in recordings:
        out = outputs[rec.id]
        row: dict[str, Any] = {"recording": rec.id, "subject": rec.subject, "method": method}
        for task, kind, prefix in _RATE_TASKS:
            pred = getattr(out, task)
            ref = _reference(getattr(rec, task), getattr(rec, f"{task}_eval"))
            if pred is None or ref is None:
                continue
            n = min(pred.size, ref[0].size)
            r = recording_rates(
                pred[:n], ref[0][:n], rec.fps, kind, pred_settings, reference_diff_normalized=ref[1]
            )
            rates[prefix].append((r.predicted_bpm, r.reference_bpm, r.snr_db))
            row.update(
                {f"{prefix}_pred_bpm": r.predicted_bpm, f"{prefix}_ref_bpm": r.reference_bpm}
            )
            if kind == "heart":
                row["hr_snr_db"] = r.snr_db
        if out.au is not None:
            n = min(out.au.shape[0], rec.au.shape[0])
            au_logits.append(out.au[:n])
            au_labels.append(rec.au[:n])
        result.per_recording.append(row)
    if rates["hr"]:
        pred_bpm, ref_bpm, snrs = zip(*rates["hr"], strict=True)
        result.heart = rate_metrics(pred_bpm, ref_bpm)
        result.heart_snr_db = float(np.mean(snrs))
    if rates["br"]:
        pred_bpm, ref_bpm, _ = zip(*rates["br"], strict=True)
        result.breathing = rate_metrics(pred_bpm, ref_bpm)
    if au_logits:
        labels = np.concatenate(au_labels)
        if (labels >= 0).any():
            names = tuple(recordings[0].meta.get("au_names") or ())
            if len(names) != labels.shape[1]:
                names = tuple(f"AU{i}" for i in range(labels.shape[1]))
            result.au = au_metrics(np.concatenate(au_logits), labels, names)
    return result


def classic_outputs(
    recordings: Sequence[CachedRecording], method: str
) -> dict[str, RecordingOutputs]:
    """Pulse waves of a classic rPPG method from each recording's cached face RGB trace."""
    return {
        rec.id: RecordingOutputs(
            au=None, bvp=extract_pulse(rec.rgb.astype(np.float64), rec.fps, method), resp=None
        )
        for rec in recordings
    }


def trivial_au_results(recordings: Sequence[CachedRecording]) -> list[MethodResult]:
    """AU metrics of always predicting "present" and always "absent" on the test frames: the
    floor a trained AU head must clear (an empty list when no frame is coded)."""
    labels = np.concatenate([rec.au for rec in recordings]) if recordings else np.zeros((0, 0))
    if labels.size == 0 or not (labels >= 0).any():
        return []
    names = tuple(recordings[0].meta.get("au_names") or ()) or tuple(
        f"AU{i}" for i in range(labels.shape[1])
    )
    return [
        MethodResult(name.replace("_", "-"), au=metrics)
        for name, metrics in trivial_au_baselines(labels, names).items()
    ]
