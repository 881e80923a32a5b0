"""Signal quality and agreement: SNR of a pulse (de Haan & Jeanne 2013), Pearson, MACC."""

from __future__ import annotations

import numpy as np

from bigsmall.constants import HR_BAND_HZ
from bigsmall.signal.spectrum import band_mask, periodogram
from bigsmall.signal.validation import SignalError, as_1d, check_band, check_fs

#: Half-width (Hz) of the windows around f0 and 2·f0 counted as signal.
SNR_HALF_WIDTH_HZ: float = 0.1
#: Harmonics of f0 counted as signal (the fundamental and the 2nd harmonic).
SNR_HARMONICS: tuple[int, ...] = (1, 2)
#: Default largest lag of :func:`macc`: one period at the slowest heart rate of the paper band.
DEFAULT_MAX_LAG_SEC: float = 1.0 / HR_BAND_HZ[0]


def snr_db(
    x: np.ndarray, fs: float, f0_hz: float, band_hz: tuple[float, float] = HR_BAND_HZ
) -> float:
    """SNR (dB) of the pulse ``x`` (T,) whose true rate is ``f0_hz``.

    Periodogram (nfft = next power of two) power within ±0.1 Hz of ``f0_hz`` and of
    ``2·f0_hz`` (signal, counted even where ``2·f0`` lies above the band), over the power in
    the rest of ``band_hz`` (noise): ``10·log10(signal / noise)``.
    """
    fs = check_fs(fs)
    band = check_band(band_hz, fs)
    freqs_hz, power = periodogram(as_1d(x, min_len=2), fs)
    return snr_db_from_spectrum(freqs_hz, power, f0_hz, band)


def snr_db_from_spectrum(
    freqs_hz: np.ndarray,
    power: np.ndarray,
    f0_hz: float,
    band_hz: tuple[float, float],
    noise_only: np.ndarray | None = None,
) -> float:
    """:func:`snr_db` on a given one-sided spectrum ``(freqs_hz, power)``; ``noise_only``:
    (F,) bool, bins that count as noise even near ``f0_hz`` or its harmonic (another rhythm's
    power, which must not lift a neighbouring peak)."""
    near = np.zeros(freqs_hz.shape, dtype=bool)
    for harmonic in SNR_HARMONICS:
        near |= np.abs(freqs_hz - harmonic * f0_hz) <= SNR_HALF_WIDTH_HZ
    if noise_only is not None:
        near &= ~noise_only
    signal_power = power[near].sum()
    noise_power = power[band_mask(freqs_hz, band_hz) & ~near].sum()
    tiny = np.finfo(np.float64).tiny  # a band without noise bins gives a large finite SNR
    return float(10.0 * (np.log10(max(signal_power, tiny)) - np.log10(max(noise_power, tiny))))


def pearson(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson correlation of two equal-length vectors (T,); 0 when either is constant."""
    a, b = _pair(x, y)
    a, b = a - a.mean(), b - b.mean()
    denominator = np.sqrt((a @ a) * (b @ b))
    return float(a @ b / denominator) if denominator > 0 else 0.0


def macc(
    x: np.ndarray, y: np.ndarray, fs: float, max_lag_sec: float = DEFAULT_MAX_LAG_SEC
) -> float:
    """Maximum absolute Pearson correlation of ``x`` and ``y`` (T,) over lags ≤ ``max_lag_sec``.

    At each lag the overlapping parts are correlated; lags leave at least 2 samples.
    """
    fs = check_fs(fs)
    a, b = _pair(x, y)
    max_lag = min(int(np.floor(max_lag_sec * fs)), a.size - 2)
    best = 0.0
    for lag in range(-max_lag, max_lag + 1):
        shifted_a, shifted_b = (a[lag:], b[: b.size - lag]) if lag >= 0 else (a[:lag], b[-lag:])
        best = max(best, abs(pearson(shifted_a, shifted_b)))
    return best


def _pair(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, b = as_1d(x, "x", min_len=2), as_1d(y, "y", min_len=2)
    if a.size != b.size:
        raise SignalError(f"x and y must have the same length, got {a.size} and {b.size}")
    return a, b
