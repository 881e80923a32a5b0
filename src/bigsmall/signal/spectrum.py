"""Periodogram with next-power-of-two padding and the dominant frequency inside a band."""

from __future__ import annotations

import numpy as np
from scipy import signal as sps

from bigsmall.signal.validation import SignalError, as_1d, check_band, check_fs


def next_power_of_two(n: int) -> int:
    """Smallest power of two ≥ ``n`` (1 for n ≤ 1)."""
    return 1 if n <= 1 else 1 << (int(n) - 1).bit_length()


def periodogram(x: np.ndarray, fs: float) -> tuple[np.ndarray, np.ndarray]:
    """One-sided periodogram of ``x`` (T,) with nfft = next power of two ≥ T.

    Returns ``(freqs_hz, power)``, both (nfft // 2 + 1,). The mean is removed first.
    """
    fs = check_fs(fs)
    arr = as_1d(x, min_len=2)
    return sps.periodogram(arr, fs=fs, nfft=next_power_of_two(arr.size), detrend="constant")


def band_mask(freqs_hz: np.ndarray, band_hz: tuple[float, float]) -> np.ndarray:
    """Boolean mask of ``freqs_hz`` inside the closed band ``[low, high]``."""
    return (freqs_hz >= band_hz[0]) & (freqs_hz <= band_hz[1])


def dominant_frequency(x: np.ndarray, fs: float, band_hz: tuple[float, float]) -> float:
    """Frequency (Hz) of the largest periodogram bin of ``x`` (T,) inside ``band_hz``."""
    fs = check_fs(fs)
    band = check_band(band_hz, fs)
    freqs_hz, power = periodogram(x, fs)
    inside = band_mask(freqs_hz, band)
    if not inside.any():
        raise SignalError(
            f"no frequency bin of a {np.size(x)}-sample signal falls in {band} Hz; "
            "pass a longer signal"
        )
    return float(freqs_hz[inside][np.argmax(power[inside])])
