"""Rates from per-recording waveforms, as in the BigSmall paper's evaluation.

Narayanswamy et al., WACV 2024, and the rPPG-Toolbox protocol it builds on (Liu et al., NeurIPS
2023 D&B): per test video, the per-frame outputs are concatenated in time order; diff-normalized
waveforms are integrated (cumulative sum), detrended with the smoothness prior (Tarvainen et al.,
IEEE TBME 2002, λ = 100), band-passed with a zero-phase 1st-order Butterworth filter and the rate
is read by FFT peak (or peak intervals) inside the same band. Every step is a
:mod:`bigsmall.signal` function; nothing is re-implemented here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from bigsmall.evaluation.settings import EvalSettings
from bigsmall.signal import bandpass, detrend_smoothness_prior, estimate_rate, snr_db


def prepare_waveform(x: np.ndarray, fs: float, kind: str, settings: EvalSettings) -> np.ndarray:
    """(T,) waveform → (T,) integrated (if diff-normalized), detrended, band-passed waveform."""
    wave = np.asarray(x, dtype=np.float64)
    if settings.diff_normalized:
        wave = np.cumsum(wave)
    wave = detrend_smoothness_prior(wave, settings.detrend_lambda_of(kind))
    return bandpass(wave, fs, settings.band_hz(kind), order=settings.filter_order)


@dataclass(frozen=True)
class WaveformRates:
    """Rates of one recording: estimated from the prediction and from the reference label."""

    predicted_bpm: float
    reference_bpm: float
    snr_db: float


def recording_rates(
    predicted: np.ndarray,
    reference: np.ndarray,
    fs: float,
    kind: str,
    settings: EvalSettings,
    *,
    reference_diff_normalized: bool | None = None,
) -> WaveformRates:
    """Predicted and reference rates (per minute) of one whole recording, plus the SNR.

    Both (T,) waveforms go through :func:`prepare_waveform`; the SNR (dB) is of the prepared
    prediction around the reference rate. ``reference_diff_normalized`` overrides the settings
    for the label (e.g. a raw blood-pressure wave against a diff-normalized prediction).
    """
    band = settings.band_hz(kind)
    pred = prepare_waveform(predicted, fs, kind, settings)
    ref_settings = settings
    if reference_diff_normalized is not None:
        ref_settings = replace(settings, diff_normalized=reference_diff_normalized)
    ref = prepare_waveform(reference, fs, kind, ref_settings)
    pred_bpm = estimate_rate(pred, fs, band, settings.rate_method)
    ref_bpm = estimate_rate(ref, fs, band, settings.rate_method)
    return WaveformRates(pred_bpm, ref_bpm, snr_db(pred, fs, ref_bpm / 60.0, band))
