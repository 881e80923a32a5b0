"""1-D physiological signal processing: pure NumPy/SciPy functions with explicit ``fs``.

Signals are float64 with time on axis 0; sampling rates are in Hz, bands are ``(low, high)``
pairs in Hz, rates are per minute. Classic rPPG methods live in :mod:`bigsmall.signal.rppg`.
"""

from __future__ import annotations

from bigsmall.signal.artifacts import coupling, regress_out
from bigsmall.signal.detrend import (
    DEFAULT_LAMBDA,
    detrend_smoothness_prior,
    detrend_smoothness_prior_dense,
)
from bigsmall.signal.filters import (
    bandpass,
    diff_normalize,
    envelope_normalize,
    highpass,
    lowpass,
    standardize,
)
from bigsmall.signal.peaks import find_peaks
from bigsmall.signal.quality import macc, pearson, snr_db
from bigsmall.signal.rate import (
    RATE_METHODS,
    breathing_rate,
    estimate_rate,
    heart_rate,
)
from bigsmall.signal.rppg import METHODS as RPPG_METHODS
from bigsmall.signal.rppg import extract_pulse
from bigsmall.signal.simulate import (
    PBV_SIGNATURE,
    simulate_ppg,
    simulate_ppg_beats,
    simulate_respiration,
    simulate_rgb_trace,
)
from bigsmall.signal.spectrum import dominant_frequency, next_power_of_two, periodogram
from bigsmall.signal.validation import SignalError

__all__ = [
    "DEFAULT_LAMBDA",
    "PBV_SIGNATURE",
    "RATE_METHODS",
    "RPPG_METHODS",
    "SignalError",
    "bandpass",
    "breathing_rate",
    "coupling",
    "detrend_smoothness_prior",
    "detrend_smoothness_prior_dense",
    "diff_normalize",
    "dominant_frequency",
    "envelope_normalize",
    "estimate_rate",
    "extract_pulse",
    "find_peaks",
    "heart_rate",
    "highpass",
    "lowpass",
    "macc",
    "next_power_of_two",
    "pearson",
    "periodogram",
    "regress_out",
    "simulate_ppg",
    "simulate_ppg_beats",
    "simulate_respiration",
    "simulate_rgb_trace",
    "snr_db",
    "standardize",
]
