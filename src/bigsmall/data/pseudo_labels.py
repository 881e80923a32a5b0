"""POS pseudo-PPG labels for BP4D+, whose recorded pulse is a blood-pressure wave.

BigSmall (Narayanswamy et al., WACV 2024) trains its PPG head on BP4D+ with a pulse derived
from the video itself: POS (Wang et al., IEEE TBME 2017; window 1.6 s) on the face's mean-RGB
trace, smoothness-prior detrending (Tarvainen et al., IEEE TBME 2002; λ = 100), a 2nd-order
Butterworth band-pass around the subject's mean ground-truth heart rate (± ``20 / fs`` Hz,
clamped to [0.70, 3.0] Hz) applied forward and backward, and normalisation by the Hilbert
envelope. Every step is a :mod:`bigsmall.signal` function; nothing is re-implemented here.
The mean-RGB trace is computed by the pipeline from the cropped frames
(:func:`bigsmall.video.rgb.spatial_mean_rgb`) before this is called.
"""

from __future__ import annotations

import numpy as np

from bigsmall.signal.detrend import detrend_smoothness_prior
from bigsmall.signal.filters import bandpass, envelope_normalize
from bigsmall.signal.rppg import extract_pulse
from bigsmall.signal.rppg.pos import POS_WINDOW_SEC

#: Smoothness-prior λ of the reference pseudo-label.
DETREND_LAMBDA: float = 100.0
#: Half width of the band around the mean heart rate, as ``HALF_BAND_NUMERATOR / fs`` Hz
#: (the reference's expression; 0.8 Hz at 25 fps).
HALF_BAND_NUMERATOR: float = 20.0
#: The band never leaves these limits (Hz): 42-180 bpm.
BAND_LIMITS_HZ: tuple[float, float] = (0.70, 3.0)
#: Butterworth order (applied forward and backward).
FILTER_ORDER: int = 2
SECONDS_PER_MINUTE: float = 60.0


def pseudo_label_band_hz(
    mean_heart_rate_bpm: float, fs: float, limits_hz: tuple[float, float] = BAND_LIMITS_HZ
) -> tuple[float, float]:
    """Band-pass edges (Hz): mean HR ± ``20 / fs`` Hz, clamped to ``limits_hz``."""
    if not mean_heart_rate_bpm > 0:
        raise ValueError(f"mean heart rate must be positive, got {mean_heart_rate_bpm}")
    center_hz = mean_heart_rate_bpm / SECONDS_PER_MINUTE
    half_hz = HALF_BAND_NUMERATOR / fs
    low_hz = max(center_hz - half_hz, limits_hz[0])
    high_hz = min(center_hz + half_hz, limits_hz[1])
    if not low_hz < high_hz:
        raise ValueError(
            f"mean heart rate {mean_heart_rate_bpm:g} bpm leaves no band inside {limits_hz} Hz"
        )
    return low_hz, high_hz


def pos_pseudo_ppg(
    rgb: np.ndarray,
    fs: float,
    mean_heart_rate_bpm: float,
    *,
    window_sec: float = POS_WINDOW_SEC,
    detrend_lambda: float = DETREND_LAMBDA,
    envelope: bool = True,
) -> np.ndarray:
    """POS pseudo-PPG of a face's mean-RGB trace.

    Args:
        rgb: ``(T, 3)`` mean skin RGB per frame (any scale).
        fs: frame rate (Hz).
        mean_heart_rate_bpm: the recording's mean ground-truth heart rate
            (``Labels.heart_rate_bpm``), which centres the band-pass.
        window_sec: POS window.
        detrend_lambda: smoothness-prior λ.
        envelope: divide by the Hilbert envelope (the reference's ``pos_env_norm_bvp``); if
            False, return the band-passed POS wave (``pos_bvp``).

    Returns:
        ``(T,)`` float64 pulse; with ``envelope`` its amplitude is ≈ 1 everywhere.
    """
    pulse = extract_pulse(rgb, fs, method="pos", window_sec=window_sec)
    pulse = detrend_smoothness_prior(pulse, detrend_lambda)
    band_hz = pseudo_label_band_hz(mean_heart_rate_bpm, fs)
    pulse = bandpass(pulse, fs, band_hz, order=FILTER_ORDER)
    return envelope_normalize(pulse) if envelope else pulse
