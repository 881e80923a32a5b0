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
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bigsmall.data.dataset import CachedRecording
from bigsmall.evaluation.metrics import AUMetrics, RateMetrics, au_metrics, rate_metrics
from bigsmall.evaluation.physiology import recording_rates
from bigsmall.evaluation.predict import RecordingOutputs
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


def _heart_reference(rec: CachedRecording) -> tuple[np.ndarray, bool] | None:
    """The wave the reference heart rate is read from and whether it is diff-normalized."""
    if rec.bvp_eval is not None:
        return rec.bvp_eval, False
    if rec.bvp is not None:
        return rec.bvp, True
    return None


def _breathing_reference(rec: CachedRecording) -> tuple[np.ndarray, bool] | None:
    if rec.resp_eval is not None:
        return rec.resp_eval, False
    if rec.resp is not None:
        return rec.resp, True
    return None


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
    hr_pred, hr_ref, br_pred, br_ref, snrs = [], [], [], [], []
    au_logits, au_labels = [], []
    pred_settings = EvalSettings(**{**settings.__dict__, "diff_normalized": True})
    if not predictions_diff_normalized:
        pred_settings = EvalSettings(**{**settings.__dict__, "diff_normalized": False})
    for rec in recordings:
        out = outputs[rec.id]
        row: dict[str, Any] = {"recording": rec.id, "subject": rec.subject, "method": method}
        ref = _heart_reference(rec)
        if out.bvp is not None and ref is not None:
            n = min(out.bvp.size, ref[0].size)
            r = recording_rates(
                out.bvp[:n], ref[0][:n], rec.fps, "heart", pred_settings,
                reference_diff_normalized=ref[1],
            )  # fmt: skip
            hr_pred.append(r.predicted_bpm)
            hr_ref.append(r.reference_bpm)
            snrs.append(r.snr_db)
            row.update(hr_pred_bpm=r.predicted_bpm, hr_ref_bpm=r.reference_bpm, hr_snr_db=r.snr_db)
        ref = _breathing_reference(rec)
        if out.resp is not None and ref is not None:
            n = min(out.resp.size, ref[0].size)
            r = recording_rates(
                out.resp[:n], ref[0][:n], rec.fps, "breathing", pred_settings,
                reference_diff_normalized=ref[1],
            )  # fmt: skip
            br_pred.append(r.predicted_bpm)
            br_ref.append(r.reference_bpm)
            row.update(br_pred_bpm=r.predicted_bpm, br_ref_bpm=r.reference_bpm)
        if out.au is not None:
            n = min(out.au.shape[0], rec.au.shape[0])
            au_logits.append(out.au[:n])
            au_labels.append(rec.au[:n])
        result.per_recording.append(row)
    if hr_pred:
        result.heart = rate_metrics(hr_pred, hr_ref)
        result.heart_snr_db = float(np.mean(snrs))
    if br_pred:
        result.breathing = rate_metrics(br_pred, br_ref)
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
