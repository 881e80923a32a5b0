"""Peak (beat / breath) detection with a refractory distance set by the band's highest rate."""

from __future__ import annotations

import numpy as np
from scipy import signal as sps

from bigsmall.signal.filters import bandpass
from bigsmall.signal.validation import as_1d, check_band, check_fs

#: Peaks closer than this fraction of the shortest plausible period are merged (the larger one
#: is kept): a margin for rate variability, so a rhythm at that rate keeps all of its peaks.
REFRACTORY_FRACTION: float = 0.7
#: Order of the Butterworth band-pass applied before detection (zero-phase, so doubled).
FILTER_ORDER: int = 2


def refractory_samples(fs: float, max_rate_hz: float) -> int:
    """Minimum distance in samples between peaks of a rhythm no faster than ``max_rate_hz``."""
    return max(1, int(np.floor(REFRACTORY_FRACTION * fs / max_rate_hz)))


def find_peaks(
    x: np.ndarray,
    fs: float,
    band_hz: tuple[float, float],
    prefilter: bool = True,
    expected_rate_hz: float | None = None,
) -> np.ndarray:
    """Indices (N,) of the beats or breaths (local maxima) of ``x`` (T,), rates in ``band_hz``.

    With ``prefilter`` the signal is first band-passed to ``band_hz`` (zero-phase Butterworth).
    The refractory distance is derived from the highest plausible rate: the band's upper edge,
    or ``expected_rate_hz`` (e.g. the spectral rate) when given, which also skips the extra
    maxima that strong 2nd/3rd harmonics put inside each beat.
    """
    fs = check_fs(fs)
    band = check_band(band_hz, fs)
    arr = as_1d(x, min_len=2)
    if prefilter:
        arr = bandpass(arr, fs, band, order=FILTER_ORDER)
    indices, _ = sps.find_peaks(
        arr,
        distance=refractory_samples(fs, band[1] if expected_rate_hz is None else expected_rate_hz),
    )
    return indices
