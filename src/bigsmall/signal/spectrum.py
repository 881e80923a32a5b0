"""Periodogram with next-power-of-two padding, the dominant frequency inside a band, and the
mean band-normalized periodogram of several estimates of one rhythm.

Several estimates of the same pulse (a network's output, a classic method's) share its
frequency but not their noise or their phase; averaging their periodograms, each scaled to unit
power inside the band, keeps the common peak while each one's noise counts only once
(spectral averaging as in Welch, IEEE Trans. Audio Electroacoust. 15(2), 1967, here across
estimates rather than across time segments)."""

from __future__ import annotations

import numpy as np

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
    # scipy.signal.periodogram's density scaling (boxcar window, constant detrend), computed
    # directly: the same values, ~7× faster on a 10 s window (sliding rates call it hundreds
    # of times per video).
    nfft = next_power_of_two(arr.size)
    spectrum = np.fft.rfft(arr - arr.mean(), nfft)
    power = (spectrum.real**2 + spectrum.imag**2) / (fs * arr.size)
    power[1 : None if nfft % 2 else -1] *= 2.0  # one-sided: all but DC (and Nyquist) doubled
    return np.fft.rfftfreq(nfft, 1.0 / fs), power


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


def mean_band_normalized_periodogram(
    waves: list[np.ndarray] | tuple[np.ndarray, ...], fs: float, band_hz: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray]:
    """Mean of the periodograms of equal-length ``waves`` (each (T,)), each divided by its
    power inside ``band_hz`` (a wave without power there is left out).

    Returns ``(freqs_hz, power)`` as :func:`periodogram`; all-zero power when no wave counts.
    """
    if not waves:
        raise SignalError("pass at least one wave")
    freqs_hz, total = None, None
    count = 0
    for wave in waves:
        freqs_hz, power = periodogram(wave, fs)
        in_band = power[band_mask(freqs_hz, band_hz)].sum()
        if total is None:
            total = np.zeros_like(power)
        elif power.shape != total.shape:
            raise SignalError("waves must have the same length")
        if in_band > 0:
            total += power / in_band
            count += 1
    return freqs_hz, total / max(count, 1)
